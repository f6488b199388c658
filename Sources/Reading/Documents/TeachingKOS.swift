import DICOM
import Foundation

/// The Key Object Selection document a reader makes while reading to put a case forward for teaching: document title
/// "For Teaching" (DCM 113004), as IHE Teaching File and Clinical Trial Export (TCE) asks, after TID 2010.
public enum TeachingKOS {
    /// A key image: an instance of the study, and optionally its frame.
    public struct KeyImage: Sendable, Equatable {
        public var sopClassUID: String
        public var sopInstanceUID: String
        public var seriesInstanceUID: String
        public var frameNumber: Int?

        public init(sopClassUID: String, sopInstanceUID: String, seriesInstanceUID: String, frameNumber: Int? = nil) {
            self.sopClassUID = sopClassUID
            self.sopInstanceUID = sopInstanceUID
            self.seriesInstanceUID = seriesInstanceUID
            self.frameNumber = frameNumber
        }
    }

    /// The series number of Atrium's teaching selections.
    public static let seriesNumber = 9902

    /// The KOS of `keyImages` (at least one) with the reader's teaching note as the Key Object Description.
    public static func dataSet(
        study: ReportDocument.Study, keyImages: [KeyImage], note: String, author: String, institution: String, created: Date,
        seriesInstanceUID: String, sopInstanceUID: String
    ) -> DataSet {
        var ds = SRDocumentHeader.make(
            study: study, sopClassUID: UID.keyObjectSelectionDocumentStorage, sopInstanceUID: sopInstanceUID,
            seriesInstanceUID: seriesInstanceUID, modality: "KO", seriesNumber: seriesNumber, instanceNumber: 1, content: created,
            institution: institution)
        ds.set(.seriesDescription, .LO, "For Teaching")
        let cs = ds.characterSet
        var byStudy = study
        byStudy.series = Dictionary(grouping: keyImages, by: \.seriesInstanceUID).sorted { $0.key < $1.key }.map { uid, images in
            let modality = study.series.first { $0.seriesInstanceUID == uid }?.modality ?? ""
            return ReportDocument.Series(
                seriesInstanceUID: uid, modality: modality,
                instances: images.map { .init(sopClassUID: $0.sopClassUID, sopInstanceUID: $0.sopInstanceUID) })
        }
        ds.set(.currentRequestedProcedureEvidenceSequence, items: SRDocumentHeader.evidence(byStudy, cs))
        var template = DataSet(characterSet: cs)
        template.set(.mappingResource, .CS, "DCMR")
        template.set(.templateIdentifier, .CS, "2010")
        ds.set(.contentTemplateSequence, items: [template])
        var children: [ContentItem] = [
            .code(.observerType, relationship: "HAS OBS CONTEXT", .person),
            .personName(.personObserverName, relationship: "HAS OBS CONTEXT", author),
        ]
        if !note.isEmpty { children.append(.text(.keyObjectDescription, relationship: "CONTAINS", note)) }
        SRDocumentHeader.merge(.container(.forTeaching, relationship: nil, children: children), into: &ds)
        // Image references, with their frame when one is chosen (TID 2010 row 4, PS3.3 C.17.3.2.4 Image Reference).
        var content = ds[.contentSequence]?.items ?? []
        for image in keyImages {
            var item = ContentItem.image(relationship: "CONTAINS", sopClassUID: image.sopClassUID, sopInstanceUID: image.sopInstanceUID)
                .attributes(cs)
            if let frame = image.frameNumber, var reference = item[.referencedSOPSequence]?.items?.first {
                reference.set(.referencedFrameNumber, .IS, String(frame))
                item.set(.referencedSOPSequence, items: [reference])
            }
            content.append(item)
        }
        ds.set(.contentSequence, items: content)
        return ds
    }
}
