import Archive
import DICOM
import DICOMNetwork
import Foundation
import Logging
import NIOCore

/// Stores C-STORE requests in the archive: the data set is parsed strictly, and success is answered only once the blob is
/// durable and the index row committed (``Archive/store(_:source:name:)``).
public struct ArchiveStorageProvider: StorageProvider {
    let archive: Archive
    let peers: ConfiguredPeers
    let logger: Logger
    let access: DIMSEAccess?

    /// Creates a provider storing into `archive`; `peers` gives the sending institution of known callers, `access` (when
    /// set) the database's peer mapping and the audit trail.
    public init(
        archive: Archive, peers: ConfiguredPeers, logger: Logger = Logger(label: "atrium.dimse.storage"), access: DIMSEAccess? = nil
    ) {
        self.archive = archive
        self.peers = peers
        self.logger = logger
        self.access = access
    }

    /// Stores one instance and answers with the C-STORE status (PS3.4 B.2.3).
    public func store(_ request: StoreRequest) async -> DIMSEStatus {
        let prefix = DataSetCoding.part10Prefix(
            sopClassUID: request.sopClassUID, sopInstanceUID: request.sopInstanceUID, transferSyntaxUID: request.transferSyntaxUID,
            sourceAETitle: request.callingAETitle)
        // The Part 10 file in one buffer, made with one copy of the data set, then parsed and written where it lies.
        let bytes = prefix.withUnsafeBytes { head in
            request.dataSet.withUnsafeReadableBytes { body in ByteStorage(joining: [head, body]) }
        }
        let institution = await access?.institution(aeTitle: request.callingAETitle) ?? peers.institution(aeTitle: request.callingAETitle)
        let source = SourceInfo(applicationEntityTitle: request.callingAETitle, institution: institution, transport: .cStore)
        do {
            // The data set must carry the UIDs the command announced; a mismatch is refused before anything is written.
            let outcome = try await archive.store(
                bytes, source: source, name: "C-STORE from \(request.callingAETitle)",
                announced: AnnouncedIdentity(sopClassUID: request.sopClassUID, sopInstanceUID: request.sopInstanceUID))
            await access?.record(
                .instancesTransferred, action: .create, aeTitle: request.callingAETitle, studies: [outcome.studyInstanceUID],
                patient: outcome.patientID)
            return .success
        } catch {
            let status = Self.status(for: error)
            await access?.record(
                .instancesTransferred, action: .create, aeTitle: request.callingAETitle, studies: [], outcome: .seriousFailure,
                detail: "C-STORE refused: \(status)")
            logger.warning(
                "C-STORE refused",
                metadata: [
                    "sopInstanceUID": "\(request.sopInstanceUID)", "calling": "\(request.callingAETitle)", "status": "\(status)",
                    "error": "\(error)",
                ])
            return status
        }
    }

    /// The C-STORE status of an archive failure (PS3.4 B.2.3; PS3.7 C).
    public static func status(for error: ArchiveError) -> DIMSEStatus {
        switch error {
        case .unreadable: .unableToProcess  // C000: cannot understand
        // A900: required UIDs missing or invalid, or not those of the command (PS3.4 B.2.3)
        case .invalidIdentifier: .dataSetDoesNotMatchSOPClass
        case .storage, .objectStore: .outOfResources  // A700: the blob could not be written (disk full, permissions, object store)
        // A700 too when the index's disk is full (SQLite's SQLITE_FULL, PostgreSQL's disk_full 53100).
        case .database(_, let code, let message) where code & 0xFF == 13 || message.contains("53100"): .outOfResources
        // A700 when the index's database cannot be reached for now (the sender may try again later).
        case .database(_, _, let message) where message.contains(ArchiveError.unreachableDatabase): .outOfResources
        case .database, .blobNotFound, .unsupportedSchemaVersion, .invalidQuery: .processingFailure  // 0110
        }
    }
}

/// Answers C-FIND from the archive's index, with the same matching engine as QIDO-RS (``ArchiveQuery``).
public struct ArchiveQueryProvider: QueryProvider {
    let archive: Archive
    let aeTitle: String
    let access: DIMSEAccess?

    /// Creates a provider; `aeTitle` is returned as Retrieve AE Title (0008,0054); `access` limits a peer mapped to an
    /// institution to its studies and audits each query.
    public init(archive: Archive, aeTitle: String, access: DIMSEAccess? = nil) {
        self.archive = archive
        self.aeTitle = aeTitle
        self.access = access
    }

    /// The matches at the request's level, each with (0008,0052) and (0008,0054) (PS3.4 C.4.1.1.3.2).
    public func find(_ request: QueryRequest) async throws -> any AsyncSequence<DataSet, any Error> {
        var query = try ArchiveQuery(cFindIdentifier: request.identifier, model: QueryModel(request.model))
        query.institution = await access?.institution(aeTitle: request.callingAETitle)
        await access?.record(
            .query, action: .execute, aeTitle: request.callingAETitle,
            studies: request.identifier.string(.studyInstanceUID).map { [$0] } ?? [], detail: "C-FIND \(request.level.rawValue)")
        let matches = try await archive.metrics.timeQuery(origin: "C-FIND") { () async throws(ArchiveError) in
            try await archive.index.find(query)
        }
        let level = request.level.rawValue
        let retrieveAETitle = aeTitle
        return AsyncThrowingStream<DataSet, any Error> { continuation in
            for var match in matches {
                match.set(.queryRetrieveLevel, .CS, level)
                match.set(.retrieveAETitle, .AE, retrieveAETitle)
                continuation.yield(match)
            }
            continuation.finish()
        }
    }
}

/// Answers C-MOVE and C-GET: the instances from the index, their bytes from the blob store.
public struct ArchiveRetrieveProvider: RetrieveProvider {
    let archive: Archive
    let access: DIMSEAccess?

