import Foundation
import Hummingbird
import Mustache
import NIOCore
import Platform

/// The templates, locale strings and assets of the web application, and the layout every page shares.
public struct WebViews: Sendable {
    let library: MustacheLibrary
    let locales: Locales
    let assets: StaticAssets

    /// Reads `templates/*.mustache` (each registered under its file name), `locales/` and `static/` under `resources`
    /// (the Server target's `Resources` folder).
    public init(resources: String) throws(WebError) {
        var library = MustacheLibrary()
        let folder = resources + "/templates"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { throw .resource("cannot list \(folder)") }
        for name in names.sorted() where name.hasSuffix(".mustache") {
            guard let data = FileManager.default.contents(atPath: folder + "/" + name) else { throw .resource("cannot read \(name)") }
            do {
                library.register(try MustacheTemplate(string: String(decoding: data, as: UTF8.self)), named: String(name.dropLast(9)))
            } catch {
                throw .resource("template \(name): \(error)")
            }
        }
        self.library = library
        locales = try Locales(directory: resources + "/locales")
        assets = try StaticAssets(directory: resources + "/static")
    }

    /// The Server target's `Resources` folder, as SwiftPM copies it next to the executable.
    public static var bundledResources: String {
        Bundle.module.url(forResource: "Resources", withExtension: nil)?.path ?? Bundle.module.bundlePath + "/Resources"
    }

    /// Which section of the navigation a page belongs to.
    enum Section: String {
        case home, studies, upload, admin, signIn, library, consultations, worklist, programme, education, training, laboratory, health
    }

    /// Renders `template` inside the layout. `data` is the page's own context; the layout adds the strings of the
    /// request's language (`t`), the signed-in person, the navigation, the language switch and the CSRF token.
    func page(
        _ template: String, title: String, section: Section, data: [String: Any], request: Request, context: AtriumRequestContext,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let language = WebViews.language(request: request, context: context)
        let strings = locales.table(language)
        let csrf = CSRF.token(request: request, context: context)
        var shared: [String: Any] = [
            "t": strings,
            "lang": language.rawValue,
            "csrf": csrf.token,
            "assetVersion": assets.version,
            "signedIn": context.principal != nil,
        ]
        if let principal = context.principal {
            shared["person"] = [
                "displayName": principal.displayName.isEmpty ? principal.username : principal.displayName,
                "username": principal.username,
                "roles": Role.allCases.filter { principal.roles.contains($0) }.map { locales.text("roles.\($0.rawValue)", language) }
                    .joined(separator: " · "),
            ]
        }
        let here = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
        shared["here"] = here
        shared["languages"] = InterfaceLanguage.allCases.map { option -> [String: Any] in
            [
                "code": option.rawValue,
                "label": locales.text("language.\(option == .chinese ? "chinese" : "english")", language),
                "current": option == language,
            ]
        }
        shared["nav"] = navigation(section: section, principal: context.principal, language: language)
        var pageData = shared
        pageData.merge(data) { _, new in new }
        let body = library.render(pageData, withTemplate: template) ?? ""
        var layout = pageData
        layout["body"] = body
        layout["title"] = title
        let html = library.render(layout, withTemplate: "layout") ?? body
        var response = Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
        if let cookie = csrf.cookie { response.setCookie(cookie) }
        return response
    }

    /// The navigation entries the person may use; anonymous visitors see only the home page.
    private func navigation(section: Section, principal: Principal?, language: InterfaceLanguage) -> [[String: Any]] {
        let roles = principal?.roles ?? []
        var entries: [(Section, String, String)] = [(.home, "/", "nav.home")]
        if !roles.isDisjoint(with: AccessPolicy.seeAll.union([.site])) { entries.append((.studies, "/studies", "nav.studies")) }
        if !roles.isDisjoint(with: AccessPolicy.storeAll.union([.site])) { entries.append((.upload, "/upload", "nav.upload")) }
        if principal != nil { entries.append((.library, "/library", "library.nav")) }
        if let principal, !principal.roles.isDisjoint(with: [.site, .reader, .admin]) {
            entries.append((.consultations, "/consultations", "reading.nav.consultations"))
        }
        if let principal, principal.has(.reader) || principal.has(.admin) {
            entries.append((.worklist, "/worklist", "reading.nav.worklist"))
        }
        if let principal, !principal.roles.isDisjoint(with: [.site, .reader, .supervisor, .admin]) {
            entries.append((.laboratory, "/lab", "laboratory.nav"))
        }
        if let principal, !principal.roles.isDisjoint(with: [.student, .curator, .supervisor, .admin]) {
            entries.append((.training, "/training", "training.nav"))
        }
        if principal != nil { entries.append((.education, "/ce", "education.nav")) }
        if let principal, principal.has(.admin) || principal.has(.supervisor) {
            entries.append((.programme, "/programme", "programme.nav"))
        }
        if let principal, !principal.roles.isDisjoint(with: [.healthManager, .site, .student, .admin]) {
            entries.append((.health, "/health-records", "health.nav"))
        }
        if principal?.has(.admin) == true { entries.append((.admin, "/admin", "nav.admin")) }
        return entries.map { ["href": $0.1, "label": locales.text($0.2, language), "current": $0.0 == section] }
    }

    /// The language of a response: the person's choice, else the `lang` cookie, else Accept-Language.
    static func language(request: Request, context: AtriumRequestContext) -> InterfaceLanguage {
        InterfaceLanguage.negotiate(
            principal: context.principal, cookie: request.cookies["lang"]?.value, acceptLanguage: request.headers[.acceptLanguage])
    }
}

/// Sets `context.language` for every request (pages re-read it after authentication may have set the principal).
public struct LanguageMiddleware: RouterMiddleware {
    public typealias Context = AtriumRequestContext

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.language = WebViews.language(request: request, context: context)
        return try await next(request, context)
    }
}
