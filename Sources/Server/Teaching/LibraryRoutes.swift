import Archive
import Foundation
import Hummingbird
import Logging
import NIOCore
import Platform
import Teaching

/// The teaching library over HTTP: the JSON API under `/api/library` and the pages under `/library`. Everyone signed in
/// searches and reads published cases (students see nothing else); curators and administrators also see every case's
/// latest version, write, and curate. The logic lives in the `Teaching` target; this maps requests onto it.
struct LibraryRoutes: Sendable {
    let store: TeachingStore
    let archive: Archive
    let views: WebViews
    let audit: AuditTrail
    let logger: Logger

    func register(on router: Router<AtriumRequestContext>) {
        router.get("/api/library/cases") { request, context in try await self.searchJSON(request, context) }
        router.post("/api/library/cases") { request, context in try await self.createJSON(request, context) }
        router.get("/api/library/cases/:id") { request, context in try await self.caseJSON(request, context) }
        router.put("/api/library/cases/:id") { request, context in try await self.editJSON(request, context) }
        router.get("/api/library/cases/:id/versions") { request, context in try await self.versionsJSON(request, context) }
        router.post("/api/library/cases/:id/:action") { request, context in try await self.actionJSON(request, context) }
        router.get("/api/library/curriculum") { _, context in try await self.coverageJSON(context) }
        router.post("/api/library/curriculum") { request, context in try await self.loadCurriculum(request, context) }
        router.get("/library") { request, context in try await self.searchPage(request, context) }
        router.get("/library/new") { request, context in
            try await self.editPage(request, context, id: nil, revision: 0, content: CaseContent(title: ""))
        }
        router.post("/library/new") { request, context in try await self.saveForm(request, context, id: nil) }
        router.get("/library/queue") { request, context in try await self.queuePage(request, context) }
        router.get("/library/cases/:id") { request, context in try await self.casePage(request, context) }
        router.get("/library/cases/:id/edit") { request, context in
            let id = try Self.id(context)
            let c = try await self.mapped { try await self.store.get(id) }
            return try await self.editPage(request, context, id: id, revision: c.revision, content: c.content)
        }
        router.post("/library/cases/:id/edit") { request, context in try await self.saveForm(request, context, id: try Self.id(context)) }
        router.post("/library/cases/:id/action") { request, context in try await self.actionForm(request, context) }
        registerFlagged(on: router)
        registerSharing(on: router)
        registerExchange(on: router)
        registerAnnotations(on: router)
        registerPhotos(on: router)
    }

    // MARK: - Who may do what

    static func principal(_ context: AtriumRequestContext) throws -> Principal {
        guard let principal = context.principal else { throw HTTPError(.unauthorized, message: "sign in first") }
        return principal
    }

    /// Curators and administrators write and curate, and see unpublished cases.
    static func isCurator(_ principal: Principal) -> Bool { principal.has(.curator) || principal.has(.admin) }

    static func curator(_ context: AtriumRequestContext) throws -> Principal {
        let principal = try principal(context)
        guard isCurator(principal) else { throw HTTPError(.forbidden, message: "curators only") }
        return principal
    }

    static func id(_ context: AtriumRequestContext) throws -> Int64 {
        guard let id = Int64(try context.parameters.require("id")) else { throw HTTPError(.notFound) }
        return id
    }

