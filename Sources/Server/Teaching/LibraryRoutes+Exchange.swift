import Archive
import DICOM
import Foundation
import Hummingbird
import NIOCore
import Platform
import Teaching

/// Exchange between colleges: a case or a collection exported as a zip (de-identified DICOM, `cases.json`, a manifest
/// with SHA-256 checksums), and imported elsewhere: validated, de-identified again with this server's secret, stored;
/// the same package twice makes nothing new.
extension LibraryRoutes {
    func registerExchange(on router: Router<AtriumRequestContext>) {
        router.get("/api/library/cases/:id/export") { _, context in
            _ = try Self.curator(context)
            let id = try Self.id(context)
            let zip = try await self.package(caseIDs: [id], collection: nil)
            await self.record(.read, context, "teaching case \(id) exported as a package")
            return Self.zipResponse(zip, name: "teaching-case-\(id).zip")
        }
        router.get("/api/library/collections/:id/export") { _, context in
            _ = try Self.curator(context)
            let c = try await self.mapped { try await self.store.collection(try Self.id(context)) }
            let zip = try await self.package(caseIDs: c.caseIDs, collection: c)
            await self.record(.read, context, "collection \(c.id) exported as a package (\(c.caseIDs.count) cases)")
            return Self.zipResponse(zip, name: "teaching-collection-\(c.id).zip")
        }
        router.get("/library/exchange") { request, context in
            let principal = try Self.principal(context)
            guard Self.isCurator(principal) else { throw HTTPError(.forbidden, message: "curators only") }
            let collections = try await self.mapped { try await self.store.collections() }
            return self.views.page(
                "library-exchange", title: self.text("exchange.title", request, context), section: .library,
                data: ["collections": collections.map { ["id": $0.id, "title": $0.title] }], request: request, context: context)
        }
        router.post("/api/library/import") { request, context in
            let principal = try Self.curator(context)
            var request = request
            let body = try await request.collectBody(upTo: self.maximumPackageBytes)
            let result = try await self.importPackage(Array(body.readableBytesView), principal: principal)
            await self.record(.create, context, "package imported: \(result["created"] ?? 0) new case(s)")
            return AuthRoutes.json(result, status: .created)
        }
    }

    var maximumPackageBytes: Int { 2 << 30 }

    static func zipResponse(_ bytes: [UInt8], name: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/zip", .contentDisposition: "attachment; filename=\"\(name)\"", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func package(caseIDs: [Int64], collection: CaseCollection?) async throws -> [UInt8] {
        var cases: [(CasePackage.Case, [[UInt8]])] = []
        for id in caseIDs {
            let c = try await mapped { try await store.get(id) }
            var files: [[UInt8]] = []
            for image in try await mapped({ try await store.images(of: id) }) {
                if let stored = try await mapped({ try await store.image(of: id, sopInstanceUID: image.sopInstanceUID) }) {
                    files.append(stored.bytes)
                }
            }
            let key = try await mapped { try await store.exchangeKey(of: id) }
            cases.append(
                (CasePackage.Case(key: key, content: c.content, contributingInstitution: c.contributingInstitution, images: []), files))
        }
        let described = collection.map { c in
            CasePackage.Collection(title: c.title, description: c.description, cases: cases.map(\.0.key))
        }
        return try await mapped { try CasePackage.make(cases: cases, collection: described) }
    }

    /// Validates the package, de-identifies every file again with this server's secret (the safety net must pass),
    /// then stores each case once.
    func importPackage(_ zip: [UInt8], principal: Principal) async throws -> [String: Any] {
        let contents = try await mapped {
            try CasePackage.read(zip, limits: ZipLimits(maximumEntryBytes: 512 << 20, maximumArchiveBytes: maximumPackageBytes))
        }
        let preparation = try await preparation()
        // Everything is checked before anything is stored.
        var prepared: [(CasePackage.Case, CaseContent, [CaseImage])] = []
        for item in contents.description.cases {
            var images: [CaseImage] = []
            var replaced: [String: String] = [:]
            for path in item.images {
                let file: DICOMFile
                do {
                    file = try DICOMFile.read(contents.files[path] ?? [])
                } catch {
                    throw HTTPError(.badRequest, message: "\(path) is not a DICOM file: \(error)")
                }
                let ds = file.dataSet
                let reference = InstanceReference(
                    seriesInstanceUID: ds.string(.seriesInstanceUID) ?? "", sopInstanceUID: ds.string(.sopInstanceUID) ?? "",
                    sopClassUID: ds.string(.sopClassUID) ?? "")
                let result = preparation.prepare(file, reference: reference, masks: [:])
                guard result.isReleased else {
                    throw HTTPError(.conflict, message: "\(path) was not released: \(result.refusals.joined(separator: "; "))")
                }
                let out = result.result.file.dataSet
                replaced.merge(result.result.replacedUIDs) { first, _ in first }
                images.append(
                    CaseImage(
                        caseID: 0, studyInstanceUID: out.string(.studyInstanceUID) ?? "",
                        seriesInstanceUID: out.string(.seriesInstanceUID) ?? "",
                        sopInstanceUID: out.string(.sopInstanceUID) ?? "", modality: result.modality,
                        bytes: try result.result.file.encoded()))
            }
            var content = item.content
            content.keyImages = content.keyImages.map { key in
                var key = key
                key.studyInstanceUID = replaced[key.studyInstanceUID] ?? key.studyInstanceUID
                key.seriesInstanceUID = replaced[key.seriesInstanceUID] ?? key.seriesInstanceUID
                key.sopInstanceUID = replaced[key.sopInstanceUID] ?? key.sopInstanceUID
                return key
            }
            prepared.append((item, content, images))
        }
        var ids: [String: Int64] = [:]
        var out: [[String: Any]] = []
        var created = 0
        for (item, content, images) in prepared {
            let (made, isNew) = try await mapped {
                try await store.importCase(
                    content, author: principal.username, institution: item.contributingInstitution, sourceKey: "package:" + item.key,
                    images: images)
            }
            ids[item.key] = made.id
            if isNew { created += 1 }
            out.append(["id": made.id, "created": isNew, "status": made.status.rawValue])
        }
        var result: [String: Any] = ["cases": out, "created": created]
        if let collection = contents.description.collection {
            let members = collection.cases.compactMap { ids[$0] }
            let existing = try await mapped { try await store.collections() }.first {
                $0.title == collection.title && $0.caseIDs == members
            }
            if let existing {
                result["collection"] = existing.id
            } else {
                result["collection"] = try await mapped {
                    try await store.createCollection(
                        title: collection.title, description: collection.description, owner: principal.username, caseIDs: members)
                }.id
            }
        }
        return result
    }
}
