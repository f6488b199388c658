import DICOM

extension ArchiveQuery {
    /// Reads a C-FIND request identifier (PS3.4 C.4.1.1.3): (0008,0052) gives the level, every other attribute is a
    /// matching or return key. `combinedDateTimeMatching` and `fuzzyMatching` come from the extended negotiation
    /// (PS3.4 C.5.1.1.2).
    public init(
        cFindIdentifier identifier: DataSet, model: QueryModel, combinedDateTimeMatching: Bool = false, fuzzyMatching: Bool = false
    ) throws(ArchiveError) {
        guard let levelText = identifier.string(.queryRetrieveLevel) else {
            throw .invalidQuery(reason: "the identifier has no Query/Retrieve Level (0008,0052)")
        }
        guard let level = QueryLevel(rawValue: levelText.uppercased()) else {
            throw .invalidQuery(reason: "unknown Query/Retrieve Level \(levelText)")
        }
        self.init(model: model, level: level, keys: identifierKeys(identifier), fuzzyMatching: fuzzyMatching)
        if combinedDateTimeMatching { combineDateAndTimeRanges() }
        try validate()
    }

    /// Reads QIDO-RS query parameters (PS3.18 8.3.4): attributes by keyword or tag (`PatientName`, `00100010`, and
    /// `00400275.00401001` for an attribute inside a sequence), `includefield` (comma-separated or repeated, or
    /// `all`), `limit`, `offset` and `fuzzymatching`.
    public init(
        qidoParameters parameters: [(name: String, value: String)], level: QueryLevel, model: QueryModel = .studyRoot,
        combinedDateTimeMatching: Bool = false
    ) throws(ArchiveError) {
        self.init(model: model, level: level, includesDefaultAttributes: true)
        var included = Set<Tag>()
        var all = false
        for (name, value) in parameters {
            switch name.lowercased() {
            case "includefield":
                for field in value.split(separator: ",").map({ String($0).trimmingSpaces }) where !field.isEmpty {
                    if field.lowercased() == "all" {
                        all = true
                    } else {
                        guard let path = attributePath(field), let first = path.first else {
                            throw .invalidQuery(reason: "includefield names an unknown attribute \(field)")
                        }
                        included.insert(first)
                    }
                }
            case "limit":
                guard let n = Int(value), n >= 0 else { throw .invalidQuery(reason: "limit \(value) is not a count") }
                limit = n
            case "offset":
                guard let n = Int(value), n >= 0 else { throw .invalidQuery(reason: "offset \(value) is not a count") }
                offset = n
            case "fuzzymatching":
                fuzzyMatching = value.lowercased() == "true"
            default:
                guard let path = attributePath(name) else {
                    throw .invalidQuery(reason: "unknown attribute \(name)")
                }
                keys.append(qidoKey(path: path, value: value))
            }
        }
        includeFields = all ? .all : .tags(included)
        if combinedDateTimeMatching { combineDateAndTimeRanges() }
        try validate()
    }

    /// Replaces a DA range key and its TM range key by one combined range (PS3.4 C.2.2.2.5.2).
    mutating func combineDateAndTimeRanges() {
        for (dateTag, timeTag) in LevelAttributes.dateTimePairs {
            guard let d = keys.firstIndex(where: { $0.tag == dateTag }), let t = keys.firstIndex(where: { $0.tag == timeTag })
            else { continue }
            guard let (dateLower, dateUpper) = bounds(keys[d].matcher), let (timeLower, timeUpper) = bounds(keys[t].matcher)
            else { continue }
            let lower = dateLower.map { $0 + (timeLower ?? "") }
            let upper = dateUpper.map { $0 + (timeUpper ?? "") }
            keys[d].matcher = .dateTimeRange(timeTag: timeTag, lower: lower, upper: upper)
            keys[t].matcher = .universal
        }
    }

    private func bounds(_ matcher: Matcher) -> (String?, String?)? {
        switch matcher {
        case .range(let lower, let upper): (lower, upper)
        case .single(let value): (value, value)
        default: nil
        }
    }
}

