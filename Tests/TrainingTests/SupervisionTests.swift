import Foundation
import Platform
import Testing

@testable import Training

/// The supervision actions' table of who may do what, written out cell by cell.
enum SupervisionAccessTable {
    static let actions: [TrainingAction] = [
        .assignSupervisors, .logEntries, .readEntries, .countersign, .signOffCompetency, .defineCurriculum, .manageCohorts, .readCohorts,
        .inspect, .readInspection, .planMilestones, .submitMilestone, .scoreMilestone, .approveMilestone, .registerProjects,
    ]
    static let roles: [Set<Role>] = [[.curator], [.admin], [.student], [.supervisor], [.reader], [.site], [.healthManager], []]
    /// The columns: (owner, relation).
    static let columns: [(Bool, SupervisionRelation)] = [
        (false, []), (true, []), (false, .academicSupervisor), (false, .practiceSupervisor), (false, .external), (false, .published),
        (false, .inspectedParty), (false, [.published, .inspectedParty]), (false, .reviewer),
    ]
    /// Per action, per role (in `roles`' order), one character per column: Y allowed, . refused.
    static let table: [TrainingAction: [String]] = [
        .assignSupervisors: ["YYYYYYYYY", "YYYYYYYYY", ".........", ".........", ".........", ".........", ".........", "........."],
        .defineCurriculum: ["YYYYYYYYY", "YYYYYYYYY", ".........", ".........", ".........", ".........", ".........", "........."],
        .manageCohorts: ["YYYYYYYYY", "YYYYYYYYY", ".........", ".........", ".........", ".........", ".........", "........."],
        .logEntries: [".........", ".........", ".Y.......", ".........", ".........", ".........", ".........", "........."],
        .readEntries: ["YYYYYYYYY", "YYYYYYYYY", ".Y.......", "..YY.....", ".........", ".........", ".........", "........."],
        .countersign: [".........", ".........", ".........", "...Y.....", ".........", ".........", ".........", "........."],
        .signOffCompetency: [".........", ".........", ".........", "..YY.....", ".........", ".........", ".........", "........."],
        .readCohorts: ["YYYYYYYYY", "YYYYYYYYY", ".........", "YYYYYYYYY", ".........", ".........", ".........", "........."],
        .inspect: [".........", "YYYYYYYYY", ".........", "....Y....", ".........", ".........", ".........", "........."],
        .readInspection: [".......Y.", "YYYYYYYYY", ".......Y.", "....Y..Y.", ".......Y.", ".......Y.", ".......Y.", ".......Y."],
        .planMilestones: ["YYYYYYYYY", "YYYYYYYYY", ".........", "..Y......", ".........", ".........", ".........", "........."],
        .submitMilestone: [".........", ".........", ".Y.......", ".........", ".........", ".........", ".........", "........."],
        .scoreMilestone: ["........Y", "........Y", ".........", "........Y", ".........", ".........", ".........", "........."],
        .approveMilestone: [".........", ".........", ".........", "..YY.....", ".........", ".........", ".........", "........."],
        .registerProjects: ["YYYYYYYYY", "YYYYYYYYY", ".........", "YYYYYYYYY", ".........", ".........", ".........", "........."],
    ]

    static let cells: [(Set<Role>, TrainingAction, Bool, SupervisionRelation, Bool)] = {
        var out: [(Set<Role>, TrainingAction, Bool, SupervisionRelation, Bool)] = []
        for action in actions {
            for (r, roles) in Self.roles.enumerated() {
                let line = Array(table[action]?[r] ?? "")
                for (c, (owner, relation)) in columns.enumerated() { out.append((roles, action, owner, relation, line[c] == "Y")) }
            }
        }
        return out
    }()
}

