import CSystemZlib

/// Writes a zip archive (APPNOTE 6.3.x) of stored (uncompressed) entries in memory: what exchange packages need, since
/// DICOM pixel data rarely deflates well. Entry names are UTF-8 (general purpose flag bit 11).
public struct ZipWriter: Sendable {
    private var output: [UInt8] = []
    private var central: [UInt8] = []
    private var count = 0

    public init() {}

    /// Adds one entry; `name` uses `/` between folders.
    public mutating func add(name: String, bytes: [UInt8]) {
        let nameBytes = Array(name.utf8)
        let crc = bytes.withUnsafeBufferPointer { buffer in
            UInt32(CSystemZlib.crc32(CSystemZlib.crc32(0, nil, 0), buffer.baseAddress, UInt32(buffer.count)))
        }
        let offset = output.count
        // Local file header (4.3.7): version 2.0, UTF-8 names, stored, no time stamp (1980-01-01).
        append32(&output, 0x0403_4b50)
        append16(&output, 20)
        append16(&output, 0x0800)
        append16(&output, 0)
        append16(&output, 0)
        append16(&output, 0x21)
        append32(&output, crc)
        append32(&output, UInt32(bytes.count))
        append32(&output, UInt32(bytes.count))
        append16(&output, UInt16(nameBytes.count))
        append16(&output, 0)
        output += nameBytes
        output += bytes
        // Central directory header (4.3.12).
        append32(&central, 0x0201_4b50)
        append16(&central, 20)
        append16(&central, 20)
        append16(&central, 0x0800)
        append16(&central, 0)
        append16(&central, 0)
        append16(&central, 0x21)
        append32(&central, crc)
        append32(&central, UInt32(bytes.count))
        append32(&central, UInt32(bytes.count))
        append16(&central, UInt16(nameBytes.count))
        append16(&central, 0)
        append16(&central, 0)
        append16(&central, 0)
        append16(&central, 0)
        append32(&central, 0)
        append32(&central, UInt32(offset))
        central += nameBytes
        count += 1
    }

    /// The archive: the entries, the central directory and its end record (4.3.16). Sizes stay below 4 GiB (no Zip64).
    public func finished() -> [UInt8] {
        var out = output
        let start = out.count
        out += central
        append32(&out, 0x0605_4b50)
        append16(&out, 0)
        append16(&out, 0)
        append16(&out, UInt16(count))
        append16(&out, UInt16(count))
        append32(&out, UInt32(central.count))
        append32(&out, UInt32(start))
        append16(&out, 0)
        return out
    }

    private func append16(_ bytes: inout [UInt8], _ value: UInt16) {
        bytes.append(UInt8(value & 0xFF))
        bytes.append(UInt8(value >> 8))
    }

    private func append32(_ bytes: inout [UInt8], _ value: UInt32) {
        append16(&bytes, UInt16(value & 0xFFFF))
        append16(&bytes, UInt16(value >> 16))
    }
}
