/// One question of an analysed exam: its mark range and, for choice questions, its options and key.
public struct AnalysedItem: Sendable, Equatable, Codable {
    /// The question's id (as the exam knows it).
    public var id: String
    /// The most a student can score on it (Moodle's x_i(max)).
    public var maximumScore: Double
    /// The least a student can score on it (Moodle's x_i(min)); 0 unless negative marking is used.
    public var minimumScore: Double
    /// The choice options' ids, for distractor counts; empty for questions without options.
    public var options: [String]
    /// The options that are (fully or partly) right; every other option is a distractor.
    public var key: [String]
    /// The score a student guessing at random expects, as a fraction of the maximum (Moodle's random guess score);
    /// `nil` when it is not defined (multiple-answer questions, free reports).
    public var randomGuessScore: Double?

    /// Creates an item.
    public init(
        id: String, maximumScore: Double, minimumScore: Double = 0, options: [String] = [], key: [String] = [],
        randomGuessScore: Double? = nil
    ) {
        self.id = id
        self.maximumScore = maximumScore
        self.minimumScore = minimumScore
        self.options = options
        self.key = key
        self.randomGuessScore = randomGuessScore
    }

    /// Moodle's random guess score of a single-answer choice question: the mean of its choices' fractions
    /// (`qtype_multichoice::get_random_guess_score`); a true/false question's is 0.5 by the same rule.
    public static func randomGuessScore(choiceFractions: [Double]) -> Double? {
        guard !choiceFractions.isEmpty else { return nil }
        return choiceFractions.reduce(0, +) / Double(choiceFractions.count)
    }
}

/// One student's answer to one item: the score and, for choice questions, the options chosen.
public struct ItemResponse: Sendable, Equatable, Codable {
    /// The score given (the final one, penalties included); an unanswered item scores its minimum.
    public var score: Double
    /// The option ids chosen (empty when none).
    public var chosen: [String]

    /// Creates a response.
    public init(score: Double, chosen: [String] = []) {
        self.score = score
        self.chosen = chosen
    }
}

/// The input of item analysis: one row per student (their first attempt), one column per item.
public struct ResponseMatrix: Sendable, Equatable, Codable {
    /// The items, in the order of each row's columns.
    public var items: [AnalysedItem]
    /// `rows[s][i]` is student s's response to item i.
    public var rows: [[ItemResponse]]

    /// Creates a matrix.
    public init(items: [AnalysedItem], rows: [[ItemResponse]]) {
        self.items = items
        self.rows = rows
    }
}

/// Why item analysis refused a matrix.
public enum ItemAnalysisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Fewer than two students: no variance is defined.
    case tooFewStudents(count: Int)
    /// No items.
    case noItems
    /// A row has the wrong number of columns.
    case ragged(row: Int, columns: Int, expected: Int)
    /// An item's maximum is not above its minimum.
    case emptyRange(item: String)
    /// A score outside its item's range, or not a finite number.
    case scoreOutOfRange(row: Int, item: String, score: Double)

    public var description: String {
        switch self {
        case .tooFewStudents(let count): "item analysis needs at least two students, got \(count)"
        case .noItems: "item analysis needs at least one item"
        case .ragged(let row, let columns, let expected): "row \(row) has \(columns) responses, expected \(expected)"
        case .emptyRange(let item): "item \(item): its maximum score is not above its minimum"
        case .scoreOutOfRange(let row, let item, let score): "row \(row), item \(item): score \(score) is outside the item's range"
        }
    }
}

/// How often one option was chosen, overall and by the upper and lower groups.
public struct OptionCount: Sendable, Equatable, Codable {
    /// The option's id.
    public var option: String
    /// Whether it is part of the key (otherwise a distractor).
    public var isKey: Bool
    /// Students who chose it.
    public var total: Int
    /// Students of the upper group who chose it.
    public var upper: Int
    /// Students of the lower group who chose it.
    public var lower: Int
}

/// Why an item was flagged for the teacher (docs/training.md lists the thresholds).
public enum ItemFlag: String, Sendable, Equatable, Codable, CaseIterable {
    /// Facility below 5 %: almost nobody scores; the key may be wrong or the question unclear.
    case tooHard
    /// Facility above 95 %: almost everybody scores; it tells students apart little.
    case tooEasy
    /// Facility not above the random guess score: students do no better than guessing.
    case atOrBelowGuessing
    /// Discrimination index (item–rest correlation) below 0 : strong students do worse than weak ones.
    case negativeDiscrimination
    /// Discrimination index from 0 up to 0.2: the item hardly tells strong from weak students.
    case weakDiscrimination
    /// Discriminative efficiency below 15 %, the threshold Moodle's statistics report marks as dubious.
    case lowDiscriminativeEfficiency
    /// Upper minus lower 27 % group facility below 0.2.
    case weakUpperLowerDiscrimination
    /// A distractor chosen by more students of the upper group than of the lower group.
    case distractorAttractsUpperGroup
    /// The score does not vary: correlation-based figures are undefined.
    case noVariance
}

