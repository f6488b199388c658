import Archive
import Foundation
import Hummingbird
import Logging
import NIOCore
import Platform
import Synchronization

/// The one-time token that creates the first administrator: issued at start while no administrator exists, shown in the
/// start banner as the setup link, and spent by the setup page or `POST /api/setup`. It lives only in memory, so a
/// restart makes the old link useless. A request holds the token while it creates the administrator: a second request
/// at the same moment finds it busy, so exactly one administrator is created.
public final class SetupToken: Sendable {
    private enum State {
        case closed
        case open(String)
        case inUse(String)
    }

    /// What ``claim(_:)`` found.
    enum Claim: Equatable {
        /// The token was right and is now held by the caller, who must ``spend()`` or ``release()`` it.
        case claimed
        /// Another request holds it at this moment.
        case busy
        /// Wrong, spent, or never issued.
        case wrong
    }

    private let state = Mutex<State>(.closed)
    /// With several processes on one PostgreSQL: where every process's token is kept (its digest), so that a setup link
    /// works on whichever process the proxy sends it to.
    let cluster: ProcessCluster?

    public init(cluster: ProcessCluster? = nil) { self.cluster = cluster }

    /// ``issue()``, and the token made valid on the other processes too (when there are others to tell). A failure to
    /// share it leaves the link working on this process only.
    public func issueShared() async -> String {
        let token = issue()
        try? await cluster?.publishSetupToken(token)
        return token
    }

    /// ``claim(_:)``, accepting another process's unspent token too: the administrator is then created by one insert
    /// that matches nothing once an administrator exists, so two setups at once (on two processes) still make one.
    func claimShared(_ candidate: String) async -> Claim {
        let local = claim(candidate)
        guard local == .wrong, let cluster, (try? await cluster.isSetupToken(candidate)) == true else { return local }
        return .claimed
    }

    /// Whether `candidate` is this process's or (with several) another process's unspent token.
    func matchesShared(_ candidate: String) async -> Bool {
        if matches(candidate) { return true }
        guard let cluster else { return false }
        return (try? await cluster.isSetupToken(candidate)) == true
    }

    /// Spends this process's token and every other process's.
    func spendShared() async {
        spend()
        try? await cluster?.spendSetupTokens()
    }

    /// Issues a fresh token (replacing any unspent one) and returns it.
    public func issue() -> String {
        let token = Secrets.random()
        state.withLock { $0 = .open(token) }
        return token
    }

    /// The unspent token, for the start banner's setup link; nil once spent or before one is issued.
    public var pending: String? {
        state.withLock { current in
            switch current {
            case .closed: nil
            case .open(let token), .inUse(let token): token
            }
        }
    }

    /// Whether `candidate` is the unspent token.
    func matches(_ candidate: String) -> Bool { pending.map { Secrets.constantTimeEqual($0, candidate) } ?? false }

    /// Takes the token for one request when `candidate` is right and nobody else holds it.
    func claim(_ candidate: String) -> Claim {
        state.withLock { current in
            switch current {
            case .closed: return .wrong
            case .inUse(let token): return Secrets.constantTimeEqual(token, candidate) ? .busy : .wrong
            case .open(let token):
                guard Secrets.constantTimeEqual(token, candidate) else { return .wrong }
                current = .inUse(token)
                return .claimed
            }
        }
    }

    /// Gives a claimed token back (the administrator could not be created: a weak password, a taken name).
    func release() {
        state.withLock { current in
            if case .inUse(let token) = current { current = .open(token) }
        }
    }

    /// Spends the token.
    func spend() { state.withLock { $0 = .closed } }
}

/// What an attempt to create the first administrator gave.
public enum FirstAdministratorOutcome: Sendable, Equatable {
    /// Created: the new administrator's username.
    case created(username: String)
    /// An administrator exists already.
    case closed
    /// The token is wrong or spent.
    case wrongToken
    /// Another request is creating the administrator at this moment.
    case busy
    /// The store refused the username or password (its message).
    case invalid(String)
    /// The identity store failed.
    case unavailable
}

