import Archive
import Foundation
import Platform

extension TrainingStore {
    // MARK: - Project-based assignments

    /// Saves a new assignment (its draft normalised: text trimmed, units numbered from 1).
    public func createAssignment(_ draft: AssignmentDraft, by teacher: String, at now: Date = Date()) async throws(TrainingError)
        -> ProjectAssignment
    {
        let draft = draft.normalised()
        if let problem = draft.problem() { throw .invalid(problem) }
        let rows = try await run(
            [
                SQLStep(
                    "INSERT INTO training_assignments (content, created_by, created_at) VALUES (?, ?, ?) RETURNING id",
                    [.text(try Self.json(draft)), .text(teacher), .integer(Self.milliseconds(now))], guarded: true)
            ], what: "the assignment")
        guard let id = rows.first?.first?.first?.integer else { throw .database("no id for a new assignment") }
        return try await projectAssignment(id)
    }

    public func projectAssignment(_ id: Int64) async throws(TrainingError) -> ProjectAssignment {
        guard
            let row = try await query(
                "SELECT id, content, created_by, created_at, released_at FROM training_assignments WHERE id = ?", [.integer(id)]
            ).first
        else { throw .notFound("assignment \(id)") }
        return try Self.projectAssignmentRow(row)
    }

    /// Every assignment, newest first.
    public func projectAssignments() async throws(TrainingError) -> [ProjectAssignment] {
        try await query("SELECT id, content, created_by, created_at, released_at FROM training_assignments ORDER BY id DESC", []).map {
            row throws(TrainingError) in try Self.projectAssignmentRow(row)
        }
    }

    /// A member submits the unit's work (replacing the unit's earlier submission) until someone evaluates it or the
    /// scores are released.
    public func submitAssignment(_ id: Int64, unit number: Int, text: String, by student: String, at now: Date = Date())
        async throws(TrainingError) -> AssignmentSubmission
    {
        let assignment = try await projectAssignment(id)
        guard let unit = assignment.unit(number) else { throw .notFound("group \(number) of assignment \(id)") }
        guard unit.members.contains(student) else { throw .notAllowed("\(student) is not in \(unit.name)") }
        let body = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !body.isEmpty, body.count <= 100_000 else { throw .invalid("a submission has a text (at most 100 000 characters)") }
        guard !assignment.released else { throw .closed("the scores of assignment \(id) are released") }
        if try await evaluations(id).contains(where: { $0.unit == number }) {
            throw .closed("\(unit.name)'s work is being evaluated; it cannot change")
        }
        // The checks above again, inside the transaction that writes: the assignment's row locked (PostgreSQL; SQLite
        // serialises writers) while still unreleased, and no evaluation of the unit, so that an evaluation or a release
        // that lands between the checks and the write cannot be followed by a changed submission.
        _ = try await run(
            [
                Self.lockUnreleased(id),
                SQLStep(
                    "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM training_assignment_evaluations WHERE assignment_id = ? AND unit = ?)",
                    [.integer(id), .integer(Int64(number))], guarded: true),
                SQLStep(
                    """
                    INSERT INTO training_assignment_submissions (assignment_id, unit, text, submitted_by, submitted_at)
                    VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (assignment_id, unit) DO UPDATE SET text = excluded.text, submitted_by = excluded.submitted_by,
                        submitted_at = excluded.submitted_at
                    """,
                    [.integer(id), .integer(Int64(number)), .text(body), .text(student), .integer(Self.milliseconds(now))]),
            ], what: "the submission (the scores were released or an evaluation began meanwhile)")
        guard let saved = try await submissions(id).first(where: { $0.unit == number }) else {
            throw .database("the submission of \(unit.name) was not saved")
        }
        return saved
    }

    /// The assignment's submissions, by unit.
    public func submissions(_ id: Int64) async throws(TrainingError) -> [AssignmentSubmission] {
        try await query(
            "SELECT unit, text, submitted_by, submitted_at FROM training_assignment_submissions WHERE assignment_id = ? ORDER BY unit",
            [.integer(id)]
        ).map {
            AssignmentSubmission(
                unit: Int($0[0].integer ?? 0), text: $0[1].text ?? "", submittedBy: $0[2].text ?? "",
                submittedAt: Self.date(milliseconds: $0[3].integer ?? 0))
        }
    }

