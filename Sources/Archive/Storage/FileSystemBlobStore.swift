import CLinux
import CXXHash
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Blobs as files under `root`, at `ab/<uuid>`: 256 bucket directories named by the first two hex digits of a new
/// random UUID, all made when the store is first opened, so that no path depends on the object's content and storing a
/// blob never makes a directory. (Making one costs an inode allocation, the most expensive part of a store on ext4, and
/// the `ab/cd/` layout of earlier versions made a new directory for most of the first few thousand blobs. 256 buckets
/// stay fast far beyond any teaching archive: ext4's hashed directories hold millions of entries each.) Blobs that
/// earlier versions stored under `ab/cd/<uuid>` are still read, listed and deleted by their keys.
///
/// A put writes into a spare file (an empty file made ahead of need, whose name is already synced into its bucket,
/// ``SpareBlobFiles``) and fsyncs it; when no spare is ready it creates the file at its key (exclusively: keys are new
/// random UUIDs), writes and fsyncs it, then fsyncs the bucket directory so that the name is durable too. `put` returns
/// only then, so the index row committed afterwards never points at a missing blob. A crash before that leaves at most a partial file at a key that no
/// index row names: the orphan sweep removes it. (Writing to `tmp/` and renaming into place made each blob wait for
/// more synchronous metadata writes and bought nothing, since readers only reach blobs through committed index rows;
/// `tmp/` is still listed, for leftovers of older versions.)
public struct FileSystemBlobStore: BlobStore {
    /// The directory holding the blobs.
    public let root: String
    /// Empty files made ahead of need, shared by copies of this store.
    private let spares = SpareBlobFiles()

    /// Opens (and creates) a store in `root`, with its bucket directories.
    public init(root: String) throws(ArchiveError) {
        self.root = root
        try makeDirectory(root)
        try makeDirectory(root + "/tmp")
        var made = false
        for bucket in 0..<256 {
            let path = root + "/" + Self.bucketName(bucket)
            if mkdir(path, 0o755) == 0 {
                made = true
            } else if errno != EEXIST {
                throw .storage(path: path, operation: "mkdir", reason: lastError())
            }
        }
        if made { try syncDirectory(root) }
    }

