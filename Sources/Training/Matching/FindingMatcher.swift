/// A key finding of a practice case: the synonyms, in Chinese and English, that name it.
public struct KeyFinding: Sendable, Equatable, Codable {
    /// The finding's id within the case.
    public var id: String
    /// Its names; any one of them found (and not negated) finds the finding. Within a name, Han characters must
    /// stand together in the report; English words and space-separated parts may come in any order within one clause.
    public var terms: [String]

    /// Creates a finding.
    public init(id: String, terms: [String]) {
        self.id = id
        self.terms = terms
    }
}

/// What a report says about one key finding.
public enum FindingOutcome: String, Sendable, Equatable, Codable {
    /// Named, at least once, without a negation.
    case found
    /// Named only under a negation ("no pneumothorax", "未见气胸").
    case negated
    /// Not named.
    case missing
}

/// The outcome for one finding, with the name that matched and the clause it matched in.
public struct FindingMatch: Sendable, Equatable, Codable {
    /// The finding's id.
    public var finding: String
    /// Found, negated or missing.
    public var outcome: FindingOutcome
    /// The synonym that matched (as the case lists it), when one did.
    public var term: String?
    /// The clause of the report it matched in, as the student wrote it.
    public var clause: String?
}

/// Key-finding matching of practice reports (docs/training.md, "Matching rules").
public enum FindingMatcher {
    /// Words and phrases that negate a finding named after them in the same clause (NegEx-style pre-negation).
    public static let negationsBefore: [String] = [
        "no", "not", "without", "negative for", "free of", "absence of", "absent", "neither", "nor", "never",
        "ruled out", "未见", "未发现", "未", "无", "没有", "不伴", "否认", "排除", "不考虑", "未显示",
    ]
    /// Words and phrases that negate a finding named before them in the same clause.
    public static let negationsAfter: [String] = [
        "absent", "not seen", "not identified", "not present", "not detected", "ruled out", "excluded", "resolved",
        "未见", "消失", "已吸收", "已排除", "排除", "阴性", "不明显",
    ]
    /// Phrases that look like a negation but are not ("no change in the pneumothorax" names one).
    public static let pseudoNegations: [String] = [
        "no change", "no interval change", "no significant change", "not only", "not excluded", "cannot be excluded",
        "can not be excluded", "cannot exclude", "cannot rule out", "can not rule out", "not be ruled out", "无变化",
        "无明显变化", "未变", "不能排除", "不排除", "不除外", "未能排除", "无明显诱因", "无诱因",
    ]
    /// How many tokens (Han characters or words) may stand between a cue and the term it negates.
    public static let negationWindow = 12
    /// Words that end a negation's reach inside a clause.
    public static let scopeEnds: [String] = ["but", "however", "although", "though", "yet", "except", "whereas", "但", "但是", "然而"]

    /// Matches `report` against every finding of a case.
    public static func match(report: String, findings: [KeyFinding]) -> [FindingMatch] {
        let normalized = NormalizedText(report)
        let clauses = normalized.clauses.map { clause in splitAtScopeEnds(clause) }.flatMap { $0 }
        return findings.map { finding in
            var negated: (term: String, clause: String)? = nil
            for term in finding.terms {
                let pattern = NormalizedText(term).tokens
                guard !pattern.isEmpty else { continue }
                for clause in clauses {
                    guard let span = locate(pattern, in: clause) else { continue }
                    let clauseText = text(of: clause, in: normalized)
                    if isNegated(clause: clause, span: span) {
                        if negated == nil { negated = (term, clauseText) }
                    } else {
                        return FindingMatch(finding: finding.id, outcome: .found, term: term, clause: clauseText)
                    }
                }
            }
            if let negated {
                return FindingMatch(finding: finding.id, outcome: .negated, term: negated.term, clause: negated.clause)
            }
            return FindingMatch(finding: finding.id, outcome: .missing, term: nil, clause: nil)
        }
    }

    /// The first and last token indices a term's tokens occupy in `clause`, or `nil` when not all are there.
    /// Han runs of the term must appear contiguously; words (compared by stem) anywhere in the clause.
    static func locate(_ pattern: [TextToken], in clause: [TextToken]) -> ClosedRange<Int>? {
        var parts: [[TextToken]] = []
        for token in pattern {
            if token.isHan, let last = parts.last?.last, last.isHan, last.offset + last.length == token.offset {
                parts[parts.count - 1].append(token)
            } else {
                parts.append([token])
            }
        }
        var low = Int.max
        var high = Int.min
        for part in parts {
            guard let start = firstIndex(of: part, in: clause) else { return nil }
            low = min(low, start)
            high = max(high, start + part.count - 1)
        }
        return low...high
    }

    static func firstIndex(of part: [TextToken], in clause: [TextToken], from: Int = 0) -> Int? {
        guard part.count <= clause.count, from <= clause.count - part.count else { return nil }
        for start in from...(clause.count - part.count) {
            var equal = true
            for k in part.indices where !same(part[k], clause[start + k]) {
                equal = false
                break
            }
            if equal { return start }
        }
        return nil
    }

    static func same(_ a: TextToken, _ b: TextToken) -> Bool {
        a.isHan == b.isHan && (a.isHan ? a.text == b.text : NormalizedText.stem(a.text) == NormalizedText.stem(b.text))
    }

    /// A cue's tokens (Han characters or words), as a pattern to find in a clause.
    static func cue(_ phrase: String) -> [TextToken] { NormalizedText(phrase).tokens }

    static func isNegated(clause: [TextToken], span: ClosedRange<Int>) -> Bool {
        let before = Array(clause[..<span.lowerBound])
        let after = Array(clause[(span.upperBound + 1)...])
        let pseudo = pseudoNegations.map(cue)
        func occurrences(_ cue: [TextToken], in tokens: [TextToken]) -> [Int] {
            var found: [Int] = []
            var from = 0
            while let index = firstIndex(of: cue, in: tokens, from: from) {
                found.append(index)
                from = index + 1
            }
            return found
        }
        func coveredByPseudo(_ index: Int, in tokens: [TextToken]) -> Bool {
            pseudo.contains { p in occurrences(p, in: tokens).contains { $0 <= index && index < $0 + p.count } }
        }
        for phrase in negationsBefore {
            let c = cue(phrase)
            let near = occurrences(c, in: before).contains { index in
                before.count - (index + c.count) <= negationWindow && !coveredByPseudo(index, in: before)
            }
            if near { return true }
        }
        for phrase in negationsAfter {
            let c = cue(phrase)
            if occurrences(c, in: after).contains(where: { $0 <= negationWindow && !coveredByPseudo($0, in: after) }) { return true }
        }
        return false
    }

    static func splitAtScopeEnds(_ clause: [TextToken]) -> [[TextToken]] {
        let ends = scopeEnds.map(cue)
        var pieces: [[TextToken]] = []
        var current: [TextToken] = []
        var index = 0
        outer: while index < clause.count {
            for end in ends where !end.isEmpty && firstIndex(of: end, in: clause, from: index) == index {
                // Word cues match whole words only; Han cues must not be part of a longer run such as 而且.
                if !current.isEmpty { pieces.append(current) }
                current = []
                index += end.count
                continue outer
            }
            current.append(clause[index])
            index += 1
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }

    static func text(of clause: [TextToken], in text: NormalizedText) -> String {
        guard let first = clause.first, let last = clause.last else { return "" }
        return text.originalSpan(from: first, to: last).text
    }
}
