import DICOM
import Foundation
import Platform

/// A coded concept (PS3.3 8.8 Code Sequence Macro): value, scheme and meaning.
public struct CodedConcept: Sendable, Equatable {
    public var value: String
    public var scheme: String
    public var meaning: String

    public init(_ value: String, _ scheme: String, _ meaning: String) {
        self.value = value
        self.scheme = scheme
        self.meaning = meaning
    }

    /// PS3.16 CID 7001 / DCM and LOINC codes the report and KOS documents use.
    static let diagnosticImagingReport = CodedConcept("18748-4", "LN", "Diagnostic Imaging Report")
    static let clinicalInformation = CodedConcept("55752-0", "LN", "Clinical Information")
    static let currentProcedureDescriptions = CodedConcept("55111-9", "LN", "Current Procedure Descriptions")
    static let findings = CodedConcept("121070", "DCM", "Findings")
    static let impressions = CodedConcept("121072", "DCM", "Impressions")
    /// LOINC section codes of PS3.20's imaging report sections, for what TID 2000 has no concept of its own.
    static let addendum = CodedConcept("55107-7", "LN", "Addendum")
    static let criticalResults = CodedConcept("73568-8", "LN", "Communication of Critical Unexpected Results")
    static let recommendation = CodedConcept("18783-1", "LN", "Radiology Study - Recommendation")
    static let finding = CodedConcept("121071", "DCM", "Finding")
    static let impression = CodedConcept("121073", "DCM", "Impression")
    static let observerType = CodedConcept("121005", "DCM", "Observer Type")
    static let person = CodedConcept("121006", "DCM", "Person")
    static let personObserverName = CodedConcept("121008", "DCM", "Person Observer Name")
    static let requestedProcedureDescription = CodedConcept("121065", "DCM", "Procedure Description")
    static let forTeaching = CodedConcept("113004", "DCM", "For Teaching")
    static let keyObjectDescription = CodedConcept("113012", "DCM", "Key Object Description")

    /// The concept as one item of a Code Sequence.
    func item(_ characterSet: SpecificCharacterSet) -> DataSet {
        var item = DataSet(characterSet: characterSet)
        item.set(.codeValue, .SH, value)
        item.set(.codingSchemeDesignator, .SH, scheme)
        item.set(.codeMeaning, .LO, meaning)
        return item
    }
}

/// Content items of an SR document tree (PS3.3 C.17.3), built by value as Basic Text SR and KOS allow.
enum ContentItem {
    case container(CodedConcept, relationship: String?, children: [ContentItem])
    case text(CodedConcept, relationship: String, String)
    case code(CodedConcept, relationship: String, CodedConcept)
    case personName(CodedConcept, relationship: String, String)
    case image(relationship: String, sopClassUID: String, sopInstanceUID: String)

    /// The item's attributes; the root container's go straight into the document, children's into Content Sequence items.
    func attributes(_ characterSet: SpecificCharacterSet) -> DataSet {
        var item = DataSet(characterSet: characterSet)
        func relationship(_ type: String?) { if let type { item.set(.relationshipType, .CS, type) } }
        func concept(_ name: CodedConcept) { item.set(.conceptNameCodeSequence, items: [name.item(characterSet)]) }
        switch self {
        case .container(let name, let type, let children):
            relationship(type)
            item.set(.valueType, .CS, "CONTAINER")
            concept(name)
            item.set(.continuityOfContent, .CS, "SEPARATE")
            if !children.isEmpty { item.set(.contentSequence, items: children.map { $0.attributes(characterSet) }) }
        case .text(let name, let type, let text):
            relationship(type)
            item.set(.valueType, .CS, "TEXT")
            concept(name)
            item.set(.textValue, .UT, text)
        case .code(let name, let type, let code):
            relationship(type)
            item.set(.valueType, .CS, "CODE")
            concept(name)
            item.set(.conceptCodeSequence, items: [code.item(characterSet)])
        case .personName(let name, let type, let person):
            relationship(type)
            item.set(.valueType, .CS, "PNAME")
            concept(name)
            item.set(.personName, .PN, person)
        case .image(let type, let sopClass, let sopInstance):
            relationship(type)
            item.set(.valueType, .CS, "IMAGE")
            var reference = DataSet(characterSet: characterSet)
            reference.set(.referencedSOPClassUID, .UI, sopClass)
            reference.set(.referencedSOPInstanceUID, .UI, sopInstance)
            item.set(.referencedSOPSequence, items: [reference])
        }
        return item
    }
}