    private static func bucketName(_ bucket: Int) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[bucket >> 4], digits[bucket & 15]])
    }

    /// The file path of a blob, for readers that stream or memory-map it.
    public func path(of key: BlobKey) -> String { root + "/" + key.rawValue }

    /// Writes on a thread of ``BlockingIOPool``, not on the cooperative pool: the fsyncs can take milliseconds.
    public func put(_ bytes: [UInt8]) async throws(ArchiveError) -> BlobKey {
        try await BlockingIOPool.shared.run { () throws(ArchiveError) -> BlobKey in try putSync(bytes) }
    }

    /// Writes the blob with its provenance in the extended attribute `user.atrium.provenance`, synced with the file.
    public func put(_ bytes: [UInt8], provenance: BlobProvenance) async throws(ArchiveError) -> BlobKey {
        try await BlockingIOPool.shared.run { () throws(ArchiveError) -> BlobKey in try putSync(bytes, provenance: provenance) }
    }

    /// Whether the file system keeps user extended attributes (ext4, XFS, btrfs, tmpfs since Linux 6.6 do), so that
    /// blobs can carry their provenance: probed once by writing one on a scratch file in `tmp/`.
    public func keepsProvenance() -> Bool {
        let probe = root + "/tmp/.xattr-probe-" + UUID().uuidString.lowercased()
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return false }
        defer {
            close(fd)
            unlink(probe)
        }
        let value: [UInt8] = Array("probe".utf8)
        return fsetxattr(fd, provenanceAttribute, value, value.count, 0) == 0
    }

    /// The provenance kept with a blob; nil when it has none (stored without, or by a file system that drops it) or
    /// it cannot be read.
    public func provenance(of key: BlobKey) -> BlobProvenance? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = getxattr(path(of: key), provenanceAttribute, &buffer, buffer.count)
        guard n > 0 else { return nil }
        return BlobProvenance(encoded: Array(buffer[0..<n]))
    }

    /// Stores `bytes` without suspending (the write blocks the calling thread). The file is one made ahead of need
    /// (``SpareBlobFiles``), whose name is already durable, so the write needs one fsync; when none is ready, a new file
    /// is made and its directory synced after it.
    public func putSync(_ bytes: [UInt8], provenance: BlobProvenance? = nil) throws(ArchiveError) -> BlobKey {
        let reserved = reserve()
        try writeSync(reserved, .array(bytes), provenance: provenance)
        return reserved.key
    }

    /// A key for a blob about to be written: a spare file's when one is ready, else a new one. Knowing the key before
    /// the write lets the blob log commit the index row while the blob is being synced (``Archive``).
    public func reserve() -> ReservedBlob {
        let now = Date().timeIntervalSince1970
        while let spare = spares.take() {
            // Spares a day old are not used: the orphan sweep removes empty files two days old.
            guard now - spare.created < SpareBlobFiles.maximumAgeSeconds else {
                unlink(path(of: spare.key))
                continue
            }
            return ReservedBlob(key: spare.key, isSpare: true)
        }
        let name = UUID().uuidString.lowercased()
        return ReservedBlob(key: BlobKey(String(name.prefix(2)) + "/" + name), isSpare: false)
    }

    /// Starts writing a reserved blob durably on the blocking-I/O pool and returns at once; await
    /// ``PendingBlobWrite/finished()`` for the outcome.
    public func startWriting(_ reserved: ReservedBlob, _ bytes: BlobBytes, provenance: BlobProvenance?) -> PendingBlobWrite {
        PendingBlobWrite(
            pending: BlockingIOPool.shared.start { () throws(ArchiveError) in try writeSync(reserved, bytes, provenance: provenance) })
    }

    /// Writes a reserved blob durably without suspending: into its spare file (one fsync), or into a new file whose
    /// directory is then synced too.
    func writeSync(_ reserved: ReservedBlob, _ bytes: BlobBytes, provenance: BlobProvenance?) throws(ArchiveError) {
        defer { refillSparesIfLow() }
        let attribute = provenance?.encoded()
        let path = path(of: reserved.key)
        if reserved.isSpare, try writeDurably(path, bytes, attribute: attribute, existing: true) { return }
        // A new file (or a spare that has gone: the key is kept, it may already be in an index row).
        let directory = (path as NSString).deletingLastPathComponent
        // A bucket removed by hand since the store was opened is made again (and synced into the root).
        if access(directory, F_OK) != 0 { try makeDirectory(directory) }
        _ = try writeDurably(path, bytes, attribute: attribute, existing: false)
        try syncDirectory(directory)
    }

    /// Makes a batch of spare files in the background when few are left: all in one bucket (a random one each time),
    /// so that one directory fsync makes all their names durable.
    private func refillSparesIfLow() {
        guard spares.claimRefill() else { return }
        let root = root
        let spares = spares
        BlockingIOPool.shared.enqueue {
            let bucket = String(UUID().uuidString.lowercased().prefix(2))
            let directory = root + "/" + bucket
            let created = Date().timeIntervalSince1970
            let planned = (0..<SpareBlobFiles.batchSize).map { _ in
                SpareBlobFiles.Spare(key: BlobKey(bucket + "/" + UUID().uuidString.lowercased()), created: created)
            }
            spares.reserve(planned.map(\.key))
            var made: [SpareBlobFiles.Spare] = []
            for spare in planned {
                let fd = open(root + "/" + spare.key.rawValue, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
                guard fd >= 0 else { break }
                close(fd)
                made.append(spare)
            }
            if (try? syncDirectory(directory)) == nil {
                for spare in made { unlink(root + "/" + spare.key.rawValue) }
                made = []
            }
            spares.add(made)
        }
    }

    /// Removes the spare files not used (when the server stops), so that they are not left as empty orphans.
    public func releaseSpares() {
        for spare in spares.drain() { unlink(path(of: spare.key)) }
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

    /// Every blob: `ab/<uuid>` files, `ab/cd/<uuid>` files of earlier versions, and leftovers in `tmp/`; not this
    /// store's own spare files (empty files made ahead of need), which are no blobs yet.
    public func list() async throws(ArchiveError) -> [BlobListing] {
        var listings: [BlobListing] = []
        guard let top = directoryEntries(root) else {
            throw .storage(path: root, operation: "list", reason: "cannot read the directory")
        }
        for (first, _) in top.sorted(by: { $0.name < $1.name }) {
            guard let entries = directoryEntries(root + "/" + first) else { continue }
            for (second, isDirectory) in entries.sorted(by: { $0.name < $1.name }) {
                guard isDirectory, first != "tmp" else {
                    listings.append(listing(key: first + "/" + second))
                    continue
                }
                for (name, _) in directoryEntries(root + "/" + first + "/" + second) ?? [] {
                    listings.append(listing(key: first + "/" + second + "/" + name))
                }
            }
        }
        // After the walk: spares made during it were reserved before their files existed.
        let ownSpares = spares.keys()
        return listings.filter { !ownSpares.contains($0.key) }
    }

    private func listing(key: String) -> BlobListing {
        var info = stat()
        guard stat(root + "/" + key, &info) == 0 else { return BlobListing(key: BlobKey(key), modifiedSeconds: 0) }
        return BlobListing(
            key: BlobKey(key), modifiedSeconds: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9,
            sizeBytes: Int(info.st_size))
    }
}

private func lastError() -> String { String(cString: strerror(errno)) }

/// Creates a directory if it is missing (and its missing parents), fsyncing each parent so that the new entry
/// survives a crash. (Also used by ``ArchiveBackup``.)
func makeDirectory(_ path: String) throws(ArchiveError) {
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

/// The names in a directory other than `.` and `..`, each with whether it is a directory; nil when unreadable.
private func directoryEntries(_ path: String) -> [(name: String, isDirectory: Bool)]? {
    guard let stream = opendir(path) else { return nil }
    defer { closedir(stream) }
    var entries: [(name: String, isDirectory: Bool)] = []
    while let entry = readdir(stream) {
        // d_name is a NUL-terminated array of bytes inside the entry.
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if name.isEmpty || name == "." || name == ".." { continue }
        var isDirectory = entry.pointee.d_type == UInt8(DT_DIR)
        if entry.pointee.d_type == UInt8(DT_UNKNOWN) {
            var info = stat()
            isDirectory = stat(path + "/" + name, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
        }
        entries.append((name, isDirectory))
    }
    return entries
}

/// fsyncs a directory, so that the names made in it are durable. (Also used by ``ArchiveBackup``.)
func syncDirectory(_ path: String) throws(ArchiveError) {
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if fd < 0 { throw .storage(path: path, operation: "open directory", reason: lastError()) }
    defer { close(fd) }
    if fsync(fd) != 0 { throw .storage(path: path, operation: "fsync directory", reason: lastError()) }
}

/// The extended attribute holding a blob's ``BlobProvenance``.
private let provenanceAttribute = "user.atrium.provenance"

/// Creates `path` (or, when `existing`, opens the empty spare file there), writes `bytes` and, when given, the
/// provenance attribute, then fsyncs once: the attribute lives in the inode, which the fsync writes with the data.
/// Returns false when an existing file could not be opened (a spare removed meanwhile), having written nothing.
private func writeDurably(_ path: String, _ bytes: BlobBytes, attribute: [UInt8]?, existing: Bool) throws(ArchiveError) -> Bool {
    let fd = existing ? open(path, O_WRONLY | O_CLOEXEC) : open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    if fd < 0 {
        if existing { return false }
        throw .storage(path: path, operation: "create", reason: lastError())
    }
    var failure: String?
    if let attribute, fsetxattr(fd, provenanceAttribute, attribute, attribute.count, 0) != 0 {
        failure = "setting the provenance attribute: " + lastError()
    }
    if failure == nil {
        writeAll(fd, bytes, failure: &failure)
    }
    if failure == nil && fsync(fd) != 0 { failure = lastError() }
    close(fd)
    if let failure {
        unlink(path)
        throw .storage(path: path, operation: "write", reason: failure)
    }
    return true
}

/// A blob write under way (``FileSystemBlobStore/startWriting(_:_:provenance:)``).
public struct PendingBlobWrite: Sendable {
    let pending: PendingIO<Void>

    /// Waits for the write (and its fsync) to end.
    public func finished() async -> Result<Void, ArchiveError> { await pending.value() }
}

/// A blob key handed out before its blob is written (``FileSystemBlobStore/reserve()``).
public struct ReservedBlob: Sendable {
    public let key: BlobKey
    /// Whether the key is a spare file's, already made and synced into its directory.
    let isSpare: Bool
}

/// Empty blob files whose names are already durable, made in batches on the blocking-I/O pool so that a store does
/// not wait for an inode allocation and a directory fsync: the file is there, and one fsync of its data and inode
/// completes it. A spare's key is a blob key like any other; unused spares are removed when the server stops, and the
/// orphan sweep removes empty files left by a crash once they are two days old.
final class SpareBlobFiles: Sendable {
    struct Spare {
        let key: BlobKey
        /// When the file was made (seconds since 1970).
        let created: Double
    }

    static let batchSize = 32
    /// Spares older than this are not used (the sweep removes empty files twice as old).
    static let maximumAgeSeconds = 86_400.0

    private struct State {
        var ready: [Spare] = []
        /// Keys of the batch being made, whose files may already exist.
        var reserved: Set<BlobKey> = []
        var refilling = false
    }

    private let state = Mutex(State())

    func take() -> Spare? { state.withLock { $0.ready.isEmpty ? nil : $0.ready.removeFirst() } }

    /// Whether the caller should make a batch (few left and no batch on the way); claims the batch if so.
    func claimRefill() -> Bool {
        state.withLock { state in
            guard !state.refilling, state.ready.count < Self.batchSize / 2 else { return false }
            state.refilling = true
            return true
        }
    }

    func reserve(_ keys: [BlobKey]) { state.withLock { $0.reserved.formUnion(keys) } }

    /// Adds the batch made (ending the reservation of the whole batch).
    func add(_ spares: [Spare]) {
        state.withLock { state in
            state.ready += spares
            state.reserved = []
            state.refilling = false
        }
    }

    func keys() -> Set<BlobKey> { state.withLock { $0.reserved.union($0.ready.map(\.key)) } }

    func drain() -> [Spare] {
        state.withLock { state in
            defer { state.ready = [] }
            return state.ready
        }
    }
}

private func writeAll(_ fd: Int32, _ bytes: BlobBytes, failure: inout String?) {
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

extension BlobProvenance {
    /// The provenance of `bytes` from `source`: their length and XXH3-64 checksum (xxHash; about 20 GB/s, so that
    /// summing a blob costs far less than writing it).
    public init(of bytes: BlobBytes, source: SourceInfo) {
        let checksum = bytes.withUnsafeBytes { buffer in XXH3_64bits(buffer.baseAddress, buffer.count) }
        self.init(source: source, length: bytes.count, checksum: checksum)
    }

    public init(of bytes: [UInt8], source: SourceInfo) { self.init(of: .array(bytes), source: source) }

    /// Whether `bytes` are the ones this provenance was made from.
    public func matches(_ bytes: [UInt8]) -> Bool {
        bytes.count == length && BlobProvenance(of: bytes, source: source).checksum == checksum
    }

    /// `key=value` lines (values percent-encoded), small enough for an inode's extended attribute space.
    func encoded() -> [UInt8] {
        var fields = ["v=1", "length=\(length)", "xxh3=\(checksum)", "transport=\(escape(source.transport.rawValue))"]
        if let aet = source.applicationEntityTitle { fields.append("aet=" + escape(aet)) }
        if let institution = source.institution { fields.append("institution=" + escape(institution)) }
        return Array(fields.joined(separator: "\n").utf8)
    }

    init?(encoded: [UInt8]) {
        var fields: [String: String] = [:]
        for line in String(decoding: encoded, as: UTF8.self).split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { return nil }
            fields[String(line[..<equals])] = String(line[line.index(after: equals)...]).removingPercentEncoding
        }
        guard fields["v"] == "1", let length = fields["length"].flatMap({ Int($0) }),
            let checksum = fields["xxh3"].flatMap({ UInt64($0) }),
            let transport = fields["transport"].flatMap({ SourceInfo.Transport(rawValue: $0) })
        else { return nil }
        self.init(
            source: SourceInfo(applicationEntityTitle: fields["aet"], institution: fields["institution"], transport: transport),
            length: length, checksum: checksum)
    }
}

private func escape(_ value: String) -> String {
    value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._ "))) ?? ""
}