/// The figures of one item (fractions, not percentages; Moodle's report shows them × 100).
public struct ItemStatistics: Sendable, Equatable, Codable {
    /// The item's id.
    public var id: String
    /// Students analysed.
    public var count: Int
    /// Mean score.
    public var meanScore: Double
    /// F = (mean − min) / (max − min).
    public var facility: Double
    /// SD = sqrt(V(x_i)) / (max − min), V with n − 1.
    public var standardDeviation: Double
    /// As given on the item.
    public var randomGuessScore: Double?
    /// The item's share of the exam's maximum.
    public var intendedWeight: Double
    /// sqrt(C(x_i, X)) / Σ_j sqrt(C(x_j, X)); `nil` when the covariance with the total is negative.
    public var effectiveWeight: Double?
    /// r(x_i, X − x_i), the item–rest correlation; `nil` without variance.
    public var discriminationIndex: Double?
    /// C(x_i, X − x_i) / C_max(x_i, X − x_i); `nil` when C_max is 0.
    public var discriminativeEfficiency: Double?
    /// Mean normalised score of the upper 27 % minus that of the lower 27 %.
    public var upperLowerDiscrimination: Double
    /// Choice counts per option, in the item's option order.
    public var options: [OptionCount]
    /// What looks wrong with the item.
    public var flags: [ItemFlag]
}

/// The figures of the whole exam and of each item.
public struct ItemAnalysisReport: Sendable, Equatable, Codable {
    /// Students analysed (first attempts).
    public var studentCount: Int
    /// Students in each of the upper and lower groups (27 %, at least one).
    public var groupSize: Int
    /// The exam's maximum (the sum of the items').
    public var maximumTotal: Double
    /// The mean total score.
    public var meanTotal: Double
    /// The standard deviation of total scores (n − 1).
    public var standardDeviationTotal: Double
    /// Cronbach's alpha: P/(P−1) · (1 − Σ V(x_i) / V(X)); `nil` with one item or no total variance.
    public var cronbachAlpha: Double?
    /// One entry per item, in the matrix's order.
    public var items: [ItemStatistics]
}

/// Thresholds of the item flags.
public struct ItemFlagThresholds: Sendable, Equatable, Codable {
    public var minimumFacility = 0.05
    public var maximumFacility = 0.95
    public var minimumDiscrimination = 0.2
    public var minimumDiscriminativeEfficiency = 0.15
    public var minimumUpperLowerDiscrimination = 0.2

    /// The defaults docs/training.md lists.
    public init() {}
}

/// Item analysis with the formulas of Moodle's quiz statistics ("Quiz statistics calculations", MoodleDocs), plus the
/// classical upper/lower 27 % discrimination and distractor counts.
public enum ItemAnalysis {
    /// The share of students in each of the upper and lower groups (Kelley's 27 %).
    public static let groupShare = 0.27

