import AtriumTesting
import Foundation
import Platform
import Server
import Testing

@Suite("Exam statistics, gradebook and Moodle import")
struct TrainingAnalysisTests {
    @Test(
        "Moodle XML imported in Chromium; ten students' answers analysed as numpy computes them (facility, discrimination, alpha, kappa, similar reports); the gradebook opened by openpyxl; students refused"
    )
    func statistics() async throws {
        try Chromium.require()
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        var people: [String: [String]] = [:]
        var cast: [(String, String, Role)] = [("teacher", "ta-teacher", .curator), ("grader", "ta-grader", .curator)]
        for n in 0..<10 { cast.append(("student\(n)", "ta-student-\(n)", .student)) }
        for (key, name, role) in cast {
            let token = try await server.server.testToken(name, roles: [role], institution: "MEDCOLLEGE")
            people[key] = [name, "test password \(name)", token]
        }
        let directory = try Corpus.temporaryDirectory("atrium-training-analysis")
        let fixtures = directory + "/fixtures.json"
        try JSONSerialization.data(withJSONObject: ["people": people]).write(to: URL(fileURLWithPath: fixtures))
        let screenshots = try ProcessInfo.processInfo.environment["ATRIUM_SCREENSHOTS"] ?? Corpus.temporaryDirectory("atrium-screenshots")
        let run = try await Subprocess.runDetached(
            "python3", [Corpus.script("ServerTests", "training_analysis.py"), server.baseURL, LocaleFiles.directory, screenshots, fixtures])
        #expect(run.status == 0, "\(run.output)\(run.errorOutput.suffix(3000))")
        #expect(run.output.hasSuffix("ok\n"), "\(run.output)")
        // The import and the gradebook export are in the audit trail.
        await server.server.identity.audit.flush()
        let details = try await server.server.identity.audit.search(AuditSearch(limit: 1000)).map(\.detail)
        #expect(details.contains { $0.contains("imported from Moodle XML: 3 questions, 1 skipped") }, "\(details.prefix(20))")
        #expect(details.contains { $0.contains("gradebook exported: 10 attempts") })
    }
}
