import DICOM
import Logging
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes each received instance as a Part 10 file under a folder, at `<Study>/<Series>/<SOP Instance>.dcm` (PS3.10 7).
///
/// Path components come only from UIDs that pass a character check (digits and single dots); anything else is replaced by a
/// fixed name, so no value inside a file can choose where it is written. The data set is written as received, byte for byte.
public struct FileStorageProvider: StorageProvider {
    /// The folder instances are written under.
    public let directory: String
    /// Whether to `fsync` each file before answering success.
    public let durable: Bool
    private let logger: Logger

    /// Creates a provider writing under `directory` (created if missing).
    public init(directory: String, durable: Bool = false, logger: Logger = Logger(label: "atrium.dicom.storage")) {
        self.directory = directory
        self.durable = durable
        self.logger = logger
    }

    /// The path of an instance relative to the folder: each UID that is not safe becomes `unknown-…`.
    public static func relativePath(studyInstanceUID: String?, seriesInstanceUID: String?, sopInstanceUID: String) -> String? {
        guard sopInstanceUID.isSafeUIDPathComponent else { return nil }
        let study = studyInstanceUID.flatMap { $0.isSafeUIDPathComponent ? $0 : nil } ?? "unknown-study"
        let series = seriesInstanceUID.flatMap { $0.isSafeUIDPathComponent ? $0 : nil } ?? "unknown-series"
        return "\(study)/\(series)/\(sopInstanceUID).dcm"
    }

    /// Writes the instance; answers 0xA900 when the data set cannot be read, 0xC000 on an unsafe SOP Instance UID, 0xA700 on
    /// a write failure (PS3.4 B.2.3).
    public func store(_ request: StoreRequest) async -> DIMSEStatus {
        let prefix = DataSetCoding.part10Prefix(
            sopClassUID: request.sopClassUID, sopInstanceUID: request.sopInstanceUID, transferSyntaxUID: request.transferSyntaxUID,
            sourceAETitle: request.callingAETitle)
        // Read the header up to the pixel data, as a check that this is a data set and for the UIDs of the path.
        let header: DataSet
        do {
            header = try DataSetCoding.header(
                metaGroup: Array(prefix[128...]), dataSet: request.dataSet, transferSyntaxUID: request.transferSyntaxUID)
        } catch {
            logger.warning(
                "received data set cannot be read", metadata: ["sopInstanceUID": "\(request.sopInstanceUID)", "error": "\(error)"])
            return .dataSetDoesNotMatchSOPClass
        }
        guard
            let relative = Self.relativePath(
                studyInstanceUID: header.string(.studyInstanceUID), seriesInstanceUID: header.string(.seriesInstanceUID),
                sopInstanceUID: request.sopInstanceUID)
        else {
            logger.warning("SOP Instance UID is not safe as a file name", metadata: ["calling": "\(request.callingAETitle)"])
            return .unableToProcess
        }
        let path = directory + "/" + relative
        do {
            try makeDirectories(for: relative)
            try write(path: path, prefix: prefix, dataSet: request.dataSet)
        } catch {
            logger.error("cannot write instance", metadata: ["path": "\(path)", "error": "\(error)"])
            return .outOfResources
        }
        return .success
    }

    private func makeDirectories(for relative: String) throws(DIMSEError) {
        var path = directory
        let components = relative.split(separator: "/").dropLast()
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw .dataSet("mkdir \(path): \(String(cString: strerror(errno)))") }
        for component in components {
            path += "/" + component
            if mkdir(path, 0o755) != 0 && errno != EEXIST { throw .dataSet("mkdir \(path): \(String(cString: strerror(errno)))") }
        }
    }

    /// Writes prefix and data set in one gathering write. Durable: to a temporary file beside `path`, fsync'd, then
    /// renamed, so readers never see half a file. Otherwise straight to `path`, as dcmtk's storescp does (one file
    /// creation instead of a creation and a rename); a failed write removes the file.
    private func write(path: String, prefix: [UInt8], dataSet: ByteBuffer) throws(DIMSEError) {
        let temporary = durable ? path + ".part-\(UInt32.random(in: 0...UInt32.max))" : path
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .dataSet("open \(temporary): \(String(cString: strerror(errno)))") }
        var failure: String?
        prefix.withUnsafeBytes { head in
            dataSet.withUnsafeReadableBytes { body in failure = writeAll(fd, head, body) }
        }
        if failure == nil, durable, fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        close(fd)
        if failure == nil, durable, rename(temporary, path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary)
            throw .dataSet("write \(path): \(failure)")
        }
    }
}

/// Writes `head` then `body` with `writev`, resuming after short writes and EINTR.
private func writeAll(_ fd: Int32, _ head: UnsafeRawBufferPointer, _ body: UnsafeRawBufferPointer) -> String? {
    var parts = [head, body].filter { $0.count > 0 }
    while !parts.isEmpty {
        let vectors = parts.map { iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count) }
        let n = vectors.withUnsafeBufferPointer { writev(fd, $0.baseAddress, Int32($0.count)) }
        if n < 0 {
            if errno == EINTR { continue }
            return String(cString: strerror(errno))
        }
        var written = n
        while written > 0, let first = parts.first {
            if written >= first.count {
                written -= first.count
                parts.removeFirst()
            } else {
                parts[0] = UnsafeRawBufferPointer(rebasing: first[written...])
                written = 0
            }
        }
    }
    return nil
}