    /// Analyses `matrix` (one first attempt per student).
    public static func analyse(
        _ matrix: ResponseMatrix, thresholds: ItemFlagThresholds = ItemFlagThresholds()
    ) throws(ItemAnalysisError) -> ItemAnalysisReport {
        let items = matrix.items
        let s = matrix.rows.count
        guard !items.isEmpty else { throw .noItems }
        guard s >= 2 else { throw .tooFewStudents(count: s) }
        for item in items where !(item.maximumScore > item.minimumScore) { throw .emptyRange(item: item.id) }
        for (r, row) in matrix.rows.enumerated() {
            guard row.count == items.count else { throw .ragged(row: r, columns: row.count, expected: items.count) }
            for (i, response) in row.enumerated() {
                let x = response.score
                let item = items[i]
                guard x.isFinite, x >= item.minimumScore - 1e-9, x <= item.maximumScore + 1e-9 else {
                    throw .scoreOutOfRange(row: r, item: item.id, score: x)
                }
            }
        }
        let p = items.count
        let columns = (0..<p).map { i in matrix.rows.map { $0[i].score } }
        let totals = matrix.rows.map { row in row.reduce(0) { $0 + $1.score } }
        let meanTotal = mean(totals)
        let varianceTotal = covariance(totals, totals)
        let maximumTotal = items.reduce(0) { $0 + $1.maximumScore }

        let groupSize = max(1, Int((groupShare * Double(s)).rounded()))
        // Ranked by total, ties by row order; the lower group is the first rows of the ranking, the upper the last.
        let ranking = (0..<s).sorted { totals[$0] != totals[$1] ? totals[$0] < totals[$1] : $0 < $1 }
        let lower = Array(ranking.prefix(groupSize))
        let upper = Array(ranking.suffix(groupSize))
        let lowerSet = Set(lower)
        let upperSet = Set(upper)

        let covariancesWithTotal = columns.map { covariance($0, totals) }
        let sumOfRoots = covariancesWithTotal.reduce(0) { $1 >= 0 ? $0 + $1.squareRoot() : $0 }

        var statistics: [ItemStatistics] = []
        for (i, item) in items.enumerated() {
            let x = columns[i]
            let range = item.maximumScore - item.minimumScore
            let meanScore = mean(x)
            let variance = covariance(x, x)
            let rest = zip(totals, x).map { $0 - $1 }
            let restVariance = covariance(rest, rest)
            let itemRestCovariance = covariance(x, rest)
            var discrimination: Double? = nil
            if variance > 0, restVariance > 0 { discrimination = itemRestCovariance / (variance * restVariance).squareRoot() }
            let sortedCovariance = covariance(x.sorted(), rest.sorted())
            let efficiency: Double? = sortedCovariance > 0 ? itemRestCovariance / sortedCovariance : nil
            let cov = covariancesWithTotal[i]
            let effective: Double? = cov >= 0 && sumOfRoots > 0 ? cov.squareRoot() / sumOfRoots : nil
            let normalised = x.map { ($0 - item.minimumScore) / range }
            let upperLower = mean(upper.map { normalised[$0] }) - mean(lower.map { normalised[$0] })

            let keySet = Set(item.key)
            let counts = item.options.map { option in
                var count = OptionCount(option: option, isKey: keySet.contains(option), total: 0, upper: 0, lower: 0)
                for (row, response) in matrix.rows.enumerated() where response[i].chosen.contains(option) {
                    count.total += 1
                    if upperSet.contains(row) { count.upper += 1 }
                    if lowerSet.contains(row) { count.lower += 1 }
                }
                return count
            }
            let facility = (meanScore - item.minimumScore) / range
            var flags: [ItemFlag] = []
            if facility < thresholds.minimumFacility { flags.append(.tooHard) }
            if facility > thresholds.maximumFacility { flags.append(.tooEasy) }
            if let guess = item.randomGuessScore, facility <= guess { flags.append(.atOrBelowGuessing) }
            if variance <= 1e-12 * range * range {
                flags.append(.noVariance)
            } else if let d = discrimination {
                if d < 0 {
                    flags.append(.negativeDiscrimination)
                } else if d < thresholds.minimumDiscrimination {
                    flags.append(.weakDiscrimination)
                }
            }
            if let e = efficiency, e < thresholds.minimumDiscriminativeEfficiency { flags.append(.lowDiscriminativeEfficiency) }
            if upperLower < thresholds.minimumUpperLowerDiscrimination { flags.append(.weakUpperLowerDiscrimination) }
            if counts.contains(where: { !$0.isKey && $0.upper > $0.lower }) { flags.append(.distractorAttractsUpperGroup) }

            statistics.append(
                ItemStatistics(
                    id: item.id, count: s, meanScore: meanScore, facility: facility,
                    standardDeviation: variance.squareRoot() / range, randomGuessScore: item.randomGuessScore,
                    intendedWeight: item.maximumScore / maximumTotal, effectiveWeight: effective,
                    discriminationIndex: discrimination, discriminativeEfficiency: efficiency,
                    upperLowerDiscrimination: upperLower, options: counts, flags: flags))
        }
        var alpha: Double? = nil
        if p > 1, varianceTotal > 0 {
            let sumOfItemVariances = columns.reduce(0) { $0 + covariance($1, $1) }
            alpha = Double(p) / Double(p - 1) * (1 - sumOfItemVariances / varianceTotal)
        }
        return ItemAnalysisReport(
            studentCount: s, groupSize: groupSize, maximumTotal: maximumTotal, meanTotal: meanTotal,
            standardDeviationTotal: varianceTotal.squareRoot(), cronbachAlpha: alpha, items: statistics)
    }

    static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }

    /// The sample covariance (n − 1), as Moodle's V and C.
    static func covariance(_ a: [Double], _ b: [Double]) -> Double {
        guard a.count > 1, a.count == b.count else { return 0 }
        let ma = mean(a)
        let mb = mean(b)
        var sum = 0.0
        for k in a.indices { sum += (a[k] - ma) * (b[k] - mb) }
        return sum / Double(a.count - 1)
    }
}
