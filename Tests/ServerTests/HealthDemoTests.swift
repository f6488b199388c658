import AtriumTesting
import Foundation
import HealthRecords
import Logging
import Platform
import Server
import Testing

@Suite("Health records demo data")
struct HealthDemoTests {
    @Test(
        "The demo publishes a de-identified health-management teaching case a student can open, and records health-education attendance at the demo course"
    )
    func demo() async throws {
        var configuration = ServerConfiguration()
        configuration.dataDirectory = try Corpus.temporaryDirectory("atrium-health-demo")
        configuration.demo = true
        configuration.httpPort = 0
        configuration.host = "127.0.0.1"
        let server = try AtriumServer(configuration: configuration)
        try await server.archive.blobs.prepare()
        try await server.identity.prepare()
        try await server.teaching.prepare()
        try await server.training.prepare()
        try await server.reading.prepare()
        let outcome = try await DemoSeed.run(
            configuration: configuration, archive: server.archive, identity: server.identity, logger: Logger(label: "test"))
        guard case .seeded(_, _, let steps) = outcome else { throw PeerError("the demo did not run: \(outcome)") }
        #expect(steps.contains("health") && steps.contains("health-teaching"))
        let health = server.health
        let cases = try await health.teachingCaseIDs()
        #expect(cases.count == 1)
        let caseID = try #require(cases.first)
        // Published, so students see it; and nothing of 张建华's identity in the students' version.
        let published = try #require(try await server.teaching.published(caseID))
        let text = [published.content.title, published.content.clinicalHistory, published.content.findings].joined(separator: "\n")
        for value in ["张建华", "QS-0001-01", "1962-08-20", "13800000101", "青山县东街"] {
            #expect(!text.contains(value), "\(value) is in the demo teaching case")
        }
        let made = try await health.teachingCase(caseID)
        // 张建华: hypertensive, a smoker, BMI 76 / 1.68² = 26.9 (overweight) with a 95 cm waist.
        #expect(made.planItems.starts(with: ["sbp", "cigarettes", "weight"]))
        let course = try #require(try await server.programme.courses(publishedOnly: true).first)
        let attendance = try await health.attendance(course: course.id)
        #expect(attendance.filter { $0.residentID != nil }.count == 2)
        #expect(attendance.compactMap(\.person) == ["demo-doctor"])
        #expect(try await health.indicatorRecords().filter { $0.kind == "education" }.count == 3)

        // Served: a student opens the case's page and is graded over the API (curl, with a bearer token).
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = server.makeApplication { port in continuation.yield(port) }
        let task = Task { try await app.run() }
        defer { task.cancel() }
        var iterator = stream.makeAsyncIterator()
        guard let port = await iterator.next() else { throw PeerError("the server did not start") }
        let token = try await server.testToken("demo-test-student", roles: [.student], institution: "MEDCOLLEGE")
        let page = try await Subprocess.runDetached(
            "/usr/bin/curl",
            [
                "-s", "-w", "\n%{http_code}", "-H", "Authorization: Bearer \(token)",
                "http://127.0.0.1:\(port)/health-records/teaching/\(caseID)",
            ])
        #expect(page.output.hasSuffix("\n200"), "\(page.output.suffix(300))")
        #expect(page.output.contains("answer-form") && page.output.contains("95 cm"))
        let graded = try await Subprocess.runDetached(
            "/usr/bin/curl",
            [
                "-s", "-w", "\n%{http_code}", "-H", "Authorization: Bearer \(token)", "-H", "Content-Type: application/json", "-d",
                #"{"risk": {"waistClass": "central-obesity"}, "plan": ["sbp"]}"#,
                "http://127.0.0.1:\(port)/api/health/teaching-cases/\(caseID)/answers",
            ])
        // 95 cm is central obesity for a man (WS/T 428-2013: ≥ 90 cm).
        #expect(graded.output.hasSuffix("\n200") && graded.output.contains(#""correct":1"#), "\(graded.output.suffix(300))")
        task.cancel()
        _ = await task.result
    }
}
