import Foundation

/// The kinds of institution in the alliance (DESIGN.md).
public enum InstitutionKind: String, CaseIterable, Sendable, Codable {
    /// The medical college.
    case college
    /// A hospital affiliated with the college.
    case affiliatedHospital = "affiliated-hospital"
    /// A grassroots hospital served by the alliance.
    case grassrootsHospital = "grassroots-hospital"
    /// An enterprise partner (a company).
    case enterprise
    /// A research institute (research supervision of trainees).
    case researchInstitute = "research-institute"
}

/// An institution of the alliance. `code` is the short name that DICOM peers are mapped to in the configuration and that
/// studies record as the institution they belong to.
public struct Institution: Sendable, Equatable, Codable {
    public var id: Int64
    public var code: String
    public var name: String
    public var kind: InstitutionKind
    /// Created by `atrium serve --demo` (and removed by `atrium demo remove`).
    public var demo: Bool

    public init(id: Int64, code: String, name: String, kind: InstitutionKind, demo: Bool = false) {
        self.id = id
        self.code = code
        self.name = name
        self.kind = kind
        self.demo = demo
    }
}

/// A person who signs in. The password hash is never part of this value.
public struct Person: Sendable, Equatable, Codable {
    public var id: Int64
    public var username: String
    public var displayName: String
    public var institutionID: Int64?
    public var roles: Set<Role>
    public var language: InterfaceLanguage
    public var disabled: Bool
    /// A demonstration account made by `atrium serve --demo` (and removed by `atrium demo remove`).
    public var demo: Bool

    public init(
        id: Int64, username: String, displayName: String, institutionID: Int64?, roles: Set<Role>, language: InterfaceLanguage,
        disabled: Bool, demo: Bool = false
    ) {
        self.demo = demo
        self.id = id
        self.username = username
        self.displayName = displayName
        self.institutionID = institutionID
        self.roles = roles
        self.language = language
        self.disabled = disabled
    }
}

/// The scopes an API token may carry.
public enum TokenScope {
    /// QIDO-RS, WADO-RS, rendered and thumbnail resources.
    public static let dicomwebRead = "dicomweb:read"
    /// STOW-RS and deletion (deletion also needs the admin role).
    public static let dicomwebWrite = "dicomweb:write"
    /// The JSON API under /api.
    public static let api = "api"
    /// Every scope, the default of a new token.
    public static let all: Set<String> = [dicomwebRead, dicomwebWrite, api]
}

/// An API token as listed (the secret itself is shown once, at creation, and stored only as its SHA-256).
public struct APIToken: Sendable, Equatable, Codable {
    public var id: Int64
    public var userID: Int64
    public var name: String
    public var scopes: Set<String>
    public var createdAt: Date
    public var expiresAt: Date?
    public var revokedAt: Date?
    public var lastUsedAt: Date?

    public init(
        id: Int64, userID: Int64, name: String, scopes: Set<String>, createdAt: Date, expiresAt: Date?, revokedAt: Date?,
        lastUsedAt: Date?
    ) {
        self.id = id
        self.userID = userID
        self.name = name
        self.scopes = scopes
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.lastUsedAt = lastUsedAt
    }
}

/// The security settings of sign-in: session lifetimes, lock-out, password rules and hashing cost.
public struct SecurityPolicy: Sendable, Equatable {
    /// A session unused this long ends.
    public var sessionIdleSeconds: Double = 2 * 3600
    /// A session ends this long after sign-in, used or not.
    public var sessionAbsoluteSeconds: Double = 12 * 3600
    /// Failed sign-ins in a row that lock an account.
    public var maximumFailures: Int = 5
    /// How long a locked account stays locked.
    public var lockoutSeconds: Double = 15 * 60
    /// The shortest password accepted.
    public var minimumPasswordLength: Int = 10
    /// PBKDF2-HMAC-SHA256 iterations for new hashes (OWASP's 2023 figure); hashes keep the count they were made with.
    public var passwordIterations: Int = 600_000

    public init() {}
}

/// An identity or audit operation that cannot be done, with what a person needs to fix it.
public enum PlatformError: Error, Equatable, CustomStringConvertible {
    /// Input that breaks a rule (a short password, an unknown role, a duplicate username).
    case invalid(String)
    /// The named thing does not exist.
    case notFound(String)
    /// The database failed.
    case database(String)

    public var description: String {
        switch self {
        case .invalid(let message): message
        case .notFound(let what): "no such \(what)"
        case .database(let message): "database: \(message)"
        }
    }
}
