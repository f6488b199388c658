import Archive
import DICOM
import Foundation
import Imaging

/// Turns the clinical instances of a flagged case into teaching copies with the PS3.15 engine, and describes what that
/// changes for the curator's preview. Pure: files in, results out.
public struct CasePreparation: Sendable {
    /// The teaching profile: Basic Profile with Retain Patient Characteristics (age and sex matter to a case), Retain
    /// Longitudinal Temporal Information with Modified Dates (one shift per patient), Clean Descriptors, Clean
    /// Structured Content and Clean Graphics; Clean Pixel Data through the curator's masks.
    public static let teachingOptions: DeidentificationOptions = [
        .retainPatientCharacteristics, .retainLongitudinalModifiedDates, .cleanDescriptors, .cleanStructuredContent, .cleanGraphics,
    ]

    public let deidentifier: Deidentifier

    public init(secret: DeidentificationSecret, options: DeidentificationOptions = CasePreparation.teachingOptions) {
        deidentifier = Deidentifier(options: options, secret: secret)
    }

    /// One attribute as the preview shows it.
    public struct AttributeChange: Sendable, Equatable {
        public var tag: String
        public var name: String
        public var before: String
        /// Nil when the attribute was removed.
        public var after: String?
    }

    /// One instance: what de-identification does to it and whether it may be released.
    public struct Prepared: Sendable {
        public var source: InstanceReference
        public var modality: String
        /// Burned-in text is likely (US, SC, XA, or Burned In Annotation YES/absent for them).
        public var needsPixelReview: Bool
        /// A curator confirmed masks (or no text) for the instance's series.
        public var reviewConfirmed: Bool
        public var changes: [AttributeChange]
        /// Why it is held back (empty when it may be released).
        public var refusals: [String]
        public var result: DeidentificationResult
        /// Left out of the case altogether (a slide's label or overview image), with the reason.
        public var dropped: String?

        public var isReleased: Bool { refusals.isEmpty }
    }

    /// A VL Whole Slide Microscopy label or overview image (Image Type value 3 `LABEL` or `OVERVIEW`, PS3.3
    /// C.8.12.4.1.1): the photograph of the slide's label shows the patient's name and numbers in its pixels, and the
    /// overview (macro) image usually shows the label too, so neither goes into a teaching case.
    public static func isSlideLabelOrOverview(_ dataSet: DataSet) -> Bool {
        guard dataSet.string(.sopClassUID) == "1.2.840.10008.5.1.4.1.1.77.1.6" else { return false }
        let values = dataSet.strings(.imageType).map { $0.trimmingCharacters(in: .whitespaces).uppercased() }
        return values.count >= 3 && (values[2] == "LABEL" || values[2] == "OVERVIEW")
    }

    /// De-identifies `file` (the clinical instance of `reference`) with the series' confirmed masks, if any.
    public func prepare(_ file: DICOMFile, reference: InstanceReference, masks: [String: [MaskRectangle]]) -> Prepared {
        let review = masks[reference.seriesInstanceUID].map { PixelReview(regions: $0.map(\.region)) }
        // A slide's label text and barcode are the label's PHI: not cleaned and kept (Clean Descriptors would), removed.
        var input = file
        if input.dataSet.string(.sopClassUID) == "1.2.840.10008.5.1.4.1.1.77.1.6" {
            input.dataSet.remove(.labelText)
            input.dataSet.remove(.barcodeValue)
        }
        let result = deidentifier.deidentify(input, pixelReview: review)
        return Prepared(
            source: reference, modality: file.dataSet.string(.modality) ?? "",
            needsPixelReview: Deidentifier.needsPixelReview(file.dataSet),
            reviewConfirmed: review != nil, changes: Self.changes(file.dataSet, result.file.dataSet),
            refusals: result.refusals.map(\.description), result: result,
            dropped: Self.isSlideLabelOrOverview(file.dataSet)
                ? "a slide's label or overview image shows the label: left out of the case" : nil)
    }

    /// The top-level attributes whose value differs between `before` and `after` (pixel data aside), in tag order.
    public static func changes(_ before: DataSet, _ after: DataSet) -> [AttributeChange] {
        var tags = Set(before.elements.map(\.tag)).union(after.elements.map(\.tag))
        tags.remove(.pixelData)
        return tags.sorted().compactMap { tag in
            let old = before[tag].map { describe($0, in: before) }
            let new = after[tag].map { describe($0, in: after) }
            guard old != new else { return nil }
            let name = DataDictionary.entry(for: tag)?.keyword ?? (tag.group % 2 == 1 ? "private" : "")
            return AttributeChange(tag: tag.description, name: name, before: old ?? "", after: new)
        }
    }

    /// A value as text: strings decoded with the data set's character set, sequences and binary values summarised.
    static func describe(_ element: DataElement, in ds: DataSet) -> String {
        switch element.value {
        case .sequence(let items): return "(\(items.count) item\(items.count == 1 ? "" : "s"))"
        case .encapsulated: return "(encapsulated)"
        case .bytes(let bytes):
            if element.vr.isString { return ds.string(element.tag) ?? "" }
            // FNV-1a of the bytes, so that a changed binary value of the same length still shows as a change.
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            return "(\(element.vr), \(bytes.count) bytes, #\(String(hash & 0xFFFFFF, radix: 16)))"
        }
    }
}
