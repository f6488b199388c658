import Foundation

/// What a teaching case says: every field a curator edits, stored whole as each version (JSON) so that history and
/// diffs need no other table.
public struct CaseContent: Sendable, Equatable, Codable {
    public var title: String
    public var clinicalHistory: String
    public var findings: String
    public var diagnosis: String
    /// An optional coded diagnosis, e.g. `ICD-10:J18.1` or `RadLex:RID5350`.
    public var diagnosisCode: String
    public var differentialDiagnosis: String
    public var discussion: String
    public var learningPoints: [String]
    public var references: [String]
    public var certainty: DiagnosticCertainty?
    public var confirmation: Confirmation?
    public var tags: CaseTags
    /// The key images (de-identified instances in the teaching namespace), in the order they are shown.
    public var keyImages: [KeyImage]

    public init(
        title: String, clinicalHistory: String = "", findings: String = "", diagnosis: String = "", diagnosisCode: String = "",
        differentialDiagnosis: String = "", discussion: String = "", learningPoints: [String] = [], references: [String] = [],
        certainty: DiagnosticCertainty? = nil, confirmation: Confirmation? = nil, tags: CaseTags = CaseTags(),
        keyImages: [KeyImage] = []
    ) {
        self.title = title
        self.clinicalHistory = clinicalHistory
        self.findings = findings
        self.diagnosis = diagnosis
        self.diagnosisCode = diagnosisCode
        self.differentialDiagnosis = differentialDiagnosis
        self.discussion = discussion
        self.learningPoints = learningPoints
        self.references = references
        self.certainty = certainty
        self.confirmation = confirmation
        self.tags = tags
        self.keyImages = keyImages
    }
}

/// How sure the diagnosis is (the library's four levels).
public enum DiagnosticCertainty: String, Sendable, Codable, CaseIterable {
    case possible, probable, almostCertain = "almost-certain", certain
}

/// How the diagnosis was confirmed.
public enum Confirmation: String, Sendable, Codable, CaseIterable {
    case histology, followUp = "follow-up", consensus, clinical, other
}

/// Who the case is written for.
public enum Audience: String, Sendable, Codable, CaseIterable {
    case technologist, radiologist, both
}

/// The facets a case is found by.
public struct CaseTags: Sendable, Equatable, Codable {
    public var modalities: [String]
    public var bodyRegion: String
    public var organSystem: String
    public var pathologyCategory: String
    public var audience: Audience
    /// 1 (easiest) to 5.
    public var difficulty: Int
    /// Codes of the college's curriculum items (loaded as CSV).
    public var curriculumItems: [String]
    /// Free tags.
    public var keywords: [String]

    public init(
        modalities: [String] = [], bodyRegion: String = "", organSystem: String = "", pathologyCategory: String = "",
        audience: Audience = .both, difficulty: Int = 3, curriculumItems: [String] = [], keywords: [String] = []
    ) {
        self.modalities = modalities
        self.bodyRegion = bodyRegion
        self.organSystem = organSystem
        self.pathologyCategory = pathologyCategory
        self.audience = audience
        self.difficulty = difficulty
        self.curriculumItems = curriculumItems
        self.keywords = keywords
    }
}

/// A key image of a case, with the annotations drawn on it.
public struct KeyImage: Sendable, Equatable, Codable {
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    public var sopInstanceUID: String
    public var frame: Int?
    public var annotations: [Annotation]

    public init(
        studyInstanceUID: String, seriesInstanceUID: String, sopInstanceUID: String, frame: Int? = nil, annotations: [Annotation] = []
    ) {
        self.studyInstanceUID = studyInstanceUID
        self.seriesInstanceUID = seriesInstanceUID
        self.sopInstanceUID = sopInstanceUID
        self.frame = frame
        self.annotations = annotations
    }
}

/// An annotation in image pixel coordinates: an arrow (two points: tail, head), an ellipse (bounding box corners) or a
/// text label (one point).
public struct Annotation: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable { case arrow, ellipse, text }
    public var kind: Kind
    public var points: [[Double]]
    public var label: String

    public init(kind: Kind, points: [[Double]], label: String = "") {
        self.kind = kind
        self.points = points
        self.label = label
    }
}

/// Where a case is in curation: written (draft), waiting for a second curator (in review), visible to students
/// (published), or withdrawn (retired).
public enum CaseStatus: String, Sendable, Codable, CaseIterable {
    case draft, inReview = "in-review", published, retired
}

/// A case as the store holds it: its latest version's content, and the version students see.
public struct TeachingCase: Sendable, Equatable {
    public var id: Int64
    public var status: CaseStatus
    /// The latest version's number and content (what curators edit).
    public var version: Int
    public var content: CaseContent
    /// The version students see, if one was ever published and the case is not retired.
    public var publishedVersion: Int?
    public var authors: [String]
    public var contributingInstitution: String
    /// Where the case came from: a consultation's KOS "For Teaching", an upload, or a form without images.
    public var source: String
    public var createdAt: Date
    public var updatedAt: Date
    /// The optimistic lock: bumped by every change.
    public var revision: Int64

    public init(
        id: Int64, status: CaseStatus, version: Int, content: CaseContent, publishedVersion: Int?, authors: [String],
        contributingInstitution: String, source: String, createdAt: Date, updatedAt: Date, revision: Int64
    ) {
        self.id = id
        self.status = status
        self.version = version
        self.content = content
        self.publishedVersion = publishedVersion
        self.authors = authors
        self.contributingInstitution = contributingInstitution
        self.source = source
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.revision = revision
    }
}

/// One saved version of a case.
public struct CaseVersion: Sendable, Equatable {
    public var caseID: Int64
    public var version: Int
    public var content: CaseContent
    public var author: String
    public var note: String
    public var createdAt: Date
}

/// Errors of the teaching library, each with what a person needs to act on it.
public enum TeachingError: Error, Equatable, CustomStringConvertible {
    case notFound(Int64)
    /// No flagged case (queue entry) has this id.
    case flaggedNotFound(Int64)
    case invalid(String)
    case notAllowed(String)
    /// Someone else changed the case since it was read.
    case conflict(Int64)
    case database(String)

    public var description: String {
        switch self {
        case .notFound(let id): "teaching case \(id) does not exist"
        case .flaggedNotFound(let id): "flagged case \(id) does not exist"
        case .invalid(let why): "invalid teaching case: \(why)"
        case .notAllowed(let why): "not allowed: \(why)"
        case .conflict(let id): "teaching case \(id) was changed by someone else; reload and try again"
        case .database(let message): "teaching store: \(message)"
        }
    }
}
