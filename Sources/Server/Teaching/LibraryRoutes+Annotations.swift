import DICOM
import Foundation
import Hummingbird
import Imaging
import NIOCore
import Platform
import Synchronization
import Teaching

/// Annotations on a case's key images (arrows, ellipses and text labels in image pixel coordinates, stored in the case
/// record): checked against each image's Rows and Columns before a case is saved, drawn as SVG overlays on the case
/// page, and shown read-only by the viewer when it opens a case's key image (`/library/cases/{id}/viewer?image=SOP`),
/// which reads the case's de-identified copies, never the clinical archive.
extension LibraryRoutes {
    func registerAnnotations(on router: Router<AtriumRequestContext>) {
        router.get("/library/cases/:id/viewer") { request, context in try await self.viewerShell(request, context) }
        // The viewer's modules, served under the library so that everyone who may read a case (students too) loads them.
        router.get("/library/viewer-assets/:file") { _, context in
            try ViewerRoutes.asset(
                try context.parameters.require("file"), directory: WebViews.bundledResources + "/viewer", logger: self.logger)
        }
        router.get("/library/cases/:id/viewer-data/metadata") { _, context in
            let principal = try Self.principal(context)
            let id = try Self.id(context)
            _ = try await self.visible(id, principal)
            return try await self.viewerMetadata(id)
        }
        router.get("/library/cases/:id/viewer-data/frames/:sop/:frame") { _, context in
            let principal = try Self.principal(context)
            let image = try await self.caseImage(context, principal)
            guard let n = Int(try context.parameters.require("frame")), n >= 1 else {
                throw HTTPError(.badRequest, message: "frames count from 1")
            }
            return try Self.nativeFrame(try DICOMFile.read(image.bytes), number: n)
        }
    }

