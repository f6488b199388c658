import AtriumTesting
import Foundation
import Laboratory
import Platform
import Testing

@Suite("Laboratory critical values on the critical-result path")
struct LaboratoryCriticalTests {
    @Test("hl7apy and FHIR critical results reach the lab list or the open consultation's critical path, and are acknowledged")
    func criticalPath() async throws {
        try Chromium.require()
        let server = try await LaboratoryTestServer.start()
        defer { Task { await server.stop() } }
        try await server.server.laboratory.setFacility("CV-LIS", institution: "COUNTY-A", by: "test")
        let seed: [String: Any] = [
            "admin": server.token,
            "site": try await server.server.testToken("cv-site", roles: [.site], institution: "COUNTY-A"),
            "siteB": try await server.server.testToken("cv-site-b", roles: [.site], institution: "COUNTY-B"),
            "reader": try await server.server.testToken("cv-reader", roles: [.reader]),
            "readerLogin": ["cv-reader", "test password cv-reader"], "siteUser": "cv-site", "readerUser": "cv-reader",
        ]
        let directory = try Corpus.temporaryDirectory("atrium-lab-critical")
        try JSONSerialization.data(withJSONObject: seed).write(to: URL(fileURLWithPath: directory + "/seed.json"))
        let screenshots = try ProcessInfo.processInfo.environment["ATRIUM_SCREENSHOTS"] ?? Corpus.temporaryDirectory("atrium-screenshots")
        let run = try await Subprocess.runDetached(
            "python3",
            [
                Corpus.script("ServerTests", "lab_critical.py"), server.baseURL, String(server.mllp), "CV-LIS", directory + "/seed.json",
                screenshots,
            ])
        #expect(run.status == 0, "lab_critical.py failed (pip install hl7apy selenium): \(run.errorOutput.suffix(2500))")
        let report = try #require(try? JSONSerialization.jsonObject(with: run.standardOutput) as? [String: Any])
        let checks = try #require(report["checks"] as? [[Any]])
        #expect(checks.count == 26)
        for check in checks {
            #expect(check[1] as? Bool == true, "\(check[0]): \(check[2])")
        }
        // The audit trail has each step: the automatic flag (by the critical-limits actor) and both acknowledgements.
        await server.server.identity.audit.flush()
        let flagged = try await server.server.identity.audit.search(AuditSearch(user: "lab-critical-limits"))
        #expect(flagged.filter { $0.detail.contains("critical result") && $0.detail.contains("flagged") }.count == 2)
        let acknowledged = try await server.server.identity.audit.search(AuditSearch(user: "cv-reader"))
        #expect(acknowledged.contains { $0.detail.contains("critical value") && $0.detail.contains("acknowledged") })
        let site = try await server.server.identity.audit.search(AuditSearch(user: "cv-site"))
        #expect(site.contains { $0.detail.contains("critical result") && $0.detail.contains("acknowledged") })
        await server.stop()
    }
}
