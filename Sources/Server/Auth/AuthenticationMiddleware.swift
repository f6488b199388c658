import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Platform

/// Authenticates every request, checks CSRF on a browser session's state-changing requests, applies ``AccessPolicy``
/// to the route family, and records the audit event of each access to patient data.
///
/// Credentials come from `Authorization: Bearer atr_…` (API clients) or the session cookie (browsers); never from the
/// URL: a request whose query names `access_token` is refused. A bearer token that is unknown, expired or revoked is
/// a 401, not an anonymous request. Cost per request: one indexed query (token or session lookup).
public struct AuthenticationMiddleware: RouterMiddleware {
    public typealias Context = AtriumRequestContext
    let identity: IdentityStore
    let logger: Logger
    /// Sign-in attempts per client address (``RateLimiter``): `POST /api/session`, `/login`, `/api/setup`, `/setup`.
    let signInLimiter: RateLimiter
    /// Requests with a bad bearer token per client address.
    let tokenLimiter: RateLimiter

    public init(
        identity: IdentityStore, logger: Logger = Logger(label: "atrium.auth"), signInLimiter: RateLimiter = RateLimiter(limit: 0),
        tokenLimiter: RateLimiter = RateLimiter(limit: 0)
    ) {
        self.identity = identity
        self.logger = logger
        self.signInLimiter = signInLimiter
        self.tokenLimiter = tokenLimiter
    }

    /// The requests that try a password or a setup token.
    static func isSignInAttempt(_ request: Request) -> Bool {
        guard request.method == .post else { return false }
        return ["/api/session", "/login", "/api/setup", "/setup"].contains(request.uri.path)
    }

