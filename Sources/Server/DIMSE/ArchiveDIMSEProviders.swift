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

    /// Creates a provider storing into `archive`; `peers` gives the sending institution of known callers.
    public init(archive: Archive, peers: ConfiguredPeers, logger: Logger = Logger(label: "atrium.dimse.storage")) {
        self.archive = archive
        self.peers = peers
        self.logger = logger
    }

    /// Stores one instance and answers with the C-STORE status (PS3.4 B.2.3).
    public func store(_ request: StoreRequest) async -> DIMSEStatus {
        var bytes = DataSetCoding.part10Prefix(
            sopClassUID: request.sopClassUID, sopInstanceUID: request.sopInstanceUID, transferSyntaxUID: request.transferSyntaxUID,
            sourceAETitle: request.callingAETitle)
        bytes.append(contentsOf: request.dataSet.readableBytesView)
        let source = SourceInfo(
            applicationEntityTitle: request.callingAETitle, institution: peers.institution(aeTitle: request.callingAETitle),
            transport: .cStore)
        do {
            let outcome = try await archive.store(bytes, source: source, name: "C-STORE from \(request.callingAETitle)")
            if outcome.sopInstanceUID != request.sopInstanceUID || outcome.sopClassUID != request.sopClassUID {
                logger.warning(
                    "stored data set's SOP UIDs differ from the command's",
                    metadata: ["affectedSOPInstanceUID": "\(request.sopInstanceUID)", "storedSOPInstanceUID": "\(outcome.sopInstanceUID)"])
            }
            return .success
        } catch {
            let status = Self.status(for: error)
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
        case .invalidIdentifier: .dataSetDoesNotMatchSOPClass  // A900: required UIDs missing or invalid
        case .storage: .outOfResources  // A700: the blob could not be written (disk full, permissions)
        case .database, .blobNotFound, .unsupportedSchemaVersion, .invalidQuery: .processingFailure  // 0110
        }
    }
}

/// Answers C-FIND from the archive's index, with the same matching engine as QIDO-RS (``ArchiveQuery``).
public struct ArchiveQueryProvider: QueryProvider {
    let archive: Archive
    let aeTitle: String

    /// Creates a provider; `aeTitle` is returned as Retrieve AE Title (0008,0054).
    public init(archive: Archive, aeTitle: String) {
        self.archive = archive
        self.aeTitle = aeTitle
    }

    /// The matches at the request's level, each with (0008,0052) and (0008,0054) (PS3.4 C.4.1.1.3.2).
    public func find(_ request: QueryRequest) async throws -> any AsyncSequence<DataSet, any Error> {
        let query = try ArchiveQuery(cFindIdentifier: request.identifier, model: QueryModel(request.model))
        let matches = try await archive.index.find(query)
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

    /// Creates a provider over `archive`.
    public init(archive: Archive) {
        self.archive = archive
    }

    /// The stored instances under the identifier's unique keys (PS3.4 C.4.2.1.4.1): a list of UIDs at the request's level,
    /// with the keys of the levels above as further restrictions.
    public func instances(for request: RetrieveRequest) async throws -> [RetrievableInstance] {
        let identifier = request.identifier
        func uids(_ tag: Tag) -> [String] { identifier.strings(tag).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        var stored: [StoredInstance] = []
        switch request.level {
        case .patient:
            let patientIDs = uids(.patientID)
            guard !patientIDs.isEmpty else { throw ArchiveError.invalidQuery(reason: "a PATIENT level retrieve needs Patient ID") }
            for patientID in patientIDs {
                var studies = DataSet()
                studies.set(.queryRetrieveLevel, .CS, "STUDY")
                studies.set(.patientID, .LO, patientID)
                studies.set(.studyInstanceUID, .UI, "")
                for study in try await archive.index.find(ArchiveQuery(cFindIdentifier: studies, model: .patientRoot)) {
                    guard let uid = study.string(.studyInstanceUID) else { continue }
                    stored += try await archive.index.instances(studyInstanceUID: uid, seriesInstanceUID: nil, sopInstanceUID: nil)
                }
            }
        case .study:
            let studies = uids(.studyInstanceUID)
            guard !studies.isEmpty else { throw ArchiveError.invalidQuery(reason: "a STUDY level retrieve needs Study Instance UID") }
            for uid in studies {
                stored += try await archive.index.instances(studyInstanceUID: uid, seriesInstanceUID: nil, sopInstanceUID: nil)
            }
        case .series:
            let series = uids(.seriesInstanceUID)
            guard !series.isEmpty else { throw ArchiveError.invalidQuery(reason: "a SERIES level retrieve needs Series Instance UID") }
            let study = uids(.studyInstanceUID).first
            for uid in series {
                stored += try await archive.index.instances(studyInstanceUID: study, seriesInstanceUID: uid, sopInstanceUID: nil)
            }
        case .image:
            let instances = uids(.sopInstanceUID)
            guard !instances.isEmpty else { throw ArchiveError.invalidQuery(reason: "an IMAGE level retrieve needs SOP Instance UID") }
            for uid in instances {
                stored += try await archive.index.instances(studyInstanceUID: nil, seriesInstanceUID: nil, sopInstanceUID: uid)
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
