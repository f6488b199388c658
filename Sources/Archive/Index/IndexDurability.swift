/// How a committed index row is made to survive a power loss (a process crash loses nothing in either way: a commit
/// is in the operating system's hands when it returns).
public enum IndexDurability: String, Sendable, Equatable {
    /// Every commit is synced to disk before it returns (SQLite `synchronous=FULL`; PostgreSQL's own commit).
    case everyCommit
    /// The blob is the log. Each blob carries its provenance (source, length, checksum) and is synced before its index row
    /// is committed; the commit itself returns without a sync (SQLite `synchronous=NORMAL` in WAL mode), and about once
    /// a second a synced checkpoint records the time up to which the index is on disk. A start after an unclean stop
    /// re-indexes the complete blobs written since that time and removes the rows of that time whose blobs are not whole
    /// (the row is committed while its blob is synced; ``Archive/recoverIndex()``), so an acknowledged
    /// instance survives a power loss with one sync instead of three. Deletions are synced at once and leave a
    /// tombstone, so a deleted instance is never revived. Needs a file-system blob store that keeps extended
    /// attributes, SQLite, and one serving process per data directory (a lock file enforces it).
    case recoverFromBlobs
}

/// An index that can run as ``IndexDurability/recoverFromBlobs``: what ``Archive`` needs to checkpoint and recover it.
public protocol BlobLogIndex: ArchiveIndex {
    /// The durability in effect (``IndexDurability/everyCommit`` when the blob log could not be had).
    var durability: IndexDurability { get }
    /// When the last process writing in blob-log mode did not stop cleanly: the time (seconds since 1970) from which
    /// blobs may be missing from the index. Nil when nothing is to be recovered.
    func pendingRecovery() async -> Double?
    /// Records durably that every commit made so far is on disk, and that blobs written before `syncedThrough` need no
    /// recovery; `clean` says the process is stopping. Does nothing while a recovery is pending.
    func checkpoint(syncedThrough: Double, clean: Bool) async throws(ArchiveError)
    /// Ends a pending recovery (after ``Archive/recoverIndex()`` re-indexed what was missing) with a checkpoint.
    func finishRecovery(syncedThrough: Double) async throws(ArchiveError)
    /// Whether an index row refers to the blob.
    func references(_ key: BlobKey) async throws(ArchiveError) -> Bool
    /// The instances whose rows were committed at or after `since` (seconds since 1970; the index keeps whole seconds).
    func instances(storedSince since: Double) async throws(ArchiveError) -> [StoredInstance]
    /// Blobs deleted recently enough that a crash could leave their files behind, which recovery must not revive.
    func tombstones() async throws(ArchiveError) -> Set<BlobKey>
}
