import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Blobs as files under `root`, at `ab/cd/<uuid>` with the two levels taken from the random UUID, so that no
/// directory grows past 65,536 entries per level on average and no path depends on the object's content.
///
/// A put writes `root/tmp/<uuid>`, fsyncs it, renames it into place and fsyncs the directory, so that after a crash
/// a blob is either whole at its key or absent (a leftover under `tmp/` is swept).
public struct FileSystemBlobStore: BlobStore {
    /// The directory holding the blobs.
    public let root: String

    /// Opens (and creates) a store in `root`.
    public init(root: String) throws(ArchiveError) {
        self.root = root
        try makeDirectory(root)
        try makeDirectory(root + "/tmp")
    }

    /// The file path of a blob, for readers that stream or memory-map it.
    public func path(of key: BlobKey) -> String { root + "/" + key.rawValue }

    public func put(_ bytes: [UInt8]) async throws(ArchiveError) -> BlobKey {
        try putSync(bytes)
    }

    /// Stores `bytes` without suspending (the write blocks the calling thread).
    public func putSync(_ bytes: [UInt8]) throws(ArchiveError) -> BlobKey {
        let name = UUID().uuidString.lowercased()
        let first = String(name.prefix(2))
        let second = String(name.dropFirst(2).prefix(2))
        let key = BlobKey("\(first)/\(second)/\(name)")
        let temporary = root + "/tmp/" + name
        try writeDurably(temporary, bytes)
        let directory = root + "/" + first + "/" + second
        try makeDirectory(root + "/" + first)
        try makeDirectory(directory)
        if rename(temporary, path(of: key)) != 0 {
            let reason = lastError()
            unlink(temporary)
            throw .storage(path: path(of: key), operation: "rename", reason: reason)
        }
        try syncDirectory(directory)
        return key
    }

    public func put(contentsOf path: String) async throws(ArchiveError) -> BlobKey {
        try putSync(try readWholeFile(path))
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

/// Creates a directory if it is missing, and fsyncs its parent so that the new entry survives a crash.
private func makeDirectory(_ path: String) throws(ArchiveError) {
    if mkdir(path, 0o755) == 0 {
        let parent = (path as NSString).deletingLastPathComponent
        try syncDirectory(parent.isEmpty ? "." : parent)
        return
    }
    if errno == EEXIST { return }
    if errno == ENOENT {
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty && parent != path {
            try makeDirectory(parent)
            try makeDirectory(path)
            return
        }
    }
    throw .storage(path: path, operation: "mkdir", reason: lastError())
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
