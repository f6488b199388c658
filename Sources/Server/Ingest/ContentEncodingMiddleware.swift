import DICOM
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Request bodies with a Content-Encoding (RFC 9110 8.4): `gzip` and `deflate` are inflated through the shared
/// ``BoundedInflater`` under ``IntakeLimits`` (at most `maximumBodyBytes` decoded, the compression ratio cap past
/// 16 MiB) before any route sees them; any other coding is refused with 415. Runs after sign-in, so only someone
/// known can make the server inflate anything.
struct ContentEncodingMiddleware: RouterMiddleware {
    typealias Context = AtriumRequestContext

    /// The caps of one decoded body.
    let limits: InflationLimits
    /// Most compressed bytes read.
    let maximumCompressedBytes: Int

    init(limits: IntakeLimits, maximumBodyBytes: Int) {
        var inflation = limits.inflation
        inflation.maximumBytes = maximumBodyBytes
        self.limits = inflation
        maximumCompressedBytes = maximumBodyBytes
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let field = request.headers[.contentEncoding] else { return try await next(request, context) }
        let codings = field.lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
            !$0.isEmpty && $0 != "identity"
        }
        if codings.isEmpty { return try await next(request, context) }
        guard codings.count == 1, let coding = codings.first, ["gzip", "x-gzip", "deflate"].contains(coding) else {
            return AuthenticationMiddleware.problem(
                .unsupportedMediaType, "Content-Encoding \(field) is not accepted: send gzip, deflate or no coding")
        }
        let compressed = try await request.body.collect(upTo: maximumCompressedBytes)
        let decoded: [UInt8]
        do {
            decoded = try compressed.withUnsafeReadableBytes { try BoundedInflater.inflate($0, format: .zlibOrGzip, limits: limits) }
        } catch let error as InflationError {
            switch error {
            case .tooLarge, .ratioExceeded:
                return AuthenticationMiddleware.problem(.contentTooLarge, "the \(coding) request body \(error)")
            case .corrupt:
                return AuthenticationMiddleware.problem(.badRequest, "the \(coding) request body cannot be decoded: \(error)")
            }
        }
        var head = request.head
        head.headerFields[.contentEncoding] = nil
        head.headerFields[.contentLength] = "\(decoded.count)"
        return try await next(Request(head: head, body: RequestBody(buffer: ByteBuffer(bytes: decoded))), context)
    }
}