    /// 429 with Retry-After, audited as a Security Alert.
    func tooMany(_ limiter: RateLimiter, key: String, what: String, source: String) async -> Response {
        await identity.audit.record(
            AuditEvent(
                eventID: .securityAlert, eventType: .useOfRestrictedFunction, action: .execute, outcome: .seriousFailure, user: "",
                sourceAddress: source, detail: "rate limit: \(what)"))
        var response = Self.problem(.tooManyRequests, "too many \(what) from this address: wait a minute")
        response.headers[.retryAfter] = String(await limiter.retry(key))
        return response
    }

    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!
    static let fetchSite = HTTPField.Name("Sec-Fetch-Site")!

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        var request = request
        let path = request.uri.path
        let family = RouteFamily.of(method: request.method, path: path)
        let source = Self.source(request, context)
        if request.uri.queryParameters["access_token"] != nil {
            return Self.problem(.badRequest, "credentials are never accepted in the URL; send Authorization: Bearer")
        }
        let client = Self.client(request, source: source)
        if Self.isSignInAttempt(request), !(await signInLimiter.count(client)) {
            logger.notice("sign-in rate limit reached", metadata: ["source": "\(client)"])
            return await tooMany(signInLimiter, key: client, what: "sign-in attempts", source: source)
        }
        if let authorization = request.headers[.authorization] {
            if await tokenLimiter.limited(client) {
                return await tooMany(tokenLimiter, key: client, what: "requests with a bad token", source: source)
            }
            let parts = authorization.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                return Self.problem(.unauthorized, "only Authorization: Bearer is accepted", challenge: true)
            }
            guard let principal = try await identity.principal(bearerToken: String(parts[1]).trimmingCharacters(in: .whitespaces)) else {
                _ = await tokenLimiter.count(client)
                await audit(family, path: path, principal: nil, user: "", source: source, status: .unauthorized, detail: "invalid token")
                return Self.problem(.unauthorized, "the token is unknown, expired or revoked", challenge: true)
            }
            context.principal = principal
        } else if let cookie = request.cookies[IdentityStore.sessionCookieName]?.value, !cookie.isEmpty {
            context.principal = try await identity.principal(sessionID: cookie)
        }
        if let principal = context.principal { context.language = principal.language }

        // CSRF: a browser session's state-changing request carries the session's token (header or form field), and is
        // not one the browser itself marks as coming from another site (Fetch Metadata, `Sec-Fetch-Site: cross-site`).
        if case .session(let expected) = context.principal?.method, ![.get, .head, .options].contains(request.method),
            family != .signIn
        {
            if request.headers[Self.fetchSite]?.lowercased() == "cross-site" {
                logger.notice("cross-site request refused", metadata: ["path": "\(path)"])
                return Self.problem(.forbidden, "a state-changing request from another site is refused (Sec-Fetch-Site: cross-site)")
            }
            var submitted = request.headers[Self.csrfHeader]
            if submitted == nil,
                request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true
            {
                let body = try await request.body.collect(upTo: 1 << 20)
                submitted = FormBody(String(buffer: body))["csrf"]
                request.body = RequestBody(buffer: body)
            }
            guard let submitted, Secrets.constantTimeEqual(submitted, expected) else {
                logger.notice("CSRF token missing or wrong", metadata: ["path": "\(path)", "user": "\(context.principal?.username ?? "")"])
                return Self.problem(.forbidden, "the CSRF token (X-CSRF-Token header or csrf form field) is missing or wrong")
            }
        }

        let principal = context.principal
        let user = principal?.username ?? ""
        switch AccessPolicy.decide(family, principal: principal) {
        case .unauthenticated:
            await audit(family, path: path, principal: nil, user: "", source: source, status: .unauthorized, detail: "not signed in")
            if [.clinicalPages, .adminPages, .libraryPages, .readingPages, .laboratoryPages].contains(family), request.method == .get {
                let target = path + (request.uri.query.map { "?" + $0 } ?? "")
                let encoded = target.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"
                return Response.redirect(to: "/login?return=\(encoded)", type: .found)
            }
            return Self.problem(.unauthorized, "sign in or send Authorization: Bearer", challenge: true)
        case .forbidden(let reason):
            await audit(family, path: path, principal: principal, user: user, source: source, status: .forbidden, detail: reason)
            return Self.problem(.forbidden, reason)
        case .allow(let institution):
            let access = DICOMwebAccess(institution: institution, user: user)
            // Pages that show studies get the same scope (`DICOMwebAccess.current`), but record no access event of their own.
            guard [.dicomwebRead, .dicomwebStore, .delete].contains(family) else {
                let forwarded = request
                return try await DICOMwebAccess.$current.withValue(access) { try await next(forwarded, context) }
            }
            let forwarded = request
            do {
                let response = try await DICOMwebAccess.$current.withValue(access) { try await next(forwarded, context) }
                await audit(family, path: path, principal: principal, user: user, source: source, status: response.status, access: access)
                return response
            } catch {
                let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
                await audit(family, path: path, principal: principal, user: user, source: source, status: status, access: access)
                throw error
            }
        }
    }

    /// The audit event of a request to patient data (PS3.15 A.5.3): Query for QIDO-RS, Instances Transferred for WADO-RS
    /// (read) and STOW-RS (create), Study Deleted for deletions; refused requests are recorded with a failure outcome.
    private func audit(
        _ family: RouteFamily, path: String, principal: Principal?, user: String, source: String, status: HTTPResponse.Status,
        detail: String = "", access: DICOMwebAccess? = nil
    ) async {
        guard [.dicomwebRead, .dicomwebStore, .delete].contains(family) else { return }
        let outcome: AuditOutcome =
            switch status.code {
            case 200..<400: .success
            case 401, 403: .seriousFailure
            case 400..<500: .minorFailure
            default: .majorFailure
            }
        var studies = access?.studies ?? []
        let segments = path.split(separator: "/").map(String.init)
        if let i = segments.firstIndex(of: "studies"), i + 1 < segments.count, !studies.contains(segments[i + 1]) {
            studies.insert(segments[i + 1], at: 0)
        }
        var participants = studies.map(AuditParticipant.study)
        let event: AuditCode
        let action: AuditAction
        switch family {
        case .delete:
            event = .studyDeleted
            action = .delete
            if let i = segments.firstIndex(of: "patients"), i + 1 < segments.count {
                participants.append(.patient(segments[i + 1].removingPercentEncoding ?? segments[i + 1]))
            }
        case .dicomwebStore:
            event = .instancesTransferred
            action = .create
        default:
            let last = segments.last ?? ""
            if ["studies", "series", "instances"].contains(last) {
                event = .query
                action = .execute
                participants.append(.query(path))
            } else {
                event = .instancesTransferred
                action = .read
            }
        }
        let text = detail.isEmpty ? "\(status.code) \(path)" : "\(status.code) \(detail)"
        // A store of instances of several patients is one event per patient, each naming that patient and their
        // studies (PS3.15 A.5.3.4 names one patient), as for DIMSE associations.
        if family == .dicomwebStore, let groups = access?.studiesByPatient, groups.contains(where: { $0.patient != nil }) {
            for group in groups {
                await identity.audit.record(
                    AuditEvent(
                        eventID: event, action: action, outcome: outcome, user: user, sourceAddress: source, transport: "http",
                        participants: (group.patient.map { [AuditParticipant.patient($0)] } ?? [])
                            + group.studies.map(AuditParticipant.study),
                        detail: text))
            }
            return
        }
        await identity.audit.record(
            AuditEvent(
                eventID: event, action: action, outcome: outcome, user: user, sourceAddress: source, transport: "http",
                participants: participants, detail: text))
    }

    /// The client's address: the connection's peer (a proxy's `Forwarded` header is not trusted for audit).
    static func source(_ request: Request, _ context: Context) -> String {
        guard let address = context.remoteAddress else { return "" }
        return address.ipAddress ?? "\(address)"
    }

    /// The client a rate limit counts: the connection's peer, except that a proxy on this machine (a loopback peer) is
    /// trusted to name the client in the last `X-Forwarded-For` entry, so that a local TLS proxy does not make every
    /// user one client.
    static func client(_ request: Request, source: String) -> String {
        guard source == "127.0.0.1" || source == "::1", let forwarded = request.headers[forwardedFor] else { return source }
        let last = forwarded.split(separator: ",").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        return last.isEmpty ? source : last
    }

    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    /// A JSON error answer: `{"error": "…"}`.
    static func problem(_ status: HTTPResponse.Status, _ message: String, challenge: Bool = false) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if challenge { headers[.wwwAuthenticate] = "Bearer realm=\"atrium\"" }
        let body = (try? JSONSerialization.data(withJSONObject: ["error": message])) ?? Data()
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
