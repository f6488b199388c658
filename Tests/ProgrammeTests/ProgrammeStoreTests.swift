import Archive
import AtriumTesting
import Foundation
import HealthRecords
import Testing

@testable import Platform
@testable import Programme
@testable import Reading
@testable import Teaching
@testable import Training

@Suite("Programme store")
struct ProgrammeStoreTests {
    @Test("The SQLite programme store passes the shared suite")
    func sqlite() async throws {
        let directory = try Corpus.temporaryDirectory("atrium-programme")
        let archive = try Archive.open(directory: directory)
        let identity = try IdentityStore.make(archive: archive, directory: directory)
        try await ProgrammeStoreSuite.run(identity)
    }

    @Test("The PostgreSQL programme store passes the shared suite")
    func postgres() async throws {
        let server = try await PostgresServer.start()
        defer { server.stop() }
        let url = try await server.createDatabase("atrium_programme")
        let directory = try Corpus.temporaryDirectory("atrium-programme-pg")
        let archive = try Archive.open(directory: directory, database: url)
        let identity = try IdentityStore.make(archive: archive, directory: directory)
        try await identity.prepare()
        try await ProgrammeStoreSuite.run(identity)
    }
}

/// The programme store's behaviour on any back end: facts read from the consultation and library stores, targets,
/// named indicators with evidence, improvement actions.
enum ProgrammeStoreSuite {
    static func run(_ identity: IdentityStore) async throws {
        let reading = ReadingStore.make(identity: identity)
        let teaching = TeachingStore(identity: identity)
        let training = TrainingStore(identity: identity)
        let store = ProgrammeStore(identity: identity, reading: reading, teaching: teaching, training: training)
        try await store.prepare()
        try await facts(store, reading: reading, teaching: teaching)
        try await targets(store)
        try await namedIndicators(store)
        try await actions(store)
        try await education(store)
        try await exams(store, training: training, identity: identity)
        try await health(identity, reading: reading, teaching: teaching)
        try await serviceLines(store, reading: reading)
        try await partners(store, training: training, identity: identity)
        try await keptFacts(store, identity: identity, reading: reading, teaching: teaching, training: training)
    }