    /// Creates a provider over `archive`; `access` limits a peer mapped to an institution to its studies and audits each
    /// retrieve.
    public init(archive: Archive, access: DIMSEAccess? = nil) {
        self.archive = archive
        self.access = access
    }

    /// The stored instances under the identifier's unique keys (PS3.4 C.4.2.1.4.1): a list of UIDs at the request's level,
    /// with the keys of the levels above as further restrictions.
    public func instances(for request: RetrieveRequest) async throws -> [RetrievableInstance] {
        let identifier = request.identifier
        func uids(_ tag: Tag) -> [String] { identifier.strings(tag).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        var stored: [StoredInstance] = []
        // A peer mapped to an institution retrieves only that institution's studies.
        let institution = await access?.institution(aeTitle: request.callingAETitle)
        switch request.level {
        case .patient:
            let patientIDs = uids(.patientID)
            guard !patientIDs.isEmpty else { throw ArchiveError.invalidQuery(reason: "a PATIENT level retrieve needs Patient ID") }
            for patientID in patientIDs {
                var studies = DataSet()
                studies.set(.queryRetrieveLevel, .CS, "STUDY")
                studies.set(.patientID, .LO, patientID)
                studies.set(.studyInstanceUID, .UI, "")
                var query = try ArchiveQuery(cFindIdentifier: studies, model: .patientRoot)
                query.institution = institution
                for study in try await archive.index.find(query) {
                    guard let uid = study.string(.studyInstanceUID) else { continue }
                    stored += try await archive.index.instances(
                        studyInstanceUID: uid, seriesInstanceUID: nil, sopInstanceUID: nil, institution: institution)
                }
            }
        case .study:
            let studies = uids(.studyInstanceUID)
            guard !studies.isEmpty else { throw ArchiveError.invalidQuery(reason: "a STUDY level retrieve needs Study Instance UID") }
            for uid in studies {
                stored += try await archive.index.instances(
                    studyInstanceUID: uid, seriesInstanceUID: nil, sopInstanceUID: nil, institution: institution)
            }
        case .series:
            let series = uids(.seriesInstanceUID)
            guard !series.isEmpty else { throw ArchiveError.invalidQuery(reason: "a SERIES level retrieve needs Series Instance UID") }
            let study = uids(.studyInstanceUID).first
            for uid in series {
                stored += try await archive.index.instances(
                    studyInstanceUID: study, seriesInstanceUID: uid, sopInstanceUID: nil, institution: institution)
            }
        case .image:
            let instances = uids(.sopInstanceUID)
            guard !instances.isEmpty else { throw ArchiveError.invalidQuery(reason: "an IMAGE level retrieve needs SOP Instance UID") }
            for uid in instances {
                stored += try await archive.index.instances(
                    studyInstanceUID: nil, seriesInstanceUID: nil, sopInstanceUID: uid, institution: institution)
            }
        }
        var studies: [String] = []
        for instance in stored where !studies.contains(instance.studyInstanceUID) { studies.append(instance.studyInstanceUID) }
        if let access {
            // One event per patient (PS3.15 A.5.3.4 names one), each naming the patient and their studies.
            let detail = "retrieve \(request.level.rawValue): \(stored.count) instances"
            for group in await Self.byPatient(studies, archive: archive) {
                await access.record(
                    .instancesTransferred, action: .read, aeTitle: request.callingAETitle, studies: group.studies,
                    patient: group.patient, detail: detail)
            }
        }
        var seen: Set<String> = []
        return stored.compactMap { instance in
            guard seen.insert(instance.sopInstanceUID).inserted else { return nil }
            return RetrievableInstance(
                sopClassUID: instance.sopClassUID, sopInstanceUID: instance.sopInstanceUID, transferSyntaxUID: instance.transferSyntaxUID,
                location: instance.blobKey.rawValue)
        }
    }

    /// `studies` grouped by their patient's Patient ID, read from the index in one study-level query (one group of no
    /// patient when that fails, so that the retrieve is still audited).
    static func byPatient(_ studies: [String], archive: Archive) async -> [(patient: String?, studies: [String])] {
        guard !studies.isEmpty else { return [] }
        var patientOf: [String: String] = [:]
        if let query = try? ArchiveQuery(
            qidoParameters: [("StudyInstanceUID", studies.joined(separator: ",")), ("includefield", "PatientID")], level: .study),
            let found = try? await archive.index.find(query)
        {
            for result in found {
                if let study = result.string(.studyInstanceUID), let patient = result.string(.patientID) { patientOf[study] = patient }
            }
        }
        var groups: [(patient: String?, studies: [String])] = []
        for study in studies {
            let patient = patientOf[study]
            if let i = groups.firstIndex(where: { $0.patient == patient }) {
                groups[i].studies.append(study)
            } else {
                groups.append((patient, [study]))
            }
        }
        return groups
    }

    /// The data set of the stored blob, after its File Meta Information (every blob is a Part 10 file).
    public func dataSet(of instance: RetrievableInstance) async throws -> ByteBuffer {
        let buffer: ByteBuffer
        switch try await archive.blobs.get(BlobKey(instance.location)) {
        case .file(let path): buffer = ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: path)))
        case .bytes(let bytes): buffer = ByteBuffer(bytes: bytes)
        }
        guard let header = Part10Header(buffer),
            let body = buffer.getSlice(at: buffer.readerIndex + header.dataSetOffset, length: buffer.readableBytes - header.dataSetOffset)
        else { throw ArchiveError.blobNotFound(key: instance.location) }
        return body
    }
}

extension QueryModel {
    init(_ model: QueryRetrieveInformationModel) {
        self = model == .patientRoot ? .patientRoot : .studyRoot
    }
}
