import AtriumTesting
import Foundation
import Platform
import Server
import Teaching
import Testing

@Suite("Practice on library cases")
struct TrainingPracticeTests {
    @Test(
        "A teacher sets key findings; a student reports on the case with its answers hidden and sees found, negated and missed findings (hand-labelled) beside the reference; comments; role checks"
    )
    func practice() async throws {
        try Chromium.require()
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        var people: [String: [String]] = [:]
        for (key, name, role) in [
            ("teacher", "tp-teacher", Role.curator), ("studentA", "tp-student-a", .student), ("studentB", "tp-student-b", .student),
            ("site", "tp-site", .site),
        ] {
            let token = try await server.server.testToken(name, roles: [role], institution: "MEDCOLLEGE")
            people[key] = [name, "test password \(name)", token]
        }
        let content = CaseContent(
            title: "右侧张力性气胸 Right tension pneumothorax", clinicalHistory: "男，23岁，突发右侧胸痛、气促2小时。",
            findings: "右侧胸腔见无肺纹理透亮区，纵隔向左移位。", diagnosis: "右侧张力性气胸 tension pneumothorax",
            tags: CaseTags(modalities: ["CR"], bodyRegion: "chest", difficulty: 2))
        let library = server.server.teaching
        let created = try await library.create(content, author: "tp-teacher", institution: "MEDCOLLEGE", source: "test")
        let submitted = try await library.apply(.submit, to: created.id, actor: "tp-teacher", revision: created.revision)
        _ = try await library.apply(.approve, to: created.id, actor: "tp-reviewer", revision: submitted.revision)
        let fixtures: [String: Any] = [
            "people": people, "case": created.id, "title": content.title, "history": content.clinicalHistory,
            "findings": content.findings, "diagnosis": content.diagnosis,
        ]
        let directory = try Corpus.temporaryDirectory("atrium-training-practice")
        let file = directory + "/fixtures.json"
        try JSONSerialization.data(withJSONObject: fixtures).write(to: URL(fileURLWithPath: file))
        let screenshots = try ProcessInfo.processInfo.environment["ATRIUM_SCREENSHOTS"] ?? Corpus.temporaryDirectory("atrium-screenshots")
        let run = try await Subprocess.runDetached(
            "python3", [Corpus.script("ServerTests", "training_practice.py"), server.baseURL, LocaleFiles.directory, screenshots, file])
        #expect(run.status == 0, "\(run.output)\(run.errorOutput.suffix(3000))")
        #expect(run.output.hasSuffix("ok\n"), "\(run.output)")
    }

    @Test(
        "A technologist's positioning task: references hidden from the student, settings chosen and typed in Chromium, scored against the script's own table"
    )
    func positioning() async throws {
        try Chromium.require()
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        var people: [String: [String]] = [:]
        for (key, name, role) in [("teacher", "pos-teacher", Role.curator), ("student", "pos-student", .student)] {
            let token = try await server.server.testToken(name, roles: [role], institution: "MEDCOLLEGE")
            people[key] = [name, "test password \(name)", token]
        }
        let directory = try Corpus.temporaryDirectory("atrium-training-positioning")
        let file = directory + "/fixtures.json"
        try JSONSerialization.data(withJSONObject: ["people": people]).write(to: URL(fileURLWithPath: file))
        let screenshots = try ProcessInfo.processInfo.environment["ATRIUM_SCREENSHOTS"] ?? Corpus.temporaryDirectory("atrium-screenshots")
        let run = try await Subprocess.runDetached(
            "python3", [Corpus.script("ServerTests", "training_positioning.py"), server.baseURL, screenshots, file])
        #expect(run.status == 0, "\(run.output)\(run.errorOutput.suffix(3000))")
        #expect(run.output.hasSuffix("ok\n"), "\(run.output)")
    }
}
