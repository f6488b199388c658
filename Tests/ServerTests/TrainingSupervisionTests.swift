import AtriumTesting
import Foundation
import Platform
import Server
import Testing

@Suite("Supervision of training across partners")
struct TrainingSupervisionTests {
    @Test(
        "A trainee logs a placement and procedures, only the named practice supervisor countersigns, the count moves against its target, a competency is signed off, an inspection is recorded and published, the cohort XLSX holds the values computed in the test, and a group assignment is evaluated by teacher, supervisor and peer with the weighted score computed in the test"
    )
    func supervision() async throws {
        try Chromium.require()
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let identity = server.server.identity
        let actor = AuditActor(user: "test")
        for (code, kind) in [("SV-COLLEGE", InstitutionKind.college), ("SV-HOSP", .affiliatedHospital), ("SV-OTHER", .grassrootsHospital)]
        where try await identity.institution(code: code) == nil {
            _ = try await identity.createInstitution(code: code, name: code, kind: kind, actor: actor)
        }
        var people: [String: [String]] = [:]
        for (key, name, role, institution) in [
            ("teacher", "sv-teacher", Role.curator, "SV-COLLEGE"), ("office", "sv-office", .admin, "SV-COLLEGE"),
            ("traineeA", "sv-trainee-a", .student, "SV-COLLEGE"), ("traineeB", "sv-trainee-b", .student, "SV-COLLEGE"),
            ("academic", "sv-academic", .supervisor, "SV-COLLEGE"), ("practice", "sv-practice", .supervisor, "SV-HOSP"),
            ("otherSupervisor", "sv-other-supervisor", .supervisor, "SV-OTHER"), ("partTime", "sv-part-time", .curator, "SV-HOSP"),
            ("groupC1", "sv-group-c1", .student, "SV-COLLEGE"), ("groupC2", "sv-group-c2", .student, "SV-COLLEGE"),
            ("groupD1", "sv-group-d1", .student, "SV-COLLEGE"), ("groupD2", "sv-group-d2", .student, "SV-COLLEGE"),
        ] {
            let token = try await server.server.testToken(name, roles: [role], institution: institution)
            people[key] = [name, "test password \(name)", token]
        }
        let fixtures: [String: Any] = ["people": people, "college": "SV-COLLEGE", "hospital": "SV-HOSP", "other": "SV-OTHER"]
        let directory = try Corpus.temporaryDirectory("atrium-training-supervision")
        let file = directory + "/fixtures.json"
        try JSONSerialization.data(withJSONObject: fixtures).write(to: URL(fileURLWithPath: file))
        let screenshots = try ProcessInfo.processInfo.environment["ATRIUM_SCREENSHOTS"] ?? Corpus.temporaryDirectory("atrium-screenshots")
        let run = try await Subprocess.runDetached(
            "python3",
            [Corpus.script("ServerTests", "training_supervision.py"), server.baseURL, LocaleFiles.directory, screenshots, file, directory])
        #expect(run.status == 0, "\(run.output)\(run.errorOutput.suffix(3000))")
        #expect(run.output.hasSuffix("ok\n"), "\(run.output)")

        // Project-based assignments on the same server: two groups, evaluated by the teacher, a practice supervisor and
        // a peer; the final score is computed in the script from the marks it entered.
        let assignments = try await Subprocess.runDetached(
            "python3", [Corpus.script("ServerTests", "training_assignments.py"), server.baseURL, LocaleFiles.directory, screenshots, file])
        #expect(assignments.status == 0, "\(assignments.output)\(assignments.errorOutput.suffix(3000))")
        #expect(assignments.output.hasSuffix("ok\n"), "\(assignments.output)")
    }
}
