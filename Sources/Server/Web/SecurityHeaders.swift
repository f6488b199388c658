import HTTPTypes
import Hummingbird

/// The security headers of every response (OWASP ASVS 5.0 V3.4), errors and 404s included: a Content Security Policy
/// that allows scripts and styles from this origin only (no `unsafe-inline`, no `eval`), refuses framing, no MIME
/// sniffing, no referrer beyond the origin, and HTTP Strict Transport Security when the site is served over TLS.
///
/// Pages keep to the policy by holding no inline script (only `type="application/json"` data blocks, which are never
/// run), no inline event handler and no `style` attribute; scripts set styles through the CSSOM, which `style-src`
/// does not govern. docs/security.md lists each directive and why.
public struct SecurityHeadersMiddleware: RouterMiddleware {
    public typealias Context = AtriumRequestContext
    /// `Strict-Transport-Security: max-age=…` on every response when the public URL is https, and on responses to
    /// requests a TLS-terminating proxy marks as https (`X-Forwarded-Proto: https` or `Forwarded: proto=https`); 0: never.
    let hstsSeconds: Int
    let publicHTTPS: Bool

    public init(hstsSeconds: Int, publicURL: String?) {
        self.hstsSeconds = hstsSeconds
        self.publicHTTPS = publicURL?.lowercased().hasPrefix("https://") == true
    }

    /// The policy: this origin only; images also from `blob:` (decoded frames drawn by scripts) and `data:`; connections
    /// to this origin (fetch, EventSource, and WebSocket, which CSP Level 3 matches by `'self'`). No page may be framed
    /// by another site; the image viewers may be framed by this origin's own pages (the reporting page shows the viewer
    /// beside the report).
    public static func contentSecurityPolicy(path: String) -> String {
        let framed = framedBySelf(path)
        return [
            "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:", "font-src 'self'",
            "connect-src 'self'", "media-src 'self' blob:", "worker-src 'self' blob:", "frame-src 'self'", "object-src 'none'",
            "base-uri 'none'", "form-action 'self'", framed ? "frame-ancestors 'self'" : "frame-ancestors 'none'",
        ].joined(separator: "; ")
    }

    /// The pages this origin frames: the viewers, and the laboratory result beside a laboratory consultation's report.
    static func framedBySelf(_ path: String) -> Bool {
        ["/viewer", "/slide-viewer", "/lab/consultations"].contains { path == $0 || path.hasPrefix($0 + "/") }
    }

    static let names = (
        csp: HTTPField.Name("Content-Security-Policy")!, nosniff: HTTPField.Name("X-Content-Type-Options")!,
        frame: HTTPField.Name("X-Frame-Options")!, referrer: HTTPField.Name("Referrer-Policy")!,
        hsts: HTTPField.Name("Strict-Transport-Security")!, opener: HTTPField.Name("Cross-Origin-Opener-Policy")!,
        permissions: HTTPField.Name("Permissions-Policy")!, forwardedProto: HTTPField.Name("X-Forwarded-Proto")!,
        forwarded: HTTPField.Name("Forwarded")!
    )

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        apply(to: &response.headers, request: request)
        return response
    }

    func apply(to headers: inout HTTPFields, request: Request) {
        let names = Self.names
        let path = request.uri.path
        if headers[names.csp] == nil { headers[names.csp] = Self.contentSecurityPolicy(path: path) }
        headers[names.nosniff] = "nosniff"
        if headers[names.frame] == nil { headers[names.frame] = Self.framedBySelf(path) ? "SAMEORIGIN" : "DENY" }
        headers[names.referrer] = "strict-origin-when-cross-origin"
        headers[names.opener] = "same-origin"
        headers[names.permissions] = "camera=(), microphone=(), geolocation=(), payment=()"
        if hstsSeconds > 0, publicHTTPS || Self.forwardedHTTPS(request) {
            headers[names.hsts] = "max-age=\(hstsSeconds); includeSubDomains"
        }
    }

    /// Whether a proxy in front says the client spoke https.
    static func forwardedHTTPS(_ request: Request) -> Bool {
        if request.headers[names.forwardedProto]?.lowercased().split(separator: ",").first?.trimmingCharacters(in: .whitespaces) == "https"
        {
            return true
        }
        return request.headers[names.forwarded]?.lowercased().contains("proto=https") == true
    }
}
