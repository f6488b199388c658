/// The data dictionary of PS3.6: VR, VM, keyword and name of every public tag, and known private tags.
public enum DataDictionary {
    /// One dictionary entry.
    public struct Entry: Sendable {
        public let tag: Tag
        /// The VR; for tags whose VR depends on context ("US or SS", "OB or OW") the first one listed.
        public let vr: VR
        /// Every VR the dictionary allows for the tag (more than one for context-dependent tags).
        public let allowedVRs: [VR]
        /// Value multiplicity as PS3.6 writes it: "1", "1-n", "2-2n".
        public let vm: String
        /// The keyword: `PatientName`.
        public let keyword: String
        /// The name: "Patient's Name".
        public let name: String
        /// Whether the standard has retired the tag.
        public let isRetired: Bool
    }

    private struct Tables: Sendable {
        var byTag: [UInt32: Entry] = [:]
        var byKeyword: [String: Tag] = [:]
        /// Repeating-group masks: (mask of fixed bits, value of fixed bits, entry).
        var repeaters: [(mask: UInt32, value: UInt32, entry: Entry)] = []
        /// Private tags by creator, keyed by (group, low byte of element).
        var privateEntries: [String: [UInt32: Entry]] = [:]
    }

    private static let tables: Tables = {
        var t = Tables()
        t.byTag.reserveCapacity(5200)
        for line in publicTable.split(separator: "\n") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count >= 6 else { continue }
            let vrs = f[1].split(separator: " ").compactMap { VR($0) }
            let tagText = String(f[0])
            let retired = f[5] == "R"
            if tagText.contains("x") {
                let mask = UInt32(tagText.map { $0 == "x" ? "0" : "F" }.reduce("", { $0 + String($1) }), radix: 16) ?? 0
                let value = UInt32(tagText.replacingX(with: "0"), radix: 16) ?? 0
                let entry = Entry(
                    tag: Tag(value), vr: vrs.first ?? .UN, allowedVRs: vrs, vm: String(f[2]), keyword: String(f[3]),
                    name: String(f[4]), isRetired: retired)
                t.repeaters.append((mask, value, entry))
                if !entry.keyword.isEmpty, t.byKeyword[entry.keyword] == nil { t.byKeyword[entry.keyword] = Tag(value) }
            } else if let raw = UInt32(tagText, radix: 16) {
                let entry = Entry(
                    tag: Tag(raw), vr: vrs.first ?? .UN, allowedVRs: vrs, vm: String(f[2]), keyword: String(f[3]),
                    name: String(f[4]), isRetired: retired)
                t.byTag[raw] = entry
                if !entry.keyword.isEmpty, t.byKeyword[entry.keyword] == nil { t.byKeyword[entry.keyword] = Tag(raw) }
            }
        }
        for line in privateTable.split(separator: "\n") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count >= 5 else { continue }
            let mask = String(f[1])
            guard mask.count == 8, let group = UInt16(mask.prefix(4), radix: 16),
                let low = UInt16(mask.suffix(2), radix: 16)
            else { continue }
            let vrs = f[2].split(separator: " ").compactMap { VR($0) }
            let entry = Entry(
                tag: Tag(group, low), vr: vrs.first ?? .UN, allowedVRs: vrs, vm: String(f[3]), keyword: "",
                name: String(f[4]), isRetired: false)
            t.privateEntries[String(f[0]), default: [:]][UInt32(group) << 16 | UInt32(low)] = entry
        }
        return t
    }()

    /// The entry for a public tag, including repeating groups (50xx, 60xx, 7Fxx) and group lengths.
    public static func entry(for tag: Tag) -> Entry? {
        let t = tables
        if let e = t.byTag[tag.rawValue] { return e }
        for r in t.repeaters where tag.rawValue & r.mask == r.value { return r.entry }
        if tag.element == 0 && !tag.isPrivate {
            return Entry(tag: tag, vr: .UL, allowedVRs: [.UL], vm: "1", keyword: "", name: "Group Length", isRetired: true)
        }
        if tag.isPrivateCreator {
            return Entry(tag: tag, vr: .LO, allowedVRs: [.LO], vm: "1", keyword: "", name: "Private Creator", isRetired: false)
        }
        return nil
    }

    /// The entry for a private tag reserved by `creator` (PS3.5 7.8), from the known private dictionaries.
    public static func privateEntry(for tag: Tag, creator: String) -> Entry? {
        guard tag.isPrivate, tag.element >= 0x1000 else { return nil }
        let key = UInt32(tag.group) << 16 | UInt32(tag.element & 0xFF)
        return tables.privateEntries[creator]?[key]
    }

    /// The tag for a PS3.6 keyword (`PatientName`).
    public static func tag(forKeyword keyword: String) -> Tag? { tables.byKeyword[keyword] }

    /// The VR that an implicit-VR stream gives a tag: the dictionary's, a private dictionary's, or UN.
    public static func implicitVR(for tag: Tag, privateCreator: String?) -> VR {
        if tag.isPrivate {
            if tag.isPrivateCreator { return .LO }
            if tag.element == 0 { return .UL }
            if let creator = privateCreator, let e = privateEntry(for: tag, creator: creator) { return e.vr }
            return .UN
        }
        return entry(for: tag)?.vr ?? .UN
    }
}

extension String {
    fileprivate func replacingX(with digit: Character) -> String { String(map { $0 == "x" ? digit : $0 }) }
}

/// The UID registry of PS3.6 Annex A: transfer syntaxes, SOP classes, well-known frames of reference.
public enum UIDRegistry {
    /// One registered UID.
    public struct Entry: Sendable {
        public let uid: String
        public let name: String
        /// "Transfer Syntax", "SOP Class", "Well-known frame of reference", …
        public let type: String
        public let keyword: String
        public let isRetired: Bool
    }

    private static let entries: [String: Entry] = {
        var out: [String: Entry] = [:]
        for line in table.split(separator: "\n") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count >= 5 else { continue }
            out[String(f[0])] = Entry(
                uid: String(f[0]), name: String(f[1]), type: String(f[2]), keyword: String(f[3]),
                isRetired: f[4] == "R")
        }
        return out
    }()

    /// The entry for a UID, if registered.
    public static func entry(for uid: String) -> Entry? { entries[uid] }

    /// All registered UIDs of a type ("SOP Class", "Transfer Syntax").
    public static func all(ofType type: String) -> [Entry] {
        entries.values.filter { $0.type == type }.sorted { $0.uid < $1.uid }
    }

    /// The storage SOP classes: every registered SOP class whose name ends in "Storage" (PS3.4 Annex B).
    public static var storageSOPClasses: [Entry] {
        all(ofType: "SOP Class").filter { $0.name.hasSuffix("Storage") || $0.name.contains("Storage -") || $0.name.contains("Storage SOP") }
    }
}