    /// An evaluator marks a submitted unit's work per criterion of the rubric, as `kind` (the caller decided it with
    /// ``AssignmentScoring/evaluatorKind(person:teacher:supervisor:practiceSupervisorOfMember:student:unit:)``); their
    /// new marks replace their earlier ones. Closed once the scores are released.
    public func evaluateAssignment(
        _ id: Int64, unit number: Int, evaluator: String, kind: EvaluatorKind, marks: [String: Double], comment: String,
        at now: Date = Date()
    ) async throws(TrainingError) -> AssignmentEvaluation {
        let assignment = try await projectAssignment(id)
        guard let unit = assignment.unit(number) else { throw .notFound("group \(number) of assignment \(id)") }
        guard !unit.members.contains(evaluator) else { throw .notAllowed("nobody evaluates their own group's work") }
        if let problem = AssignmentScoring.problem(marks: marks, rubric: assignment.draft.rubric) { throw .invalid(problem) }
        guard comment.count <= 10_000 else { throw .invalid("the comment is too long") }
        guard !assignment.released else { throw .closed("the scores of assignment \(id) are released") }
        guard try await submissions(id).contains(where: { $0.unit == number }) else {
            throw .closed("\(unit.name) has not submitted yet")
        }
        _ = try await run(
            [
                Self.lockUnreleased(id),
                SQLStep(
                    "SELECT 1 FROM training_assignment_submissions WHERE assignment_id = ? AND unit = ?",
                    [.integer(id), .integer(Int64(number))], guarded: true),
                SQLStep(
                    """
                    INSERT INTO training_assignment_evaluations (assignment_id, unit, evaluator, kind, marks, comment, evaluated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (assignment_id, unit, evaluator) DO UPDATE SET kind = excluded.kind, marks = excluded.marks,
                        comment = excluded.comment, evaluated_at = excluded.evaluated_at
                    """,
                    [
                        .integer(id), .integer(Int64(number)), .text(evaluator), .text(kind.rawValue), .text(try Self.json(marks)),
                        .text(comment.trimmingCharacters(in: .whitespacesAndNewlines)), .integer(Self.milliseconds(now)),
                    ]),
            ], what: "the evaluation (the scores were released meanwhile)")
        guard let saved = try await evaluations(id).first(where: { $0.unit == number && $0.evaluator == evaluator }) else {
            throw .database("the evaluation of \(unit.name) was not saved")
        }
        return saved
    }

    /// The assignment's evaluations, by unit and evaluator.
    public func evaluations(_ id: Int64) async throws(TrainingError) -> [AssignmentEvaluation] {
        try await query(
            """
            SELECT unit, evaluator, kind, marks, comment, evaluated_at FROM training_assignment_evaluations WHERE assignment_id = ?
            ORDER BY unit, evaluator
            """, [.integer(id)]
        ).map { row throws(TrainingError) in
            AssignmentEvaluation(
                unit: Int(row[0].integer ?? 0), evaluator: row[1].text ?? "", kind: EvaluatorKind(rawValue: row[2].text ?? "") ?? .peer,
                marks: try Self.decode([String: Double].self, row[3].text ?? "{}"), comment: row[4].text ?? "",
                at: Self.date(milliseconds: row[5].integer ?? 0))
        }
    }

    /// Every unit's score.
    public func assignmentScores(_ id: Int64) async throws(TrainingError) -> [AssignmentScore] {
        let assignment = try await projectAssignment(id)
        let evaluations = try await evaluations(id)
        return assignment.draft.units.map {
            AssignmentScoring.score(
                unit: $0.number, rubric: assignment.draft.rubric, weights: assignment.draft.weights, evaluations: evaluations)
        }
    }

    /// The first step of a change to an assignment's work: locks its row (on PostgreSQL, until the transaction ends;
    /// SQLite serialises writers) and fails the transaction when the scores are released.
    static func lockUnreleased(_ id: Int64) -> SQLStep {
        SQLStep(
            "UPDATE training_assignments SET released_at = released_at WHERE id = ? AND released_at IS NULL RETURNING id",
            [.integer(id)], guarded: true)
    }

    /// Releases the scores to the students (evaluations and submissions close).
    public func releaseAssignment(_ id: Int64, at now: Date = Date()) async throws(TrainingError) -> ProjectAssignment {
        _ = try await run(
            [
                SQLStep(
                    "UPDATE training_assignments SET released_at = ? WHERE id = ? AND released_at IS NULL RETURNING id",
                    [.integer(Self.milliseconds(now)), .integer(id)], guarded: true)
            ], what: "assignment \(id) (already released?)")
        return try await projectAssignment(id)
    }

    /// Submissions a student's groups made, for the logbook: (assignment, its cases, submitted at).
    public func assignmentSubmissions(student: String) async throws(TrainingError) -> [(ProjectAssignment, AssignmentSubmission)] {
        var out: [(ProjectAssignment, AssignmentSubmission)] = []
        for a in try await projectAssignments() {
            guard let unit = a.unit(of: student) else { continue }
            if let s = try await submissions(a.id).first(where: { $0.unit == unit.number }) { out.append((a, s)) }
        }
        return out
    }

    static func projectAssignmentRow(_ row: [SQLValue]) throws(TrainingError) -> ProjectAssignment {
        ProjectAssignment(
            id: row[0].integer ?? 0, draft: try decode(AssignmentDraft.self, row[1].text ?? "{}"), createdBy: row[2].text ?? "",
            createdAt: date(milliseconds: row[3].integer ?? 0), releasedAt: row[4].integer.map(date(milliseconds:)))
    }
}
