import Foundation
import Platform
import Testing

@testable import Training

/// The assignment actions' table of who may do what, written out cell by cell.
enum AssignmentAccessTable {
    static let actions: [TrainingAction] = [.setAssignments, .submitAssignment, .readSubmission, .evaluateAssignment, .readAssignmentScore]
    static let roles: [Set<Role>] = [[.curator], [.admin], [.student], [.supervisor], [.reader], []]
    /// The columns: (relation to the unit, scores released).
    static let columns: [(SupervisionRelation, Bool)] = [
        ([], false), (.member, false), (.peerReviewer, false), (.practiceSupervisor, false), ([.member, .peerReviewer], false),
        (.member, true), ([], true),
    ]
    /// Per action, per role (in `roles`' order), one character per column: Y allowed, . refused.
    static let table: [TrainingAction: [String]] = [
        .setAssignments: ["YYYYYYY", "YYYYYYY", ".......", ".......", ".......", "......."],
        .submitAssignment: [".......", ".......", ".Y..YY.", ".......", ".......", "......."],
        .readSubmission: ["YYYYYYY", "YYYYYYY", ".YY.YY.", "...Y...", ".......", "......."],
        .evaluateAssignment: ["YYYYYYY", "YYYYYYY", "..Y....", "...Y...", ".......", "......."],
        .readAssignmentScore: ["YYYYYYY", "YYYYYYY", ".....Y.", ".......", ".......", "......."],
    ]
}

/// Assignments on any back end (run by ``TrainingStoreTests`` on SQLite and PostgreSQL). Expected scores are worked out
/// by hand in the comments.
enum AssignmentSuite {
    static func run(_ store: TrainingStore) async throws {
        let draft = AssignmentTests.draft
        var invalid = draft
        invalid.weights = EvaluatorWeights(teacher: 50, supervisor: 30, peer: 30)
        await #expect(throws: TrainingError.self) { try await store.createAssignment(invalid, by: "teacher") }
        let a = try await store.createAssignment(draft, by: "teacher")
        #expect(a.draft.units.map(\.number) == [1, 2])
        #expect(try await store.projectAssignment(a.id) == a)
        #expect(try await store.projectAssignments().contains { $0.id == a.id })

        // Only a member submits; nobody evaluates work not yet submitted.
        await #expect(throws: TrainingError.notAllowed("carol is not in Group A")) {
            try await store.submitAssignment(a.id, unit: 1, text: "protocol", by: "carol")
        }
        await #expect(throws: TrainingError.self) {
            try await store.evaluateAssignment(
                a.id, unit: 1, evaluator: "t1", kind: .teacher, marks: AssignmentTests.marks(8, 4, 4), comment: "")
        }
        _ = try await store.submitAssignment(a.id, unit: 1, text: "first draft", by: "alice")
        let saved = try await store.submitAssignment(
            a.id, unit: 1, text: " CTPA: 100 kVp, bolus tracking at the pulmonary trunk ", by: "bob")
        #expect(saved.text == "CTPA: 100 kVp, bolus tracking at the pulmonary trunk" && saved.submittedBy == "bob")
        _ = try await store.submitAssignment(a.id, unit: 2, text: "our protocol", by: "carol")

        // A member never evaluates their own group; marks stay within the rubric.
        await #expect(throws: TrainingError.self) {
            try await store.evaluateAssignment(
                a.id, unit: 1, evaluator: "alice", kind: .peer, marks: AssignmentTests.marks(1, 1, 1), comment: "")
        }
        await #expect(throws: TrainingError.invalid("criterion dose is marked 0 to 5.0")) {
            try await store.evaluateAssignment(
                a.id, unit: 1, evaluator: "t1", kind: .teacher, marks: AssignmentTests.marks(8, 6, 4), comment: "")
        }
        // Unit 1: teachers 16 and 14 (mean 15), supervisor 17, peers 12 and 20 (mean 16) — as in `weightedScore`.
        for (who, kind, m) in [
            ("t1", EvaluatorKind.teacher, (8.0, 1.0, 1.0)), ("t1", .teacher, (8, 4, 4)), ("t2", .teacher, (6, 3, 5)),
            ("sup", .supervisor, (9, 5, 3)), ("carol", .peer, (7, 2, 3)), ("dan", .peer, (10, 5, 5)),
        ] {
            _ = try await store.evaluateAssignment(
                a.id, unit: 1, evaluator: who, kind: kind, marks: AssignmentTests.marks(m.0, m.1, m.2), comment: "")
        }
        // Unit 2: teacher 10, peer 6, no supervisor yet.
        _ = try await store.evaluateAssignment(
            a.id, unit: 2, evaluator: "t1", kind: .teacher, marks: AssignmentTests.marks(5, 2, 3), comment: "ok")
        _ = try await store.evaluateAssignment(
            a.id, unit: 2, evaluator: "alice", kind: .peer, marks: AssignmentTests.marks(2, 2, 2), comment: "")
        #expect(try await store.evaluations(a.id).filter { $0.unit == 1 }.count == 5)

        // Evaluated work no longer changes.
        await #expect(throws: TrainingError.self) { try await store.submitAssignment(a.id, unit: 1, text: "late change", by: "alice") }
        let scores = try await store.assignmentScores(a.id)
        #expect(abs((scores[0].final ?? 0) - 15.8) < 1e-9)
        #expect(abs((scores[1].final ?? 0) - 620.0 / 70.0) < 1e-9)
        #expect(scores[1].pending == [.supervisor])

        let released = try await store.releaseAssignment(a.id)
        #expect(released.released)
        await #expect(throws: TrainingError.self) { try await store.releaseAssignment(a.id) }
        await #expect(throws: TrainingError.self) {
            try await store.evaluateAssignment(
                a.id, unit: 2, evaluator: "sup", kind: .supervisor, marks: AssignmentTests.marks(1, 1, 1), comment: "")
        }
        #expect(try await store.assignmentSubmissions(student: "dan").map(\.1.unit) == [2])
        // Dan's group submitted an assignment built on case 3: the logbook counts it once, as assigned.
        let logged = try await store.logbookEntries(student: "dan").filter { $0.kind == .assigned }
        #expect(logged.map(\.caseID) == [3] && logged.map(\.source) == [a.id])
    }
}

