import Archive
import DICOM
import Foundation
import Hummingbird
import Imaging
import Logging

/// DICOMweb (PS3.18) over the archive: QIDO-RS search, WADO-RS retrieve, STOW-RS store.
public struct DICOMwebRoutes: Sendable {
    public let archive: Archive
    /// The path prefix, `/dicom-web`.
    public let prefix: String
    /// Largest STOW-RS request body accepted.
    public let maximumUploadBytes: Int
    let logger: Logger
    /// Where absolute URLs (RetrieveURL, BulkDataURI) point.
    let address: PublicAddress
    /// Recently decoded frames, shared by the rendered, thumbnail and frames resources.
    public let frameCache: DecodedFrameCache
    /// The stored bytes of frames of a whole-slide image, read from the byte ranges the slide index holds
    /// (``SlideRoutes/storedFrames(_:frames:)``), so that a tile of a gigabyte-sized level is not found by parsing it;
    /// nil when the instance is not indexed as a slide level.
    var storedSlideFrames: (@Sendable (StoredInstance, [Int]) async throws -> [[UInt8]]?)?
    /// Where a STOW-RS body larger than ``spoolThreshold`` (or of unknown length) is written as it arrives, so that the
    /// server holds one part at a time in memory rather than the whole body; nil keeps every body in memory.
    public var spoolDirectory: String?
    /// Bodies declaring at most this many bytes are read into memory.
    public static let spoolThreshold = 32 << 20

    public init(
        archive: Archive, prefix: String = "/dicom-web", maximumUploadBytes: Int = 2 << 30, address: PublicAddress = PublicAddress(),
        frameCache: DecodedFrameCache = DecodedFrameCache(capacityBytes: 256 << 20), logger: Logger = Logger(label: "atrium.dicomweb")
    ) {
        self.archive = archive
        self.prefix = prefix
        self.maximumUploadBytes = maximumUploadBytes
        self.address = address
        self.frameCache = frameCache
        self.logger = logger
    }

    /// Adds the routes to `router`.
    public func register<Context: RequestContext>(on router: Router<Context>) {
        let p = prefix
        // QIDO-RS (PS3.18 10.6)
        router.get("\(p)/studies") { request, _ in try await self.search(request, level: .study, uids: [:]) }
        router.get("\(p)/series") { request, _ in try await self.search(request, level: .series, uids: [:]) }
        router.get("\(p)/instances") { request, _ in try await self.search(request, level: .instance, uids: [:]) }
        router.get("\(p)/studies/:study/series") { request, context in
            try await self.search(request, level: .series, uids: [.studyInstanceUID: try context.parameters.require("study")])
        }
        router.get("\(p)/studies/:study/instances") { request, context in
            try await self.search(request, level: .instance, uids: [.studyInstanceUID: try context.parameters.require("study")])
        }
        router.get("\(p)/studies/:study/series/:series/instances") { request, context in
            try await self.search(
                request, level: .instance,
                uids: [
                    .studyInstanceUID: try context.parameters.require("study"),
                    .seriesInstanceUID: try context.parameters.require("series"),
                ])
        }
        // WADO-RS (PS3.18 10.4)
        router.get("\(p)/studies/:study") { request, context in
            try await self.retrieve(request, study: try context.parameters.require("study"), series: nil, instance: nil)
        }
        router.get("\(p)/studies/:study/series/:series") { request, context in
            try await self.retrieve(
                request, study: try context.parameters.require("study"), series: try context.parameters.require("series"), instance: nil)
        }
        router.get("\(p)/studies/:study/series/:series/instances/:instance") { request, context in
            try await self.retrieve(
                request, study: try context.parameters.require("study"), series: try context.parameters.require("series"),
                instance: try context.parameters.require("instance"))
        }
        router.get("\(p)/studies/:study/metadata") { request, context in
            try await self.metadata(request, study: try context.parameters.require("study"), series: nil, instance: nil)
        }
        router.get("\(p)/studies/:study/series/:series/metadata") { request, context in
            try await self.metadata(
                request, study: try context.parameters.require("study"), series: try context.parameters.require("series"), instance: nil)
        }
        router.get("\(p)/studies/:study/series/:series/instances/:instance/metadata") { request, context in
            try await self.metadata(
                request, study: try context.parameters.require("study"), series: try context.parameters.require("series"),
                instance: try context.parameters.require("instance"))
        }
        router.get("\(p)/studies/:study/series/:series/instances/:instance/frames/:frames") { request, context in
            try await self.frames(
                request, study: try context.parameters.require("study"), series: try context.parameters.require("series"),
                instance: try context.parameters.require("instance"), frameList: try context.parameters.require("frames"))
        }
        router.get("\(p)/studies/:study/series/:series/instances/:instance/bulkdata/:path") { request, context in
            try await self.bulkData(
                request, study: try context.parameters.require("study"), series: try context.parameters.require("series"),
                instance: try context.parameters.require("instance"), path: try context.parameters.require("path"))
        }
        registerRendered(on: router)
        // STOW-RS (PS3.18 10.5)
        router.post("\(p)/studies") { request, _ in try await self.store(request, study: nil) }
        router.post("\(p)/studies/:study") { request, context in
            try await self.store(request, study: try context.parameters.require("study"))
        }
    }

