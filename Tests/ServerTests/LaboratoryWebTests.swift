import AtriumTesting
import Foundation
import Laboratory
import Platform
import Testing

@Suite("Laboratory consultation in headless Chromium")
struct LaboratoryWebTests {
    @Test("An ORU^R01 over MLLP → the site files a lab consultation → the reviewer sees flags and history, signs → the site reads it")
    func consultationPath() async throws {
        try Chromium.require()
        let server = try await LaboratoryTestServer.start()
        defer { Task { await server.stop() } }
        _ = try await server.server.testToken("lab-web-site", roles: [.site], institution: "COUNTY-A")
        _ = try await server.server.testToken("lab-web-reader", roles: [.reader])
        let lab = server.server.laboratory
        try await lab.setFacility("LW-LIS", institution: "COUNTY-A", by: "test")
        let material = try await lab.addMaterial(
            ControlMaterial(institution: "COUNTY-A", loinc: "2345-7", analyte: "Glucose", name: "L1", mean: 5, sd: 0.2, unit: "mmol/L"))
        let t0 = Date(timeIntervalSince1970: 1_794_268_800)
        for (day, value) in [5.1, 4.9, 5.8, 5.0].enumerated() {
            _ = try await lab.addRun(
                QCRun(institution: "COUNTY-A", at: t0.addingTimeInterval(Double(day) * 86_400), values: [material.id: value]), by: "test")
        }
        let directory = try Corpus.temporaryDirectory("atrium-lab-web")
        let seed: [String: Any] = [
            "site": ["lab-web-site", "test password lab-web-site"], "reader": ["lab-web-reader", "test password lab-web-reader"],
            "facility": "LW-LIS",
        ]
        try JSONSerialization.data(withJSONObject: seed).write(to: URL(fileURLWithPath: directory + "/seed.json"))
        let screenshots = try ProcessInfo.processInfo.environment["ATRIUM_SCREENSHOTS"] ?? Corpus.temporaryDirectory("atrium-screenshots")
        let run = try await Subprocess.runDetached(
            "python3",
            [
                Corpus.script("ServerTests", "lab_web.py"), server.baseURL, String(server.mllp), LocaleFiles.directory, screenshots,
                directory + "/seed.json",
            ])
        print("laboratory screenshots: \(screenshots)")
        #expect(run.status == 0, "\(run.output)\(run.errorOutput.suffix(3000))")
        #expect(run.output.hasSuffix("ok\n"), "\(run.output)")
        await server.stop()
    }
}