@Suite("Project-based assignments")
struct AssignmentTests {
    static let rubric = [
        RubricCriterion(id: "protocol", text: "Scan protocol", points: 10), RubricCriterion(id: "dose", text: "Dose", points: 5),
        RubricCriterion(id: "report", text: "Report", points: 5),
    ]
    static let draft = AssignmentDraft(
        title: " CT pulmonary angiography for a suspected pulmonary embolism ", description: "Protocol and perform a chest CT.",
        caseIDs: [3], materials: [AssignmentMaterial(title: "Guideline", link: "https://example.org/ctpa")], rubric: rubric,
        mode: .group,
        units: [
            AssignmentUnit(number: 9, name: "Group A", members: ["alice", "bob"], peers: ["carol", "dan"]),
            AssignmentUnit(number: 9, name: "Group B", members: ["carol", "dan"], peers: ["alice"]),
        ], weights: EvaluatorWeights(teacher: 50, supervisor: 30, peer: 20), due: "2026-12-20")

    static func marks(_ p: Double, _ d: Double, _ r: Double) -> [String: Double] { ["protocol": p, "dose": d, "report": r] }

    static func evaluation(_ unit: Int, _ who: String, _ kind: EvaluatorKind, _ m: [String: Double]) -> AssignmentEvaluation {
        AssignmentEvaluation(unit: unit, evaluator: who, kind: kind, marks: m, comment: "", at: Date(timeIntervalSince1970: 0))
    }

    @Test("The final score is the weighted mean of each evaluator kind's mean total, worked out by hand")
    func weightedScore() {
        // Teachers 8+4+4 = 16 and 6+3+5 = 14: mean 15. Supervisor 9+5+3 = 17. Peers 7+2+3 = 12 and 10+5+5 = 20: mean 16.
        // Final = 0.5 × 15 + 0.3 × 17 + 0.2 × 16 = 7.5 + 5.1 + 3.2 = 15.8 of 20, that is 79 %.
        let evaluations = [
            Self.evaluation(1, "t1", .teacher, Self.marks(8, 4, 4)), Self.evaluation(1, "t2", .teacher, Self.marks(6, 3, 5)),
            Self.evaluation(1, "sup", .supervisor, Self.marks(9, 5, 3)), Self.evaluation(1, "p1", .peer, Self.marks(7, 2, 3)),
            Self.evaluation(1, "p2", .peer, Self.marks(10, 5, 5)), Self.evaluation(2, "t1", .teacher, Self.marks(0, 0, 0)),
        ]
        let score = AssignmentScoring.score(unit: 1, rubric: Self.rubric, weights: Self.draft.weights, evaluations: evaluations)
        #expect(score.maximum == 20)
        #expect(score.kinds.map(\.mean) == [15, 17, 16])
        #expect(score.kinds.map(\.evaluations) == [2, 1, 2])
        #expect(abs((score.final ?? 0) - 15.8) < 1e-9)
        #expect(abs((score.percent ?? 0) - 79) < 1e-9)
        #expect(score.pending.isEmpty)
    }

