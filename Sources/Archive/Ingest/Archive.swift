import DICOM
import Foundation
import Logging
import Synchronization

/// What happened to one stored object.
public struct StoreOutcome: Sendable, Equatable {
    public enum Status: String, Sendable {
        /// A new instance, now durable and indexed.
        case stored
        /// A second copy of a stored instance, kept out under the `ignore` policy.
        case alreadyStored
        /// A second copy that replaced the stored one under the `overwrite` policy.
        case replaced
    }

    public var status: Status
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    public var sopInstanceUID: String
    public var sopClassUID: String
    /// Patient ID (0010,0020) of the stored data set (empty when it has none): audit events name the patient.
    public var patientID: String = ""
    /// The blob now holding the instance.
    public var blobKey: BlobKey
    /// Set when the patient key was known with another name or birth date; the conflict is recorded in the index.
    public var patientConflict: PatientConflict?
}

/// The SOP Class and Instance UIDs a C-STORE request announced in its command (Affected SOP Class UID (0000,0002),
/// Affected SOP Instance UID (0000,1000), PS3.7 9.3.1.1), which the data set must carry.
public struct AnnouncedIdentity: Sendable, Equatable {
    public var sopClassUID: String
    public var sopInstanceUID: String

    public init(sopClassUID: String, sopInstanceUID: String) {
        self.sopClassUID = sopClassUID
        self.sopInstanceUID = sopInstanceUID
    }
}

/// The archive: blob store and index together, with ingest, deletion and the orphan sweep. C-STORE, STOW-RS and
/// `atrium import` all store through ``store(_:source:name:)``.
///
/// An instance is acknowledged only when its blob is durable *and* its index row is committed, in that order: a
/// crash in between leaves an unreferenced blob (removed by ``sweepOrphans(olderThanSeconds:)``), never a row that
/// points at nothing.
public struct Archive: Sendable {
    public let blobs: any BlobStore
    public let index: any ArchiveIndex
    public var duplicatePolicy: DuplicatePolicy
    /// How far a deflated dataset (PS3.5 A.5) may inflate while it is parsed for storing; past it the store fails as
    /// unreadable (``DICOMError/limitExceeded(offset:reason:)``) and nothing is written.
    public var inflationLimits: InflationLimits = .default
    /// Counters of stores and failures (``ArchiveMetrics``); the process-wide metrics factory by default.
    public var metrics = ArchiveMetrics()
    /// Stores between their blob write and their index commit, for the blob log's checkpoints.
    let inFlight = InFlightStores()
    /// Rows of failed stores that could not be removed yet (a full disk refuses the delete too): removed before the next
    /// store.
    let leftRows = LeftRows()
    let logger: Logger

    public init(blobs: any BlobStore, index: any ArchiveIndex, duplicatePolicy: DuplicatePolicy = .ignore, logger: Logger? = nil) {
        self.blobs = blobs
        self.index = index
        self.duplicatePolicy = duplicatePolicy
        self.logger = logger ?? Logger(label: "atrium.archive")
    }

    /// Opens the archive in `directory`: `blobs/`, and the index in `atrium.sqlite` or, when `database` is a
    /// `postgres://user:password@host:port/database` URL, in PostgreSQL (connected and migrated on first use, or by
    /// ``PostgresIndex/prepare()``). When `storage` is an `s3://bucket/prefix` URL the blobs go to that S3-compatible
    /// store instead of `blobs/`, with `storageSettings` and the AWS variables of `environment` (credentials, region,
    /// endpoint); ``BlobStore/prepare()`` then checks the bucket. `durability` asks for the blob log
    /// (``IndexDurability/recoverFromBlobs``), which is had with file-system blobs that keep extended attributes and the
    /// SQLite index when no other process holds it; otherwise every commit is synced.
    public static func open(
        directory: String, database: String? = nil, storage: String? = nil, storageSettings: S3Settings = S3Settings(),
        environment: [String: String] = ProcessInfo.processInfo.environment, duplicatePolicy: DuplicatePolicy = .ignore,
        durability: IndexDurability = .everyCommit
    ) throws(ArchiveError) -> Archive {
        let blobs: any BlobStore
        var blobLogPossible = false
        if let storage, !storage.isEmpty {
            blobs = S3BlobStore(configuration: try S3Configuration(url: storage, settings: storageSettings, environment: environment))
        } else {
            let store = try FileSystemBlobStore(root: directory + "/blobs")
            blobLogPossible = durability == .recoverFromBlobs && store.keepsProvenance()
            blobs = store
        }
        let index: any ArchiveIndex
        switch database?.split(separator: ":", maxSplits: 1).first?.lowercased() {
        case nil:
            index = try SQLiteIndex(path: directory + "/atrium.sqlite", durability: blobLogPossible ? .recoverFromBlobs : .everyCommit)
        case "postgres", "postgresql": index = try PostgresIndex(url: database ?? "")
        case let scheme?:
            throw .database(operation: "open index", code: 0, message: "unknown database URL scheme \(scheme): (expected postgres://)")
        }
        return Archive(blobs: blobs, index: index, duplicatePolicy: duplicatePolicy)
    }

