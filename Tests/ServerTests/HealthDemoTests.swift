import AtriumTesting
import Foundation
import HealthRecords
import Logging
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
    }
}
