import DICOM
import Foundation
import Platform

/// The delimiters of an HL7 v2 message, read from MSH-1 and MSH-2 (HL7 v2.5 2.5.4, 2.16.9.1–2).
public struct HL7EncodingCharacters: Sendable, Equatable {
    public var field: Character = "|"
    public var component: Character = "^"
    public var repetition: Character = "~"
    public var escape: Character = "\\"
    public var subcomponent: Character = "&"

    public init() {}

    /// MSH-2 as it is written.
    public var msh2: String { String([component, repetition, escape, subcomponent]) }
}

/// Where in a message a problem sits: the location of ERR-2 (HL7 v2.5 2.15.5.2, data type ERL).
public struct HL7Location: Sendable, Equatable, CustomStringConvertible {
    /// The segment ID (`OBX`).
    public var segment: String
    /// The segment's position among segments of its kind (1 for the first OBX).
    public var sequence: Int
    /// The field number, when the problem is in one field.
    public var field: Int?

    public init(segment: String, sequence: Int = 1, field: Int? = nil) {
        self.segment = segment
        self.sequence = sequence
        self.field = field
    }

    public var description: String { field.map { "\(segment)-\($0) (\(segment) #\(sequence))" } ?? "\(segment) #\(sequence)" }
}

/// HL7 table 0357 (message error condition codes), as ERR-3 carries them.
public enum HL7ErrorCondition: String, Sendable, Equatable, CaseIterable {
    case segmentSequence = "100"
    case requiredFieldMissing = "101"
    case dataType = "102"
    case tableValueNotFound = "103"
    case unsupportedMessageType = "200"
    case unsupportedEventCode = "201"
    case unsupportedProcessingID = "202"
    case unsupportedVersionID = "203"
    case unknownKeyIdentifier = "204"
    case duplicateKeyIdentifier = "205"
    case applicationRecordLocked = "206"
    case applicationInternalError = "207"

    /// The code's text in table 0357.
    public var text: String {
        switch self {
        case .segmentSequence: "Segment sequence error"
        case .requiredFieldMissing: "Required field missing"
        case .dataType: "Data type error"
        case .tableValueNotFound: "Table value not found"
        case .unsupportedMessageType: "Unsupported message type"
        case .unsupportedEventCode: "Unsupported event code"
        case .unsupportedProcessingID: "Unsupported processing id"
        case .unsupportedVersionID: "Unsupported version id"
        case .unknownKeyIdentifier: "Unknown key identifier"
        case .duplicateKeyIdentifier: "Duplicate key identifier"
        case .applicationRecordLocked: "Application record locked"
        case .applicationInternalError: "Application internal error"
        }
    }

    /// Whether the receiver rejects the message outright (MSA-1 AR) rather than reporting an error in its content (AE):
    /// the message's kind, version or sender is not one this receiver takes (HL7 v2.5 2.9.2).
    public var rejects: Bool {
        switch self {
        case .unsupportedMessageType, .unsupportedEventCode, .unsupportedProcessingID, .unsupportedVersionID: true
        default: false
        }
    }
}

/// Why a message was not accepted: a location, a table 0357 condition and a reason a person can read (never a patient's
/// data: the reason names fields, not their values).
public struct HL7Error: Error, Sendable, Equatable, CustomStringConvertible {
    public var location: HL7Location?
    public var condition: HL7ErrorCondition
    public var reason: String
    /// MSA-1 for this error: AR (rejected) or AE (error).
    public var acknowledgment: HL7AcknowledgmentCode

    public init(_ condition: HL7ErrorCondition, _ reason: String, at location: HL7Location? = nil, reject: Bool? = nil) {
        self.condition = condition
        self.reason = reason
        self.location = location
        self.acknowledgment = (reject ?? condition.rejects) ? .applicationReject : .applicationError
    }

    public var description: String { "\(condition.rawValue) \(condition.text)\(location.map { " at \($0)" } ?? ""): \(reason)" }
}

/// One segment: its ID and its fields as sent (escaped). `fields[0]` is the segment ID; for MSH, `fields[1]` is the field
/// separator and `fields[2]` the encoding characters, so that `fields[n]` is always MSH-n / XXX-n.
public struct HL7Segment: Sendable, Equatable {
    public var fields: [String]
    let encoding: HL7EncodingCharacters

    public var id: String { fields.first ?? "" }

    /// Field `n` as sent (escaped), or "" when absent.
    public func raw(_ n: Int) -> String { n < fields.count && n >= 0 ? fields[n] : "" }

    /// The repetitions of field `n`.
    public func repetitions(_ n: Int) -> [String] {
        let raw = raw(n)
        if id == "MSH" && n <= 2 { return [raw] }
        return raw.split(separator: encoding.repetition, omittingEmptySubsequences: false).map(String.init)
    }