    /// Stores the file at `path`.
    public func store(file path: String, source: SourceInfo) async throws(ArchiveError) -> StoreOutcome {
        try await store(readWholeFile(path), source: source, name: path)
    }

    /// Parses `bytes` strictly, checks the identifying UIDs, writes the blob durably, then commits the index row.
    /// A truncated or non-DICOM stream is an error and nothing is stored. `name` labels errors (a path, a part).
    /// `announced` holds the SOP Class and Instance UIDs a C-STORE request named (Affected SOP Class/Instance UID): a
    /// data set carrying others is refused before anything is written (PS3.4 B.2.3, A900).
    public func store(
        _ bytes: [UInt8], source: SourceInfo, name: String = "upload", announced: AnnouncedIdentity? = nil
    ) async throws(ArchiveError) -> StoreOutcome {
        try await store(.array(bytes), source: source, name: name, announced: announced)
    }

    /// ``store(_:source:name:announced:)`` of bytes in a ``ByteStorage`` (a C-STORE data set assembled once): parsed,
    /// summed and written where they lie.
    public func store(
        _ storage: ByteStorage, source: SourceInfo, name: String = "upload", announced: AnnouncedIdentity? = nil
    ) async throws(ArchiveError) -> StoreOutcome {
        try await store(.storage(storage), source: source, name: name, announced: announced)
    }

    private func store(
        _ bytes: BlobBytes, source: SourceInfo, name: String, announced: AnnouncedIdentity?
    ) async throws(ArchiveError) -> StoreOutcome {
        do {
            let outcome = try await storeUncounted(bytes, source: source, name: name, announced: announced)
            metrics.stored(outcome, sizeBytes: bytes.count, transport: source.transport)
            return outcome
        } catch {
            metrics.failed(error, transport: source.transport)
            throw error
        }
    }

