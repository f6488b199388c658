import Archive
import Foundation
import Platform

extension TrainingStore {
    /// Sets a library case's key findings for practice (replacing any earlier list).
    public func setKeyFindings(case caseID: Int64, _ findings: [KeyFinding], by teacher: String, at now: Date = Date())
        async throws(TrainingError)
    {
        if let problem = Practice.problem(findings) { throw .invalid(problem) }
        let cleaned = findings.map { finding in
            KeyFinding(
                id: finding.id.trimmingCharacters(in: .whitespaces),
                terms: finding.terms.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty })
        }
        let seconds = Int64(now.timeIntervalSince1970)
        _ = try await run(
            [
                SQLStep("DELETE FROM training_key_findings WHERE case_id = ?", [.integer(caseID)]),
                SQLStep(
                    "INSERT INTO training_key_findings (case_id, findings, updated_by, updated_at) VALUES (?, ?, ?, ?)",
                    [.integer(caseID), .text(try Self.json(cleaned)), .text(teacher), .integer(seconds)]),
            ], what: "the key findings of case \(caseID)")
    }

    /// A case's key findings (empty when none are set).
    public func keyFindings(case caseID: Int64) async throws(TrainingError) -> [KeyFinding] {
        guard let row = try await query("SELECT findings FROM training_key_findings WHERE case_id = ?", [.integer(caseID)]).first else {
            return []
        }
        return try Self.decode([KeyFinding].self, row[0].text ?? "[]")
    }

    /// The cases that have key findings, with how many.
    public func practiceCases() async throws(TrainingError) -> [Int64: Int] {
        var out: [Int64: Int] = [:]
        for row in try await query("SELECT case_id, findings FROM training_key_findings", []) {
            out[row[0].integer ?? 0] = try Self.decode([KeyFinding].self, row[1].text ?? "[]").count
        }
        return out
    }

    /// Stores a student's practice report with its key-finding check against the case's findings as they stand now.
    public func submitPractice(
        case caseID: Int64, student: String, _ submission: PracticeSubmission, at now: Date = Date()
    ) async throws(TrainingError) -> PracticeAttempt {
        if let problem = submission.problem() { throw .invalid(problem) }
        let matches = Practice.evaluate(submission, findings: try await keyFindings(case: caseID))
        let rows = try await run(
            [
                SQLStep(
                    """
                    INSERT INTO training_practice (case_id, student, findings, impression, matches, submitted_at)
                    VALUES (?, ?, ?, ?, ?, ?) RETURNING id
                    """,
                    [
                        .integer(caseID), .text(student), .text(submission.findings), .text(submission.impression),
                        .text(try Self.json(matches)), .integer(Self.milliseconds(now)),
                    ], guarded: true)
            ], what: "the practice report")
        guard let id = rows.first?.first?.first?.integer else { throw .database("no id for a practice report") }
        return try await practice(id)
    }

    public func practice(_ id: Int64) async throws(TrainingError) -> PracticeAttempt {
        guard let row = try await query("SELECT \(Self.practiceColumns) FROM training_practice WHERE id = ?", [.integer(id)]).first else {
            throw .notFound("practice report \(id)")
        }
        return try Self.practiceRow(row)
    }

    /// Practice reports, newest first: a student's own, a case's, or all.
    public func practices(student: String? = nil, caseID: Int64? = nil, limit: Int = 200) async throws(TrainingError)
        -> [PracticeAttempt]
    {
        var clauses: [String] = []
        var bindings: [SQLValue] = []
        if let student {
            clauses.append("student = ?")
            bindings.append(.text(student))
        }
        if let caseID {
            clauses.append("case_id = ?")
            bindings.append(.integer(caseID))
        }
        let filter = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
        bindings.append(.integer(Int64(max(1, min(limit, 1000)))))
        return try await query(
            "SELECT \(Self.practiceColumns) FROM training_practice\(filter) ORDER BY id DESC LIMIT ?", bindings
        ).map { row throws(TrainingError) in try Self.practiceRow(row) }
    }

    /// A teacher's comment on a practice report (replacing an earlier one).
    public func commentPractice(_ id: Int64, _ text: String, by teacher: String, at now: Date = Date()) async throws(TrainingError)
        -> PracticeAttempt
    {
        let comment = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !comment.isEmpty else { throw .invalid("the comment is empty") }
        guard comment.count <= Practice.maximumCharacters else { throw .invalid("the comment is too long") }
        _ = try await practice(id)
        let rows = try await run(
            [
                SQLStep(
                    "UPDATE training_practice SET comment = ?, commented_by = ?, commented_at = ? WHERE id = ? RETURNING id",
                    [.text(comment), .text(teacher), .integer(Self.milliseconds(now)), .integer(id)], guarded: true)
            ], what: "practice report \(id)")
        guard rows.first?.first != nil else { throw .notFound("practice report \(id)") }
        return try await practice(id)
    }

    static let practiceColumns =
        "id, case_id, student, findings, impression, matches, submitted_at, comment, commented_by, commented_at"

    static func practiceRow(_ row: [SQLValue]) throws(TrainingError) -> PracticeAttempt {
        PracticeAttempt(
            id: row[0].integer ?? 0, caseID: row[1].integer ?? 0, student: row[2].text ?? "",
            submission: PracticeSubmission(findings: row[3].text ?? "", impression: row[4].text ?? ""),
            matches: try decode([FindingMatch].self, row[5].text ?? "[]"), submittedAt: date(milliseconds: row[6].integer ?? 0),
            comment: row[7].text ?? "", commentedBy: row[8].text, commentedAt: row[9].integer.map(date(milliseconds:)))
    }
}

extension TrainingStore {
    /// A trainee's logged events: every practice report (reported) and, for every finished exam attempt, each case its
    /// questions are about (examined, once per attempt), and each case of an assignment their group submitted (assigned).
    public func logbookEntries(student: String, at now: Date = Date()) async throws(TrainingError) -> [Logbook.Entry] {
        var entries = try await practices(student: student, limit: 1000).map {
            Logbook.Entry(date: $0.submittedAt, caseID: $0.caseID, kind: .reported, source: $0.id)
        }
        for attempt in try await attempts(student: student) where attempt.finished(at: now) {
            let questions = try await questions(ids: attempt.order)
            let cases = Set(attempt.order.compactMap { questions[$0]?.content.caseID })
            for caseID in cases.sorted() {
                entries.append(
                    Logbook.Entry(date: attempt.submittedAt ?? attempt.deadline, caseID: caseID, kind: .examined, source: attempt.id))
            }
        }
        for (assignment, submission) in try await assignmentSubmissions(student: student) {
            for caseID in Set(assignment.draft.caseIDs).sorted() {
                entries.append(Logbook.Entry(date: submission.submittedAt, caseID: caseID, kind: .assigned, source: assignment.id))
            }
        }
        return entries
    }
}
