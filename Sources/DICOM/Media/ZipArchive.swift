import CSystemZlib

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a zip archive's bytes come from: a file read with `pread`, or bytes in memory (the fuzzer's).
public protocol ZipSource {
    /// The archive's size.
    var sizeBytes: Int { get }
    /// `count` bytes at `offset`; fewer only at the end.
    func read(at offset: Int, count: Int) throws(ZipError) -> [UInt8]
}

/// A zip archive in memory.
public struct ZipBytesSource: ZipSource {
    let bytes: [UInt8]
    /// Wraps `bytes`.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public var sizeBytes: Int { bytes.count }
    public func read(at offset: Int, count: Int) throws(ZipError) -> [UInt8] {
        guard offset >= 0, count >= 0, offset <= bytes.count else { throw .malformed(offset: offset, reason: "reads past the end") }
        return Array(bytes[offset..<min(bytes.count, offset + count)])
    }
}

/// A zip archive on disk, read with `pread` (the file is never mapped or read whole).
public final class ZipFileSource: ZipSource {
    private let descriptor: Int32
    public let sizeBytes: Int
    /// The path, for errors.
    public let path: String

    /// Opens `path` for reading.
    public init(path: String) throws(ZipError) {
        self.path = path
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .io(path: path, reason: String(cString: strerror(errno))) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            close(descriptor)
            throw .io(path: path, reason: String(cString: strerror(errno)))
        }
        sizeBytes = Int(info.st_size)
    }

    deinit { close(descriptor) }

    public func read(at offset: Int, count: Int) throws(ZipError) -> [UInt8] {
        guard offset >= 0, count >= 0 else { throw .malformed(offset: offset, reason: "reads past the end") }
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        var failure: Int32 = 0
        bytes.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            while done < count {
                let n = pread(descriptor, base + done, count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                if n == 0 { break }
                done += n
            }
        }
        if failure != 0 { throw .io(path: path, reason: String(cString: strerror(failure))) }
        if done < count { bytes.removeSubrange(done...) }
        return bytes
    }
}

/// The caps a zip archive is read under (docs/reliability.md). Sizes an archive declares are checked against them
/// before anything is inflated, and the actual bytes are counted as they grow, so a lying header gains nothing.
public struct ZipLimits: Sendable, Equatable {
    /// Most bytes one entry may hold.
    public var maximumEntryBytes: Int
    /// Most bytes all entries of one archive may hold together.
    public var maximumArchiveBytes: Int
    /// Most bytes an entry may hold per compressed byte (above ``ratioGraceBytes``).
    public var maximumRatio: Int
    /// Entries of at most this size are never refused for their ratio.
    public var ratioGraceBytes: Int
    /// Most entries (files and folders) the central directory may list.
    public var maximumEntries: Int

    /// Creates limits; the defaults take a large CT or MR study on a 24 GiB machine.
    public init(
        maximumEntryBytes: Int = 2 << 30, maximumArchiveBytes: Int = 64 << 30, maximumRatio: Int = 200,
        ratioGraceBytes: Int = 16 << 20, maximumEntries: Int = 100_000
    ) {
        self.maximumEntryBytes = maximumEntryBytes
        self.maximumArchiveBytes = maximumArchiveBytes
        self.maximumRatio = maximumRatio
        self.ratioGraceBytes = ratioGraceBytes
        self.maximumEntries = maximumEntries
    }
}

/// One file of a zip archive, as its central directory describes it (APPNOTE 4.3.12).
public struct ZipEntry: Sendable, Equatable {
    /// The name inside the archive (folders separated by `/`).
    public var name: String
    /// 0 stored, 8 deflated; others are refused.
    public var method: UInt16
    /// General purpose bit flags (bit 0: encrypted).
    public var flags: UInt16
    /// CRC-32 of the uncompressed bytes.
    public var crc32: UInt32
    /// The compressed size the directory declares.
    public var compressedBytes: Int
    /// The uncompressed size the directory declares (checked against the bytes actually inflated).
    public var declaredBytes: Int
    /// Where the entry's local file header starts.
    public var localHeaderOffset: Int

