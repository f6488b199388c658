import Archive
import DICOM
import Foundation
import Hummingbird
import Logging
import NIOCore
import Platform

/// What a sign-in attempt gave: the identity service's answer as the sign-in page needs it.
public enum WebSignInOutcome: Sendable {
    /// Signed in: the cookies that carry the new session.
    case signedIn(cookies: [Cookie])
    /// Wrong name or password (the page does not say which).
    case refused
    /// Too many failures: the account is locked for a while.
    case lockedOut
    /// No identity service is wired in.
    case unavailable
}

/// Checks a name and password (`source` is the client's address, for the audit trail and lock-out).
public typealias WebSignIn = @Sendable (_ username: String, _ password: String, _ source: String) async -> WebSignInOutcome
/// Ends the request's session; returns the cookies that clear it.
public typealias WebSignOut = @Sendable (_ request: Request, _ context: AtriumRequestContext) async -> [Cookie]
/// Stores a signed-in person's choice of language.
public typealias WebSetLanguage = @Sendable (_ language: InterfaceLanguage, _ principal: Principal) async -> Void

/// The server-rendered pages of the web application: sign-in, home, study browser, study page, upload and
/// administration, with their static assets, the language switch and the resumable upload endpoints.
public struct WebRoutes: Sendable {
    let views: WebViews
    let archive: Archive
    let configuration: ServerConfiguration
    let uploads: UploadSessions
    /// Where large entries of uploaded zip archives are inflated (docs/reliability.md).
    let temporaryDirectory: String
    let signIn: WebSignIn?
    let signOut: WebSignOut?
    let setLanguage: WebSetLanguage?
    let firstRun: WebFirstRun?
    let logger: Logger

    /// Largest chunk one `PUT /uploads/{id}` may carry.
    static let maximumChunkBytes = 16 << 20

    public init(
        views: WebViews, archive: Archive, configuration: ServerConfiguration, signIn: WebSignIn? = nil, signOut: WebSignOut? = nil,
        setLanguage: WebSetLanguage? = nil, firstRun: WebFirstRun? = nil, logger: Logger = Logger(label: "atrium.web")
    ) {
        self.firstRun = firstRun
        self.views = views
        self.archive = archive
        self.configuration = configuration
        self.uploads = UploadSessions(
            directory: configuration.dataDirectory + "/uploads", maximumBytes: configuration.maximumUploadBytes,
            abandonAfterSeconds: Double(configuration.uploadAbandonSeconds))
        self.temporaryDirectory = ZipReader.temporaryDirectory(data: configuration.dataDirectory, label: "upload")
        self.signIn = signIn
        self.signOut = signOut
        self.setLanguage = setLanguage
        self.logger = logger
    }

    /// Adds the pages and endpoints to `router`.
    public func register(on router: Router<AtriumRequestContext>) {
        router.get("/static/**") { request, context in
            let name = context.parameters.getCatchAll().joined(separator: "/")
            return self.views.assets.response(for: name, request: request)
        }
        router.post("/language/:code") { request, context in try await self.switchLanguage(request, context) }
        router.get("/login") { request, context in
            let welcome = request.uri.queryParameters["welcome"].map { String($0).removingPercentEncoding ?? String($0) }
            return await self.signInPage(request, context, problem: nil, username: welcome ?? "", welcome: welcome)
        }
        registerSetup(on: router)
        router.post("/login") { request, context in try await self.signInSubmit(request, context) }
        router.post("/logout") { request, context in try await self.signOutSubmit(request, context) }
        router.get("/") { request, context in await self.home(request, context) }
        router.get("/studies") { request, context in try await self.studyBrowser(request, context) }
        router.get("/studies/:study") { request, context in
            try await self.studyPage(request, context, uid: try context.parameters.require("study"))
        }
        router.get("/upload") { request, context in
            self.views.page(
                "upload", title: self.text("upload.title", request, context), section: .upload,
                data: ["maximumChunkBytes": 4 << 20], request: request, context: context)
        }
        registerUploadEndpoints(on: router)
        registerAdministration(on: router)
    }

