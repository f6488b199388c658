import DICOM

/// Reads a Key Object Selection document as a teaching flag: document title "For Teaching" (DCM 113004, IHE TCE), the
/// referenced instances (Current Requested Procedure Evidence Sequence, and the image items of the content tree with
/// their frames), and the Key Object Description (DCM 113012) as the note.
public enum TeachingSelection {
    /// PS3.16 CID 7010: Key Object Selection Document Title "For Teaching".
    public static let forTeaching = (codeValue: "113004", codingScheme: "DCM")
    static let keyObjectDescription = "113012"
    static let keyObjectSelectionDocumentStorage = "1.2.840.10008.5.1.4.1.1.88.59"

    /// What a KOS "For Teaching" asks for.
    public struct Selection: Sendable, Equatable {
        public var sopInstanceUID: String
        public var studyInstanceUID: String
        public var references: [InstanceReference]
        public var note: String
        /// Observer Name (the reader who flagged it), when the document records one.
        public var observer: String
        public var institution: String
    }

    /// The selection, or nil when the data set is not a KOS "For Teaching" with at least one reference.
    public static func read(_ ds: DataSet) -> Selection? {
        let isKOS = ds.string(.sopClassUID) == keyObjectSelectionDocumentStorage || ds.string(.modality) == "KO"
        guard isKOS, let title = ds.items(.conceptNameCodeSequence).first,
            title.string(.codeValue) == forTeaching.codeValue, title.string(.codingSchemeDesignator) == forTeaching.codingScheme,
            let uid = ds.string(.sopInstanceUID)
        else { return nil }
        var frames: [String: Int] = [:]
        var note = ""
        var observer = ""
        for item in ds.items(.contentSequence) {
            let concept = item.items(.conceptNameCodeSequence).first?.string(.codeValue)
            switch item.string(.valueType) {
            case "TEXT" where concept == keyObjectDescription: note = item.string(.textValue) ?? ""
            case "PNAME": observer = item.string(.personName) ?? ""
            case "IMAGE":
                for reference in item.items(.referencedSOPSequence) {
                    if let sop = reference.string(.referencedSOPInstanceUID),
                        let frame = reference.string(.referencedFrameNumber).flatMap({ Int($0) })
                    {
                        frames[sop] = frame
                    }
                }
            default: break
            }
        }
        var references: [InstanceReference] = []
        var study = ds.string(.studyInstanceUID) ?? ""
        for studyItem in ds.items(.currentRequestedProcedureEvidenceSequence) {
            if let uid = studyItem.string(.studyInstanceUID), !uid.isEmpty { study = uid }
            for series in studyItem.items(.referencedSeriesSequence) {
                let seriesUID = series.string(.seriesInstanceUID) ?? ""
                for sop in series.items(.referencedSOPSequence) {
                    guard let instance = sop.string(.referencedSOPInstanceUID) else { continue }
                    references.append(
                        InstanceReference(
                            seriesInstanceUID: seriesUID, sopInstanceUID: instance, sopClassUID: sop.string(.referencedSOPClassUID) ?? "",
                            frame: frames[instance]))
                }
            }
        }
        guard !references.isEmpty else { return nil }
        return Selection(
            sopInstanceUID: uid, studyInstanceUID: study, references: references, note: note, observer: observer,
            institution: ds.string(.institutionName) ?? "")
    }
}
