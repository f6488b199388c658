// Single-byte sets (ISO 8859, TIS 620, JIS X 0201), ISO 2022 code extensions with JIS X 0208, JIS X 0212, KS X 1001
// and GB 2312 (PS3.5 6.1.2.5), and the stand-alone UTF-8, GB18030 and GBK (PS3.5 6.1.2.5.1 d). The tables come from
// the C library's iconv, built once per set; GB18030 and GBK go through iconv; the ISO 2022 escape handling is ours.
/// The character repertoires of a dataset, from Specific Character Set (0008,0005) (PS3.3 C.12.1.1.2, PS3.5 6.1).
public struct SpecificCharacterSet: Sendable, Hashable, CustomStringConvertible {
    /// The values of (0008,0005) as they appear, trimmed; an empty first value means the default repertoire.
    public let terms: [String]

    /// How values are read and written, worked out once from `terms`.
    let scheme: CharacterEncodingScheme

    // A misspelling that still names one set ("ISO-IR 100", "ISO_IR100") is reported here but read as that set.
    /// Values that are not defined terms of PS3.3 C.12.1.1.2; decoding reads them as ISO_IR 100 (value 1).
    public var unknownTerms: [String] {
        terms.filter { !Self.parse($0).isDefinedTerm }
    }

    /// A character set from the values of (0008,0005).
    public init(terms: [String]) {
        self.terms = terms.map { $0.trimmingSpaces() }
        scheme = Self.scheme(for: self.terms)
    }

    /// A character set from the raw value of (0008,0005), values separated by backslashes.
    public init(specificCharacterSet value: String) {
        self.init(terms: value.split(separator: "\\", omittingEmptySubsequences: false).map(String.init))
    }

    /// The default repertoire (ISO IR 6, ASCII).
    public static let `default` = SpecificCharacterSet(terms: [])
    /// UTF-8 (ISO_IR 192), what Atrium writes unless told otherwise.
    public static let utf8 = SpecificCharacterSet(terms: ["ISO_IR 192"])
    /// GB18030, the character set of the People's Republic of China (PS3.5 Annex J).
    public static let gb18030 = SpecificCharacterSet(terms: ["GB18030"])

    public var description: String { terms.joined(separator: "\\") }

    /// Whether values are read without ISO 2022 escape sequences: UTF-8, GB18030 or GBK (PS3.5 6.1.2.5.1 d).
    public var isStandAlone: Bool {
        switch scheme {
        case .iso2022: false
        case .utf8, .gb18030, .gbk: true
        }
    }

    /// Whether bytes below 0x80 (without ESC) decode as ASCII, so values can be split and trimmed as bytes first.
    var asciiIsIdentity: Bool {
        switch scheme {
        case .utf8, .gb18030, .gbk: true
        case .iso2022(let profile, _): profile.initialG0 == .ascii
        }
    }

    // MARK: Decoding

    // Escape sequences switch G0 and G1; the sets of value 1 return at controls, at "\" (not in LT, ST, UT, UR) and,
    // for PN, at "^" and "=". Only a single byte 05/12 is a backslash, never a byte inside a GB18030, GBK or
    // JIS X 0208 character (PS3.5 6.1.2.3), so callers split the decoded string at "\".
    /// Decodes a whole value of a text VR, padding and delimiters kept; invalid bytes become U+FFFD (PS3.5 6.1.2.5.3).
    public func decode(_ bytes: UnsafeRawBufferPointer, vr: VR) -> String {
        switch scheme {
        case .utf8:
            return String(decoding: bytes, as: UTF8.self)
        case .gb18030:
            if bytes.isPlainASCII { return String(decoding: bytes, as: UTF8.self) }
            return Self.decode(bytes, with: Iconv.gb18030ToUTF8, fourByteForms: true)
        case .gbk:
            if bytes.isPlainASCII { return String(decoding: bytes, as: UTF8.self) }
            return Self.decode(bytes, with: Iconv.gbkToUTF8, fourByteForms: false)
        case .iso2022(let profile, _):
            if profile.initialG0 == .ascii && bytes.isPlainASCII { return String(decoding: bytes, as: UTF8.self) }
            var decoder = ISO2022Decoder(profile: profile, vr: vr)
            return decoder.decode(bytes)
        }
    }

    /// Decodes a value held in an array (PS3.5 6.1.2.5.3).
    public func decode(_ bytes: [UInt8], vr: VR) -> String {
        bytes.withUnsafeBytes { decode($0, vr: vr) }
    }

