import DICOM
import Foundation
import Synchronization

/// The stores between their blob write and their index commit: the blob log's checkpoint may only vouch for the time
/// before the oldest of them began.
final class InFlightStores: Sendable {
    private struct State {
        var next = 0
        var started: [Int: Double] = [:]
    }

    private let state = Mutex(State())

    /// Registers a store starting now, before its blob file is made (so the file's modification time is later).
    func begin() -> Int {
        let now = Date().timeIntervalSince1970
        return state.withLock { state in
            let ticket = state.next
            state.next += 1
            state.started[ticket] = now
            return ticket
        }
    }

    func end(_ ticket: Int) { _ = state.withLock { $0.started.removeValue(forKey: ticket) } }

    /// When the oldest store still in flight began; nil when none is.
    var oldestStart: Double? { state.withLock { $0.started.values.min() } }
}

/// What ``Archive/recoverIndex()`` found.
public struct IndexRecoveryReport: Sendable, Equatable {
    /// Complete blobs whose rows the power loss had taken, indexed again.
    public var reindexed = 0
    /// Blobs of instances deleted before the crash, whose files had come back, removed.
    public var removedDeleted = 0
    /// Blobs without provenance, cut short, or unreadable: never acknowledged, left for the orphan sweep.
    public var incomplete = 0
    /// Rows committed while their blobs were being synced, whose blobs the crash left missing or cut: never
    /// acknowledged, removed.
    public var removedUnwritten = 0
}

extension Archive {
    /// How much earlier than the recorded time recovery looks: file times are kept in whole seconds by some listings and
    /// the kernel's file clock runs a tick behind.
    static let recoveryMarginSeconds = 2.0

    /// The index when it runs as a blob log (``IndexDurability/recoverFromBlobs``), with the file-system store.
    var blobLog: (index: any BlobLogIndex, blobs: FileSystemBlobStore)? {
        guard let index = index as? any BlobLogIndex, index.durability == .recoverFromBlobs,
            let blobs = blobs as? FileSystemBlobStore
        else { return nil }
        return (index, blobs)
    }

    /// After an unclean stop of a blob-log index: indexes again every complete blob written since the last synced
    /// checkpoint that no row refers to (its provenance gives the source; its length and checksum prove it whole), removes
    /// the files of instances deleted before the crash, and leaves incomplete blobs to the orphan sweep. Run before
    /// anything else stores or sweeps. Does nothing when nothing is pending.
    @discardableResult
    public func recoverIndex() async throws(ArchiveError) -> IndexRecoveryReport {
        var report = IndexRecoveryReport()
        guard let (index, store) = blobLog, let since = await index.pendingRecovery() else { return report }
        let started = Date().timeIntervalSince1970
        // Rows of stores in flight at the crash: the row is committed while the blob is synced, so the blob may be
        // missing or cut. A whole blob has its length (and, written by the blob log, its provenance's checksum).
        for instance in try await index.instances(storedSince: since - Self.recoveryMarginSeconds) {
            let path = store.path(of: instance.blobKey)
            let whole: Bool
            if let bytes = try? readWholeFile(path), bytes.count == instance.sizeBytes {
                whole = store.provenance(of: instance.blobKey).map { $0.matches(bytes) } ?? true
            } else {
                whole = false
            }
            if !whole {
                _ = try await index.delete(.instance(sopInstanceUID: instance.sopInstanceUID))
                try await store.delete(instance.blobKey)
                report.removedUnwritten += 1
            }
        }
        let candidates = try await store.list().filter {
            // Empty files are spares that were never written.
            !$0.key.rawValue.hasPrefix("tmp/") && $0.sizeBytes != 0 && $0.modifiedSeconds >= since - Self.recoveryMarginSeconds
        }
        let tombstones = try await index.tombstones()
        for candidate in candidates {
            if try await index.references(candidate.key) { continue }
            if tombstones.contains(candidate.key) {
                try await store.delete(candidate.key)
                report.removedDeleted += 1
                continue
            }
            guard let provenance = store.provenance(of: candidate.key),
                let bytes = try? readWholeFile(store.path(of: candidate.key)), provenance.matches(bytes),
                let file = try? DICOMFile.read(bytes, options: .strict)
            else {
                report.incomplete += 1
                continue
            }
            let record = InstanceRecord(
                dataSet: file.dataSet, transferSyntaxUID: file.transferSyntax.uid, blobKey: candidate.key, sizeBytes: bytes.count,
                source: provenance.source, blob: .array(bytes))
            switch try await index.insert(record, duplicatePolicy: duplicatePolicy) {
            case .inserted: report.reindexed += 1
            case .alreadyStored: try await store.delete(candidate.key)
            case .replaced(let previous, _):
                try await store.delete(previous)
                report.reindexed += 1
            }
        }
        try await index.finishRecovery(syncedThrough: started)
        logger.notice(
            "index recovered from the blob log after an unclean stop",
            metadata: [
                "since": "\(Date(timeIntervalSince1970: since))", "reindexed": "\(report.reindexed)",
                "removedDeleted": "\(report.removedDeleted)", "incomplete": "\(report.incomplete)",
                "removedUnwritten": "\(report.removedUnwritten)",
            ])
        return report
    }

    /// Records durably that the index is on disk up to the oldest store still in flight (or now): called about once a
    /// second while serving, and with `clean` when stopping after the last store. Does nothing unless the index runs as
    /// a blob log.
    public func checkpointIndex(clean: Bool = false) async throws(ArchiveError) {
        if clean, let store = blobs as? FileSystemBlobStore { store.releaseSpares() }
        guard let (index, _) = blobLog else { return }
        let now = Date().timeIntervalSince1970
        try await index.checkpoint(syncedThrough: min(now, inFlight.oldestStart ?? now), clean: clean)
    }

    /// The durability the index runs with.
    public var indexDurability: IndexDurability { blobLog == nil ? .everyCommit : .recoverFromBlobs }
}
