import DICOM
import Foundation

/// Who sent an object and how: the sending institution stands in for a missing Issuer of Patient ID.
public struct SourceInfo: Sendable, Equatable {
    /// The calling AE title (DIMSE) or the user (STOW-RS, import).
    public var applicationEntityTitle: String?
    /// The sending institution.
    public var institution: String?
    /// How the object arrived.
    public var transport: Transport

    public enum Transport: String, Sendable {
        case cStore = "C-STORE"
        case stowRS = "STOW-RS"
        case importer = "import"
    }

    public init(applicationEntityTitle: String? = nil, institution: String? = nil, transport: Transport) {
        self.applicationEntityTitle = applicationEntityTitle
        self.institution = institution
        self.transport = transport
    }
}

/// What to do when an instance with a stored SOP Instance UID arrives again.
public enum DuplicatePolicy: String, Sendable {
    /// Keep the stored copy and report the second as already stored.
    case ignore
    /// Replace the stored copy and delete its blob.
    case overwrite
}

/// One instance as the index receives it: identifiers, the attributes of each level, and where its blob is.
public struct InstanceRecord: Sendable {
    public var patientID: String
    /// IssuerOfPatientID, or the sending institution (or AE title) when the object has none.
    public var issuerOfPatientID: String
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    public var sopInstanceUID: String
    public var sopClassUID: String
    public var transferSyntaxUID: String
    public var blobKey: BlobKey
    public var sizeBytes: Int
    public var source: SourceInfo
    /// Attributes split by level (``LevelAttributes``).
    public var patient: DataSet
    public var study: DataSet
    public var series: DataSet
    public var instance: DataSet
    /// The pyramid facts of a VL Whole Slide Microscopy Image (``SlideIndexing``), kept in the slide table.
    public var slide: SlideDescription?
    /// Where the frames of that image lie (positions, byte ranges in the blob).
    public var slideFrames = SlideFrameMap()

    /// Builds the record of a parsed object. `blob` is the stored blob the data set was parsed from, for the byte
    /// ranges of a whole-slide image's frames (``SlideIndexing/describe(_:transferSyntax:blob:)``).
    public init(
        dataSet: DataSet, transferSyntaxUID: String, blobKey: BlobKey, sizeBytes: Int, source: SourceInfo, blob: BlobBytes? = nil
    ) {
        let parts = LevelAttributes.split(dataSet)
        patientID = dataSet.string(.patientID) ?? ""
        let issuer = dataSet.string(.issuerOfPatientID) ?? source.institution ?? source.applicationEntityTitle ?? ""
        issuerOfPatientID = issuer
        studyInstanceUID = dataSet.string(.studyInstanceUID) ?? ""
        seriesInstanceUID = dataSet.string(.seriesInstanceUID) ?? ""
        sopInstanceUID = dataSet.string(.sopInstanceUID) ?? ""
        sopClassUID = dataSet.string(.sopClassUID) ?? ""
        self.transferSyntaxUID = transferSyntaxUID
        self.blobKey = blobKey
        self.sizeBytes = sizeBytes
        self.source = source
        patient = parts.patient
        if !issuer.isEmpty && !patient.contains(.issuerOfPatientID) {
            // The sending institution is kept as the issuer (the index's copy only; the blob is untouched).
            patient.set(.issuerOfPatientID, .LO, issuer)
        }
        study = parts.study
        series = parts.series
        instance = parts.instance
        if let (description, frames) = SlideIndexing.describe(dataSet, transferSyntax: TransferSyntax(uid: transferSyntaxUID), blob: blob) {
            slide = description
            slideFrames = frames
        }
    }
}

/// What the index did with an instance.
public enum IndexInsertResult: Sendable, Equatable {
    /// A new instance; `conflict` is set when its patient key matched a patient with another name or birth date.
    case inserted(conflict: PatientConflict?)
    /// The SOP Instance UID was already stored and the policy kept the old copy.
    case alreadyStored(existingBlob: BlobKey)
    /// The stored copy was replaced; its blob is no longer referenced.
    case replaced(previousBlob: BlobKey, conflict: PatientConflict?)
}

/// A patient key seen with demographics that differ from the stored patient's (recorded, not merged).
public struct PatientConflict: Sendable, Equatable {
    public var patientID: String
    public var issuerOfPatientID: String
    public var storedName: String
    public var storedBirthDate: String
    public var incomingName: String
    public var incomingBirthDate: String
    public var sopInstanceUID: String
    public var sourceAETitle: String
    public var sourceInstitution: String

    public init(
        patientID: String, issuerOfPatientID: String, storedName: String, storedBirthDate: String, incomingName: String,
        incomingBirthDate: String, sopInstanceUID: String, sourceAETitle: String, sourceInstitution: String
    ) {
        self.patientID = patientID
        self.issuerOfPatientID = issuerOfPatientID
        self.storedName = storedName
        self.storedBirthDate = storedBirthDate
        self.incomingName = incomingName
        self.incomingBirthDate = incomingBirthDate
        self.sopInstanceUID = sopInstanceUID
        self.sourceAETitle = sourceAETitle
        self.sourceInstitution = sourceInstitution
    }
}