/// The modules every SR document of a study shares: Patient, General Study, the document series, General Equipment and
/// SOP Common (PS3.3 A.35.1, A.35.4).
enum SRDocumentHeader {
    static func make(
        study: ReportDocument.Study, sopClassUID: String, sopInstanceUID: String, seriesInstanceUID: String, modality: String,
        seriesNumber: Int, instanceNumber: Int, content: Date, institution: String
    ) -> DataSet {
        var ds = DataSet(characterSet: .utf8)
        ds.set(.specificCharacterSet, .CS, "ISO_IR 192")
        ds.set(.sopClassUID, .UI, sopClassUID)
        ds.set(.sopInstanceUID, .UI, sopInstanceUID)
        let (date, time) = dicomDateTime(content)
        ds.set(.instanceCreationDate, .DA, date)
        ds.set(.instanceCreationTime, .TM, time)
        ds.set(.studyDate, .DA, study.studyDate ?? "")
        ds.set(.studyTime, .TM, study.studyTime ?? "")
        ds.set(.contentDate, .DA, date)
        ds.set(.contentTime, .TM, time)
        ds.set(.accessionNumber, .SH, study.accessionNumber ?? "")
        ds.set(.modality, .CS, modality)
        ds.set(.manufacturer, .LO, "Atrium")
        ds.set(.institutionName, .LO, String(institution.prefix(64)))
        ds.set(.referringPhysicianName, .PN, study.referringPhysicianName ?? "")
        ds.set(.studyDescription, .LO, study.studyDescription ?? "")
        ds.set(.referencedPerformedProcedureStepSequence, items: [])
        ds.set(.patientName, .PN, study.patientName)
        ds.set(.patientID, .LO, study.patientID)
        ds.set(.patientBirthDate, .DA, study.patientBirthDate ?? "")
        ds.set(.patientSex, .CS, study.patientSex ?? "")
        ds.set(.studyInstanceUID, .UI, study.studyInstanceUID)
        ds.set(.seriesInstanceUID, .UI, seriesInstanceUID)
        ds.set(.studyID, .SH, study.studyID ?? "")
        ds.set(.seriesNumber, .IS, String(seriesNumber))
        ds.set(.instanceNumber, .IS, String(instanceNumber))
        return ds
    }

    /// Current Requested Procedure Evidence Sequence (PS3.3 C.17.2.3): every referenced instance, by study and series.
    static func evidence(_ study: ReportDocument.Study, only: Set<String>? = nil, _ characterSet: SpecificCharacterSet) -> [DataSet] {
        var seriesItems: [DataSet] = []
        for series in study.series {
            let instances = series.instances.filter { only?.contains($0.sopInstanceUID) ?? true }
            guard !instances.isEmpty else { continue }
            var seriesItem = DataSet(characterSet: characterSet)
            seriesItem.set(.seriesInstanceUID, .UI, series.seriesInstanceUID)
            seriesItem.set(
                .referencedSOPSequence,
                items: instances.map { instance in
                    var item = DataSet(characterSet: characterSet)
                    item.set(.referencedSOPClassUID, .UI, instance.sopClassUID)
                    item.set(.referencedSOPInstanceUID, .UI, instance.sopInstanceUID)
                    return item
                })
            seriesItems.append(seriesItem)
        }
        guard !seriesItems.isEmpty else { return [] }
        var studyItem = DataSet(characterSet: characterSet)
        studyItem.set(.studyInstanceUID, .UI, study.studyInstanceUID)
        studyItem.set(.referencedSeriesSequence, items: seriesItems)
        return [studyItem]
    }

    /// The content tree's root: its attributes merged into the document.
    static func merge(_ root: ContentItem, into ds: inout DataSet) {
        for element in root.attributes(ds.characterSet) { ds[element.tag] = element }
    }

    /// DICOM DA and TM values of a time, in UTC+8 (the alliance's local time, as studies record theirs).
    static func dicomDateTime(_ date: Date) -> (String, String) {
        let calendar = AllianceTime.calendar
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let day = String(format: "%04d%02d%02d", c.year ?? 1970, c.month ?? 1, c.day ?? 1)
        let time = String(format: "%02d%02d%02d", c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
        return (day, time)
    }
}
