import DICOM
import Foundation
import Hummingbird
import Imaging
import NIOCore
import Platform
import Reading
import Teaching

/// Photos of a teaching case (a text or photo case from the form, e.g. for health management): a curator adds a JPEG,
/// checked by its magic bytes and size, with its metadata segments (EXIF, XMP, ICC, comments: APP1–APP13, APP15, COM)
/// removed, stored with the case as a DICOM Secondary Capture whose pixel data is that JPEG (the consultation
/// attachments' encoder), and shown among the key images; a PNG is decoded and stored as native samples (its text and
/// metadata chunks are not kept).
extension LibraryRoutes {
    static let maximumPhotoBytes = 10 << 20

    func registerPhotos(on router: Router<AtriumRequestContext>) {
        router.post("/api/library/cases/:id/photos") { request, context in try await self.addPhoto(request, context) }
    }

    /// `POST /api/library/cases/{id}/photos`: the photo as the body (any Content-Type; its bytes decide), or as the file
    /// part of multipart/form-data. 201 with the case; 413 above 10 MB; 415 for anything but a baseline JPEG or an 8-bit PNG.
    func addPhoto(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.curator(context)
        let id = try Self.id(context)
        let collected: ByteBuffer
        do {
            collected = try await request.body.collect(upTo: Self.maximumPhotoBytes + (64 << 10))
        } catch {
            throw HTTPError(.contentTooLarge, message: "a photo has at most \(Self.maximumPhotoBytes >> 20) MB")
        }
        var bytes = Array(collected.readableBytesView)
        let contentType = request.headers[.contentType] ?? ""
        if contentType.lowercased().hasPrefix("multipart/form-data") {
            let parts = try ReadingRoutes.formDataParts(bytes, contentType: contentType)
            guard let file = parts.first(where: { ReadingRoutes.disposition($0.headers["content-disposition"] ?? "")["filename"] != nil })
            else { throw HTTPError(.badRequest, message: "the form has no file") }
            bytes = file.body
        }
        guard bytes.count <= Self.maximumPhotoBytes else {
            throw HTTPError(.contentTooLarge, message: "a photo has at most \(Self.maximumPhotoBytes >> 20) MB")
        }
        var picture: PNGDecoder.Picture?
        var jpeg: [UInt8] = []
        var frame: JPEGFrameHeader?
        if PNGDecoder.isPNG(bytes) {
            do {
                picture = try PNGDecoder.decode(bytes)
            } catch {
                throw HTTPError(.unsupportedMediaType, message: "the PNG cannot be read: \(error)")
            }
        } else {
            guard bytes.starts(with: [0xFF, 0xD8, 0xFF]), let stripped = Self.withoutMetadata(bytes),
                let header = JPEGFrameHeader.parse(stripped)
            else { throw HTTPError(.unsupportedMediaType, message: "a photo is a JPEG or PNG file (its bytes are neither)") }
            guard header.isBaseline, header.components == 1 || header.components == 3 else {
                throw HTTPError(.unsupportedMediaType, message: AttachmentDocuments.Refusal.notBaselineJPEG.description)
            }
            jpeg = stripped
            frame = header
        }
        let current = try await mapped { try await store.get(id) }
        // The photo joins the case's de-identified study (its pseudonym), or a study of its own for a case without images.
        var study = ReportDocument.Study(studyInstanceUID: UID.generate(), patientName: "", patientID: "TEACHING-CASE-\(id)")
        if let first = try await mapped({ try await store.images(of: id) }).first,
            let stored = try await mapped({ try await store.image(of: id, sopInstanceUID: first.sopInstanceUID) }),
            let file = try? DICOMFile.read(stored.bytes)
        {
            study = ReportDocument.Study(
                studyInstanceUID: first.studyInstanceUID, patientName: file.dataSet.string(.patientName) ?? "",
                patientID: file.dataSet.string(.patientID) ?? "TEACHING-CASE-\(id)")
        }
        let series = UID.generate()
        let sop = UID.generate()
        let encoded: [UInt8]
        do {
            if let picture {
                encoded = try DICOMFile(
                    dataSet: Self.secondaryCapture(picture, study: study, series: series, sop: sop),
                    transferSyntax: .explicitVRLittleEndian
                ).encoded()
            } else if let frame {
                var dataSet = AttachmentDocuments.secondaryCapture(
                    jpeg, frame: frame, title: "Teaching case photo", study: study, institution: "", created: Date(),
                    seriesInstanceUID: series, sopInstanceUID: sop)
                dataSet.set(.patientIdentityRemoved, .CS, "YES")
                dataSet.set(.derivationDescription, .ST, "Photo for a teaching case, JPEG as received without its metadata segments")
                encoded = try DICOMFile(dataSet: dataSet, transferSyntax: .jpegBaseline8Bit).encoded()
            } else {
                throw HTTPError(.unsupportedMediaType, message: "a photo is a JPEG or PNG file")
            }
        } catch let error as HTTPError {
            throw error
        } catch {
            throw HTTPError(.unprocessableContent, message: "the photo cannot be stored: \(error)")
        }
        let image = CaseImage(
            caseID: id, studyInstanceUID: study.studyInstanceUID, seriesInstanceUID: series, sopInstanceUID: sop, modality: "OT",
            bytes: encoded)
        let changed = try await mapped {
            try await store.addImage(image, to: id, author: principal.username, revision: current.revision)
        }
        await record(.create, context, "teaching case \(id): photo added (\(sop))")
        return try Self.encoded(CaseBody(changed), status: .created)
    }

    /// A Secondary Capture of a decoded PNG: native 8-bit grey (MONOCHROME2) or RGB samples, lossless.
    static func secondaryCapture(_ picture: PNGDecoder.Picture, study: ReportDocument.Study, series: String, sop: String) -> DataSet {
        var ds = AttachmentDocuments.secondaryCapture(
            nativeSamples: picture.samples, rows: picture.height, columns: picture.width, samplesPerPixel: picture.channels,
            title: "Teaching case photo", study: study, institution: "", created: Date(), seriesInstanceUID: series, sopInstanceUID: sop)
        ds.set(.patientIdentityRemoved, .CS, "YES")
        ds.set(.derivationDescription, .ST, "Photo for a teaching case, decoded from PNG without its text and metadata chunks")
        return ds
    }

    /// `jpeg` without its APP1–APP13 and APP15 segments (EXIF, XMP, ICC profiles, maker data) and comments: what a
    /// camera writes about the picture and its place and time. APP0 (JFIF) and APP14 (Adobe: the colour transform)
    /// stay. Nil when the marker segments before the scan do not parse.
    static func withoutMetadata(_ jpeg: [UInt8]) -> [UInt8]? {
        guard jpeg.count > 4, jpeg[0] == 0xFF, jpeg[1] == 0xD8 else { return nil }
        var out: [UInt8] = [0xFF, 0xD8]
        out.reserveCapacity(jpeg.count)
        var i = 2
        while i + 4 <= jpeg.count {
            guard jpeg[i] == 0xFF else { return nil }
            let marker = jpeg[i + 1]
            if marker == 0xFF {
                i += 1
                continue
            }
            let length = Int(jpeg[i + 2]) << 8 | Int(jpeg[i + 3])
            guard length >= 2, i + 2 + length <= jpeg.count else { return nil }
            if marker == 0xDA {
                // The scan and everything after it, as sent.
                out += jpeg[i...]
                return out
            }
            let metadata = (0xE1...0xED).contains(marker) || marker == 0xEF || marker == 0xFE
            if !metadata { out += jpeg[i..<(i + 2 + length)] }
            i += 2 + length
        }
        return nil
    }
}
