import NIOCore

/// A buffer holding the bytes of a hex string (whitespace ignored).
func buffer(hex: String) -> ByteBuffer {
    let digits = hex.filter { !$0.isWhitespace }.utf8.map { byte -> UInt8 in
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x61...0x66: return byte - 0x61 + 10
        case 0x41...0x46: return byte - 0x41 + 10
        default: return 0
        }
    }
    var result = ByteBuffer()
    var index = 0
    while index + 1 < digits.count {
        result.writeInteger(digits[index] << 4 | digits[index + 1])
        index += 2
    }
    return result
}

/// Lowercase hex of the readable bytes.
func hex(_ buffer: ByteBuffer) -> String {
    buffer.readableBytesView.map { byte in
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }.joined()
}

/// A buffer holding `text` as ASCII.
func buffer(ascii text: String) -> ByteBuffer {
    ByteBuffer(string: text)
}
