import AtriumTesting
import Foundation
import Testing

@Suite("Web application in headless Chromium")
struct WebBrowserTests {
    @Test(
        "In Chromium: upload a study, find it, open it, switch language; create an institution, a person and a token through the administration forms"
    )
    func uploadFindAndSwitchLanguage() async throws {
        try Chromium.require()
        let fixtures = try await WebFixtures.make()
        let fixturesFile = try Corpus.temporaryDirectory("atrium-web-browser") + "/fixtures.json"
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        _ = try await server.server.testToken("web-staff", roles: [.curator, .admin])
        try JSONEncoder().encode(BrowserFixtures(fixtures, username: "web-staff", password: "test password web-staff"))
            .write(to: URL(fileURLWithPath: fixturesFile))
        // Screenshots for people to look at: ATRIUM_SCREENSHOTS if set, else a fresh temporary folder (printed).
        let screenshots = try ProcessInfo.processInfo.environment["ATRIUM_SCREENSHOTS"] ?? Corpus.temporaryDirectory("atrium-screenshots")
        let run = try await Subprocess.runDetached(
            "python3",
            [
                Corpus.script("ServerTests", "web_browser.py"), server.baseURL, LocaleFiles.directory, screenshots, fixturesFile,
            ])
        print("web browser test screenshots: \(screenshots)")
        #expect(run.status == 0, "\(run.output)\(run.errorOutput.suffix(2000))")
        #expect(run.output.contains("ok"))
    }
}

/// The fixture description `web_browser.py` reads.
private struct BrowserFixtures: Encodable {
    struct Chinese: Encodable {
        var path: String
        var studyInstanceUID: String
        var patientID: String
        var ideographic: String
        var alphabetic: String
    }

    struct Zip: Encodable {
        var path: String
        var dicomEntries: Int
        var otherEntries: Int
    }

    var chinese: Chinese
    var zip: Zip
    var username: String
    var password: String

    init(_ fixtures: WebFixtures, username: String, password: String) {
        self.username = username
        self.password = password
        chinese = Chinese(
            path: fixtures.chinese.path, studyInstanceUID: fixtures.chinese.studyInstanceUID, patientID: fixtures.chinese.patientID,
            ideographic: fixtures.chinese.ideographic, alphabetic: fixtures.chinese.alphabetic)
        zip = Zip(path: fixtures.zip.path, dicomEntries: fixtures.zip.dicomEntries, otherEntries: fixtures.zip.otherEntries)
    }
}
