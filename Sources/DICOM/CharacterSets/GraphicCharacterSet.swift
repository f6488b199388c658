/// A graphic character set that ISO 2022 designates to the G0 or G1 code element (PS3.3 Tables C.12-2 to C.12-4,
/// PS3.5 6.1.2.5).
enum GraphicCharacterSet: UInt8, Sendable, Hashable, CaseIterable {
    /// ISO-IR 6, ASCII (G0).
    case ascii
    /// ISO-IR 14, JIS X 0201 Romaji (G0): ASCII with YEN SIGN at 05/12 and OVERLINE at 07/14 (PS3.5 6.1.2.3).
    case jisRoman
    /// ISO-IR 13, JIS X 0201 Katakana (G1).
    case jisKatakana
    /// ISO-IR 100, the right half of ISO 8859-1 (G1).
    case latin1
    /// ISO-IR 101, ISO 8859-2.
    case latin2
    /// ISO-IR 109, ISO 8859-3.
    case latin3
    /// ISO-IR 110, ISO 8859-4.
    case latin4
    /// ISO-IR 144, ISO 8859-5.
    case cyrillic
    /// ISO-IR 127, ISO 8859-6.
    case arabic
    /// ISO-IR 126, ISO 8859-7.
    case greek
    /// ISO-IR 138, ISO 8859-8.
    case hebrew
    /// ISO-IR 148, ISO 8859-9.
    case latin5
    /// ISO-IR 166, TIS 620-2533.
    case thai
    /// ISO-IR 203, ISO 8859-15.
    case latin9
    /// ISO-IR 87, JIS X 0208 (G0, two bytes).
    case jisX0208
    /// ISO-IR 159, JIS X 0212 (G0, two bytes).
    case jisX0212
    /// ISO-IR 149, KS X 1001 (G1, two bytes).
    case ksX1001
    /// ISO-IR 58, GB 2312 (G1, two bytes).
    case gb2312

    /// Whether the set is designated to G0 (the GL area, bytes 02/01–07/14); otherwise to G1 (GR, bytes 10/00–15/15).
    var isG0: Bool {
        switch self {
        case .ascii, .jisRoman, .jisX0208, .jisX0212: true
        default: false
        }
    }

    /// Whether a character takes two bytes (the 94×94 sets of PS3.3 Table C.12-4).
    var isDoubleByte: Bool {
        switch self {
        case .jisX0208, .jisX0212, .ksX1001, .gb2312: true
        default: false
        }
    }

    /// Whether this is the right half of a 96-character ISO 8859 (or TIS 620) set.
    var isISO8859: Bool { !isG0 && !isDoubleByte && self != .jisKatakana }

    /// The escape sequence that designates the set (PS3.3 Tables C.12-3 and C.12-4), without ESC.
    var escapeSequence: [UInt8] {
        switch self {
        case .ascii: [0x28, 0x42]  // ( B
        case .jisRoman: [0x28, 0x4A]  // ( J
        case .jisKatakana: [0x29, 0x49]  // ) I
        case .latin1: [0x2D, 0x41]  // - A
        case .latin2: [0x2D, 0x42]  // - B
        case .latin3: [0x2D, 0x43]  // - C
        case .latin4: [0x2D, 0x44]  // - D
        case .cyrillic: [0x2D, 0x4C]  // - L
        case .arabic: [0x2D, 0x47]  // - G
        case .greek: [0x2D, 0x46]  // - F
        case .hebrew: [0x2D, 0x48]  // - H
        case .latin5: [0x2D, 0x4D]  // - M
        case .thai: [0x2D, 0x54]  // - T
        case .latin9: [0x2D, 0x62]  // - b
        case .jisX0208: [0x24, 0x42]  // $ B
        case .jisX0212: [0x24, 0x28, 0x44]  // $ ( D
        case .ksX1001: [0x24, 0x29, 0x43]  // $ ) C
        case .gb2312: [0x24, 0x29, 0x41]  // $ ) A
        }
    }

    /// The set an escape sequence (without ESC) designates; a few equivalent ISO 2022 spellings are accepted.
    init?(escapeSequence s: ArraySlice<UInt8>) {
        switch Array(s) {
        case [0x28, 0x42]: self = .ascii
        case [0x28, 0x4A]: self = .jisRoman
        case [0x29, 0x49]: self = .jisKatakana
        case [0x24, 0x42], [0x24, 0x40], [0x24, 0x28, 0x42], [0x24, 0x28, 0x40]: self = .jisX0208
        case [0x24, 0x28, 0x44]: self = .jisX0212
        case [0x24, 0x29, 0x43]: self = .ksX1001
        case [0x24, 0x29, 0x41]: self = .gb2312
        case let bytes where bytes.count == 2 && bytes[0] == 0x2D:
            guard let set = Self.allCases.first(where: { $0.isISO8859 && $0.escapeSequence[1] == bytes[1] }) else { return nil }
            self = set
        default: return nil
        }
    }

    /// The ISO-IR number in the defined terms of PS3.3 C.12.1.1.2.
    var registrationNumber: Int {
        switch self {
        case .ascii: 6
        case .jisRoman, .jisKatakana: 13
        case .latin1: 100
        case .latin2: 101
        case .latin3: 109
        case .latin4: 110
        case .cyrillic: 144
        case .arabic: 127
        case .greek: 126
        case .hebrew: 138
        case .latin5: 148
        case .thai: 166
        case .latin9: 203
        case .jisX0208: 87
        case .jisX0212: 159
        case .ksX1001: 149
        case .gb2312: 58
        }
    }

    /// The iconv name of an 8-bit code whose bytes give this set's characters (the EUC forms for the 94×94 sets).
    var iconvName: String? {
        switch self {
        case .ascii, .jisRoman, .jisKatakana: nil
        case .latin1: "ISO-8859-1"
        case .latin2: "ISO-8859-2"
        case .latin3: "ISO-8859-3"
        case .latin4: "ISO-8859-4"
        case .cyrillic: "ISO-8859-5"
        case .arabic: "ISO-8859-6"
        case .greek: "ISO-8859-7"
        case .hebrew: "ISO-8859-8"
        case .latin5: "ISO-8859-9"
        case .thai: "TIS-620"
        case .latin9: "ISO-8859-15"
        case .jisX0208, .jisX0212: "EUC-JP"
        case .ksX1001: "EUC-KR"
        case .gb2312: "EUC-CN"
        }
    }
}
