/// How a value in an ISO 2022 based repertoire starts, and which sets code extension may designate (PS3.5 6.1.2.5).
struct ISO2022Profile: Sendable, Hashable {
    /// The G0 set at the start of each value and after each reset: ASCII, or JIS X 0201 Romaji for ISO_IR 13.
    var initialG0: GraphicCharacterSet = .ascii
    /// The G1 set that value 1 designates; nil when value 1 is empty ("G1 is undefined", PS3.5 6.1.2.5.1 c).
    var initialG1: GraphicCharacterSet?
    /// The sets of the other values, in order, that escape sequences may designate.
    var extensions: [GraphicCharacterSet] = []

    /// The G1 set decoding assumes for bytes 08/00–15/15 when G1 is undefined: the first G1 set that a later value
    /// names (a Korean or Chinese value whose escape sequence was left out), else ISO-IR 100 like pydicom.
    var fallbackG1: GraphicCharacterSet {
        initialG1 ?? extensions.first(where: { !$0.isG0 }) ?? .latin1
    }
}

/// Reads values encoded with ISO 2022 code extension techniques as DICOM restricts them (PS3.5 6.1.2.5): escape
/// sequences designate G0 and G1, and the sets of value 1 become active again at every control character, at each
/// value delimiter, and at the PN delimiters "^" and "=" (PS3.5 6.1.2.5.3).
struct ISO2022Decoder {
    let profile: ISO2022Profile
    let vr: VR

    private var g0: GraphicCharacterSet
    private var g1: GraphicCharacterSet
    private var g0Table: CodeTable?
    private var g1Table: CodeTable?
    private var output: [UInt8] = []

    init(profile: ISO2022Profile, vr: VR) {
        self.profile = profile
        self.vr = vr
        g0 = profile.initialG0
        g1 = profile.fallbackG1
    }

