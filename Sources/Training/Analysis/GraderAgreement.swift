/// How disagreements between two graders weigh in weighted kappa.
public enum KappaWeighting: String, Sendable, Equatable, Codable, CaseIterable {
    /// Every disagreement counts the same (Cohen's kappa).
    case unweighted
    /// A disagreement counts by its distance |i − j| between ordered levels.
    case linear
    /// A disagreement counts by the square of its distance.
    case quadratic
}

/// Why agreement could not be computed.
public enum GraderAgreementError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The two graders rated different numbers of items.
    case unequalCounts(first: Int, second: Int)
    /// No item was rated by both.
    case empty

    public var description: String {
        switch self {
        case .unequalCounts(let first, let second): "the graders rated \(first) and \(second) items; they must rate the same ones"
        case .empty: "no item was rated by both graders"
        }
    }
}

/// Agreement between two graders' rubric scores (Cohen 1960; weighted kappa, Cohen 1968).
public enum GraderAgreement {
    /// Cohen's kappa of two graders' scores of the same items, in the same order. The categories are the levels
    /// either grader used, ordered by value (weights use their rank: κ_w = 1 − Σ w·O / Σ w·E).
    /// `nil` when chance agreement is total (both graders used one and the same level throughout).
    public static func kappa(
        _ first: [Int], _ second: [Int], weighting: KappaWeighting = .unweighted
    ) throws(GraderAgreementError) -> Double? {
        guard first.count == second.count else { throw .unequalCounts(first: first.count, second: second.count) }
        guard !first.isEmpty else { throw .empty }
        let levels = Array(Set(first).union(second)).sorted()
        let index = Dictionary(uniqueKeysWithValues: levels.enumerated().map { ($1, $0) })
        let k = levels.count
        let n = Double(first.count)
        var observed = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
        for (a, b) in zip(first, second) {
            guard let i = index[a], let j = index[b] else { continue }
            observed[i][j] += 1
        }
        let rowSums = observed.map { $0.reduce(0, +) }
        let columnSums = (0..<k).map { j in observed.reduce(0) { $0 + $1[j] } }
        var weightedObserved = 0.0
        var weightedExpected = 0.0
        for i in 0..<k {
            for j in 0..<k {
                let distance = Double(abs(i - j))
                let w: Double =
                    switch weighting {
                    case .unweighted: i == j ? 0 : 1
                    case .linear: distance
                    case .quadratic: distance * distance
                    }
                weightedObserved += w * observed[i][j] / n
                weightedExpected += w * rowSums[i] * columnSums[j] / (n * n)
            }
        }
        guard weightedExpected > 0 else { return nil }
        return 1 - weightedObserved / weightedExpected
    }
}
