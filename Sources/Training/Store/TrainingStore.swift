import Archive
import Foundation
import Platform
import Synchronization

/// The question bank, exams, attempts, answers and grades in the platform's database (SQLite or PostgreSQL).
///
/// Every answer is one statement that saves it only while the attempt is the student's, not submitted and before its
/// deadline (the server's clock, to the millisecond), so that an answer acknowledged is durable and an answer after the
/// deadline is refused whatever the browser believes.
public final class TrainingStore: Sendable {
    let database: any PlatformDatabase
    private let prepared = Mutex(false)
    /// Submitted attempts' scores as the indicators last computed them (``indicatorRecords()``).
    let indicatorCache = Mutex(IndicatorCache())

    package init(database: any PlatformDatabase) { self.database = database }

    /// The store beside the identity store's tables.
    public convenience init(identity: IdentityStore) { self.init(database: identity.database) }

    /// Creates or migrates training's tables (otherwise the first call does).
    public func prepare() async throws(TrainingError) {
        if prepared.withLock({ $0 }) { return }
        do {
            try await database.migrate(
                versionTable: TrainingSchema.versionTable, lockKey: TrainingSchema.lockKey, migrations: TrainingSchema.migrations)
        } catch {
            throw .database("\(error)")
        }
        prepared.withLock { $0 = true }
    }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }
    static func date(milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    // MARK: - Questions

    /// Adds a question to the bank.
    public func createQuestion(_ content: QuestionContent, by author: String, at now: Date = Date()) async throws(TrainingError)
        -> Question
    {
        let ids = try await createQuestions([content], by: author, at: now)
        return try await question(ids[0])
    }

    /// Adds questions in one transaction: every one is checked first, and none is added unless all are.
    public func createQuestions(_ contents: [QuestionContent], by author: String, at now: Date = Date()) async throws(TrainingError)
        -> [Int64]
    {
        for (n, content) in contents.enumerated() {
            if let problem = content.problem() { throw .invalid("question \(n + 1): \(problem)") }
        }
        let seconds = Int64(now.timeIntervalSince1970)
        var steps: [SQLStep] = []
        for content in contents {
            steps.append(
                SQLStep(
                    """
                    INSERT INTO training_questions (kind, case_id, difficulty, content, created_by, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id
                    """,
                    [
                        .text(content.kind.rawValue), content.caseID.map { .integer($0) } ?? .null, .integer(Int64(content.difficulty)),
                        .text(try Self.json(content)), .text(author), .integer(seconds), .integer(seconds),
                    ], guarded: true))
        }
        let results = try await run(steps, what: "the new questions")
        let ids = results.compactMap { $0.first?.first?.integer }
        guard ids.count == contents.count else { throw .database("no id for a new question") }
        var tags: [SQLStep] = []
        for (id, content) in zip(ids, contents) {
            for tag in Set(content.tags) {
                tags.append(SQLStep("INSERT INTO training_question_tags (question_id, tag) VALUES (?, ?)", [.integer(id), .text(tag)]))
            }
        }
        if !tags.isEmpty { _ = try await run(tags, what: "the questions' tags") }
        return ids
    }

    /// Saves a new content of the question (the caller read `revision`; a change by someone else since is a conflict).
    public func updateQuestion(_ id: Int64, content: QuestionContent, revision: Int64, retired: Bool = false, at now: Date = Date())
        async throws(TrainingError) -> Question
    {
        if let problem = content.problem() { throw .invalid(problem) }
        var steps = [
            SQLStep(
                """
                UPDATE training_questions SET kind = ?, case_id = ?, difficulty = ?, content = ?, updated_at = ?, retired = ?,
                    revision = revision + 1
                WHERE id = ? AND revision = ? RETURNING id
                """,
                [
                    .text(content.kind.rawValue), content.caseID.map { .integer($0) } ?? .null, .integer(Int64(content.difficulty)),
                    .text(try Self.json(content)), .integer(Int64(now.timeIntervalSince1970)), .integer(retired ? 1 : 0), .integer(id),
                    .integer(revision),
                ], guarded: true),
            SQLStep("DELETE FROM training_question_tags WHERE question_id = ?", [.integer(id)]),
        ]
        for tag in Set(content.tags) {
            steps.append(SQLStep("INSERT INTO training_question_tags (question_id, tag) VALUES (?, ?)", [.integer(id), .text(tag)]))
        }
        _ = try await run(steps, what: "question \(id)")
        return try await question(id)
    }

    public func question(_ id: Int64) async throws(TrainingError) -> Question {
        guard let row = try await query("SELECT \(Self.questionColumns) FROM training_questions WHERE id = ?", [.integer(id)]).first else {
            throw .notFound("question \(id)")
        }
        return try Self.questionRow(row)
    }

    /// Questions of the bank, newest first: with `tag`, only those carrying it; with `caseID`, only those on that case.
    public func questions(tag: String? = nil, caseID: Int64? = nil, includeRetired: Bool = false) async throws(TrainingError)
        -> [Question]
    {
        var conditions: [String] = []
        var bindings: [SQLValue] = []
        if let tag {
            conditions.append("id IN (SELECT question_id FROM training_question_tags WHERE tag = ?)")
            bindings.append(.text(tag))
        }
        if let caseID {
            conditions.append("case_id = ?")
            bindings.append(.integer(caseID))
        }
        if !includeRetired { conditions.append("retired = 0") }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return try await query("SELECT \(Self.questionColumns) FROM training_questions\(filter) ORDER BY id DESC", bindings)
            .map(Self.questionRow)
    }

    /// The questions with these ids (those that exist), by id.
    public func questions(ids: [Int64]) async throws(TrainingError) -> [Int64: Question] {
        guard !ids.isEmpty else { return [:] }
        var out: [Int64: Question] = [:]
        for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min($0 + 500, ids.count)]) }) {
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
            for row in try await query(
                "SELECT \(Self.questionColumns) FROM training_questions WHERE id IN (\(marks))", chunk.map { .integer($0) })
            {
                let q = try Self.questionRow(row)
                out[q.id] = q
            }
        }
        return out
    }

    /// A question's use history: the exams (and forms) it was put in, oldest first, and how many answers it has had.
    public func usage(_ id: Int64) async throws(TrainingError) -> (exams: [(exam: Int64, form: Int, usedAt: Date)], answers: Int) {
        let uses = try await query(
            "SELECT exam_id, form, used_at FROM training_question_uses WHERE question_id = ? ORDER BY used_at, exam_id, form",
            [.integer(id)])
        let answers = try await query("SELECT COUNT(*) FROM training_answers WHERE question_id = ?", [.integer(id)])
        return (
            uses.map { ($0[0].integer ?? 0, Int($0[1].integer ?? 0), Date(timeIntervalSince1970: Double($0[2].integer ?? 0))) },
            Int(answers.first?.first?.integer ?? 0)
        )
    }

    // MARK: - Exams

    /// Creates an exam from its settings (fixed questions, one or more forms); every question must exist.
    public func createExam(_ settings: ExamSettings, by author: String, at now: Date = Date()) async throws(TrainingError) -> Exam {
        if let problem = settings.problem() { throw .invalid(problem) }
        let ids = Array(Set(settings.forms.flatMap { $0 }))
        let found = try await questions(ids: ids)
        if let missing = ids.sorted().first(where: { found[$0] == nil }) { throw .invalid("question \(missing) does not exist") }
        if let retired = ids.sorted().first(where: { found[$0]?.retired == true }) { throw .invalid("question \(retired) is retired") }
        let seconds = Int64(now.timeIntervalSince1970)
        let rows = try await query(
            "INSERT INTO training_exams (settings, created_by, created_at) VALUES (?, ?, ?) RETURNING id",
            [.text(try Self.json(settings)), .text(author), .integer(seconds)])
        guard let id = rows.first?.first?.integer else { throw .database("no id for the new exam") }
        var steps: [SQLStep] = []
        for (form, questions) in settings.forms.enumerated() {
            for question in questions {
                steps.append(
                    SQLStep(
                        "INSERT INTO training_question_uses (question_id, exam_id, form, used_at) VALUES (?, ?, ?, ?)",
                        [.integer(question), .integer(id), .integer(Int64(form)), .integer(seconds)]))
            }
        }
        _ = try await run(steps, what: "exam \(id)")
        return try await exam(id)
    }

    /// Creates an exam whose forms are drawn from the bank by `rules` (``ExamForms``).
    public func createDrawnExam(
        _ settings: ExamSettings, rules: [ExamForms.Rule], forms: Int, seed: UInt64, by author: String, at now: Date = Date()
    ) async throws(TrainingError) -> Exam {
        var settings = settings
        settings.forms = try ExamForms.draw(pool: try await questions(), rules: rules, forms: forms, seed: seed)
        return try await createExam(settings, by: author, at: now)
    }

    public func exam(_ id: Int64) async throws(TrainingError) -> Exam {
        guard
            let row = try await query(
                "SELECT id, settings, created_by, created_at, released_at, revision FROM training_exams WHERE id = ?", [.integer(id)]
            ).first
        else { throw .notFound("exam \(id)") }
        return try Self.examRow(row)
    }

    /// Every exam, newest first.
    public func exams() async throws(TrainingError) -> [Exam] {
        try await query("SELECT id, settings, created_by, created_at, released_at, revision FROM training_exams ORDER BY id DESC", [])
            .map(Self.examRow)
    }

    /// The exams `student` may take or has taken: those for every student and those naming them.
    public func exams(for student: String) async throws(TrainingError) -> [Exam] {
        try await exams().filter { $0.settings.students.isEmpty || $0.settings.students.contains(student) }
    }

    /// Releases the exam's results, keys and feedback to its students.
    public func release(_ id: Int64, at now: Date = Date()) async throws(TrainingError) -> Exam {
        _ = try await run(
            [
                SQLStep(
                    "UPDATE training_exams SET released_at = ?, revision = revision + 1 WHERE id = ? RETURNING id",
                    [.integer(Int64(now.timeIntervalSince1970)), .integer(id)], guarded: true)
            ], what: "exam \(id)")
        return try await exam(id)
    }

    // MARK: - Attempts

    /// Starts `student`'s attempt at the exam, or returns the one still running (a student whose browser closed resumes
    /// it). A new attempt needs the exam open at `now`, the student among its students, and an attempt left.
    public func start(exam id: Int64, student: String, at now: Date = Date()) async throws(TrainingError) -> Attempt {
        let exam = try await exam(id)
        guard exam.settings.students.isEmpty || exam.settings.students.contains(student) else {
            throw .notAllowed("exam \(id) is not set for \(student)")
        }
        let previous = try await attempts(exam: id, student: student)
        if let running = previous.last(where: { !$0.finished(at: now) }) { return running }
        if let opensAt = exam.settings.opensAt, now < opensAt { throw .closed("exam \(id) is not open yet") }
        if let closesAt = exam.settings.closesAt, now >= closesAt { throw .closed("exam \(id) is closed") }
        if exam.released { throw .closed("exam \(id)'s results are released") }
        guard previous.count < exam.settings.attemptsAllowed else {
            throw .closed("\(student) has used the \(exam.settings.attemptsAllowed) attempt(s) exam \(id) allows")
        }
        let number = (previous.map(\.number).max() ?? 0) + 1
        let (form, order, seed) = exam.settings.order(exam: id, student: student, number: number)
        let started = Self.milliseconds(now)
        let deadline = Self.milliseconds(exam.settings.deadline(start: now))
        var steps = [
            SQLStep(
                """
                INSERT INTO training_attempts (exam_id, student, number, form, seed, started_at, deadline)
                VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id
                """,
                [
                    .integer(id), .text(student), .integer(Int64(number)), .integer(Int64(form)), .text(String(seed)),
                    .integer(started), .integer(deadline),
                ], guarded: true)
        ]
        for (position, question) in order.enumerated() {
            steps.append(
                SQLStep(
                    """
                    INSERT INTO training_attempt_items (attempt_id, question_id, position)
                    VALUES ((SELECT id FROM training_attempts WHERE exam_id = ? AND student = ? AND number = ?), ?, ?)
                    """,
                    [.integer(id), .text(student), .integer(Int64(number)), .integer(question), .integer(Int64(position))]))
        }
        do throws(TrainingError) {
            let results = try await run(steps, what: "the attempt")
            guard let attemptID = results.first?.first?.first?.integer else { throw TrainingError.database("no id for the attempt") }
            return try await attempt(attemptID)
        } catch {
            guard case .invalid(let message) = error, message.contains("already exists") else { throw error }
            // Another request of the same student started it a moment ago: that one is theirs.
            if let running = try await attempts(exam: id, student: student).first(where: { $0.number == number }) { return running }
            throw .conflict("the attempt")
        }
    }

    public func attempt(_ id: Int64) async throws(TrainingError) -> Attempt {
        guard let row = try await query("SELECT \(Self.attemptColumns) FROM training_attempts WHERE id = ?", [.integer(id)]).first else {
            throw .notFound("attempt \(id)")
        }
        return try await withOrder(Self.attemptRow(row))
    }

    /// The attempts at an exam (of one student, when given), by id.
    public func attempts(exam: Int64, student: String? = nil) async throws(TrainingError) -> [Attempt] {
        var sql = "SELECT \(Self.attemptColumns) FROM training_attempts WHERE exam_id = ?"
        var bindings: [SQLValue] = [.integer(exam)]
        if let student {
            sql += " AND student = ?"
            bindings.append(.text(student))
        }
        var out: [Attempt] = []
        for row in try await query(sql + " ORDER BY id", bindings) { out.append(try await withOrder(Self.attemptRow(row))) }
        return out
    }

    /// Every attempt of a student, by id.
    public func attempts(student: String) async throws(TrainingError) -> [Attempt] {
        var out: [Attempt] = []
        for row in try await query("SELECT \(Self.attemptColumns) FROM training_attempts WHERE student = ? ORDER BY id", [.text(student)]) {
            out.append(try await withOrder(Self.attemptRow(row)))
        }
        return out
    }

    private func withOrder(_ attempt: Attempt) async throws(TrainingError) -> Attempt {
        var attempt = attempt
        attempt.order = try await query(
            "SELECT question_id FROM training_attempt_items WHERE attempt_id = ? ORDER BY position", [.integer(attempt.id)]
        ).compactMap { $0[0].integer }
        return attempt
    }

    /// What became of a saved answer.
    public struct SaveOutcome: Sendable, Equatable {
        /// The sequence number stored now (the newest one).
        public var sequence: Int64
        /// False when a write with a higher sequence had already arrived: that one stays (last write wins).
        public var stored: Bool
        public var savedAt: Date
    }

    /// Saves `student`'s answer to one question of their attempt, as given: the same request twice stores the same thing
    /// once; of two writes, the one with the higher `sequence` (the client's counter) stays. Refused when the attempt is
    /// not the student's, is submitted, or its deadline has passed on the server's clock.
    public func saveAnswer(
        attempt id: Int64, question: Int64, student: String, answer: Answer, sequence: Int64, at now: Date = Date()
    ) async throws(TrainingError) -> SaveOutcome {
        let time = Self.milliseconds(now)
        var steps = [
            SQLStep(
                """
                INSERT INTO training_answers (attempt_id, question_id, answer, sequence, saved_at)
                SELECT a.id, i.question_id, ?, ?, ? FROM training_attempts a
                    JOIN training_attempt_items i ON i.attempt_id = a.id AND i.question_id = ?
                WHERE a.id = ? AND a.student = ? AND a.submitted_at IS NULL AND a.deadline > ?
                ON CONFLICT (attempt_id, question_id) DO UPDATE SET answer = excluded.answer, sequence = excluded.sequence,
                    saved_at = excluded.saved_at
                WHERE excluded.sequence >= training_answers.sequence
                RETURNING sequence
                """,
                [
                    .text(try Self.json(answer)), .integer(sequence), .integer(time), .integer(question), .integer(id), .text(student),
                    .integer(time),
                ], guarded: true)
        ]
        if let click = answer.click {
            steps.append(
                SQLStep(
                    "INSERT INTO training_clicks (attempt_id, question_id, slice, x, y, clicked_at) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        .integer(id), .integer(question), .integer(Int64(click.slice)), .text("\(click.x)"), .text("\(click.y)"),
                        .integer(time),
                    ]))
        }
        let result: [[[SQLValue]]]?
        do {
            try await prepare()
            result = try await database.transaction(guarded: steps)
        } catch let error as TrainingError {
            throw error
        } catch {
            throw .database("\(error)")
        }
        if result != nil { return SaveOutcome(sequence: sequence, stored: true, savedAt: Self.date(milliseconds: time)) }
        // Nothing saved: say why.
        let attempt = try await attempt(id)
        guard attempt.student == student else { throw .notFound("attempt \(id)") }
        guard attempt.order.contains(question) else { throw .notFound("question \(question) of attempt \(id)") }
        if attempt.submittedAt != nil { throw .closed("attempt \(id) is submitted") }
        if now >= attempt.deadline { throw .closed("the time of attempt \(id) is over") }
        guard let kept = try await answers(attempt: id).first(where: { $0.questionID == question }) else {
            throw .conflict("answer \(question) of attempt \(id)")
        }
        return SaveOutcome(sequence: kept.sequence, stored: false, savedAt: kept.savedAt)
    }

    /// The attempt's saved answers (the last write of each question).
    public func answers(attempt id: Int64) async throws(TrainingError) -> [SavedAnswer] {
        try await query(
            "SELECT question_id, answer, sequence, saved_at FROM training_answers WHERE attempt_id = ? ORDER BY question_id", [.integer(id)]
        ).map { row throws(TrainingError) in
            SavedAnswer(
                questionID: row[0].integer ?? 0, answer: try Self.decode(Answer.self, row[1].text ?? ""), sequence: row[2].integer ?? 0,
                savedAt: Self.date(milliseconds: row[3].integer ?? 0))
        }
    }

    /// Every click logged for a hotspot question of the attempt, in order.
    public func clicks(attempt id: Int64, question: Int64) async throws(TrainingError) -> [Answer.Click] {
        try await query(
            "SELECT slice, x, y FROM training_clicks WHERE attempt_id = ? AND question_id = ? ORDER BY id",
            [.integer(id), .integer(question)]
        ).map { Answer.Click(slice: Int($0[0].integer ?? 0), x: Double($0[1].text ?? "") ?? 0, y: Double($0[2].text ?? "") ?? 0) }
    }

    /// Submits the attempt (its answers are final). Submitting twice is the same as once.
    public func submit(attempt id: Int64, student: String, at now: Date = Date()) async throws(TrainingError) -> Attempt {
        let attempt = try await attempt(id)
        guard attempt.student == student else { throw .notFound("attempt \(id)") }
        if attempt.finished(at: now) { return attempt }
        try await query(
            "UPDATE training_attempts SET submitted_at = ? WHERE id = ? AND submitted_at IS NULL",
            [.integer(Self.milliseconds(now)), .integer(id)])
        return try await self.attempt(id)
    }

    /// One line of the proctor's view.
    public struct Progress: Sendable, Equatable {
        public var attemptID: Int64
        public var student: String
        public var answered: Int
        public var questions: Int
        public var startedAt: Date
        public var deadline: Date
        public var lastSavedAt: Date?
        public var submitted: Bool
    }

    /// The live progress of every attempt at the exam.
    public func progress(exam id: Int64) async throws(TrainingError) -> [Progress] {
        try await query(
            """
            SELECT a.id, a.student, a.started_at, a.deadline, a.submitted_at,
                (SELECT COUNT(*) FROM training_answers w WHERE w.attempt_id = a.id),
                (SELECT COUNT(*) FROM training_attempt_items i WHERE i.attempt_id = a.id),
                (SELECT MAX(saved_at) FROM training_answers w WHERE w.attempt_id = a.id)
            FROM training_attempts a WHERE a.exam_id = ? ORDER BY a.student, a.number
            """, [.integer(id)]
        ).map { row in
            Progress(
                attemptID: row[0].integer ?? 0, student: row[1].text ?? "", answered: Int(row[5].integer ?? 0),
                questions: Int(row[6].integer ?? 0), startedAt: Self.date(milliseconds: row[2].integer ?? 0),
                deadline: Self.date(milliseconds: row[3].integer ?? 0), lastSavedAt: row[7].integer.map(Self.date(milliseconds:)),
                submitted: row[4].integer != nil)
        }
    }

    // MARK: - Grading

    /// Records `grader`'s rubric grade of a report answer (a grader's new grade replaces their earlier one). Each award
    /// lies between 0 and its criterion's points; the attempt must be finished.
    public func grade(
        attempt id: Int64, question: Int64, grader: String, awards: [String: Double], comment: String, at now: Date = Date()
    ) async throws(TrainingError) {
        let attempt = try await attempt(id)
        guard attempt.finished(at: now) else { throw .invalid("attempt \(id) is still running") }
        guard attempt.order.contains(question) else { throw .notFound("question \(question) of attempt \(id)") }
        let q = try await self.question(question)
        guard q.content.kind == .report else { throw .invalid("question \(question) is scored automatically") }
        for (criterion, points) in awards {
            guard let c = q.content.rubric.first(where: { $0.id == criterion }) else {
                throw .invalid("the rubric of question \(question) has no criterion \(criterion)")
            }
            guard points >= 0, points <= c.points, points.isFinite else {
                throw .invalid("criterion \(criterion) awards 0 to \(c.points) points, not \(points)")
            }
        }
        _ = try await run(
            [
                SQLStep(
                    "DELETE FROM training_rubric_grades WHERE attempt_id = ? AND question_id = ? AND grader = ?",
                    [.integer(id), .integer(question), .text(grader)]),
                SQLStep(
                    """
                    INSERT INTO training_rubric_grades (attempt_id, question_id, grader, awards, comment, graded_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .integer(id), .integer(question), .text(grader), .text(try Self.json(awards)), .text(comment),
                        .integer(Int64(now.timeIntervalSince1970)),
                    ]),
            ], what: "the grade")
    }

    /// Every rubric grade of the attempt.
    public func grades(attempt id: Int64) async throws(TrainingError) -> [RubricGrade] {
        try await query(
            """
            SELECT question_id, grader, awards, comment, graded_at FROM training_rubric_grades WHERE attempt_id = ?
            ORDER BY question_id, grader
            """, [.integer(id)]
        ).map { row throws(TrainingError) in
            RubricGrade(
                questionID: row[0].integer ?? 0, grader: row[1].text ?? "",
                awards: try Self.decode([String: Double].self, row[2].text ?? "{}"),
                comment: row[3].text ?? "", gradedAt: Date(timeIntervalSince1970: Double(row[4].integer ?? 0)))
        }
    }

    /// Changes one question's score of a finished attempt (a regrade) and returns the score it had before; the caller
    /// records the change in the audit trail.
    public func regrade(
        attempt id: Int64, question: Int64, points: Double, reason: String, by teacher: String, at now: Date = Date()
    ) async throws(TrainingError) -> Double? {
        let before = try await result(attempt: id, at: now)
        guard let item = before.items.first(where: { $0.questionID == question }) else {
            throw .notFound("question \(question) of attempt \(id)")
        }
        guard points >= 0, points <= item.maximum, points.isFinite else { throw .invalid("a score lies between 0 and \(item.maximum)") }
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw .invalid("a regrade needs a reason") }
        _ = try await run(
            [
                SQLStep("DELETE FROM training_overrides WHERE attempt_id = ? AND question_id = ?", [.integer(id), .integer(question)]),
                SQLStep(
                    """
                    INSERT INTO training_overrides (attempt_id, question_id, points, reason, changed_by, changed_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .integer(id), .integer(question), .text("\(points)"), .text(reason), .text(teacher),
                        .integer(Int64(now.timeIntervalSince1970)),
                    ]),
            ], what: "the regrade")
        return item.score
    }

    public func overrides(attempt id: Int64) async throws(TrainingError) -> [ScoreOverride] {
        try await query(
            "SELECT question_id, points, reason, changed_by, changed_at FROM training_overrides WHERE attempt_id = ? ORDER BY question_id",
            [.integer(id)]
        ).map { row in
            ScoreOverride(
                questionID: row[0].integer ?? 0, points: Double(row[1].text ?? "") ?? 0, reason: row[2].text ?? "", by: row[3].text ?? "",
                at: Date(timeIntervalSince1970: Double(row[4].integer ?? 0)))
        }
    }

    /// The teacher's overall feedback on an attempt (shown once released).
    public func setFeedback(attempt id: Int64, _ text: String) async throws(TrainingError) {
        _ = try await run(
            [SQLStep("UPDATE training_attempts SET feedback = ? WHERE id = ? RETURNING id", [.text(text), .integer(id)], guarded: true)],
            what: "attempt \(id)")
    }

    /// The attempt's scores as they stand.
    public func result(attempt id: Int64, at now: Date = Date()) async throws(TrainingError) -> AttemptResult {
        let attempt = try await attempt(id)
        let questions = try await questions(ids: attempt.order).mapValues(\.content)
        var answers: [Int64: Answer] = [:]
        for saved in try await self.answers(attempt: id) { answers[saved.questionID] = saved.answer }
        var grades: [Int64: [[String: Double]]] = [:]
        for grade in try await self.grades(attempt: id) { grades[grade.questionID, default: []].append(grade.awards) }
        var overrides: [Int64: Double] = [:]
        for o in try await self.overrides(attempt: id) { overrides[o.questionID] = o.points }
        return AttemptResult.compute(order: attempt.order, questions: questions, answers: answers, grades: grades, overrides: overrides)
    }

    // MARK: - Plumbing

    static let questionColumns = "id, content, created_by, created_at, updated_at, revision, retired"
    static let attemptColumns = "id, exam_id, student, number, form, seed, started_at, deadline, submitted_at, feedback"

    static func questionRow(_ row: [SQLValue]) throws(TrainingError) -> Question {
        Question(
            id: row[0].integer ?? 0, content: try decode(QuestionContent.self, row[1].text ?? ""), createdBy: row[2].text ?? "",
            createdAt: Date(timeIntervalSince1970: Double(row[3].integer ?? 0)),
            updatedAt: Date(timeIntervalSince1970: Double(row[4].integer ?? 0)), revision: row[5].integer ?? 0,
            retired: (row[6].integer ?? 0) != 0)
    }

    static func examRow(_ row: [SQLValue]) throws(TrainingError) -> Exam {
        Exam(
            id: row[0].integer ?? 0, settings: try decode(ExamSettings.self, row[1].text ?? ""), createdBy: row[2].text ?? "",
            createdAt: Date(timeIntervalSince1970: Double(row[3].integer ?? 0)),
            releasedAt: row[4].integer.map { Date(timeIntervalSince1970: Double($0)) }, revision: row[5].integer ?? 0)
    }

    static func attemptRow(_ row: [SQLValue]) -> Attempt {
        Attempt(
            id: row[0].integer ?? 0, examID: row[1].integer ?? 0, student: row[2].text ?? "", number: Int(row[3].integer ?? 0),
            form: Int(row[4].integer ?? 0), order: [], seed: UInt64(row[5].text ?? "") ?? 0,
            startedAt: date(milliseconds: row[6].integer ?? 0), deadline: date(milliseconds: row[7].integer ?? 0),
            submittedAt: row[8].integer.map(date(milliseconds:)), feedback: row[9].text ?? "")
    }

    func query(_ sql: String, _ bindings: [SQLValue]) async throws(TrainingError) -> [[SQLValue]] {
        try await prepare()
        do {
            return try await database.query(sql, bindings)
        } catch {
            throw Self.mapped(error)
        }
    }

    func run(_ steps: [SQLStep], what: String) async throws(TrainingError) -> [[[SQLValue]]] {
        try await prepare()
        let result: [[[SQLValue]]]?
        do {
            result = try await database.transaction(guarded: steps)
        } catch {
            throw Self.mapped(error)
        }
        guard let result else { throw .conflict(what) }
        return result
    }

    static func mapped(_ error: PlatformError) -> TrainingError {
        let text = "\(error)"
        if text.contains("already exists") { return .invalid("already exists (\(text))") }
        return .database(text)
    }

    static func json<T: Encodable>(_ value: T) throws(TrainingError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw .invalid("cannot encode: \(error)")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws(TrainingError) -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return try decoder.decode(T.self, from: Data(text.utf8))
        } catch {
            throw .database("a stored \(T.self) is not readable: \(error)")
        }
    }
}