    /// Supervision records reach the partner contribution table: trainees hosted (countersigned placements overlapping the
    /// period), part-time teachers (people of a partner, not of a college, who supervised or taught in it), inspections
    /// dated in it. The expected figures are read off the records made here.
    static func partners(_ store: ProgrammeStore, training: TrainingStore, identity: IdentityStore) async throws {
        let actor = AuditActor(user: "test")
        let hospital = try await identity.createInstitution(
            code: "PARTNER-H", name: "Partner hospital", kind: .affiliatedHospital, actor: actor)
        let college = try await identity.createInstitution(code: "COLLEGE-P", name: "College", kind: .college, actor: actor)
        for (name, institution) in [("sup.h", hospital.id), ("grader.h", hospital.id), ("sup.c", college.id)] {
            _ = try await identity.createPerson(
                username: name, password: "test password \(name)", roles: [.supervisor], institutionID: institution, actor: actor)
        }
        func day(_ text: String) throws -> Date { try #require(CivilDate(text)).start.addingTimeInterval(36_000) }
        _ = try await training.assignSupervisors(
            SupervisorAssignment(trainee: "tr.1", academicSupervisor: "sup.c", practiceSupervisor: "sup.h", partner: "PARTNER-H"),
            by: "office")
        _ = try await training.assignSupervisors(
            SupervisorAssignment(trainee: "tr.2", academicSupervisor: nil, practiceSupervisor: "sup.c", partner: "COLLEGE-P"), by: "office")
        // tr.1: 1 March to 15 April 2026, countersigned on 16 April by sup.h; tr.2: 20 December 2025 to 5 January 2026,
        // countersigned by sup.c (college staff: no part-time teacher); tr.2's June placement waits (not counted).
        let one = try await training.logEntry(
            LogbookSubmission(kind: .placement, partner: "PARTNER-H", department: "Radiology", date: "2026-03-01", endDate: "2026-04-15"),
            trainee: "tr.1")
        _ = try await training.review(entry: one.id, by: "sup.h", accept: true, comment: "", at: try day("2026-04-16"))
        let two = try await training.logEntry(
            LogbookSubmission(kind: .placement, partner: "PARTNER-H", department: "CT", date: "2025-12-20", endDate: "2026-01-05"),
            trainee: "tr.2")
        _ = try await training.review(entry: two.id, by: "sup.c", accept: true, comment: "", at: try day("2026-01-06"))
        _ = try await training.logEntry(
            LogbookSubmission(kind: .placement, partner: "PARTNER-H", department: "MR", date: "2026-06-01", endDate: "2026-06-30"),
            trainee: "tr.2")
        for date in ["2026-05-10", "2025-11-01"] {
            _ = try await training.recordInspection(
                InspectionDraft(
                    institution: "PARTNER-H", subjectKind: .placement, subject: "Radiology placements", unannounced: false, date: date,
                    findings: "Logbooks complete."), by: "office")
        }
        let facts = try await store.facts()
        func row(_ month: Int?) -> ProgrammeDashboard.Contribution? {
            ProgrammeDashboard.contributions(facts: facts, period: ProgrammePeriod(year: 2026, month: month)).first {
                $0.institution == "PARTNER-H"
            }
        }
        /// Trainees hosted, part-time teachers, inspections; zeros for no row.
        func counts(_ month: Int?) -> [Int] {
            row(month).map { [$0.traineesHosted, $0.partTimeTeachers, $0.inspections] } ?? [0, 0, 0]
        }
        _ = try #require(row(nil))
        #expect(counts(nil) == [2, 1, 1])
        #expect(counts(1) == [1, 0, 0])
        #expect(counts(3) == [1, 1, 0])
        #expect(counts(5) == [0, 0, 1])
        #expect(counts(6) == [0, 0, 0], "a pending placement is not counted")
        #expect(!facts.teachingActs.contains { $0.person == "sup.c" }, "college staff are not part-time teachers")
        // A teacher of the partner commenting on a practice report in February 2026 is a part-time teacher of February.
        let practice = try await training.submitPractice(
            case: 1, student: "tr.1", PracticeSubmission(findings: "Consolidation", impression: "Pneumonia"))
        _ = try await training.commentPractice(practice.id, "Good.", by: "grader.h", at: try day("2026-02-02"))
        let commented = try await store.facts()
        func teachers(_ month: Int?) -> Int? {
            ProgrammeDashboard.contributions(facts: commented, period: ProgrammePeriod(year: 2026, month: month)).first {
                $0.institution == "PARTNER-H"
            }?.partTimeTeachers
        }
        #expect(teachers(2) == 1)
        #expect(teachers(nil) == 2)
    }

    /// The facts are kept between reads under a fingerprint read from the database, and follow every change: new rows,
    /// updates in place within the same second (a withdrawal, a publication, a person's move), whether made through this
    /// store's own stores or another process's (here: stores of their own on the same database). Each expected figure is
    /// counted from what the test did.
    static func keptFacts(
        _ store: ProgrammeStore, identity: IdentityStore, reading: ReadingStore, teaching: TeachingStore, training: TrainingStore
    ) async throws {
        let otherReading = ReadingStore.make(identity: identity)
        let otherTeaching = TeachingStore(identity: identity)
        let otherTraining = TrainingStore(identity: identity)
        _ = try await store.facts()
        #expect(!store.factsCache.withLock { $0.fingerprint }.isEmpty, "the fingerprint query works on this database")
        let kept = try await store.facts()
        #expect(kept == store.factsCache.withLock { $0.facts })
        func sites(_ facts: ProgrammeFacts) -> Int { facts.consultations.filter { $0.site == "KEPT-X" }.count }
        #expect(sites(kept) == 0)
        let site = ReadingActor(username: "kept.clerk", displayName: "Clerk", sourceAddress: "127.0.0.1")
        var filed: [ConsultationRequest] = []
        for n in 0..<2 {
            filed.append(
                try await otherReading.file(
                    NewConsultationRequest(
                        priority: .routine, referringPhysician: "Dr Li", clinicalHistory: "", question: "?", modality: "CT",
                        bodyPart: "CHEST", studies: ["1.2.826.0.1.3680043.8.498.9119\(n)"]),
                    institution: "KEPT-X", by: site
                ).0)
        }
        #expect(sites(try await store.facts()) == 2)
        // Studies sent: distinct Study Instance UIDs of the institution's requests in the period, withdrawn ones left out.
        let year = AllianceTime.calendar.component(.year, from: Date())
        func studiesSent() async throws -> Int? {
            ProgrammeDashboard.contributions(facts: try await store.facts(), period: ProgrammePeriod(year: year, institution: "KEPT-X"))
                .first?.studiesSent
        }
        #expect(try await studiesSent() == 2, "two requests, a study each")
        _ = try await otherReading.file(
            NewConsultationRequest(
                priority: .routine, referringPhysician: "Dr Li", clinicalHistory: "", question: "?", modality: "CT", bodyPart: "CHEST",
                studies: ["1.2.826.0.1.3680043.8.498.91191", "1.2.826.0.1.3680043.8.498.91192"]),
            institution: "KEPT-X", by: site)
        #expect(try await studiesSent() == 3, "a study sent again is counted once")
        _ = try await otherReading.withdraw(requestID: filed[0].id, by: site)
        #expect(sites(try await store.facts()) == 2, "a withdrawal (an update in place) is seen")
        #expect(try await studiesSent() == 2, "the withdrawn request's study is no longer counted")
        var content = CaseContent(title: "Kept case")
        content.findings = "Findings."
        content.diagnosis = "Diagnosis"
        content.tags.modalities = ["CT"]
        let created = try await otherTeaching.create(content, author: "curator.kept", institution: "KEPT-X", source: "form")
        #expect(try await store.facts().cases.filter { $0.institution == "KEPT-X" }.map(\.published) == [nil])
        let submitted = try await otherTeaching.apply(.submit, to: created.id, actor: "curator.kept", revision: created.revision)
        _ = try await otherTeaching.apply(.approve, to: created.id, actor: "curator.other", revision: submitted.revision)
        #expect(try await store.facts().cases.filter { $0.institution == "KEPT-X" }.allSatisfy { $0.published != nil })
        let before = try await store.facts().inspections.count
        _ = try await otherTraining.recordInspection(
            InspectionDraft(
                institution: "KEPT-X", subjectKind: .course, subject: "Course", unannounced: true, date: "2026-07-01", findings: "Fine."),
            by: "office")
        #expect(try await store.facts().inspections.count == before + 1)
        // A person moved to another institution takes their practice with them.
        let actor = AuditActor(user: "test")
        let home = try await identity.createInstitution(code: "KEPT-A", name: "A", kind: .grassrootsHospital, actor: actor)
        let away = try await identity.createInstitution(code: "KEPT-B", name: "B", kind: .grassrootsHospital, actor: actor)
        let learner = try await identity.createPerson(
            username: "kept.learner", password: "test password kept", roles: [.student], institutionID: home.id, actor: actor)
        _ = try await otherTraining.submitPractice(
            case: created.id, student: "kept.learner", PracticeSubmission(findings: "Consolidation", impression: "Pneumonia"))
        #expect(try await store.facts().libraryUse.filter { $0.person == "kept.learner" }.map(\.institution) == ["KEPT-A"])
        try await identity.update(personID: learner.id, displayName: nil, institutionID: .some(away.id), language: nil, actor: actor)
        #expect(try await store.facts().libraryUse.filter { $0.person == "kept.learner" }.map(\.institution) == ["KEPT-B"])
        _ = reading
        _ = teaching
        _ = training
    }

    /// Each request's service line reaches the facts, and the breakdown counts it under that line.
    static func serviceLines(_ store: ProgrammeStore, reading: ReadingStore) async throws {
        let before = try await store.facts().consultations
        let site = ReadingActor(username: "county.clerk", displayName: "County clerk", sourceAddress: "127.0.0.1")
        for line in [ServiceLine.pathology, .laboratory, .laboratory] {
            _ = try await reading.file(
                NewConsultationRequest(
                    serviceLine: line, priority: .routine, referringPhysician: "Dr Li", clinicalHistory: "", question: "?",
                    accessionNumber: "SL-\(line.rawValue)", modality: line == .pathology ? "SM" : "LAB"),
                institution: "COUNTY-C", by: site)
        }
        let facts = try await store.facts()
        let added = facts.consultations.filter { $0.site == "COUNTY-C" }
        #expect(added.map(\.serviceLine).sorted() == ["laboratory", "laboratory", "pathology"])
        #expect(before.allSatisfy { $0.serviceLine == "imaging" })
        let year = AllianceTime.calendar.component(.year, from: Date())
        let figures = ProgrammeDashboard.serviceLines(
            facts: facts, period: ProgrammePeriod(year: year, institution: "COUNTY-C"), now: Date())
        #expect(figures.map(\.requested) == [0, 1, 2])
        #expect(figures.map(\.reported) == [0, 0, 0])
    }

    /// The health records' examinations, assessments and follow-ups are health-service person-times of the resident's
    /// serving institution, on the day of the service.
    static func health(_ identity: IdentityStore, reading: ReadingStore, teaching: TeachingStore) async throws {
        let health = HealthStore(identity: identity)
        let store = ProgrammeStore(identity: identity, reading: reading, teaching: teaching, health: health)
        let resident = try await health.createResident(
            Resident(institution: "CHC-EAST", recordNumber: "E-001", name: "Resident", sex: .female, birthDate: "1960-05-01"), by: "hm")
        let examination = try await health.addExamination(
            Examination(residentID: resident.id, date: "2026-03-10", vitals: .init(leftSystolic: 150, leftDiastolic: 92)), by: "hm")
        _ = try await health.assess(examination: examination.id, by: "hm", at: ProgrammePeriod(year: 2026, month: 3).interval.start)
        _ = try await health.recordFollowUp(
            FollowUp(
                residentID: resident.id, kind: .hypertension, date: "2026-04-02", classification: .uncontrolled, nextDate: "2026-05-02"),
            by: "hm")
        let facts = try await store.facts()
        #expect(facts.healthServices.count == 3)
        let key = IndicatorCatalog.healthServicePersonTimes.key
        let now = Date()
        #expect(IndicatorComputation.value(key, facts: facts, period: ProgrammePeriod(year: 2026), now: now) == 3)
        #expect(IndicatorComputation.value(key, facts: facts, period: ProgrammePeriod(year: 2026, month: 3), now: now) == 2)
        #expect(IndicatorComputation.value(key, facts: facts, period: ProgrammePeriod(year: 2026, month: 4), now: now) == 1)
        #expect(IndicatorComputation.value(key, facts: facts, period: ProgrammePeriod(year: 2026, institution: "CHC-WEST"), now: now) == 0)
    }

    /// Exam attempts join the facts with their scores: a pass at 60 % of the maximum with every question scored, the
    /// first attempt marked, each one a training person-time of the student's institution.
    static func exams(_ store: ProgrammeStore, training: TrainingStore, identity: IdentityStore) async throws {
        let actor = AuditActor(user: "test")
        let county = try await identity.createInstitution(code: "COUNTY-C", name: "County C", kind: .grassrootsHospital, actor: actor)
        for name in ["stu.pass", "stu.fail", "stu.late"] {
            _ = try await identity.createPerson(
                username: name, password: "test password \(name)", roles: [.student], institutionID: county.id, actor: actor)
        }
        var ids: [Int64] = []
        for n in 0..<5 {
            let question = try await training.createQuestion(
                QuestionContent(
                    kind: .singleChoice, stem: "Q\(n)",
                    choices: [Choice(id: "a", text: "yes", correct: true), Choice(id: "b", text: "no", correct: false)]),
                by: "teacher")
            ids.append(question.id)
        }
        let t0 = Date()
        let exam = try await training.createExam(
            ExamSettings(title: "Chest", forms: [ids], shuffle: false, students: ["stu.pass", "stu.fail", "stu.late"]), by: "teacher",
            at: t0.addingTimeInterval(-60))
        // stu.pass: 3 of 5 right (60 %, a pass); stu.fail: 2 of 5; stu.late starts and never submits.
        for (student, right) in [("stu.pass", 3), ("stu.fail", 2)] {
            let attempt = try await training.start(exam: exam.id, student: student, at: t0)
            for (index, id) in ids.enumerated() {
                _ = try await training.saveAnswer(
                    attempt: attempt.id, question: id, student: student, answer: Answer(choices: [index < right ? "a" : "b"]),
                    sequence: Int64(index + 1), at: t0.addingTimeInterval(1))
            }
            _ = try await training.submit(attempt: attempt.id, student: student, at: t0.addingTimeInterval(2))
        }
        _ = try await training.start(exam: exam.id, student: "stu.late", at: t0)
        let facts = try await store.facts()
        let attempts = facts.exams.sorted { $0.person < $1.person }
        #expect(attempts.map(\.person) == ["stu.fail", "stu.pass"])
        #expect(attempts.map(\.passed) == [false, true])
        #expect(attempts.allSatisfy { $0.first && $0.institution == "COUNTY-C" && $0.exam == String(exam.id) })
        #expect(facts.training.filter { $0.kind == "exam" }.map(\.institution) == ["COUNTY-C", "COUNTY-C"])
        let rate = IndicatorComputation.value(
            IndicatorCatalog.examPassRate.key, facts: facts, period: ProgrammePeriod(year: ProgrammeRoutesYear.current(t0)), now: t0)
        #expect(rate == 50)

        // A continuing-education course with this exam as its rule: studying its case completes it for the student who
        // passed (3 of 5, 60 %), not for the one who did not (2 of 5); an unfinished attempt is no pass.
        let course = try await store.createCourse(
            titleChinese: "胸部考试", titleEnglish: "Chest exam", summary: "", creditHours: 1, cases: [21], examID: exam.id,
            published: true, by: "office")
        for name in ["stu.pass", "stu.fail", "stu.late"] {
            _ = try await store.enrol(course: course.id, person: name, institution: "COUNTY-C", by: name)
            #expect(try await store.examPassed(course, person: name) == (name == "stu.pass"), "\(name)")
        }
        let passed = try await store.markStudied(course: course.id, person: "stu.pass", personName: "Pass", caseID: 21)
        #expect(passed.completedAt != nil && passed.certificate != nil)
        let failed = try await store.markStudied(course: course.id, person: "stu.fail", personName: "Fail", caseID: 21)
        #expect(failed.completedAt == nil && failed.certificate == nil)
        #expect(try await store.checkCompletion(course: course, person: "stu.fail", personName: "Fail")?.completedAt == nil)
        #expect(try await store.checkCompletion(course: course, person: "nobody", personName: "Nobody") == nil)
        // A regrade that lifts stu.fail to 60 % completes the course when it is next looked at, once.
        let failedAttempt = try #require(try await training.attempts(exam: exam.id, student: "stu.fail").first)
        _ = try await training.regrade(
            attempt: failedAttempt.id, question: ids[2], points: 1, reason: "second look", by: "teacher")
        let completed = try #require(try await store.checkCompletion(course: course, person: "stu.fail", personName: "Fail"))
        #expect(completed.completedAt != nil && completed.certificate != nil)
        let again = try await store.checkCompletion(course: course, person: "stu.fail", personName: "Fail")
        #expect(again?.certificate == completed.certificate)

        // A course that asks for practice: studying both cases is not enough until a practice report on each is written;
        // a report on another case does not count.
        let practice = try await store.createCourse(
            titleChinese: "练习", titleEnglish: "Practice", summary: "", creditHours: 1, cases: [31, 32], examID: nil,
            practiceRequired: true, published: true, by: "office")
        #expect(try await store.course(practice.id).practiceRequired)
        _ = try await store.enrol(course: practice.id, person: "stu.pass", institution: "COUNTY-C", by: "stu.pass")
        _ = try await store.markStudied(course: practice.id, person: "stu.pass", personName: "Pass", caseID: 31)
        let studied = try await store.markStudied(course: practice.id, person: "stu.pass", personName: "Pass", caseID: 32)
        #expect(studied.completedAt == nil)
        _ = try await training.submitPractice(case: 31, student: "stu.pass", PracticeSubmission(findings: "右肺结节。", impression: ""))
        _ = try await training.submitPractice(case: 99, student: "stu.pass", PracticeSubmission(findings: "无异常。", impression: ""))
        #expect(try await store.practisedCases(practice, person: "stu.pass") == [31])
        #expect(try await store.checkCompletion(course: practice, person: "stu.pass", personName: "Pass")?.completedAt == nil)
        let partial = try await store.progress(practice, enrolment: studied, person: "stu.pass")
        #expect(partial.practised == 1 && partial.studied == 2 && abs(partial.fraction - 0.75) < 1e-12 && !partial.complete)
        _ = try await training.submitPractice(case: 32, student: "stu.pass", PracticeSubmission(findings: "", impression: "肺炎。"))
        #expect(try await store.checkCompletion(course: practice, person: "stu.pass", personName: "Pass")?.certificate != nil)
        await #expect(throws: ProgrammeError.self) {
            try await store.createCourse(
                titleChinese: "只考试", titleEnglish: "Exam only", summary: "", creditHours: 1, cases: [], examID: exam.id,
                practiceRequired: true, published: true, by: "office")
        }
    }

