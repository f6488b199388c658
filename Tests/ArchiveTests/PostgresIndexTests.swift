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
        #expect(
            version.output.trimmingCharacters(in: .whitespacesAndNewlines) == "3",
            "three migrations: the tables, studies.institution, slide_instances")
    }

    @Test("sslmode=require and verify-full connect over TLS to a server with a certificate of its own CA; a wrong CA fails")
    func tls() async throws {
        let server = try await PostgresServer.start(tls: true)
        defer { server.stop() }
        let authority = try #require(server.certificateAuthorityFile)
        _ = try await server.createDatabase("atrium_tls")
        let require = try await PostgresIndex.open(url: "postgres://postgres@127.0.0.1:\(server.port)/atrium_tls?sslmode=require")
        let ds = IndexSuite.instance(patientID: "P1", name: "Li^Lei", study: "7.1", series: "7.1.1", sop: "7.1.1.1", modality: "CT")
        _ = try await require.insert(IndexSuite.record(ds, blob: "b1"), duplicatePolicy: .ignore)
        // The host name must match the certificate's: localhost (an IP address cannot be checked through SNI).
        let full = try await PostgresIndex.open(
            url: "postgres://postgres@localhost:\(server.port)/atrium_tls?sslmode=verify-full&sslrootcert=\(authority)")
        #expect(try await full.counts().instances == 1)
        // The server itself reports the index's pooled connections as TLS ones (psql connects without TLS to look).
        let sessions = try await Subprocess.runDetached(
            "psql",
            [
                "-h", "127.0.0.1", "-p", "\(server.port)", "-U", "postgres", "-d", "postgres", "-tAc",
                "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = 'atrium_tls'",
            ], environment: ["PGSSLMODE": "disable"])
        let flags = sessions.output.split(separator: "\n").map(String.init)
        #expect(!flags.isEmpty && flags.allSatisfy { $0 == "t" }, "\(sessions.output) \(sessions.errorOutput)")

        // verify-full against the system's CAs (which never signed this server's certificate) is refused.
        await #expect(throws: ArchiveError.self) {
            try await PostgresIndex.open(url: "postgres://postgres@localhost:\(server.port)/atrium_tls?sslmode=verify-full")
        }
        // require against a server without TLS is refused, where disable (the default) connects.
        let plain = try await PostgresServer.start()
        defer { plain.stop() }
        let plainURL = try await plain.createDatabase("atrium_plain")
        await #expect(throws: ArchiveError.self) { try await PostgresIndex.open(url: plainURL + "?sslmode=require") }
        #expect(try await PostgresIndex.open(url: plainURL).counts().instances == 0)
        #expect(throws: ArchiveError.self) { try PostgresIndex(url: plainURL + "?sslmode=sometimes") }
    }

    @Test("An unreachable server or a malformed URL is a clear error")
    func errors() async throws {
        let port = try LoopbackPort.free()
        await #expect(throws: ArchiveError.self) { try await PostgresIndex.open(url: "postgres://postgres@127.0.0.1:\(port)/none") }
        #expect(throws: ArchiveError.self) { try PostgresIndex(url: "postgres://127.0.0.1:5432") }
        #expect(throws: ArchiveError.self) { try Archive.open(directory: NSTemporaryDirectory(), database: "mysql://x/y") }
    }
}
