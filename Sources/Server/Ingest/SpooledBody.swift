import Foundation
import Hummingbird
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// A request body written to a file as it arrives, so that a large upload costs the server a chunk of memory at a time
/// rather than its size; then read back a range at a time (``Multipart/scan(count:boundary:window:read:)``). The file is unlinked as soon as it is created: it is
/// never visible to others, and it goes when this object does, or with the process however it ends.
final class SpooledBody: @unchecked Sendable {
    /// Why a body could not be spooled.
    enum Failure: Error, CustomStringConvertible {
        case tooLarge(maximum: Int)
        case file(String)

        var description: String {
            switch self {
            case .tooLarge(let maximum): "the upload is larger than \(maximum) bytes"
            case .file(let reason): "the upload could not be spooled: \(reason)"
            }
        }
    }

    /// Bytes received.
    private(set) var count = 0
    private let descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    deinit { close(descriptor) }

    /// Receives `body` into a new unlinked file in `directory`, refusing it once it passes `maximumBytes`. Errors of
    /// the body itself (a client gone mid-upload) are rethrown as they are.
    static func receive(_ body: RequestBody, into directory: String, maximumBytes: Int) async throws -> SpooledBody {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/stow-" + UUID().uuidString
        let descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Failure.file("open \(path): \(String(cString: strerror(errno)))") }
        unlink(path)
        let spooled = SpooledBody(descriptor: descriptor)
        for try await chunk in body {
            guard spooled.count + chunk.readableBytes <= maximumBytes else { throw Failure.tooLarge(maximum: maximumBytes) }
            try await spooled.append(chunk)
        }
        return spooled
    }

    /// Writes `chunk` at the end, on a thread of NIO's blocking pool (a write may wait for the disk).
    private func append(_ chunk: ByteBuffer) async throws {
        let descriptor = descriptor
        let offset = count
        try await NIOThreadPool.singleton.runIfActive {
            try chunk.withUnsafeReadableBytes { bytes in
                var written = 0
                while written < bytes.count {
                    let n = pwrite(descriptor, bytes.baseAddress! + written, bytes.count - written, off_t(offset + written))
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw Failure.file("write: \(String(cString: strerror(errno)))")
                    }
                    written += n
                }
            }
        }
        count += chunk.readableBytes
    }

    /// The bytes of `range`, read from the file.
    func read(_ range: Range<Int>) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: range.count)
        var done = 0
        try bytes.withUnsafeMutableBytes { out in
            while done < range.count {
                let n = pread(descriptor, out.baseAddress! + done, range.count - done, off_t(range.lowerBound + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw Failure.file("read: \(String(cString: strerror(errno)))")
                }
                if n == 0 { throw Failure.file("read: the spooled file ends at \(range.lowerBound + done) of \(count) bytes") }
                done += n
            }
        }
        return bytes
    }
}

/// A STOW-RS body received whole: in memory, or spooled to a file.
enum BodySource {
    case memory(ByteBuffer)
    case spooled(SpooledBody)

    /// Where the parts are (read a window at a time from a spooled file, on NIO's blocking pool).
    func scan(boundary: String) async throws -> [Multipart.Located] {
        switch self {
        case .memory(let buffer):
            return try buffer.withUnsafeReadableBytes { bytes throws(MultipartError) in
                try Multipart.scan(bytes: bytes, boundary: boundary)
            }
        case .spooled(let spooled):
            return try await NIOThreadPool.singleton.runIfActive {
                try Multipart.scan(count: spooled.count, boundary: boundary, read: spooled.read)
            }
        }
    }

    /// The bytes of `range`.
    func bytes(_ range: Range<Int>) throws -> [UInt8] {
        switch self {
        case .memory(let buffer): buffer.withUnsafeReadableBytes { Array($0[range]) }
        case .spooled(let spooled): try spooled.read(range)
        }
    }
}
