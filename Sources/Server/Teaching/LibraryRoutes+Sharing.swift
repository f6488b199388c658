import DICOM
import Foundation
import Hummingbird
import NIOCore
import Platform
import Teaching

/// Collections (ordered playlists of cases, with the "unknown" mode) and share links: a link with an expiry and a scope
/// opens one published case or one collection's published cases without an account, and nothing else.
extension LibraryRoutes {
    func registerSharing(on router: Router<AtriumRequestContext>) {
        router.get("/api/library/collections") { _, context in
            let principal = try Self.principal(context)
            let all = try await self.mapped { try await self.store.collections() }
            var out: [[String: Any]] = []
            for c in all { out.append(try await self.collectionObject(c, principal: principal, unknown: false)) }
            return AuthRoutes.json(["collections": out])
        }
        router.post("/api/library/collections") { request, context in
            let principal = try Self.curator(context)
            let body = try await Self.decodeBody(CollectionBody.self, request)
            let made = try await self.mapped {
                try await self.store.createCollection(
                    title: body.title, description: body.description ?? "", owner: principal.username, caseIDs: body.caseIDs)
            }
            await self.record(.create, context, "collection \(made.id) created with \(made.caseIDs.count) cases")
            return AuthRoutes.json(try await self.collectionObject(made, principal: principal, unknown: false), status: .created)
        }
        router.get("/api/library/collections/:id") { request, context in
            let principal = try Self.principal(context)
            let c = try await self.mapped { try await self.store.collection(try Self.id(context)) }
            let unknown = request.uri.queryParameters["unknown"].map(String.init) == "1"
            return AuthRoutes.json(try await self.collectionObject(c, principal: principal, unknown: unknown))
        }
        router.put("/api/library/collections/:id") { request, context in
            let principal = try Self.curator(context)
            let body = try await Self.decodeBody(CollectionBody.self, request)
            let id = try Self.id(context)
            let changed = try await self.mapped {
                try await self.store.updateCollection(
                    id, title: body.title, description: body.description ?? "", caseIDs: body.caseIDs, revision: body.revision ?? -1)
            }
            await self.record(.update, context, "collection \(id) changed")
            return AuthRoutes.json(try await self.collectionObject(changed, principal: principal, unknown: false))
        }
        router.post("/api/library/shares") { request, context in
            let principal = try Self.curator(context)
            let body = try await Self.decodeBody(ShareBody.self, request)
            guard let target = ShareLink.Target(kind: body.kind, id: body.id), let scope = ShareLink.Scope(rawValue: body.scope ?? "view")
            else { throw HTTPError(.badRequest, message: "kind is case or collection, scope view or download") }
            let (link, token) = try await self.share(
                target, scope: scope, seconds: body.expiresInSeconds ?? 7 * 86400, principal: principal)
            await self.record(.create, context, "share link \(link.id) for \(target.kind) \(target.id) (\(scope.rawValue))")
            var object = Self.linkObject(link)
            object["token"] = token
            object["path"] = "/shared/\(token)"
            return AuthRoutes.json(object, status: .created)
        }
        router.get("/api/library/shares") { request, context in
            _ = try Self.curator(context)
            let parameters = request.uri.queryParameters
            guard
                let target = ShareLink.Target(
                    kind: parameters["kind"].map(String.init) ?? "", id: parameters["id"].flatMap { Int64(String($0)) } ?? 0)
            else { throw HTTPError(.badRequest, message: "kind and id name a case or a collection") }
            let links = try await self.mapped { try await self.store.shareLinks(of: target) }
            return AuthRoutes.json(["links": links.map(Self.linkObject)])
        }
        router.delete("/api/library/shares/:id") { _, context in
            _ = try Self.curator(context)
            let id = try Self.id(context)
            let link = try await self.mapped { try await self.store.revokeShareLink(id: id) }
            await self.record(.update, context, "share link \(id) revoked")
            return AuthRoutes.json(Self.linkObject(link))
        }
        // Pages for curators and readers.
        router.get("/library/collections") { request, context in try await self.collectionsPage(request, context) }
        router.post("/library/collections") { request, context in
            let principal = try Self.curator(context)
            let form = try await FormBody.read(request)
            let ids = (form["cases"] ?? "").split(whereSeparator: { " ,，".contains($0) }).compactMap { Int64($0) }
            let made = try await self.mapped {
                try await self.store.createCollection(
                    title: (form["title"] ?? "").trimmingCharacters(in: .whitespaces), description: form["description"] ?? "",
                    owner: principal.username, caseIDs: ids)
            }
            await self.record(.create, context, "collection \(made.id) created with \(made.caseIDs.count) cases")
            return Response.redirect(to: "/library/collections/\(made.id)", type: .found)
        }
        router.get("/library/collections/:id") { request, context in try await self.collectionPage(request, context) }
        // Curators reorder a collection (a case one place up or down) or take a case out of it, from its page.
        router.post("/library/collections/:id/order") { request, context in
            _ = try Self.curator(context)
            let id = try Self.id(context)
            let form = try await FormBody.read(request)
            let c = try await self.mapped { try await self.store.collection(id) }
            guard let member = Int64(form["case"] ?? ""), let n = c.caseIDs.firstIndex(of: member) else {
                throw HTTPError(.badRequest, message: "the case is not in this collection")
            }
            var order = c.caseIDs
            // `move`: -1 one place up, 1 one place down, 0 out of the collection.
            switch form["move"] ?? "" {
            case "-1": if n > 0 { order.swapAt(n, n - 1) }
            case "1": if n + 1 < order.count { order.swapAt(n, n + 1) }
            case "0": order.remove(at: n)
            default: throw HTTPError(.badRequest, message: "move is -1 (up), 1 (down) or 0 (remove)")
            }
            _ = try await self.mapped {
                try await self.store.updateCollection(
                    id, title: c.title, description: c.description, caseIDs: order, revision: Int64(form["revision"] ?? "") ?? -1)
            }
            await self.record(.update, context, "collection \(id) reordered")
            return Response.redirect(to: "/library/collections/\(id)", type: .found)
        }
        router.post("/library/share") { request, context in
            let principal = try Self.curator(context)
            let form = try await FormBody.read(request)
            guard let target = ShareLink.Target(kind: form["kind"] ?? "", id: Int64(form["id"] ?? "") ?? 0),
                let scope = ShareLink.Scope(rawValue: form["scope"] ?? "view")
            else { throw HTTPError(.badRequest, message: "unknown share target") }
            let days = min(max(Int(form["days"] ?? "") ?? 7, 1), 365)
            let (link, token) = try await self.share(target, scope: scope, seconds: days * 86400, principal: principal)
            await self.record(.create, context, "share link \(link.id) for \(target.kind) \(target.id) (\(scope.rawValue))")
            let back = target.kind == "case" ? "/library/cases/\(target.id)" : "/library/collections/\(target.id)"
            return self.views.page(
                "library-shared-made", title: self.text("library.share.made", request, context), section: .library,
                data: [
                    "path": "/shared/\(token)", "back": back, "scope": self.text("library.share.scope.\(scope.rawValue)", request, context),
                    "expires": Self.dateText(link.expiresAt),
                ], request: request, context: context)
        }
        router.post("/library/shares/:id/revoke") { request, context in
            _ = try Self.curator(context)
            let form = try await FormBody.read(request)
            let id = try Self.id(context)
            _ = try await self.mapped { try await self.store.revokeShareLink(id: id) }
            await self.record(.update, context, "share link \(id) revoked")
            return Response.redirect(to: form["back"].flatMap { $0.hasPrefix("/library/") ? $0 : nil } ?? "/library", type: .found)
        }
        // What a link opens, signed out (route family `page`: nobody needs to be signed in; the token decides).
        router.get("/shared/:token") { request, context in try await self.sharedPage(request, context, caseID: nil) }
        router.get("/shared/:token/cases/:id") { request, context in
            try await self.sharedPage(request, context, caseID: try Self.id(context))
        }
        // The viewer on a shared case's images (its modules are static code, served to anyone).
        router.get("/shared/viewer-assets/:file") { _, context in
            try ViewerRoutes.asset(
                try context.parameters.require("file"), directory: WebViews.bundledResources + "/viewer", logger: self.logger)
        }
        router.get("/shared/:token/cases/:id/viewer") { request, context in
            let (link, caseID) = try await self.sharedTarget(context, caseID: try Self.id(context))
            guard let caseID, let published = try await self.mapped({ try await self.store.published(caseID) }) else {
                throw HTTPError(.notFound)
            }
            await self.audit.record(
                AuditEvent(
                    eventID: .applicationActivity, action: .read, user: "share-link-\(link.id)",
                    sourceAddress: context.remoteAddress?.ipAddress ?? "", detail: "shared case \(caseID) opened in the viewer"))
            let token = try context.parameters.require("token")
            return try self.viewerPage(
                request, context, content: published.content, base: "/shared/\(token)/cases/\(caseID)/viewer-data",
                assets: "/shared/viewer-assets")
        }
        router.get("/shared/:token/cases/:id/viewer-data/metadata") { _, context in
            let (_, caseID) = try await self.sharedTarget(context, caseID: try Self.id(context))
            guard let caseID else { throw HTTPError(.notFound) }
            return try await self.viewerMetadata(caseID)
        }
        router.get("/shared/:token/cases/:id/viewer-data/frames/:sop/:frame") { _, context in
            let (_, caseID) = try await self.sharedTarget(context, caseID: try Self.id(context))
            guard let n = Int(try context.parameters.require("frame")), n >= 1 else {
                throw HTTPError(.badRequest, message: "frames count from 1")
            }
            return try Self.nativeFrame(try DICOMFile.read(try await self.sharedImage(caseID, context).bytes), number: n)
        }
        router.get("/shared/:token/cases/:id/images/:sop/rendered") { _, context in
            let (_, caseID) = try await self.sharedTarget(context, caseID: try Self.id(context))
            return try Self.renderedPNG(try DICOMFile.read(try await self.sharedImage(caseID, context).bytes))
        }
        router.get("/shared/:token/cases/:id/images/:sop") { _, context in
            let (link, caseID) = try await self.sharedTarget(context, caseID: try Self.id(context))
            guard link.scope == .download else { throw HTTPError(.forbidden, message: "this link is for viewing only") }
            let image = try await self.sharedImage(caseID, context)
            return Response(
                status: .ok,
                headers: [
                    .contentType: "application/dicom", .cacheControl: "private, no-store",
                    .contentDisposition: "attachment; filename=\"\(image.sopInstanceUID).dcm\"",
                ],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: image.bytes)))
        }
    }

    struct CollectionBody: Decodable {
        var title: String
        var description: String?
        var caseIDs: [Int64]
        var revision: Int64?
    }

    struct ShareBody: Decodable {
        var kind: String
        var id: Int64
        var scope: String?
        var expiresInSeconds: Int?
    }

    func share(_ target: ShareLink.Target, scope: ShareLink.Scope, seconds: Int, principal: Principal) async throws -> (ShareLink, String) {
        // Only published cases are shared: a link to a draft would show nothing anyway.
        if case .teachingCase(let id) = target, try await mapped({ try await store.published(id) }) == nil {
            throw HTTPError(.conflict, message: "teaching case \(id) is not published")
        }
        return try await mapped {
            try await store.createShareLink(
                target, scope: scope, expiresAt: Date().addingTimeInterval(Double(seconds)), by: principal.username)
        }
    }

    static func linkObject(_ link: ShareLink) -> [String: Any] {
        var object: [String: Any] = [
            "id": link.id, "kind": link.target.kind, "targetID": link.target.id, "scope": link.scope.rawValue,
            "expiresAt": ISO8601DateFormatter().string(from: link.expiresAt), "createdBy": link.createdBy,
            "usable": link.isUsable(at: Date()),
        ]
        if let revoked = link.revokedAt { object["revokedAt"] = ISO8601DateFormatter().string(from: revoked) }
        return object
    }

    /// The cases of a collection `principal` may see (published ones for everyone but curators), titles hidden in
    /// unknown mode.
    func members(_ c: CaseCollection, curator: Bool, unknown: Bool) async throws -> [(id: Int64, title: String)] {
        var out: [(Int64, String)] = []
        for id in c.caseIDs {
            if curator {
                out.append((id, try await mapped { try await store.get(id) }.content.title))
            } else if let published = try await mapped({ try await store.published(id) }) {
                out.append((id, published.content.title))
            }
        }
        return out.enumerated().map { n, member in (member.0, unknown ? "#\(n + 1)" : member.1) }
    }

    func collectionObject(_ c: CaseCollection, principal: Principal, unknown: Bool) async throws -> [String: Any] {
        let list = try await members(c, curator: Self.isCurator(principal), unknown: unknown)
        return [
            "id": c.id, "title": c.title, "description": c.description, "owner": c.owner, "revision": c.revision,
            "cases": list.map { ["id": $0.id, "title": $0.title] as [String: Any] },
        ]
    }

    func collectionsPage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        let all = try await mapped { try await store.collections() }
        var rows: [[String: Any]] = []
        for c in all {
            let count = try await members(c, curator: Self.isCurator(principal), unknown: false).count
            rows.append(["id": c.id, "title": c.title, "count": count, "owner": c.owner])
        }
        return views.page(
            "library-collections", title: text("library.collections.title", request, context), section: .library,
            data: ["collections": rows, "empty": rows.isEmpty, "curator": Self.isCurator(principal)], request: request, context: context)
    }

    func collectionPage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        let c = try await mapped { try await store.collection(try Self.id(context)) }
        let unknown = request.uri.queryParameters["unknown"].map(String.init) == "1"
        let curator = Self.isCurator(principal)
        let list = try await members(c, curator: curator, unknown: unknown)
        var data: [String: Any] = [
            "id": c.id, "title": c.title, "description": c.description, "unknown": unknown, "curator": curator,
            "revision": c.revision,
            "cases": list.enumerated().map { n, member in
                [
                    "id": member.id, "title": member.title, "href": "/library/cases/\(member.id)" + (unknown ? "?unknown=1" : ""),
                    "first": n == 0, "last": n == list.count - 1, "collection": c.id, "revision": c.revision,
                ] as [String: Any]
            },
            "toggle": "/library/collections/\(c.id)" + (unknown ? "" : "?unknown=1"), "shareKind": "collection",
        ]
        if curator {
            data["links"] = try await shareRows(.collection(c.id), request, context, back: "/library/collections/\(c.id)")
            data["scopes"] = ShareLink.Scope.allCases.map {
                ["value": $0.rawValue, "label": text("library.share.scope.\($0.rawValue)", request, context)]
            }
        }
        return views.page("library-collection", title: c.title, section: .library, data: data, request: request, context: context)
    }

    func shareRows(_ target: ShareLink.Target, _ request: Request, _ context: AtriumRequestContext, back: String) async throws -> [[String:
        Any]]
    {
        try await mapped { try await store.shareLinks(of: target) }.map { link in
            [
                "id": link.id, "scope": text("library.share.scope.\(link.scope.rawValue)", request, context),
                "expires": Self.dateText(link.expiresAt),
                "usable": link.isUsable(at: Date()), "by": link.createdBy, "back": back,
                "state": text(
                    link.revokedAt != nil
                        ? "library.share.revoked" : (link.isUsable(at: Date()) ? "library.share.active" : "library.share.expired"), request,
                    context),
            ]
        }
    }

    /// The link of the request's token and the case it may open (the target case, or a published member of the target
    /// collection); 410 when the link is unknown, expired or revoked, 404 for anything outside it.
    func sharedTarget(_ context: AtriumRequestContext, caseID: Int64?) async throws -> (ShareLink, Int64?) {
        let token = try context.parameters.require("token")
        guard let link = try await mapped({ try await store.resolveShareLink(token: token) }) else {
            throw HTTPError(.gone, message: "this link has expired or was revoked")
        }
        guard let caseID else { return (link, nil) }
        switch link.target {
        case .teachingCase(let id): guard id == caseID else { throw HTTPError(.notFound) }
        case .collection(let id):
            guard try await mapped({ try await store.collection(id) }).caseIDs.contains(caseID) else { throw HTTPError(.notFound) }
        }
        guard try await mapped({ try await store.published(caseID) }) != nil else { throw HTTPError(.notFound) }
        return (link, caseID)
    }

    func sharedImage(_ caseID: Int64?, _ context: AtriumRequestContext) async throws -> CaseImage {
        let sop = try context.parameters.require("sop")
        guard let caseID, let image = try await mapped({ try await store.image(of: caseID, sopInstanceUID: sop) }) else {
            throw HTTPError(.notFound)
        }
        return image
    }

    /// `GET /shared/{token}[/cases/{id}]`: the read-only page of a shared case, or of a shared collection's cases.
    func sharedPage(_ request: Request, _ context: AtriumRequestContext, caseID: Int64?) async throws -> Response {
        let token = try context.parameters.require("token")
        let link: ShareLink
        var target: Int64?
        do {
            (link, target) = try await sharedTarget(context, caseID: caseID)
        } catch let error as HTTPError where error.status == .gone {
            return views.page(
                "library-shared-gone", title: text("library.share.gone", request, context), section: .library, data: [:], request: request,
                context: context, status: .gone)
        }
        let unknown = request.uri.queryParameters["unknown"].map(String.init) == "1"
        if target == nil, case .teachingCase(let id) = link.target {
            target = try await sharedTarget(context, caseID: id).1
        }
        let base = "/shared/\(token)"
        await audit.record(
            AuditEvent(
                eventID: .applicationActivity, action: .read, user: "share-link-\(link.id)",
                sourceAddress: context.remoteAddress?.ipAddress ?? "",
                detail: "shared \(link.target.kind) \(link.target.id) opened" + (target.map { ", case \($0)" } ?? "")))
        if let target {
            guard let published = try await mapped({ try await store.published(target) }) else { throw HTTPError(.notFound) }
            let content = unknown ? CaseCuration.unknown(published.content) : published.content
            let images = try await mapped { try await store.images(of: target) }
            var data = caseSections(content, request, context)
            data["id"] = target
            data["unknown"] = unknown
            data["shared"] = true
            data["title"] = unknown ? "\(text("library.unknownCase", request, context)) #\(target)" : content.title
            data["revealHref"] = "\(base)/cases/\(target)"
            data["download"] = link.scope == .download
            data["keyImages"] = try await keyImageRows(
                target, content: content, images: images, source: { "\(base)/cases/\(target)/images/\($0)/rendered" },
                viewer: { "\(base)/cases/\(target)/viewer?image=\($0)" + (unknown ? "&unknown=1" : "") },
                file: { "\(base)/cases/\(target)/images/\($0)" })
            if case .collection = link.target { data["back"] = base + (unknown ? "?unknown=1" : "") }
            return views.page(
                "library-case", title: data["title"] as? String ?? "", section: .library, data: data, request: request, context: context)
        }
        guard case .collection(let id) = link.target else { throw HTTPError(.notFound) }
        let c = try await mapped { try await store.collection(id) }
        let list = try await members(c, curator: false, unknown: unknown)
        return views.page(
            "library-collection", title: c.title, section: .library,
            data: [
                "id": c.id, "title": c.title, "description": c.description, "unknown": unknown, "shared": true,
                "cases": list.map { ["id": $0.id, "title": $0.title, "href": "\(base)/cases/\($0.id)" + (unknown ? "?unknown=1" : "")] },
                "toggle": base + (unknown ? "" : "?unknown=1"),
            ], request: request, context: context)
    }
}