/// Where a stored instance is, for retrieval (WADO-RS, C-MOVE, C-GET).
public struct StoredInstance: Sendable, Equatable {
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    public var sopInstanceUID: String
    public var sopClassUID: String
    public var transferSyntaxUID: String
    public var blobKey: BlobKey
    public var sizeBytes: Int
}

/// What to delete: a whole entity and everything below it.
public enum DeletionTarget: Sendable, Equatable {
    case patient(patientID: String, issuerOfPatientID: String?)
    case study(studyInstanceUID: String)
    case series(studyInstanceUID: String?, seriesInstanceUID: String)
    case instance(sopInstanceUID: String)
}

/// How many entities the index holds.
public struct IndexCounts: Sendable, Equatable {
    public var patients: Int
    public var studies: Int
    public var series: Int
    public var instances: Int

    public init(patients: Int, studies: Int, series: Int, instances: Int) {
        self.patients = patients
        self.studies = studies
        self.series = series
        self.instances = instances
    }
}

/// The archive's index: patients, studies, series and instances with the attributes C-FIND and QIDO-RS match
/// and return. One protocol, implemented by ``SQLiteIndex`` (and by PostgreSQL, with the same schema and tests).
///
/// The protocol is `async`: a PostgreSQL client is asynchronous, and several `atrium serve` processes share it, so
/// callers must not assume that an index call returns without suspending. Implementations hold a connection per
/// task (readers) and serialise writers with group commit; queries use the shared ``QueryMatcher``.
public protocol ArchiveIndex: Sendable {
    /// Records an instance; the blob must already be durable. Returns once the row is committed.
    func insert(_ record: InstanceRecord, duplicatePolicy: DuplicatePolicy) async throws(ArchiveError) -> IndexInsertResult
    /// Runs a query (PS3.4 C.4.1, PS3.18 10.6) and returns one dataset per matching entity at the query's level.
    func find(_ query: ArchiveQuery) async throws(ArchiveError) -> [DataSet]
    /// The stored instances below an entity (all of them when every argument is nil).
    func instances(studyInstanceUID: String?, seriesInstanceUID: String?, sopInstanceUID: String?) async throws(ArchiveError)
        -> [StoredInstance]
    /// The stored instances below an entity whose study belongs to `institution` (no restriction when it is nil).
    func instances(studyInstanceUID: String?, seriesInstanceUID: String?, sopInstanceUID: String?, institution: String?)
        async throws(ArchiveError) -> [StoredInstance]
    /// Deletes an entity and all below it, and parents left empty; returns the blobs no longer referenced.
    func delete(_ target: DeletionTarget) async throws(ArchiveError) -> [BlobKey]
    /// Every blob key the index refers to (for the orphan sweep).
    func referencedBlobKeys() async throws(ArchiveError) -> Set<BlobKey>
    /// Recorded patient conflicts, oldest first.
    func patientConflicts() async throws(ArchiveError) -> [PatientConflict]
    /// Entity counts.
    func counts() async throws(ArchiveError) -> IndexCounts
    /// The whole-slide images of a series with their pyramid facts (largest level first), within `institution`'s
    /// studies when it is set.
    func slideInstances(seriesInstanceUID: String, institution: String?) async throws(ArchiveError) -> [IndexedSlideInstance]
}

extension ArchiveIndex {
    public func instances(studyInstanceUID: String?, seriesInstanceUID: String?, sopInstanceUID: String?) async throws(ArchiveError)
        -> [StoredInstance]
    {
        try await instances(
            studyInstanceUID: studyInstanceUID, seriesInstanceUID: seriesInstanceUID, sopInstanceUID: sopInstanceUID, institution: nil)
    }
}

/// The current time as the index records it (`stored_at`, `recorded_at`): ISO 8601 in UTC to the second,
/// `2026-11-28T05:46:58Z`. Formatted by hand: a Foundation date formatter made per row cost a tenth of an ingest's CPU.
func indexTimestamp(_ date: Date = Date()) -> String { utcTimestamp(date, extended: true) }

/// A time in UTC to the second in ISO 8601's extended (`2026-11-28T05:46:58Z`) or basic (`20261128T054658Z`) format.
func utcTimestamp(_ date: Date, extended: Bool) -> String {
    var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
    var parts = tm()
    gmtime_r(&seconds, &parts)
    func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
    let (dash, colon) = extended ? ("-", ":") : ("", "")
    return "\(parts.tm_year + 1900)\(dash)\(two(parts.tm_mon + 1))\(dash)\(two(parts.tm_mday))T"
        + "\(two(parts.tm_hour))\(colon)\(two(parts.tm_min))\(colon)\(two(parts.tm_sec))Z"
}
