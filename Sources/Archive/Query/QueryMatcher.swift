import DICOM
import Foundation

/// The matching rules of PS3.4 C.2.2.2, shared by C-FIND and QIDO-RS. Applied in Swift to every candidate the index
/// returns, so it is the single authority on what matches; the index only narrows candidates first.
public struct QueryMatcher: Sendable {
    /// Fuzzy person-name matching (PS3.18 8.3.4.4): component prefixes, case and diacritics ignored.
    public var fuzzy: Bool

    public init(fuzzy: Bool = false) { self.fuzzy = fuzzy }

    /// Whether `dataSet` (an entity's attributes merged across levels) matches every key.
    public func matches(_ dataSet: DataSet, keys: [QueryKey]) -> Bool {
        keys.allSatisfy { matches($0, in: dataSet) }
    }

    /// Whether one key matches.
    public func matches(_ key: QueryKey, in dataSet: DataSet) -> Bool {
        switch key.matcher {
        case .universal:
            return true
        case .empty:
            guard let element = dataSet[key.tag] else { return true }
            if let items = element.items { return items.isEmpty }
            return dataSet.strings(key.tag).allSatisfy(\.isEmpty)
        case .sequence(let itemKeys):
            if itemKeys.isEmpty { return true }
            return dataSet.items(key.tag).contains { matches($0, keys: itemKeys) }
        case .dateTimeRange(let timeTag, let lower, let upper):
            guard let date = dataSet.string(key.tag).map(normalizedDate) else { return false }
            let time = dataSet.string(timeTag).map(normalizedTime) ?? ""
            return dateTimeInRange(date + time, lower: lower, upper: upper)
        default:
            let values = dataSet.strings(key.tag).filter { !$0.isEmpty }
            return values.contains { matches(key.matcher, value: $0, vr: key.vr) }
        }
    }

    /// Whether one value of an attribute matches.
    func matches(_ matcher: Matcher, value: String, vr: VR) -> Bool {
        switch matcher {
        case .universal: return true
        case .empty: return value.isEmpty
        case .sequence, .dateTimeRange: return false
        case .list(let alternatives): return alternatives.contains { matches($0, value: value, vr: vr) }
        case .single(let query):
            switch vr {
            case .PN: return nameMatches(query, value)
            case .DA: return normalizedDate(value) == normalizedDate(query)
            case .TM, .DT: return rangeMatches(lower: query, upper: query, value: value, vr: vr)
            default: return value == query
            }
        case .wildcard(let pattern):
            if vr == .PN { return nameMatches(pattern, value) }
            return wildcardMatch(Array(pattern), Array(value))
        case .range(let lower, let upper):
            return rangeMatches(lower: lower, upper: upper, value: value, vr: vr)
        }
    }

    // MARK: Person names (PS3.4 C.2.2.2.1, PS3.5 6.2.1)

    /// Case-insensitive name matching against the whole value and each of its alphabetic, ideographic and phonetic
    /// groups; a pattern with `=` matches group by group; fuzzy matching compares component prefixes.
    func nameMatches(_ pattern: String, _ value: String) -> Bool {
        let p = fold(pattern)
        let v = fold(value)
        if fuzzy {
            let separators = CharacterSet(charactersIn: "^= ,")
            let tokens = p.components(separatedBy: separators).filter { !$0.isEmpty && $0 != "*" }
            let components = v.components(separatedBy: separators).filter { !$0.isEmpty }
            if tokens.isEmpty { return true }
            return tokens.allSatisfy { token in
                let chars = Array(token) + ["*"]
                return components.contains { wildcardMatch(chars, Array($0)) }
            }
        }
        let valueGroups = v.split(separator: "=", omittingEmptySubsequences: false).map { trimGroup(String($0)) }
        if p.contains("=") {
            let patternGroups = p.split(separator: "=", omittingEmptySubsequences: false).map { trimGroup(String($0)) }
            for (index, group) in patternGroups.enumerated() where !group.isEmpty {
                let candidate = index < valueGroups.count ? valueGroups[index] : ""
                if !wildcardMatch(Array(group), Array(candidate)) { return false }
            }
            return true
        }
        let pattern = Array(trimGroup(p))
        if wildcardMatch(pattern, Array(v)) { return true }
        return valueGroups.contains { !$0.isEmpty && wildcardMatch(pattern, Array($0)) }
    }

