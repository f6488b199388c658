import AtriumTesting
import Foundation
import Logging
import Server
import Testing
import Training

@Suite("Training demo data")
struct TrainingDemoTests {
    @Test(
        "The demo steps set six questions on the demo library cases and an exam the demo student can start, and supervision's cohort, entries, sign-off and published inspection"
    )
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
        #expect(questions.count == 7)
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
        #expect(attempt.order.count == 7)
        #expect(abs(attempt.deadline.timeIntervalSince(attempt.startedAt) - 20 * 60) < 0.01)

        // Supervision: demo-student's cohort, supervisors, two countersigned entries and one pending, one sign-off, and
        // a published inspection of the affiliated hospital.
        #expect(steps.contains("supervision"))
        #expect(try await server.training.cohorts().map(\.members) == [["demo-student"]])
        let supervisors = try await server.training.supervisors(of: "demo-student")
        #expect(supervisors.practiceSupervisor == "demo-supervisor" && supervisors.partner == "AFFILIATED")
        #expect(try await server.training.entries(trainee: "demo-student").map(\.state) == [.countersigned, .countersigned, .pending])
        let progress = try await server.training.progress(trainee: "demo-student")
        // By hand: the CT chest procedure is countersigned, the DR one pending: CT 1, DR 0, chest 1.
        #expect(progress.progress.map(\.done) == [1, 0, 1])
        #expect(try await server.training.signOffs(trainee: "demo-student")["positioning"]?.level == 2)
        #expect(try await server.training.inspections().map(\.published) == [true])
        let partners = try await server.training.partnerActivity(identity: server.identity)
        #expect(partners.first { $0.institution == "AFFILIATED" }.map { [$0.inspections, $0.traineesHosted] } == [1, 1])
        #expect(try await server.training.milestones(trainee: "demo-student").map(\.status) == [.planned])
        #expect(try await server.training.projects(trainee: "demo-student").map(\.points) == [1])
        let assignment = try #require(try await server.training.projectAssignments().first)
        #expect(assignment.unit(of: "demo-student")?.members == ["demo-student"] && assignment.draft.weights.peer == 0)
    }
}