    /// GB18030 and GBK through iconv. An invalid two-byte (or four-byte) sequence becomes one U+FFFD, so that its
    /// second byte is never taken for a delimiter (PS3.5 6.1.2.3).
    private static func decode(_ bytes: UnsafeRawBufferPointer, with converter: IconvConverter, fourByteForms: Bool) -> String {
        Iconv.conversionCounter?.increment()
        let utf8 = converter.convert(bytes) { remaining, output in
            output.appendUTF8(0xFFFD)
            guard remaining.count >= 2, (0x81...0xFE).contains(remaining[0]) else { return 1 }
            let second = remaining[1]
            if (0x40...0xFE).contains(second) && second != 0x7F { return 2 }
            if fourByteForms, remaining.count >= 4, (0x30...0x39).contains(second), (0x81...0xFE).contains(remaining[2]),
                (0x30...0x39).contains(remaining[3])
            {
                return 4
            }
            return 1
        }
        // iconv always knows GB18030 and GBK in glibc; without it, read the bytes as ISO_IR 100 rather than fail.
        guard let utf8 else { return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) })) }
        return String(decoding: utf8, as: UTF8.self)
    }

    // MARK: Encoding

    // A character the repertoire cannot represent becomes "?"; `canEncode` tells beforehand.
    /// Encodes a value of a text VR (values joined by "\"), with ISO 2022 escape sequences as PS3.5 6.1.2.5.3 requires.
    public func encode(_ string: String, vr: VR) -> [UInt8] {
        encodeReportingLoss(string, vr: vr).bytes
    }

    /// Whether `string` can be encoded in this repertoire without loss.
    public func canEncode(_ string: String) -> Bool {
        canEncode(string, vr: .LO)
    }

    /// Whether `string` can be encoded without loss in a value of `vr` (ISO_IR 13 has YEN SIGN only in LT, ST, UT).
    public func canEncode(_ string: String, vr: VR) -> Bool {
        if case .utf8 = scheme { return true }
        return encodeReportingLoss(string, vr: vr).isLossless
    }

    private func encodeReportingLoss(_ string: String, vr: VR) -> (bytes: [UInt8], isLossless: Bool) {
        switch scheme {
        case .utf8:
            return (Array(string.utf8), true)
        case .gb18030:
            return Self.encode(string, with: Iconv.utf8ToGB18030)
        case .gbk:
            return Self.encode(string, with: Iconv.utf8ToGBK)
        case .iso2022(let profile, let codeExtensions):
            if profile.initialG0 == .ascii, string.utf8.allSatisfy({ $0 < 0x80 }) { return (Array(string.utf8), true) }
            var encoder = ISO2022Encoder(profile: profile, vr: vr, codeExtensions: codeExtensions)
            encoder.encode(string)
            return (encoder.output, encoder.isLossless)
        }
    }

    private static func encode(_ string: String, with converter: IconvConverter) -> (bytes: [UInt8], isLossless: Bool) {
        let utf8 = Array(string.utf8)
        if utf8.allSatisfy({ $0 < 0x80 }) { return (utf8, true) }
        Iconv.conversionCounter?.increment()
        var isLossless = true
        let bytes = utf8.withUnsafeBytes { raw in
            converter.convert(raw) { remaining, output in
                isLossless = false
                output.append(0x3F)
                let lead = remaining[0]
                return lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
            }
        }
        guard let bytes else { return (utf8.map { $0 < 0x80 ? $0 : 0x3F }, false) }
        return (bytes, isLossless)
    }
}

// MARK: Defined terms

/// How a dataset's values are read and written (PS3.5 6.1.2.5.1).
enum CharacterEncodingScheme: Sendable, Hashable {
    /// ISO_IR 192.
    case utf8
    /// GB18030, with its four-byte forms.
    case gb18030
    /// GBK, the one- and two-byte part of GB18030.
    case gbk
    /// An ISO 2022 8-bit code, with code extension when (0008,0005) has several values.
    case iso2022(ISO2022Profile, codeExtensions: Bool)
}

extension SpecificCharacterSet {
    /// What one value of (0008,0005) names.
    enum Term: Equatable {
        case sets([GraphicCharacterSet])
        case utf8
        case gb18030
        case gbk
        case unknown
    }

