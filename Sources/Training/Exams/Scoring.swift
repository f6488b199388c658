/// Scores answers (pure). The rules, as docs/api.md documents them:
///
/// - single choice: the question's points when exactly the right choice is chosen, else 0;
/// - multiple choice: points × max(0, (right choices chosen − wrong choices chosen) / right choices);
/// - hotspot: the points when the click's slice and point lie inside the region, else 0;
/// - image quality: points × (criteria rated exactly as the reference) / criteria;
/// - matching: points × (pairs matched to their own right-hand item) / pairs;
/// - ordering: points × (items in their right position) / items;
/// - positioning: points × (settings right: the reference option, or a number within the tolerance) / settings;
/// - report: not scored automatically (nil); graders award each rubric criterion from 0 to its points, the score is the
///   question's maximum × (awarded / rubric total), averaged over graders.
public enum Scoring {
    /// The automatic score of `answer`, or nil for a report (rubric grading). No answer scores 0.
    public static func score(_ question: QuestionContent, _ answer: Answer?) -> Double? {
        let points = question.maximum
        switch question.kind {
        case .report:
            return nil
        case .singleChoice:
            guard let chosen = answer?.choices, chosen.count == 1 else { return 0 }
            return question.choices.first { $0.id == chosen[0] }?.correct == true ? points : 0
        case .multipleChoice:
            let chosen = Set(answer?.choices ?? [])
            let right = Set(question.choices.filter(\.correct).map(\.id))
            let wrong = Set(question.choices.filter { !$0.correct }.map(\.id))
            guard !right.isEmpty else { return 0 }
            let net = Double(chosen.intersection(right).count) - Double(chosen.intersection(wrong).count)
            return points * max(0, net / Double(right.count))
        case .hotspot:
            guard let click = answer?.click, let region = question.region else { return 0 }
            return region.contains(slice: click.slice, x: click.x, y: click.y) ? points : 0
        case .imageQuality:
            guard !question.criteria.isEmpty else { return 0 }
            let ratings = answer?.ratings ?? [:]
            let matched = question.criteria.filter { ratings[$0.id] == $0.reference }.count
            return points * Double(matched) / Double(question.criteria.count)
        case .matching:
            guard !question.pairs.isEmpty else { return 0 }
            let matches = answer?.matches ?? [:]
            let right = question.pairs.filter { matches[$0.id] == $0.right }.count
            return points * Double(right) / Double(question.pairs.count)
        case .ordering:
            guard !question.items.isEmpty else { return 0 }
            let order = answer?.order ?? []
            let placed = question.items.enumerated().filter { index, item in index < order.count && order[index] == item.id }.count
            return points * Double(placed) / Double(question.items.count)
        case .positioning:
            guard !question.settings.isEmpty else { return 0 }
            let given = answer?.settings ?? [:]
            let right = question.settings.filter { $0.accepts(given[$0.id]) }.count
            return points * Double(right) / Double(question.settings.count)
        }
    }

    /// A report's score from its graders' awards (criterion id → points), or nil before anyone graded it.
    public static func rubricScore(_ question: QuestionContent, grades: [[String: Double]]) -> Double? {
        let total = question.rubric.reduce(0) { $0 + $1.points }
        guard !grades.isEmpty, total > 0 else { return nil }
        let sums = grades.map { awards in
            question.rubric.reduce(0.0) { sum, criterion in sum + min(max(awards[criterion.id] ?? 0, 0), criterion.points) }
        }
        return question.maximum * (sums.reduce(0, +) / Double(sums.count)) / total
    }
}
