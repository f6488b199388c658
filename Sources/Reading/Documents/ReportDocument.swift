import Foundation

/// What a report says and about what, as the documents made from it need it: the DICOM Basic Text SR stored next to
/// the study, the FHIR R4 DiagnosticReport bundle, and the printed page. The store fills it from a request, its study and
/// a report version; the document makers never read the store.
public struct ReportDocument: Sendable, Equatable {
    /// The patient and study the report is about, as the archive holds them (DICOM values, PN with its groups).
    public struct Study: Sendable, Equatable {
        public var studyInstanceUID: String
        public var patientName: String
        public var patientID: String
        public var patientBirthDate: String?
        public var patientSex: String?
        public var accessionNumber: String?
        public var studyDate: String?
        public var studyTime: String?
        public var studyID: String?
        public var modalities: [String]
        public var studyDescription: String?
        public var referringPhysicianName: String?
        /// Series and instances of the study, for ImagingStudy and for references from the SR.
        public var series: [Series]

        public init(
            studyInstanceUID: String, patientName: String, patientID: String, patientBirthDate: String? = nil,
            patientSex: String? = nil, accessionNumber: String? = nil, studyDate: String? = nil, studyTime: String? = nil,
            studyID: String? = nil, modalities: [String] = [], studyDescription: String? = nil,
            referringPhysicianName: String? = nil, series: [Series] = []
        ) {
            self.studyInstanceUID = studyInstanceUID
            self.patientName = patientName
            self.patientID = patientID
            self.patientBirthDate = patientBirthDate
            self.patientSex = patientSex
            self.accessionNumber = accessionNumber
            self.studyDate = studyDate
            self.studyTime = studyTime
            self.studyID = studyID
            self.modalities = modalities
            self.studyDescription = studyDescription
            self.referringPhysicianName = referringPhysicianName
            self.series = series
        }
    }

    public struct Series: Sendable, Equatable {
        public var seriesInstanceUID: String
        public var modality: String
        public var seriesNumber: Int?
        public var seriesDescription: String?
        public var instances: [Instance]

        public init(
            seriesInstanceUID: String, modality: String, seriesNumber: Int? = nil, seriesDescription: String? = nil,
            instances: [Instance] = []
        ) {
            self.seriesInstanceUID = seriesInstanceUID
            self.modality = modality
            self.seriesNumber = seriesNumber
            self.seriesDescription = seriesDescription
            self.instances = instances
        }
    }

    public struct Instance: Sendable, Equatable {
        public var sopClassUID: String
        public var sopInstanceUID: String
        public var instanceNumber: Int?

        public init(sopClassUID: String, sopInstanceUID: String, instanceNumber: Int? = nil) {
            self.sopClassUID = sopClassUID
            self.sopInstanceUID = sopInstanceUID
            self.instanceNumber = instanceNumber
        }
    }

    /// The consultation request the report answers (FHIR ServiceRequest).
    public struct Request: Sendable, Equatable {
        public var id: String
        /// `routine`, `urgent` or `stat` (FHIR's request-priority codes; `asap` is not used).
        public var priority: String
        public var clinicalHistory: String
        public var question: String
        public var referringPhysician: String
        public var requestingInstitution: String
        public var requestedAt: Date

        public init(
            id: String, priority: String, clinicalHistory: String, question: String, referringPhysician: String,
            requestingInstitution: String, requestedAt: Date
        ) {
            self.id = id
            self.priority = priority
            self.clinicalHistory = clinicalHistory
            self.question = question
            self.referringPhysician = referringPhysician
            self.requestingInstitution = requestingInstitution
            self.requestedAt = requestedAt
        }
    }

    /// One section of the report, in the order it is shown.
    public struct Section: Sendable, Equatable {
        /// The section's kind: `history`, `technique`, `findings`, `impression` or `other`; decides the SR concept name.
        public var kind: String
        /// The heading as the reader sees it (in the report's language).
        public var title: String
        public var text: String

        public init(kind: String, title: String, text: String) {
            self.kind = kind
            self.title = title
            self.text = text
        }
    }

    /// A signed correction or addition to a final report.
    public struct Addendum: Sendable, Equatable {
        public var text: String
        public var author: String
        public var signedAt: Date

        public init(text: String, author: String, signedAt: Date) {
            self.text = text
            self.author = author
            self.signedAt = signedAt
        }
    }

    /// `preliminary`, `final` or `amended` (final with addenda), as FHIR's DiagnosticReport.status names them.
    public enum Status: String, Sendable, Equatable {
        case preliminary, final, amended
    }

    public var study: Study
    public var request: Request
    /// The report's identifier in Atrium (stable across versions).
    public var reportID: String
    /// 1 for the first signed version; each addendum makes the next.
    public var version: Int
    public var status: Status
    public var sections: [Section]
    public var addenda: [Addendum]
    /// Who wrote it (display name) and, once signed, who verified it and when.
    public var author: String
    public var verifier: String?
    public var verifiedAt: Date?
    /// The reading institution (the college or its hospital), for the header and the SR's Institution Name.
    public var readingInstitution: String
    public var createdAt: Date
    /// Critical results communicated for this report, as the text appended to it.
    public var criticalResults: [String]

    public init(
        study: Study, request: Request, reportID: String, version: Int, status: Status, sections: [Section],
        addenda: [Addendum] = [], author: String, verifier: String? = nil, verifiedAt: Date? = nil, readingInstitution: String,
        createdAt: Date, criticalResults: [String] = []
    ) {
        self.study = study
        self.request = request
        self.reportID = reportID
        self.version = version
        self.status = status
        self.sections = sections
        self.addenda = addenda
        self.author = author
        self.verifier = verifier
        self.verifiedAt = verifiedAt
        self.readingInstitution = readingInstitution
        self.createdAt = createdAt
        self.criticalResults = criticalResults
    }
}
