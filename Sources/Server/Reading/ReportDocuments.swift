import Archive
import DICOM
import Foundation
import Logging
import Reading

/// What happens to a report version once it is signed, outside the signing transaction: its DICOM documents are made
/// from its ``ReportDocument`` and stored in the archive next to the study. The signing transaction leaves a row in the
/// store's outbox (``ReadingStore/pendingDocuments()``); this stores the documents and marks the row done, right after
/// signing and again from the maintenance loop (after a crash, on the next start). Storing is idempotent: a version's
/// UIDs were chosen in the signing transaction, so a second attempt makes the same instance.
struct ReportDocuments: Sendable {
    let store: ReadingStore
    let archive: Archive
    let logger: Logger

    /// The document of a report at `version` (the latest when nil), with its request's first study from the archive.
    func document(reportID: Int64, version: Int?) async throws -> ReportDocument {
        let report = try await ReadingRoutes.mapped { try await store.report(id: reportID) }
        guard let report, let request = try await ReadingRoutes.mapped({ try await store.request(id: report.requestID) }) else {
            throw ReadingError.notFound("report \(reportID)")
        }
        var study = ReportDocument.Study(
            studyInstanceUID: request.studies.first ?? "", patientName: request.patientName, patientID: request.patientID,
            accessionNumber: request.accessionNumber.isEmpty ? nil : request.accessionNumber,
            modalities: request.modality.isEmpty ? [] : [request.modality])
        if let uid = request.studies.first, let held = try await ReportDocument.Study.fromArchive(archive, studyInstanceUID: uid) {
            study = held
        }
        return try await ReadingRoutes.mapped { try await store.document(reportID: reportID, version: version, study: study) }
    }

    /// The DICOM objects stored on signing: the one seam where the document makers plug in. Today the report as a Basic
    /// Text SR (``ReportSR``) in the study's own series of reports, each version a new instance naming the one before.
    static func objectsToStore(for document: ReportDocument, pending: PendingDocument) -> [DataSet] {
        [
            ReportSR.dataSet(
                for: document,
                identity: ReportSR.Identity(
                    seriesInstanceUID: pending.seriesInstanceUID, sopInstanceUID: pending.sopInstanceUID,
                    predecessorSOPInstanceUID: pending.predecessorSOPInstanceUID))
        ]
    }

    /// Stores the documents of every signed version still pending, into the requesting institution's study (so that the
    /// site sees its report next to its images).
    /// Stores the documents still pending: all of them (the maintenance round), or those of one report (its sign or
    /// addendum route, which should not store every other report's documents at the same moment as other requests and
    /// the round do: 12 reports signed at once through two processes were stored 91 times before, each copy after the
    /// first a duplicate the archive absorbed).
    func storePending(reportID: Int64? = nil) async {
        var pending: [PendingDocument]
        do {
            pending = try await store.pendingDocuments()
            if let reportID { pending.removeAll { $0.reportID != reportID } }
        } catch {
            logger.error("pending report documents could not be listed", metadata: ["error": "\(error)"])
            return
        }
        for item in pending {
            do {
                guard let report = try await store.report(id: item.reportID), let request = try await store.request(id: report.requestID),
                    !request.studies.isEmpty
                else { continue }
                let document = try await document(reportID: item.reportID, version: item.version)
                for object in Self.objectsToStore(for: document, pending: item) {
                    let bytes = try DICOMFile(dataSet: object).encoded()
                    _ = try await archive.store(
                        bytes,
                        source: SourceInfo(applicationEntityTitle: "ATRIUM", institution: request.institutionCode, transport: .importer),
                        name: "report \(item.reportID) version \(item.version)")
                }
                try await store.markDocumentsStored(reportID: item.reportID, version: item.version)
                logger.info("report documents stored", metadata: ["report": "\(item.reportID)", "version": "\(item.version)"])
            } catch {
                logger.error(
                    "report documents could not be stored",
                    metadata: ["report": "\(item.reportID)", "version": "\(item.version)", "error": "\(error)"])
            }
        }
    }
}

/// A study as the request form and the linker need it: patient, modality and body part, within an institution.
struct StudySummary: Sendable {
    var studyInstanceUID: String
    var patientName: String
    var patientID: String
    var modality: String
    var bodyPart: String
    var accessionNumber: String
    var studyDate: String
    var studyDescription: String

    /// The study with this UID if `institution` holds it.
    static func find(_ archive: Archive, uid: String, institution: String?) async throws -> StudySummary? {
        try await search(archive, [("StudyInstanceUID", uid)], institution: institution).first
    }

    /// Studies matching QIDO parameters within `institution`, newest first, with modality and body part from their series.
    static func search(_ archive: Archive, _ parameters: [(name: String, value: String)], institution: String?, limit: Int = 100)
        async throws -> [StudySummary]
    {
        var query = try ArchiveQuery(qidoParameters: parameters + [("includefield", "all"), ("limit", String(limit))], level: .study)
        query.institution = institution
        var summaries: [StudySummary] = []
        for study in try await archive.index.find(query) {
            let uid = study.string(.studyInstanceUID) ?? ""
            var seriesQuery = try ArchiveQuery(
                qidoParameters: [("StudyInstanceUID", uid), ("includefield", "BodyPartExamined")], level: .series)
            seriesQuery.institution = institution
            let series = try await archive.index.find(seriesQuery)
            summaries.append(
                StudySummary(
                    studyInstanceUID: uid, patientName: study.string(.patientName) ?? "", patientID: study.string(.patientID) ?? "",
                    modality: series.compactMap { $0.string(.modality) }.first ?? study.strings(.modalitiesInStudy).first ?? "",
                    bodyPart: series.compactMap { $0.string(.bodyPartExamined) }.first ?? "",
                    accessionNumber: study.string(.accessionNumber) ?? "", studyDate: study.string(.studyDate) ?? "",
                    studyDescription: study.string(.studyDescription) ?? ""))
        }
        return summaries.sorted { $0.studyDate > $1.studyDate }
    }
}

/// Links studies that arrived after their request: an open request naming an accession number gets every study of its
/// institution with that accession number. Run when requests and the worklist are listed and by the maintenance loop,
/// so a study sent by C-STORE after the request appears on it within seconds without a hook in the ingest path.
struct ReadingLinker: Sendable {
    let store: ReadingStore
    let archive: Archive
    let logger: Logger

    func linkWaitingStudies(institution: String?) async throws {
        let waiting = try await ReadingRoutes.mapped { try await store.requestsAwaitingAccession(institution: institution) }
        let system = ReadingActor(username: "system", displayName: "Atrium", transport: "internal")
        for request in waiting {
            let found: [StudySummary]
            do {
                found = try await StudySummary.search(
                    archive, [("AccessionNumber", request.accessionNumber)], institution: request.institutionCode)
            } catch {
                logger.notice("accession search failed", metadata: ["request": "\(request.id)", "error": "\(error)"])
                continue
            }
            for study in found where !request.studies.contains(study.studyInstanceUID) {
                _ = try await ReadingRoutes.mapped {
                    try await store.linkStudy(
                        requestID: request.id, studyInstanceUID: study.studyInstanceUID, patientName: study.patientName,
                        patientID: study.patientID, modality: study.modality, bodyPart: study.bodyPart, by: system)
                }
            }
        }
    }
}
