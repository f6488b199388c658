import AtriumTesting
import Foundation
import Platform
import Testing

@Suite("Pathology and laboratory cases into the teaching library")
struct TeachingPathsTests {
    @Test("A slide's copies lose the label, overview and every identifier (pydicom, wsidicom); a read lab case keeps only the table")
    func slideAndLaboratoryCases() async throws {
        try Chromium.require()
        _ = try Subprocess.resolve("/usr/bin/vips")
        let modules = try await Subprocess.runDetached(
            "python3", ["-c", "import wsidicom, wsidicomizer, dicomweb_client, hl7apy, selenium, pydicom, numpy"])
        guard modules.status == 0 else {
            throw PeerError(
                "the Python peers are missing (scripts/install-deps: pip install wsidicom wsidicomizer dicomweb-client hl7apy selenium): "
                    + modules.errorOutput.suffix(400))
        }
        let server = try await LaboratoryTestServer.start()
        defer { Task { await server.stop() } }
        try await server.server.laboratory.setFacility("TP-LIS", institution: "COUNTY-A", by: "test")
        let seed: [String: Any] = [
            "curator": try await server.server.testToken("tp-curator", roles: [.curator]),
            "curatorLogin": ["tp-curator", "test password tp-curator"],
            "site": try await server.server.testToken("tp-site", roles: [.site], institution: "COUNTY-A"),
            "reader": try await server.server.testToken("tp-reader", roles: [.reader]), "readerPassword": "test password tp-reader",
        ]
        let work = try Corpus.temporaryDirectory("atrium-teaching-paths")
        try JSONSerialization.data(withJSONObject: seed).write(to: URL(fileURLWithPath: work + "/seed.json"))
        let screenshots = try ProcessInfo.processInfo.environment["ATRIUM_SCREENSHOTS"] ?? Corpus.temporaryDirectory("atrium-screenshots")
        let run = try await Subprocess.runDetached(
            "python3",
            [
                Corpus.script("ServerTests", "teaching_paths.py"), server.baseURL, String(server.mllp), "TP-LIS", work + "/seed.json", work,
                screenshots,
            ])
        let report = try #require(
            try? JSONSerialization.jsonObject(with: run.standardOutput) as? [String: Any],
            "teaching_paths.py gave no report: \(run.errorOutput.suffix(2500))")
        let checks = try #require(report["checks"] as? [[Any]])
        #expect(checks.count == 29, "teaching_paths.py stopped early: \(checks.count) checks")
        for check in checks {
            #expect(check[1] as? Bool == true, "\(check[0]): \(check[2])")
        }
        // The programme's breakdown by service line counts the one laboratory consultation, read, and the slide's
        // study (flagged by the curator, never requested) nowhere.
        let r = try await server.curl("GET", "/api/programme/dashboard")
        #expect(r.status == 200, "\(r.body.prefix(300))")
        let board = try #require(try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any])
        let lines = try #require(board["serviceLines"] as? [[String: Any]])
        #expect(lines.map { $0["serviceLine"] as? String } == ["imaging", "pathology", "laboratory"])
        #expect(lines.map { $0["requested"] as? Int } == [0, 0, 1])
        #expect(lines.map { $0["reported"] as? Int } == [0, 0, 1])
        #expect(lines[2]["turnaroundMedianHours"] is Double && lines[0]["turnaroundMedianHours"] is NSNull)
        await server.server.identity.audit.flush()
        let events = try await server.server.identity.audit.search(AuditSearch(user: "tp-curator"))
        #expect(events.contains { $0.detail.contains("2 label or overview left out") })
        await server.stop()
    }
}
