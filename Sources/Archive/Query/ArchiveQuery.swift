import DICOM

/// The level of a query (0008,0052) Query/Retrieve Level (PS3.4 C.6.1.1.1, C.6.2.1.1).
public enum QueryLevel: String, Sendable, CaseIterable, Comparable {
    case patient = "PATIENT"
    case study = "STUDY"
    case series = "SERIES"
    case instance = "IMAGE"

    var depth: Int {
        switch self {
        case .patient: 0
        case .study: 1
        case .series: 2
        case .instance: 3
        }
    }

    public static func < (a: QueryLevel, b: QueryLevel) -> Bool { a.depth < b.depth }
}

/// The information model a query runs in (PS3.4 C.6.1 Patient Root, C.6.2 Study Root).
public enum QueryModel: String, Sendable {
    case patientRoot
    case studyRoot
}

/// How one key matches (PS3.4 C.2.2.2).
public indirect enum Matcher: Sendable, Equatable {
    /// Zero-length key or `*`: every entity matches (C.2.2.2.3).
    case universal
    /// Single value matching (C.2.2.2.1), case-insensitive for PN.
    case single(String)
    /// Wildcard matching with `*` and `?` (C.2.2.2.4).
    case wildcard(String)
    /// List of values, any of which may match: UID list matching (C.2.2.2.2), or a QIDO comma list.
    case list([Matcher])
    /// Range matching of a DA, TM or DT value (C.2.2.2.5); nil bounds are open.
    case range(lower: String?, upper: String?)
    /// Combined date and time range matching of a DA key with its TM key (C.2.2.2.5.2); bounds as DT strings.
    case dateTimeRange(timeTag: Tag, lower: String?, upper: String?)
    /// Empty value matching, `""`: entities whose value is absent or empty (C.2.2.2.1.1).
    case empty
    /// Sequence matching (C.2.2.2.6): an item with these keys; no keys is universal.
    case sequence([QueryKey])
}

/// One key of a query: the attribute, its VR, and how it matches.
public struct QueryKey: Sendable, Equatable {
    public var tag: Tag
    public var vr: VR
    public var matcher: Matcher

    public init(tag: Tag, vr: VR, matcher: Matcher) {
        self.tag = tag
        self.vr = vr
        self.matcher = matcher
    }
}

/// The attributes a result carries beyond the matching keys (QIDO-RS `includefield`, PS3.18 8.3.4.3).
public enum IncludeFields: Sendable, Equatable {
    case tags(Set<Tag>)
    case all
}

/// A query against the archive, shared by C-FIND (PS3.4 C.4.1) and QIDO-RS (PS3.18 10.6).
public struct ArchiveQuery: Sendable, Equatable {
    public var model: QueryModel
    public var level: QueryLevel
    /// Matching and return keys, in the order given.
    public var keys: [QueryKey]
    /// Extra return attributes.
    public var includeFields: IncludeFields
    /// Whether the default QIDO-RS return attributes of the level are added (PS3.18 Table 10.6.1-5..7).
    public var includesDefaultAttributes: Bool
    public var limit: Int?
    public var offset: Int
    /// `fuzzymatching=true` (PS3.18 8.3.4.4) or the C-FIND fuzzy semantic matching extended negotiation.
    public var fuzzyMatching: Bool
    /// When set, only studies that belong to this institution (and their patients, series and instances) match: the
    /// authorization scope of a site user or of a DICOM peer mapped to an institution.
    public var institution: String?

    public init(
        model: QueryModel = .studyRoot, level: QueryLevel, keys: [QueryKey] = [], includeFields: IncludeFields = .tags([]),
        includesDefaultAttributes: Bool = false, limit: Int? = nil, offset: Int = 0, fuzzyMatching: Bool = false
    ) {
        self.model = model
        self.level = level
        self.keys = keys
        self.includeFields = includeFields
        self.includesDefaultAttributes = includesDefaultAttributes
        self.limit = limit
        self.offset = offset
        self.fuzzyMatching = fuzzyMatching
    }

    /// Keys that restrict the result (not universal).
    public var matchingKeys: [QueryKey] { keys.filter { $0.matcher != .universal } }

    /// The attributes each result carries.
    public var returnTags: Set<Tag> {
        var tags = Set(keys.map(\.tag))
        if includesDefaultAttributes { tags.formUnion(LevelAttributes.qidoDefaults(for: level)) }
        if case .tags(let extra) = includeFields { tags.formUnion(extra) }
        return tags
    }

    /// Checks the level against the model: Study Root has no patient level (PS3.4 C.6.2.1).
    public func validate() throws(ArchiveError) {
        if model == .studyRoot && level == .patient {
            throw .invalidQuery(reason: "the Study Root information model has no PATIENT level")
        }
        if let limit, limit < 0 { throw .invalidQuery(reason: "limit must not be negative") }
        if offset < 0 { throw .invalidQuery(reason: "offset must not be negative") }
    }
}