    static func facts(_ store: ProgrammeStore, reading: ReadingStore, teaching: TeachingStore) async throws {
        let site = ReadingActor(username: "county.clerk", displayName: "County clerk", sourceAddress: "127.0.0.1")
        var filed: [(ConsultationRequest, WorkItem)] = []
        for (institution, priority) in [("COUNTY-A", Priority.stat), ("COUNTY-A", .routine), ("COUNTY-B", .urgent)] {
            filed += [
                try await reading.file(
                    NewConsultationRequest(
                        priority: priority, referringPhysician: "Dr Wang", clinicalHistory: "Cough", question: "Pneumonia?",
                        modality: "CR", bodyPart: "CHEST",
                        studies: ["1.2.826.0.1.3680043.8.498.\(institution.count)\(priority.rawValue.count)"]
                    ),
                    institution: institution, by: site)
            ]
        }
        // The stat request is read and signed: its final time is the signature's.
        let reader = ReadingActor(username: "reader.a", displayName: "Dr A", sourceAddress: "127.0.0.1")
        _ = try await reading.claim(itemID: filed[0].1.id, by: reader)
        let report = try #require(try await reading.reports(requestID: filed[0].0.id).first)
        var sections = report.sections
        sections[sections.count - 1].text = "Right lower lobe pneumonia."
        let signed = try await reading.sign(reportID: report.id, sections: sections, by: reader)
        let signedAt = try #require(try await reading.events(requestID: filed[0].0.id).first { $0.kind == "signed" }?.time)
        var content = CaseContent(title: "肺炎 Pneumonia")
        content.findings = "双肺散在斑片影。"
        content.diagnosis = "肺炎 pneumonia"
        content.tags.modalities = ["CR"]
        let published = try await teaching.create(content, author: "curator.li", institution: "MEDCOLLEGE", source: "form")
        _ = try await teaching.create(content, author: "curator.li", institution: "COUNTY-A", source: "form")
        let submitted = try await teaching.apply(.submit, to: published.id, actor: "curator.li", revision: published.revision)
        let before = Date()
        _ = try await teaching.apply(.approve, to: published.id, actor: "curator.wang", revision: submitted.revision)

        let facts = try await store.facts()
        #expect(facts.consultations.map(\.site).sorted() == ["COUNTY-A", "COUNTY-A", "COUNTY-B"])
        #expect(Set(facts.consultations.map(\.priority)) == ["stat", "routine", "urgent"])
        #expect(facts.consultations.allSatisfy { $0.deadline > $0.received })
        #expect(signed.status == .final)
        #expect(facts.consultations.compactMap(\.final) == [signedAt], "only the signed request has a final time, the signature's")
        #expect(facts.consultations.first { $0.final != nil }?.priority == "stat")
        #expect(facts.cases.count == 2)
        let first = try #require(facts.cases.first { $0.institution == "MEDCOLLEGE" })
        let publishedAt = try #require(first.published, "the first publication time is recorded")
        #expect(abs(publishedAt.timeIntervalSince(before)) < 5)
        #expect(first.modality == "CR")
        #expect(facts.cases.first { $0.institution == "COUNTY-A" }?.published == nil)

        // A retire and a re-publish keep the first publication time.
        let current = try await teaching.get(published.id)
        let retired = try await teaching.apply(.retire, to: published.id, actor: "curator.wang", revision: current.revision)
        #expect(try await store.facts().cases.first { $0.institution == "MEDCOLLEGE" }?.retired == true)
        _ = retired
        #expect(try await store.facts().cases.first { $0.institution == "MEDCOLLEGE" }?.published == publishedAt)
    }

