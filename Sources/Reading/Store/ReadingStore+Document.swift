import Archive
import DICOM
import Foundation

extension ReportDocument.Study {
    /// The study as the archive's query engine answers for it: the study-level attributes, and the series and instance
    /// levels (for ImagingStudy and the SR's references).
    public init(study: DataSet, series: [DataSet], instances: [DataSet]) {
        let seriesList = series.sorted {
            (Int($0.string(.seriesNumber) ?? "") ?? Int.max) < (Int($1.string(.seriesNumber) ?? "") ?? Int.max)
        }.map { s -> ReportDocument.Series in
            let uid = s.string(.seriesInstanceUID) ?? ""
            return ReportDocument.Series(
                seriesInstanceUID: uid, modality: s.string(.modality) ?? "OT", seriesNumber: s.string(.seriesNumber).flatMap { Int($0) },
                seriesDescription: s.string(.seriesDescription),
                instances: instances.filter { $0.string(.seriesInstanceUID) == uid }.map { i in
                    ReportDocument.Instance(
                        sopClassUID: i.string(.sopClassUID) ?? "", sopInstanceUID: i.string(.sopInstanceUID) ?? "",
                        instanceNumber: i.string(.instanceNumber).flatMap { Int($0) })
                }.sorted { ($0.instanceNumber ?? Int.max) < ($1.instanceNumber ?? Int.max) })
        }
        self.init(
            studyInstanceUID: study.string(.studyInstanceUID) ?? "", patientName: study.string(.patientName) ?? "",
            patientID: study.string(.patientID) ?? "", patientBirthDate: study.string(.patientBirthDate),
            patientSex: study.string(.patientSex), accessionNumber: study.string(.accessionNumber), studyDate: study.string(.studyDate),
            studyTime: study.string(.studyTime), studyID: study.string(.studyID), modalities: study.strings(.modalitiesInStudy),
            studyDescription: study.string(.studyDescription), referringPhysicianName: study.string(.referringPhysicianName),
            series: seriesList)
    }

    /// The study with this UID from the archive (every level), or nil when the archive does not hold it.
    public static func fromArchive(_ archive: Archive, studyInstanceUID uid: String) async throws(ArchiveError) -> ReportDocument.Study? {
        let match = [(name: "StudyInstanceUID", value: uid), (name: "includefield", value: "all")]
        guard let study = try await archive.index.find(try ArchiveQuery(qidoParameters: match, level: .study)).first else { return nil }
        let series = try await archive.index.find(try ArchiveQuery(qidoParameters: match, level: .series))
        let instances = try await archive.index.find(try ArchiveQuery(qidoParameters: match, level: .instance))
        return ReportDocument.Study(study: study, series: series, instances: instances)
    }
}

extension ReadingStore {
    /// The document of a report's signed state at `version` (the latest when nil): what the SR, the FHIR bundle and the
    /// printed page are made from. The sections are those of the final (or, before it, the preliminary) version; the
    /// addenda those signed up to `version`; the critical results as the lines appended to the report.
    public func document(reportID: Int64, version: Int? = nil, study: ReportDocument.Study) async throws(ReadingError) -> ReportDocument {
        let report = try await existingReport(reportID)
        let request = try await existingRequest(report.requestID)
        let versions = try await versions(reportID: reportID).filter { v in version.map { v.version <= $0 } ?? true }
        guard let signed = versions.last(where: { $0.kind != .addendum }) else {
            throw .invalidTransition(action: "make the report's documents", from: "draft")
        }
        let addenda = versions.filter { $0.kind == .addendum }
        let status: ReportDocument.Status =
            signed.kind == .preliminary ? .preliminary : (addenda.isEmpty ? .final : .amended)
        let finalVersions = versions.filter { $0.kind != .preliminary }
        let critical = try await criticalResults(requestID: report.requestID)
        return ReportDocument(
            study: study,
            request: ReportDocument.Request(
                id: String(request.id), priority: request.priority.rawValue, clinicalHistory: request.clinicalHistory,
                question: request.question, referringPhysician: request.referringPhysician, requestingInstitution: request.institutionCode,
                requestedAt: request.createdAt),
            reportID: String(report.id), version: max(finalVersions.count, 1), status: status,
            sections: signed.sections.map { ReportDocument.Section(kind: $0.kind, title: $0.title, text: $0.text) },
            addenda: addenda.map { ReportDocument.Addendum(text: $0.text, author: $0.signedByName, signedAt: $0.signedAt) },
            author: report.authorName, verifier: signed.kind == .final ? signed.signedByName : nil,
            verifiedAt: signed.kind == .final ? signed.signedAt : nil, readingInstitution: settings.readingInstitution,
            createdAt: report.createdAt, criticalResults: critical.map(\.reportLine))
    }
}
