import Foundation
import Platform

extension TrainingStore {
    /// One submitted attempt as the programme's indicators count it: who sat which exam, the how-manieth attempt, when
    /// it was submitted, and its score as it stands (automatic, rubric and overrides, as ``AttemptResult`` computes).
    public struct IndicatorRecord: Sendable, Equatable {
        public var exam: Int64
        public var student: String
        public var number: Int
        public var submitted: Date
        public var score: Double
        public var maximum: Double
        /// Every question has a score (no report still waiting for its graders).
        public var complete: Bool
    }

    /// Every submitted attempt with its score, in six queries whatever the number of attempts (not six per attempt).
    public func indicatorRecords() async throws(TrainingError) -> [IndicatorRecord] {
        let attempts = try await query(
            "SELECT id, exam_id, student, number, submitted_at FROM training_attempts WHERE submitted_at IS NOT NULL ORDER BY id", [])
        guard !attempts.isEmpty else { return [] }
        var order: [Int64: [Int64]] = [:]
        for row in try await query(
            """
            SELECT i.attempt_id, i.question_id FROM training_attempt_items i
            JOIN training_attempts a ON a.id = i.attempt_id WHERE a.submitted_at IS NOT NULL ORDER BY i.attempt_id, i.position
            """, [])
        {
            order[row[0].integer ?? 0, default: []].append(row[1].integer ?? 0)
        }
        var answers: [Int64: [Int64: Answer]] = [:]
        for row in try await query(
            """
            SELECT s.attempt_id, s.question_id, s.answer FROM training_answers s
            JOIN training_attempts a ON a.id = s.attempt_id WHERE a.submitted_at IS NOT NULL
            """, [])
        {
            answers[row[0].integer ?? 0, default: [:]][row[1].integer ?? 0] = try Self.decode(Answer.self, row[2].text ?? "")
        }
        var grades: [Int64: [Int64: [[String: Double]]]] = [:]
        for row in try await query("SELECT attempt_id, question_id, awards FROM training_rubric_grades", []) {
            grades[row[0].integer ?? 0, default: [:]][row[1].integer ?? 0, default: []].append(
                try Self.decode([String: Double].self, row[2].text ?? "{}"))
        }
        var overrides: [Int64: [Int64: Double]] = [:]
        for row in try await query("SELECT attempt_id, question_id, points FROM training_overrides", []) {
            overrides[row[0].integer ?? 0, default: [:]][row[1].integer ?? 0] = Double(row[2].text ?? "") ?? 0
        }
        let questions = try await questions(ids: Array(Set(order.values.joined()))).mapValues(\.content)
        return attempts.map { row in
            let id = row[0].integer ?? 0
            let result = AttemptResult.compute(
                order: order[id] ?? [], questions: questions, answers: answers[id] ?? [:], grades: grades[id] ?? [:],
                overrides: overrides[id] ?? [:])
            return IndicatorRecord(
                exam: row[1].integer ?? 0, student: row[2].text ?? "", number: Int(row[3].integer ?? 0),
                submitted: Self.date(milliseconds: row[4].integer ?? 0), score: result.score, maximum: result.maximum,
                complete: result.complete)
        }
    }
}
