/// The roles of DESIGN.md. A person may hold several; the raw values are the names used on the command line.
public enum Role: String, CaseIterable, Sendable, Codable, Hashable {
    /// A grassroots hospital's user: sends studies, requests consultations, reads its own institution's reports.
    case site
    /// An expert reader.
    case reader
    /// A curator or teacher of the teaching-case library.
    case curator
    /// A student or trainee: teaching cases only, never clinical studies.
    case student
    /// A supervisor of trainees.
    case supervisor
    /// A programme administrator.
    case admin
    /// A health manager of the health-service centre: the records, examinations, assessments and follow-ups of the
    /// residents assigned to them (DESIGN.md).
    case healthManager = "health-manager"
}

/// The interface languages.
public enum InterfaceLanguage: String, CaseIterable, Sendable, Codable {
    case chinese = "zh-CN"
    case english = "en"
}

/// Who is making a request, once authenticated: a signed-in person, an API token's owner, or a DICOM peer's institution.
public struct Principal: Sendable, Equatable {
    public enum Method: Sendable, Equatable {
        /// A browser session (cookie); state-changing requests must carry `csrfToken`.
        case session(csrfToken: String)
        /// A bearer API token with its scopes.
        case token(scopes: Set<String>)
        /// A DICOM application entity mapped to an institution.
        case dicomPeer(aeTitle: String)
    }

    public var userID: Int64?
    public var username: String
    public var displayName: String
    public var roles: Set<Role>
    public var institutionID: Int64?
    /// The code of the person's institution: what studies record as the institution they belong to.
    public var institutionCode: String?
    public var language: InterfaceLanguage
    public var method: Method

    public init(
        userID: Int64?, username: String, displayName: String, roles: Set<Role>, institutionID: Int64?,
        language: InterfaceLanguage = .chinese, method: Method, institutionCode: String? = nil
    ) {
        self.institutionCode = institutionCode
        self.userID = userID
        self.username = username
        self.displayName = displayName
        self.roles = roles
        self.institutionID = institutionID
        self.language = language
        self.method = method
    }

    public func has(_ role: Role) -> Bool { roles.contains(role) }
}
