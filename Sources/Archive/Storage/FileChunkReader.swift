#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a byte range of a file in chunks, for ``BlobStore/read(_:range:)`` on local files. The descriptor closes when
/// the reader is released.
final class FileChunkReader: @unchecked Sendable {
    private let fd: Int32
    private let path: String
    private var offset: Int
    private let end: Int
    /// The file's size in bytes.
    let size: Int
    private let chunkBytes = 1 << 20

    init(path: String, range: Range<Int>?) throws(ArchiveError) {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw .storage(path: path, operation: "open", reason: String(cString: strerror(errno))) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            throw .storage(path: path, operation: "stat", reason: String(cString: strerror(errno)))
        }
        size = Int(info.st_size)
        self.path = path
        offset = min(range?.lowerBound ?? 0, size)
        end = max(offset, min(range?.upperBound ?? size, size))
    }

    /// The next chunk, or nil at the end.
    func next() throws -> [UInt8]? {
        guard offset < end else { return nil }
        let chunk = try read(offset: offset, count: min(chunkBytes, end - offset))
        if chunk.isEmpty { return nil }
        offset += chunk.count
        return chunk
    }

    /// Up to `count` bytes at `offset` (fewer at the end of the file).
    func read(offset: Int, count wanted: Int) throws(ArchiveError) -> [UInt8] {
        let count = max(0, min(wanted, size - offset))
        var chunk = [UInt8](repeating: 0, count: count)
        var filled = 0
        var failure: Int32 = 0
        chunk.withUnsafeMutableBytes { raw in
            while filled < count, let base = raw.baseAddress {
                let n = pread(fd, base + filled, count - filled, off_t(offset + filled))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                if n == 0 { break }
                filled += n
            }
        }
        if failure != 0 { throw .storage(path: path, operation: "read", reason: String(cString: strerror(failure))) }
        if filled < count { chunk.removeSubrange(filled...) }
        return chunk
    }

    deinit { close(fd) }
}
