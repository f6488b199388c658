import Foundation
import Hummingbird
import Platform
import Teaching

extension LibraryRoutes {
    func text(_ key: String, _ request: Request, _ context: AtriumRequestContext) -> String {
        views.locales.text(key, WebViews.language(request: request, context: context))
    }

    /// `GET /library`: the search box, facets with counts (links that add or remove a filter) and a page of results.
    func searchPage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        let curator = Self.isCurator(principal)
        var q = try Self.query(request, curator: curator)
        q.limit = 20
        let result = try await mapped { try await store.search(q) }
        let unknown = request.uri.queryParameters["unknown"].map(String.init) == "1"
        func link(_ filters: [String: [String]], offset: Int = 0) -> String {
            var items = [URLQueryItem(name: "q", value: q.text)]
            for (facet, values) in filters.sorted(by: { $0.key < $1.key }) { items += values.map { URLQueryItem(name: facet, value: $0) } }
            if q.scope == .latest { items.append(URLQueryItem(name: "scope", value: "latest")) }
            if q.order != .relevance { items.append(URLQueryItem(name: "order", value: q.order.rawValue)) }
            if unknown { items.append(URLQueryItem(name: "unknown", value: "1")) }
            if offset > 0 { items.append(URLQueryItem(name: "offset", value: String(offset))) }
            var components = URLComponents()
            components.path = "/library"
            components.queryItems = items
            return components.string ?? "/library"
        }
        let facets: [[String: Any]] = CaseQuery.facets.compactMap { facet in
            guard let counts = result.facets[facet], !counts.isEmpty else { return nil }
            return [
                "facet": facet, "label": text("library.facets.\(facet)", request, context),
                "values": counts.prefix(12).map { count -> [String: Any] in
                    let selected = q.filters[facet]?.contains(count.value) ?? false
                    var filters = q.filters
                    filters[facet] = selected ? filters[facet]?.filter { $0 != count.value } : (filters[facet] ?? []) + [count.value]
                    return ["value": count.value, "count": count.count, "selected": selected, "href": link(filters)]
                },
            ]
        }
        let hits: [[String: Any]] = result.hits.map { hit in
            [
                "id": hit.id, "title": unknown ? "\(text("library.unknownCase", request, context)) #\(hit.id)" : hit.title,
                "difficulty": hit.difficulty, "href": "/library/cases/\(hit.id)" + (unknown ? "?unknown=1" : ""),
            ]
        }
        var data: [String: Any] = [
            "query": q.text, "total": result.total, "hits": hits, "facets": facets, "empty": hits.isEmpty, "curator": curator,
            "latest": q.scope == .latest, "latestScope": SearchScope.latest.rawValue, "unknown": unknown,
            "orders": CaseQuery.Order.allCases.map {
                ["value": $0.rawValue, "label": text("library.order.\($0.rawValue)", request, context), "selected": $0 == q.order]
            },
        ]
        if q.offset > 0 { data["previous"] = link(q.filters, offset: max(0, q.offset - q.limit)) }
        if q.offset + q.limit < result.total { data["next"] = link(q.filters, offset: q.offset + q.limit) }
        return views.page(
            "library", title: text("library.title", request, context), section: .library, data: data, request: request, context: context)
    }

    /// `GET /library/cases/{id}`: the case as its reader may see it, with the curators' status, history and actions.
    func casePage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        let id = try Self.id(context)
        let (c, visible, version) = try await visible(id, principal)
        let unknown = request.uri.queryParameters["unknown"].map(String.init) == "1"
        let content = unknown ? CaseCuration.unknown(visible) : visible
        await record(.read, context, "teaching case \(id) viewed")
        // A use of the library for the programme's indicators; a failure to count it does not hide the case.
        do {
            try await store.recordCaseView(id, person: principal.username, institution: principal.institutionCode ?? "")
        } catch {
            logger.warning("case view not counted", metadata: ["case": "\(id)", "error": "\(error)"])
        }
        let images = try await mapped { try await store.images(of: id) }
        var data = caseSections(content, request, context)
        data.merge([
            "id": id, "version": version, "unknown": unknown, "curator": Self.isCurator(principal),
            "title": unknown ? "\(text("library.unknownCase", request, context)) #\(id)" : content.title,
            "revealHref": "/library/cases/\(id)",
            // The de-identified copies stored with the case (never the clinical study, which students cannot open),
            // with their annotations as overlays, each opening the viewer on the case's images.
            "keyImages": try await keyImageRows(
                id, content: content, images: images, source: { "/library/cases/\(id)/images/\($0)/rendered" },
                viewer: { "/library/cases/\(id)/viewer?image=\($0)" + (unknown ? "&unknown=1" : "") }),
        ]) { _, new in new }
        if principal.has(.admin), let origin = try await mapped({ try await store.origin(of: id) }) {
            data["origin"] = ["study": origin.studyInstanceUID, "sourceKey": origin.sourceKey]
        }
        if Self.isCurator(principal) {
            data["photoForm"] = !unknown && c.status != .retired
            data["status"] = text("library.status.\(c.status.rawValue)", request, context)
            data["statusCode"] = c.status.rawValue
            data["revision"] = c.revision
            data["completeness"] = CaseCuration.completeness(c.content)
            data["authors"] = c.authors.joined(separator: ", ")
            data["actions"] = CaseCuration.Action.allCases.filter { action in
                action != .edit
                    && (try? CaseCuration.next(
                        c.status, action, actor: principal.username, versionAuthor: "", content: c.content)) != nil
            }.map { ["action": $0.rawValue, "label": text("library.actions.\($0.rawValue)", request, context)] }
            let versions = try await mapped { try await store.versions(id) }
            if c.publishedVersion != nil, c.status != .retired {
                data["shareKind"] = "case"
                data["links"] = try await shareRows(.teachingCase(id), request, context, back: "/library/cases/\(id)")
                data["scopes"] = ShareLink.Scope.allCases.map {
                    ["value": $0.rawValue, "label": text("library.share.scope.\($0.rawValue)", request, context)]
                }
            }
            data["hasVersions"] = !versions.isEmpty
            data["versions"] = versions.reversed().map {
                ["version": $0.version, "author": $0.author, "note": $0.note, "date": Self.dateText($0.createdAt)]
            }
        }
        return views.page(
            "library-case", title: data["title"] as? String ?? "", section: .library, data: data, request: request, context: context)
    }

    /// The text of a case as its pages show it: sections, learning points and tags.
    func caseSections(_ content: CaseContent, _ request: Request, _ context: AtriumRequestContext) -> [String: Any] {
        [
            "sections": [
                ("clinicalHistory", content.clinicalHistory), ("findings", content.findings), ("diagnosis", content.diagnosis),
                ("differentialDiagnosis", content.differentialDiagnosis), ("discussion", content.discussion),
            ].filter { !$0.1.isEmpty }.map { ["label": text("library.fields.\($0.0)", request, context), "text": $0.1, "field": $0.0] },
            "learningPoints": content.learningPoints, "hasLearningPoints": !content.learningPoints.isEmpty,
            "tags": [
                ("modality", content.tags.modalities.joined(separator: ", ")), ("bodyRegion", content.tags.bodyRegion),
                ("organSystem", content.tags.organSystem), ("pathologyCategory", content.tags.pathologyCategory),
                ("audience", text("library.audience.\(content.tags.audience.rawValue)", request, context)),
                ("difficulty", String(content.tags.difficulty)),
            ].filter { !$0.1.isEmpty }.map { ["label": text("library.facets.\($0.0)", request, context), "value": $0.1] },
        ]
    }

    static func dateText(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = AllianceTime.zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }

    /// `GET /library/queue`: drafts and cases waiting for a second curator.
    func queuePage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.curator(context)
        let flagged = try await flaggedList()
        let queue = try await mapped { try await store.queue() }
        let flaggedRows: [[String: Any]] = flagged.map { f in
            var row: [String: Any] = [
                "id": f.id, "note": f.note.isEmpty ? "—" : String(f.note.prefix(120)), "instances": f.references.count,
                "kind": text("library.flagged.kind.\(f.kind.rawValue)", request, context), "by": f.flaggedBy,
                "date": Self.dateText(f.createdAt),
            ]
            if let c = f.caseID { row["caseID"] = c }
            return row
        }
        let rows: [[String: Any]] = queue.map {
            [
                "id": $0.id, "title": $0.content.title, "status": text("library.status.\($0.status.rawValue)", request, context),
                "statusCode": $0.status.rawValue, "authors": $0.authors.joined(separator: ", "),
                "completeness": CaseCuration.completeness($0.content), "updated": Self.dateText($0.updatedAt),
            ]
        }
        return views.page(
            "library-queue", title: text("library.queue.title", request, context), section: .library,
            data: ["cases": rows, "empty": rows.isEmpty, "flagged": flaggedRows, "noFlagged": flaggedRows.isEmpty], request: request,
            context: context)
    }

    /// `GET /library/new` and `/library/cases/{id}/edit`: the case form.
    func editPage(
        _ request: Request, _ context: AtriumRequestContext, id: Int64?, revision: Int64, content c: CaseContent, problem: String? = nil
    ) async throws -> Response {
        _ = try Self.curator(context)
        // The key images with the drawing tool: each stored image that is a key image, its size and its annotations.
        var keyImages: [[String: Any]] = []
        if let id {
            let keys = Set(c.keyImages.map(\.sopInstanceUID))
            let images = try await mapped { try await store.images(of: id) }.filter { keys.contains($0.sopInstanceUID) }
            let rows = try await keyImageRows(
                id, content: c, images: images, source: { "/library/cases/\(id)/images/\($0)/rendered" }, viewer: nil)
            let encoder = JSONEncoder()
            for var row in rows where row["hasSize"] as? Bool == true {
                let annotations = c.keyImages.first { $0.sopInstanceUID == row["uid"] as? String }?.annotations ?? []
                row["annotationsJSON"] = String(decoding: try encoder.encode(annotations), as: UTF8.self)
                keyImages.append(row)
            }
        }
        var data: [String: Any] = [
            "keyImages": keyImages, "hasKeyImages": !keyImages.isEmpty, "maximumLabel": AnnotationRules.maximumLabelLength,
            "action": id.map { "/library/cases/\($0)/edit" } ?? "/library/new", "revision": revision,
            "title": c.title, "clinicalHistory": c.clinicalHistory, "findings": c.findings, "diagnosis": c.diagnosis,
            "diagnosisCode": c.diagnosisCode, "differentialDiagnosis": c.differentialDiagnosis, "discussion": c.discussion,
            "learningPoints": c.learningPoints.joined(separator: "\n"), "references": c.references.joined(separator: "\n"),
            "modalities": c.tags.modalities.joined(separator: " "), "bodyRegion": c.tags.bodyRegion, "organSystem": c.tags.organSystem,
            "pathologyCategory": c.tags.pathologyCategory, "keywords": c.tags.keywords.joined(separator: ", "),
            "curriculumItems": c.tags.curriculumItems.joined(separator: " "),
            "difficulties": (1...5).map { ["value": $0, "selected": $0 == c.tags.difficulty] },
            "audiences": Audience.allCases.map {
                [
                    "value": $0.rawValue, "label": text("library.audience.\($0.rawValue)", request, context),
                    "selected": $0 == c.tags.audience,
                ]
            },
            "certainties": DiagnosticCertainty.allCases.map {
                ["value": $0.rawValue, "label": text("library.certainty.\($0.rawValue)", request, context), "selected": $0 == c.certainty]
            },
            "confirmations": Confirmation.allCases.map {
                [
                    "value": $0.rawValue, "label": text("library.confirmation.\($0.rawValue)", request, context),
                    "selected": $0 == c.confirmation,
                ]
            },
        ]
        if let problem { data["problem"] = problem }
        return views.page(
            "library-edit", title: text(id == nil ? "library.edit.new" : "library.edit.title", request, context), section: .library,
            data: data, request: request, context: context, status: problem == nil ? .ok : .badRequest)
    }

    /// `POST /library/new` or `/library/cases/{id}/edit`: saves the form as a new case or a new version.
    func saveForm(_ request: Request, _ context: AtriumRequestContext, id: Int64?) async throws -> Response {
        let principal = try Self.curator(context)
        let form = try await FormBody.read(request, limitBytes: 1 << 20)
        func field(_ name: String) -> String { (form[name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }
        func lines(_ name: String) -> [String] {
            field(name).split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        func words(_ name: String, _ separators: Set<Character>) -> [String] {
            field(name).split(whereSeparator: { separators.contains($0) }).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
        }
        var existing: TeachingCase?
        if let id { existing = try await mapped { try await store.get(id) } }
        var content = existing?.content ?? CaseContent(title: "")
        content.title = field("title")
        content.clinicalHistory = field("clinicalHistory")
        content.findings = field("findings")
        content.diagnosis = field("diagnosis")
        content.diagnosisCode = field("diagnosisCode")
        content.differentialDiagnosis = field("differentialDiagnosis")
        content.discussion = field("discussion")
        content.learningPoints = lines("learningPoints")
        content.references = lines("references")
        content.certainty = DiagnosticCertainty(rawValue: field("certainty"))
        content.confirmation = Confirmation(rawValue: field("confirmation"))
        content.tags.modalities = words("modalities", [" ", ",", "，"]).map { $0.uppercased() }
        content.tags.bodyRegion = field("bodyRegion")
        content.tags.organSystem = field("organSystem")
        content.tags.pathologyCategory = field("pathologyCategory")
        content.tags.keywords = words("keywords", [",", "，", "、"])
        content.tags.curriculumItems = words("curriculumItems", [" ", ",", "，"])
        content.tags.audience = Audience(rawValue: field("audience")) ?? .both
        content.tags.difficulty = Int(field("difficulty")) ?? 3
        do throws(TeachingError) {
            try Self.formAnnotations(form["annotations"], into: &content)
        } catch {
            return try await editPage(
                request, context, id: existing?.id, revision: Int64(field("revision")) ?? 0, content: content, problem: error.description)
        }
        do {
            try await checkAnnotations(content, caseID: existing?.id)
        } catch let error as HTTPError {
            return try await editPage(
                request, context, id: existing?.id, revision: Int64(field("revision")) ?? 0, content: content,
                problem: error.body ?? "\(error)")
        }
        do throws(TeachingError) {
            let saved: TeachingCase
            if let existing {
                saved = try await store.edit(
                    existing.id, content: content, author: principal.username, note: field("note"),
                    revision: Int64(field("revision")) ?? -1)
            } else {
                saved = try await store.create(
                    content, author: principal.username, institution: principal.institutionCode ?? "", source: "form")
            }
            await record(existing == nil ? .create : .update, context, "teaching case \(saved.id) version \(saved.version) saved")
            return .redirect(to: "/library/cases/\(saved.id)", type: .found)
        } catch {
            return try await editPage(
                request, context, id: existing?.id, revision: Int64(field("revision")) ?? 0, content: content, problem: error.description)
        }
    }

    /// `POST /library/cases/{id}/action` (form fields `action`, `revision`).
    func actionForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.curator(context)
        let id = try Self.id(context)
        let form = try await FormBody.read(request)
        guard let action = CaseCuration.Action(rawValue: form["action"] ?? ""), action != .edit else {
            throw HTTPError(.badRequest, message: "unknown action")
        }
        let changed = try await mapped {
            try await store.apply(action, to: id, actor: principal.username, revision: Int64(form["revision"] ?? "") ?? -1)
        }
        await record(.update, context, "teaching case \(id) \(action.rawValue): now \(changed.status.rawValue)")
        return .redirect(to: "/library/cases/\(id)", type: .found)
    }
}
