import AtriumTesting
import Foundation
import Testing

@Suite("The viewer in headless Chromium", .serialized)
struct ViewerTests {
    @Test("The viewer scrolls, windows, measures and lays out a study as pydicom and numpy say it should")
    func viewerSession() async throws {
        _ = try Subprocess.resolve("/usr/bin/chromium")
        _ = try Subprocess.resolve("/usr/bin/chromedriver")
        let server = try await TestServer.start()
        let screenshots = Corpus.repositoryRoot + "/.build/screenshots"
        let run = try await Subprocess.runDetached(
            "python3",
            [
                Corpus.script("ServerTests", "viewer_session.py"), server.baseURL, screenshots, "test-admin", "test password test-admin",
                server.token,
            ])
        await server.stop()
        #expect(run.status == 0, "viewer_session.py failed: \(run.errorOutput.suffix(2000))")
        let report = try #require(
            try? JSONSerialization.jsonObject(with: run.standardOutput) as? [String: Any], "no report: \(run.errorOutput.suffix(2000))")
        let checks = try #require(report["checks"] as? [[Any]])
        #expect(checks.count >= 30, "the session stopped early: \(checks.count) checks")
        for check in checks {
            let name = check[0] as? String ?? "?"
            #expect(check[1] as? Bool == true, "\(name): \(check[2])")
        }
    }

    @Test("The viewer's page and files are served to a signed-in person, and nothing outside its folder")
    func assets() async throws {
        let server = try await TestServer.start()
        var r = try await server.curl("GET", "/viewer?study=1.2.3")
        #expect(
            r.status == 200 && r.body.contains("<html lang=\"zh-CN\">") && r.body.contains("/viewer/viewer.js"), "\(r.status) \(r.body)")
        for name in ["viewer.js", "dicom.js", "render.js", "measure.js", "i18n.js", "viewer.css"] {
            r = try await server.curl("GET", "/viewer/\(name)")
            #expect(r.status == 200 && r.body.count > 100, "\(name): \(r.status)")
        }
        r = try await server.curl("GET", "/viewer?study=1.2.3", anonymous: true)
        #expect(r.status != 200 && !r.body.contains("viewer.js"), "signed out, the viewer is not served: \(r.status)")
        for bad in ["/viewer/..%2FViewerRoutes.swift", "/viewer/nothing.js", "/viewer/viewer.js.map", "/viewer/.hidden.js"] {
            r = try await server.curl("GET", bad)
            #expect(r.status == 404, "\(bad): \(r.status)")
        }
        await server.stop()
    }
}
