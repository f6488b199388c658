/// Draws equivalent exam forms from the bank (pure): each form takes, for every rule, `count` questions of that tag and
/// difficulty, so the forms cover the same ground at the same difficulty. Questions are spread across forms (one used
/// by fewer forms is preferred) and no form holds a question twice; the draw is fixed by `seed`.
public enum ExamForms {
    /// One line of a random exam's blueprint: `count` questions with `tag` (nil: any) and `difficulty` (nil: any).
    public struct Rule: Sendable, Equatable, Codable {
        public var tag: String?
        public var difficulty: Int?
        public var count: Int

        public init(tag: String? = nil, difficulty: Int? = nil, count: Int) {
            self.tag = tag
            self.difficulty = difficulty
            self.count = count
        }

        func matches(_ q: QuestionContent) -> Bool {
            (tag.map { q.tags.contains($0) } ?? true) && (difficulty.map { q.difficulty == $0 } ?? true)
        }
    }

    public static func draw(pool: [Question], rules: [Rule], forms: Int, seed: UInt64) throws(TrainingError) -> [[Int64]] {
        guard forms >= 1, forms <= 20 else { throw .invalid("1 to 20 forms") }
        guard !rules.isEmpty, rules.allSatisfy({ $0.count >= 1 }) else { throw .invalid("each rule draws at least one question") }
        let usable = pool.filter { !$0.retired }.sorted { $0.id < $1.id }
        var generator = SplitMix64(seed: seed)
        var uses: [Int64: Int] = [:]
        var result: [[Int64]] = []
        for _ in 0..<forms {
            var form: [Int64] = []
            for rule in rules {
                let candidates = usable.filter { rule.matches($0.content) && !form.contains($0.id) }
                guard candidates.count >= rule.count else {
                    throw .invalid(
                        "the bank has \(candidates.count) questions left for tag \(rule.tag ?? "any") and difficulty "
                            + "\(rule.difficulty.map(String.init) ?? "any"); the rule asks for \(rule.count)")
                }
                // Least-used first, ties broken by the seeded shuffle.
                let shuffled = candidates.deterministicallyShuffled(using: &generator)
                let picked = shuffled.enumerated().sorted { a, b in
                    let ua = uses[a.element.id, default: 0]
                    let ub = uses[b.element.id, default: 0]
                    return ua != ub ? ua < ub : a.offset < b.offset
                }.prefix(rule.count).map(\.element.id)
                for id in picked { uses[id, default: 0] += 1 }
                form += picked
            }
            result.append(form)
        }
        return result
    }
}
