import AtriumTesting
import Foundation
import HealthRecords
import Platform
import Testing

@Suite("Community health records over the API and in headless Chromium")
struct HealthWebTests {
    @Test(
        "Access by institution, assignment and de-identification with an audit trail; a resident's CSV examination is imported, assessed, reported, falls due for follow-up and is followed up"
    )
    func healthRecords() async throws {
        try Chromium.require()
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        var people: [String: [String]] = [:]
        for (key, name, role, institution) in [
            ("doctor", "hr-doctor", Role.site, "CHC-EAST" as String?), ("west", "hr-west", .site, "CHC-WEST"),
            ("manager", "hr-manager", .healthManager, "HEALTH-CENTRE"), ("student", "hr-student", .student, "MEDCOLLEGE"),
            ("admin", "hr-admin", .admin, nil),
        ] {
            let token = try await server.server.testToken(name, roles: [role], institution: institution)
            people[key] = [name, "test password \(name)", token]
        }
        let health = server.server.health
        let resident = try await health.createResident(
            Resident(
                institution: "CHC-EAST", recordNumber: "E-100", name: "王建国", sex: .male, birthDate: "1967-03-15", phone: "13800000001",
                address: "1 East Road", north: true, urban: true,
                information: PersonalInformation(diagnoses: [Diagnosis(code: Diagnosis.hypertension)], familyHistoryASCVD: true)),
            by: "hr-doctor")
        let quit = try await health.saveRecommendation(
            Recommendation(
                category: "smoking", textChinese: "戒烟，社区戒烟门诊每周二开放", textEnglish: "Stop smoking: the community clinic helps on Tuesdays",
                findings: ["smoking:current"]), by: "hr-manager")
        let directory = try Corpus.temporaryDirectory("atrium-health-web")
        let seed: [String: Any] = [
            "people": people, "resident": resident.id, "recordNumber": resident.recordNumber, "name": resident.name,
            "birthDate": resident.birthDate, "recommendation": quit.id, "recommendationText": quit.textChinese,
        ]
        try JSONSerialization.data(withJSONObject: seed).write(to: URL(fileURLWithPath: directory + "/seed.json"))
        let screenshots = try ProcessInfo.processInfo.environment["ATRIUM_SCREENSHOTS"] ?? Corpus.temporaryDirectory("atrium-screenshots")
        let run = try await Subprocess.runDetached(
            "python3",
            [Corpus.script("ServerTests", "health_web.py"), server.baseURL, LocaleFiles.directory, screenshots, directory + "/seed.json"])
        print("health screenshots: \(screenshots)")
        #expect(run.status == 0, "\(run.output)\(run.errorOutput.suffix(3000))")
        #expect(run.output.hasSuffix("ok\n"), "\(run.output)")
    }
}