    /// The components of one repetition of field `n`, unescaped (subcomponents joined by the subcomponent separator).
    public func components(_ n: Int, repetition: Int = 0) -> [String] {
        let repetitions = repetitions(n)
        guard repetition < repetitions.count else { return [] }
        if id == "MSH" && n <= 2 { return [repetitions[repetition]] }
        return repetitions[repetition].split(separator: encoding.component, omittingEmptySubsequences: false).map {
            $0.split(separator: encoding.subcomponent, omittingEmptySubsequences: false).map {
                HL7Escaping.unescape(String($0), encoding)
            }.joined(separator: String(encoding.subcomponent))
        }
    }

    /// Component `c` (1-based) of subcomponent `s` (1-based) of repetition `r` (0-based) of field `n`, unescaped.
    public func value(_ n: Int, component c: Int = 1, subcomponent s: Int = 1, repetition r: Int = 0) -> String {
        let repetitions = repetitions(n)
        guard r < repetitions.count else { return "" }
        if id == "MSH" && n <= 2 { return c == 1 && s == 1 ? repetitions[r] : "" }
        let components = repetitions[r].split(separator: encoding.component, omittingEmptySubsequences: false)
        guard c >= 1, c <= components.count else { return "" }
        let subcomponents = components[c - 1].split(separator: encoding.subcomponent, omittingEmptySubsequences: false)
        guard s >= 1, s <= subcomponents.count else { return "" }
        return HL7Escaping.unescape(String(subcomponents[s - 1]), encoding)
    }

    /// Field `n` with every component and repetition unescaped, as text (components joined by a space): for TX/FT values.
    public func text(_ n: Int) -> String {
        repetitions(n).indices.map { components(n, repetition: $0).filter { !$0.isEmpty }.joined(separator: " ") }
            .joined(separator: "\n")
    }
}

/// The escape sequences of HL7 v2 (v2.5 2.7): `\F\ \S\ \T\ \R\ \E\` for the delimiters, `\Xhh…\` for bytes, `\.br\` for
/// a line break in formatted text; other formatting sequences are dropped.
public enum HL7Escaping {
    public static func unescape(_ text: String, _ encoding: HL7EncodingCharacters) -> String {
        guard text.contains(encoding.escape) else { return text }
        var result = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            guard character == encoding.escape,
                let close = text[text.index(after: index)...].firstIndex(of: encoding.escape)
            else {
                result.append(character)
                index = text.index(after: index)
                continue
            }
            let sequence = String(text[text.index(after: index)..<close])
            switch sequence {
            case "F": result.append(encoding.field)
            case "S": result.append(encoding.component)
            case "T": result.append(encoding.subcomponent)
            case "R": result.append(encoding.repetition)
            case "E": result.append(encoding.escape)
            case ".br": result.append("\n")
            default:
                if sequence.hasPrefix("X"), sequence.count % 2 == 1 {
                    var bytes: [UInt8] = []
                    var digits = sequence.dropFirst()
                    while digits.count >= 2, let byte = UInt8(digits.prefix(2), radix: 16) {
                        bytes.append(byte)
                        digits = digits.dropFirst(2)
                    }
                    if digits.isEmpty {
                        result += String(decoding: bytes, as: UTF8.self)
                    }
                }
            // Highlighting (\H\ \N\) and other formatting sequences carry no characters.
            }
            index = text.index(after: close)
        }
        return result
    }

    /// Escapes the delimiters of `text` so that it can be written into a field.
    public static func escape(_ text: String, _ encoding: HL7EncodingCharacters = HL7EncodingCharacters()) -> String {
        var result = ""
        for character in text {
            switch character {
            case encoding.escape: result += "\(encoding.escape)E\(encoding.escape)"
            case encoding.field: result += "\(encoding.escape)F\(encoding.escape)"
            case encoding.component: result += "\(encoding.escape)S\(encoding.escape)"
            case encoding.subcomponent: result += "\(encoding.escape)T\(encoding.escape)"
            case encoding.repetition: result += "\(encoding.escape)R\(encoding.escape)"
            case "\r", "\n": result += "\(encoding.escape).br\(encoding.escape)"
            default: result.append(character)
            }
        }
        return result
    }
}

/// The character sets of MSH-18 (HL7 table 0211) this receiver reads.
public enum HL7CharacterSet: String, Sendable, Equatable {
    case ascii = "ASCII"
    case utf8 = "UNICODE UTF-8"
    case gb18030 = "GB 18030-2000"
    case latin1 = "8859/1"

    /// The set named by MSH-18 (empty: ASCII, read as UTF-8, which ASCII is a subset of); nil for one not supported.
    public init?(msh18: String) {
        let term = msh18.trimmingCharacters(in: .whitespaces).uppercased()
        switch term {
        case "", "ASCII": self = .ascii
        case "UNICODE UTF-8", "UTF-8", "UTF8", "UNICODE": self = .utf8
        case "GB 18030-2000", "GB18030", "GB 18030", "GB18030-2000", "GB 18030-2005": self = .gb18030
        case "8859/1": self = .latin1
        default: return nil
        }
    }
}