    private func storeUncounted(
        _ bytes: BlobBytes, source: SourceInfo, name: String, announced: AnnouncedIdentity?
    ) async throws(ArchiveError) -> StoreOutcome {
        let file: DICOMFile
        do {
            switch bytes {
            case .array(let array):
                file = try DICOMFile.read(array, options: ReadOptions(toleratesTruncation: false, inflationLimits: inflationLimits))
            case .storage(let storage):
                file = try DICOMFile.read(storage, options: ReadOptions(toleratesTruncation: false, inflationLimits: inflationLimits))
            }
        } catch {
            throw .unreadable(source: name, underlying: error)
        }
        let ds = file.dataSet
        for tag in [Tag.sopClassUID, .sopInstanceUID, .studyInstanceUID, .seriesInstanceUID] {
            guard let uid = ds.string(tag) else {
                throw .invalidIdentifier(source: name, tag: tag, reason: "is missing or empty")
            }
            guard UID.isValid(uid) else {
                throw .invalidIdentifier(source: name, tag: tag, reason: "is not a valid UID")
            }
        }
        if let announced {
            for (tag, value) in [(Tag.sopClassUID, announced.sopClassUID), (.sopInstanceUID, announced.sopInstanceUID)]
            where ds.string(tag) != value {
                throw .invalidIdentifier(
                    source: name, tag: tag, reason: "is \(ds.string(tag) ?? ""), not the \(value) the C-STORE request announced")
            }
        }
        // A stream without File Meta Information is kept as a Part 10 file, so every blob can be served as is.
        let content: BlobBytes
        let reencoded = file.fileMetaInformation.isEmpty
        if reencoded {
            do {
                content = .array(try file.encoded())
            } catch {
                throw .unreadable(source: name, underlying: error)
            }
        } else {
            content = bytes
        }
        let sopInstanceUID = ds.string(.sopInstanceUID) ?? ""
        // A known instance under `ignore` skips the durable write, found by a query first; the blob log skips the query
        // instead (its insert finds the duplicate while the blob is written, which is then removed): second copies are
        // the exception, and the query would cost every first copy.
        if duplicatePolicy == .ignore, blobLog == nil,
            let existing = try await index.instances(studyInstanceUID: nil, seriesInstanceUID: nil, sopInstanceUID: sopInstanceUID).first
        {
            return StoreOutcome(
                status: .alreadyStored, studyInstanceUID: existing.studyInstanceUID, seriesInstanceUID: existing.seriesInstanceUID,
                sopInstanceUID: sopInstanceUID, sopClassUID: existing.sopClassUID, patientID: ds.string(.patientID) ?? "",
                blobKey: existing.blobKey, patientConflict: nil)
        }
        if leftRows.any { await removeLeftRows() }
        let ticket = inFlight.begin()
        defer { inFlight.end(ticket) }
        let key: BlobKey
        let result: IndexInsertResult
        if let (_, store) = blobLog, duplicatePolicy == .ignore {
            // The blob log: the row is committed while the blob is written and synced, and the store is answered when
            // both are done. Until then a crash can leave a row whose blob is not whole; the store is in flight, so its
            // row is newer than the last checkpoint and recovery checks it (``recoverIndex()``).
            let reserved = store.reserve()
            key = reserved.key
            let writing = store.startWriting(reserved, content, provenance: BlobProvenance(of: content, source: source))
            let record = Self.record(file, content: content, reencoded: reencoded, key: key, source: source)
            let inserted: Result<IndexInsertResult, ArchiveError>
            do throws(ArchiveError) {
                inserted = .success(try await index.insert(record, duplicatePolicy: duplicatePolicy))
            } catch {
                inserted = .failure(error)
            }
            let write = await writing.finished()
            switch (inserted, write) {
            case (.success(let outcome), .success):
                result = outcome
            case (.success(let outcome), .failure(let error)):
                try? await blobs.delete(key)
                if case .inserted = outcome { await removeRow(of: sopInstanceUID) }
                throw error
            case (.failure(let error), _):
                try? await blobs.delete(key)
                throw error
            }
        } else {
            key =
                try await blobLog != nil
                ? blobs.put(content.array, provenance: BlobProvenance(of: content, source: source)) : blobs.put(content.array)
            let record = Self.record(file, content: content, reencoded: reencoded, key: key, source: source)
            do {
                result = try await index.insert(record, duplicatePolicy: duplicatePolicy)
            } catch {
                try? await blobs.delete(key)
                throw error
            }
        }
        let studyInstanceUID = ds.string(.studyInstanceUID) ?? ""
        var outcome = StoreOutcome(
            status: .stored, studyInstanceUID: studyInstanceUID, seriesInstanceUID: ds.string(.seriesInstanceUID) ?? "",
            sopInstanceUID: sopInstanceUID, sopClassUID: ds.string(.sopClassUID) ?? "", patientID: ds.string(.patientID) ?? "",
            blobKey: key, patientConflict: nil)
        switch result {
        case .inserted(let conflict):
            outcome.patientConflict = conflict
        case .alreadyStored(let existing):
            try? await blobs.delete(key)
            outcome.status = .alreadyStored
            outcome.blobKey = existing
        case .replaced(let previous, let conflict):
            try? await blobs.delete(previous)
            outcome.status = .replaced
            outcome.patientConflict = conflict
        }
        if outcome.patientConflict != nil {
            logger.warning(
                "patient conflict recorded", metadata: ["sopInstanceUID": "\(sopInstanceUID)", "source": "\(name)"])
        }
        logger.debug(
            "stored", metadata: ["sopInstanceUID": "\(sopInstanceUID)", "status": "\(outcome.status.rawValue)"])
        return outcome
    }