/// The JSON API of identity and administration: sign-in and sign-out, one's own account, first-start setup, and the
/// administrators' institutions, people, tokens, DICOM peers, audit trail and patient deletion. See docs/api.md.
public struct AuthRoutes: Sendable {
    let identity: IdentityStore
    let archive: Archive
    let configuration: ServerConfiguration
    let setup: SetupToken
    let logger: Logger

    public init(
        identity: IdentityStore, archive: Archive, configuration: ServerConfiguration, setup: SetupToken,
        logger: Logger = Logger(label: "atrium.auth")
    ) {
        self.identity = identity
        self.archive = archive
        self.configuration = configuration
        self.setup = setup
        self.logger = logger
    }

    /// Whether cookies get the Secure attribute: when the public URL is https.
    var secureCookies: Bool { configuration.publicURL?.lowercased().hasPrefix("https://") == true }

    /// The cookie that carries a new session: HttpOnly, SameSite=Lax, Secure behind https.
    public func sessionCookie(_ grant: SessionGrant) -> Cookie {
        Cookie(
            name: IdentityStore.sessionCookieName, value: grant.sessionID, maxAge: Int(identity.policy.sessionAbsoluteSeconds), path: "/",
            secure: secureCookies, httpOnly: true, sameSite: .lax)
    }

    /// The cookie that clears the session.
    public func clearedSessionCookie() -> Cookie {
        Cookie(
            name: IdentityStore.sessionCookieName, value: "", maxAge: 0, path: "/", secure: secureCookies, httpOnly: true, sameSite: .lax)
    }

    /// Signs in for the web pages' login form: the outcome and the cookies to set.
    public func webSignIn(username: String, password: String, source: String) async -> WebSignInOutcome {
        do {
            switch try await identity.signIn(username: username, password: password, source: source) {
            case .success(let grant): return .signedIn(cookies: [sessionCookie(grant)])
            case .failure(.locked): return .lockedOut
            case .failure: return .refused
            }
        } catch {
            logger.error("sign-in failed", metadata: ["error": "\(error)"])
            return .unavailable
        }
    }

    /// Signs out for the web pages: ends the request's session and returns the cookie that clears it.
    public func webSignOut(_ request: Request, _ context: AtriumRequestContext) async -> [Cookie] {
        if let id = request.cookies[IdentityStore.sessionCookieName]?.value, !id.isEmpty {
            try? await identity.signOut(sessionID: id, actor: actor(context))
        }
        return [clearedSessionCookie()]
    }

    func actor(_ context: AtriumRequestContext) -> AuditActor {
        AuditActor(user: context.principal?.username ?? "", sourceAddress: context.remoteAddress?.ipAddress ?? "", transport: "http")
    }

    /// Adds the routes.
    public func register(on router: Router<AtriumRequestContext>) {
        router.post("/api/session") { request, context in try await self.signIn(request, context) }
        router.delete("/api/session") { request, context in
            var response = Response(status: .noContent)
            for cookie in await self.webSignOut(request, context) { response.setCookie(cookie) }
            return response
        }
        router.post("/api/setup") { request, context in try await self.firstAdministrator(request, context) }
        router.get("/api/me") { _, context in try await self.me(context) }
        router.post("/api/me/password") { request, context in
            let body = try await Self.body(request)
            let principal = try Self.signedIn(context)
            let sessionID = request.cookies[IdentityStore.sessionCookieName]?.value
            try await self.mapped {
                try await self.identity.changePassword(
                    personID: principal.userID ?? 0, current: body["current"] as? String ?? "", new: body["new"] as? String ?? "",
                    keepingSession: sessionID, actor: self.actor(context))
            }
            return Response(status: .noContent)
        }
        // One's own e-mail address, for notifications by e-mail (docs/api.md).
        router.put("/api/me/email") { request, context in
            let body = try await Self.body(request)
            let principal = try Self.signedIn(context)
            guard let id = principal.userID else { throw HTTPError(.forbidden, message: "only people have an e-mail address") }
            try await self.mapped {
                try await self.identity.setEmail(body["email"] as? String ?? "", personID: id, actor: self.actor(context))
            }
            return Response(status: .noContent)
        }
        registerAdministration(on: router)
        registerDeletion(on: router)
    }