/// A parsed HL7 v2 message in ER7 (pipe-delimited) encoding.
public struct HL7Message: Sendable, Equatable {
    public var encoding: HL7EncodingCharacters
    public var segments: [HL7Segment]
    public var characterSet: HL7CharacterSet

    /// The first segment with this ID, and how many of that kind came before it.
    public func segment(_ id: String) -> HL7Segment? { segments.first { $0.id == id } }

    public var header: HL7Segment { segments[0] }
    /// MSH-10.
    public var controlID: String { header.value(10) }
    /// MSH-9: message code, trigger event.
    public var messageType: (code: String, event: String) { (header.value(9), header.value(9, component: 2)) }
    /// MSH-12.
    public var version: String { header.value(12) }

    /// Parses a message from its bytes: MSH first, the delimiters from MSH-1 and MSH-2, the character set from MSH-18
    /// (UTF-8, GB 18030 through the DICOM toolkit's iconv support, ISO 8859-1); segments end at CR, and LF or CR LF are
    /// tolerated.
    public static func parse(_ bytes: [UInt8]) throws(HL7Error) -> HL7Message {
        var start = 0
        // Tolerate leading whitespace (a stray newline before MSH).
        while start < bytes.count, [0x0D, 0x0A, 0x20, 0x09].contains(bytes[start]) { start += 1 }
        let body = Array(bytes[start...])
        guard body.count >= 8, body[0] == 0x4D, body[1] == 0x53, body[2] == 0x48 else {
            throw HL7Error(
                .segmentSequence, "the message does not begin with an MSH segment", at: HL7Location(segment: "MSH"), reject: true)
        }
        let separators = Array(body[3..<8])
        // MSH-1 and MSH-2: five distinct printable ASCII delimiters (the subcomponent separator may be left out in old
        // messages, but then MSH-2 has three characters followed by the field separator).
        let fieldSeparator = separators[0]
        var delimiters = [fieldSeparator]
        for byte in separators.dropFirst() {
            if byte == fieldSeparator { break }
            delimiters.append(byte)
        }
        guard delimiters.count >= 4, delimiters.allSatisfy({ $0 > 0x20 && $0 < 0x7F && !Self.isAlphanumeric($0) }),
            Set(delimiters).count == delimiters.count
        else {
            throw HL7Error(
                .dataType, "MSH-1 and MSH-2 must be distinct printable delimiters that are not letters or digits",
                at: HL7Location(segment: "MSH", field: 2), reject: true)
        }
        // The header segment in bytes, to find MSH-18 before the text is decoded.
        let headerEnd = body.firstIndex { $0 == 0x0D || $0 == 0x0A } ?? body.count
        let headerFields = body[0..<headerEnd].split(separator: fieldSeparator, omittingEmptySubsequences: false)
        // headerFields[0] is "MSH", [1] is MSH-2, so MSH-n is headerFields[n - 1].
        let msh18 = headerFields.count > 17 ? String(decoding: headerFields[17], as: UTF8.self) : ""
        let charsetName =
            msh18.split(separator: Character(UnicodeScalar(delimiters.count > 1 ? delimiters[2] : 0x7E)))
            .first.map(String.init) ?? ""
        guard let characterSet = HL7CharacterSet(msh18: charsetName) else {
            throw HL7Error(
                .tableValueNotFound,
                "MSH-18 names a character set this receiver does not read (UNICODE UTF-8, GB 18030-2000, 8859/1, ASCII)",
                at: HL7Location(segment: "MSH", field: 18), reject: true)
        }
        let text: String
        switch characterSet {
        case .ascii, .utf8:
            guard let decoded = String(validating: body, as: UTF8.self) else {
                throw HL7Error(
                    .dataType, "the message is not valid UTF-8 (MSH-18 names the character set, e.g. GB 18030-2000)",
                    at: HL7Location(segment: "MSH", field: 18))
            }
            text = decoded
        case .gb18030:
            text = SpecificCharacterSet.gb18030.decode(body, vr: .UT)
        case .latin1:
            text = String(body.map { Character(UnicodeScalar($0)) })
        }
        var encoding = HL7EncodingCharacters()
        encoding.field = Character(UnicodeScalar(delimiters[0]))
        encoding.component = Character(UnicodeScalar(delimiters[1]))
        encoding.repetition = Character(UnicodeScalar(delimiters[2]))
        encoding.escape = Character(UnicodeScalar(delimiters[3]))
        if delimiters.count > 4 { encoding.subcomponent = Character(UnicodeScalar(delimiters[4])) }
        return try parse(text: text, encoding: encoding, characterSet: characterSet)
    }

