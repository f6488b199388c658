import DICOM
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The regular files of a zip archive, extracted one at a time under ``IntakeLimits`` (not safe for concurrent use:
/// one task reads). Shared by `atrium import` and the web upload. Small entries are inflated into memory, larger ones
/// into a temporary file; either way every cap is checked as the bytes grow and no size the archive declares is
/// trusted for an allocation (docs/reliability.md).
public final class ZipReader {
    /// An extracted entry.
    public enum Extracted: Sendable {
        /// The bytes, in memory.
        case bytes([UInt8])
        /// A temporary file holding them, which the caller removes.
        case file(path: String, sizeBytes: Int)

        /// Its size.
        public var sizeBytes: Int {
            switch self {
            case .bytes(let bytes): bytes.count
            case .file(_, let size): size
            }
        }

        /// The bytes (a temporary file is read, then removed).
        public func consume() throws -> [UInt8] {
            switch self {
            case .bytes(let bytes): return bytes
            case .file(let path, _):
                defer { try? FileManager.default.removeItem(atPath: path) }
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw ZipError.io(path: path, reason: "the extracted entry cannot be read back")
                }
                return Array(data)
            }
        }

        /// Removes the temporary file, if any.
        public func discard() {
            if case .file(let path, _) = self { try? FileManager.default.removeItem(atPath: path) }
        }
    }

    public let path: String
    /// The regular files, in directory order.
    public let entries: [ZipEntry]
    public let limits: IntakeLimits
    private let archive: ZipArchive

    /// Reads the central directory of the archive at `path`.
    public init(path: String, limits: IntakeLimits = IntakeLimits()) throws(ZipError) {
        self.path = path
        self.limits = limits
        archive = try ZipArchive(source: try ZipFileSource(path: path), limits: limits.zip)
        entries = archive.entries
    }

    /// The names of the regular files.
    public var entryNames: [String] { entries.map(\.name) }

    /// Extracts `entry`: into memory when it declares at most ``IntakeLimits/inMemoryEntryBytes``, else into a new
    /// file in `temporaryDirectory`. Throws ``ZipError`` (a refused or unreadable entry, with its reason).
    public func extract(_ entry: ZipEntry, temporaryDirectory: String) throws -> Extracted {
        if entry.declaredBytes <= limits.inMemoryEntryBytes {
            var bytes: [UInt8] = []
            // At most the in-memory threshold, whatever the entry declares; the inflater stops at the declared size.
            bytes.reserveCapacity(entry.declaredBytes)
            try archive.extract(entry) { bytes.append(contentsOf: $0) }
            return .bytes(bytes)
        }
        try FileManager.default.createDirectory(atPath: temporaryDirectory, withIntermediateDirectories: true)
        let path = temporaryDirectory + "/entry-" + UUID().uuidString
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw ZipError.io(path: path, reason: String(cString: strerror(errno))) }
        var written = 0
        do {
            defer { close(descriptor) }
            try archive.extract(entry) { chunk in
                var done = 0
                while done < chunk.count, let base = chunk.baseAddress {
                    let n = write(descriptor, base + done, chunk.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw ZipError.io(path: path, reason: String(cString: strerror(errno)))
                    }
                    done += n
                }
                written += chunk.count
            }
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
        return .file(path: path, sizeBytes: written)
    }

    /// A folder of this process's own under `<data>/tmp/` for extracted entries (`label-PID`), made empty; folders
    /// that processes no longer running left behind (a crash mid-extraction) are removed first.
    public static func temporaryDirectory(data: String, label: String) -> String {
        let parent = data + "/tmp"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] {
            guard let dash = name.lastIndex(of: "-"), let pid = Int32(name[name.index(after: dash)...]) else { continue }
            if pid == getpid() || (kill(pid, 0) != 0 && errno == ESRCH) {
                try? FileManager.default.removeItem(atPath: parent + "/" + name)
            }
        }
        return parent + "/\(label)-\(getpid())"
    }

    /// Whether a file starts like a zip archive (local file header signature).
    public static func isZip(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 4) else { return false }
        return isZip(Array(head))
    }

    /// Whether bytes start like a zip archive.
    public static func isZip(_ bytes: [UInt8]) -> Bool { bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) }
}
