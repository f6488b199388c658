#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Immutable bytes that values point into: a memory-mapped file or an owned buffer.
///
/// Values read from a file are slices of its mapping, so bulk data is not copied until a caller asks for it.
public final class ByteStorage: @unchecked Sendable {
    /// The first byte.
    public let base: UnsafeRawPointer
    /// The number of bytes.
    public let count: Int
    private let release: Release

    private enum Release {
        case free
        case unmap(UnsafeMutableRawPointer, Int)
        case none
    }

    /// Copies `bytes` into a new buffer (with `memcpy` when they are contiguous, as arrays and slices are).
    public init(_ bytes: some Collection<UInt8>) {
        let n = bytes.count
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(n, 1), alignment: 16)
        let copied: Bool? = bytes.withContiguousStorageIfAvailable { source in
            if let from = source.baseAddress, n > 0 { memory.copyMemory(from: from, byteCount: n) }
            return true
        }
        if copied == nil {
            let buffer = UnsafeMutableRawBufferPointer(start: memory, count: n)
            _ = buffer.initializeMemory(as: UInt8.self, from: bytes)
        }
        base = UnsafeRawPointer(memory)
        count = n
        release = .free
    }

    /// Copies `parts` one after the other into a new buffer (a message assembled from pieces, copied once).
    public convenience init(joining parts: [UnsafeRawBufferPointer]) {
        let n = parts.reduce(0) { $0 + $1.count }
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(n, 1), alignment: 16)
        var offset = 0
        for part in parts {
            guard let from = part.baseAddress, part.count > 0 else { continue }
            (memory + offset).copyMemory(from: from, byteCount: part.count)
            offset += part.count
        }
        self.init(adopting: memory, count: n)
    }

    /// Takes ownership of memory allocated with `UnsafeMutableRawPointer.allocate`.
    init(adopting memory: UnsafeMutableRawPointer, count: Int) {
        base = UnsafeRawPointer(memory)
        self.count = count
        release = .free
    }

    /// Maps a file read-only. Empty files get an empty storage.
    public init(mappingFile path: String) throws(DICOMError) {
        let (fd, size) = try ByteStorage.openRegularFile(path)
        defer { close(fd) }
        if size == 0 {
            let memory = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 16)
            base = UnsafeRawPointer(memory)
            count = 0
            release = .free
            return
        }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw .io(path: path, reason: String(cString: strerror(errno)))
        }
        base = UnsafeRawPointer(mapped)
        count = size
        release = .unmap(mapped, size)
    }

    /// Reads at most `maximumBytes` from the start of a file into memory; `fileSize` tells how big the whole file is.
    /// For small files and header-only reads this is cheaper than mapping (no page-table setup and teardown).
    public static func reading(file path: String, maximumBytes: Int) throws(DICOMError) -> (storage: ByteStorage, fileSize: Int) {
        let (fd, size) = try openRegularFile(path)
        defer { close(fd) }
        let wanted = min(size, maximumBytes)
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(wanted, 1), alignment: 16)
        var done = 0
        while done < wanted {
            let n = pread(fd, memory + done, wanted - done, off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                memory.deallocate()
                throw .io(path: path, reason: reason)
            }
            if n == 0 { break }
            done += n
        }
        return (ByteStorage(adopting: memory, count: done), size)
    }

    /// Opens `path` for reading and returns the descriptor and the file's size; a directory is an error.
    private static func openRegularFile(_ path: String) throws(DICOMError) -> (fd: Int32, size: Int) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw .io(path: path, reason: String(cString: strerror(errno))) }
        var info = stat()
        if fstat(fd, &info) != 0 {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .io(path: path, reason: reason)
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw .io(path: path, reason: "is a directory")
        }
        return (fd, Int(info.st_size))
    }

    deinit {
        switch release {
        case .free: UnsafeMutableRawPointer(mutating: base).deallocate()
        case .unmap(let pointer, let size): munmap(pointer, size)
        case .none: break
        }
    }
}

/// A range of bytes inside a ``ByteStorage``; the value of a primitive data element.
public struct ByteSlice: Sendable, RandomAccessCollection, Equatable, Hashable {
    /// The storage the bytes live in.
    public let storage: ByteStorage
    public let startIndex: Int
    public let endIndex: Int

    /// A slice of `storage`.
    @inlinable public init(storage: ByteStorage, range: Range<Int>) {
        self.storage = storage
        startIndex = range.lowerBound
        endIndex = range.upperBound
    }

    /// New storage holding a copy of `bytes`.
    public init(_ bytes: some Collection<UInt8>) {
        let storage = ByteStorage(bytes)
        self.init(storage: storage, range: 0..<storage.count)
    }

    /// No bytes.
    public static let empty = ByteSlice([])

    @inlinable public subscript(position: Int) -> UInt8 {
        storage.base.load(fromByteOffset: position, as: UInt8.self)
    }

    @inlinable public subscript(bounds: Range<Int>) -> ByteSlice {
        ByteSlice(storage: storage, range: bounds)
    }

    /// Calls `body` with the bytes, without copying.
    @inlinable public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: storage.base + startIndex, count: endIndex - startIndex))
    }

    /// A copy of the bytes as an array.
    public var array: [UInt8] { withUnsafeBytes { Array($0) } }

    public static func == (a: ByteSlice, b: ByteSlice) -> Bool {
        a.count == b.count && a.withUnsafeBytes { x in b.withUnsafeBytes { y in memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 } }
    }

    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
