import Archive
import HTTPTypes
import Hummingbird
import Logging

/// Answers 503 Service Unavailable, with `Retry-After` and the reason, to any request that failed because the index's
/// database or the object store is out of reach for now (``ArchiveError/isUnavailable``), however the route wrapped
/// the failure; without it such a request got a bare 500, which tells a client neither that trying again later will
/// work nor why (docs/reliability.md, Faults). Each such failure is logged with its cause.
public struct ServiceUnavailableMiddleware: RouterMiddleware {
    public typealias Context = AtriumRequestContext
    let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    /// Seconds a client is asked to wait before it tries again.
    static let retryAfterSeconds = 5

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            guard let reason = Self.reason(for: error) else { throw error }
            logger.warning(
                "request failed: storage unavailable",
                metadata: ["path": "\(request.uri.path)", "method": "\(request.method)", "error": "\(Self.text(of: error))"])
            throw HTTPError(
                .serviceUnavailable, headers: [.retryAfter: "\(Self.retryAfterSeconds)"],
                message: "\(reason); nothing was changed by this request that failed, try again in a few seconds")
        }
    }

    /// What a client is told when `error` is the storage being out of reach, or nil when it is anything else.
    static func reason(for error: any Error) -> String? {
        let text = text(of: error)
        guard ArchiveError.isUnavailable(text) else { return nil }
        return text.contains(ArchiveError.unreachableDatabase) ? "the database is unreachable" : "the object store is unreachable"
    }

    static func text(of error: any Error) -> String {
        if let error = error as? HTTPError {
            // A route that already chose a status other than a server error keeps it.
            guard error.status.code >= 500 else { return "" }
            return error.body ?? ""
        }
        return String(describing: error)
    }
}
