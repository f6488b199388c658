import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Blobs as files under `root`, at `ab/cd/<uuid>` with the two levels taken from the random UUID, so that no
/// directory grows past 65,536 entries per level on average and no path depends on the object's content.
///
/// A put creates the file at its key (exclusively: keys are new random UUIDs), writes and fsyncs it, then fsyncs its
/// directory, and each directory above it that this process has not yet synced. `put` returns only then,
/// so the index row committed afterwards never points at a missing blob. A crash before that leaves at most a partial
/// file at a key that no index row names: the orphan sweep removes it. (Writing to `tmp/` and renaming into place
/// made each blob wait for more synchronous metadata writes (the rename, then each new directory synced on its own),
/// and bought nothing, since readers only reach blobs through committed index rows; `tmp/` is still listed, for
/// leftovers of older versions.)
public struct FileSystemBlobStore: BlobStore {
    /// The directory holding the blobs.
    public let root: String
    /// Directories whose own entries this process has synced into their parents.
    private let durableDirectories = DurableDirectories()

    /// Opens (and creates) a store in `root`.
    public init(root: String) throws(ArchiveError) {
        self.root = root
        try makeDirectory(root)
        try makeDirectory(root + "/tmp")
    }

    /// The file path of a blob, for readers that stream or memory-map it.
    public func path(of key: BlobKey) -> String { root + "/" + key.rawValue }

    /// Writes on a thread of ``BlockingIOPool``, not on the cooperative pool: the fsyncs can take milliseconds.
    public func put(_ bytes: [UInt8]) async throws(ArchiveError) -> BlobKey {
        try await BlockingIOPool.shared.run { () throws(ArchiveError) -> BlobKey in try putSync(bytes) }
    }

    /// Stores `bytes` without suspending (the write blocks the calling thread).
    public func putSync(_ bytes: [UInt8]) throws(ArchiveError) -> BlobKey {
        let name = UUID().uuidString.lowercased()
        let first = String(name.prefix(2))
        let second = String(name.dropFirst(2).prefix(2))
        let key = BlobKey("\(first)/\(second)/\(name)")
        let parent = root + "/" + first
        let directory = parent + "/" + second
        // The directories are made without syncs of their own: the syncs after the file's cover them, and ext4's
        // fsync of a new file has usually written them already, so those later syncs find little left to do.
        let bucketKnown = durableDirectories.contains(directory)
        let parentKnown = bucketKnown || durableDirectories.contains(parent)
        if !bucketKnown {
            try makeDirectory(parent, sync: false)
            try makeDirectory(directory, sync: false)
        }
        try writeDurably(path(of: key), bytes)
        try syncDirectory(directory)
        if !bucketKnown {
            try syncDirectory(parent)
            durableDirectories.insert(directory)
        }
        if !parentKnown {
            try syncDirectory(root)
            durableDirectories.insert(parent)
        }
        return key
    }

    public func put(contentsOf path: String) async throws(ArchiveError) -> BlobKey {
        try await BlockingIOPool.shared.run { () throws(ArchiveError) -> BlobKey in try putSync(try readWholeFile(path)) }
    }

    public func get(_ key: BlobKey) async throws(ArchiveError) -> BlobContent {
        let file = path(of: key)
        guard access(file, F_OK) == 0 else { throw .blobNotFound(key: key.rawValue) }
        return .file(path: file)
    }

    public func delete(_ key: BlobKey) async throws(ArchiveError) {
        let file = path(of: key)
        if unlink(file) != 0 && errno != ENOENT {
            throw .storage(path: file, operation: "unlink", reason: lastError())
        }
    }

    public func exists(_ key: BlobKey) async throws(ArchiveError) -> Bool {
        access(path(of: key), F_OK) == 0
    }

