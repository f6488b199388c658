import CSystemZlib

/// How a ``ZipWriter`` entry is stored (APPNOTE.TXT 4.4.5).
public enum ZipMethod: UInt16, Sendable, Equatable {
    /// Bytes as they are.
    case stored = 0
    /// Raw DEFLATE (RFC 1951) through the system zlib.
    case deflated = 8
}

/// Why a zip archive could not be written.
public enum ZipWriterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The entry's name is empty, absolute, holds `..`, a backslash or a NUL, or repeats an earlier name.
    case badName(String)
    /// The archive would need ZIP64 (an entry or the archive past 4 GiB, or more than 65,535 entries).
    case tooLarge(entry: String)
    /// zlib refused to compress.
    case deflateFailed(entry: String, status: Int32)

    public var description: String {
        switch self {
        case .badName(let name): "zip entry name \"\(name)\" is empty, absolute, repeated or holds '..', '\\' or NUL"
        case .tooLarge(let entry): "\(entry): the archive would need ZIP64, which this writer does not write"
        case .deflateFailed(let entry, let status): "\(entry): zlib deflate failed (\(status))"
        }
    }
}

/// Writes a zip archive in memory (APPNOTE.TXT 4.3: local headers, data, central directory, end record), stored or
/// deflated entries with CRC-32 from zlib and UTF-8 names (flag bit 11). Every entry carries the same fixed time
/// (1980-01-01 00:00, the format's epoch) so that equal content gives equal bytes. No ZIP64, no encryption.
public struct ZipWriter: Sendable {
    private var bytes: [UInt8] = []
    private var central: [UInt8] = []
    private var names: Set<String> = []
    private var count = 0

    /// An empty archive.
    public init() {}

    /// Adds a file named `name` (folders separated by `/`) holding `data`.
    public mutating func add(_ name: String, _ data: [UInt8], method: ZipMethod = .deflated) throws(ZipWriterError) {
        guard !name.isEmpty, !name.hasPrefix("/"), !name.contains("\\"), !name.contains("\0"),
            !name.split(separator: "/").contains(".."), !names.contains(name)
        else { throw .badName(name) }
        let crc = Self.crc32(data)
        let body = method == .deflated ? try Self.deflate(data, entry: name) : data
        let offset = bytes.count
        guard data.count < 0xFFFF_FFFF, body.count < 0xFFFF_FFFF, offset < 0xFFFF_FFFF, count < 0xFFFF else { throw .tooLarge(entry: name) }
        let nameBytes = Array(name.utf8)
        let flags: UInt16 = 1 << 11
        let dosTime: UInt16 = 0
        let dosDate: UInt16 = (0 << 9) | (1 << 5) | 1

        Self.put(&bytes, UInt32(0x0403_4B50))
        Self.put(&bytes, UInt16(20))
        Self.put(&bytes, flags)
        Self.put(&bytes, method.rawValue)
        Self.put(&bytes, dosTime)
        Self.put(&bytes, dosDate)
        Self.put(&bytes, crc)
        Self.put(&bytes, UInt32(body.count))
        Self.put(&bytes, UInt32(data.count))
        Self.put(&bytes, UInt16(nameBytes.count))
        Self.put(&bytes, UInt16(0))
        bytes += nameBytes
        bytes += body

        Self.put(&central, UInt32(0x0201_4B50))
        Self.put(&central, UInt16(20))
        Self.put(&central, UInt16(20))
        Self.put(&central, flags)
        Self.put(&central, method.rawValue)
        Self.put(&central, dosTime)
        Self.put(&central, dosDate)
        Self.put(&central, crc)
        Self.put(&central, UInt32(body.count))
        Self.put(&central, UInt32(data.count))
        Self.put(&central, UInt16(nameBytes.count))
        Self.put(&central, UInt16(0))
        Self.put(&central, UInt16(0))
        Self.put(&central, UInt16(0))
        Self.put(&central, UInt16(0))
        Self.put(&central, UInt32(0))
        Self.put(&central, UInt32(offset))
        central += nameBytes
        names.insert(name)
        count += 1
    }

    /// The archive's bytes: the entries, the central directory and the end of central directory record.
    public func finish() throws(ZipWriterError) -> [UInt8] {
        guard bytes.count + central.count < 0xFFFF_FFFF else { throw .tooLarge(entry: "(central directory)") }
        var out = bytes
        out += central
        Self.put(&out, UInt32(0x0605_4B50))
        Self.put(&out, UInt16(0))
        Self.put(&out, UInt16(0))
        Self.put(&out, UInt16(count))
        Self.put(&out, UInt16(count))
        Self.put(&out, UInt32(central.count))
        Self.put(&out, UInt32(bytes.count))
        Self.put(&out, UInt16(0))
        return out
    }

    /// CRC-32 (ISO 3309, as zip uses) of `data`, from zlib.
    public static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc = CSystemZlib.crc32(0, nil, 0)
        data.withUnsafeBufferPointer { buffer in
            if let base = buffer.baseAddress { crc = CSystemZlib.crc32(crc, base, UInt32(buffer.count)) }
        }
        return UInt32(crc)
    }

    static func deflate(_ input: [UInt8], entry: String) throws(ZipWriterError) -> [UInt8] {
        switch RawDeflate.compress(input) {
        case .success(let bytes): bytes
        case .failure(let failure): throw .deflateFailed(entry: entry, status: failure.status)
        }
    }

    private static func put(_ out: inout [UInt8], _ value: UInt16) {
        out.append(UInt8(value & 0xFF))
        out.append(UInt8(value >> 8))
    }

    private static func put(_ out: inout [UInt8], _ value: UInt32) {
        for shift in stride(from: 0, through: 24, by: 8) { out.append(UInt8((value >> UInt32(shift)) & 0xFF)) }
    }
}

/// Raw DEFLATE (RFC 1951, no zlib header) through the system zlib, in one call: what zip entries and the Deflated
/// Explicit VR Little Endian transfer syntax both need.
enum RawDeflate {
    /// Why zlib refused.
    struct Failure: Error {
        /// `deflateInit2` or `deflate`.
        var step: String
        var status: Int32
    }

    /// `input` compressed at zlib's default level.
    static func compress(_ input: [UInt8]) -> Result<[UInt8], Failure> {
        var stream = z_stream()
        let initialised = deflateInit2_(
            &stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
            Int32(MemoryLayout<z_stream>.size))
        guard initialised == Z_OK else { return .failure(Failure(step: "deflateInit", status: initialised)) }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 16)
        var input = input
        let status = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = UInt32(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = UInt32(outBuffer.count)
                return CSystemZlib.deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return .failure(Failure(step: "deflate", status: status)) }
        output.removeLast(Int(stream.avail_out))
        return .success(output)
    }
}