    /// Decodes the whole value, delimiters included.
    mutating func decode(_ bytes: UnsafeRawBufferPointer) -> String {
        output.reserveCapacity(bytes.count * 2)
        reset()
        let multiValued = !vr.isSingleValuedText
        let personName = vr == .PN
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if byte == 0x1B {
                index = designate(bytes, escapeAt: index)
                continue
            }
            if byte < 0x20 || byte == 0x7F {
                // PS3.5 6.1.2.5.3: the sets of value 1 are active before CR, LF, FF, TAB and every other control.
                reset()
                output.append(byte)
                index += 1
                continue
            }
            if byte == 0x20 {
                output.append(byte)
                index += 1
                continue
            }
            if byte < 0x80 {
                if g0.isDoubleByte {
                    index += decodeDoubleByte(bytes, at: index, table: g0Table, highBit: 0)
                    continue
                }
                if (byte == 0x5C && multiValued) || (personName && (byte == 0x5E || byte == 0x3D)) {
                    reset()
                    output.append(byte)
                } else if g0 == .jisRoman && byte == 0x5C {
                    append(0xA5)  // YEN SIGN where 05/12 is a character (PS3.5 6.1.2.3 Note 3)
                } else if g0 == .jisRoman && byte == 0x7E {
                    append(0x203E)  // OVERLINE
                } else {
                    output.append(byte)
                }
                index += 1
                continue
            }
            index += decodeRightHalf(bytes, at: index)
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Makes the sets of value 1 active again (PS3.5 6.1.2.5.3).
    private mutating func reset() {
        setG0(profile.initialG0)
        setG1(profile.fallbackG1)
    }

    private mutating func setG0(_ set: GraphicCharacterSet) {
        guard set != g0 || (set.isDoubleByte && g0Table == nil) else { return }
        g0 = set
        g0Table = CodeTable.table(for: set)
    }

    private mutating func setG1(_ set: GraphicCharacterSet) {
        guard set != g1 || g1Table == nil else { return }
        g1 = set
        g1Table = CodeTable.table(for: set)
    }

    /// Reads the escape sequence at `start` and returns the index after it. Unknown sequences become U+FFFD.
    private mutating func designate(_ bytes: UnsafeRawBufferPointer, escapeAt start: Int) -> Int {
        // ISO 2022: ESC, intermediate bytes 02/00–02/15, one final byte 03/00–07/14.
        var end = start + 1
        while end < bytes.count, (0x20...0x2F).contains(bytes[end]) { end += 1 }
        guard end < bytes.count, (0x30...0x7E).contains(bytes[end]) else {
            append(0xFFFD)
            return max(end, start + 1)
        }
        let sequence = Array(bytes[(start + 1)...end])
        if let set = GraphicCharacterSet(escapeSequence: sequence[...]) {
            if set.isG0 { setG0(set) } else { setG1(set) }
        } else {
            append(0xFFFD)
        }
        return end + 1
    }

    /// Decodes a character of a 94 × 94 set; `highBit` is 0x80 when it is invoked in GR. Returns the bytes used.
    private mutating func decodeDoubleByte(
        _ bytes: UnsafeRawBufferPointer, at index: Int, table: CodeTable?, highBit: UInt8
    ) -> Int {
        let first = bytes[index] & 0x7F
        guard (0x21...0x7E).contains(first), index + 1 < bytes.count else {
            append(0xFFFD)
            return 1
        }
        let secondByte = bytes[index + 1]
        let second = secondByte & 0x7F
        guard secondByte & 0x80 == highBit, (0x21...0x7E).contains(second) else {
            append(0xFFFD)
            return 1
        }
        let scalar = table?.scalars[Int(first - 0x21) * 94 + Int(second - 0x21)] ?? 0
        append(scalar == 0 ? 0xFFFD : scalar)
        return 2
    }

    /// Decodes the character at a byte 08/00–15/15 through G1; returns the bytes used.
    private mutating func decodeRightHalf(_ bytes: UnsafeRawBufferPointer, at index: Int) -> Int {
        let byte = bytes[index]
        switch g1 {
        case .jisKatakana:
            if (0xA1...0xDF).contains(byte) {
                append(0xFF61 + UInt32(byte - 0xA1))
                return 1
            }
            return decodeShiftJIS(bytes, at: index)
        case .ksX1001, .gb2312:
            return decodeDoubleByte(bytes, at: index, table: g1Table, highBit: 0x80)
        default:
            if byte < 0xA0 {
                append(UInt32(byte))  // C1 control, as ISO 8859 decoders give it
                return 1
            }
            let scalar = g1Table?.scalars[Int(byte - 0xA0)] ?? 0
            append(scalar == 0 ? 0xFFFD : scalar)
            return 1
        }
    }

    /// Some writers label Shift_JIS text as ISO_IR 13; its two-byte characters are JIS X 0208, so they are read as
    /// such (pydicom reads ISO_IR 13 as Shift_JIS too). Returns the bytes used.
    private mutating func decodeShiftJIS(_ bytes: UnsafeRawBufferPointer, at index: Int) -> Int {
        let lead = bytes[index]
        guard (0x81...0x9F).contains(lead) || (0xE0...0xEF).contains(lead), index + 1 < bytes.count else {
            append(0xFFFD)
            return 1
        }
        let trail = bytes[index + 1]
        guard (0x40...0xFC).contains(trail), trail != 0x7F else {
            append(0xFFFD)
            return 1
        }
        var first = (Int(lead) - (lead <= 0x9F ? 0x70 : 0xB0)) * 2 - 1
        var second: Int
        if trail >= 0x9F {
            first += 1
            second = Int(trail) - 0x7E
        } else {
            second = Int(trail) - 0x1F - (trail >= 0x80 ? 1 : 0)
        }
        first -= 0x21
        second -= 0x21
        let scalar = CodeTable.table(for: .jisX0208)?.scalars[first * 94 + second] ?? 0
        append(scalar == 0 ? 0xFFFD : scalar)
        return 2
    }

    private mutating func append(_ scalar: UInt32) {
        output.appendUTF8(scalar)
    }
}

extension [UInt8] {
    /// Appends the UTF-8 form of a Unicode scalar value (U+FFFD for values that are not scalars).
    @inline(__always)
    mutating func appendUTF8(_ value: UInt32) {
        let v = (value > 0x10FFFF || (0xD800...0xDFFF).contains(value)) ? 0xFFFD : value
        switch v {
        case 0..<0x80:
            append(UInt8(v))
        case 0x80..<0x800:
            append(0xC0 | UInt8(v >> 6))
            append(0x80 | UInt8(v & 0x3F))
        case 0x800..<0x10000:
            append(0xE0 | UInt8(v >> 12))
            append(0x80 | UInt8(v >> 6 & 0x3F))
            append(0x80 | UInt8(v & 0x3F))
        default:
            append(0xF0 | UInt8(v >> 18))
            append(0x80 | UInt8(v >> 12 & 0x3F))
            append(0x80 | UInt8(v >> 6 & 0x3F))
            append(0x80 | UInt8(v & 0x3F))
        }
    }
}