    static func targets(_ store: ProgrammeStore) async throws {
        let consultations = ProgrammeTarget(
            year: 2026, institution: nil, indicator: IndicatorCatalog.consultations.key, target: 1000, warning: 800, owner: "office")
        try await store.setTarget(consultations, by: "admin")
        var countyA = consultations
        countyA.institution = "COUNTY-A"
        countyA.target = 200
        countyA.warning = 150
        try await store.setTarget(countyA, by: "admin")
        // Setting again replaces.
        countyA.target = 250
        try await store.setTarget(countyA, by: "admin")
        let targets = try await store.targets(year: 2026)
        #expect(targets == [consultations, countyA])
        #expect(try await store.targets(year: 2027).isEmpty)
        var wrong = consultations
        wrong.warning = 1200
        await #expect(throws: ProgrammeError.self) { try await store.setTarget(wrong, by: "admin") }
        wrong = consultations
        wrong.indicator = "no.such.indicator"
        await #expect(throws: ProgrammeError.unknownIndicator("no.such.indicator")) { try await store.setTarget(wrong, by: "admin") }
        try await store.removeTarget(year: 2026, institution: "COUNTY-A", indicator: consultations.indicator)
        #expect(try await store.targets(year: 2026) == [consultations])
    }

    static func namedIndicators(_ store: ProgrammeStore) async throws {
        let awards = NamedIndicator(
            definition: IndicatorDefinition(
                key: "awards", unit: "count", direction: .higherIsBetter, accumulation: .cumulative, derived: false),
            nameEnglish: "Teaching awards", nameChinese: "教学奖励")
        try await store.addIndicator(awards, by: "admin")
        await #expect(throws: ProgrammeError.conflict("indicator awards")) { try await store.addIndicator(awards, by: "admin") }
        var clash = awards
        clash.definition.key = IndicatorCatalog.consultations.key
        await #expect(throws: ProgrammeError.self) { try await store.addIndicator(clash, by: "admin") }
        #expect(try await store.indicators().map(\.key) == IndicatorCatalog.all.map(\.key) + ["awards"])

        let june = ProgrammePeriod(year: 2026, month: 6).interval.start.addingTimeInterval(86_400 * 3)
        try await store.recordFigure(
            indicator: "awards", institution: "MEDCOLLEGE", date: june, value: 2, evidence: "Provincial prize, doc 12", by: "admin")
        try await store.recordFigure(
            indicator: "awards", institution: "COUNTY-A", date: june, value: 1.5, evidence: "City prize", by: "admin")
        await #expect(throws: ProgrammeError.self) {
            try await store.recordFigure(indicator: "awards", institution: "MEDCOLLEGE", date: june, value: 1, evidence: "  ", by: "admin")
        }
        await #expect(throws: ProgrammeError.self) {
            try await store.recordFigure(
                indicator: IndicatorCatalog.consultations.key, institution: "MEDCOLLEGE", date: june, value: 5, evidence: "typed",
                by: "admin")
        }
        let figures = try await store.figures(year: 2026)
        #expect(figures.map(\.value) == [2, 1.5] && figures.allSatisfy { $0.enteredBy == "admin" })
        #expect(try await store.figures(year: 2025).isEmpty)
        let facts = try await store.facts()
        #expect(IndicatorComputation.value("awards", facts: facts, period: ProgrammePeriod(year: 2026), now: june) == 3.5)
        #expect(
            IndicatorComputation.value("awards", facts: facts, period: ProgrammePeriod(year: 2026, institution: "COUNTY-A"), now: june)
                == 1.5)
        #expect(IndicatorComputation.value("awards", facts: facts, period: ProgrammePeriod(year: 2026, month: 7), now: june) == nil)
    }

    static func actions(_ store: ProgrammeStore) async throws {
        let due = Date(timeIntervalSince1970: 1_790_000_000)
        let action = try await store.openAction(
            year: 2026, institution: "COUNTY-B", indicator: IndicatorCatalog.consultations.key, description: "Visit the county hospital",
            owner: "office", due: due, by: "admin")
        #expect(action.state == .open && action.institution == "COUNTY-B" && action.due == due && action.openedBy == "admin")
        await #expect(throws: ProgrammeError.self) {
            try await store.openAction(
                year: 2026, institution: nil, indicator: "nothing", description: "x", owner: "o", due: due, by: "admin")
        }
        await #expect(throws: ProgrammeError.self) { try await store.closeAction(action.id, note: "", by: "office") }
        let closed = try await store.closeAction(action.id, note: "Two visits; requests doubled", by: "office")
        #expect(closed.state == .closed && closed.closingNote == "Two visits; requests doubled" && closed.closedBy == "office")
        await #expect(throws: ProgrammeError.self) { try await store.closeAction(action.id, note: "again", by: "office") }
        await #expect(throws: ProgrammeError.notFound("action 999")) { try await store.action(999) }
        #expect(try await store.actions(year: 2026).map(\.id) == [action.id])
    }
}