private func identifierKeys(_ identifier: DataSet) -> [QueryKey] {
    var keys: [QueryKey] = []
    for element in identifier.elements {
        let tag = element.tag
        if tag.group == 0x0002 || tag.isGroupLength || tag == .queryRetrieveLevel || tag == .specificCharacterSet { continue }
        if element.vr == .SQ {
            let itemKeys = identifier.items(tag).first.map(identifierKeys) ?? []
            let restricting = itemKeys.filter { $0.matcher != .universal }
            keys.append(QueryKey(tag: tag, vr: .SQ, matcher: restricting.isEmpty ? .universal : .sequence(itemKeys)))
            continue
        }
        let values = identifier.strings(tag)
        keys.append(QueryKey(tag: tag, vr: element.vr, matcher: makeMatcher(values, vr: element.vr)))
    }
    return keys
}

/// A matcher from the values of a key (already split at backslashes).
func makeMatcher(_ values: [String], vr: VR) -> Matcher {
    let nonEmpty = values.map(\.trimmingSpaces).filter { !$0.isEmpty }
    if nonEmpty.isEmpty { return .universal }
    if nonEmpty.count > 1 { return .list(nonEmpty.map { makeMatcher(value: $0, vr: vr) }) }
    return makeMatcher(value: nonEmpty[0], vr: vr)
}

private func makeMatcher(value: String, vr: VR) -> Matcher {
    if value == "\"\"" { return .empty }
    if value == "*" { return .universal }
    switch vr {
    case .DA, .TM, .DT:
        if let (lower, upper) = splitRange(value, vr: vr) { return .range(lower: lower, upper: upper) }
        return .single(value)
    case .UI, .US, .SS, .UL, .SL, .FL, .FD, .IS, .DS, .SV, .UV, .AT:
        return .single(value)
    default:
        return value.contains(where: { $0 == "*" || $0 == "?" }) ? .wildcard(value) : .single(value)
    }
}

/// Splits `lower-upper` at the hyphen that separates two valid bounds; DT values may carry `-hhmm` offsets.
private func splitRange(_ value: String, vr: VR) -> (String?, String?)? {
    let characters = Array(value)
    for (index, c) in characters.enumerated() where c == "-" {
        let lower = String(characters[..<index])
        let upper = String(characters[(index + 1)...])
        if lower.isEmpty && upper.isEmpty { return nil }
        if isBound(lower, vr) && isBound(upper, vr) { return (lower.isEmpty ? nil : lower, upper.isEmpty ? nil : upper) }
    }
    return nil
}

private func isBound(_ text: String, _ vr: VR) -> Bool {
    if text.isEmpty { return true }
    switch vr {
    case .DA: return normalizedDate(text).count == 8 && normalizedDate(text).allSatisfy(\.isNumber)
    case .TM: return DICOMTime(normalizedTime(text)) != nil
    default: return DICOMDateTime(text) != nil
    }
}

/// A keyword, a tag in hex, or a dotted path of them into sequences.
private func attributePath(_ text: String) -> [Tag]? {
    var tags: [Tag] = []
    for part in text.split(separator: ".", omittingEmptySubsequences: false) {
        if part.count == 8, let tag = Tag(hexString: part) {
            tags.append(tag)
        } else if let tag = DataDictionary.tag(forKeyword: String(part)) {
            tags.append(tag)
        } else {
            return nil
        }
    }
    return tags.isEmpty ? nil : tags
}

private func qidoKey(path: [Tag], value: String) -> QueryKey {
    let tag = path[0]
    let vr = DataDictionary.entry(for: tag)?.vr ?? .UN
    if path.count > 1 {
        return QueryKey(tag: tag, vr: .SQ, matcher: .sequence([qidoKey(path: Array(path.dropFirst()), value: value)]))
    }
    // PS3.18 8.3.4.1: UID lists are comma-separated; code strings cannot contain commas, so lists of them are too.
    let values: [String]
    if vr == .UI || vr == .CS {
        values = value.split(whereSeparator: { $0 == "," || $0 == "\\" }).map(String.init)
    } else {
        values = value.split(separator: "\\", omittingEmptySubsequences: false).map(String.init)
    }
    return QueryKey(tag: tag, vr: vr, matcher: makeMatcher(values, vr: vr))
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " { s.removeFirst() }
        while let l = s.last, l == " " || l == "\0" { s.removeLast() }
        return String(s)
    }
}
