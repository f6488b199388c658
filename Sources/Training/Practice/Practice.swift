import Foundation

/// A student's practice report on a published library case: findings and impression, as written.
public struct PracticeSubmission: Sendable, Equatable, Codable {
    public var findings: String
    public var impression: String

    public init(findings: String, impression: String) {
        self.findings = findings
        self.impression = impression
    }

    /// Why it cannot be submitted, or nil.
    public func problem() -> String? {
        if findings.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            && impression.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        {
            return "the report is empty: write the findings or the impression"
        }
        if findings.count + impression.count > Practice.maximumCharacters {
            return "the report is longer than \(Practice.maximumCharacters) characters"
        }
        return nil
    }
}

/// One submitted practice report with what the key-finding check made of it, and the teacher's comment once given.
public struct PracticeAttempt: Sendable, Equatable {
    public var id: Int64
    public var caseID: Int64
    public var student: String
    public var submission: PracticeSubmission
    /// The outcome for each of the case's key findings as they stood at submission.
    public var matches: [FindingMatch]
    public var submittedAt: Date
    public var comment: String
    public var commentedBy: String?
    public var commentedAt: Date?
}

/// Practice on library cases (issue 18): the student reads a published case with its answers hidden, writes a report,
/// and on submitting sees the reference report and which of the case's key findings the report found, negated or
/// missed; a teacher may comment later.
public enum Practice {
    public static let maximumCharacters = 20_000
    /// At most this many key findings a case, and synonyms a finding.
    public static let maximumFindings = 40
    public static let maximumTerms = 20

    /// The key-finding check of a report: findings and impression read as one text.
    public static func evaluate(_ submission: PracticeSubmission, findings: [KeyFinding]) -> [FindingMatch] {
        FindingMatcher.match(report: submission.findings + "\n" + submission.impression, findings: findings)
    }

    /// Why a case's key findings cannot be saved as given, or nil: each needs an id of its own and at least one term.
    public static func problem(_ findings: [KeyFinding]) -> String? {
        if findings.count > maximumFindings { return "a case has at most \(maximumFindings) key findings" }
        var seen = Set<String>()
        for finding in findings {
            let id = finding.id.trimmingCharacters(in: .whitespaces)
            if id.isEmpty { return "a key finding needs an id" }
            if !seen.insert(id).inserted { return "two key findings share the id \(id)" }
            let terms = finding.terms.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
            if terms.isEmpty { return "key finding \(id) needs at least one term" }
            if terms.count > maximumTerms { return "key finding \(id) has more than \(maximumTerms) terms" }
        }
        return nil
    }

    /// Key findings from text, one a line: its synonyms separated by `|`, `｜`, `;` or `；` (the first names it;
    /// ids are f1, f2… in order). Blank lines are skipped.
    public static func findings(fromLines text: String) -> [KeyFinding] {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return lines.enumerated().map { n, line in
            let terms = line.split(whereSeparator: { "|｜;；".contains($0) }).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
            return KeyFinding(id: "f\(n + 1)", terms: terms)
        }
    }

    /// The findings as the lines ``findings(fromLines:)`` reads.
    public static func lines(_ findings: [KeyFinding]) -> String {
        findings.map { $0.terms.joined(separator: " | ") }.joined(separator: "\n")
    }
}
