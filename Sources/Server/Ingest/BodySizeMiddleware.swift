import Hummingbird

/// A request whose Content-Length declares more than `maximumUploadBytes` is refused with 413 before a byte of its body
/// is read, and before sign-in (RFC 9110 15.5.14), so an oversized upload costs neither memory nor time. Bodies without
/// a length (chunked) are held to the same cap, and to each route's own smaller one, as they are collected.
struct BodySizeMiddleware: RouterMiddleware {
    typealias Context = AtriumRequestContext

    let maximumUploadBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let field = request.headers[.contentLength] {
            guard let declared = Int(field.trimmingCharacters(in: " \t")), declared >= 0 else {
                return AuthenticationMiddleware.problem(.badRequest, "the Content-Length \(field.prefix(40)) is not a byte count")
            }
            if declared > maximumUploadBytes {
                var response = AuthenticationMiddleware.problem(
                    .contentTooLarge,
                    "the request body declares \(declared) bytes, more than the cap of \(maximumUploadBytes) bytes (maximumUploadBytes)")
                response.headers[.connection] = "close"
                return response
            }
        }
        return try await next(request, context)
    }
}
