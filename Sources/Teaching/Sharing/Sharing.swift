import Foundation

/// An ordered playlist of cases (a curator's selection for a lesson or a self-test).
public struct CaseCollection: Sendable, Equatable {
    public var id: Int64
    public var title: String
    public var description: String
    public var owner: String
    /// Case ids in the order they are shown.
    public var caseIDs: [Int64]
    public var createdAt: Date
    public var updatedAt: Date
    public var revision: Int64

    public init(
        id: Int64, title: String, description: String, owner: String, caseIDs: [Int64], createdAt: Date, updatedAt: Date, revision: Int64
    ) {
        self.id = id
        self.title = title
        self.description = description
        self.owner = owner
        self.caseIDs = caseIDs
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.revision = revision
    }
}

/// A link that opens one case or one collection without an account, until it expires or is revoked. Only its SHA-256
/// is stored; the link itself is shown once, when it is made.
public struct ShareLink: Sendable, Equatable {
    public enum Target: Sendable, Equatable, Hashable {
        case teachingCase(Int64)
        case collection(Int64)

        public var kind: String {
            switch self {
            case .teachingCase: "case"
            case .collection: "collection"
            }
        }

        public var id: Int64 {
            switch self {
            case .teachingCase(let id), .collection(let id): id
            }
        }

        public init?(kind: String, id: Int64) {
            switch kind {
            case "case": self = .teachingCase(id)
            case "collection": self = .collection(id)
            default: return nil
            }
        }
    }

    /// What the link lets its holder do: read the page and see the rendered images (view), or also download the
    /// de-identified DICOM files (download).
    public enum Scope: String, Sendable, Codable, CaseIterable {
        case view, download
    }

    public var id: Int64
    public var target: Target
    public var scope: Scope
    public var expiresAt: Date
    public var createdBy: String
    public var createdAt: Date
    public var revokedAt: Date?

    /// Whether the link opens its target at `now`.
    public func isUsable(at now: Date) -> Bool { revokedAt == nil && now < expiresAt }
}
