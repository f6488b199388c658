import Foundation
import ZIPFoundation

/// The regular files of a zip archive, extracted one at a time (not safe for concurrent use: one task reads).
/// Shared by `atrium import` and the web upload.
public final class ZipReader {
    public let path: String
    public let entryNames: [String]
    private let archive: ZIPFoundation.Archive

    public init(path: String) throws {
        self.path = path
        archive = try ZIPFoundation.Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        entryNames = archive.filter { $0.type == .file }.map(\.path)
    }

    /// The bytes of one entry, checked against its CRC-32.
    public func extract(_ name: String) throws -> [UInt8] {
        guard let entry = archive[name] else { throw ZipReaderError(description: "\(path): no entry \(name)") }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(entry.uncompressedSize))
        _ = try archive.extract(entry, skipCRC32: false) { chunk in bytes.append(contentsOf: chunk) }
        return bytes
    }

    /// Whether a file starts like a zip archive (local file header signature).
    public static func isZip(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 4) else { return false }
        return head == Data([0x50, 0x4B, 0x03, 0x04])
    }
}

/// Why a zip archive could not be read.
public struct ZipReaderError: Error, CustomStringConvertible {
    public let description: String
}
