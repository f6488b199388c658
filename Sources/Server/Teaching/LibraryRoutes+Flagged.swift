import Archive
import DICOM
import Foundation
import Hummingbird
import Imaging
import NIOCore
import Platform
import Teaching

/// The curators' queue of flagged cases: every KOS "For Teaching" in the archive, and studies chosen from it, previewed
/// attribute by attribute and image by image, then made into draft cases from de-identified copies.
extension LibraryRoutes {
    func registerFlagged(on router: Router<AtriumRequestContext>) {
        router.get("/api/library/flagged") { _, context in
            _ = try Self.curator(context)
            let list = try await self.flaggedList()
            return try Self.encoded(["flagged": list.map(FlaggedBody.init)])
        }
        router.post("/api/library/flagged") { request, context in try await self.flagStudyJSON(request, context) }
        router.get("/api/library/flagged/:id") { _, context in
            _ = try Self.curator(context)
            let flagged = try await self.mapped { try await self.store.flaggedCase(try Self.id(context)) }
            let prepared = try await self.prepare(flagged)
            await self.record(.read, context, "flagged case \(flagged.id) previewed")
            return try Self.encoded(PreviewBody(flagged: flagged, prepared: prepared, noteProblem: self.noteProblem(flagged, prepared)))
        }
        router.put("/api/library/flagged/:id/masks") { request, context in
            _ = try Self.curator(context)
            let body = try await Self.decodeBody(MasksBody.self, request)
            let id = try Self.id(context)
            let changed = try await self.mapped {
                try await self.store.confirmMasks(
                    id, seriesInstanceUID: body.seriesInstanceUID, rectangles: body.rectangles, revision: body.revision)
            }
            await self.record(.update, context, "flagged case \(id): masks confirmed for a series")
            return try Self.encoded(FlaggedBody(changed))
        }
        router.post("/api/library/flagged/:id/case") { _, context in
            let principal = try Self.curator(context)
            let made = try await self.makeCase(try Self.id(context), principal: principal, context: context)
            switch made {
            case .made(let c): return try Self.encoded(CaseBody(c), status: .created)
            case .refused(let reasons): return try Self.encoded(["refusals": reasons], status: .conflict)
            }
        }
        router.get("/api/library/cases/:id/origin") { _, context in
            let principal = try Self.principal(context)
            guard principal.has(.admin) else { throw HTTPError(.forbidden, message: "administrators only") }
            let id = try Self.id(context)
            guard let origin = try await self.mapped({ try await self.store.origin(of: id) }) else {
                throw HTTPError(.notFound, message: "teaching case \(id) was not made from an archived study")
            }
            await self.record(.read, context, "teaching case \(id): link to the original viewed")
            return try Self.encoded(origin)
        }
        router.get("/api/library/cases/:id/images") { _, context in
            let principal = try Self.principal(context)
            let id = try Self.id(context)
            _ = try await self.visible(id, principal)
            let images = try await self.mapped { try await self.store.images(of: id) }
            return try Self.encoded(["images": images.map(ImageBody.init)])
        }
        router.get("/api/library/cases/:id/images/:sop") { _, context in
            let principal = try Self.principal(context)
            let image = try await self.caseImage(context, principal)
            return Response(
                status: .ok,
                headers: [
                    .contentType: "application/dicom", .cacheControl: "private, no-store",
                    .contentDisposition: "attachment; filename=\"\(image.sopInstanceUID).dcm\"",
                ],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: image.bytes)))
        }
        router.get("/library/cases/:id/images/:sop/rendered") { _, context in
            let principal = try Self.principal(context)
            let image = try await self.caseImage(context, principal)
            return try Self.renderedPNG(try DICOMFile.read(image.bytes))
        }
        router.get("/library/flagged/:id") { request, context in try await self.flaggedPage(request, context, problem: nil) }
        router.get("/library/flagged/:id/preview/:sop") { _, context in
            _ = try Self.curator(context)
            let flagged = try await self.mapped { try await self.store.flaggedCase(try Self.id(context)) }
            let sop = try context.parameters.require("sop")
            guard let reference = flagged.references.first(where: { $0.sopInstanceUID == sop }) else { throw HTTPError(.notFound) }
            let file = try await self.clinicalFile(reference)
            guard !CasePreparation.isSlideLabelOrOverview(file.dataSet) else {
                throw HTTPError(.notFound, message: "a slide's label or overview image is left out of the case and not shown")
            }
            // The preview shows the de-identified pixels: masked when the series' masks are confirmed.
            let prepared = try await self.preparation().prepare(file, reference: reference, masks: flagged.masks)
            return try Self.renderedPNG(prepared.result.file)
        }
        router.post("/library/flagged/:id/masks") { request, context in
            _ = try Self.curator(context)
            let id = try Self.id(context)
            let form = try await FormBody.read(request)
            var rectangles: [MaskRectangle] = []
            if form["none"] == nil {
                let numbers = (form["rect"] ?? "").split(whereSeparator: { $0 == "," || $0 == " " }).compactMap { Int($0) }
                guard numbers.count == 4 else {
                    return try await self.flaggedPage(request, context, problem: self.text("library.flagged.maskFormat", request, context))
                }
                rectangles = [MaskRectangle(x: numbers[0], y: numbers[1], width: numbers[2], height: numbers[3])]
            }
            do throws(TeachingError) {
                _ = try await self.store.confirmMasks(
                    id, seriesInstanceUID: form["series"] ?? "", rectangles: rectangles, revision: Int64(form["revision"] ?? "") ?? -1)
            } catch {
                return try await self.flaggedPage(request, context, problem: error.description)
            }
            await self.record(.update, context, "flagged case \(id): masks confirmed for a series")
            return Response.redirect(to: "/library/flagged/\(id)", type: .found)
        }
        router.post("/library/flagged/:id/case") { request, context in
            let principal = try Self.curator(context)
            _ = try await FormBody.read(request)
            switch try await self.makeCase(try Self.id(context), principal: principal, context: context) {
            case .made(let c): return Response.redirect(to: "/library/cases/\(c.id)", type: .found)
            case .refused(let reasons):
                return try await self.flaggedPage(request, context, problem: reasons.joined(separator: "\n"))
            }
        }
    }

    // MARK: - The queue

    /// Every KO instance of the archive not looked at before is read once; each KOS "For Teaching" becomes an entry,
    /// whichever way it came (the report page, C-STORE, STOW-RS). Then the entries.
    func flaggedList() async throws -> [FlaggedCase] {
        let found = try await archive.index.find(
            try ArchiveQuery(qidoParameters: [(name: "Modality", value: "KO"), (name: "includefield", value: "all")], level: .instance))
        let uids = found.compactMap { $0.string(.sopInstanceUID) }
        let unseen = try await mapped { try await store.unseenKeyObjects(uids) }
        for uid in unseen {
            if let stored = try await archive.index.instances(studyInstanceUID: nil, seriesInstanceUID: nil, sopInstanceUID: uid).first,
                let file = try? await read(stored), let selection = TeachingSelection.read(file.dataSet)
            {
                // The hospital the images came from contributes the case (the KOS may name the reading centre).
                var institution = selection.institution
                if let first = selection.references.first, let name = (try? await clinicalFile(first))?.dataSet.string(.institutionName) {
                    institution = name
                }
                _ = try await mapped {
                    try await store.flag(
                        kind: .keyObjectSelection, sourceKey: "kos:" + selection.sopInstanceUID,
                        studyInstanceUID: selection.studyInstanceUID,
                        references: Array(selection.references.prefix(TeachingStore.maximumInstancesPerCase)), note: selection.note,
                        flaggedBy: selection.observer, institution: institution)
                }
            }
            try await mapped { try await store.markKeyObjectSeen(uid) }
        }
        return try await mapped { try await store.flaggedCases() }
    }

    /// `POST /api/library/flagged` with `{"studyInstanceUID", "sopInstanceUIDs": [...]?, "note"?}`: a study that went
    /// through no consultation (e.g. uploaded) enters the same path. Without a choice, every instance (at most 50).
    func flagStudyJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.curator(context)
        let body = try await Self.decodeBody(FlagStudyBody.self, request)
        var stored = try await archive.index.instances(studyInstanceUID: body.studyInstanceUID, seriesInstanceUID: nil, sopInstanceUID: nil)
        guard !stored.isEmpty else { throw HTTPError(.notFound, message: "study \(body.studyInstanceUID) is not in the archive") }
        stored.removeAll { $0.sopClassUID.hasPrefix("1.2.840.10008.5.1.4.1.1.88.") }  // SR and KOS documents are not images
        if let chosen = body.sopInstanceUIDs.map(Set.init) {
            stored = stored.filter { chosen.contains($0.sopInstanceUID) }
            guard stored.count == chosen.count else {
                throw HTTPError(.badRequest, message: "every chosen instance is an image of the study")
            }
        }
        stored.sort { ($0.seriesInstanceUID, $0.sopInstanceUID) < ($1.seriesInstanceUID, $1.sopInstanceUID) }
        let references = stored.map {
            InstanceReference(seriesInstanceUID: $0.seriesInstanceUID, sopInstanceUID: $0.sopInstanceUID, sopClassUID: $0.sopClassUID)
        }
        var institution = principal.institutionCode ?? ""
        if let first = stored.first, let name = (try? await read(first))?.dataSet.string(.institutionName) { institution = name }
        let key =
            "study:" + body.studyInstanceUID
            + (body.sopInstanceUIDs == nil ? "" : ":" + references.map(\.sopInstanceUID).joined(separator: ","))
        let flagged = try await mapped {
            try await store.flag(
                kind: .study, sourceKey: Self.shortKey(key), studyInstanceUID: body.studyInstanceUID, references: references,
                note: body.note ?? "", flaggedBy: principal.username,
                institution: institution)
        }
        await record(.create, context, "flagged case \(flagged.id) from an archived study")
        return try Self.encoded(FlaggedBody(flagged), status: .created)
    }

    /// Long keys (many chosen instances) are kept unique by their SHA-256.
    static func shortKey(_ key: String) -> String {
        key.utf8.count <= 200 ? key : "study-sha256:" + Secrets.digest(key)
    }

    // MARK: - Preview and case

    func preparation() async throws -> CasePreparation {
        CasePreparation(secret: try await mapped { try await store.deidentificationSecret() })
    }

    func read(_ item: StoredInstance) async throws -> DICOMFile {
        switch try await archive.blobs.get(item.blobKey) {
        case .bytes(let bytes): return try DICOMFile.read(bytes)
        case .file(let path): return try DICOMFile.read(contentsOf: path)
        }
    }

    func clinicalFile(_ reference: InstanceReference) async throws -> DICOMFile {
        guard
            let stored = try await archive.index.instances(
                studyInstanceUID: nil, seriesInstanceUID: nil, sopInstanceUID: reference.sopInstanceUID
            ).first
        else { throw HTTPError(.conflict, message: "instance \(reference.sopInstanceUID) is not in the archive (yet)") }
        return try await read(stored)
    }

    func prepare(_ flagged: FlaggedCase) async throws -> [CasePreparation.Prepared] {
        let preparation = try await preparation()
        var out: [CasePreparation.Prepared] = []
        for reference in flagged.references {
            out.append(preparation.prepare(try await clinicalFile(reference), reference: reference, masks: flagged.masks))
        }
        return out
    }

    /// The teaching note is the reader's free text: it must not name the patient (checked against the sources' names
    /// and IDs; the curator rewrites it otherwise).
    func noteProblem(_ flagged: FlaggedCase, _ prepared: [CasePreparation.Prepared]) -> String? {
        guard !flagged.note.isEmpty else { return nil }
        for item in prepared {
            for change in item.changes where ["PatientName", "PatientID", "OtherPatientIDs"].contains(change.name) {
                // Each component of the name and the whole name written without separators (张^伟 → 张伟).
                let parts = change.before.split(whereSeparator: { "^=, \\".contains($0) }).map(String.init)
                for needle in parts + [parts.joined()] where needle.count >= 2 && flagged.note.localizedCaseInsensitiveContains(needle) {
                    return "the teaching note contains the patient's name or ID: rewrite it in the case"
                }
            }
        }
        return nil
    }

    enum Made {
        case made(TeachingCase)
        case refused([String])
    }

    /// De-identifies every referenced instance; only when every one passes (safety net, confirmed masks) is the draft
    /// case made. Twice for the same entry: the same case.
    func makeCase(_ id: Int64, principal: Principal, context: AtriumRequestContext) async throws -> Made {
        let flagged = try await mapped { try await store.flaggedCase(id) }
        if let existing = flagged.caseID { return .made(try await mapped { try await store.get(existing) }) }
        let prepared = try await prepare(flagged)
        var refusals = prepared.flatMap { item in item.refusals.map { "\(item.source.sopInstanceUID): \($0)" } }
        if let problem = noteProblem(flagged, prepared) { refusals.append(problem) }
        guard refusals.isEmpty else {
            await record(.update, context, "flagged case \(id): de-identification refused \(refusals.count) time(s)")
            return .refused(refusals)
        }
        var images: [CaseImage] = []
        var replaced: [String: String] = [:]
        var keyImages: [KeyImage] = []
        for item in prepared where item.dropped == nil {
            let ds = item.result.file.dataSet
            let study = ds.string(.studyInstanceUID) ?? ""
            let series = ds.string(.seriesInstanceUID) ?? ""
            let sop = ds.string(.sopInstanceUID) ?? ""
            images.append(
                CaseImage(
                    caseID: 0, studyInstanceUID: study, seriesInstanceUID: series, sopInstanceUID: sop, modality: item.modality,
                    bytes: try item.result.file.encoded()))
            replaced.merge(item.result.replacedUIDs) { first, _ in first }
            keyImages.append(KeyImage(studyInstanceUID: study, seriesInstanceUID: series, sopInstanceUID: sop, frame: item.source.frame))
        }
        let modalities = prepared.map(\.modality).filter { !$0.isEmpty }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let firstLine = flagged.note.split(whereSeparator: \.isNewline).first.map { String($0.prefix(120)) } ?? ""
        let content = CaseContent(
            title: firstLine.isEmpty ? "\(modalities.joined(separator: "/")) #\(flagged.id)" : firstLine, findings: flagged.note,
            tags: CaseTags(modalities: modalities), keyImages: keyImages)
        let made = try await mapped {
            try await store.createCase(from: flagged, content: content, author: principal.username, images: images, replacedUIDs: replaced)
        }
        let dropped = prepared.filter { $0.dropped != nil }.count
        await record(
            .create, context,
            "teaching case \(made.id) made from flagged case \(id) (\(images.count) de-identified instances, \(dropped) label or overview left out)"
        )
        return .made(made)
    }

    func caseImage(_ context: AtriumRequestContext, _ principal: Principal) async throws -> CaseImage {
        let id = try Self.id(context)
        _ = try await visible(id, principal)
        let sop = try context.parameters.require("sop")
        guard let image = try await mapped({ try await store.image(of: id, sopInstanceUID: sop) }) else {
            throw HTTPError(.notFound, message: "no such image in teaching case \(id)")
        }
        return image
    }

    static func renderedPNG(_ file: DICOMFile) throws -> Response {
        let bytes: [UInt8]
        do {
            let image = try Renderer.render(
                dataSet: file.dataSet, transferSyntax: file.transferSyntax, options: RenderOptions(viewport: (width: 512, height: 512)),
                limits: .rendering)
            bytes = try PNGEncoder.encodeFast(image)
        } catch {
            throw HTTPError(.unprocessableContent, message: "cannot render: \(error)")
        }
        return Response(
            status: .ok, headers: [.contentType: "image/png", .cacheControl: "private, no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    // MARK: - Bodies

    struct FlagStudyBody: Decodable {
        var studyInstanceUID: String
        var sopInstanceUIDs: [String]?
        var note: String?
    }

    struct MasksBody: Decodable {
        var seriesInstanceUID: String
        var rectangles: [MaskRectangle]
        var revision: Int64
    }

    struct FlaggedBody: Encodable {
        var id: Int64
        var kind: String
        var sourceKey: String
        var studyInstanceUID: String
        var references: [InstanceReference]
        var note: String
        var flaggedBy: String
        var institution: String
        var masks: [String: [MaskRectangle]]
        var caseID: Int64?
        var revision: Int64

        init(_ f: FlaggedCase) {
            id = f.id
            kind = f.kind.rawValue
            sourceKey = f.sourceKey
            studyInstanceUID = f.studyInstanceUID
            references = f.references
            note = f.note
            flaggedBy = f.flaggedBy
            institution = f.institution
            masks = f.masks
            caseID = f.caseID
            revision = f.revision
        }
    }

    struct ChangeBody: Encodable {
        var tag: String
        var name: String
        var before: String
        var after: String?
    }

    struct InstanceBody: Encodable {
        var seriesInstanceUID: String
        var sopInstanceUID: String
        var modality: String
        var needsPixelReview: Bool
        var reviewConfirmed: Bool
        var released: Bool
        var refusals: [String]
        var changes: [ChangeBody]
        var dropped: String?
    }

    struct PreviewBody: Encodable {
        var flagged: FlaggedBody
        var instances: [InstanceBody]
        var noteProblem: String?

        init(flagged: FlaggedCase, prepared: [CasePreparation.Prepared], noteProblem: String?) {
            self.flagged = FlaggedBody(flagged)
            self.noteProblem = noteProblem
            instances = prepared.map {
                InstanceBody(
                    seriesInstanceUID: $0.source.seriesInstanceUID, sopInstanceUID: $0.source.sopInstanceUID, modality: $0.modality,
                    needsPixelReview: $0.needsPixelReview, reviewConfirmed: $0.reviewConfirmed, released: $0.isReleased,
                    refusals: $0.refusals,
                    changes: $0.dropped == nil
                        ? $0.changes.map { ChangeBody(tag: $0.tag, name: $0.name, before: $0.before, after: $0.after) } : [],
                    dropped: $0.dropped)
            }
        }
    }

    struct ImageBody: Encodable {
        var studyInstanceUID: String
        var seriesInstanceUID: String
        var sopInstanceUID: String
        var modality: String

        init(_ i: CaseImage) {
            studyInstanceUID = i.studyInstanceUID
            seriesInstanceUID = i.seriesInstanceUID
            sopInstanceUID = i.sopInstanceUID
            modality = i.modality
        }
    }
}

extension LibraryRoutes {
    /// `GET /library/flagged/{id}`: the de-identification preview of a flagged case. Each referenced instance with its
    /// de-identified image and every attribute changed (before → after); series where burned-in text is likely ask for
    /// masks (one rectangle for the whole series, or "no text"); "create case" when everything passes.
    func flaggedPage(_ request: Request, _ context: AtriumRequestContext, problem: String?) async throws -> Response {
        _ = try Self.curator(context)
        let flagged = try await mapped { try await store.flaggedCase(try Self.id(context)) }
        let prepared = try await prepare(flagged)
        await record(.read, context, "flagged case \(flagged.id) previewed")
        var reviewedSeries = Set<String>()
        let instances: [[String: Any]] = prepared.map { item in
            let series = item.source.seriesInstanceUID
            let askMasks = item.needsPixelReview && reviewedSeries.insert(series).inserted
            let mask = flagged.masks[series]?.first.map { "\($0.x),\($0.y),\($0.width),\($0.height)" } ?? ""
            return [
                "sop": item.source.sopInstanceUID, "series": series, "modality": item.modality,
                "src": "/library/flagged/\(flagged.id)/preview/\(item.source.sopInstanceUID)", "released": item.isReleased,
                "dropped": item.dropped != nil,
                "refusals": item.refusals, "needsReview": item.needsPixelReview, "askMasks": askMasks, "confirmed": item.reviewConfirmed,
                "mask": mask,
                "changes": item.changes.map { change -> [String: Any] in
                    [
                        "tag": change.tag, "name": change.name, "before": change.before,
                        "after": change.after ?? text("library.flagged.removed", request, context), "removed": change.after == nil,
                    ]
                },
            ]
        }
        var data: [String: Any] = [
            "id": flagged.id, "note": flagged.note, "kind": text("library.flagged.kind.\(flagged.kind.rawValue)", request, context),
            "by": flagged.flaggedBy, "institution": flagged.institution, "revision": flagged.revision, "instances": instances,
            "ready": prepared.allSatisfy(\.isReleased) && noteProblem(flagged, prepared) == nil,
        ]
        if let c = flagged.caseID { data["caseID"] = c }
        if let problem = problem ?? noteProblem(flagged, prepared) { data["problem"] = problem }
        return views.page(
            "library-flagged", title: text("library.flagged.title", request, context), section: .library, data: data, request: request,
            context: context, status: problem == nil ? .ok : .conflict)
    }
}
