import Archive
import DICOM
import Foundation
import HTTPTypes
import Hummingbird
import Imaging
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Whole-slide images for the slide viewer (docs/api.md): the pyramid of a series as JSON, tiles by level, column and
/// row (the stored JPEG as is, other codestreams rendered), and conversion of slide files OpenSlide reads into DICOM WSI.
/// Reads need what DICOMweb reads need (``RouteFamily/dicomwebRead``) and are audited like them; conversion needs
/// what STOW-RS needs.
public struct SlideRoutes: Sendable {
    let archive: Archive
    let cache: SlidePyramidCache
    let temporaryDirectory: String
    let maximumUploadBytes: Int
    let logger: Logger

    public init(archive: Archive, dataDirectory: String, maximumUploadBytes: Int, logger: Logger = Logger(label: "atrium.wsi")) {
        self.archive = archive
        self.cache = SlidePyramidCache()
        self.temporaryDirectory = dataDirectory + "/tmp/wsi-\(getpid())"
        self.maximumUploadBytes = maximumUploadBytes
        self.logger = logger
    }

    /// Adds the routes to `router`.
    public func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("/api/wsi/series/:series") { _, context in
            try await self.pyramidResponse(series: try context.parameters.require("series"))
        }
        router.get("/api/wsi/series/:series/tiles/:level/:column/:row") { request, context in
            guard let level = Int(try context.parameters.require("level")), let column = Int(try context.parameters.require("column")),
                let row = Int(try context.parameters.require("row")), level >= 0, column >= 0, row >= 0
            else { throw HTTPError(.badRequest, message: "level, column and row are integers from 0") }
            let query = request.uri.queryParameters
            let z = query["z"].map { Int(String($0)) } ?? 0
            guard let z, z >= 0 else { throw HTTPError(.badRequest, message: "z is a focal plane index from 0") }
            let format = query["format"].map(String.init)
            guard format == nil || format == "png" || format == "jpeg" else {
                throw HTTPError(.badRequest, message: "format is png or jpeg")
            }
            return try await self.tile(
                series: try context.parameters.require("series"), level: level, column: column, row: row, focalPlane: z,
                opticalPath: query["path"].map { String($0).removingPercentEncoding ?? String($0) }, format: format)
        }
        router.post("/api/wsi/convert") { request, _ in try await self.convert(request) }
        router.get("/api/wsi/series/:series/annotations") { _, context in
            try await self.annotations(series: try context.parameters.require("series"))
        }
        router.put("/api/wsi/series/:series/annotations") { request, context in
            try await self.saveAnnotations(request, series: try context.parameters.require("series"))
        }
    }

    // MARK: Annotations

    /// The newest Microscopy Bulk Simple Annotations instance of the slide's study that references the series.
    func annotations(series: String) async throws -> Response {
        let pyramid = try await pyramid(series: series)
        let stored = try await archive.index.instances(
            studyInstanceUID: pyramid.studyInstanceUID, seriesInstanceUID: nil, sopInstanceUID: nil,
            institution: DICOMwebAccess.current?.institution)
        var newest: (stamp: String, set: SlideAnnotationSet)?
        for item in stored where item.sopClassUID == UID.microscopyBulkSimpleAnnotationsStorage {
            let file: DICOMFile
            switch try await archive.blobs.get(item.blobKey) {
            case .bytes(let bytes): file = try DICOMFile.read(bytes)
            case .file(let path): file = try DICOMFile.read(contentsOf: path)
            }
            let ds = file.dataSet
            guard ds.items(.referencedSeriesSequence).contains(where: { $0.string(.seriesInstanceUID) == series }),
                let set = SlideAnnotationDocument.read(ds)
            else { continue }
            let stamp = (ds.string(.contentDate) ?? "") + (ds.string(.contentTime) ?? "")
            // Instances come in the order they were stored: the later of two saves in the same second wins.
            if newest == nil || stamp >= (newest?.stamp ?? "") { newest = (stamp, set) }
        }
        return Self.json(newest?.set ?? SlideAnnotationSet(annotations: [], sopInstanceUID: nil))
    }

    func saveAnnotations(_ request: Request, series: String) async throws -> Response {
        let pyramid = try await pyramid(series: series)
        let body = try await request.body.collect(upTo: 16 << 20)
        let set: SlideAnnotationSet
        do {
            set = try JSONDecoder().decode(SlideAnnotationSet.self, from: Data(body.readableBytesView))
        } catch {
            return Self.json(Problem(error: "the body is not {\"annotations\": [{\"type\", \"points\"}]}"), status: .badRequest)
        }
        let base = pyramid.levels[0][0]
        if let problem = SlideAnnotationDocument.problem(
            set, width: base.description.totalPixelMatrixColumns, height: base.description.totalPixelMatrixRows)
        {
            return Self.json(Problem(error: problem), status: .badRequest)
        }
        let header: DICOMFile
        switch try await archive.blobs.get(base.stored.blobKey) {
        case .bytes(let bytes): header = try DICOMFile.read(bytes, options: .stopBeforePixelData)
        case .file(let path): header = try DICOMFile.read(contentsOf: path, options: .stopBeforePixelData)
        }
        let access = DICOMwebAccess.current
        let document = SlideAnnotationDocument.make(set, base: header.dataSet, author: access?.user ?? "", seriesNumber: 900)
        let bytes = try DICOMFile(dataSet: document, transferSyntax: .explicitVRLittleEndian).encoded()
        let source = SourceInfo(applicationEntityTitle: access?.user, institution: access?.institution, transport: .importer)
        let outcome = try await archive.store(bytes, source: source, name: "slide annotations")
        access?.touch(study: outcome.studyInstanceUID, patient: outcome.patientID)
        return Self.json(SlideAnnotationSet(annotations: set.annotations, sopInstanceUID: outcome.sopInstanceUID), status: .created)
    }

    // MARK: Pyramid

    func pyramid(series: String) async throws -> SlidePyramid {
        guard UID.isValid(series) else { throw HTTPError(.badRequest, message: "not a series UID") }
        let institution = DICOMwebAccess.current?.institution
        let key = series + "|" + (institution ?? "")
        if let cached = cache.lookup(key) {
            DICOMwebAccess.current?.touch(study: cached.studyInstanceUID)
            return cached
        }
        let instances = try await archive.index.slideInstances(seriesInstanceUID: series, institution: institution)
        guard let pyramid = SlidePyramid(instances) else { throw HTTPError(.notFound, message: "no whole-slide images in the series") }
        cache.insert(pyramid, for: key)
        DICOMwebAccess.current?.touch(study: pyramid.studyInstanceUID)
        return pyramid
    }

    func pyramidResponse(series: String) async throws -> Response {
        let pyramid = try await pyramid(series: series)
        return Self.json(pyramid.summary)
    }

    // MARK: Tiles

    func tile(series: String, level: Int, column: Int, row: Int, focalPlane: Int, opticalPath: String?, format: String?) async throws
        -> Response
    {
        let pyramid = try await pyramid(series: series)
        guard pyramid.levels.indices.contains(level) else {
            throw HTTPError(.notFound, message: "level \(level) of \(pyramid.levels.count) does not exist")
        }
        guard pyramid.focalPlanes.indices.contains(focalPlane) else {
            throw HTTPError(.notFound, message: "focal plane \(focalPlane) of \(pyramid.focalPlanes.count) does not exist")
        }
        let base = pyramid.levels[level][0].description
        guard column < base.tilesAcross, row < base.tilesDown else {
            throw HTTPError(.notFound, message: "tile \(column),\(row) lies outside level \(level) (\(base.tilesAcross)×\(base.tilesDown))")
        }
        switch pyramid.locate(level: level, column: column, row: row, focalPlane: focalPlane, opticalPath: opticalPath) {
        case .frame(let instance, let frame):
            let bytes = try await frameBytes(instance, frame: frame)
            let d = instance.description
            if format != "png", d.transferSyntaxUID == TransferSyntax.jpegBaseline8Bit.uid {
                return Self.image(bytes, type: "image/jpeg", origin: "stored")
            }
            let rendered = try Self.render(bytes, description: d)
            if format == "jpeg" {
                return Self.image(try JPEGEncoder.encode(rendered, quality: 90), type: "image/jpeg", origin: "rendered")
            }
            return Self.image(try PNGEncoder.encode(rendered, compressionLevel: 1), type: "image/png", origin: "rendered")
        case .empty(let description):
            // A TILED_SPARSE position no frame covers: a white tile, so that the viewer draws the slide's background.
            let samples = [UInt16](repeating: 255, count: description.columns * description.rows * 3)
            let blank = RenderedImage(width: description.columns, height: description.rows, channels: 3, bitDepth: 8, samples: samples)
            return Self.image(
                format == "png" ? try PNGEncoder.encode(blank, compressionLevel: 1) : try JPEGEncoder.encode(blank, quality: 90),
                type: format == "png" ? "image/png" : "image/jpeg", origin: "empty")
        case .missing(let reason):
            throw HTTPError(.notFound, message: reason)
        }
    }

    /// The stored bytes of `frames` (0-based) of a slide level, for WADO-RS frames; nil when the instance is not a level
    /// of an indexed pyramid (the caller parses the object instead). A frame that does not exist is 404.
    func storedFrames(_ item: StoredInstance, frames: [Int]) async throws -> [[UInt8]]? {
        guard let pyramid = try? await pyramid(series: item.seriesInstanceUID),
            let entry = pyramid.levels.joined().first(where: { $0.stored.sopInstanceUID == item.sopInstanceUID }),
            !entry.rangeStarts.isEmpty
        else { return nil }
        var out: [[UInt8]] = []
        for frame in frames {
            guard frame >= 0, frame < entry.description.numberOfFrames else {
                throw HTTPError(.notFound, message: "frame \(frame + 1) of \(entry.description.numberOfFrames) does not exist")
            }
            out.append(try await frameBytes(entry, frame: frame))
        }
        return out
    }

    /// The stored bytes of one frame: read from the byte ranges the index recorded, else from the parsed object.
    func frameBytes(_ instance: SlideEntry, frame: Int) async throws -> [UInt8] {
        if let ranges = instance.ranges(of: frame) {
            if !archive.blobs.isRemote, case .file(let path) = try await archive.blobs.get(instance.stored.blobKey) {
                return try Self.readRanges(path: path, ranges: ranges)
            }
            var out: [UInt8] = []
            for range in ranges {
                for try await chunk in try await archive.blobs.read(instance.stored.blobKey, range: range) { out += chunk }
            }
            return out
        }
        let file: DICOMFile
        switch try await archive.blobs.get(instance.stored.blobKey) {
        case .bytes(let bytes): file = try DICOMFile.read(bytes)
        case .file(let path): file = try DICOMFile.read(contentsOf: path)
        }
        guard let pixels = file.dataSet[.pixelData] else { throw HTTPError(.notFound, message: "the instance has no Pixel Data") }
        if let encapsulated = pixels.encapsulated {
            guard let bytes = encapsulated.frame(frame, numberOfFrames: instance.description.numberOfFrames) else {
                throw HTTPError(.notFound, message: "frame \(frame + 1) does not exist")
            }
            return bytes
        }
        let d = instance.description
        let size = d.columns * d.rows * d.samplesPerPixel * max(d.bitsAllocated / 8, 1)
        let native = file.dataSet.littleEndianBytes(of: pixels)
        guard size > 0, (frame + 1) * size <= native.count else { throw HTTPError(.notFound, message: "frame \(frame + 1) does not exist") }
        let start = native.startIndex + frame * size
        return native[start..<(start + size)].withUnsafeBytes { Array($0) }
    }

    static func readRanges(path: String, ranges: [Range<Int>]) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw HTTPError(.internalServerError, message: "the slide's blob cannot be opened") }
        defer { close(descriptor) }
        let total = ranges.reduce(0) { $0 + $1.count }
        var out = [UInt8](repeating: 0, count: total)
        var filled = 0
        let ok = out.withUnsafeMutableBytes { buffer -> Bool in
            guard let base = buffer.baseAddress else { return total == 0 }
            for range in ranges {
                var done = 0
                while done < range.count {
                    let n = pread(descriptor, base + filled + done, range.count - done, off_t(range.lowerBound + done))
                    if n <= 0 { return false }
                    done += n
                }
                filled += range.count
            }
            return true
        }
        guard ok else { throw HTTPError(.internalServerError, message: "the slide's blob is shorter than its index says") }
        return out
    }

    /// Decodes one stored frame with the imaging code and returns 8-bit samples for PNG or JPEG.
    static func render(_ bytes: [UInt8], description d: SlideDescription) throws -> RenderedImage {
        var ds = DataSet()
        ds.set(.rows, .US, integers: [d.rows])
        ds.set(.columns, .US, integers: [d.columns])
        ds.set(.samplesPerPixel, .US, integers: [d.samplesPerPixel])
        ds.set(.photometricInterpretation, .CS, d.photometricInterpretation)
        ds.set(.bitsAllocated, .US, integers: [d.bitsAllocated])
        ds.set(.bitsStored, .US, integers: [d.bitsAllocated])
        ds.set(.highBit, .US, integers: [d.bitsAllocated - 1])
        ds.set(.pixelRepresentation, .US, integers: [0])
        if d.samplesPerPixel > 1 { ds.set(.planarConfiguration, .US, integers: [0]) }
        ds.set(.numberOfFrames, .IS, "1")
        let syntax = TransferSyntax(uid: d.transferSyntaxUID)
        if syntax.isEncapsulated {
            ds[.pixelData] = DataElement(
                tag: .pixelData, vr: .OB, value: .encapsulated(EncapsulatedPixelData(fragments: [ByteSlice(bytes)])),
                hadUndefinedLength: true)
        } else {
            ds[.pixelData] = DataElement(tag: .pixelData, vr: d.bitsAllocated > 8 ? .OW : .OB, bytes: bytes)
        }
        let frame: DecodedFrame
        do {
            frame = try PixelData(dataSet: ds, transferSyntax: syntax).frame(0, color: .rgb)
        } catch {
            throw HTTPError(.notImplemented, message: "the tile cannot be decoded: \(error)")
        }
        guard frame.descriptor.bitsAllocated == 8, frame.descriptor.samplesPerPixel == 1 || frame.descriptor.samplesPerPixel == 3 else {
            throw HTTPError(.notImplemented, message: "tiles of \(frame.descriptor.bitsAllocated)-bit samples are not rendered")
        }
        return RenderedImage(
            width: d.columns, height: d.rows, channels: frame.descriptor.samplesPerPixel, bitDepth: 8,
            samples: frame.pixels.map(UInt16.init))
    }

    /// Says where a tile's bytes came from: `stored` (the codestream as stored), `rendered`, or `empty` (a sparse gap).
    static let tileHeader = HTTPField.Name("X-Atrium-Tile") ?? .contentLocation

    static func image(_ bytes: [UInt8], type: String, origin: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: type, .cacheControl: "private, max-age=3600", tileHeader: origin],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONEncoder().encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    // MARK: Conversion

    /// Patient and study attributes the conversion takes from the query, by DICOM keyword.
    static let conversionAttributes: [(String, Tag, VR)] = [
        ("PatientName", .patientName, .PN), ("PatientID", .patientID, .LO), ("IssuerOfPatientID", .issuerOfPatientID, .LO),
        ("PatientBirthDate", .patientBirthDate, .DA), ("PatientSex", .patientSex, .CS), ("StudyInstanceUID", .studyInstanceUID, .UI),
        ("AccessionNumber", .accessionNumber, .SH), ("StudyID", .studyID, .SH), ("StudyDescription", .studyDescription, .LO),
        ("StudyDate", .studyDate, .DA), ("StudyTime", .studyTime, .TM), ("ReferringPhysicianName", .referringPhysicianName, .PN),
        ("SeriesDescription", .seriesDescription, .LO), ("SeriesNumber", .seriesNumber, .IS),
        ("ContainerIdentifier", .containerIdentifier, .LO),
    ]

    struct ConversionResult: Encodable {
        var studyInstanceUID: String
        var seriesInstanceUID: String
        var instances: [String]
    }

    struct Problem: Encodable { var error: String }

    /// The patient and study attributes of a conversion from values by DICOM keyword (others are ignored).
    static func conversionAttributes(_ values: [String: String]) throws -> DataSet {
        var attributes = DataSet(characterSet: SpecificCharacterSet(terms: ["ISO_IR 192"]))
        attributes.set(.specificCharacterSet, .CS, "ISO_IR 192")
        for (keyword, tag, vr) in Self.conversionAttributes {
            guard let value = values[keyword], !value.isEmpty else { continue }
            if tag == .studyInstanceUID, !UID.isValid(value) { throw HTTPError(.badRequest, message: "StudyInstanceUID is not a UID") }
            attributes.set(tag, vr, value)
        }
        return attributes
    }

    func convert(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        var values: [String: String] = [:]
        for (keyword, _, _) in Self.conversionAttributes {
            guard let raw = query[Substring(keyword)] else { continue }
            values[keyword] = String(raw).removingPercentEncoding ?? String(raw)
        }
        let attributes = try Self.conversionAttributes(values)
        try FileManager.default.createDirectory(atPath: temporaryDirectory, withIntermediateDirectories: true)
        let path = temporaryDirectory + "/" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await Self.save(request.body, to: path, limit: maximumUploadBytes)
        let access = DICOMwebAccess.current
        let source = SourceInfo(applicationEntityTitle: access?.user, institution: access?.institution, transport: .importer)
        var result = ConversionResult(studyInstanceUID: "", seriesInstanceUID: "", instances: [])
        do {
            _ = try await SlideConverter().convert(path: path, name: "the uploaded slide", attributes: attributes) { level, bytes in
                try await access?.refuseForeignStudy(bytes, archive: archive, name: "level \(level)")
                let outcome = try await archive.store(bytes, source: source, name: "level \(level)")
                access?.touch(study: outcome.studyInstanceUID, patient: outcome.patientID)
                result.studyInstanceUID = outcome.studyInstanceUID
                result.seriesInstanceUID = outcome.seriesInstanceUID
                result.instances.append(outcome.sopInstanceUID)
            }
        } catch let error as SlideConversionError {
            switch error {
            case .unrecognisedFormat: return Self.json(Problem(error: "\(error)"), status: .unsupportedMediaType)
            default: return Self.json(Problem(error: "\(error)"), status: .unprocessableContent)
            }
        }
        logger.info("slide converted", metadata: ["series": "\(result.seriesInstanceUID)", "levels": "\(result.instances.count)"])
        return Self.json(result, status: .created)
    }

    /// Writes a request body to `path`, refusing more than `limit` bytes.
    static func save(_ body: RequestBody, to path: String, limit: Int) async throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw HTTPError(.internalServerError, message: "the upload cannot be saved")
        }
        defer { try? handle.close() }
        var written = 0
        for try await buffer in body {
            written += buffer.readableBytes
            guard written <= limit else { throw HTTPError(.contentTooLarge, message: "slides are limited to \(limit) bytes") }
            try handle.write(contentsOf: Data(buffer.readableBytesView))
        }
        guard written > 0 else { throw HTTPError(.badRequest, message: "the request holds no slide file") }
    }
}

/// Recently loaded pyramids by series (and institution scope), for a few seconds: a viewer asks for many tiles of one
/// series in a row, and new levels may still be arriving.
final class SlidePyramidCache: Sendable {
    private let entries = Mutex<[String: (loaded: ContinuousClock.Instant, pyramid: SlidePyramid)]>([:])
    static let lifetime = Duration.seconds(10)

    func lookup(_ key: String) -> SlidePyramid? {
        entries.withLock { entries in
            guard let entry = entries[key], entry.loaded.duration(to: .now) < Self.lifetime else { return nil }
            return entry.pyramid
        }
    }

    func insert(_ pyramid: SlidePyramid, for key: String) {
        entries.withLock { entries in
            if entries.count > 256 { entries = entries.filter { $0.value.loaded.duration(to: .now) < Self.lifetime } }
            entries[key] = (.now, pyramid)
        }
    }
}