@Suite("Supervision logic")
struct SupervisionTests {
    @Test("Who may do what in supervision, cell by cell", arguments: 0..<SupervisionAccessTable.cells.count)
    func access(cell: Int) {
        let (roles, action, owner, relation, expected) = SupervisionAccessTable.cells[cell]
        for released in [false, true] {
            #expect(
                TrainingAccess.allows(roles, action, owner: owner, released: released, relation: relation) == expected,
                "\(roles.map(\.rawValue).sorted()) \(action.rawValue) owner=\(owner) relation=\(relation.rawValue)")
        }
    }

    @Test("The table covers every supervision action and every role")
    func tableComplete() {
        #expect(Set(SupervisionAccessTable.table.keys) == Set(SupervisionAccessTable.actions))
        #expect(
            SupervisionAccessTable.table.values.allSatisfy {
                $0.count == SupervisionAccessTable.roles.count && $0.allSatisfy { $0.count == 9 }
            })
        #expect(SupervisionAccessTable.cells.count == 15 * 8 * 9)
    }

    @Test("Calendar days are checked: real days only, yyyy-MM-dd")
    func days() {
        for good in ["2026-09-01", "2024-02-29", "2026-12-31"] { #expect(CalendarDay.valid(good), "\(good)") }
        for bad in ["2026-9-1", "2025-02-29", "2026-13-01", "2026-04-31", "", "2026/09/01", "20260901xx", "0026-09-01"] {
            #expect(!CalendarDay.valid(bad), "\(bad)")
        }
    }

    @Test("A placement needs its partner, department and dates in order; a procedure its modality, region, part and description")
    func submissions() {
        let placement = LogbookSubmission(kind: .placement, partner: "H", department: "CT", date: "2026-09-01", endDate: "2026-10-31")
        #expect(placement.problem() == nil)
        var backwards = placement
        backwards.endDate = "2026-08-31"
        #expect(backwards.problem() == "a placement ends on or after its start")
        var nameless = placement
        nameless.partner = "  "
        #expect(nameless.problem() == "a placement names its partner hospital")
        let procedure = LogbookSubmission(
            kind: .procedure, date: "2026-09-02", modality: "CT", bodyRegion: "chest", role: .performed, description: "plain chest CT")
        #expect(procedure.problem() == nil)
        var roleless = procedure
        roleless.role = nil
        #expect(roleless.problem() == "a procedure is observed or performed")
        var undated = procedure
        undated.date = "2026-02-30"
        #expect(undated.problem() == "the date is not a day (yyyy-MM-dd)")
    }

    static func entry(
        _ id: Int64, _ trainee: String, _ kind: LogbookEntryKind, _ state: CountersignState, modality: String? = nil,
        region: String? = nil, partner: String? = nil
    ) -> LogbookEntry {
        LogbookEntry(
            id: id, trainee: trainee,
            submission: LogbookSubmission(
                kind: kind, partner: partner, department: "d", date: "2026-09-01", endDate: "2026-09-30", modality: modality,
                bodyRegion: region,
                role: .observed, description: "x"), state: state, reviewer: nil, reviewedAt: nil, comment: "",
            loggedAt: Date(timeIntervalSince1970: 0))
    }

    @Test("Progress counts countersigned procedures only, modality in any case, region trimmed and in any case")
    func progress() {
        let entries = [
            Self.entry(1, "a", .procedure, .countersigned, modality: "CT", region: "Chest"),
            Self.entry(2, "a", .procedure, .countersigned, modality: "ct", region: " chest "),
            Self.entry(3, "a", .procedure, .pending, modality: "CT", region: "chest"),
            Self.entry(4, "a", .procedure, .returned, modality: "CT", region: "chest"),
            Self.entry(5, "a", .procedure, .countersigned, modality: "MR", region: "head"),
            Self.entry(6, "a", .placement, .countersigned, partner: "H"),
        ]
        let targets = [
            LogbookTarget(dimension: .modality, value: "CT", count: 2), LogbookTarget(dimension: .modality, value: "DR", count: 5),
            LogbookTarget(dimension: .region, value: "chest", count: 3),
        ]
        // By hand: CT → entries 1, 2 (3 pending, 4 returned) = 2, met; DR → 0; chest → 1, 2 = 2 of 3.
        let progress = LogbookProgress.against(targets, entries: entries)
        #expect(progress.map(\.done) == [2, 0, 2])
        #expect(progress.map(\.met) == [true, false, false])
        #expect(LogbookProgress.countersigned(entries, .procedure) == 3)
        #expect(LogbookProgress.countersigned(entries, .placement) == 1)
    }

    @Test("Partner activity: inspections, trainees with a countersigned placement there, and curators of the partner")
    func partners() {
        let institutions = [
            Institution(id: 1, code: "COLLEGE", name: "c", kind: .college),
            Institution(id: 2, code: "H", name: "h", kind: .affiliatedHospital),
            Institution(id: 3, code: "R", name: "r", kind: .researchInstitute),
        ]
        func person(_ id: Int64, _ institution: Int64, _ roles: Set<Role>, disabled: Bool = false) -> Person {
            Person(
                id: id, username: "p\(id)", displayName: "", institutionID: institution, roles: roles, language: .english,
                disabled: disabled)
        }
        let people = [
            person(1, 1, [.curator]), person(2, 2, [.curator]), person(3, 2, [.curator, .reader]), person(4, 2, [.supervisor]),
            person(5, 2, [.curator], disabled: true), person(6, 3, [.reader]),
        ]
        let entries = [
            Self.entry(1, "a", .placement, .countersigned, partner: "H"), Self.entry(2, "a", .placement, .countersigned, partner: "H"),
            Self.entry(3, "b", .placement, .pending, partner: "H"), Self.entry(4, "c", .placement, .countersigned, partner: "R"),
        ]
        let inspection = Inspection(
            id: 1, inspector: "x", institution: "H", subjectKind: .placement, subject: "s", party: "", unannounced: false,
            date: "2026-09-01",
            findings: "", actions: [], closedAt: nil, closingNote: "", publishedAt: nil, createdAt: Date(timeIntervalSince1970: 0))
        let rows = PartnerActivity.count(
            institutions: institutions, people: people, entries: entries, inspections: [inspection, inspection])
        // The college is not its own partner; H: 2 inspections, trainee a only (b's is pending), curators 2 and 3
        // (5 is disabled); R: trainee c, no curator.
        #expect(rows.map(\.institution) == ["H", "R"])
        #expect(rows.map(\.inspections) == [2, 0])
        #expect(rows.map(\.traineesHosted) == [1, 1])
        #expect(rows.map(\.partTimeTeachers) == [2, 0])
    }

    @Test("The cohort gradebook has each member's best attempt per exam in percent, and the mean")
    func gradebook() {
        func record(_ exam: Int64, _ student: String, _ score: Double, _ maximum: Double) -> TrainingStore.IndicatorRecord {
            TrainingStore.IndicatorRecord(
                exam: exam, student: student, number: 1, submitted: Date(timeIntervalSince1970: 0), score: score, maximum: maximum,
                complete: true)
        }
        let sheet = CohortReport.gradebook(
            members: ["a", "b", "c"], exams: [.init(id: 1, title: "One"), .init(id: 2, title: "Two"), .init(id: 3, title: "Unsat")],
            records: [record(1, "a", 1, 3), record(1, "a", 2, 3), record(2, "a", 5, 5), record(1, "b", 0, 3)])
        #expect(sheet.header == ["trainee", "1 One", "2 Two", "mean %"])
        // a: best of 1/3 and 2/3 = 66.67 %; 100 %; mean (66.666… + 100) / 2 = 83.33. b: 0 %, —, 0. c: nothing.
        #expect(sheet.rows[0] == [.text("a"), .number(66.67), .number(100), .number(83.33)])
        #expect(sheet.rows[1] == [.text("b"), .number(0), .empty, .number(0)])
        #expect(sheet.rows[2] == [.text("c"), .empty, .empty, .empty])
    }
}