    /// Runs a store call, turning its errors into HTTP answers.
    func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as TeachingError {
            switch error {
            case .notFound, .flaggedNotFound: throw HTTPError(.notFound, message: error.description)
            case .invalid: throw HTTPError(.badRequest, message: error.description)
            case .notAllowed: throw HTTPError(.forbidden, message: error.description)
            case .conflict: throw HTTPError(.conflict, message: error.description)
            case .database:
                logger.error("teaching store", metadata: ["error": "\(error)"])
                throw HTTPError(.internalServerError, message: "the library is not available")
            }
        }
    }

    func record(_ action: AuditAction, _ context: AtriumRequestContext, _ detail: String) async {
        await audit.record(
            AuditEvent(
                eventID: .applicationActivity, action: action, user: context.principal?.username ?? "",
                sourceAddress: context.remoteAddress?.ipAddress ?? "", detail: detail))
    }

    // MARK: - JSON API

    /// `GET /api/library/cases?q=…&modality=CT&difficulty=2&scope=latest&order=newest&limit=20&offset=0`.
    func searchJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        let q = try Self.query(request, curator: Self.isCurator(principal))
        let result = try await mapped { try await store.search(q) }
        return AuthRoutes.json(Self.object(result))
    }

    static func query(_ request: Request, curator: Bool) throws -> CaseQuery {
        let parameters = request.uri.queryParameters
        var q = CaseQuery(text: parameters["q"].map(String.init) ?? "")
        for facet in CaseQuery.facets {
            let values = parameters.getAll(facet).map { String($0) }.filter { !$0.isEmpty }
            if !values.isEmpty { q.filters[facet] = values }
        }
        if parameters["scope"].map(String.init) == SearchScope.latest.rawValue {
            guard curator else { throw HTTPError(.forbidden, message: "only curators search unpublished cases") }
            q.scope = .latest
        }
        if let order = parameters["order"].flatMap({ CaseQuery.Order(rawValue: String($0)) }) { q.order = order }
        q.limit = parameters["limit"].flatMap { Int(String($0)) } ?? 20
        q.offset = parameters["offset"].flatMap { Int(String($0)) } ?? 0
        return q
    }

    static func object(_ result: CaseSearchResult) -> [String: Any] {
        [
            "total": result.total,
            "cases": result.hits.map { ["id": $0.id, "title": $0.title, "difficulty": $0.difficulty] as [String: Any] },
            "facets": result.facets.mapValues { counts in counts.map { ["value": $0.value, "count": $0.count] as [String: Any] } },
        ]
    }

    /// `POST /api/library/cases` with `{"content": {…CaseContent…}, "institution", "source", "sourceKey"}`.
    func createJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.curator(context)
        let body = try await Self.decodeBody(CreateBody.self, request)
        try await checkAnnotations(body.content, caseID: nil)
        let created = try await mapped {
            try await store.create(
                body.content, author: principal.username, institution: body.institution ?? principal.institutionCode ?? "",
                source: body.source ?? "form", sourceKey: body.sourceKey)
        }
        await record(.create, context, "teaching case \(created.id) created")
        return try Self.encoded(CaseBody(created), status: .created)
    }

    struct CreateBody: Decodable {
        var content: CaseContent
        var institution: String?
        var source: String?
        var sourceKey: String?
    }

    struct EditBody: Decodable {
        var content: CaseContent
        var revision: Int64
        var note: String?
    }

    struct ActionBody: Decodable {
        var revision: Int64
    }

    /// A case as the API shows it.
    struct CaseBody: Encodable {
        var id: Int64
        var status: String
        var version: Int
        var publishedVersion: Int?
        var revision: Int64
        var completeness: Int
        var authors: [String]
        var institution: String
        var source: String
        var content: CaseContent

        init(_ c: TeachingCase, content: CaseContent? = nil, version: Int? = nil) {
            id = c.id
            status = c.status.rawValue
            self.version = version ?? c.version
            publishedVersion = c.publishedVersion
            revision = c.revision
            self.content = content ?? c.content
            completeness = CaseCuration.completeness(self.content)
            authors = c.authors
            institution = c.contributingInstitution
            source = c.source
        }
    }

    /// `GET /api/library/cases/{id}[?unknown=1]`: curators get the latest version; everyone else the published one.
    func caseJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        let id = try Self.id(context)
        let (c, content, version) = try await visible(id, principal)
        let unknown = request.uri.queryParameters["unknown"].map(String.init) == "1"
        await record(.read, context, "teaching case \(id) viewed")
        return try Self.encoded(CaseBody(c, content: unknown ? CaseCuration.unknown(content) : content, version: version))
    }

    /// The case and the content `principal` may see: the latest for curators, the published version for others.
    func visible(_ id: Int64, _ principal: Principal) async throws -> (TeachingCase, CaseContent, Int) {
        let c = try await mapped { try await store.get(id) }
        if Self.isCurator(principal) { return (c, c.content, c.version) }
        guard let published = try await mapped({ try await store.published(id) }) else {
            throw HTTPError(.notFound, message: "teaching case \(id) is not published")
        }
        return (c, published.content, published.version)
    }

    func editJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.curator(context)
        let id = try Self.id(context)
        let body = try await Self.decodeBody(EditBody.self, request)
        try await checkAnnotations(body.content, caseID: id)
        let edited = try await mapped {
            try await store.edit(id, content: body.content, author: principal.username, note: body.note ?? "", revision: body.revision)
        }
        await record(.update, context, "teaching case \(id) version \(edited.version) saved")
        return try Self.encoded(CaseBody(edited))
    }

    func versionsJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.curator(context)
        let id = try Self.id(context)
        let versions = try await mapped { try await store.versions(id) }
        let list: [[String: Any]] = zip(versions, [nil] + versions.map(Optional.some)).map { version, previous in
            var entry: [String: Any] = [
                "version": version.version, "author": version.author, "note": version.note,
                "createdAt": ISO8601DateFormatter().string(from: version.createdAt),
            ]
            if let previous {
                entry["changes"] = CaseCuration.diff(previous.content, version.content).map {
                    ["field": $0.field, "before": $0.before, "after": $0.after]
                }
            }
            return entry
        }
        return AuthRoutes.json(["versions": list])
    }

    /// `POST /api/library/cases/{id}/{submit|approve|return|retire|restore}` with `{"revision": n}`.
    func actionJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.curator(context)
        let id = try Self.id(context)
        guard let action = CaseCuration.Action(rawValue: try context.parameters.require("action")), action != .edit else {
            throw HTTPError(.notFound)
        }
        let body = try await Self.decodeBody(ActionBody.self, request)
        let changed = try await mapped { try await store.apply(action, to: id, actor: principal.username, revision: body.revision) }
        await record(.update, context, "teaching case \(id) \(action.rawValue): now \(changed.status.rawValue)")
        return try Self.encoded(CaseBody(changed))
    }

    func coverageJSON(_ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.principal(context)
        let coverage = try await mapped { try await store.curriculumCoverage() }
        return AuthRoutes.json([
            "items": coverage.map {
                [
                    "code": $0.item.code, "titleChinese": $0.item.titleChinese, "titleEnglish": $0.item.titleEnglish,
                    "parent": $0.item.parent, "publishedCases": $0.publishedCases,
                ] as [String: Any]
            }
        ])
    }

    /// `POST /api/library/curriculum` with a CSV body (`code,title_zh,title_en[,parent]`).
    func loadCurriculum(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.curator(context)
        var request = request
        let buffer = try await request.collectBody(upTo: 4 << 20)
        let count = try await mapped { try await store.loadCurriculum(csv: String(buffer: buffer)) }
        await record(.update, context, "curriculum loaded: \(count) items")
        return AuthRoutes.json(["items": count])
    }

    static func decodeBody<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        var request = request
        let buffer = try await request.collectBody(upTo: 4 << 20)
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch {
            throw HTTPError(.badRequest, message: "the body is not a valid \(T.self): \(error)")
        }
    }

    static func encoded<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}
