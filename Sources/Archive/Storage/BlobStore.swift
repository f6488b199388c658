import DICOM

/// Where a stored object's bytes live: an opaque, generated key such as `ab/cd/<uuid>`, never derived from values
/// inside the object, so that nothing a sender writes can choose or collide with a path.
public struct BlobKey: Hashable, Sendable, CustomStringConvertible {
    /// The key as stored in the index.
    public let rawValue: String

    public init(_ rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }
}

/// The bytes of a blob: a local file that can be streamed or memory-mapped, or bytes already in memory (an object
/// store's response; to pass a large object on without holding it, use ``BlobStore/read(_:range:)``).
public enum BlobContent: Sendable {
    case file(path: String)
    case bytes([UInt8])
}

/// A blob as listed by ``BlobStore/list()``, for the orphan sweep.
public struct BlobListing: Sendable {
    public let key: BlobKey
    /// Seconds since 1970 of the last modification; the sweep leaves recent blobs alone, since another process may
    /// be about to commit their index rows.
    public let modifiedSeconds: Double
    /// The blob's size in bytes, when the listing tells it.
    public var sizeBytes: Int? = nil
}

/// The bytes of an object to store: an array, or the toolkit's ``ByteStorage`` a message was assembled into (written
/// and summed where it lies, without a copy).
public enum BlobBytes: Sendable {
    case array([UInt8])
    case storage(ByteStorage)

    public var count: Int {
        switch self {
        case .array(let bytes): bytes.count
        case .storage(let storage): storage.count
        }
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case .array(let bytes): return try bytes.withUnsafeBytes(body)
        case .storage(let storage):
            return try withExtendedLifetime(storage) { try body(UnsafeRawBufferPointer(start: storage.base, count: storage.count)) }
        }
    }

    /// The bytes as an array (a copy, for a ``ByteStorage``).
    public var array: [UInt8] {
        switch self {
        case .array(let bytes): bytes
        case .storage: withUnsafeBytes { Array($0) }
        }
    }
}

/// What a blob store may keep beside a blob so that the index row can be rebuilt from the blob alone (after a power
/// loss took commits the index had not yet synced: ``IndexDurability/recoverFromBlobs``): where the object came from,
/// and its length and checksum, which tell a complete blob from one whose write the crash cut short.
public struct BlobProvenance: Sendable, Equatable {
    public var source: SourceInfo
    /// The blob's length in bytes.
    public var length: Int
    /// The XXH3-64 checksum (xxHash, seed 0) of the blob's bytes.
    public var checksum: UInt64

    public init(source: SourceInfo, length: Int, checksum: UInt64) {
        self.source = source
        self.length = length
        self.checksum = checksum
    }
}

/// Storage of whole DICOM objects by generated key. `put` returns only once the bytes are durable, so that an index
/// row committed afterwards never points at nothing. A file system and an S3-compatible store both fit: keys are
/// opaque strings, content comes back as a path or as bytes.
public protocol BlobStore: Sendable {
    /// Stores `bytes` durably under a new key.
    func put(_ bytes: [UInt8]) async throws(ArchiveError) -> BlobKey
    /// Stores `bytes` durably under a new key with their provenance, where the store can keep it (a file system store
    /// with extended attributes); others store the bytes alone.
    func put(_ bytes: [UInt8], provenance: BlobProvenance) async throws(ArchiveError) -> BlobKey
    /// Stores a copy of the file at `path` durably under a new key.
    func put(contentsOf path: String) async throws(ArchiveError) -> BlobKey
    /// The content of a blob.
    func get(_ key: BlobKey) async throws(ArchiveError) -> BlobContent
    /// Removes a blob; removing a missing blob is not an error.
    func delete(_ key: BlobKey) async throws(ArchiveError)
    /// Whether a blob exists.
    func exists(_ key: BlobKey) async throws(ArchiveError) -> Bool
    /// Every blob, and partial writes left by a crash, for the orphan sweep.
    func list() async throws(ArchiveError) -> [BlobListing]
    /// The bytes of a blob, or of `range` of them (byte offsets), as chunks that arrive as they are read, so that a
    /// large object is never whole in memory. A range past the end is cut at the end.
    func read(_ key: BlobKey, range: Range<Int>?) async throws(ArchiveError) -> BlobChunks
    /// Checks at startup that the store is reachable and usable (an object store's bucket exists and the credentials
    /// are accepted), so that a misconfiguration stops the server with a clear message instead of failing each store.
    func prepare() async throws(ArchiveError)
    /// Whether ``get(_:)`` answers with bytes fetched over the network: callers that only pass a blob on (WADO-RS)
    /// then stream it with ``read(_:range:)`` instead.
    var isRemote: Bool { get }
}

/// The bytes of a blob in chunks, pulled one at a time (the next chunk is read only when asked for).
public typealias BlobChunks = AsyncThrowingStream<[UInt8], any Error>

extension BlobStore {
    public func prepare() async throws(ArchiveError) {}

    public func put(_ bytes: [UInt8], provenance: BlobProvenance) async throws(ArchiveError) -> BlobKey {
        try await put(bytes)
    }

    public var isRemote: Bool { false }

    /// Reads through ``get(_:)``: a file in chunks of 1 MiB, bytes in memory as one chunk.
    public func read(_ key: BlobKey, range: Range<Int>?) async throws(ArchiveError) -> BlobChunks {
        switch try await get(key) {
        case .bytes(let bytes):
            let lower = min(range?.lowerBound ?? 0, bytes.count)
            let upper = min(range?.upperBound ?? bytes.count, bytes.count)
            let slice = Array(bytes[lower..<max(lower, upper)])
            return AsyncThrowingStream { continuation in
                continuation.yield(slice)
                continuation.finish()
            }
        case .file(let path):
            let reader = try FileChunkReader(path: path, range: range)
            return AsyncThrowingStream(unfolding: { try reader.next() })
        }
    }
}
