import Archive
import DICOM
import Foundation

/// The kinds of file a site may attach to a request: an earlier report or the paper request form, as PDF or as a photo
/// (JPEG). The kind is read from the file's first bytes, never taken from the client's Content-Type or file name.
public enum AttachmentType: String, CaseIterable, Sendable, Codable {
    case pdf = "application/pdf"
    case jpeg = "image/jpeg"

    /// The kind of `bytes` by their magic numbers (PDF: `%PDF-`; JPEG: SOI followed by a marker), or nil.
    public static func sniff(_ bytes: some Collection<UInt8>) -> AttachmentType? {
        if bytes.starts(with: Array("%PDF-".utf8)) { return .pdf }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        return nil
    }

    public var fileExtension: String { self == .pdf ? "pdf" : "jpg" }
}

/// A file attached to a consultation request. The bytes are kept as sent (SHA-256 and size recorded); when stored as
/// DICOM too, the object's UIDs in the request's study are kept here.
public struct RequestAttachment: Sendable, Equatable {
    public var id: Int64
    public var requestID: Int64
    public var filename: String
    public var type: AttachmentType
    public var sizeBytes: Int
    /// Lower-case hex SHA-256 of the bytes.
    public var sha256: String
    /// The Encapsulated PDF or Secondary Capture made of it in the request's study, if any.
    public var sopInstanceUID: String?
    public var seriesInstanceUID: String?
    public var uploadedBy: String
    public var createdAt: Date

    public init(
        id: Int64, requestID: Int64, filename: String, type: AttachmentType, sizeBytes: Int, sha256: String, sopInstanceUID: String? = nil,
        seriesInstanceUID: String? = nil, uploadedBy: String, createdAt: Date
    ) {
        self.id = id
        self.requestID = requestID
        self.filename = filename
        self.type = type
        self.sizeBytes = sizeBytes
        self.sha256 = sha256
        self.sopInstanceUID = sopInstanceUID
        self.seriesInstanceUID = seriesInstanceUID
        self.uploadedBy = uploadedBy
        self.createdAt = createdAt
    }

    /// The largest file accepted (a scanned multi-page form as PDF stays well under it).
    public static let maximumBytes = 20 << 20

    /// A file name safe to show and to send back in Content-Disposition: the last path component, printable, at most
    /// 120 characters, with the extension of its sniffed type.
    public static func cleanFilename(_ name: String, type: AttachmentType) -> String {
        let last = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        var clean = String(last.unicodeScalars.filter { $0.value >= 0x20 && $0 != "\"" && $0.value != 0x7F }.map(Character.init))
        clean = String(clean.trimmingCharacters(in: .whitespaces).prefix(120))
        if clean.isEmpty { clean = "attachment" }
        let ext = "." + type.fileExtension
        let lower = clean.lowercased()
        if type == .jpeg && lower.hasSuffix(".jpeg") { return clean }
        return lower.hasSuffix(ext) ? clean : clean + ext
    }
}

/// The frame header of a JPEG codestream (ISO/IEC 10918-1 B.2.2): what a Secondary Capture's Image Pixel module says.
public struct JPEGFrameHeader: Sendable, Equatable {
    /// The start-of-frame marker's second byte (0xC0 baseline, 0xC1 extended, 0xC2 progressive…).
    public var marker: UInt8
    public var precision: Int
    public var rows: Int
    public var columns: Int
    public var components: Int

    /// Baseline sequential DCT, 8 bits: what JPEG Baseline (Process 1), 1.2.840.10008.1.2.4.50, carries.
    public var isBaseline: Bool { marker == 0xC0 && precision == 8 }

    /// The first SOF segment of `bytes`, walking the marker segments from SOI; nil when there is none before SOS.
    public static func parse(_ bytes: [UInt8]) -> JPEGFrameHeader? {
        guard bytes.count > 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return nil }
        var i = 2
        while i + 4 <= bytes.count {
            guard bytes[i] == 0xFF else { return nil }
            let marker = bytes[i + 1]
            if marker == 0xFF {
                i += 1  // fill byte
                continue
            }
            if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 {
                i += 2
                continue
            }
            let length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            guard length >= 2, i + 2 + length <= bytes.count else { return nil }
            let isFrame = (0xC0...0xCF).contains(marker) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC
            if isFrame {
                guard length >= 8 else { return nil }
                let s = i + 4
                let header = JPEGFrameHeader(
                    marker: marker, precision: Int(bytes[s]), rows: Int(bytes[s + 1]) << 8 | Int(bytes[s + 2]),
                    columns: Int(bytes[s + 3]) << 8 | Int(bytes[s + 4]), components: Int(bytes[s + 5]))
                return header.rows > 0 && header.columns > 0 ? header : nil
            }
            if marker == 0xDA || marker == 0xD9 { return nil }
            i += 2 + length
        }
        return nil
    }
}