    static func parse(text: String, encoding: HL7EncodingCharacters, characterSet: HL7CharacterSet) throws(HL7Error) -> HL7Message {
        // Segments end at CR; LF and CR LF are tolerated (a Swift String holds CR LF as one Character).
        let lines = text.split(omittingEmptySubsequences: true) { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }
        var segments: [HL7Segment] = []
        for line in lines {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            var fields = line.split(separator: encoding.field, omittingEmptySubsequences: false).map(String.init)
            let id = fields.first ?? ""
            guard id.count == 3, id.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber) }) else {
                throw HL7Error(
                    .segmentSequence, "segment \(segments.count + 1) does not begin with a three-character segment ID",
                    at: HL7Location(segment: String(id.prefix(3)), sequence: segments.count + 1))
            }
            if id == "MSH" {
                guard segments.isEmpty else {
                    throw HL7Error(.segmentSequence, "a second MSH segment in one message", at: HL7Location(segment: "MSH", sequence: 2))
                }
                fields.insert(String(encoding.field), at: 1)
            }
            segments.append(HL7Segment(fields: fields, encoding: encoding))
        }
        guard segments.first?.id == "MSH" else {
            throw HL7Error(
                .segmentSequence, "the message does not begin with an MSH segment", at: HL7Location(segment: "MSH"), reject: true)
        }
        return HL7Message(encoding: encoding, segments: segments, characterSet: characterSet)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }
}

/// HL7 date/time values (DTM, TS: `YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]`, v2.5 2.A.22).
public enum HL7DateTime {
    /// The instant a DTM names; without an offset it is read in `defaultOffsetSeconds` (China Standard Time by default).
    public static func parse(_ text: String, defaultOffsetSeconds: Int = AllianceTime.zone.secondsFromGMT()) -> Date? {
        var digits = text.trimmingCharacters(in: .whitespaces)
        if digits.isEmpty { return nil }
        var offset = defaultOffsetSeconds
        if let signIndex = digits.firstIndex(where: { $0 == "+" || $0 == "-" }) {
            let zone = digits[digits.index(after: signIndex)...]
            guard zone.count == 4, let hours = Int(zone.prefix(2)), let minutes = Int(zone.suffix(2)) else { return nil }
            offset = (hours * 3600 + minutes * 60) * (digits[signIndex] == "-" ? -1 : 1)
            digits = String(digits[..<signIndex])
        }
        var fraction = 0.0
        if let dot = digits.firstIndex(of: ".") {
            fraction = Double("0" + digits[dot...]) ?? 0
            digits = String(digits[..<dot])
        }
        guard digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), [4, 6, 8, 10, 12, 14].contains(digits.count) else {
            return nil
        }
        let padded = digits + String("00000101000000".suffix(14 - digits.count))
        func part(_ from: Int, _ length: Int) -> Int {
            let start = padded.index(padded.startIndex, offsetBy: from)
            return Int(padded[start..<padded.index(start, offsetBy: length)]) ?? 0
        }
        var components = DateComponents()
        components.year = part(0, 4)
        components.month = part(4, 2)
        components.day = part(6, 2)
        components.hour = part(8, 2)
        components.minute = part(10, 2)
        components.second = part(12, 2)
        guard (1...12).contains(components.month ?? 0), (1...31).contains(components.day ?? 0), (0...23).contains(components.hour ?? 0),
            (0...59).contains(components.minute ?? 0), (0...60).contains(components.second ?? 0)
        else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        guard let zone = TimeZone(secondsFromGMT: offset) else { return nil }
        calendar.timeZone = zone
        return calendar.date(from: components).map { $0.addingTimeInterval(fraction) }
    }

    /// A birth date (`YYYYMMDD…`) as `YYYY-MM-DD`, or nil.
    public static func birthDate(_ text: String) -> String? {
        let digits = text.prefix(8)
        guard digits.count == 8, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let s = String(digits)
        let y = s.prefix(4)
        let m = s.dropFirst(4).prefix(2)
        let d = s.suffix(2)
        guard let month = Int(m), (1...12).contains(month), let day = Int(d), (1...31).contains(day) else { return nil }
        return "\(y)-\(m)-\(d)"
    }

    /// `date` as a DTM with an offset, in China Standard Time: `YYYYMMDDHHMMSS+0800`.
    public static func format(_ date: Date, offsetSeconds: Int = AllianceTime.zone.secondsFromGMT()) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: offsetSeconds) ?? .gmt
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let sign = offsetSeconds < 0 ? "-" : "+"
        let hours = abs(offsetSeconds) / 3600
        let minutes = abs(offsetSeconds) % 3600 / 60
        return String(
            format: "%04d%02d%02d%02d%02d%02d%@%02d%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0, c.second ?? 0,
            sign, hours, minutes)
    }
}
