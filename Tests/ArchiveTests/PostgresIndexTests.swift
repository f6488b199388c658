import Archive
import AtriumTesting
import DICOM
import Foundation
import Testing

/// The shared index suite against a real PostgreSQL server that each test starts on loopback (scripts/install-deps
/// installs Debian's `postgresql`; a missing server fails the test with that hint).
@Suite("PostgreSQL index")
struct PostgresIndexTests {
    @Test("The PostgreSQL index passes the shared index suite")
    func sharedSuite() async throws {
        let server = try await PostgresServer.start()
        defer { server.stop() }
        let index = try await PostgresIndex.open(url: try await server.createDatabase("atrium_suite"))
        try await IndexSuite.run(index)
    }

    @Test("The schema version is recorded, reopening keeps the data, and QIDO-style queries go through the planner")
    func schemaVersionAndQueries() async throws {
        let server = try await PostgresServer.start()
        defer { server.stop() }
        let url = try await server.createDatabase("atrium_reopen")
        do {
            let index = try await PostgresIndex.open(url: url)
            for n in 0..<5 {
                let ds = IndexSuite.instance(
                    patientID: "P\(n)", name: n.isMultiple(of: 2) ? "Wang^Fang" : "Smith^John", study: "9.\(n)", series: "9.\(n).1",
                    sop: "9.\(n).1.1", modality: n < 3 ? "CT" : "MR")
                _ = try await index.insert(IndexSuite.record(ds, blob: "b\(n)"), duplicatePolicy: .ignore)
            }
        }
        let index = try await PostgresIndex.open(url: url)
        #expect(try await index.counts() == IndexCounts(patients: 5, studies: 5, series: 5, instances: 5))
        let wang = try await index.find(ArchiveQuery(qidoParameters: [("PatientName", "wang*")], level: .study))
        #expect(wang.compactMap { $0.string(.studyInstanceUID) } == ["9.0", "9.2", "9.4"])
        let mr = try await index.find(
            ArchiveQuery(qidoParameters: [("ModalitiesInStudy", "MR"), ("limit", "1"), ("offset", "1")], level: .study))
        #expect(mr.compactMap { $0.string(.studyInstanceUID) } == ["9.4"])
        let skipped = try await index.find(ArchiveQuery(qidoParameters: [("offset", "3")], level: .study))
        #expect(skipped.count == 2)
        let wildcard = try await index.find(ArchiveQuery(qidoParameters: [("PatientID", "P_*")], level: .patient, model: .patientRoot))
        #expect(wildcard.isEmpty, "SQL LIKE metacharacters in a DICOM pattern are literal")
        let version = try Subprocess.run(
            "psql",
            [
                "-h", "127.0.0.1", "-p", "\(server.port)", "-U", "postgres", "-d", "atrium_reopen", "-tAc",
                "SELECT version FROM schema_version",
            ])
        #expect(version.output.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
    }

    @Test("An unreachable server or a malformed URL is a clear error")
    func errors() async throws {
        let port = try LoopbackPort.free()
        await #expect(throws: ArchiveError.self) { try await PostgresIndex.open(url: "postgres://postgres@127.0.0.1:\(port)/none") }
        #expect(throws: ArchiveError.self) { try PostgresIndex(url: "postgres://127.0.0.1:5432") }
        #expect(throws: ArchiveError.self) { try Archive.open(directory: NSTemporaryDirectory(), database: "mysql://x/y") }
    }
}