    // MARK: - Sign-in

    func signIn(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        var request = request
        let fields: [String: String]
        if request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true {
            let text = String(buffer: try await request.collectBody(upTo: 64 * 1024))
            let form = FormBody(text)
            fields = ["username": form["username"], "password": form["password"]].compactMapValues { $0 }
        } else {
            fields = try await Self.body(request).compactMapValues { $0 as? String }
        }
        guard let username = fields["username"], let password = fields["password"], !username.isEmpty, !password.isEmpty else {
            throw HTTPError(.badRequest, message: "username and password are required")
        }
        let source = context.remoteAddress?.ipAddress ?? ""
        let result = try await mapped { try await identity.signIn(username: username, password: password, source: source) }
        switch result {
        case .success(let grant):
            var response = Self.json(Self.describe(grant.principal, csrfToken: grant.csrfToken))
            response.setCookie(sessionCookie(grant))
            return response
        case .failure(.locked):
            return AuthenticationMiddleware.problem(.tooManyRequests, "too many failed sign-ins: the account is locked for a while")
        case .failure:
            return AuthenticationMiddleware.problem(.unauthorized, "wrong username or password")
        }
    }

    func firstAdministrator(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let body = try await Self.body(request)
        guard let token = body["token"] as? String, let username = body["username"] as? String, let password = body["password"] as? String
        else { throw HTTPError(.badRequest, message: "token, username and password are required") }
        let language = (body["language"] as? String).flatMap(InterfaceLanguage.init(rawValue:)) ?? .chinese
        switch await createFirstAdministrator(
            token: token, username: username, displayName: body["displayName"] as? String, password: password, language: language,
            source: context.remoteAddress?.ipAddress ?? "")
        {
        case .created(let created):
            guard let person = try await mapped({ try await identity.person(username: created) }) else {
                throw HTTPError(.internalServerError, message: "the new administrator is missing")
            }
            return Self.json(Self.describe(person), status: .created)
        case .closed: throw HTTPError(.conflict, message: "an administrator exists already; setup is closed")
        case .busy: throw HTTPError(.conflict, message: "another request is creating the administrator")
        case .wrongToken: throw HTTPError(.forbidden, message: "the setup token is wrong or spent")
        case .invalid(let message): throw HTTPError(.badRequest, message: message)
        case .unavailable: throw HTTPError(.internalServerError, message: "the identity store failed")
        }
    }

    /// Creates the first administrator with the one-time setup token: for the setup page and `POST /api/setup`. The token
    /// is held while the person is created, so two requests at once create one administrator.
    public func createFirstAdministrator(
        token: String, username: String, displayName: String?, password: String, language: InterfaceLanguage, source: String
    ) async -> FirstAdministratorOutcome {
        do {
            if try await identity.hasAdministrator() { return .closed }
        } catch {
            logger.error("identity store failed", metadata: ["error": "\(error)"])
            return .unavailable
        }
        switch await setup.claimShared(token) {
        case .busy: return .busy
        case .wrong:
            await identity.audit.record(
                AuditEvent(
                    eventID: .securityAlert, eventType: .useOfRestrictedFunction, action: .execute, outcome: .seriousFailure,
                    user: username, sourceAddress: source, detail: "wrong setup token"))
            return .wrongToken
        case .claimed: break
        }
        do {
            let name = displayName.map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
            let person = try await identity.createPerson(
                username: username, displayName: name, password: password, roles: [.admin], language: language,
                firstAdministrator: true, actor: AuditActor(user: "setup", sourceAddress: source))
            await setup.spendShared()
            logger.notice("first administrator created; the setup link is spent", metadata: ["username": "\(person.username)"])
            return .created(username: person.username)
        } catch {
            // Another process (with its own setup token) created one first: setup is over here too.
            if case .invalid(let message) = error, message == IdentityStore.administratorExists {
                await setup.spendShared()
                return .closed
            }
            setup.release()
            if case .invalid(let message) = error { return .invalid(message) }
            logger.error("identity store failed", metadata: ["error": "\(error)"])
            return .unavailable
        }
    }

