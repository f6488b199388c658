import AtriumTesting
import Foundation
import Platform
import Teaching
import Testing

@Suite("Courses with courseware and micro-lecture videos, and the library-use indicators, over HTTP and in headless Chromium")
struct CoursewareWebTests {
    @Test(
        "A teacher builds and publishes a course of text, a case, a PDF and an H.264 video with subtitles; range requests answer byte for byte; a learner plays the video to its end and completes; library use is counted"
    )
    func coursewareAndVideo() async throws {
        try Chromium.require()
        let ffmpeg = try Subprocess.run("ffmpeg", ["-version"])
        try #require(ffmpeg.status == 0, "ffmpeg is needed to make the test's videos: apt-get install ffmpeg (scripts/install-deps)")
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        var content = CaseContent(title: "右下肺炎 Right lower lobe pneumonia")
        content.findings = "右下肺野斑片影。"
        content.diagnosis = "肺炎 pneumonia"
        content.tags.modalities = ["CR"]
        let created = try await server.server.teaching.create(content, author: "cw-curator-a", institution: "MEDCOLLEGE", source: "form")
        let submitted = try await server.server.teaching.apply(.submit, to: created.id, actor: "cw-curator-a", revision: created.revision)
        _ = try await server.server.teaching.apply(.approve, to: created.id, actor: "cw-curator-b", revision: submitted.revision)
        var people: [String: [String]] = [:]
        for (key, name, role, institution) in [
            ("teacher", "cw-teacher", Role.curator, "MEDCOLLEGE" as String?), ("learner", "cw-learner", .student, "COUNTY-A"),
            ("learner2", "cw-learner2", .student, "COUNTY-A"), ("office", "cw-office", .admin, nil), ("site", "cw-site", .site, "COUNTY-B"),
        ] {
            let token = try await server.server.testToken(name, roles: [role], institution: institution)
            people[key] = [name, "test password \(name)", token]
        }
        let directory = try Corpus.temporaryDirectory("atrium-courseware-web")
        let seed: [String: Any] = ["people": people, "caseID": created.id, "countyA": ["cw-learner", "cw-learner2"]]
        try JSONSerialization.data(withJSONObject: seed).write(to: URL(fileURLWithPath: directory + "/seed.json"))
        let screenshots = try ProcessInfo.processInfo.environment["ATRIUM_SCREENSHOTS"] ?? Corpus.temporaryDirectory("atrium-screenshots")
        let run = try await Subprocess.runDetached(
            "python3",
            [
                Corpus.script("ServerTests", "courseware_web.py"), server.baseURL, LocaleFiles.directory, screenshots,
                directory + "/seed.json",
            ])
        print("courseware screenshots: \(screenshots)")
        #expect(run.status == 0, "\(run.output.suffix(2000))\(run.errorOutput.suffix(3000))")
        #expect(run.output.hasSuffix("ok\n"), "\(run.output.suffix(2000))")
    }
}