    public func list() async throws(ArchiveError) -> [BlobListing] {
        var listings: [BlobListing] = []
        let manager = FileManager.default
        guard let top = try? manager.contentsOfDirectory(atPath: root) else {
            throw .storage(path: root, operation: "list", reason: "cannot read the directory")
        }
        for first in top.sorted() {
            let firstPath = root + "/" + first
            guard let seconds = try? manager.contentsOfDirectory(atPath: firstPath) else { continue }
            if first == "tmp" {
                for name in seconds { listings.append(listing(key: "tmp/" + name)) }
                continue
            }
            for second in seconds.sorted() {
                guard let names = try? manager.contentsOfDirectory(atPath: firstPath + "/" + second) else { continue }
                for name in names { listings.append(listing(key: first + "/" + second + "/" + name)) }
            }
        }
        return listings
    }

    private func listing(key: String) -> BlobListing {
        var info = stat()
        let modified = stat(root + "/" + key, &info) == 0 ? Double(info.st_mtim.tv_sec) : 0
        return BlobListing(key: BlobKey(key), modifiedSeconds: modified)
    }
}

private func lastError() -> String { String(cString: strerror(errno)) }

/// Creates a directory if it is missing and, unless `sync` is false (the caller then syncs), fsyncs its parent so that
/// the new entry survives a crash.
private func makeDirectory(_ path: String, sync: Bool = true) throws(ArchiveError) {
    if mkdir(path, 0o755) == 0 {
        let parent = (path as NSString).deletingLastPathComponent
        if sync { try syncDirectory(parent.isEmpty ? "." : parent) }
        return
    }
    if errno == EEXIST { return }
    if errno == ENOENT {
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty && parent != path {
            try makeDirectory(parent, sync: sync)
            try makeDirectory(path, sync: sync)
            return
        }
    }
    throw .storage(path: path, operation: "mkdir", reason: lastError())
}

/// The set of bucket directories already synced into their parents, shared by copies of one store.
private final class DurableDirectories: Sendable {
    private let known = Mutex<Set<String>>([])

    func contains(_ path: String) -> Bool { known.withLock { $0.contains(path) } }

    func insert(_ path: String) { _ = known.withLock { $0.insert(path) } }
}

private func syncDirectory(_ path: String) throws(ArchiveError) {
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if fd < 0 { throw .storage(path: path, operation: "open directory", reason: lastError()) }
    defer { close(fd) }
    if fsync(fd) != 0 { throw .storage(path: path, operation: "fsync directory", reason: lastError()) }
}

private func writeDurably(_ path: String, _ bytes: [UInt8]) throws(ArchiveError) {
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    if fd < 0 { throw .storage(path: path, operation: "create", reason: lastError()) }
    var failure: String?
    bytes.withUnsafeBytes { raw in
        var written = 0
        while written < raw.count, let base = raw.baseAddress {
            let n = write(fd, base + written, raw.count - written)
            if n < 0 {
                if errno == EINTR { continue }
                failure = lastError()
                return
            }
            written += n
        }
    }
    if failure == nil && fsync(fd) != 0 { failure = lastError() }
    close(fd)
    if let failure {
        unlink(path)
        throw .storage(path: path, operation: "write", reason: failure)
    }
}

/// Reads a whole file into memory.
func readWholeFile(_ path: String) throws(ArchiveError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { throw .storage(path: path, operation: "open", reason: lastError()) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw .storage(path: path, operation: "stat", reason: lastError()) }
    let size = Int(info.st_size)
    var bytes = [UInt8](repeating: 0, count: size)
    var total = 0
    var failure: String?
    bytes.withUnsafeMutableBytes { raw in
        while total < size, let base = raw.baseAddress {
            let n = read(fd, base + total, size - total)
            if n < 0 {
                if errno == EINTR { continue }
                failure = lastError()
                return
            }
            if n == 0 { break }
            total += n
        }
    }
    if let failure { throw .storage(path: path, operation: "read", reason: failure) }
    if total < size { bytes.removeSubrange(total...) }
    return bytes
}