/// Supervision's store behaviour on any back end (run by ``TrainingStoreTests`` beside ``TrainingSuite``).
enum SupervisionSuite {
    static func run(_ store: TrainingStore) async throws {
        let t0 = Date(timeIntervalSince1970: 1_790_000_000)
        // Supervisors.
        await #expect(throws: TrainingError.invalid("a practice supervisor comes from a partner institution")) {
            _ = try await store.assignSupervisors(
                SupervisorAssignment(trainee: "s-a", academicSupervisor: "acad", practiceSupervisor: "prac", partner: nil), by: "t")
        }
        let assigned = try await store.assignSupervisors(
            SupervisorAssignment(trainee: "s-a", academicSupervisor: "acad", practiceSupervisor: "prac", partner: "HOSP"), by: "t", at: t0)
        #expect(assigned.practiceSupervisor == "prac" && assigned.partner == "HOSP" && assigned.updatedBy == "t")
        _ = try await store.assignSupervisors(
            SupervisorAssignment(trainee: "s-b", academicSupervisor: "other", practiceSupervisor: "prac", partner: "HOSP"), by: "t")
        #expect(try await store.assignments(supervisor: "acad").map(\.trainee) == ["s-a"])
        #expect(try await store.assignments(supervisor: "prac").map(\.trainee) == ["s-a", "s-b"])
        #expect(try await store.supervisors(of: "nobody").practiceSupervisor == nil)