    /// The defined terms of PS3.3 Tables C.12-2 to C.12-5 (ISO_IR 6 is not one, but is everywhere).
    private static let definedTerms: Set<String> = {
        var terms: Set<String> = ["", "ISO_IR 6", "ISO 2022 IR 6", "ISO_IR 192", "GB18030", "GBK"]
        for number in [13, 100, 101, 109, 110, 126, 127, 138, 144, 148, 166, 203] {
            terms.insert("ISO_IR \(number)")
            terms.insert("ISO 2022 IR \(number)")
        }
        for number in [58, 87, 149, 159] { terms.insert("ISO 2022 IR \(number)") }
        return terms
    }()

    /// The sets an ISO-IR number stands for.
    private static func sets(registrationNumber: Int) -> [GraphicCharacterSet]? {
        switch registrationNumber {
        case 6: [.ascii]
        case 13: [.jisRoman, .jisKatakana]
        default:
            GraphicCharacterSet.allCases.first { $0.registrationNumber == registrationNumber && $0 != .ascii }.map { [$0] }
        }
    }

    /// The defined terms, read once.
    private static let parsedDefinedTerms: [String: Term] = Dictionary(
        uniqueKeysWithValues: definedTerms.map { ($0, normalize($0)) }
    )

    /// Reads one value of (0008,0005).
    static func parse(_ term: String) -> (term: Term, isDefinedTerm: Bool) {
        if let parsed = parsedDefinedTerms[term] { return (parsed, true) }
        return (normalize(term), false)
    }

    /// Reads a value of (0008,0005), accepting other spellings of the ISO-IR numbers.
    private static func normalize(_ term: String) -> Term {
        let name = String(term.uppercased().map { $0 == "_" || $0 == "-" ? " " : $0 }).split(separator: " ").joined()
        switch name {
        case "": return .sets([.ascii])
        case "ISOIR192", "UTF8": return .utf8
        case "GB18030": return .gb18030
        case "GBK", "ISO2022GBK": return .gbk
        default: break
        }
        for prefix in ["ISO2022IR", "ISOIR", "ISO2022"] where name.hasPrefix(prefix) {
            if let number = Int(name.dropFirst(prefix.count)), let sets = sets(registrationNumber: number) {
                return .sets(sets)
            }
        }
        return .unknown
    }

    /// Works out the initial sets and the code extensions (PS3.5 6.1.2.5.1 and 6.1.2.5.2).
    static func scheme(for terms: [String]) -> CharacterEncodingScheme {
        let parsed = terms.map { parse($0).term }
        var profile = ISO2022Profile()
        var codeExtensions = terms.count > 1
        switch parsed.first ?? .sets([.ascii]) {
        case .utf8: return .utf8
        case .gb18030: return .gb18030
        case .gbk: return .gbk
        case .unknown: profile.initialG1 = .latin1
        case .sets(let sets):
            for set in sets {
                if set == .jisRoman {
                    profile.initialG0 = .jisRoman
                } else if set.isDoubleByte && set.isG0 {
                    // JIS X 0208 and JIS X 0212 cannot be active at the start of a value: "^" and "\" would be
                    // lost in them. Treat them as extensions of ASCII.
                    profile.extensions.append(set)
                    codeExtensions = true
                } else if !set.isG0 {
                    profile.initialG1 = set
                }
            }
        }
        for term in parsed.dropFirst() {
            guard case .sets(let sets) = term else { continue }
            for set in sets where !profile.extensions.contains(set) { profile.extensions.append(set) }
        }
        return .iso2022(profile, codeExtensions: codeExtensions)
    }
}

extension UnsafeRawBufferPointer {
    /// Whether every byte is 7-bit and none is ESC, so the bytes read the same in every ASCII-based repertoire.
    var isPlainASCII: Bool {
        var index = 0
        let count = self.count
        // Eight bytes at a time: no high bit set, and no byte equal to ESC (a zero byte in w ^ 0x1B…).
        while index + 8 <= count {
            let word = loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let escapes = word ^ 0x1B1B_1B1B_1B1B_1B1B
            let hasZeroByte = (escapes &- 0x0101_0101_0101_0101) & ~escapes & 0x8080_8080_8080_8080
            if word & 0x8080_8080_8080_8080 != 0 || hasZeroByte != 0 { return false }
            index += 8
        }
        while index < count {
            let byte = self[index]
            if byte >= 0x80 || byte == 0x1B { return false }
            index += 1
        }
        return true
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces (DICOM's padding; other whitespace is kept).
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