    /// Why `name` is not a safe relative path inside an archive or a medium, or nil when it is: an absolute path
    /// (`/x`, `C:x`, `\\server`), a `..` component, a backslash (a Windows separator APPNOTE 4.4.17 forbids), a NUL,
    /// or a percent-encoded dot, slash, backslash or NUL (`%2e%2e/`), which a later decoding step would turn into
    /// one of the others. Atrium never uses such names as paths, but an archive that holds one was made to attack
    /// something, so its entry is refused (docs/reliability.md, Hostile input).
    public static func pathProblem(_ name: String) -> String? {
        let lower = name.lowercased()
        if name.isEmpty { return "an empty name" }
        if name.hasPrefix("/") { return "an absolute path" }
        if name.utf8.count >= 2, Array(name.utf8)[1] == UInt8(ascii: ":") { return "an absolute path (a drive letter)" }
        if name.contains("\\") { return "a backslash in the path" }
        if name.utf8.contains(0) { return "a NUL byte in the path" }
        for encoded in ["%2e", "%2f", "%5c", "%00", "%25"] where lower.contains(encoded) {
            return "a percent-encoded \(encoded) in the path"
        }
        if name.split(separator: "/", omittingEmptySubsequences: false).contains("..") { return "a .. component that climbs out" }
        return nil
    }
}

/// Which cap a zip entry passed.
public enum ZipCap: String, Sendable, Equatable {
    /// ``ZipLimits/maximumEntryBytes``.
    case entryBytes = "maximumEntryBytes"
    /// ``ZipLimits/maximumArchiveBytes``.
    case archiveBytes = "maximumArchiveBytes"
    /// ``ZipLimits/maximumRatio``.
    case compressionRatio = "maximumCompressionRatio"
    /// The entry holds more than the size it declares (the header lies).
    case declaredSize = "declaredSize"
}

/// Why a zip archive, or one of its entries, could not be read.
public enum ZipError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The archive could not be read from disk.
    case io(path: String, reason: String)
    /// The archive's structure is broken at `offset`.
    case malformed(offset: Int, reason: String)
    /// The central directory lists more entries than ``ZipLimits/maximumEntries``.
    case tooManyEntries(count: Int, limit: Int)
    /// An entry passed a cap: `actualBytes` is what had been inflated when it stopped (nil: refused from its
    /// declared sizes before inflating anything).
    case refused(entry: String, declaredBytes: Int, compressedBytes: Int, actualBytes: Int?, cap: ZipCap, limit: Int)
    /// An entry cannot be read (encrypted, an unknown method, corrupt data, a wrong checksum, overlapping another).
    case unreadable(entry: String, declaredBytes: Int, reason: String)

    public var description: String {
        switch self {
        case .io(let path, let reason): "\(path): \(reason)"
        case .malformed(let offset, let reason): "not a readable zip archive (at byte \(offset)): \(reason)"
        case .tooManyEntries(let count, let limit):
            "the archive lists \(count) entries, more than the cap of \(limit) (maximumArchiveEntries)"
        case .refused(let entry, _, _, _, _, _), .unreadable(let entry, _, _): "\(entry): \(reason)"
        }
    }

    /// The description without the entry's name, for lists that show the name beside it.
    public var reason: String {
        switch self {
        case .refused(_, let declared, let compressed, let actual, let cap, let limit):
            switch cap {
            case .entryBytes:
                "refused: holds \(actual.map { "more than \($0)" } ?? "\(declared) (declared)") bytes, past the per-entry cap of \(limit) bytes (\(cap.rawValue))"
            case .archiveBytes:
                "refused: its \(declared) declared bytes would take the archive past its cap of \(limit) bytes (\(cap.rawValue))"
            case .compressionRatio:
                "refused: declares \(declared) bytes from \(compressed) compressed, past the compression ratio cap of \(limit):1 (\(cap.rawValue))"
            case .declaredSize:
                "refused: declares \(declared) bytes but holds more (inflating stopped at \(actual ?? 0) bytes)"
            }
        case .unreadable(_, let declared, let reason): "\(reason) (\(declared) bytes declared)"
        default: description
        }
    }
}