    /// The DICOM JSON of every de-identified copy of case `id` (bulk data left out), each with its transfer syntax as
    /// AvailableTransferSyntaxUID, as WADO-RS metadata gives the viewer.
    func viewerMetadata(_ id: Int64) async throws -> Response {
        var out = JSONOutput()
        out.raw("[")
        let encoder = DICOMJSONEncoder(bulkData: .omit)
        var first = true
        for image in try await mapped({ try await store.images(of: id) }) {
            guard let stored = try await mapped({ try await store.image(of: id, sopInstanceUID: image.sopInstanceUID) }),
                let file = try? DICOMFile.read(stored.bytes)
            else { continue }
            var dataSet = file.dataSet
            dataSet.set(.availableTransferSyntaxUID, .UI, file.transferSyntax.uid)
            if !first { out.raw(",") }
            first = false
            encoder.writeDataSet(dataSet, path: [], into: &out, level: 0)
        }
        out.raw("]")
        return Response(
            status: .ok, headers: [.contentType: "application/dicom+json", .cacheControl: "private, no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: out.bytes)))
    }

    /// Frame `number` (1-based) as native little-endian samples: as stored for native transfer syntaxes, decoded (samples
    /// interleaved, YBR as RGB) for compressed ones, as WADO-RS gives the viewer.
    static func nativeFrame(_ file: DICOMFile, number n: Int) throws -> Response {
        let ds = file.dataSet
        guard let pixels = ds[.pixelData] else { throw HTTPError(.notFound, message: "the image has no Pixel Data") }
        let frameCount = max(ds.int(.numberOfFrames) ?? 1, 1)
        guard n <= frameCount else { throw HTTPError(.notFound, message: "frame \(n) of \(frameCount) does not exist") }
        let bytes: [UInt8]
        if pixels.encapsulated != nil {
            do {
                bytes = try PixelData(file: file).frame(n - 1, color: .rgb).pixels
            } catch {
                throw HTTPError(.notImplemented, message: "frame \(n) cannot be decoded: \(error)")
            }
        } else {
            bytes = try DICOMwebRoutes.nativeFrame(ds, pixels, number: n)
        }
        return Response(
            status: .ok, headers: [.contentType: "application/octet-stream", .cacheControl: "private, no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// `GET /library/cases/{id}/viewer?image=SOP[&unknown=1]`: the viewer on the case's de-identified images, the key
    /// image `image` first, with the case's annotations drawn read-only over each key image.
    func viewerShell(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        let id = try Self.id(context)
        let (_, visibleContent, _) = try await visible(id, principal)
        await record(.read, context, "teaching case \(id) opened in the viewer")
        return try viewerPage(
            request, context, content: visibleContent, base: "/library/cases/\(id)/viewer-data", assets: "/library/viewer-assets")
    }

    /// The viewer's page for a case whose readable content is `visibleContent`, its images under `base`.
    func viewerPage(
        _ request: Request, _ context: AtriumRequestContext, content visibleContent: CaseContent, base: String, assets: String
    ) throws -> Response {
        let unknown = request.uri.queryParameters["unknown"].map(String.init) == "1"
        let content = unknown ? CaseCuration.unknown(visibleContent) : visibleContent
        var annotations: [String: [Annotation]] = [:]
        for key in content.keyImages where !key.annotations.isEmpty { annotations[key.sopInstanceUID] = key.annotations }
        let source = ViewerSource(
            base: base, image: request.uri.queryParameters["image"].map(String.init) ?? "",
            annotations: annotations)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(source), as: UTF8.self).replacingOccurrences(of: "<", with: "\\u003c")
        let language = WebViews.language(request: request, context: context)
        let strings: [String: String]
        if case .group(let groups) = views.locales.table(language), let viewer = groups["viewer"] {
            strings = viewer.flattened()
        } else {
            strings = [:]
        }
        let html = ViewerPage.html(language: language, strings: strings, assets: assets, source: json)
        return Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// What the viewer reads from its page when it shows a case: where the images are and their annotations by SOP.
    struct ViewerSource: Encodable {
        var base: String
        var image: String
        var annotations: [String: [Annotation]]
    }

    /// The size of each image of case `id`, by SOP Instance UID (read from the stored copies' Rows and Columns, once:
    /// a case's copy never changes, so its size is kept in ``imageSizeCache``).
    func imageSizes(_ id: Int64) async throws -> [String: AnnotationRules.ImageSize] {
        var sizes: [String: AnnotationRules.ImageSize] = [:]
        for image in try await mapped({ try await store.images(of: id) }) {
            let key = "\(id)/\(image.sopInstanceUID)"
            if let known = Self.imageSizeCache.withLock({ $0[key] }) {
                sizes[image.sopInstanceUID] = known
                continue
            }
            guard let stored = try await mapped({ try await store.image(of: id, sopInstanceUID: image.sopInstanceUID) }),
                let file = try? DICOMFile.read(stored.bytes),
                let rows = file.dataSet.int(.rows), let columns = file.dataSet.int(.columns)
            else { continue }
            let size = AnnotationRules.ImageSize(rows: rows, columns: columns)
            sizes[image.sopInstanceUID] = size
            Self.imageSizeCache.withLock { cache in
                if cache.count >= 100_000 { cache.removeAll() }
                cache[key] = size
            }
        }
        return sizes
    }

    /// Sizes of case images already read, by "case id/SOP Instance UID".
    static let imageSizeCache = Mutex<[String: AnnotationRules.ImageSize]>([:])

    /// Refuses (400, saying why) annotations that are not well formed or do not lie on their image; a case not yet
    /// stored (`id` nil) holds no image, so it may carry none.
    func checkAnnotations(_ content: CaseContent, caseID id: Int64?) async throws {
        guard content.keyImages.contains(where: { !$0.annotations.isEmpty }) else { return }
        var sizes: [String: AnnotationRules.ImageSize] = [:]
        if let id { sizes = try await imageSizes(id) }
        try await mapped { try AnnotationRules.validate(content.keyImages, sizes: sizes) }
    }

    /// The key images of a page: each stored image with its size, its annotations as SVG shapes (in image pixel
    /// coordinates, in a viewBox of the image's size, so they scale with the image), and where it opens.
    func keyImageRows(
        _ id: Int64, content: CaseContent, images: [CaseImage], source: (String) -> String, viewer: ((String) -> String)?,
        file: ((String) -> String)? = nil
    ) async throws -> [[String: Any]] {
        let sizes = try await imageSizes(id)
        var annotations: [String: [Annotation]] = [:]
        for key in content.keyImages { annotations[key.sopInstanceUID, default: []] += key.annotations }
        return images.map { image in
            let size = sizes[image.sopInstanceUID]
            var row: [String: Any] = [
                "src": source(image.sopInstanceUID), "uid": image.sopInstanceUID, "modality": image.modality,
                "rows": size?.rows ?? 0, "columns": size?.columns ?? 0, "hasSize": size != nil,
                "annotations": (annotations[image.sopInstanceUID] ?? []).enumerated().map { Self.shape($1, index: $0, size: size) },
            ]
            row["href"] = viewer?(image.sopInstanceUID) ?? source(image.sopInstanceUID)
            if let viewer { row["viewer"] = viewer(image.sopInstanceUID) }
            if let file { row["file"] = file(image.sopInstanceUID) }
            return row
        }
    }

    static func number(_ value: Double) -> String { String(format: "%.2f", value) }

    /// One annotation as the template draws it: an arrow's shaft and head, an ellipse's centre and radii, a label's
    /// anchor and size (font size and arrow head a fixed share of the image's larger side).
    static func shape(_ a: Annotation, index: Int, size: AnnotationRules.ImageSize?) -> [String: Any] {
        let scale = Double(max(size?.rows ?? 0, size?.columns ?? 0, 1))
        let p = a.points.map { (x: $0.first ?? 0, y: $0.count > 1 ? $0[1] : 0) }
        var out: [String: Any] = [
            "index": index, "kind": a.kind.rawValue, "label": a.label, "hasLabel": !a.label.isEmpty, "fontSize": number(scale / 16),
            "points": a.points.map { $0.map(number).joined(separator: ",") }.joined(separator: " "),
        ]
        guard let first = p.first else { return out }
        out["labelX"] = number(first.x)
        out["labelY"] = number(first.y)
        switch a.kind {
        case .arrow where p.count == 2:
            let (tail, head) = (p[0], p[1])
            let length = max(hypot(head.x - tail.x, head.y - tail.y), 1e-9)
            let (ux, uy) = ((head.x - tail.x) / length, (head.y - tail.y) / length)
            let h = scale / 20
            let left = (head.x - ux * h - uy * h / 2, head.y - uy * h + ux * h / 2)
            let right = (head.x - ux * h + uy * h / 2, head.y - uy * h - ux * h / 2)
            out["arrow"] = [
                "x1": number(tail.x), "y1": number(tail.y), "x2": number(head.x), "y2": number(head.y),
                "head": "\(number(head.x)),\(number(head.y)) \(number(left.0)),\(number(left.1)) \(number(right.0)),\(number(right.1))",
            ]
        case .ellipse where p.count == 2:
            out["ellipse"] = [
                "cx": number((p[0].x + p[1].x) / 2), "cy": number((p[0].y + p[1].y) / 2), "rx": number(abs(p[1].x - p[0].x) / 2),
                "ry": number(abs(p[1].y - p[0].y) / 2),
            ]
        case .text:
            out["text"] = true
        default: break
        }
        return out
    }

    /// The annotations the edit page's drawing tool sends (`[{"sop": UID, "annotations": [...]}]` in the form field
    /// `annotations`), put on the matching key images; nil when the field is absent (no script ran: nothing changes).
    static func formAnnotations(_ field: String?, into content: inout CaseContent) throws(TeachingError) {
        guard let field, !field.trimmingCharacters(in: .whitespaces).isEmpty else { return }
        struct Entry: Decodable {
            var sop: String
            var annotations: [Annotation]
        }
        let entries: [Entry]
        do {
            entries = try JSONDecoder().decode([Entry].self, from: Data(field.utf8))
        } catch {
            throw .invalid("the annotations are not well formed: \(error)")
        }
        for entry in entries {
            guard let n = content.keyImages.firstIndex(where: { $0.sopInstanceUID == entry.sop }) else {
                throw .invalid("annotations on image \(entry.sop), which is not a key image of the case")
            }
            content.keyImages[n].annotations = entry.annotations
        }
    }
}
