/// A passage two texts share, for showing them side by side.
public struct SharedPassage: Sendable, Equatable, Codable {
    /// The passage as it reads in the first text.
    public var text: String
    /// Where it starts and how long it is in the first text, in UTF-16 code units (JavaScript's string indices).
    public var firstOffset: Int
    public var firstLength: Int
    /// The same in the second text (whose wording may differ in width, case, punctuation and variant characters).
    public var secondOffset: Int
    public var secondLength: Int
    /// Its length in tokens (Han characters and words).
    public var tokens: Int
}

/// Finds the passages two texts share: maximal runs of equal tokens of at least a minimum length (seeded by the
/// first `minimumTokens` tokens, then extended as far as the tokens agree), longest first, not overlapping.
public enum SharedPassages {
    /// The passages `first` and `second` share, in the order they appear in `first`.
    public static func find(_ first: String, _ second: String, minimumTokens: Int = 6) -> [SharedPassage] {
        let k = max(1, minimumTokens)
        let a = NormalizedText(first)
        let b = NormalizedText(second)
        let x = a.tokens
        let y = b.tokens
        guard x.count >= k, y.count >= k else { return [] }
        var seeds: [[String]: [Int]] = [:]
        for i in 0...(x.count - k) { seeds[x[i..<(i + k)].map(\.text), default: []].append(i) }
        var runs: [(i: Int, j: Int, length: Int)] = []
        var j = 0
        while j <= y.count - k {
            guard let starts = seeds[y[j..<(j + k)].map(\.text)] else {
                j += 1
                continue
            }
            var best = (i: 0, length: 0)
            for i in starts {
                var length = k
                while i + length < x.count, j + length < y.count, x[i + length].text == y[j + length].text { length += 1 }
                if length > best.length { best = (i, length) }
            }
            runs.append((best.i, j, best.length))
            j += best.length
        }
        // Longest first; a run overlapping an earlier one in the first text is dropped.
        var taken: [Range<Int>] = []
        var kept: [(i: Int, j: Int, length: Int)] = []
        for run in runs.sorted(by: { $0.length != $1.length ? $0.length > $1.length : $0.j < $1.j }) {
            let range = run.i..<(run.i + run.length)
            if taken.contains(where: { $0.overlaps(range) }) { continue }
            taken.append(range)
            kept.append(run)
        }
        return kept.sorted { $0.i < $1.i }.map { run in
            let first = a.originalSpan(from: x[run.i], to: x[run.i + run.length - 1])
            let second = b.originalSpan(from: y[run.j], to: y[run.j + run.length - 1])
            return SharedPassage(
                text: first.text, firstOffset: first.range.lowerBound, firstLength: first.range.count,
                secondOffset: second.range.lowerBound, secondLength: second.range.count, tokens: run.length)
        }
    }
}
