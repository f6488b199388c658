import Archive
import DICOM
import Foundation
import Hummingbird
import Imaging

/// Rendered and thumbnail resources (PS3.18 8.3.5, 9.5): consumer-ready PNG or JPEG of instances and frames.
extension DICOMwebRoutes {
    func registerRendered<Context: RequestContext>(on router: Router<Context>) {
        let p = prefix
        let instancePath = "\(p)/studies/:study/series/:series/instances/:instance"
        router.get("\(instancePath)/rendered") { request, context in
            try await self.rendered(request, context.parameters, frame: 1, thumbnail: false)
        }
        router.get("\(instancePath)/frames/:frames/rendered") { request, context in
            guard let frame = Int(try context.parameters.require("frames")), frame >= 1 else {
                throw HTTPError(.badRequest, message: "a rendered frame is one 1-based frame number")
            }
            return try await self.rendered(request, context.parameters, frame: frame, thumbnail: false)
        }
        router.get("\(instancePath)/thumbnail") { request, context in
            try await self.rendered(request, context.parameters, frame: 1, thumbnail: true)
        }
        router.get("\(p)/studies/:study/series/:series/thumbnail") { request, context in
            try await self.rendered(request, context.parameters, frame: 1, thumbnail: true)
        }
        router.get("\(p)/studies/:study/thumbnail") { request, context in
            try await self.rendered(request, context.parameters, frame: 1, thumbnail: true)
        }
    }

    /// Renders the named instance (or, for a series or study thumbnail, its middle image instance).
    ///
    /// Decoded frames come from the shared ``DecodedFrameCache`` when it holds them, with the presentation attributes
    /// read when the frame was first decoded, so that a repeated request (a new window on the same frame) neither
    /// reads the file nor decodes again.
    func rendered(_ request: Request, _ parameters: Parameters, frame: Int, thumbnail: Bool) async throws -> Response {
        let study = try parameters.require("study")
        let series = parameters.get("series")
        let instance = parameters.get("instance")
        let options = try renderOptions(request, frame: frame, thumbnail: thumbnail)
        let query = request.uri.queryParameters
        var quality = 90
        if let text = query["quality"] {
            guard let q = Int(text), (1...100).contains(q) else { throw HTTPError(.badRequest, message: "quality is 1–100") }
            quality = q
        }
        var found = try await instances(study: study, series: series, instance: instance)
        found.sort { $0.sopInstanceUID < $1.sopInstanceUID }
        var cached: DecodedFrameCache.Entry?
        if instance != nil, let only = found.first {
            cached = frameCache.entry(for: frameCacheKey(only, frame: options.frame))
        }
        let entry: DecodedFrameCache.Entry
        if let cached, cached.presentation != nil {
            entry = cached
        } else {
            var chosen: (StoredInstance, DICOMFile)?
            // A series or study thumbnail shows a representative image: the middle one that has pixels.
            let order = found.indices.sorted { abs($0 - found.count / 2) < abs($1 - found.count / 2) }
            for i in order {
                let file = try await read(found[i])
                if file.dataSet.contains(.pixelData) {
                    chosen = (found[i], file)
                    break
                }
                if instance != nil { break }
            }
            guard let (item, file) = chosen else { throw HTTPError(.notFound, message: "nothing with pixel data to render") }
            let key = frameCacheKey(item, frame: options.frame)
            do {
                let pixels = try PixelData(dataSet: file.dataSet, transferSyntax: file.transferSyntax, limits: .rendering)
                let presentation = try ImagePresentation(dataSet: file.dataSet, descriptor: pixels.descriptor, frame: options.frame)
                let decoded = try frameCache.entry(for: key)?.frame ?? pixels.frame(options.frame, color: .rgb)
                entry = DecodedFrameCache.Entry(frame: decoded, presentation: presentation)
            } catch {
                throw HTTPError(.unprocessableContent, message: "cannot render: \(error)")
            }
            frameCache.insert(entry, for: key)
        }
        let image: RenderedImage
        do {
            guard let presentation = entry.presentation else { throw HTTPError(.internalServerError) }
            image = try Renderer.render(frame: entry.frame, presentation: presentation, options: options)
        } catch {
            throw HTTPError(.unprocessableContent, message: "cannot render: \(error)")
        }
        let png = prefersPNG(request.headers[.accept])
        let bytes = try png ? PNGEncoder.encodeFast(image) : JPEGEncoder.encode(image, quality: quality)
        return Response(
            status: .ok, headers: [.contentType: png ? "image/png" : "image/jpeg", .cacheControl: "private, max-age=3600"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The cache key of a stored instance's frame: the SOP Instance UID with the blob, size and transfer syntax, so
    /// that an instance stored again (duplicate policy `overwrite`) is not served from its old pixels.
    func frameCacheKey(_ item: StoredInstance, frame: Int) -> DecodedFrameCache.Key {
        DecodedFrameCache.Key(
            instance: "\(item.sopInstanceUID) \(item.blobKey.rawValue) \(item.sizeBytes) \(item.transferSyntaxUID)", frame: frame)
    }

    /// The frame, window and viewport a rendered or thumbnail request asks for (PS3.18 8.3.5.1.3).
    func renderOptions(_ request: Request, frame: Int, thumbnail: Bool) throws -> RenderOptions {
        let query = request.uri.queryParameters
        var options = RenderOptions(frame: frame - 1)
        if let window = query["window"] {
            let parts = window.split(separator: ",")
            guard parts.count >= 2, let center = Double(parts[0]), let width = Double(parts[1]), width > 0 else {
                throw HTTPError(.badRequest, message: "window is center,width[,linear|linear-exact|sigmoid]")
            }
            var function = VOILUTFunction.linear
            if parts.count > 2 {
                switch parts[2].lowercased() {
                case "linear": function = .linear
                case "linear-exact": function = .linearExact
                case "sigmoid": function = .sigmoid
                default: throw HTTPError(.badRequest, message: "unknown VOI LUT function \(parts[2])")
                }
            }
            options.window = Window(center: center, width: width, function: function)
        }
        if thumbnail { options.viewport = (128, 128) }
        if let text = query["viewport"] {
            let parts = text.split(separator: ",").compactMap { Int($0) }
            guard parts.count >= 2, parts[0] > 0, parts[1] > 0, parts[0] <= 8192, parts[1] <= 8192 else {
                throw HTTPError(.badRequest, message: "viewport is width,height (at most 8192 each)")
            }
            options.viewport = (parts[0], parts[1])
        }
        return options
    }

    /// JPEG unless the client asks for PNG (and not JPEG) first (PS3.18 8.7.4: image/jpeg is the default).
    func prefersPNG(_ accept: String?) -> Bool {
        guard let accept else { return false }
        for entry in accept.split(separator: ",") {
            guard let media = MediaTypeValue(entry) else { continue }
            if media.type == "image/png" { return true }
            if media.type == "image/jpeg" || media.type == "image/*" || media.type == "*/*" { return false }
        }
        return false
    }
}
