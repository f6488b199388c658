import AtriumTesting
import Foundation
import Logging
import Server
import Testing
import Training

@Suite("Training demo data")
struct TrainingDemoTests {
    @Test("The demo steps set six questions on the demo library cases and an exam the demo student can start")
    func demo() async throws {
        var configuration = ServerConfiguration()
        configuration.dataDirectory = try Corpus.temporaryDirectory("atrium-training-demo")
        configuration.demo = true
        let server = try AtriumServer(configuration: configuration)
        try await server.archive.blobs.prepare()
        try await server.identity.prepare()
        try await server.teaching.prepare()
        try await server.training.prepare()
        let outcome = try await DemoSeed.run(
            configuration: configuration, archive: server.archive, identity: server.identity, logger: Logger(label: "test"))
        guard case .seeded(_, _, let steps) = outcome else { throw PeerError("the demo did not run: \(outcome)") }
        #expect(steps.contains("training"))
        let exams = try await server.training.exams()
        #expect(exams.count == 1)
        let questions = try await server.training.questions()
        #expect(questions.count == 6)
        // Every question but the matching one is on one of the three published demo cases.
        let cases = Set(questions.compactMap(\.content.caseID))
        #expect(cases.count == 3 && questions.filter { $0.content.caseID == nil }.map(\.content.kind) == [.matching])
        for id in cases { #expect(try await server.teaching.published(id) != nil) }
        // Two of those cases have key findings for practice; a report naming them finds them.
        let practice = try await server.training.practiceCases()
        #expect(practice.count == 2 && Set(practice.keys).isSubset(of: cases))
        let lung = try #require(practice.first { $0.value == 3 }?.key)
        let report = try await server.training.submitPractice(
            case: lung, student: "demo-student", PracticeSubmission(findings: "右肺下叶结节，边缘毛刺，见胸膜凹陷。", impression: "周围型肺癌。"))
        #expect(report.matches.map(\.outcome) == [.found, .found, .found])
        let attempt = try await server.training.start(exam: try #require(exams.first).id, student: "demo-student")
        #expect(attempt.order.count == 6)
        #expect(abs(attempt.deadline.timeIntervalSince(attempt.startedAt) - 20 * 60) < 0.01)
    }
}
