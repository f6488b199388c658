import Foundation
import Hummingbird
import Platform

/// What the sign-in and home pages tell a newcomer: whether the setup link is waiting, and which demo accounts exist.
public struct FirstRunHints: Sendable {
    public var setupPending: Bool
    public var demoUsernames: [String]

    public init(setupPending: Bool, demoUsernames: [String]) {
        self.setupPending = setupPending
        self.demoUsernames = demoUsernames
    }
}

/// The setup page's form.
public struct FirstAdministratorForm: Sendable {
    public var token: String
    public var username: String
    public var displayName: String?
    public var password: String
    public var language: InterfaceLanguage
}

/// What the first-run pages need from the identity service (``AuthRoutes``).
public struct WebFirstRun: Sendable {
    public var linkState: @Sendable (_ token: String) async -> SetupLinkState
    public var createAdministrator: @Sendable (_ form: FirstAdministratorForm, _ source: String) async -> FirstAdministratorOutcome
    public var hints: @Sendable () async -> FirstRunHints
    public var minimumPasswordLength: Int

    public init(
        linkState: @escaping @Sendable (_ token: String) async -> SetupLinkState,
        createAdministrator: @escaping @Sendable (_ form: FirstAdministratorForm, _ source: String) async -> FirstAdministratorOutcome,
        hints: @escaping @Sendable () async -> FirstRunHints, minimumPasswordLength: Int
    ) {
        self.linkState = linkState
        self.createAdministrator = createAdministrator
        self.hints = hints
        self.minimumPasswordLength = minimumPasswordLength
    }
}

/// The setup page: `GET /setup?token=…` (the start banner's one-time link) shows a form for the first administrator,
/// `POST /setup` creates them and goes to the sign-in page.
extension WebRoutes {
    static let referrerPolicy = HTTPFields.Element.Name("Referrer-Policy")!

    func registerSetup(on router: Router<AtriumRequestContext>) {
        router.get("/setup") { request, context in
            let token = request.uri.queryParameters["token"].map(String.init) ?? ""
            return await self.setupPage(request, context, token: token, form: nil, problem: nil)
        }
        router.post("/setup") { request, context in try await self.setupSubmit(request, context) }
    }

    func setupPage(
        _ request: Request, _ context: AtriumRequestContext, token: String, form: FormBody?, problem: String?,
        status: HTTPResponse.Status = .ok
    ) async -> Response {
        let language = WebViews.language(request: request, context: context)
        var data: [String: Any] = ["minimumPasswordLength": firstRun?.minimumPasswordLength ?? 10]
        var status = status
        switch await firstRun?.linkState(token) ?? .invalid {
        case .valid:
            data["open"] = true
            data["token"] = token
            data["username"] = form?["username"] ?? ""
            data["displayName"] = form?["displayName"] ?? ""
            let chosen = form?["language"].flatMap(InterfaceLanguage.init(rawValue:)) ?? language
            data["languages"] = InterfaceLanguage.allCases.map { option -> [String: Any] in
                [
                    "code": option.rawValue, "selected": option == chosen,
                    "label": views.locales.text("language.\(option == .chinese ? "chinese" : "english")", language),
                ]
            }
        case .closed:
            data["closed"] = true
            if status == .ok { status = .conflict }
        case .invalid:
            data["invalid"] = true
            if status == .ok { status = .forbidden }
        }
        if let problem { data["problem"] = problem }
        var response = views.page(
            "setup", title: text("setup.title", request, context), section: .signIn, data: data, request: request, context: context,
            status: status)
        // The token is in this page's address: no other site may learn it from a Referer header.
        response.headers[Self.referrerPolicy] = "no-referrer"
        return response
    }

    func setupSubmit(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let form = try await FormBody.read(request)
        let token = form["token"] ?? ""
        let language = WebViews.language(request: request, context: context)
        func again(_ key: String, _ status: HTTPResponse.Status, _ extra: String = "") async -> Response {
            let message = views.locales.text(key, language).replacingOccurrences(
                of: "{n}", with: "\(firstRun?.minimumPasswordLength ?? 10)")
            return await setupPage(request, context, token: token, form: form, problem: message + extra, status: status)
        }
        guard CSRF.verify(form[CSRF.formField], request: request, context: context) else {
            return await again("errors.csrf", .forbidden)
        }
        let username = (form["username"] ?? "").trimmingCharacters(in: .whitespaces)
        let password = form["password"] ?? ""
        guard !username.isEmpty, !password.isEmpty else { return await again("setup.missing", .badRequest) }
        guard password.count >= firstRun?.minimumPasswordLength ?? 10 else { return await again("setup.tooShort", .badRequest) }
        guard password == form["confirm"] else { return await again("setup.mismatch", .badRequest) }
        let chosen = form["language"].flatMap(InterfaceLanguage.init(rawValue:)) ?? language
        let submitted = FirstAdministratorForm(
            token: token, username: username, displayName: form["displayName"], password: password, language: chosen)
        guard let firstRun else { return await again("login.unavailable", .serviceUnavailable) }
        switch await firstRun.createAdministrator(submitted, context.remoteAddress?.ipAddress ?? "") {
        case .created(let created):
            let encoded = created.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            var response = Response.redirect(to: "/login?welcome=\(encoded)", type: .found)
            response.setCookie(
                Cookie(name: "lang", value: chosen.rawValue, maxAge: 365 * 24 * 3600, path: "/", httpOnly: true, sameSite: .lax))
            return response
        case .closed, .wrongToken: return await setupPage(request, context, token: token, form: form, problem: nil)
        case .busy: return await again("setup.busy", .conflict)
        case .invalid(let message): return await again("setup.refused", .badRequest, " " + message)
        case .unavailable: return await again("login.unavailable", .serviceUnavailable)
        }
    }
}
