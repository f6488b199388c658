import DICOM

/// The options of the Basic Application Level Confidentiality Profile that Atrium applies (PS3.15 E.3).
public struct DeidentificationOptions: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Retain Safe Private Option (E.3.10): private attributes on Atrium's known-safe list are kept.
    public static let retainSafePrivate = DeidentificationOptions(rawValue: 1 << 0)
    /// Retain UIDs Option (E.3.9).
    public static let retainUIDs = DeidentificationOptions(rawValue: 1 << 1)
    /// Retain Device Identity Option (E.3.8).
    public static let retainDeviceIdentity = DeidentificationOptions(rawValue: 1 << 2)
    /// Retain Institution Identity Option (E.3.11).
    public static let retainInstitutionIdentity = DeidentificationOptions(rawValue: 1 << 3)
    /// Retain Patient Characteristics Option (E.3.7).
    public static let retainPatientCharacteristics = DeidentificationOptions(rawValue: 1 << 4)
    /// Retain Longitudinal Temporal Information Full Dates Option (E.3.6).
    public static let retainLongitudinalFullDates = DeidentificationOptions(rawValue: 1 << 5)
    /// Retain Longitudinal Temporal Information Modified Dates Option (E.3.6): every date shifted by one number of
    /// days per patient.
    public static let retainLongitudinalModifiedDates = DeidentificationOptions(rawValue: 1 << 6)
    /// Clean Descriptors Option (E.3.5).
    public static let cleanDescriptors = DeidentificationOptions(rawValue: 1 << 7)
    /// Clean Structured Content Option (E.3.4).
    public static let cleanStructuredContent = DeidentificationOptions(rawValue: 1 << 8)
    /// Clean Graphics Option (E.3.3).
    public static let cleanGraphics = DeidentificationOptions(rawValue: 1 << 9)
    /// Clean Pixel Data Option (E.3.1): the regions a curator confirmed are blacked out.
    public static let cleanPixelData = DeidentificationOptions(rawValue: 1 << 10)

    /// Each option with its PS3.16 CID 7050 code and meaning, in the order they are listed in the output.
    public static let described: [(option: DeidentificationOptions, code: String, meaning: String, name: String)] = [
        (.cleanPixelData, "113101", "Clean Pixel Data Option", "clean-pixel-data"),
        (.cleanGraphics, "113103", "Clean Graphics Option", "clean-graphics"),
        (.cleanStructuredContent, "113104", "Clean Structured Content Option", "clean-structured-content"),
        (.cleanDescriptors, "113105", "Clean Descriptors Option", "clean-descriptors"),
        (.retainLongitudinalFullDates, "113106", "Retain Longitudinal Temporal Information Full Dates Option", "retain-full-dates"),
        (
            .retainLongitudinalModifiedDates, "113107", "Retain Longitudinal Temporal Information Modified Dates Option",
            "retain-modified-dates"
        ),
        (.retainPatientCharacteristics, "113108", "Retain Patient Characteristics Option", "retain-patient-characteristics"),
        (.retainDeviceIdentity, "113109", "Retain Device Identity Option", "retain-device-identity"),
        (.retainUIDs, "113110", "Retain UIDs Option", "retain-uids"),
        (.retainSafePrivate, "113111", "Retain Safe Private Option", "retain-safe-private"),
        (.retainInstitutionIdentity, "113112", "Retain Institution Identity Option", "retain-institution-identity"),
    ]
}

/// What the profile does to one attribute (PS3.15 Table E.1-1 action codes, combinations resolved).
public enum ProfileAction: Sendable, Hashable {
    /// X: remove.
    case remove
    /// Z: replace with a zero-length value (an empty sequence for SQ).
    case empty
    /// D: replace with a dummy value consistent with the VR; a sequence keeps its items with every value in them
    /// replaced.
    case dummy
    /// K: keep (a sequence's items are de-identified recursively).
    case keep
    /// C: clean: dates shifted, text rid of identifying values, sequences cleaned recursively.
    case clean
    /// U: replace each UID with one derived from it.
    case replaceUID
    /// X/Z/U*: keep the sequence, replacing the UIDs in its items.
    case keepReplacingUIDs
}

/// PS3.15 Table E.1-1 as a lookup, and the resolution of each attribute's action under a set of options.
public enum ConfidentialityProfile {
    struct Row: Sendable {
        var basic: ProfileAction
        var options: [(DeidentificationOptions, Character)]
        var name: String
    }

    /// Rows with a fixed tag, by tag.
    static let exact: [UInt32: Row] = parsed.exact
    /// Rows with wildcard digits: (mask, value, row); a tag matches when `tag & mask == value`.
    static let repeating: [(mask: UInt32, value: UInt32, row: Row)] = parsed.repeating
    /// The number of rows read from the generated table.
    static var rowCount: Int { exact.count + repeating.count }

