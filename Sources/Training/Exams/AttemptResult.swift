/// An attempt's scores (pure): each question's automatic or rubric score, replaced by a teacher's override when there is
/// one, and the total.
public struct AttemptResult: Sendable, Equatable {
    public struct Item: Sendable, Equatable {
        public var questionID: Int64
        public var maximum: Double
        /// Nil while a report waits for its graders.
        public var score: Double?
        /// The score before any override (automatic or rubric).
        public var computed: Double?
        public var overridden: Bool
    }

    public var items: [Item]
    public var maximum: Double
    /// The sum of the scores there are.
    public var score: Double
    /// Every question has a score.
    public var complete: Bool

    public static func compute(
        order: [Int64], questions: [Int64: QuestionContent], answers: [Int64: Answer], grades: [Int64: [[String: Double]]],
        overrides: [Int64: Double]
    ) -> AttemptResult {
        var items: [Item] = []
        for id in order {
            guard let question = questions[id] else { continue }
            let computed =
                question.kind == .report
                ? Scoring.rubricScore(question, grades: grades[id] ?? []) : Scoring.score(question, answers[id])
            let override = overrides[id]
            items.append(
                Item(
                    questionID: id, maximum: question.maximum, score: override ?? computed, computed: computed, overridden: override != nil)
            )
        }
        return AttemptResult(
            items: items, maximum: items.reduce(0) { $0 + $1.maximum }, score: items.reduce(0) { $0 + ($1.score ?? 0) },
            complete: items.allSatisfy { $0.score != nil })
    }
}