    func text(_ key: String, _ request: Request, _ context: AtriumRequestContext) -> String {
        views.locales.text(key, WebViews.language(request: request, context: context))
    }

    // MARK: Language

    /// `POST /language/{code}` (form fields `csrf`, `return`): remembers the choice (the person's setting when signed
    /// in, and the `lang` cookie) and goes back to the page.
    func switchLanguage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let code = try context.parameters.require("code")
        guard let language = InterfaceLanguage(rawValue: code) else { throw HTTPError(.notFound) }
        let form = try await FormBody.read(request)
        guard CSRF.verify(form[CSRF.formField], request: request, context: context) else { throw HTTPError(.forbidden) }
        if let principal = context.principal, case .session = principal.method { await setLanguage?(language, principal) }
        var response = Response.redirect(to: Self.localPath(form["return"]), type: .found)
        response.setCookie(
            Cookie(name: "lang", value: language.rawValue, maxAge: 365 * 24 * 3600, path: "/", httpOnly: true, sameSite: .lax))
        return response
    }

    /// A same-site path to return to: anything else (another host, a scheme) becomes `/`.
    static func localPath(_ candidate: String?) -> String {
        guard let candidate = candidate?.removingPercentEncoding ?? candidate, candidate.hasPrefix("/"), !candidate.hasPrefix("//"),
            !candidate.contains("\\")
        else { return "/" }
        return candidate
    }

    // MARK: Sign-in

    func signInPage(
        _ request: Request, _ context: AtriumRequestContext, problem: String?, username: String, welcome: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async -> Response {
        var data: [String: Any] = ["username": username, "return": Self.localPath(request.uri.queryParameters["return"].map(String.init))]
        if let problem { data["problem"] = text(problem, request, context) }
        if signIn == nil { data["unavailable"] = true }
        if let welcome, !welcome.isEmpty { data["welcome"] = welcome }
        if let hints = await firstRun?.hints() {
            if hints.setupPending { data["setupPending"] = true }
            if !hints.demoUsernames.isEmpty { data["demoUsernames"] = hints.demoUsernames.joined(separator: ", ") }
        }
        return views.page(
            "login", title: text("login.title", request, context), section: .signIn, data: data, request: request, context: context,
            status: status)
    }

    func signInSubmit(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let form = try await FormBody.read(request)
        guard CSRF.verify(form[CSRF.formField], request: request, context: context) else {
            logger.notice("sign-in form refused: CSRF token missing or wrong")
            return await signInPage(request, context, problem: "errors.csrf", username: "", status: .forbidden)
        }
        let username = (form["username"] ?? "").trimmingCharacters(in: .whitespaces)
        let password = form["password"] ?? ""
        guard !username.isEmpty, !password.isEmpty else {
            return await signInPage(request, context, problem: "login.missing", username: username, status: .badRequest)
        }
        let source = context.remoteAddress?.ipAddress ?? ""
        switch await signIn?(username, password, source) ?? .unavailable {
        case .signedIn(let cookies):
            var response = Response.redirect(to: Self.localPath(form["return"]), type: .found)
            for cookie in cookies { response.setCookie(cookie) }
            return response
        case .refused: return await signInPage(request, context, problem: "login.refused", username: username, status: .unauthorized)
        case .lockedOut:
            return await signInPage(request, context, problem: "login.locked", username: username, status: .tooManyRequests)
        case .unavailable:
            return await signInPage(request, context, problem: "login.unavailable", username: username, status: .serviceUnavailable)
        }
    }

    func signOutSubmit(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let form = try await FormBody.read(request)
        guard CSRF.verify(form[CSRF.formField], request: request, context: context) else { throw HTTPError(.forbidden) }
        var response = Response.redirect(to: "/login", type: .found)
        for cookie in await signOut?(request, context) ?? [] { response.setCookie(cookie) }
        return response
    }

    // MARK: Home

    /// The dashboard: what each of the person's roles is for, and one card per thing their roles let them do
    /// (``HomeCard/all``); signed out, the sign-in hint and, on a fresh server, where the setup link is.
    func home(_ request: Request, _ context: AtriumRequestContext) async -> Response {
        let language = WebViews.language(request: request, context: context)
        let roles = context.principal?.roles ?? []
        let cards = HomeCard.cards(for: roles).map { card -> [String: Any] in
            var item: [String: Any] = [
                "id": card.id, "title": views.locales.text(card.titleKey, language), "text": views.locales.text(card.textKey, language),
            ]
            if let href = card.href {
                item["href"] = href
                item["linked"] = true
            } else {
                item["planned"] = true
            }
            return item
        }
        var data: [String: Any] = [
            "cards": cards,
            "roleNotes": Role.allCases.filter { roles.contains($0) }.map { role in
                [
                    "role": role.rawValue, "name": views.locales.text("roles.\(role.rawValue)", language),
                    "text": views.locales.text("home.roleNotes.\(role.rawValue)", language),
                ]
            },
        ]
        data["hasRoleNotes"] = !roles.isEmpty
        if let code = context.principal?.institutionCode { data["institution"] = code }
        if context.principal == nil, let hints = await firstRun?.hints() {
            if hints.setupPending { data["setupPending"] = true }
            if !hints.demoUsernames.isEmpty { data["demoUsernames"] = hints.demoUsernames.joined(separator: ", ") }
        }
        return views.page(
            "home", title: text("home.title", request, context), section: .home, data: data, request: request, context: context)
    }

    // MARK: Studies

    func studyBrowser(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        var query: [String: String] = [:]
        for (name, value) in request.uri.queryParameters {
            let text = String(value)
            query[String(name)] = (text.replacingOccurrences(of: "+", with: " ")).removingPercentEncoding ?? text
        }
        let search = StudySearch(query: query)
        var data: [String: Any] = [
            "search": [
                "name": search.patientName, "id": search.patientID, "accession": search.accessionNumber, "from": search.fromDate,
                "to": search.toDate, "modality": search.modality, "institution": search.institution,
            ],
            "modalities": ["CT", "MR", "CR", "DX", "US", "MG", "NM", "PT", "XA", "RF", "OT", "SC"].map {
                ["code": $0, "selected": $0 == search.modality]
            },
        ]
        do {
            var uids: [String]?
            if let institution = search.institutionParameters {
                let series = try await find(institution, level: .series)
                uids = Array(Set(series.compactMap { $0.string(.studyInstanceUID) })).sorted()
            }
            var rows: [DataSet] = []
            if uids?.isEmpty != true {
                // Within the caller's institution scope, as every other query of the pages (a site user: its own studies).
                rows = try await find(try search.studyParameters(studyUIDs: uids), level: .study)
            }
            let hasNext = rows.count > StudySearch.pageSize
            let language = WebViews.language(request: request, context: context)
            data["studies"] = rows.prefix(StudySearch.pageSize).map { Self.studyRow($0, language: language) }
            data["empty"] = rows.isEmpty
            data["page"] = search.page
            if search.page > 1 { data["previous"] = "/studies?" + search.queryString(page: search.page - 1) }
            if hasNext { data["next"] = "/studies?" + search.queryString(page: search.page + 1) }
        } catch let problem as StudySearch.Problem {
            data["problem"] = text(problem == .invalidDate ? "studies.invalidDate" : "studies.invalidRange", request, context)
            return views.page(
                "studies", title: text("studies.title", request, context), section: .studies, data: data, request: request,
                context: context, status: .badRequest)
        } catch let error as ArchiveError {
            logger.notice("study search refused", metadata: ["error": "\(error)"])
            data["problem"] = text("studies.invalidQuery", request, context)
            return views.page(
                "studies", title: text("studies.title", request, context), section: .studies, data: data, request: request,
                context: context, status: .badRequest)
        }
        return views.page(
            "studies", title: text("studies.title", request, context), section: .studies, data: data, request: request, context: context)
    }

    /// Runs a query through the archive's query engine (as QIDO-RS does), within the caller's institution scope.
    func find(_ parameters: [(name: String, value: String)], level: QueryLevel) async throws -> [DataSet] {
        var query = try ArchiveQuery(qidoParameters: parameters, level: level)
        query.institution = DICOMwebAccess.current?.institution
        return try await archive.index.find(query)
    }

    static func studyRow(_ study: DataSet, language: InterfaceLanguage) -> [String: Any] {
        let uid = study.string(.studyInstanceUID) ?? ""
        return [
            "uid": uid,
            "href": "/studies/" + (uid.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? uid),
            "patientName": DisplayFormat.personName(study.string(.patientName), language),
            "patientID": study.string(.patientID) ?? "",
            "date": DisplayFormat.date(study.string(.studyDate)),
            "accession": study.string(.accessionNumber) ?? "",
            "modalities": study.strings(.modalitiesInStudy).joined(separator: ", "),
            "description": study.string(.studyDescription) ?? "",
            "series": study.string(.numberOfStudyRelatedSeries) ?? "",
            "instances": study.string(.numberOfStudyRelatedInstances) ?? "",
        ]
    }

    func studyPage(_ request: Request, _ context: AtriumRequestContext, uid: String) async throws -> Response {
        guard uid.count <= 64, uid.allSatisfy({ $0.isNumber || $0 == "." }), uid.allSatisfy(\.isASCII) else {
            return notFound(request, context)
        }
        let studies = try await find([("StudyInstanceUID", uid), ("includefield", "all")], level: .study)
        guard let study = studies.first else { return notFound(request, context) }
        let series = try await find([("StudyInstanceUID", uid)], level: .series)
        let sorted = series.sorted { (Int($0.string(.seriesNumber) ?? "") ?? Int.max) < (Int($1.string(.seriesNumber) ?? "") ?? Int.max) }
        let language = WebViews.language(request: request, context: context)
        let row = Self.studyRow(study, language: language)
        let attributes: [(String, String)] = [
            ("patientName", row["patientName"] as? String ?? ""),
            ("patientID", row["patientID"] as? String ?? ""),
            ("birthDate", DisplayFormat.date(study.string(.patientBirthDate))),
            ("sex", study.string(.patientSex) ?? ""),
            (
                "studyDate",
                [DisplayFormat.date(study.string(.studyDate)), DisplayFormat.time(study.string(.studyTime))].filter { !$0.isEmpty }
                    .joined(separator: " ")
            ),
            ("accession", row["accession"] as? String ?? ""),
            ("description", row["description"] as? String ?? ""),
            ("referringPhysician", DisplayFormat.personName(study.string(.referringPhysicianName), language)),
            ("modalities", row["modalities"] as? String ?? ""),
            ("studyID", study.string(.studyID) ?? ""),
            ("counts", "\(row["series"] as? String ?? "") / \(row["instances"] as? String ?? "")"),
            ("studyInstanceUID", uid),
        ]
        let data: [String: Any] = [
            "study": row,
            "viewerHref": "/viewer?study=" + uid,
            "attributes": attributes.map { ["label": views.locales.text("study.attributes.\($0.0)", language), "value": $0.1] },
            "series": sorted.map { s -> [String: Any] in
                let seriesUID = s.string(.seriesInstanceUID) ?? ""
                return [
                    "uid": seriesUID,
                    "number": s.string(.seriesNumber) ?? "",
                    "modality": s.string(.modality) ?? "",
                    "description": s.string(.seriesDescription) ?? "",
                    "instances": s.string(.numberOfSeriesRelatedInstances) ?? "",
                    "thumbnail": "/dicom-web/studies/\(uid)/series/\(seriesUID)/thumbnail",
                    // Whole-slide series (SM) open in the slide viewer.
                    "viewerHref": s.string(.modality) == "SM"
                        ? "/slide-viewer?series=\(seriesUID)" : "/viewer?study=\(uid)&series=\(seriesUID)",
                ]
            },
        ]
        return views.page(
            "study", title: row["patientName"] as? String ?? text("study.title", request, context), section: .studies, data: data,
            request: request, context: context)
    }

    func notFound(_ request: Request, _ context: AtriumRequestContext) -> Response {
        views.page(
            "notfound", title: text("errors.notFound", request, context), section: .home, data: [:], request: request, context: context,
            status: .notFound)
    }
}