/// The DICOM objects made of an attachment, in the request's study and a new series of their own: an Encapsulated PDF
/// (PS3.3 A.45.1) or a Secondary Capture Image (PS3.3 A.8.1) whose pixel data is the photo's JPEG codestream as sent
/// (JPEG Baseline, encapsulated: PS3.5 A.4). Patient and study attributes are copied from the study.
public enum AttachmentDocuments {
    public static let seriesNumber = 9903

    /// Why an attachment cannot become a DICOM object.
    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case notBaselineJPEG
        case unreadableJPEG

        public var description: String {
            switch self {
            case .notBaselineJPEG:
                "the photo is not a baseline 8-bit JPEG (progressive or 12-bit?): attach it as a plain file, or save it as baseline JPEG"
            case .unreadableJPEG: "the JPEG has no readable frame header"
            }
        }
    }

    /// The Part 10 file of `bytes` (of kind `type`) in `study`.
    public static func file(
        _ bytes: [UInt8], type: AttachmentType, title: String, study: ReportDocument.Study, institution: String, created: Date,
        seriesInstanceUID: String, sopInstanceUID: String
    ) throws(Refusal) -> DICOMFile {
        switch type {
        case .pdf:
            let ds = encapsulatedPDF(
                bytes, title: title, study: study, institution: institution, created: created, seriesInstanceUID: seriesInstanceUID,
                sopInstanceUID: sopInstanceUID)
            return DICOMFile(dataSet: ds, transferSyntax: .explicitVRLittleEndian)
        case .jpeg:
            guard let frame = JPEGFrameHeader.parse(bytes) else { throw .unreadableJPEG }
            guard frame.isBaseline, frame.components == 1 || frame.components == 3 else { throw .notBaselineJPEG }
            let ds = secondaryCapture(
                bytes, frame: frame, title: title, study: study, institution: institution, created: created,
                seriesInstanceUID: seriesInstanceUID, sopInstanceUID: sopInstanceUID)
            return DICOMFile(dataSet: ds, transferSyntax: .jpegBaseline8Bit)
        }
    }

    /// Encapsulated PDF IOD (PS3.3 A.45.1): Patient, General Study, Encapsulated Document Series, General Equipment, SC
    /// Equipment, Encapsulated Document, SOP Common.
    public static func encapsulatedPDF(
        _ pdf: [UInt8], title: String, study: ReportDocument.Study, institution: String, created: Date, seriesInstanceUID: String,
        sopInstanceUID: String
    ) -> DataSet {
        var ds = common(
            study: study, sopClassUID: UID.encapsulatedPDFStorage, modality: "DOC", title: title, institution: institution,
            created: created, seriesInstanceUID: seriesInstanceUID, sopInstanceUID: sopInstanceUID)
        let (date, time) = SRDocumentHeader.dicomDateTime(created)
        ds.set(.acquisitionDateTime, .DT, date + time)
        ds.set(.burnedInAnnotation, .CS, "YES")
        ds.set(.documentTitle, .ST, String(title.prefix(1024)))
        ds.set(.conceptNameCodeSequence, items: [])
        ds.set(.mimeTypeOfEncapsulatedDocument, .LO, AttachmentType.pdf.rawValue)
        // OB of even length: a pad byte after an odd-length PDF; the length element gives the PDF's own length (C.24.2.1).
        ds[.encapsulatedDocument] = DataElement(tag: .encapsulatedDocument, vr: .OB, bytes: pdf.count % 2 == 0 ? pdf : pdf + [0])
        ds.set(.encapsulatedDocumentLength, .UL, integers: [pdf.count])
        return ds
    }

    /// Secondary Capture Image IOD (PS3.3 A.8.1) with the JPEG codestream as the one fragment of its pixel data.
    public static func secondaryCapture(
        _ jpeg: [UInt8], frame: JPEGFrameHeader, title: String, study: ReportDocument.Study, institution: String, created: Date,
        seriesInstanceUID: String, sopInstanceUID: String
    ) -> DataSet {
        // A baseline JPEG of three components is YCbCr; 4:2:2 or 4:2:0 chroma, which PS3.5 8.2.1 names YBR_FULL_422.
        var ds = secondaryCaptureImage(
            rows: frame.rows, columns: frame.columns, samplesPerPixel: frame.components,
            photometric: frame.components == 3 ? "YBR_FULL_422" : "MONOCHROME2", lossy: true, title: title, study: study,
            institution: institution, created: created, seriesInstanceUID: seriesInstanceUID, sopInstanceUID: sopInstanceUID)
        ds.set(.derivationDescription, .ST, "Photo of a paper document, JPEG as received")
        let fragment = jpeg.count % 2 == 0 ? jpeg : jpeg + [0]
        ds[.pixelData] = DataElement(
            tag: .pixelData, vr: .OB, value: .encapsulated(EncapsulatedPixelData(fragments: [ByteSlice(fragment)])),
            hadUndefinedLength: true)
        return ds
    }

    /// Secondary Capture Image IOD with native 8-bit samples (grey, or RGB interleaved), e.g. a decoded PNG photo.
    public static func secondaryCapture(
        nativeSamples samples: [UInt8], rows: Int, columns: Int, samplesPerPixel: Int, title: String, study: ReportDocument.Study,
        institution: String, created: Date, seriesInstanceUID: String, sopInstanceUID: String
    ) -> DataSet {
        var ds = secondaryCaptureImage(
            rows: rows, columns: columns, samplesPerPixel: samplesPerPixel, photometric: samplesPerPixel == 3 ? "RGB" : "MONOCHROME2",
            lossy: false, title: title, study: study, institution: institution, created: created,
            seriesInstanceUID: seriesInstanceUID, sopInstanceUID: sopInstanceUID)
        ds[.pixelData] = DataElement(tag: .pixelData, vr: .OB, bytes: samples.count % 2 == 0 ? samples : samples + [0])
        return ds
    }

    /// The attributes every Secondary Capture here shares: the header, SC equipment, and the image pixel description of
    /// 8-bit unsigned samples (Pixel Data left to the caller).
    private static func secondaryCaptureImage(
        rows: Int, columns: Int, samplesPerPixel: Int, photometric: String, lossy: Bool, title: String, study: ReportDocument.Study,
        institution: String, created: Date, seriesInstanceUID: String, sopInstanceUID: String
    ) -> DataSet {
        var ds = common(
            study: study, sopClassUID: UID.secondaryCaptureImageStorage, modality: "OT", title: title, institution: institution,
            created: created, seriesInstanceUID: seriesInstanceUID, sopInstanceUID: sopInstanceUID)
        ds.set(.patientOrientation, .CS, "")
        // General Series: Type 2C, empty (a form is no paired body part).
        ds.set(.laterality, .CS, "")
        ds.set(.burnedInAnnotation, .CS, "YES")
        ds.set(.imageType, .CS, ["DERIVED", "SECONDARY"])
        ds.set(.lossyImageCompression, .CS, lossy ? "01" : "00")
        ds.set(.samplesPerPixel, .US, integers: [samplesPerPixel])
        ds.set(.photometricInterpretation, .CS, photometric)
        if samplesPerPixel == 3 { ds.set(.planarConfiguration, .US, integers: [0]) }
        ds.set(.rows, .US, integers: [rows])
        ds.set(.columns, .US, integers: [columns])
        ds.set(.bitsAllocated, .US, integers: [8])
        ds.set(.bitsStored, .US, integers: [8])
        ds.set(.highBit, .US, integers: [7])
        ds.set(.pixelRepresentation, .US, integers: [0])
        return ds
    }

    private static func common(
        study: ReportDocument.Study, sopClassUID: String, modality: String, title: String, institution: String, created: Date,
        seriesInstanceUID: String, sopInstanceUID: String
    ) -> DataSet {
        var ds = SRDocumentHeader.make(
            study: study, sopClassUID: sopClassUID, sopInstanceUID: sopInstanceUID, seriesInstanceUID: seriesInstanceUID,
            modality: modality, seriesNumber: seriesNumber, instanceNumber: 1, content: created, institution: institution)
        // SR-only attributes of the shared header.
        ds.remove(.referencedPerformedProcedureStepSequence)
        ds.set(.seriesDescription, .LO, String(title.prefix(64)))
        // SC Equipment (PS3.3 C.8.6.1): a scanned or photographed document.
        ds.set(.conversionType, .CS, "SD")
        return ds
    }
}