    private static let parsed: (exact: [UInt32: Row], repeating: [(mask: UInt32, value: UInt32, row: Row)]) = {
        var exact: [UInt32: Row] = [:]
        var repeating: [(mask: UInt32, value: UInt32, row: Row)] = []
        for line in tableE11.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == 4 else { continue }
            let tagText = fields[0]
            var mask: UInt32 = 0
            var value: UInt32 = 0
            for character in tagText {
                mask <<= 4
                value <<= 4
                if let digit = character.hexDigitValue {
                    mask |= 0xF
                    value |= UInt32(digit)
                }
            }
            let row = Row(basic: basicAction(String(fields[1])), options: optionActions(String(fields[2])), name: String(fields[3]))
            if mask == 0xFFFF_FFFF { exact[value] = row } else { repeating.append((mask, value, row)) }
        }
        return (exact, repeating)
    }()

    /// Resolves a Basic Profile code. Where the standard leaves the choice to the IOD (X/Z, X/D, Z/D, X/Z/D), Atrium
    /// takes the choice that keeps every IOD valid without knowing it: D when offered (valid for Type 1, 2 and 3),
    /// else Z.
    static func basicAction(_ code: String) -> ProfileAction {
        switch code {
        case "X": .remove
        case "Z": .empty
        case "K": .keep
        case "C": .clean
        case "U": .replaceUID
        case "X/Z/U*": .keepReplacingUIDs
        case "X/Z": .empty
        default: code.contains("D") ? .dummy : .remove
        }
    }

    private static func optionActions(_ text: String) -> [(DeidentificationOptions, Character)] {
        guard text != "-" else { return [] }
        return text.split(separator: ",").compactMap { pair in
            let parts = pair.split(separator: "=")
            guard parts.count == 2, let action = parts[1].first else { return nil }
            let option: DeidentificationOptions
            switch parts[0] {
            case "priv": option = .retainSafePrivate
            case "uid": option = .retainUIDs
            case "dev": option = .retainDeviceIdentity
            case "inst": option = .retainInstitutionIdentity
            case "pat": option = .retainPatientCharacteristics
            case "full": option = .retainLongitudinalFullDates
            case "mod": option = .retainLongitudinalModifiedDates
            case "desc": option = .cleanDescriptors
            case "sc": option = .cleanStructuredContent
            case "gr": option = .cleanGraphics
            default: return nil
            }
            return (option, action)
        }
    }

    static func row(for tag: Tag) -> Row? {
        if let row = exact[tag.rawValue] { return row }
        let group = tag.group
        // Only the curve (50xx) and overlay (60xx) groups repeat.
        guard group & 0xFF00 == 0x5000 || group & 0xFF00 == 0x6000 else { return nil }
        for r in repeating where tag.rawValue & r.mask == r.value { return r.row }
        return nil
    }

    /// The action for a standard attribute listed in Table E.1-1 under `options`, or nil when the table does not
    /// list it. An enabled option's K wins over its C, which wins over the Basic Profile; an option's X removes.
    public static func action(for tag: Tag, options: DeidentificationOptions) -> ProfileAction? {
        guard let row = row(for: tag) else { return nil }
        var chosen: ProfileAction?
        for (option, code) in row.options where options.contains(option) {
            switch code {
            case "K": return .keep
            case "C": chosen = .clean
            case "X": if chosen == nil { chosen = .remove }
            default: break
            }
        }
        return chosen ?? row.basic
    }

    /// Attributes the table says to remove (X) that an IOD requires as Type 2: emptied instead, which keeps no value
    /// either. Treatment Machine Name is Type 2 in the RT Beams Module (PS3.3 C.8.8.14).
    static let removedAsEmpty: Set<Tag> = [Tag(0x300A, 0x00B2)]

    /// The name PS3.15 gives the attribute, when listed.
    public static func name(of tag: Tag) -> String? { row(for: tag)?.name }

    /// Private attributes kept by the Retain Safe Private Option: (private creator, element byte within the block).
    /// A short list of attributes PS3.15 Table E.3.10-1 names as safe (diffusion parameters and scan geometry).
    static let safePrivate: Set<SafePrivate> = [
        SafePrivate(creator: "SIEMENS MR HEADER", group: 0x0019, element: 0x0C),
        SafePrivate(creator: "SIEMENS MR HEADER", group: 0x0019, element: 0x0D),
        SafePrivate(creator: "SIEMENS MR HEADER", group: 0x0019, element: 0x0E),
        SafePrivate(creator: "SIEMENS MR HEADER", group: 0x0019, element: 0x27),
        SafePrivate(creator: "GEMS_PARM_01", group: 0x0043, element: 0x27),
        SafePrivate(creator: "GEMS_PARM_01", group: 0x0043, element: 0x39),
        SafePrivate(creator: "GEMS_ACQU_01", group: 0x0019, element: 0x23),
        SafePrivate(creator: "GEMS_ACQU_01", group: 0x0019, element: 0x24),
        SafePrivate(creator: "Philips Imaging DD 001", group: 0x2001, element: 0x03),
        SafePrivate(creator: "Philips MR Imaging DD 001", group: 0x2005, element: 0xB0),
        SafePrivate(creator: "Philips MR Imaging DD 001", group: 0x2005, element: 0xB1),
        SafePrivate(creator: "Philips MR Imaging DD 001", group: 0x2005, element: 0xB2),
    ]

    struct SafePrivate: Hashable, Sendable {
        var creator: String
        var group: UInt16
        var element: UInt8
    }
}