extension ProgrammeStoreSuite {
    static func education(_ store: ProgrammeStore) async throws {
        let course = try await store.createCourse(
            titleChinese: "胸部影像入门", titleEnglish: "Chest imaging basics", summary: "Three cases", creditHours: 2.5, cases: [11, 12],
            examID: nil, published: true, by: "office")
        let draft = try await store.createCourse(
            titleChinese: "草稿", titleEnglish: "Draft", summary: "", creditHours: 1, cases: [11], examID: nil, published: false, by: "office"
        )
        await #expect(throws: ProgrammeError.self) {
            try await store.createCourse(
                titleChinese: "", titleEnglish: "x", summary: "", creditHours: 1, cases: [1], examID: nil, published: true, by: "office")
        }
        #expect(try await store.courses(publishedOnly: true).map(\.id) == [course.id])
        #expect(try await store.courses(publishedOnly: false).map(\.id) == [course.id, draft.id])
        await #expect(throws: ProgrammeError.notFound("course \(draft.id)")) {
            try await store.enrol(course: draft.id, person: "li", institution: "COUNTY-A", by: "li")
        }
        await #expect(throws: ProgrammeError.self) {
            try await store.markStudied(course: course.id, person: "li", personName: "李明", caseID: 11, examPassed: false)
        }
        let enrolled = try await store.enrol(course: course.id, person: "li", institution: "COUNTY-A", by: "li")
        #expect(try await store.enrol(course: course.id, person: "li", institution: "COUNTY-A", by: "office") == enrolled)
        await #expect(throws: ProgrammeError.self) {
            try await store.markStudied(course: course.id, person: "li", personName: "李明", caseID: 99, examPassed: false)
        }
        var progress = try await store.markStudied(course: course.id, person: "li", personName: "李明", caseID: 12, examPassed: false)
        progress = try await store.markStudied(course: course.id, person: "li", personName: "李明", caseID: 12, examPassed: false)
        #expect(progress.studied == [12] && progress.completedAt == nil && progress.certificate == nil)
        let before = try await store.facts().training.count
        progress = try await store.markStudied(course: course.id, person: "li", personName: "李明", caseID: 11, examPassed: false)
        let code = try #require(progress.certificate)
        #expect(progress.completedAt != nil)
        // Studying again changes nothing: one completion, one certificate.
        let again = try await store.markStudied(course: course.id, person: "li", personName: "李明", caseID: 11, examPassed: false)
        #expect(again.certificate == code)
        let facts = try await store.facts()
        #expect(facts.training.count == before + 1)
        #expect(facts.training.last?.institution == "COUNTY-A" && facts.training.last?.kind == "course")
        let certificate = try #require(try await store.certificate(code.lowercased()))
        #expect(certificate.valid && certificate.personName == "李明" && certificate.creditHours == 2.5)
        #expect(certificate.courseTitleChinese == "胸部影像入门")
        #expect(try await store.certificate("2222-2222-2222") == nil)
        await #expect(throws: ProgrammeError.self) { try await store.revoke(code, reason: " ", by: "office") }
        let revoked = try await store.revoke(code, reason: "issued in error", by: "office")
        #expect(!revoked.valid && revoked.revokedBy == "office" && revoked.revocationReason == "issued in error")
        await #expect(throws: ProgrammeError.self) { try await store.revoke(code, reason: "again", by: "office") }
        #expect(try await store.enrolments(course: course.id).map(\.person) == ["li"])
        #expect(try await store.enrolments(person: "li").map(\.course) == [course.id])
    }
}

/// The year of a date in the alliance's time zone.
enum ProgrammeRoutesYear {
    static func current(_ date: Date) -> Int {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 8 * 3600) ?? .gmt
        return calendar.component(.year, from: date)
    }
}