/// A zip archive read from its central directory (APPNOTE.TXT 6.3.x: stored and deflated entries, ZIP64), one entry
/// at a time, under ``ZipLimits``: each entry streams through a ``BoundedInflater`` to a sink, so memory does not
/// depend on what the archive holds. Entries whose data would overlap another's (the overlapping-file zip bomb) are
/// refused. Not for concurrent use.
public final class ZipArchive {
    /// The regular files, in central directory order (folders and symbolic links left out).
    public let entries: [ZipEntry]
    /// The caps.
    public let limits: ZipLimits
    /// Bytes inflated from this archive so far, against ``ZipLimits/maximumArchiveBytes``.
    public private(set) var inflatedBytes = 0

    private let source: any ZipSource
    private let centralDirectoryOffset: Int
    /// Offsets of entries whose data overlaps the next local header.
    private let overlapping: Set<Int>

    private static let centralDirectoryCap = 256 << 20

    /// Reads the central directory of `source`.
    public init(source: any ZipSource, limits: ZipLimits = ZipLimits()) throws(ZipError) {
        self.source = source
        self.limits = limits
        let size = source.sizeBytes
        // End of central directory record: 22 bytes and a comment of up to 65535 (APPNOTE 4.3.16).
        let tailStart = max(0, size - 22 - 65535)
        let tail = try source.read(at: tailStart, count: size - tailStart)
        guard tail.count >= 22,
            let eocd = stride(from: tail.count - 22, through: 0, by: -1).first(where: { Self.u32(tail, $0) == 0x0605_4b50 })
        else { throw .malformed(offset: size, reason: "no end of central directory record") }
        var count = Int(Self.u16(tail, eocd + 10))
        var directorySize = Int(Self.u32(tail, eocd + 12))
        var directoryOffset = Int(Self.u32(tail, eocd + 16))
        if count == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // ZIP64 end of central directory locator, just before the record (APPNOTE 4.3.15, 4.3.14).
            let locatorAt = tailStart + eocd - 20
            guard locatorAt >= 0 else { throw .malformed(offset: tailStart + eocd, reason: "ZIP64 sizes without a ZIP64 locator") }
            let locator = try source.read(at: locatorAt, count: 20)
            guard locator.count == 20, Self.u32(locator, 0) == 0x0706_4b50 else {
                throw .malformed(offset: locatorAt, reason: "ZIP64 sizes without a ZIP64 locator")
            }
            let recordAt = try Self.offset(Self.u64(locator, 8), at: locatorAt)
            let record = try source.read(at: recordAt, count: 56)
            guard record.count == 56, Self.u32(record, 0) == 0x0606_4b50 else {
                throw .malformed(offset: recordAt, reason: "no ZIP64 end of central directory record")
            }
            count = try Self.offset(Self.u64(record, 32), at: recordAt)
            directorySize = try Self.offset(Self.u64(record, 40), at: recordAt)
            directoryOffset = try Self.offset(Self.u64(record, 48), at: recordAt)
        }
        guard count <= limits.maximumEntries else { throw .tooManyEntries(count: count, limit: limits.maximumEntries) }
        guard directorySize <= Self.centralDirectoryCap, directoryOffset <= size, directorySize <= size - directoryOffset else {
            throw .malformed(offset: directoryOffset, reason: "the central directory (\(directorySize) bytes) does not fit in the file")
        }
        centralDirectoryOffset = directoryOffset
        let directory = try source.read(at: directoryOffset, count: directorySize)
        var files: [ZipEntry] = []
        var spans: [(start: Int, end: Int)] = []
        var at = 0
        for _ in 0..<count {
            guard at + 46 <= directory.count, Self.u32(directory, at) == 0x0201_4b50 else {
                throw .malformed(offset: directoryOffset + at, reason: "a central directory header is missing")
            }
            let madeBy = Self.u16(directory, at + 4)
            let flags = Self.u16(directory, at + 8)
            let method = Self.u16(directory, at + 10)
            let crc = Self.u32(directory, at + 16)
            var compressed = UInt64(Self.u32(directory, at + 20))
            var uncompressed = UInt64(Self.u32(directory, at + 24))
            let nameLength = Int(Self.u16(directory, at + 28))
            let extraLength = Int(Self.u16(directory, at + 30))
            let commentLength = Int(Self.u16(directory, at + 32))
            let external = Self.u32(directory, at + 38)
            var local = UInt64(Self.u32(directory, at + 42))
            let end = at + 46 + nameLength + extraLength + commentLength
            guard end <= directory.count else {
                throw .malformed(offset: directoryOffset + at, reason: "a central directory header is cut")
            }
            let name = String(decoding: directory[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self)
            // ZIP64 extended information: the 8-byte values of the fields that hold 0xFFFFFFFF, in order (APPNOTE 4.5.3).
            var extra = at + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = Self.u16(directory, extra)
                let length = Int(Self.u16(directory, extra + 2))
                guard extra + 4 + length <= extraEnd else { break }
                if id == 0x0001 {
                    var field = extra + 4
                    func next() -> UInt64? {
                        guard field + 8 <= extra + 4 + length else { return nil }
                        defer { field += 8 }
                        return Self.u64(directory, field)
                    }
                    if uncompressed == 0xFFFF_FFFF, let value = next() { uncompressed = value }
                    if compressed == 0xFFFF_FFFF, let value = next() { compressed = value }
                    if local == 0xFFFF_FFFF, let value = next() { local = value }
                }
                extra += 4 + length
            }
            at = end
            let isFolder = name.hasSuffix("/")
            let isLink = madeBy >> 8 == 3 && (external >> 16) & 0o170000 == 0o120000
            let entry = ZipEntry(
                name: name, method: method, flags: flags, crc32: crc,
                compressedBytes: try Self.offset(compressed, at: directoryOffset + at),
                declaredBytes: try Self.offset(uncompressed, at: directoryOffset + at),
                localHeaderOffset: try Self.offset(local, at: directoryOffset + at))
            spans.append((entry.localHeaderOffset, entry.localHeaderOffset + 30 + entry.compressedBytes))
            if !isFolder && !isLink { files.append(entry) }
        }
        // Entries never share bytes in an archive a tool wrote; overlapping ones are how the worst bombs multiply.
        var overlapping: Set<Int> = []
        let sorted = spans.sorted { $0.start < $1.start }
        for (index, span) in sorted.enumerated() {
            let next = index + 1 < sorted.count ? sorted[index + 1].start : directoryOffset
            if span.end > next || (index > 0 && sorted[index - 1].start == span.start) { overlapping.insert(span.start) }
        }
        self.overlapping = overlapping
        entries = files
    }

    /// Streams `entry`'s bytes to `sink` in pieces, checking every cap before the sink sees bytes past it, the
    /// declared size and the CRC-32. Throws ``ZipError`` (and whatever `sink` throws).
    public func extract(_ entry: ZipEntry, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let declared = entry.declaredBytes
        func refuse(_ cap: ZipCap, _ limit: Int, actual: Int? = nil) -> ZipError {
            .refused(
                entry: entry.name, declaredBytes: declared, compressedBytes: entry.compressedBytes, actualBytes: actual, cap: cap,
                limit: limit)
        }
        func unreadable(_ reason: String) -> ZipError { .unreadable(entry: entry.name, declaredBytes: declared, reason: reason) }
        if let problem = ZipEntry.pathProblem(entry.name) { throw unreadable("refused: its name is not a safe relative path (\(problem))") }
        guard entry.flags & 1 == 0 else { throw unreadable("encrypted entries are not read") }
        guard entry.method == 0 || entry.method == 8 else { throw unreadable("compression method \(entry.method) is not supported") }
        guard !overlapping.contains(entry.localHeaderOffset) else { throw unreadable("its data overlaps another entry's (a zip bomb)") }
        guard declared <= limits.maximumEntryBytes else { throw refuse(.entryBytes, limits.maximumEntryBytes) }
        if limits.maximumRatio > 0, declared > limits.ratioGraceBytes,
            InflationLimits.exceedsRatio(declared, compressed: entry.compressedBytes, ratio: limits.maximumRatio)
        {
            throw refuse(.compressionRatio, limits.maximumRatio)
        }
        guard declared <= limits.maximumArchiveBytes - inflatedBytes else { throw refuse(.archiveBytes, limits.maximumArchiveBytes) }
        if entry.method == 0, entry.compressedBytes != declared {
            throw unreadable("a stored entry of \(entry.compressedBytes) bytes declares \(declared)")
        }

        let header = try source.read(at: entry.localHeaderOffset, count: 30)
        guard header.count == 30, Self.u32(header, 0) == 0x0403_4b50 else {
            throw unreadable("no local file header where the directory points")
        }
        let dataStart = entry.localHeaderOffset + 30 + Int(Self.u16(header, 26)) + Int(Self.u16(header, 28))
        guard dataStart <= centralDirectoryOffset, entry.compressedBytes <= centralDirectoryOffset - dataStart else {
            throw unreadable("its data runs into the central directory")
        }

        var crc = CSystemZlib.crc32(0, nil, 0)
        var produced = 0
        func checked(_ chunk: UnsafeRawBufferPointer) throws {
            guard let base = chunk.baseAddress, chunk.count > 0 else { return }
            crc = CSystemZlib.crc32(crc, base.assumingMemoryBound(to: UInt8.self), UInt32(chunk.count))
            produced += chunk.count
            try sink(chunk)
        }
        defer { inflatedBytes += produced }
        // The declared size is the cap: an entry that holds more stops at once. The ratio is checked on the declared sizes
        // above, where it is exact, so a locally very compressible stretch of a real image is not refused.
        var inflater: BoundedInflater? = nil
        if entry.method == 8 {
            do {
                inflater = try BoundedInflater(format: .raw, limits: InflationLimits(maximumBytes: declared, maximumRatio: 0))
            } catch {
                throw unreadable("\(error)")
            }
        }
        var offset = 0
        let chunkBytes = 256 << 10
        while offset < entry.compressedBytes {
            let piece = try source.read(at: dataStart + offset, count: min(chunkBytes, entry.compressedBytes - offset))
            guard !piece.isEmpty else { throw unreadable("the archive ends inside the entry's data") }
            offset += piece.count
            if let inflater {
                do {
                    try piece.withUnsafeBytes { try inflater.feed($0, sink: checked) }
                } catch let error as InflationError {
                    switch error {
                    case .tooLarge(let actual, _): throw refuse(.declaredSize, declared, actual: actual)
                    default: throw unreadable("\(error)")
                    }
                }
                if inflater.isFinished { break }
            } else {
                try piece.withUnsafeBytes { try checked($0) }
            }
        }
        if let inflater, !inflater.isFinished { throw unreadable("the compressed data ends before its end marker") }
        guard produced == declared else { throw unreadable("declares \(declared) bytes but holds \(produced)") }
        guard UInt32(crc) == entry.crc32 else { throw unreadable("CRC-32 mismatch: the data is damaged") }
    }

    /// Reads a whole entry into memory (for small entries; large ones are better streamed to a file).
    public func extract(_ entry: ZipEntry) throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(min(entry.declaredBytes, 1 << 20))
        try extract(entry) { bytes.append(contentsOf: $0) }
        return bytes
    }

    private static func offset(_ value: UInt64, at position: Int) throws(ZipError) -> Int {
        guard value <= UInt64(Int.max / 4) else { throw .malformed(offset: position, reason: "a size or offset of \(value) bytes") }
        return Int(value)
    }

    private static func u16(_ bytes: [UInt8], _ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
    private static func u32(_ bytes: [UInt8], _ at: Int) -> UInt32 { UInt32(u16(bytes, at)) | UInt32(u16(bytes, at + 2)) << 16 }
    private static func u64(_ bytes: [UInt8], _ at: Int) -> UInt64 { UInt64(u32(bytes, at)) | UInt64(u32(bytes, at + 4)) << 32 }
}
