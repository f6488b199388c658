import NIOCore

/// What a Part 10 stream's File Meta Information says, read without parsing the data set (PS3.10 7.1).
public struct Part10Header: Hashable, Sendable {
    /// Byte offset of the data set, after the meta group.
    public var dataSetOffset: Int
    /// Transfer Syntax UID (0002,0010).
    public var transferSyntaxUID: String
    /// Media Storage SOP Class UID (0002,0002).
    public var sopClassUID: String
    /// Media Storage SOP Instance UID (0002,0003).
    public var sopInstanceUID: String

    /// Reads the meta group at the front of `bytes` (preamble, `DICM`, group 0002 in explicit VR little endian); nil when the
    /// stream has no usable meta group.
    public init?(_ bytes: ByteBuffer) {
        var buffer = bytes
        let start = buffer.readerIndex
        guard buffer.getString(at: start + 128, length: 4) == "DICM" else { return nil }
        buffer.moveReaderIndex(forwardBy: 132)
        var values: [UInt16: String] = [:]
        while buffer.readableBytes >= 8, buffer.getInteger(at: buffer.readerIndex, endianness: .little, as: UInt16.self) == 0x0002 {
            guard let element = buffer.getInteger(at: buffer.readerIndex + 2, endianness: .little, as: UInt16.self),
                let vr = buffer.getString(at: buffer.readerIndex + 4, length: 2)
            else { return nil }
            let length: Int
            if ["OB", "OW", "OF", "SQ", "UT", "UN", "UC", "UR", "OD", "OL", "OV"].contains(vr) {
                guard let long = buffer.getInteger(at: buffer.readerIndex + 8, endianness: .little, as: UInt32.self),
                    long != 0xFFFF_FFFF
                else { return nil }
                length = Int(long)
                buffer.moveReaderIndex(forwardBy: 12)
            } else {
                guard let short = buffer.getInteger(at: buffer.readerIndex + 6, endianness: .little, as: UInt16.self) else { return nil }
                length = Int(short)
                buffer.moveReaderIndex(forwardBy: 8)
            }
            guard length <= buffer.readableBytes, let value = buffer.readBytes(length: length) else { return nil }
            if [0x0002, 0x0003, 0x0010].contains(element) {
                values[element] = String(decoding: value, as: UTF8.self).trimmingPadding
            }
        }
        guard let syntax = values[0x0010], let sopClass = values[0x0002], let sopInstance = values[0x0003] else { return nil }
        dataSetOffset = buffer.readerIndex - start
        transferSyntaxUID = syntax
        sopClassUID = sopClass
        sopInstanceUID = sopInstance
    }
}

extension String {
    /// Whether the text is safe as one path component derived from a UID: digits and single dots, 1–64 characters.
    var isSafeUIDPathComponent: Bool {
        let bytes = utf8
        guard !bytes.isEmpty, bytes.count <= 64, bytes.first != 0x2E, bytes.last != 0x2E else { return false }
        var previousDot = false
        for byte in bytes {
            if byte == 0x2E {
                if previousDot { return false }
                previousDot = true
            } else if byte >= 0x30 && byte <= 0x39 {
                previousDot = false
            } else {
                return false
            }
        }
        return true
    }
}

extension String {
    /// The text without leading and trailing spaces and NULs (PS3.5 6.2 padding).
    var trimmingPadding: String {
        var text = Substring(self)
        while let last = text.last, last == " " || last == "\0" { text = text.dropLast() }
        while let first = text.first, first == " " { text = text.dropFirst() }
        return String(text)
    }
}