        // Entries: a placement, then procedures in it.
        let placement = try await store.logEntry(
            LogbookSubmission(
                kind: .placement, partner: " HOSP ", department: "CT", date: "2026-09-01", endDate: "2026-10-31", modality: "XX"),
            trainee: "s-a", at: t0)
        #expect(placement.state == .pending && placement.submission.partner == "HOSP" && placement.submission.modality == nil)
        let ct = try await store.logEntry(
            LogbookSubmission(
                kind: .procedure, date: "2026-09-02", modality: "ct", bodyRegion: "chest", role: .performed, description: "plain CT",
                placement: placement.id), trainee: "s-a", at: t0)
        #expect(ct.submission.modality == "CT" && ct.submission.partner == "HOSP")
        let dr = try await store.logEntry(
            LogbookSubmission(
                kind: .procedure, date: "2026-09-03", modality: "DR", bodyRegion: "chest", role: .observed, description: "PA"),
            trainee: "s-a", at: t0)
        await #expect(throws: TrainingError.invalid("placement \(placement.id) is not one of s-b's placements")) {
            _ = try await store.logEntry(
                LogbookSubmission(
                    kind: .procedure, date: "2026-09-02", modality: "CT", bodyRegion: "chest", role: .observed, description: "x",
                    placement: placement.id), trainee: "s-b")
        }
        await #expect(throws: TrainingError.invalid("a procedure names its modality")) {
            _ = try await store.logEntry(
                LogbookSubmission(kind: .procedure, date: "2026-09-02", bodyRegion: "chest", role: .observed, description: "x"),
                trainee: "s-a")
        }

        // Countersigning: only the named practice supervisor; a return needs a comment; decided once.
        await #expect(throws: TrainingError.notAllowed("only s-a's practice supervisor countersigns their logbook")) {
            _ = try await store.review(entry: ct.id, by: "acad", accept: true, comment: "")
        }
        await #expect(throws: TrainingError.invalid("a returned entry needs a comment")) {
            _ = try await store.review(entry: dr.id, by: "prac", accept: false, comment: " ")
        }
        let signed = try await store.review(entry: ct.id, by: "prac", accept: true, comment: "good", at: t0)
        #expect(signed.state == .countersigned && signed.reviewer == "prac" && signed.comment == "good")
        _ = try await store.review(entry: placement.id, by: "prac", accept: true, comment: "")
        let returned = try await store.review(entry: dr.id, by: "prac", accept: false, comment: "which projection?")
        #expect(returned.state == .returned)
        await #expect(throws: TrainingError.closed("logbook entry \(ct.id) is already countersigned")) {
            _ = try await store.review(entry: ct.id, by: "prac", accept: false, comment: "changed my mind")
        }
        #expect(try await store.entries(trainee: "s-a").map(\.id) == [placement.id, ct.id, dr.id])
        #expect(try await store.entries(trainee: "s-b").isEmpty)

        // Targets and progress through the cohort's programme.
        try await store.setTargets(
            programme: "P",
            [LogbookTarget(dimension: .modality, value: "CT", count: 2), LogbookTarget(dimension: .region, value: "Chest", count: 1)])
        await #expect(throws: TrainingError.invalid("two targets for modality ct")) {
            try await store.setTargets(
                programme: "P",
                [LogbookTarget(dimension: .modality, value: "CT", count: 2), LogbookTarget(dimension: .modality, value: "ct", count: 1)])
        }
        #expect(try await store.targets(programme: "P").count == 2)
        #expect(try await store.progress(trainee: "s-a").programme == "")
        let cohort = try await store.createCohort(name: "Class 1", programme: "P", by: "t", at: t0)
        _ = try await store.enrol("s-a", cohort: cohort.id, by: "t")
        _ = try await store.enrol("s-a", cohort: cohort.id, by: "t")
        #expect(try await store.enrol("s-b", cohort: cohort.id, by: "t").members == ["s-a", "s-b"])
        let progress = try await store.progress(trainee: "s-a")
        // By hand: CT counted once (the countersigned CT; the DR was returned); chest once (the same CT).
        #expect(progress.programme == "P")
        #expect(progress.progress.map(\.done) == [1, 1])
        #expect(progress.progress.map(\.met) == [false, true])
        #expect(try await store.withdraw("s-b", cohort: cohort.id).members == ["s-a"])
        #expect(try await store.cohorts().map(\.name) == ["Class 1"])
        await #expect(throws: TrainingError.notFound("cohort 999999")) { _ = try await store.enrol("s-a", cohort: 999_999, by: "t") }

        // Competencies.
        try await store.setCompetencies([
            Competency(id: "pos", name: "Positioning", levels: 4), Competency(id: "safe", name: "Safety", levels: 3),
        ])
        await #expect(throws: TrainingError.invalid("two competencies share the id pos")) {
            try await store.setCompetencies([Competency(id: "pos", name: "a", levels: 2), Competency(id: "pos", name: "b", levels: 2)])
        }
        #expect(try await store.competencies().map(\.id) == ["pos", "safe"])
        await #expect(throws: TrainingError.invalid("competency safe has levels 1 to 3")) {
            _ = try await store.signOff(trainee: "s-a", competency: "safe", level: 4, note: "", by: "prac")
        }
        await #expect(throws: TrainingError.notFound("competency nope")) {
            _ = try await store.signOff(trainee: "s-a", competency: "nope", level: 1, note: "", by: "prac")
        }
        _ = try await store.signOff(trainee: "s-a", competency: "pos", level: 1, note: "", by: "prac", at: t0)
        _ = try await store.signOff(trainee: "s-a", competency: "pos", level: 3, note: "alone", by: "acad", at: t0.addingTimeInterval(60))
        let standing = try await store.signOffs(trainee: "s-a")
        #expect(
            standing.count == 1 && standing["pos"]?.level == 3 && standing["pos"]?.signedBy == "acad" && standing["pos"]?.note == "alone")

        // Inspections.
        await #expect(throws: TrainingError.invalid("the inspection's date is not a day (yyyy-MM-dd)")) {
            _ = try await store.recordInspection(
                InspectionDraft(institution: "HOSP", subjectKind: .course, subject: "s", unannounced: false, date: "soon", findings: ""),
                by: "office")
        }
        let first = try await store.recordInspection(
            InspectionDraft(
                institution: "HOSP", subjectKind: .placement, subject: "CT rotation", party: "prac", unannounced: true, date: "2026-09-15",
                findings: "records complete"), by: "office", at: t0)
        #expect(first.unannounced && first.party == "prac" && !first.published && !first.closed)
        let withAction = try await store.addAction(inspection: first.id, action: "record the briefing", owner: "prac", due: "2026-10-15")
        #expect(withAction.actions.map(\.owner) == ["prac"] && withAction.actions.map(\.due) == ["2026-10-15"])
        let closed = try await store.closeInspection(first.id, note: "done", at: t0)
        let closedAgain = try await store.closeInspection(first.id, note: "again")
        #expect(closed.closed && closedAgain.closingNote == "done")
        await #expect(throws: TrainingError.closed("inspection \(first.id) is closed")) {
            _ = try await store.addAction(inspection: first.id, action: "late", owner: "x", due: "2026-10-15")
        }
        #expect(try await store.publishInspection(first.id).published)
        let second = try await store.recordInspection(
            InspectionDraft(institution: "R", subjectKind: .project, subject: "p", unannounced: false, date: "2026-10-01", findings: ""),
            by: "office")
        #expect(try await store.inspections().map(\.id) == [second.id, first.id])

        // Partner activity over what this suite stored.
        let rows = try await store.partnerActivity(
            institutions: [
                Institution(id: 1, code: "HOSP", name: "h", kind: .affiliatedHospital),
                Institution(id: 2, code: "R", name: "r", kind: .researchInstitute),
            ], people: [])
        #expect(rows.map(\.inspections) == [1, 1])
        #expect(rows.map(\.traineesHosted) == [1, 0])

        // A master's training plan: the mid-term waits for the proposal's approval by both named supervisors.
        _ = try await store.planMilestone(trainee: "s-a", stage: .proposal, due: "2026-11-01", reviewers: ["r1", "r2"])
        _ = try await store.planMilestone(trainee: "s-a", stage: .midterm, due: "2027-05-01", reviewers: ["r1"])
        #expect(try await store.milestones(trainee: "s-a").map(\.stage) == [.proposal, .midterm])
        await #expect(throws: TrainingError.closed("the proposal milestone is not approved yet")) {
            _ = try await store.submitMilestone(
                trainee: "s-a", stage: .midterm, documents: [MilestoneDocument(title: "report", reference: "")])
        }
        await #expect(throws: TrainingError.closed("the proposal milestone is planned")) {
            _ = try await store.scoreMilestone(trainee: "s-a", stage: .proposal, reviewer: "r1", score: 50, comment: "")
        }
        let submitted = try await store.submitMilestone(
            trainee: "s-a", stage: .proposal, documents: [MilestoneDocument(title: "开题报告 proposal", reference: "proposal.pdf")])
        #expect(submitted.status == .submitted && submitted.documents.count == 1)
        _ = try await store.scoreMilestone(trainee: "s-a", stage: .proposal, reviewer: "r1", score: 80, comment: "")
        _ = try await store.scoreMilestone(trainee: "s-a", stage: .proposal, reviewer: "r2", score: 90, comment: "clear")
        let rescored = try await store.scoreMilestone(trainee: "s-a", stage: .proposal, reviewer: "r1", score: 70, comment: "second look")
        // By hand: r1's 70 replaces their 80; (70 + 90) / 2 = 80.
        #expect(rescored.scores.count == 2 && rescored.meanScore == 80)
        await #expect(throws: TrainingError.notAllowed("r3 does not review this milestone")) {
            _ = try await store.scoreMilestone(trainee: "s-a", stage: .proposal, reviewer: "r3", score: 50, comment: "")
        }
        let named = ["acad", "prac"]
        await #expect(throws: TrainingError.notAllowed("only s-a's named supervisors approve their milestones")) {
            _ = try await store.decideMilestone(
                trainee: "s-a", stage: .proposal, supervisor: "r1", approve: true, comment: "", required: named)
        }
        let half = try await store.decideMilestone(
            trainee: "s-a", stage: .proposal, supervisor: "acad", approve: true, comment: "", required: named)
        #expect(half.status == .submitted && half.approvals == ["acad"])
        await #expect(throws: TrainingError.invalid("a returned milestone needs a comment")) {
            _ = try await store.decideMilestone(
                trainee: "s-a", stage: .proposal, supervisor: "prac", approve: false, comment: "", required: named)
        }
        let approved = try await store.decideMilestone(
            trainee: "s-a", stage: .proposal, supervisor: "prac", approve: true, comment: "go ahead", required: named)
        #expect(approved.status == .approved && approved.approvals == ["acad", "prac"])
        #expect(
            try await store.submitMilestone(trainee: "s-a", stage: .midterm, documents: [MilestoneDocument(title: "report", reference: "")])
                .status == .submitted)
        let sentBack = try await store.decideMilestone(
            trainee: "s-a", stage: .midterm, supervisor: "acad", approve: false, comment: "add the data", required: named)
        #expect(sentBack.status == .returned && sentBack.comment == "add the data")

        // The project register: a small project counts by its points as a large one does.
        await #expect(throws: TrainingError.invalid("a project's points are more than 0 and at most 1000")) {
            _ = try await store.registerProject(
                ProjectDraft(title: "x", points: 0, trainees: ["s-a"], supervisor: "acad", year: 2026), by: "t")
        }
        _ = try await store.registerProject(
            ProjectDraft(title: "Dose audit", points: 0.5, trainees: ["s-a", "s-b", "s-a"], supervisor: "acad", year: 2026), by: "t")
        _ = try await store.registerProject(
            ProjectDraft(title: "Protocol study", points: 5, trainees: ["s-a"], supervisor: "prac", year: 2026), by: "t")
        let totals = ProjectRegister.totals(try await store.projects())
        // By hand: s-a 0.5 + 5, s-b 0.5; acad 0.5, prac 5.
        #expect(totals.trainees == ["s-a": 5.5, "s-b": 0.5] && totals.supervisors == ["acad": 0.5, "prac": 5])
        #expect(try await store.projects(trainee: "s-b").map(\.title) == ["Dose audit"])
        #expect(try await store.projects(supervisor: "prac").map(\.title) == ["Protocol study"])
    }
}