    /// Whether a setup link's token is the unspent one (the setup page shows its form only then).
    public func setupLinkState(_ token: String) async -> SetupLinkState {
        if (try? await identity.hasAdministrator()) == true { return .closed }
        return await setup.matchesShared(token) ? .valid : .invalid
    }

    func me(_ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.signedIn(context)
        var csrf: String?
        if case .session(let token) = principal.method { csrf = token }
        var object = Self.describe(principal, csrfToken: csrf)
        if let id = principal.userID { object["email"] = try await mapped { try await self.identity.email(personID: id) } }
        return Self.json(object)
    }

    // MARK: - Administration

    func registerAdministration(on router: Router<AtriumRequestContext>) {
        router.get("/api/admin/institutions") { _, _ in
            Self.json(try await self.mapped { try await self.identity.institutions() }.map { Self.describe($0) })
        }
        router.post("/api/admin/institutions") { request, context in
            let body = try await Self.body(request)
            guard let code = body["code"] as? String, let kind = InstitutionKind(rawValue: body["kind"] as? String ?? "") else {
                throw HTTPError(
                    .badRequest, message: "code and kind (\(InstitutionKind.allCases.map(\.rawValue).joined(separator: ", "))) are required"
                )
            }
            let institution = try await self.mapped {
                try await self.identity.createInstitution(
                    code: code, name: body["name"] as? String ?? code, kind: kind, actor: self.actor(context))
            }
            return Self.json(Self.describe(institution), status: .created)
        }
        router.get("/api/admin/people") { _, _ in
            let emails = try await self.mapped { try await self.identity.emails() }
            return Self.json(
                try await self.mapped { try await self.identity.people() }.map { person in
                    var object = Self.describe(person)
                    object["email"] = emails[person.id] ?? ""
                    return object
                })
        }
        router.post("/api/admin/people") { request, context in
            let body = try await Self.body(request)
            guard let username = body["username"] as? String, let password = body["password"] as? String else {
                throw HTTPError(.badRequest, message: "username, password and roles are required")
            }
            let roles = try Self.roles(body["roles"])
            let person = try await self.mapped {
                try await self.identity.createPerson(
                    username: username, displayName: body["displayName"] as? String, password: password, roles: roles,
                    institutionID: Self.integer(body["institutionID"]),
                    language: InterfaceLanguage(rawValue: body["language"] as? String ?? "") ?? .chinese, actor: self.actor(context))
            }
            return Self.json(Self.describe(person), status: .created)
        }
        router.get("/api/admin/people/:id") { _, context in
            let id = try Self.id(context)
            guard let person = try await self.mapped({ try await self.identity.person(id: id) }) else {
                throw HTTPError(.notFound, message: "no such person")
            }
            var object = Self.describe(person)
            object["email"] = try await self.mapped { try await self.identity.email(personID: id) }
            return Self.json(object)
        }
        router.put("/api/admin/people/:id/roles") { request, context in
            let body = try await Self.body(request)
            let id = try Self.id(context)
            try await self.mapped {
                try await self.identity.setRoles(try Self.roles(body["roles"]), personID: id, actor: self.actor(context))
            }
            return Response(status: .noContent)
        }
        router.post("/api/admin/people/:id/password") { request, context in
            let body = try await Self.body(request)
            let id = try Self.id(context)
            try await self.mapped {
                try await self.identity.resetPassword(
                    personID: id, newPassword: body["password"] as? String ?? "", actor: self.actor(context))
            }
            return Response(status: .noContent)
        }
        router.patch("/api/admin/people/:id") { request, context in
            let body = try await Self.body(request)
            let id = try Self.id(context)
            try await self.mapped {
                if let disabled = body["disabled"] as? Bool {
                    try await self.identity.setDisabled(disabled, personID: id, actor: self.actor(context))
                }
                if let email = body["email"] as? String {
                    try await self.identity.setEmail(email, personID: id, actor: self.actor(context))
                }
                let institution: Int64?? = body.keys.contains("institutionID") ? .some(Self.integer(body["institutionID"])) : .none
                try await self.identity.update(
                    personID: id, displayName: body["displayName"] as? String, institutionID: institution,
                    language: (body["language"] as? String).flatMap { InterfaceLanguage(rawValue: $0) }, actor: self.actor(context))
            }
            return Response(status: .noContent)
        }
        router.get("/api/admin/tokens") { request, _ in
            let user = request.uri.queryParameters["userID"].flatMap { Int64(String($0)) }
            return Self.json(try await self.mapped { try await self.identity.tokens(personID: user) }.map { Self.describe($0) })
        }
        router.post("/api/admin/tokens") { request, context in
            let body = try await Self.body(request)
            var personID = Self.integer(body["userID"])
            if personID == nil, let username = body["username"] as? String {
                personID = try await self.mapped { try await self.identity.person(username: username)?.id }
            }
            guard let personID else { throw HTTPError(.badRequest, message: "userID or username of an existing person is required") }
            var expires: Double?
            if let text = body["expires"] as? String {
                guard let seconds = DurationText.seconds(text) else {
                    throw HTTPError(.badRequest, message: "expires is a duration such as 30d, 12h, 45m")
                }
                expires = seconds
            }
            let scopes = (body["scopes"] as? [String]).map(Set.init) ?? TokenScope.all
            let created = try await self.mapped {
                try await self.identity.createToken(
                    personID: personID, name: body["name"] as? String ?? "", scopes: scopes, expiresInSeconds: expires,
                    actor: self.actor(context))
            }
            var description = Self.describe(created.token)
            description["token"] = created.secret
            return Self.json(description, status: .created)
        }
        router.delete("/api/admin/tokens/:id") { _, context in
            let id = try Self.id(context)
            try await self.mapped { try await self.identity.revokeToken(id: id, actor: self.actor(context)) }
            return Response(status: .noContent)
        }
        router.get("/api/admin/peers") { _, _ in
            let mapped = try await self.mapped { try await self.identity.peerInstitutions() }
            var peers: [[String: Any]] = self.configuration.peers.map { peer in
                [
                    "aeTitle": peer.aeTitle, "host": peer.host, "port": peer.port, "permissions": peer.permissions,
                    "institution": (mapped[peer.aeTitle] ?? peer.institution).map { $0 as Any } ?? NSNull(), "configured": true,
                ]
            }
            for (aeTitle, code) in mapped.sorted(by: { $0.key < $1.key })
            where !self.configuration.peers.contains(where: { $0.aeTitle == aeTitle }) {
                peers.append(["aeTitle": aeTitle, "institution": code, "configured": false])
            }
            return Self.json(peers)
        }
        router.put("/api/admin/peers/:aeTitle") { request, context in
            let body = try await Self.body(request)
            let aeTitle = try context.parameters.require("aeTitle")
            try await self.mapped {
                try await self.identity.setPeerInstitution(
                    aeTitle: aeTitle, institutionID: Self.integer(body["institutionID"]), actor: self.actor(context))
            }
            return Response(status: .noContent)
        }
        router.get("/api/admin/audit") { request, context in try await self.auditSearch(request, context) }
    }

