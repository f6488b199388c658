import Foundation

/// A peer-review score on the ACR RADPEER scale (2016 revision): 1 concur; 2 discrepancy in interpretation, not
/// ordinarily expected to be made; 3 should be made most of the time; 4 should be made almost every time. The
/// suffix says whether the discrepancy is unlikely (a) or likely (b) to be clinically significant.
public enum RADPEERScore: String, Sendable, CaseIterable, Codable {
    case concur = "1"
    case understandableUnlikelySignificant = "2a"
    case understandableLikelySignificant = "2b"
    case shouldBeMadeUnlikelySignificant = "3a"
    case shouldBeMadeLikelySignificant = "3b"
    case misinterpretationUnlikelySignificant = "4a"
    case misinterpretationLikelySignificant = "4b"

    /// The level, 1 to 4.
    public var level: Int { Int(rawValue.prefix(1)) ?? 1 }
    /// Any disagreement with the original reading (levels 2 to 4).
    public var isDiscrepancy: Bool { level >= 2 }
    /// A discrepancy that should have been avoided (levels 3 and 4), the figure programmes usually follow.
    public var isMajorDiscrepancy: Bool { level >= 3 }
    /// Marked as likely to be clinically significant (the `b` scores).
    public var isLikelySignificant: Bool { rawValue.hasSuffix("b") }
    /// From 2b on the reviewer must say why (the discrepancy and its significance).
    public var requiresComment: Bool { self != .concur && self != .understandableUnlikelySignificant }
}

/// One review of a signed report by a supervisor.
public struct PeerReview: Sendable, Equatable {
    public var reportID: String
    /// The reader who signed the reviewed report, and the site that requested it.
    public var reader: String
    public var site: String
    public var reviewer: String
    public var score: RADPEERScore
    public var comment: String
    public var reviewedAt: Date

    /// A review, or why it cannot be recorded: a comment is required from 2b on, and nobody reviews their own report.
    public init(
        reportID: String, reader: String, site: String, reviewer: String, score: RADPEERScore, comment: String, reviewedAt: Date
    ) throws(PeerReviewError) {
        let comment = comment.trimmingCharacters(in: .whitespacesAndNewlines)
        if score.requiresComment, comment.isEmpty { throw .commentRequired(score) }
        if reviewer == reader { throw .ownReport }
        self.reportID = reportID
        self.reader = reader
        self.site = site
        self.reviewer = reviewer
        self.score = score
        self.comment = comment
        self.reviewedAt = reviewedAt
    }
}

public enum PeerReviewError: Error, Equatable, CustomStringConvertible {
    case commentRequired(RADPEERScore)
    case ownReport

    public var description: String {
        switch self {
        case .commentRequired(let score): "a RADPEER score of \(score.rawValue) needs a comment saying what was missed and why it matters"
        case .ownReport: "a reader does not review their own report"
        }
    }
}

/// Discrepancy rates of peer reviews, per reader or per requesting site.
public enum PeerReviewRates {
    public enum Grouping: String, Sendable, CaseIterable { case reader, site }

    public struct Row: Sendable, Equatable {
        public var group: String
        public var reviews: Int
        /// Reviews per score, by raw value (`1`, `2a`…).
        public var scores: [String: Int]
        /// Fractions of the reviews: any discrepancy (2–4), major (3–4), likely clinically significant (b).
        public var discrepancyRate: Double
        public var majorDiscrepancyRate: Double
        public var significantRate: Double
    }

    /// One row per reader or site, most reviewed first.
    public static func table(_ reviews: [PeerReview], by grouping: Grouping) -> [Row] {
        Dictionary(grouping: reviews) { grouping == .reader ? $0.reader : $0.site }.map { group, reviews in
            let n = Double(reviews.count)
            return Row(
                group: group, reviews: reviews.count,
                scores: Dictionary(grouping: reviews, by: \.score.rawValue).mapValues(\.count),
                discrepancyRate: Double(reviews.filter(\.score.isDiscrepancy).count) / n,
                majorDiscrepancyRate: Double(reviews.filter(\.score.isMajorDiscrepancy).count) / n,
                significantRate: Double(reviews.filter(\.score.isLikelySignificant).count) / n)
        }.sorted { ($1.reviews, $0.group) < ($0.reviews, $1.group) }
    }
}