    /// The index record of `file`, stored as `content`. A whole-slide image stored as re-encoded bytes (a C-STORE
    /// data set given its File Meta Information) is parsed again from those bytes, so that the index records where
    /// its frames lie in the blob.
    static func record(_ file: DICOMFile, content: BlobBytes, reencoded: Bool, key: BlobKey, source: SourceInfo) -> InstanceRecord {
        var parsed = file
        if reencoded, file.dataSet.string(.sopClassUID) == UID.vlWholeSlideMicroscopyImageStorage,
            let again = try? DICOMFile.read(content.array)
        {
            parsed = again
        }
        return InstanceRecord(
            dataSet: parsed.dataSet, transferSyntaxUID: file.transferSyntax.uid, blobKey: key, sizeBytes: content.count, source: source,
            blob: content)
    }

    /// Removes the committed row of a store whose blob could not be written. On a full disk the delete can fail like the
    /// write did, until space is freed (the failed blob's own, deleted just before): it is tried again a few times, and
    /// if it still fails the row is kept in ``leftRows`` and removed before the next store.
    func removeRow(of sopInstanceUID: String) async {
        for attempt in 1...5 {
            do throws(ArchiveError) {
                _ = try await index.delete(.instance(sopInstanceUID: sopInstanceUID))
                return
            } catch {
                if attempt == 5 {
                    leftRows.add(sopInstanceUID)
                    logger.error(
                        "the index row of a failed store could not be removed yet; it is retried before the next store",
                        metadata: ["sopInstanceUID": "\(sopInstanceUID)", "error": "\(error)"])
                    return
                }
                try? await Task.sleep(for: .milliseconds(50 * attempt))
            }
        }
    }

    /// Removes the rows ``removeRow(of:)`` could not (their blobs are gone); those that fail again stay listed.
    func removeLeftRows() async {
        for sopInstanceUID in leftRows.take() {
            do throws(ArchiveError) {
                _ = try await index.delete(.instance(sopInstanceUID: sopInstanceUID))
                logger.notice("removed the index row of an earlier failed store", metadata: ["sopInstanceUID": "\(sopInstanceUID)"])
            } catch {
                leftRows.add(sopInstanceUID)
            }
        }
    }

    /// Deletes an entity with everything below it and removes the blobs; returns how many instances went.
    @discardableResult
    public func delete(_ target: DeletionTarget) async throws(ArchiveError) -> Int {
        let keys = try await index.delete(target)
        for key in keys { try await blobs.delete(key) }
        logger.info("deleted", metadata: ["instances": "\(keys.count)"])
        return keys.count
    }

    /// Removes blobs that no index row refers to (left by a crash between blob and commit) and partial writes.
    /// Only blobs older than `olderThanSeconds` go, since another process may be about to commit a newer one, and
    /// none that a pending blob-log recovery may still need (``recoverIndex()``).
    @discardableResult
    public func sweepOrphans(olderThanSeconds: Double = 3600) async throws(ArchiveError) -> Int {
        let listed = try await blobs.list()
        let referenced = try await index.referencedBlobKeys()
        var cutoff = Date().timeIntervalSince1970 - olderThanSeconds
        if let index = index as? any BlobLogIndex, let since = await index.pendingRecovery() {
            cutoff = min(cutoff, since - Self.recoveryMarginSeconds)
        }
        var removed = 0
        // Empty files may be another process's spares (``FileSystemBlobStore``), filled at any moment until they are a
        // day old: only those two days old go.
        let emptyCutoff = min(cutoff, Date().timeIntervalSince1970 - 2 * SpareBlobFiles.maximumAgeSeconds)
        for blob in listed where !referenced.contains(blob.key) && blob.modifiedSeconds <= (blob.sizeBytes == 0 ? emptyCutoff : cutoff) {
            try await blobs.delete(blob.key)
            removed += 1
        }
        if removed > 0 { logger.info("removed orphan blobs", metadata: ["count": "\(removed)"]) }
        return removed
    }
}

/// SOP Instance UIDs whose rows must go (their stores failed after the row was committed), shared by the copies of an
/// ``Archive``.
final class LeftRows: Sendable {
    private let uids = Mutex<Set<String>>([])

    var any: Bool { uids.withLock { !$0.isEmpty } }

    func add(_ uid: String) { _ = uids.withLock { $0.insert(uid) } }

    func take() -> Set<String> {
        uids.withLock { value in
            let taken = value
            value = []
            return taken
        }
    }
}