    func auditSearch(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let q = request.uri.queryParameters
        func text(_ name: String) -> String? { q[Substring(name)].map { String($0).removingPercentEncoding ?? String($0) } }
        func date(_ name: String) throws -> Date? {
            guard let value = text(name) else { return nil }
            if let date = ISO8601DateFormatter().date(from: value) { return date }
            let day = DateFormatter()
            day.dateFormat = "yyyy-MM-dd"
            day.timeZone = TimeZone(identifier: "UTC")
            if let date = day.date(from: value) { return date }
            throw HTTPError(.badRequest, message: "\(name) is an ISO 8601 date or date-time")
        }
        var search = AuditSearch(
            from: try date("from"), to: try date("to"), user: text("user"), eventCode: text("event"),
            outcome: text("outcome").flatMap { Int($0) }.flatMap { AuditOutcome(rawValue: $0) }, participant: text("participant"))
        if let limit = text("limit").flatMap(Int.init) { search.limit = limit }
        if let offset = text("offset").flatMap(Int.init) { search.offset = offset }
        let events = try await mapped { try await identity.audit.search(search) }
        await identity.audit.record(
            AuditEvent(
                eventID: .auditLogUsed, action: .read, user: context.principal?.username ?? "",
                sourceAddress: context.remoteAddress?.ipAddress ?? "", detail: "\(events.count) events searched"))
        let csv = text("format") == "csv" || (request.headers[.accept]?.contains("text/csv") ?? false)
        if csv {
            return Response(
                status: .ok,
                headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"atrium-audit.csv\""],
                body: ResponseBody(byteBuffer: ByteBuffer(string: AuditTrail.csv(events))))
        }
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: AuditTrail.json(events))))
    }

    // MARK: - Deletion

    func registerDeletion(on router: Router<AtriumRequestContext>) {
        router.delete("/dicom-web/studies/:study") { _, context in
            try await self.delete(.study(studyInstanceUID: try context.parameters.require("study")))
        }
        router.delete("/dicom-web/studies/:study/series/:series") { _, context in
            try await self.delete(
                .series(
                    studyInstanceUID: try context.parameters.require("study"), seriesInstanceUID: try context.parameters.require("series")))
        }
        router.delete("/dicom-web/studies/:study/series/:series/instances/:instance") { _, context in
            let study = try context.parameters.require("study")
            let series = try context.parameters.require("series")
            let instance = try context.parameters.require("instance")
            let found = try await self.archive.index.instances(studyInstanceUID: study, seriesInstanceUID: series, sopInstanceUID: instance)
            guard !found.isEmpty else { throw HTTPError(.notFound, message: "no such instance") }
            return try await self.delete(.instance(sopInstanceUID: instance))
        }
        router.delete("/api/admin/patients/:patient") { request, context in
            let patient = try context.parameters.require("patient")
            let issuer = request.uri.queryParameters["issuer"].map { String($0).removingPercentEncoding ?? String($0) }
            return try await self.delete(.patient(patientID: patient, issuerOfPatientID: issuer))
        }
    }

    /// Deletes an entity and its blobs (the space is reclaimed at once); 404 when nothing matched.
    func delete(_ target: DeletionTarget) async throws -> Response {
        let count = try await archive.delete(target)
        guard count > 0 else { throw HTTPError(.notFound, message: "nothing to delete") }
        logger.notice("deleted over HTTP", metadata: ["instances": "\(count)", "user": "\(DICOMwebAccess.current?.user ?? "")"])
        return Self.json(["deletedInstances": count])
    }

    // MARK: - JSON helpers

    /// JSON without sorted keys: Foundation sorts them with a locale-aware string comparison, which took two thirds of
    /// the server's time under the worklist benchmark (docs/performance.md); clients do not depend on key order.
    static func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func body(_ request: Request) async throws -> [String: Any] {
        var request = request
        let buffer = try await request.collectBody(upTo: 1 << 20)
        if buffer.readableBytes == 0 { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any] else {
            throw HTTPError(.badRequest, message: "the body must be a JSON object")
        }
        return object
    }

    static func signedIn(_ context: AtriumRequestContext) throws -> Principal {
        guard let principal = context.principal else { throw HTTPError(.unauthorized, message: "sign in first") }
        return principal
    }

    static func id(_ context: AtriumRequestContext) throws -> Int64 {
        guard let id = Int64(try context.parameters.require("id")) else { throw HTTPError(.badRequest, message: "ids are integers") }
        return id
    }

    static func integer(_ value: Any?) -> Int64? {
        if let n = value as? NSNumber { return n.int64Value }
        if let s = value as? String { return Int64(s) }
        return nil
    }

    static func roles(_ value: Any?) throws -> Set<Role> {
        guard let names = value as? [String], !names.isEmpty else {
            throw HTTPError(.badRequest, message: "roles is a list of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var roles: Set<Role> = []
        for name in names {
            guard let role = Role(rawValue: name) else { throw HTTPError(.badRequest, message: "unknown role \(name)") }
            roles.insert(role)
        }
        return roles
    }

    /// Runs a store call, turning its errors into HTTP answers.
    func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PlatformError {
            switch error {
            case .invalid(let message): throw HTTPError(.badRequest, message: message)
            case .notFound(let what): throw HTTPError(.notFound, message: "no such \(what)")
            case .database(let message):
                logger.error("identity store failed", metadata: ["error": "\(message)"])
                throw HTTPError(.internalServerError, message: "the identity store failed")
            }
        }
    }

    static func describe(_ person: Person) -> [String: Any] {
        [
            "id": person.id, "username": person.username, "displayName": person.displayName,
            "institutionID": person.institutionID.map { $0 as Any } ?? NSNull(), "roles": person.roles.map(\.rawValue).sorted(),
            "language": person.language.rawValue, "disabled": person.disabled, "demo": person.demo,
        ]
    }

    static func describe(_ principal: Principal, csrfToken: String?) -> [String: Any] {
        var object: [String: Any] = [
            "id": principal.userID.map { $0 as Any } ?? NSNull(), "username": principal.username, "displayName": principal.displayName,
            "roles": principal.roles.map(\.rawValue).sorted(), "institutionID": principal.institutionID.map { $0 as Any } ?? NSNull(),
            "institution": principal.institutionCode.map { $0 as Any } ?? NSNull(), "language": principal.language.rawValue,
        ]
        if let csrfToken { object["csrfToken"] = csrfToken }
        return object
    }

    static func describe(_ institution: Institution) -> [String: Any] {
        [
            "id": institution.id, "code": institution.code, "name": institution.name, "kind": institution.kind.rawValue,
            "demo": institution.demo,
        ]
    }

    static func describe(_ token: APIToken) -> [String: Any] {
        let formatter = ISO8601DateFormatter()
        func date(_ d: Date?) -> Any { d.map { formatter.string(from: $0) as Any } ?? NSNull() }
        return [
            "id": token.id, "userID": token.userID, "name": token.name, "scopes": token.scopes.sorted(), "createdAt": date(token.createdAt),
            "expiresAt": date(token.expiresAt), "revokedAt": date(token.revokedAt), "lastUsedAt": date(token.lastUsedAt),
        ]
    }
}

/// What a setup link's token is worth.
public enum SetupLinkState: Sendable, Equatable {
    /// The unspent token: the page offers the form.
    case valid
    /// An administrator exists: setup is over.
    case closed
    /// Wrong, spent, or from before a restart.
    case invalid
}

/// Durations as operators write them: `30d`, `12h`, `45m`, `90s`, `2w`.
public enum DurationText {
    public static func seconds(_ text: String) -> Double? {
        guard let unit = text.last, let n = Double(text.dropLast()), n > 0 else { return nil }
        switch unit {
        case "s": return n
        case "m": return n * 60
        case "h": return n * 3600
        case "d": return n * 86400
        case "w": return n * 7 * 86400
        default: return nil
        }
    }
}
