import AtriumTesting
import Foundation
import Platform
import Reading
import Server
import Teaching
import Testing
import Training

@Suite("Programme indicators over the API and in headless Chromium")
struct ProgrammeWebTests {
    @Test(
        "Seeded consultations and cases give the figures Python counts; targets, named figures, actions, CSV, the role table, the dashboard and the yearly report"
    )
    func dashboard() async throws {
        try Chromium.require()
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        // The seed: consultations from two sites, cases from two institutions, two of them published.
        let site = ReadingActor(username: "prog-site", displayName: "Site", sourceAddress: "127.0.0.1")
        let consultations: [(String, Priority)] = [
            ("COUNTY-A", .stat), ("COUNTY-A", .stat), ("COUNTY-A", .routine), ("COUNTY-A", .routine), ("COUNTY-A", .routine),
            ("COUNTY-B", .urgent), ("COUNTY-B", .routine), ("COUNTY-B", .routine),
        ]
        for (index, (institution, priority)) in consultations.enumerated() {
            _ = try await server.server.reading.file(
                NewConsultationRequest(
                    priority: priority, referringPhysician: "Dr Wang", clinicalHistory: "Cough", question: "Pneumonia?",
                    modality: "CR", bodyPart: "CHEST", studies: ["1.2.826.0.1.3680043.8.498.77\(index)"]),
                institution: institution, by: site)
        }
        let cases: [(String, Bool)] = [("MEDCOLLEGE", true), ("MEDCOLLEGE", true), ("MEDCOLLEGE", false), ("COUNTY-A", false)]
        var publishedIDs: [Int64] = []
        for (index, (institution, publish)) in cases.enumerated() {
            var content = CaseContent(title: "肺炎 \(index)")
            content.findings = "双肺散在斑片影。"
            content.diagnosis = "肺炎 pneumonia"
            content.tags.modalities = ["CR"]
            let created = try await server.server.teaching.create(
                content, author: "prog-curator-a", institution: institution, source: "form")
            if publish {
                let submitted = try await server.server.teaching.apply(
                    .submit, to: created.id, actor: "prog-curator-a", revision: created.revision)
                _ = try await server.server.teaching.apply(.approve, to: created.id, actor: "prog-curator-b", revision: submitted.revision)
                publishedIDs.append(created.id)
            }
        }
        var people: [String: [String]] = [:]
        for (key, name, role, institution) in [
            ("office", "prog-office", Role.admin, nil as String?), ("supervisor", "prog-supervisor", .supervisor, nil),
            ("student", "prog-student", .student, nil), ("site", "prog-site-user", .site, "COUNTY-A"),
        ] {
            let token = try await server.server.testToken(name, roles: [role], institution: institution)
            people[key] = [name, "test password \(name)", token]
        }
        let partners = try await seedPartner(server.server)
        let directory = try Corpus.temporaryDirectory("atrium-programme-web")
        let seed: [String: Any] = [
            "people": people, "consultations": consultations.map { $0.0 },
            "consultationStudies": consultations.enumerated().map { [$0.element.0, "1.2.826.0.1.3680043.8.498.77\($0.offset)"] },
            "cases": cases.map { ["institution": $0.0, "published": $0.1] }, "publishedIDs": publishedIDs,
            "partners": partners,
        ]
        try JSONSerialization.data(withJSONObject: seed).write(to: URL(fileURLWithPath: directory + "/seed.json"))
        let screenshots = try ProcessInfo.processInfo.environment["ATRIUM_SCREENSHOTS"] ?? Corpus.temporaryDirectory("atrium-screenshots")
        let run = try await Subprocess.runDetached(
            "python3",
            [
                Corpus.script("ServerTests", "programme_web.py"), server.baseURL, LocaleFiles.directory, screenshots,
                directory + "/seed.json",
            ])
        print("programme screenshots: \(screenshots)")
        #expect(run.status == 0, "\(run.output)\(run.errorOutput.suffix(3000))")
        #expect(run.output.hasSuffix("ok\n"), "\(run.output)")
    }

    /// A partner hospital's supervision this year and last: two trainees' countersigned placements (one from December of
    /// last year), a third's placement still waiting, their practice supervisors' countersignatures, inspections this year
    /// and last. Returns the raw records for the script, which counts the three partner columns from them.
    func seedPartner(_ server: AtriumServer) async throws -> [String: Any] {
        let actor = AuditActor(user: "test")
        let year = AllianceTime.calendar.component(.year, from: Date())
        let partner = try await server.identity.createInstitution(
            code: "PARTNER-W", name: "Partner hospital", kind: .affiliatedHospital, actor: actor)
        for name in ["prog-sup-w", "prog-sup-w2"] {
            _ = try await server.identity.createPerson(
                username: name, password: "test password \(name)", roles: [.supervisor], institutionID: partner.id, actor: actor)
        }
        let plan: [(trainee: String, supervisor: String, first: String, last: String, countersign: Bool)] = [
            ("prog-tw-1", "prog-sup-w", "\(year)-01-10", "\(year)-02-20", true),
            ("prog-tw-2", "prog-sup-w2", "\(year - 1)-12-20", "\(year)-01-03", true),
            ("prog-tw-3", "prog-sup-w", "\(year)-03-01", "\(year)-03-30", false),
        ]
        var placements: [[String: Any]] = []
        var reviews: [[String: Any]] = []
        for item in plan {
            _ = try await server.training.assignSupervisors(
                SupervisorAssignment(
                    trainee: item.trainee, academicSupervisor: nil, practiceSupervisor: item.supervisor, partner: "PARTNER-W"),
                by: "prog-office")
            let entry = try await server.training.logEntry(
                LogbookSubmission(kind: .placement, partner: "PARTNER-W", department: "Radiology", date: item.first, endDate: item.last),
                trainee: item.trainee)
            if item.countersign {
                let reviewed = try await server.training.review(entry: entry.id, by: item.supervisor, accept: true, comment: "")
                reviews.append([
                    "person": item.supervisor, "institution": "PARTNER-W", "date": CivilDate(reviewed.reviewedAt ?? Date()).description,
                ])
            }
            placements.append([
                "trainee": item.trainee, "partner": "PARTNER-W", "supervisor": item.supervisor, "first": item.first, "last": item.last,
                "countersigned": item.countersign,
            ])
        }
        var inspections: [[String: Any]] = []
        for date in ["\(year)-03-01", "\(year - 1)-06-01"] {
            _ = try await server.training.recordInspection(
                InspectionDraft(
                    institution: "PARTNER-W", subjectKind: .placement, subject: "Radiology placements", unannounced: false, date: date,
                    findings: "Logbooks complete."), by: "prog-office")
            inspections.append(["institution": "PARTNER-W", "date": date])
        }
        return ["placements": placements, "reviews": reviews, "inspections": inspections, "supervisorInstitution": "PARTNER-W"]
    }
}
