import AtriumTesting
import Foundation
import Platform
import Reading
import Server
import Testing

@Suite("UPS-RS against a running server")
struct UPSRSTests {
    @Test(
        "UPS-RS from Python: create, search, retrieve, claim, a second claim 409, a change without the Transaction UID refused, update, cancellation requests, completion only by a signature, a performer's cancellation, includefield, subscriptions and event reports over WebSocket"
    )
    func workflow() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let studyA = try await storeFreshStudy(server.server, file: "CT_small.dcm", institution: "COUNTY-A", accession: "UPS-A-1")
        _ = try await storeFreshStudy(server.server, file: "MR_small.dcm", institution: "COUNTY-B", accession: "UPS-B-1")
        var people: [String: Any] = try await readingPeople(server.server)
        people["studyA"] = studyA
        people["fileA"] = "CT_small.dcm"
        let file = try Corpus.temporaryDirectory("atrium-ups-rs") + "/people.json"
        try JSONSerialization.data(withJSONObject: people).write(to: URL(fileURLWithPath: file))
        let run = try await Subprocess.runDetached("python3", [Corpus.script("ServerTests", "ups_rs.py"), server.baseURL, file])
        #expect(run.status == 0, "\(run.output)\(run.errorOutput.suffix(2000))")
        #expect(run.output.hasSuffix("ok\n"), "\(run.output)")

        // The store agrees with what the client saw: four UPS of COUNTY-A, one COMPLETED (signed), three CANCELED (one
        // scheduled, two by their performer), and the audit trail holds the UPS-RS changes with their transport.
        let entries = try await server.server.reading.upsEntries(institution: "COUNTY-A")
        #expect(entries.map(\.item.state.rawValue).sorted() == ["CANCELED", "CANCELED", "CANCELED", "COMPLETED"])
        // Audit events are written a moment after they happen (a short gathering window): wait for those queued.
        await server.server.identity.audit.flush()
        let events = try await server.server.identity.audit.search(AuditSearch(user: "reader-1"))
        #expect(events.contains { $0.transport == "dicomweb" && $0.detail.contains("CANCELED") }, "\(events.map(\.detail))")
    }
}