    @Test("A kind that has not evaluated yet is left out and the others' weights carry the score; no evaluation, no score")
    func pendingKind() {
        // Teacher 5+2+3 = 10 (weight 50), peer 2+2+2 = 6 (weight 20): (50 × 10 + 20 × 6) / 70 = 620 / 70.
        let evaluations = [Self.evaluation(2, "t1", .teacher, Self.marks(5, 2, 3)), Self.evaluation(2, "p", .peer, Self.marks(2, 2, 2))]
        let score = AssignmentScoring.score(unit: 2, rubric: Self.rubric, weights: Self.draft.weights, evaluations: evaluations)
        #expect(abs((score.final ?? 0) - 620.0 / 70.0) < 1e-9)
        #expect(score.pending == [.supervisor])
        // A kind weighted 0 does not count even when it evaluated: teacher only, 10.
        let teacherOnly = AssignmentScoring.score(
            unit: 2, rubric: Self.rubric, weights: EvaluatorWeights(teacher: 100, supervisor: 0, peer: 0), evaluations: evaluations)
        #expect(teacherOnly.final == 10 && teacherOnly.pending.isEmpty)
        let none = AssignmentScoring.score(unit: 3, rubric: Self.rubric, weights: Self.draft.weights, evaluations: evaluations)
        #expect(none.final == nil && none.percent == nil && none.pending == [.teacher, .supervisor, .peer])
    }

    @Test("A draft is checked: weights add up to 100, nobody in two groups or evaluating their own, marks within the rubric")
    func checks() {
        let good = Self.draft.normalised()
        #expect(good.problem() == nil)
        #expect(good.title == "CT pulmonary angiography for a suspected pulmonary embolism")
        #expect(good.units.map(\.number) == [1, 2])
        var d = good
        d.weights = EvaluatorWeights(teacher: 60, supervisor: 30, peer: 20)
        #expect(d.problem() != nil)
        d = good
        d.units[1].peers = ["carol"]
        #expect(d.problem() == "carol cannot evaluate their own group's work")
        d = good
        d.units[1].members.append("alice")
        #expect(d.problem() == "alice is in two groups")
        d = good
        d.units[1].peers = []
        #expect(d.problem() != nil)
        d.weights = EvaluatorWeights(teacher: 70, supervisor: 30, peer: 0)
        #expect(d.problem() == nil)
        d = good
        d.mode = .individual
        #expect(d.problem() == "Group A: individual work has one student")
        d = good
        d.materials = [AssignmentMaterial(title: "x", link: "javascript:alert(1)")]
        #expect(d.problem() != nil)
        d = good
        d.due = "2026-13-01"
        #expect(d.problem() != nil)
        #expect(AssignmentScoring.problem(marks: Self.marks(10, 5, 5), rubric: Self.rubric) == nil)
        #expect(AssignmentScoring.problem(marks: ["protocol": 1, "dose": 1], rubric: Self.rubric) == "criterion report has no mark")
        #expect(AssignmentScoring.problem(marks: Self.marks(-1, 0, 0), rubric: Self.rubric) != nil)
        var extra = Self.marks(1, 1, 1)
        extra["style"] = 1
        #expect(AssignmentScoring.problem(marks: extra, rubric: Self.rubric) == "the rubric has no criterion style")
    }

    @Test("Who evaluates as what: teachers as teachers, a member's practice supervisor, assigned peers of other groups only")
    func evaluatorKinds() {
        let unit = AssignmentUnit(number: 1, name: "A", members: ["alice", "bob"], peers: ["carol"])
        func kind(_ p: String, teacher: Bool = false, supervisor: Bool = false, practice: Bool = false, student: Bool = false)
            -> EvaluatorKind?
        {
            AssignmentScoring.evaluatorKind(
                person: p, teacher: teacher, supervisor: supervisor, practiceSupervisorOfMember: practice, student: student, unit: unit)
        }
        #expect(kind("t", teacher: true) == .teacher)
        #expect(kind("s", supervisor: true, practice: true) == .supervisor)
        #expect(kind("s", supervisor: true) == nil)
        #expect(kind("carol", student: true) == .peer)
        #expect(kind("dan", student: true) == nil)
        #expect(kind("alice", student: true) == nil)
        #expect(
            AssignmentScoring.individualUnits(["a", "b", "c"]).map(\.peers) == [["b"], ["c"], ["a"]]
                && AssignmentScoring.individualUnits(["a"]).map(\.peers) == [[]])
    }

    @Test("Who may do what with assignments, cell by cell")
    func access() {
        #expect(Set(AssignmentAccessTable.table.keys) == Set(AssignmentAccessTable.actions))
        for action in AssignmentAccessTable.actions {
            for (r, roles) in AssignmentAccessTable.roles.enumerated() {
                let line = Array(AssignmentAccessTable.table[action]?[r] ?? "")
                #expect(line.count == AssignmentAccessTable.columns.count)
                for (c, (relation, released)) in AssignmentAccessTable.columns.enumerated() where c < line.count {
                    for owner in [false, true] {
                        #expect(
                            TrainingAccess.allows(roles, action, owner: owner, released: released, relation: relation) == (line[c] == "Y"),
                            "\(roles.map(\.rawValue).sorted()) \(action.rawValue) relation=\(relation.rawValue) released=\(released)")
                    }
                }
            }
        }
    }
}