    private func fold(_ text: String) -> String {
        fuzzy ? text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil) : text.lowercased()
    }

    private func trimGroup(_ group: String) -> String {
        var g = Substring(group)
        while let last = g.last, last == "^" || last == " " { g.removeLast() }
        return String(g)
    }
}

// MARK: Wildcards (PS3.4 C.2.2.2.4)

/// `*` matches any run of characters (including none), `?` exactly one character.
func wildcardMatch(_ pattern: [Character], _ text: [Character]) -> Bool {
    var p = 0
    var t = 0
    var star = -1
    var resume = 0
    while t < text.count {
        if p < pattern.count && (pattern[p] == "?" || (pattern[p] != "*" && pattern[p] == text[t])) {
            p += 1
            t += 1
        } else if p < pattern.count && pattern[p] == "*" {
            star = p
            resume = t
            p += 1
        } else if star >= 0 {
            p = star + 1
            resume += 1
            t = resume
        } else {
            return false
        }
    }
    while p < pattern.count && pattern[p] == "*" { p += 1 }
    return p == pattern.count
}

// MARK: Ranges (PS3.4 C.2.2.2.5)

/// A DA value as eight digits: the ACR-NEMA form `YYYY.MM.DD` loses its dots.
func normalizedDate(_ text: String) -> String { text.filter { $0 != "." && $0 != " " } }

/// A TM value without the ACR-NEMA colons.
func normalizedTime(_ text: String) -> String { text.filter { $0 != ":" && $0 != " " } }

private func rangeMatches(lower: String?, upper: String?, value: String, vr: VR) -> Bool {
    switch vr {
    case .DA:
        let v = normalizedDate(value)
        guard v.count == 8 else { return false }
        if let lower, v < normalizedDate(lower) { return false }
        if let upper, v > normalizedDate(upper) { return false }
        return true
    case .TM:
        guard let v = DICOMTime(normalizedTime(value))?.secondsSinceMidnight else { return false }
        if let lower, let l = DICOMTime(normalizedTime(lower))?.secondsSinceMidnight, v < l { return false }
        if let upper, let u = timeUpperBound(normalizedTime(upper)), v > u { return false }
        return true
    case .DT:
        return dateTimeInRange(value, lower: lower, upper: upper)
    default:
        // Range matching is defined for DA, TM and DT only; other VRs compare as text.
        if let lower, value < lower { return false }
        if let upper, value > upper { return false }
        return true
    }
}

/// The last instant a partial time designates: `12` is up to 12:59:59.999999.
private func timeUpperBound(_ text: String) -> Double? {
    guard let t = DICOMTime(text) else { return nil }
    var seconds = t.secondsSinceMidnight
    if t.minute == nil {
        seconds += 3599.999999
    } else if t.second == nil {
        seconds += 59.999999
    } else if t.microsecond == nil {
        seconds += 0.999999
    }
    return seconds
}

/// Whether a DT value falls in a DT range, comparing padded `YYYYMMDDHHMMSS.FFFFFF` forms; offsets from UTC are
/// ignored, as both ends are taken in the archive's local time.
func dateTimeInRange(_ value: String, lower: String?, upper: String?) -> Bool {
    guard let v = paddedDateTime(value, upperBound: false) else { return false }
    if let lower, let l = paddedDateTime(lower, upperBound: false), v < l { return false }
    if let upper, let u = paddedDateTime(upper, upperBound: true), v > u { return false }
    return true
}

private func paddedDateTime(_ text: String, upperBound: Bool) -> String? {
    var digits = ""
    var fraction = ""
    var inFraction = false
    for (index, c) in text.enumerated() {
        if (c == "+" || c == "-") && index >= 4 { break }
        if c == "." {
            inFraction = true
            continue
        }
        guard c.isASCII, c.isNumber else { return nil }
        if inFraction { fraction.append(c) } else { digits.append(c) }
    }
    guard digits.count >= 4, digits.count <= 14 else { return nil }
    let template = upperBound ? "00001231235959" : "00000101000000"
    if upperBound && digits.count == 6 {
        // The last day of the month is not needed: any day number above 31 sorts after every real day.
        digits += "31"
    }
    digits += template.dropFirst(digits.count)
    let fill: Character = upperBound && fraction.isEmpty ? "9" : "0"
    fraction += String(repeating: fill, count: max(0, 6 - fraction.count))
    return digits + "." + fraction
}
