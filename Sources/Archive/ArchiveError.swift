import DICOM

/// Why an archive operation failed, with the context a person needs to act on it.
public enum ArchiveError: Error, Sendable, CustomStringConvertible {
    /// A file system operation on the blob store failed.
    case storage(path: String, operation: String, reason: String)
    /// A blob that the index refers to is missing.
    case blobNotFound(key: String)
    /// The index database reported an error.
    case database(operation: String, code: Int32, message: String)
    /// The schema in the database is newer than this program knows.
    case unsupportedSchemaVersion(found: Int, supported: Int)
    /// The upload is not a readable DICOM stream (truncated, malformed, not DICOM).
    case unreadable(source: String, underlying: DICOMError)
    /// A required identifying attribute is absent or not a valid UID (PS3.4 C.6.1.1, PS3.5 9.1).
    case invalidIdentifier(source: String, tag: Tag, reason: String)
    /// A query is not valid for the information model (PS3.4 C.4.1.1.3; PS3.18 8.3.4).
    case invalidQuery(reason: String)
    /// An S3-compatible object store refused or failed a request: `code` and `message` are the store's own
    /// (`NoSuchBucket`, `AccessDenied`, `SignatureDoesNotMatch`, `InvalidAccessKeyId`…), or `NetworkError`, `Timeout`,
    /// `InvalidResponse` and `Configuration` when no answer came or it made no sense; `status` is the HTTP status, if any.
    case objectStore(operation: String, location: String, status: Int?, code: String, message: String)

    public var description: String {
        switch self {
        case .storage(let path, let operation, let reason): "blob store: \(operation) \(path): \(reason)"
        case .blobNotFound(let key): "blob \(key) is missing"
        case .database(let operation, let code, let message): "index: \(operation) failed (\(code)): \(message)"
        case .unsupportedSchemaVersion(let found, let supported):
            "index schema version \(found) is newer than this program's \(supported)"
        case .unreadable(let source, let underlying): "\(source): \(underlying)"
        case .invalidIdentifier(let source, let tag, let reason): "\(source): \(tag) \(reason)"
        case .invalidQuery(let reason): "invalid query: \(reason)"
        case .objectStore(let operation, let location, let status, let code, let message):
            "object store: \(operation) \(location) failed\(status.map { " (HTTP \($0))" } ?? ""): \(code): \(message)"
        }
    }
}

extension ArchiveError {
    /// The words every "the index's database cannot be reached" failure carries, however a caller wraps it, so that the
    /// HTTP layer can answer 503 and the DIMSE layer A700 for it (docs/reliability.md, Faults).
    public static let unreachableDatabase = "the database is unreachable"

    /// Whether the failure is the index's database or the object store being out of reach for now (worth retrying
    /// later), rather than something wrong with the request or the data.
    public var isUnavailable: Bool { Self.isUnavailable(description) }

    /// The same judgement on the text of an error that wrapped an ``ArchiveError`` (a domain store's, an HTTP error's).
    public static func isUnavailable(_ text: String) -> Bool {
        if text.contains(unreachableDatabase) { return true }
        guard text.contains("object store:") else { return false }
        return text.contains(": NetworkError:") || text.contains(": Timeout:") || text.contains("(HTTP 503)")
            || text.contains("(HTTP 502)") || text.contains("(HTTP 504)")
    }
}
