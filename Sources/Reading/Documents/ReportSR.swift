import DICOM
import Foundation
import Platform

/// A report as a DICOM Basic Text SR (PS3.3 A.35.1) following the Basic Diagnostic Imaging Report (TID 2000): one
/// container per section, the author as observer context, the study's instances as evidence, the consultation request
/// as Referenced Request, and, for a version after the first, the earlier version as predecessor.
public enum ReportSR {
    /// The identifiers of the SR instance a report version is stored as.
    public struct Identity: Sendable, Equatable {
        public var seriesInstanceUID: String
        public var sopInstanceUID: String
        /// The SOP Instance UID of the version this one replaces (the same series), for the Predecessor Documents Sequence.
        public var predecessorSOPInstanceUID: String?

        public init(seriesInstanceUID: String, sopInstanceUID: String, predecessorSOPInstanceUID: String? = nil) {
            self.seriesInstanceUID = seriesInstanceUID
            self.sopInstanceUID = sopInstanceUID
            self.predecessorSOPInstanceUID = predecessorSOPInstanceUID
        }
    }

    /// The series number Atrium's reports use, high so that they sort after the images.
    public static let seriesNumber = 9901

    /// The SR data set of `report`. A preliminary report is UNVERIFIED and PARTIAL; a final or amended one VERIFIED
    /// and COMPLETE, with its verifier.
    public static func dataSet(for report: ReportDocument, identity: Identity) -> DataSet {
        var ds = SRDocumentHeader.make(
            study: report.study, sopClassUID: UID.basicTextSRStorage, sopInstanceUID: identity.sopInstanceUID,
            seriesInstanceUID: identity.seriesInstanceUID, modality: "SR", seriesNumber: seriesNumber,
            instanceNumber: report.version, content: report.verifiedAt ?? report.createdAt, institution: report.readingInstitution)
        ds.set(.seriesDescription, .LO, "Consultation report")
        let cs = ds.characterSet
        let verified = report.status != .preliminary && report.verifier != nil
        ds.set(.completionFlag, .CS, verified ? "COMPLETE" : "PARTIAL")
        ds.set(.verificationFlag, .CS, verified ? "VERIFIED" : "UNVERIFIED")
        if verified, let verifier = report.verifier {
            var observer = DataSet(characterSet: cs)
            observer.set(.verifyingObserverName, .PN, verifier)
            observer.set(.verifyingObserverIdentificationCodeSequence, items: [])
            observer.set(.verifyingOrganization, .LO, String(report.readingInstitution.prefix(64)))
            observer.set(.verificationDateTime, .DT, dicomDateTime(report.verifiedAt ?? report.createdAt))
            ds.set(.verifyingObserverSequence, items: [observer])
        }
        if let predecessor = identity.predecessorSOPInstanceUID {
            var instance = DataSet(characterSet: cs)
            instance.set(.referencedSOPClassUID, .UI, UID.basicTextSRStorage)
            instance.set(.referencedSOPInstanceUID, .UI, predecessor)
            var series = DataSet(characterSet: cs)
            series.set(.seriesInstanceUID, .UI, identity.seriesInstanceUID)
            series.set(.referencedSOPSequence, items: [instance])
            var study = DataSet(characterSet: cs)
            study.set(.studyInstanceUID, .UI, report.study.studyInstanceUID)
            study.set(.referencedSeriesSequence, items: [series])
            ds.set(.predecessorDocumentsSequence, items: [study])
        }
        var request = DataSet(characterSet: cs)
        request.set(.studyInstanceUID, .UI, report.study.studyInstanceUID)
        request.set(.referencedStudySequence, items: [])
        request.set(.accessionNumber, .SH, report.study.accessionNumber ?? "")
        request.set(.requestedProcedureID, .SH, String(report.request.id.prefix(16)))
        request.set(.requestedProcedureDescription, .LO, String(report.request.question.prefix(64)))
        request.set(.requestedProcedureCodeSequence, items: [])
        request.set(.placerOrderNumberImagingServiceRequest, .LO, String(report.request.id.prefix(64)))
        request.set(.fillerOrderNumberImagingServiceRequest, .LO, "")
        ds.set(.referencedRequestSequence, items: [request])
        ds.set(.performedProcedureCodeSequence, items: [])
        let evidence = SRDocumentHeader.evidence(report.study, cs)
        if !evidence.isEmpty { ds.set(.currentRequestedProcedureEvidenceSequence, items: evidence) }
        SRDocumentHeader.merge(content(of: report), into: &ds)
        return ds
    }

    /// The content tree: observer context, the request's history, each section, addenda and critical results.
    static func content(of report: ReportDocument) -> ContentItem {
        var children: [ContentItem] = [
            .code(.observerType, relationship: "HAS OBS CONTEXT", .person),
            .personName(.personObserverName, relationship: "HAS OBS CONTEXT", report.author),
        ]
        let history = [report.request.clinicalHistory, report.request.question].filter { !$0.isEmpty }
        if !history.isEmpty, !report.sections.contains(where: { $0.kind == "history" }) {
            children.append(
                .container(
                    .clinicalInformation, relationship: "CONTAINS",
                    children: history.map { .text(.clinicalInformation, relationship: "CONTAINS", $0) }))
        }
        for section in report.sections where !section.text.isEmpty {
            let (heading, entry) = concepts(of: section.kind)
            children.append(
                .container(heading, relationship: "CONTAINS", children: [.text(entry, relationship: "CONTAINS", section.text)]))
        }
        if !report.criticalResults.isEmpty {
            children.append(
                .container(
                    .criticalResults, relationship: "CONTAINS",
                    children: report.criticalResults.map { .text(.criticalResults, relationship: "CONTAINS", $0) }))
        }
        for addendum in report.addenda {
            let stamp = ISO8601DateFormatter.string(
                from: addendum.signedAt, timeZone: AllianceTime.zone, formatOptions: [.withInternetDateTime])
            children.append(
                .container(
                    .addendum, relationship: "CONTAINS",
                    children: [
                        .personName(.personObserverName, relationship: "HAS OBS CONTEXT", addendum.author),
                        .text(.addendum, relationship: "CONTAINS", "\(addendum.text)\n[\(stamp)]"),
                    ]))
        }
        return .container(.diagnosticImagingReport, relationship: nil, children: children)
    }

    /// The section heading and the concept of its text entries (TID 2000's sections; others as findings).
    static func concepts(of kind: String) -> (CodedConcept, CodedConcept) {
        switch kind {
        case "history": (.clinicalInformation, .clinicalInformation)
        case "technique": (.currentProcedureDescriptions, .requestedProcedureDescription)
        case "impression": (.impressions, .impression)
        case "recommendation": (.recommendation, .recommendation)
        default: (.findings, .finding)
        }
    }

    /// A DT value in UTC+8 with its offset.
    static func dicomDateTime(_ date: Date) -> String {
        let (day, time) = SRDocumentHeader.dicomDateTime(date)
        return day + time + "+0800"
    }
}