    // MARK: QIDO-RS

    func search(_ request: Request, level: QueryLevel, uids: [Tag: String]) async throws -> Response {
        var parameters: [(name: String, value: String)] = []
        for (name, value) in request.uri.queryParameters {
            parameters.append((String(name), String(value).removingPercentEncoding ?? String(value)))
        }
        var query: ArchiveQuery
        do {
            query = try ArchiveQuery(qidoParameters: parameters, level: level)
        } catch {
            throw HTTPError(.badRequest, message: "\(error)")
        }
        for (tag, uid) in uids {
            query.keys.removeAll { $0.tag == tag }
            query.keys.append(QueryKey(tag: tag, vr: .UI, matcher: .single(uid)))
        }
        // A site user sees only its institution's studies.
        query.institution = DICOMwebAccess.current?.institution
        let results = try await archive.metrics.timeQuery(origin: "QIDO-RS") { [query] () async throws(ArchiveError) in
            try await archive.index.find(query)
        }
        var body = DICOMJSONEncoder().encode(array: results)
        if results.isEmpty { body = Array("[]".utf8) }
        return Response(
            status: .ok, headers: [.contentType: "application/dicom+json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    // MARK: WADO-RS

    func instances(study: String, series: String?, instance: String?) async throws -> [StoredInstance] {
        let found = try await archive.index.instances(
            studyInstanceUID: study, seriesInstanceUID: series, sopInstanceUID: instance, institution: DICOMwebAccess.current?.institution)
        guard !found.isEmpty else {
            throw HTTPError(.notFound, message: "no such \(instance != nil ? "instance" : series != nil ? "series" : "study")")
        }
        return found
    }

    /// Accept negotiation for `multipart/related; type="application/dicom"`: the stored transfer syntax is served;
    /// a request for another syntax is refused until transcoding is wired in (PS3.18 8.7.3.5).
    func acceptedDICOMTransferSyntax(_ request: Request) throws -> String? {
        guard let accept = request.headers[.accept], !accept.isEmpty else { return nil }
        var sawAcceptable = false
        var wanted: String?
        for entry in accept.split(separator: ",") {
            guard let media = MediaTypeValue(entry) else { continue }
            if media.type == "*/*" || media.type == "multipart/*" { sawAcceptable = true; continue }
            if media.type == "multipart/related" || media.type == "application/dicom" {
                let inner =
                    media.type == "application/dicom" ? "application/dicom" : (media.parameters["type"] ?? "application/dicom").lowercased()
                guard inner == "application/dicom" else { continue }
                sawAcceptable = true
                if let ts = media.parameters["transfer-syntax"], ts != "*" { wanted = ts } else { return nil }
            }
        }
        guard sawAcceptable else {
            throw HTTPError(.notAcceptable, message: "this resource is served as multipart/related; type=\"application/dicom\"")
        }
        return wanted
    }

    func retrieve(_ request: Request, study: String, series: String?, instance: String?) async throws -> Response {
        let wanted = try acceptedDICOMTransferSyntax(request).map { TransferSyntax(uid: $0) }
        let found = try await instances(study: study, series: series, instance: instance)
        if let wanted, !Transcoder.canEncode(wanted) {
            throw HTTPError(
                .notAcceptable,
                message:
                    "Atrium cannot write \(wanted.uid); ask for transfer-syntax=* or one of explicit VR LE, RLE, JPEG-LS or JPEG 2000 lossless"
            )
        }
        let boundary = Multipart.makeBoundary()
        let blobs = archive.blobs
        // The first object store read is opened before the answer's status goes out: a store out of reach is a 503 the
        // client can act on, not a 200 whose body breaks off (docs/reliability.md, Faults).
        var opened: BlobChunks?
        if blobs.isRemote, let first = found.first, wanted == nil || wanted?.uid == first.transferSyntaxUID {
            opened = try await blobs.read(first.blobKey, range: nil)
        }
        let firstChunks = opened
        let body = ResponseBody { writer in
            for (position, item) in found.enumerated() {
                if let wanted, wanted.uid != item.transferSyntaxUID {
                    // Transcode in memory (PS3.18 8.7.3.5.2); the stored object is untouched.
                    let file = try await self.read(item)
                    let converted = try Transcoder.transcode(file, to: wanted)
                    let bytes = try converted.encoded()
                    let header = "--\(boundary)\r\nContent-Type: application/dicom; transfer-syntax=\(wanted.uid)\r\n\r\n"
                    try await writer.write(ByteBuffer(string: header))
                    try await writer.write(ByteBuffer(bytes: bytes))
                    try await writer.write(ByteBuffer(string: "\r\n"))
                    continue
                }
                let header = "--\(boundary)\r\nContent-Type: application/dicom; transfer-syntax=\(item.transferSyntaxUID)\r\n\r\n"
                try await writer.write(ByteBuffer(string: header))
                if blobs.isRemote {
                    // An object store's blob is passed on as it arrives, never whole in memory.
                    let chunks: BlobChunks
                    if position == 0, let firstChunks {
                        chunks = firstChunks
                    } else {
                        chunks = try await blobs.read(item.blobKey, range: nil)
                    }
                    for try await chunk in chunks {
                        try await writer.write(ByteBuffer(bytes: chunk))
                    }
                } else {
                    switch try await blobs.get(item.blobKey) {
                    case .bytes(let bytes): try await writer.write(ByteBuffer(bytes: bytes))
                    case .file(let path): try await streamFile(path, to: &writer)
                    }
                }
                try await writer.write(ByteBuffer(string: "\r\n"))
            }
            try await writer.write(ByteBuffer(string: "--\(boundary)--\r\n"))
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "multipart/related; type=\"application/dicom\"; boundary=\(boundary)"],
            body: body)
    }

    /// Reads a stored instance.
    func read(_ item: StoredInstance, options: ReadOptions = .default) async throws -> DICOMFile {
        switch try await archive.blobs.get(item.blobKey) {
        case .bytes(let bytes): return try DICOMFile.read(bytes, options: options)
        case .file(let path): return try DICOMFile.read(contentsOf: path, options: options)
        }
    }

    func metadata(_ request: Request, study: String, series: String?, instance: String?) async throws -> Response {
        let found = try await instances(study: study, series: series, instance: instance)
        let base = baseURL(request)
        var out = JSONOutput()
        out.raw("[")
        for (i, item) in found.enumerated() {
            let file = try await read(item)
            let instanceURL =
                "\(base)\(prefix)/studies/\(item.studyInstanceUID)/series/\(item.seriesInstanceUID)/instances/\(item.sopInstanceUID)"
            let encoder = DICOMJSONEncoder(
                bulkData: .uri(thresholdBytes: 1024) { path, _ in
                    instanceURL + "/bulkdata/" + path.map(\.hexString).joined(separator: ".")
                })
            if i > 0 { out.raw(",") }
            // The stored transfer syntax (PS3.18 10.6.3.3.3), so that a client knows whether frames are as stored.
            var dataSet = file.dataSet
            dataSet.set(.availableTransferSyntaxUID, .UI, file.transferSyntax.uid)
            encoder.writeDataSet(dataSet, path: [], into: &out, level: 0)
        }
        out.raw("]")
        return Response(
            status: .ok, headers: [.contentType: "application/dicom+json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: out.bytes)))
    }

    func frames(_ request: Request, study: String, series: String, instance: String, frameList: String) async throws -> Response {
        let found = try await instances(study: study, series: series, instance: instance)
        guard let item = found.first else { throw HTTPError(.notFound) }
        let numbers = frameList.split(separator: ",").map { Int($0.trimmingCharacters(in: " ")) }
        guard !numbers.isEmpty, numbers.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw HTTPError(.badRequest, message: "frame numbers are 1-based integers separated by commas")
        }
        // A whole-slide level's frames as stored, from the slide index's byte ranges (asked as stored, or in any syntax).
        let accepted = acceptedFrameTransferSyntax(request)
        if item.sopClassUID == UID.vlWholeSlideMicroscopyImageStorage, accepted == nil || accepted == item.transferSyntaxUID,
            let storedSlideFrames, let frames = try await storedSlideFrames(item, numbers.compactMap { $0.map { $0 - 1 } })
        {
            let syntax = TransferSyntax(uid: item.transferSyntaxUID)
            let label = syntax.isEncapsulated ? item.transferSyntaxUID : TransferSyntax.explicitVRLittleEndian.uid
            return Self.multipartFrames(frames.map { ("application/octet-stream; transfer-syntax=\(label)", $0) })
        }
        let file = try await read(item)
        let ds = file.dataSet
        guard let pixels = ds[.pixelData] else { throw HTTPError(.notFound, message: "the instance has no Pixel Data") }
        let frameCount = max(ds.int(.numberOfFrames) ?? 1, 1)
        var parts: [(type: String, bytes: [UInt8])] = []
        // A client that asks for native little endian (the viewer) gets compressed frames decoded: samples
        // interleaved, YBR converted to RGB, as the instance's AvailableTransferSyntaxUID in the metadata tells it.
        let decoded: PixelData? =
            pixels.encapsulated != nil && acceptedFrameTransferSyntax(request) == TransferSyntax.explicitVRLittleEndian.uid
            ? try Self.pixelData(file) : nil
        for case let n? in numbers {
            guard n <= frameCount else { throw HTTPError(.notFound, message: "frame \(n) of \(frameCount) does not exist") }
            if let decoded {
                let key = frameCacheKey(item, frame: n - 1)
                let frame: DecodedFrame
                if let cached = frameCache.entry(for: key) {
                    frame = cached.frame
                } else {
                    do {
                        frame = try decoded.frame(n - 1, color: .rgb)
                    } catch {
                        throw HTTPError(.notImplemented, message: "frame \(n) cannot be decoded: \(error)")
                    }
                    frameCache.insert(DecodedFrameCache.Entry(frame: frame), for: key)
                }
                parts.append(("application/octet-stream; transfer-syntax=\(TransferSyntax.explicitVRLittleEndian.uid)", frame.pixels))
            } else if let encapsulated = pixels.encapsulated {
                guard let frame = encapsulated.frame(n - 1, numberOfFrames: frameCount) else { throw HTTPError(.notFound) }
                parts.append(("application/octet-stream; transfer-syntax=\(file.transferSyntax.uid)", frame))
            } else {
                parts.append(("application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1", try Self.nativeFrame(ds, pixels, number: n)))
            }
        }
        return Self.multipartFrames(parts)
    }

    /// Frame `n` (1-based) of native (not encapsulated) Pixel Data, as little-endian bytes.
    static func nativeFrame(_ ds: DataSet, _ pixels: DataElement, number n: Int) throws -> [UInt8] {
        let bits = ds.int(.bitsAllocated) ?? 8
        let frameBits = (ds.int(.rows) ?? 0) * (ds.int(.columns) ?? 0) * (ds.int(.samplesPerPixel) ?? 1) * bits
        guard frameBits > 0, frameBits % 8 == 0 else {
            throw HTTPError(.notImplemented, message: "frames of \(bits)-bit data that do not end on a byte are not served yet")
        }
        let size = frameBits / 8
        let bytes = ds.littleEndianBytes(of: pixels)
        let start = (n - 1) * size
        guard start + size <= bytes.count else { throw HTTPError(.notFound, message: "frame \(n) lies beyond the Pixel Data") }
        // One bulk copy of the frame's bytes (an element-wise copy costs seconds per series in debug builds).
        return bytes[(bytes.startIndex + start)..<(bytes.startIndex + start + size)].withUnsafeBytes { Array($0) }
    }

    /// Frames as `multipart/related; type="application/octet-stream"` (PS3.18 8.7.3.5).
    static func multipartFrames(_ parts: [(type: String, bytes: [UInt8])]) -> Response {
        let boundary = Multipart.makeBoundary()
        var body = ByteBuffer()
        body.reserveCapacity(parts.reduce(0) { $0 + $1.bytes.count + 200 })
        for part in parts {
            body.writeString("--\(boundary)\r\nContent-Type: \(part.type)\r\n\r\n")
            body.writeBytes(part.bytes)
            body.writeString("\r\n")
        }
        body.writeString("--\(boundary)--\r\n")
        return Response(
            status: .ok, headers: [.contentType: "multipart/related; type=\"application/octet-stream\"; boundary=\(boundary)"],
            body: ResponseBody(byteBuffer: body))
    }

    /// The transfer syntax an Accept header asks frames in (`multipart/related; type="application/octet-stream";
    /// transfer-syntax=…`), or nil when it names none or `*` (PS3.18 8.7.3.5).
    func acceptedFrameTransferSyntax(_ request: Request) -> String? {
        guard let accept = request.headers[.accept] else { return nil }
        for entry in accept.split(separator: ",") {
            guard let media = MediaTypeValue(entry) else { continue }
            let inner = media.type == "multipart/related" ? media.parameters["type"]?.lowercased() : media.type
            guard inner == "application/octet-stream", let syntax = media.parameters["transfer-syntax"], syntax != "*" else { continue }
            return syntax
        }
        return nil
    }

    /// The Pixel Data of the frames resource, which decodes the frames asked for one at a time: the per-frame ceiling
    /// holds, the whole-image one does not apply (a whole-slide level of 100,000 × 100,000 pixels is 30 GB decoded).
    static func pixelData(_ file: DICOMFile) throws -> PixelData {
        do {
            return try PixelData(file: file, limits: DecodingLimits(maximumImageBytes: .max))
        } catch {
            throw HTTPError(.notImplemented, message: "the Pixel Data cannot be decoded: \(error)")
        }
    }

    func bulkData(_ request: Request, study: String, series: String, instance: String, path: String) async throws -> Response {
        let found = try await instances(study: study, series: series, instance: instance)
        guard let item = found.first else { throw HTTPError(.notFound) }
        let file = try await read(item)
        // The path is the chain of tags of the BulkDataURI: 7FE00010, or 00540016.00181072 through sequence items.
        let tags = path.split(separator: ".").compactMap { Tag(hexString: $0) }
        guard !tags.isEmpty else { throw HTTPError(.badRequest, message: "bad bulk data path \(path)") }
        var current: [DataSet] = [file.dataSet]
        var element: DataElement?
        for (i, tag) in tags.enumerated() {
            element = current.lazy.compactMap { $0[tag] }.first
            if i < tags.count - 1 { current = current.flatMap { $0.items(tag) } }
        }
        guard let element else { throw HTTPError(.notFound, message: "no such attribute") }
        let bytes: ByteSlice
        switch element.value {
        case .bytes: bytes = element.littleEndianBytes()
        case .encapsulated(let e): bytes = encapsulatedBytes(e, includingDelimiter: false)
        case .sequence: throw HTTPError(.badRequest, message: "a sequence is not bulk data")
        }
        let boundary = Multipart.makeBoundary()
        var body = Array("--\(boundary)\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
        bytes.withUnsafeBytes { body.append(contentsOf: $0) }
        body += Array("\r\n--\(boundary)--\r\n".utf8)
        return Response(
            status: .ok, headers: [.contentType: "multipart/related; type=\"application/octet-stream\"; boundary=\(boundary)"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    // MARK: STOW-RS

    func store(_ request: Request, study: String?) async throws -> Response {
        guard let contentType = request.headers[.contentType].flatMap(MediaTypeValue.init) else {
            throw HTTPError(.unsupportedMediaType, message: "STOW-RS needs Content-Type: multipart/related; type=\"application/dicom\"")
        }
        guard contentType.type == "multipart/related" else {
            throw HTTPError(.unsupportedMediaType, message: "STOW-RS accepts multipart/related, not \(contentType.type)")
        }
        if let type = contentType.parameters["type"]?.lowercased(), type != "application/dicom" {
            throw HTTPError(.unsupportedMediaType, message: "only type=\"application/dicom\" parts are accepted (not \(type))")
        }
        guard let boundary = contentType.parameters["boundary"] else {
            throw HTTPError(.badRequest, message: "the Content-Type has no boundary")
        }
        // The body, whole, before anything is stored: in memory when small, else spooled to a file as it arrives.
        // Either way the parts are found in place and copied out one at a time, as each is stored.
        let source: BodySource
        let parts: [Multipart.Located]
        do {
            let declared = request.headers[.contentLength].flatMap { Int($0) }
            if let spoolDirectory, (declared ?? Int.max) > Self.spoolThreshold {
                do {
                    source = .spooled(
                        try await SpooledBody.receive(request.body, into: spoolDirectory, maximumBytes: maximumUploadBytes))
                } catch SpooledBody.Failure.tooLarge {
                    throw HTTPError(.contentTooLarge, message: "the upload is larger than \(maximumUploadBytes) bytes")
                } catch let failure as SpooledBody.Failure {
                    logger.error("STOW-RS body not spooled", metadata: ["error": "\(failure)"])
                    throw HTTPError(
                        HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage"), message: "\(failure); nothing was stored")
                } catch {
                    throw HTTPError(.badRequest, message: "the body could not be read to its end (\(error)); nothing was stored")
                }
            } else {
                var request = request
                do {
                    source = .memory(try await request.collectBody(upTo: maximumUploadBytes))
                } catch {
                    throw HTTPError(.contentTooLarge, message: "the upload is larger than \(maximumUploadBytes) bytes")
                }
            }
            do {
                parts = try await source.scan(boundary: boundary)
            } catch {
                // Nothing is stored from a body that cannot be read to its end.
                throw HTTPError(.badRequest, message: "\(error); nothing was stored")
            }
        }
        guard !parts.isEmpty else { throw HTTPError(.badRequest, message: "the request has no parts; nothing was stored") }
        let base = baseURL(request)
        var referenced: [DataSet] = []
        var failed: [DataSet] = []
        for located in parts {
            let part: MultipartPart
            do {
                part = MultipartPart(headers: located.headers, body: try source.bytes(located.body))
            } catch {
                throw HTTPError(.internalServerError, message: "\(error)")
            }
            if let type = part.contentType?.type, type != "application/dicom" {
                failed.append(failure(sopClass: nil, sopInstance: nil, reason: 0xC000))
                continue
            }
            if let study {
                // The instances must belong to the study named in the URL (PS3.18 10.5.1.1).
                let header = try? DICOMFile.read(part.body, options: .stopBeforePixelData)
                if let uid = header?.dataSet.string(.studyInstanceUID), uid != study {
                    failed.append(
                        failure(
                            sopClass: header?.dataSet.string(.sopClassUID), sopInstance: header?.dataSet.string(.sopInstanceUID),
                            reason: 0xA900))
                    continue
                }
            }
            let result = await storeOne(part.body)
            switch result {
            case .success(let outcome):
                var item = DataSet()
                item.set(.referencedSOPClassUID, .UI, outcome.sopClassUID)
                item.set(.referencedSOPInstanceUID, .UI, outcome.sopInstanceUID)
                item.set(
                    .retrieveURL, .UR,
                    "\(base)\(prefix)/studies/\(outcome.studyInstanceUID)/series/\(outcome.seriesInstanceUID)/instances/\(outcome.sopInstanceUID)"
                )
                referenced.append(item)
            case .failure(let reason):
                logger.warning("STOW-RS part refused", metadata: ["reason": "\(reason)"])
                let header = try? DICOMFile.read(part.body, options: .stopBeforePixelData)
                failed.append(
                    failure(
                        sopClass: header?.dataSet.string(.sopClassUID), sopInstance: header?.dataSet.string(.sopInstanceUID), reason: 0xC000
                    ))
            }
        }
        var response = DataSet()
        if let study { response.set(.retrieveURL, .UR, "\(base)\(prefix)/studies/\(study)") }
        if !failed.isEmpty { response.set(.failedSOPSequence, items: failed) }
        if !referenced.isEmpty { response.set(.referencedSOPSequence, items: referenced) }
        // PS3.18 10.5.3: 200 when all stored, 202 when some failed, 409 when none was stored.
        let status: HTTPResponse.Status = failed.isEmpty ? .ok : (referenced.isEmpty ? .conflict : .accepted)
        return Response(
            status: status, headers: [.contentType: "application/dicom+json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: DICOMJSONEncoder().encode(response))))
    }

    func storeOne(_ bytes: [UInt8]) async -> Result<StoreOutcome, ArchiveError> {
        do {
            // What a site user stores belongs to its institution, and it cannot add to another institution's study.
            let access = DICOMwebAccess.current
            try await access?.refuseForeignStudy(bytes, archive: archive, name: "STOW-RS part")
            let source = SourceInfo(institution: access?.institution, transport: .stowRS)
            let outcome = try await archive.store(bytes, source: source, name: "STOW-RS part")
            access?.touch(study: outcome.studyInstanceUID, patient: outcome.patientID)
            return .success(outcome)
        } catch {
            return .failure(error)
        }
    }

    func failure(sopClass: String?, sopInstance: String?, reason: Int) -> DataSet {
        var item = DataSet()
        if let sopClass { item.set(.referencedSOPClassUID, .UI, sopClass) }
        if let sopInstance { item.set(.referencedSOPInstanceUID, .UI, sopInstance) }
        item.set(.failureReason, .US, integers: [reason])
        return item
    }

    func baseURL(_ request: Request) -> String {
        address.baseURL(hostHeader: request.head.authority)
    }
}

/// The scheme, host and port that absolute URLs in responses use: the configured public URL when there is one,
/// else the request's Host header when it names a port, else the address the server is bound to. (Some clients,
/// dicomweb-client among them, send a Host header without the port.)
public final class PublicAddress: @unchecked Sendable {
    private let lock = NSLock()
    private var configured: String?
    private var bound: String?

    public init(configured: String? = nil) {
        self.configured = configured.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
    }

    /// Records the bound address once the listener is up.
    public func setBound(host: String, port: Int) {
        lock.lock()
        bound = "http://\(host):\(port)"
        lock.unlock()
    }

    func baseURL(hostHeader: String?) -> String {
        lock.lock()
        defer { lock.unlock() }
        if let configured { return configured }
        if let hostHeader, hostHeader.contains(":") { return "http://\(hostHeader)" }
        return bound ?? "http://\(hostHeader ?? "localhost")"
    }
}

/// Streams a file in 1 MiB chunks.
func streamFile(_ path: String, to writer: inout any ResponseBodyWriter) async throws {
    guard let handle = FileHandle(forReadingAtPath: path) else {
        throw HTTPError(.internalServerError, message: "a stored object is missing")
    }
    defer { try? handle.close() }
    while true {
        let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
        if chunk.isEmpty { break }
        try await writer.write(ByteBuffer(bytes: chunk))
    }
}
