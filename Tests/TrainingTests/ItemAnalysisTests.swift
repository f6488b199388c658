import Foundation
import Testing

@testable import Training

@Suite("Item analysis")
struct ItemAnalysisTests {
    struct Reference: Decodable {
        var items: [AnalysedItem]
        var rows: [[ItemResponse]]
        var expected: ItemAnalysisReport
    }

    static func reference() throws -> Reference {
        let data = try ReferenceScript.run("item_analysis.py", ["matrix", "20261206"])
        return try JSONDecoder().decode(Reference.self, from: data)
    }

    @Test("Every Moodle figure of every item agrees with numpy on a seeded response matrix")
    func moodleFigures() throws {
        let reference = try Self.reference()
        let report = try ItemAnalysis.analyse(ResponseMatrix(items: reference.items, rows: reference.rows))
        let expected = reference.expected
        #expect(report.studentCount == expected.studentCount)
        #expect(report.groupSize == expected.groupSize)
        #expect(close(report.maximumTotal, expected.maximumTotal))
        #expect(close(report.meanTotal, expected.meanTotal))
        #expect(close(report.standardDeviationTotal, expected.standardDeviationTotal))
        #expect(close(report.cronbachAlpha, expected.cronbachAlpha))
        try #require(report.items.count == expected.items.count)
        for (got, want) in zip(report.items, expected.items) {
            #expect(got.id == want.id)
            #expect(close(got.meanScore, want.meanScore), "\(got.id) mean")
            #expect(close(got.facility, want.facility), "\(got.id) facility")
            #expect(close(got.standardDeviation, want.standardDeviation), "\(got.id) SD")
            #expect(close(got.intendedWeight, want.intendedWeight), "\(got.id) intended weight")
            #expect(close(got.effectiveWeight, want.effectiveWeight), "\(got.id) effective weight")
            #expect(close(got.discriminationIndex, want.discriminationIndex), "\(got.id) discrimination index")
            #expect(close(got.discriminativeEfficiency, want.discriminativeEfficiency), "\(got.id) discriminative efficiency")
            #expect(close(got.upperLowerDiscrimination, want.upperLowerDiscrimination), "\(got.id) upper-lower")
        }
    }

    @Test("Distractor counts by group and the flags agree with the independent computation")
    func distractorsAndFlags() throws {
        let reference = try Self.reference()
        let report = try ItemAnalysis.analyse(ResponseMatrix(items: reference.items, rows: reference.rows))
        for (got, want) in zip(report.items, reference.expected.items) {
            #expect(got.options == want.options, "\(got.id) option counts")
            #expect(got.flags == want.flags, "\(got.id) flags")
        }
        // The matrix was generated so that q5 rewards weak students and attracts strong ones to a distractor, and
        // nearly everybody answers q4: the flags must say so (not only agree with the script).
        let q5 = try #require(report.items.first { $0.id == "q5" })
        #expect(q5.flags.contains(.negativeDiscrimination))
        #expect(q5.flags.contains(.distractorAttractsUpperGroup))
        let q1 = try #require(report.items.first { $0.id == "q1" })
        #expect(q1.flags.isEmpty)
    }

    @Test("A hand-worked three-student matrix gives the textbook values")
    func handWorked() throws {
        // Scores (item 1, item 2): (1, 1), (1, 0), (0, 0). Totals 2, 1, 0.
        // Item 1: mean 2/3; V = ((1/3)² + (1/3)² + (2/3)²)/2 = 1/3; rest = item 2 = (1, 0, 0), V(rest) = 1/3,
        // C(item 1, rest) = ((1/3)(2/3) + (1/3)(−1/3) + (−2/3)(−1/3))/2 = 1/6, r = (1/6)/(1/3) = 0.5.
        // Alpha: P = 2, ΣV = 1/3 + 1/3, V(total) = 1 → 2 · (1 − 2/3) = 2/3.
        let items = [AnalysedItem(id: "a", maximumScore: 1), AnalysedItem(id: "b", maximumScore: 1)]
        let rows = [[1.0, 1.0], [1.0, 0.0], [0.0, 0.0]].map { $0.map { ItemResponse(score: $0) } }
        let report = try ItemAnalysis.analyse(ResponseMatrix(items: items, rows: rows))
        #expect(close(report.items[0].facility, 2.0 / 3.0))
        #expect(close(report.items[0].discriminationIndex, 0.5))
        #expect(close(report.cronbachAlpha, 2.0 / 3.0))
        #expect(close(report.items[0].intendedWeight, 0.5))
    }

    @Test("A ragged matrix, one student or a score outside its range is refused with where it is")
    func refusals() {
        let items = [AnalysedItem(id: "a", maximumScore: 1)]
        #expect(throws: ItemAnalysisError.tooFewStudents(count: 1)) {
            try ItemAnalysis.analyse(ResponseMatrix(items: items, rows: [[ItemResponse(score: 1)]]))
        }
        #expect(throws: ItemAnalysisError.ragged(row: 1, columns: 0, expected: 1)) {
            try ItemAnalysis.analyse(ResponseMatrix(items: items, rows: [[ItemResponse(score: 1)], []]))
        }
        #expect(throws: ItemAnalysisError.scoreOutOfRange(row: 0, item: "a", score: 2)) {
            try ItemAnalysis.analyse(ResponseMatrix(items: items, rows: [[ItemResponse(score: 2)], [ItemResponse(score: 0)]]))
        }
    }

    @Test("Moodle's random guess score of a single-answer question is the mean of its choices' fractions")
    func randomGuess() {
        #expect(AnalysedItem.randomGuessScore(choiceFractions: [1, 0, 0, 0]) == 0.25)
        #expect(AnalysedItem.randomGuessScore(choiceFractions: [1, 0]) == 0.5)
        #expect(AnalysedItem.randomGuessScore(choiceFractions: []) == nil)
    }
}

@Suite("Grader agreement")
struct GraderAgreementTests {
    @Test("Cohen's kappa, unweighted, linear and quadratic, agrees with numpy on seeded rubric levels")
    func kappaAgainstNumpy() throws {
        let object = try ReferenceScript.json("item_analysis.py", ["kappa", "7"])
        let first = try #require(object["first"] as? [Int])
        let second = try #require(object["second"] as? [Int])
        let expected = try #require(object["expected"] as? [String: Double])
        for weighting in KappaWeighting.allCases {
            let got = try GraderAgreement.kappa(first, second, weighting: weighting)
            #expect(close(got, expected[weighting.rawValue]), "\(weighting)")
        }
    }

    @Test("Kappa of a textbook table: 20 agree yes, 15 agree no, 15 disagree gives 0.4")
    func textbook() throws {
        // Observed agreement 35/50 = 0.7; chance: yes 25/50 × 30/50... (first: 25 yes; second: 30 yes) = 0.3 + 0.2 = 0.5;
        // κ = (0.7 − 0.5) / (1 − 0.5) = 0.4.
        let first =
            Array(repeating: 1, count: 20) + Array(repeating: 1, count: 5) + Array(repeating: 0, count: 10) + Array(repeating: 0, count: 15)
        let second =
            Array(repeating: 1, count: 20) + Array(repeating: 0, count: 5) + Array(repeating: 1, count: 10) + Array(repeating: 0, count: 15)
        #expect(close(try GraderAgreement.kappa(first, second), 0.4))
        #expect(throws: GraderAgreementError.unequalCounts(first: 1, second: 0)) { try GraderAgreement.kappa([1], []) }
        #expect(try GraderAgreement.kappa([2, 2], [2, 2]) == nil)
    }
}
