import Foundation

/// Why a consultation operation cannot be done, with what a person needs to understand it.
public enum ReadingError: Error, Equatable, CustomStringConvertible {
    /// The request, work item, report or critical result does not exist (or is not visible to the caller).
    case notFound(String)
    /// Input that breaks a rule (an empty question, an unknown priority, a RADPEER score without its comment).
    case invalid(String)
    /// The operation is not allowed from the current state (`from`), e.g. withdrawing a claimed request.
    case invalidTransition(action: String, from: String)
    /// Another reader holds the lock (until its lease ends).
    case locked(owner: String, until: Date?)
    /// The caller does not hold the lock this operation needs.
    case notLockHolder(String)
    /// A UPS change without the owner's Transaction UID, or with another one (PS3.4 CC.2.1.3).
    case transactionUIDMismatch
    /// Someone else changed the same thing first (two readers signing at the same instant): reload and look.
    case conflict(String)
    /// The role × action table refuses it.
    case forbidden(String)
    /// The password re-entered to sign is wrong.
    case wrongPassword
    /// The database failed.
    case database(String)

    public var description: String {
        switch self {
        case .notFound(let what): "no such \(what)"
        case .invalid(let message): message
        case .invalidTransition(let action, let from): "cannot \(action) from \(from)"
        case .locked(let owner, let until):
            "locked by \(owner)" + (until.map { " until \(ReadingFormat.iso($0))" } ?? "")
        case .notLockHolder(let what): "only the reader who holds the lock may \(what)"
        case .transactionUIDMismatch: "the Transaction UID is missing or not the owner's"
        case .conflict(let what): "conflict: \(what)"
        case .forbidden(let reason): reason
        case .wrongPassword: "the password is wrong"
        case .database(let message): "database: \(message)"
        }
    }
}
