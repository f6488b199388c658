import Foundation
import Hummingbird
import Platform

/// Protection against cross-site request forgery for forms and page scripts. A signed-in browser session carries its
/// own token (`Principal.Method.session`); before sign-in, a random token in the `atrium_csrf` cookie is echoed by the
/// form (the double-submit pattern). Forms send it as the `csrf` field, scripts as the `X-CSRF-Token` header.
enum CSRF {
    static let cookieName = "atrium_csrf"
    static let formField = "csrf"
    static let header = HTTPFields.Element.Name("X-CSRF-Token")!

    /// The token a page embeds, and the cookie to set when the browser has none yet.
    static func token(request: Request, context: AtriumRequestContext) -> (token: String, cookie: Cookie?) {
        if case .session(let token) = context.principal?.method { return (token, nil) }
        if let existing = request.cookies[cookieName]?.value, existing.count >= 32 { return (existing, nil) }
        let fresh = randomToken()
        return (fresh, Cookie(name: cookieName, value: fresh, path: "/", secure: false, httpOnly: true, sameSite: .strict))
    }

    /// Whether `submitted` is the token this browser was given. Requests made with a bearer token or by a DICOM peer
    /// are not browser requests and pass.
    static func verify(_ submitted: String?, request: Request, context: AtriumRequestContext) -> Bool {
        let expected: String?
        switch context.principal?.method {
        case .session(let token): expected = token
        case .token, .dicomPeer: return true
        case nil: expected = request.cookies[cookieName]?.value
        }
        guard let expected, !expected.isEmpty, let submitted else { return false }
        return constantTimeEqual(Array(expected.utf8), Array(submitted.utf8))
    }

    /// 32 random bytes as hexadecimal.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}

/// A URL-encoded form body (`application/x-www-form-urlencoded`, WHATWG URL 5.1).
struct FormBody {
    private(set) var values: [String: String] = [:]

    init(_ text: String) {
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(parts[0])
            let value = parts.count > 1 ? Self.decode(parts[1]) : ""
            if values[name] == nil { values[name] = value }
        }
    }

    static func read(_ request: Request, limitBytes: Int = 64 * 1024) async throws -> FormBody {
        let buffer = try await request.body.collect(upTo: limitBytes)
        return FormBody(String(buffer: buffer))
    }

    subscript(name: String) -> String? { values[name] }

    private static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
