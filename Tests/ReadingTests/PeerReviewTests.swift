import Foundation
import Testing

@testable import Reading

@Suite("RADPEER peer review")
struct PeerReviewTests {
    @Test("A comment is required from 2b on, and nobody reviews their own report", arguments: RADPEERScore.allCases)
    func commentRule(score: RADPEERScore) {
        let needsComment = !["1", "2a"].contains(score.rawValue)
        let withoutComment = Result { () throws(PeerReviewError) in
            try PeerReview(reportID: "R1", reader: "li", site: "A", reviewer: "wang", score: score, comment: "  ", reviewedAt: Date())
        }
        if needsComment {
            #expect(throws: PeerReviewError.commentRequired(score)) { try withoutComment.get() }
        } else {
            #expect(throws: Never.self) { try withoutComment.get() }
        }
        #expect(throws: PeerReviewError.ownReport) {
            try PeerReview(reportID: "R1", reader: "li", site: "A", reviewer: "li", score: score, comment: "c", reviewedAt: Date())
        }
    }

    @Test("Discrepancy, major and significant rates per reader and per site agree with counting the raw scores")
    func rates() throws {
        // (reader, site, score): counted below by hand from the scale's definitions, not through the type's properties.
        let raw: [(String, String, String)] = [
            ("li", "A", "1"), ("li", "A", "1"), ("li", "B", "2a"), ("li", "B", "3b"), ("li", "A", "1"),
            ("wang", "A", "1"), ("wang", "B", "4a"), ("wang", "B", "2b"), ("zhao", "A", "1"),
        ]
        let reviews = try raw.enumerated().map { n, r in
            try PeerReview(
                reportID: "R\(n)", reader: r.0, site: r.1, reviewer: "chief", score: try #require(RADPEERScore(rawValue: r.2)),
                comment: "reason", reviewedAt: Date(timeIntervalSince1970: Double(n)))
        }
        let byReader = PeerReviewRates.table(reviews, by: .reader)
        #expect(byReader.map(\.group) == ["li", "wang", "zhao"])
        let li = try #require(byReader.first)
        #expect(li.reviews == 5 && li.scores == ["1": 3, "2a": 1, "3b": 1])
        #expect(li.discrepancyRate == 2.0 / 5 && li.majorDiscrepancyRate == 1.0 / 5 && li.significantRate == 1.0 / 5)
        let wang = byReader[1]
        #expect(wang.discrepancyRate == 2.0 / 3 && wang.majorDiscrepancyRate == 1.0 / 3 && wang.significantRate == 1.0 / 3)
        let bySite = PeerReviewRates.table(reviews, by: .site)
        let b = try #require(bySite.first { $0.group == "B" })
        #expect(b.reviews == 4 && b.discrepancyRate == 1 && b.majorDiscrepancyRate == 0.5 && b.significantRate == 0.5)
    }
}
