import Foundation
import Testing

@testable import DICOM

// Expected values come from pydicom 3, Python's codecs and dcmtk (through Scripts/charset_oracle.py) and from the
// examples printed in PS3.5 Annexes H, I, J and K; never from Atrium's own output.

/// A value and what an independent decoder reads from it.
struct CharsetCase: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let terms: [String]
    let vr: String
    let hex: String
    let expected: String?
    let oracle: String

    var testDescription: String { "\(name) [\(oracle)]" }
    var bytes: [UInt8] { bytesFromHex(hex) }
    var valueRepresentation: VR { VR(vr) ?? .LO }
}

/// Runs Scripts/charset_oracle.py; a missing python3, pydicom or dcmtk fails the test with how to install it.
enum CharsetOracle {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Scripts/charset_oracle.py")

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func run(_ arguments: [String], input: Data? = nil) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path] + arguments
        let stdout = Pipe()
        let stderr = Pipe()
        let stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = stdin
        do {
            try process.run()
        } catch {
            throw Failure(description: "cannot run python3 (apt-get install python3 python3-pip): \(error)")
        }
        // The script reads all of its input before it writes, and its error output is small.
        if let input { stdin.fileHandleForWriting.write(input) }
        try? stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errorText = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errorText, as: UTF8.self)
            throw Failure(
                description: """
                    charset_oracle.py failed (needs pydicom 3.0.1: pip install pydicom==3.0.1, and dcmtk: \
                    apt-get install dcmtk): \(message)
                    """
            )
        }
        return output
    }

    /// The cases, computed once per test run.
    static let cases: Result<[CharsetCase], Failure> = Result {
        try JSONDecoder().decode([CharsetCase].self, from: run(["cases"]))
    }.mapError { $0 as? Failure ?? Failure(description: "\($0)") }

    static func allCases() throws -> [CharsetCase] { try cases.get() }

    /// How pydicom and dcmtk read values Atrium encoded.
    struct Reading: Decodable {
        let pydicom: String?
        let dcmtk: String?
    }

    struct Request: Encodable {
        let terms: [String]
        let vr: String
        let hex: String
    }

    static func read(_ requests: [Request]) throws -> [Reading] {
        try JSONDecoder().decode([Reading].self, from: run(["decode"], input: JSONEncoder().encode(requests)))
    }
}

private func bytesFromHex(_ hex: String) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(hex.utf8.count / 2)
    var high: UInt8?
    for c in hex.utf8 {
        let nibble: UInt8
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = c - UInt8(ascii: "A") + 10
        default: continue
        }
        if let h = high {
            bytes.append(h << 4 | nibble)
            high = nil
        } else {
            high = nibble
        }
    }
    return bytes
}

private func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16, uppercase: true).leftPadded(to: 2) }.joined(separator: " ")
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

/// A decoded value as pydicom and dcmtk hand it out: values split at "\" (not in LT, ST, UT), trailing spaces and
/// NULs removed, and for PN the empty trailing component groups dropped (both drop "=" at the end of a name).
private func normalized(_ text: String, vr: VR) -> String {
    let values = vr.isSingleValuedText ? [Substring(text)] : text.split(separator: "\\", omittingEmptySubsequences: false)
    return values.map { value -> String in
        var v = value
        while let last = v.last, last == " " || last == "\0" { v = v.dropLast() }
        if vr == .PN { while v.last == "=" { v = v.dropLast() } }
        return String(v)
    }.joined(separator: "\\")
}

/// Where two strings first differ, for readable failures on long values.
private func firstDifference(_ a: String, _ b: String) -> String? {
    let x = Array(a.unicodeScalars)
    let y = Array(b.unicodeScalars)
    for i in 0..<max(x.count, y.count) where i >= x.count || i >= y.count || x[i] != y[i] {
        func show(_ s: [Unicode.Scalar]) -> String {
            s[i..<min(s.count, i + 4)].map { "U+" + String($0.value, radix: 16, uppercase: true) }.joined(separator: " ")
        }
        return "scalar \(i): Atrium \(show(x)) vs expected \(show(y))"
    }
    return nil
}

@Suite("Specific Character Set")
struct CharacterSetTests {
    // MARK: Against pydicom, Python's codecs and dcmtk

    @Test(
        "Every value of pydicom's charset files and every constructed value decodes as pydicom, Python or dcmtk reads it",
        arguments: try CharsetOracle.allCases()
    )
    func decodesAsTheOracle(_ testCase: CharsetCase) throws {
        let expected = try #require(testCase.expected, "the oracle gave no reading for \(testCase.name)")
        let characterSet = SpecificCharacterSet(terms: testCase.terms)
        let vr = testCase.valueRepresentation
        let decoded = normalized(characterSet.decode(testCase.bytes, vr: vr), vr: vr)
        let normalizedExpected = normalized(expected, vr: vr)
        let matches = decoded == normalizedExpected
        #expect(matches, "\(testCase.name): \(firstDifference(decoded, normalizedExpected) ?? "")")
        #expect(characterSet.unknownTerms.isEmpty)
    }

    @Test("The oracle cases cover every character set the brief lists")
    func coverage() throws {
        let terms = Set(try CharsetOracle.allCases().flatMap(\.terms))
        let required = [
            "ISO_IR 100", "ISO_IR 101", "ISO_IR 109", "ISO_IR 110", "ISO_IR 126", "ISO_IR 127", "ISO_IR 138", "ISO_IR 144",
            "ISO_IR 148", "ISO_IR 166", "ISO_IR 13", "ISO_IR 192", "GB18030", "GBK", "ISO 2022 IR 87", "ISO 2022 IR 159",
            "ISO 2022 IR 149", "ISO 2022 IR 58", "ISO 2022 IR 13", "ISO 2022 IR 100", "ISO 2022 IR 144",
        ]
        for term in required { #expect(terms.contains(term), "no case for \(term)") }
    }

    // MARK: The standard's examples (PS3.5 Annexes H, I, J, K)

    struct AnnexExample: Sendable, CustomTestStringConvertible {
        let section: String
        let terms: String
        let vr: VR
        let bytes: [UInt8]
        let text: String
        var testDescription: String { "PS3.5 \(section)" }
    }

    static let jisX0208: [UInt8] = [0x1B, 0x24, 0x42]
    static let ascii: [UInt8] = [0x1B, 0x28, 0x42]
    static let jisRoman: [UInt8] = [0x1B, 0x28, 0x4A]
    static let ksX1001: [UInt8] = [0x1B, 0x24, 0x29, 0x43]
    static let gb2312: [UInt8] = [0x1B, 0x24, 0x29, 0x41]

    static let annexExamples: [AnnexExample] = [
        AnnexExample(
            section: "H.3.1 (Japanese, ISO 2022 IR 87)", terms: "\\ISO 2022 IR 87", vr: .PN,
            bytes: Array("Yamada^Tarou=".utf8) + jisX0208 + Array(";3ED".utf8) + ascii + [0x5E] + jisX0208 + Array("B@O:".utf8)
                + ascii + [0x3D] + jisX0208 + Array("$d$^$@".utf8) + ascii + [0x5E] + jisX0208 + Array("$?$m$&".utf8) + ascii,
            text: "Yamada^Tarou=山田^太郎=やまだ^たろう"
        ),
        AnnexExample(
            section: "H.3.2 (Japanese, ISO 2022 IR 13 and IR 87)", terms: "ISO 2022 IR 13\\ISO 2022 IR 87", vr: .PN,
            bytes: [0xD4, 0xCF, 0xC0, 0xDE, 0x5E, 0xC0, 0xDB, 0xB3, 0x3D] + jisX0208 + Array(";3ED".utf8) + jisRoman + [0x5E]
                + jisX0208 + Array("B@O:".utf8) + jisRoman + [0x3D] + jisX0208 + Array("$d$^$@".utf8) + jisRoman + [0x5E]
                + jisX0208 + Array("$?$m$&".utf8) + jisRoman,
            text: "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"
        ),
        AnnexExample(
            section: "I.2 (Korean, ISO 2022 IR 149)", terms: "\\ISO 2022 IR 149", vr: .PN,
            bytes: Array("Hong^Gildong=".utf8) + ksX1001 + [0xFB, 0xF3, 0x5E] + ksX1001 + [0xD1, 0xCE, 0xD4, 0xD7, 0x3D] + ksX1001
                + [0xC8, 0xAB, 0x5E] + ksX1001 + [0xB1, 0xE6, 0xB5, 0xBF],
            text: "Hong^Gildong=洪^吉洞=홍^길동"
        ),
        AnnexExample(
            section: "J.1 (Chinese, ISO_IR 192)", terms: "ISO_IR 192", vr: .PN,
            bytes: Array("Wang^XiaoDong=".utf8) + [0xE7, 0x8E, 0x8B, 0x5E, 0xE5, 0xB0, 0x8F, 0xE6, 0x9D, 0xB1, 0x3D],
            text: "Wang^XiaoDong=王^小東="
        ),
        AnnexExample(
            section: "J.2 (Chinese, ISO_IR 192, LT)", terms: "ISO_IR 192", vr: .LT,
            bytes: Array("The first line includes".utf8) + [0xE4, 0xB8, 0xAD, 0xE6, 0x96, 0x87]
                + Array(".\r\nThe second line includes".utf8)
                + [0xE4, 0xB8, 0xAD, 0xE6, 0x96, 0x87] + Array(", too.\r\nThe third line.\r\n".utf8),
            text: "The first line includes中文.\r\nThe second line includes中文, too.\r\nThe third line.\r\n"
        ),
        AnnexExample(
            section: "J.3 (Chinese, GB18030)", terms: "GB18030", vr: .PN,
            bytes: Array("Wang^XiaoDong=".utf8) + [0xCD, 0xF5, 0x5E, 0xD0, 0xA1, 0xB6, 0xAB, 0x3D],
            text: "Wang^XiaoDong=王^小东="
        ),
        AnnexExample(
            section: "J.4 (Chinese, GB18030, LT)", terms: "GB18030", vr: .LT,
            bytes: Array("The first line includes".utf8) + [0xD6, 0xD0, 0xCE, 0xC4] + Array(".\r\nThe second line includes".utf8)
                + [0xD6, 0xD0, 0xCE, 0xC4] + Array(", too.\r\nThe third line.\r\n".utf8),
            text: "The first line includes中文.\r\nThe second line includes中文, too.\r\nThe third line.\r\n"
        ),
        AnnexExample(
            section: "K.2 (Chinese, ISO 2022 IR 58)", terms: "\\ISO 2022 IR 58", vr: .PN,
            bytes: Array("Zhang^XiaoDong=".utf8) + gb2312 + [0xD5, 0xC5, 0x5E] + gb2312 + [0xD0, 0xA1, 0xB6, 0xAB, 0x3D],
            text: "Zhang^XiaoDong=张^小东="
        ),
        AnnexExample(
            section: "K.3 (Chinese, ISO 2022 IR 58, LT)", terms: "\\ISO 2022 IR 58", vr: .LT,
            bytes: Array("1.".utf8) + gb2312 + [0xB5, 0xDA, 0xD2, 0xBB, 0xD0, 0xD0, 0xCE, 0xC4, 0xD7, 0xD6, 0xA1, 0xA3, 0x0D, 0x0A]
                + Array("2.".utf8) + gb2312 + [0xB5, 0xDA, 0xB6, 0xFE, 0xD0, 0xD0, 0xCE, 0xC4, 0xD7, 0xD6, 0xA1, 0xA3, 0x0D, 0x0A]
                + Array("3.".utf8) + gb2312 + [0xB5, 0xDA, 0xC8, 0xFD, 0xD0, 0xD0, 0xCE, 0xC4, 0xD7, 0xD6, 0xA1, 0xA3, 0x0D, 0x0A],
            text: "1.第一行文字。\r\n2.第二行文字。\r\n3.第三行文字。\r\n"
        ),
    ]

    @Test("The standard's examples decode to the text the standard prints", arguments: annexExamples)
    func annexDecoding(_ example: AnnexExample) {
        let characterSet = SpecificCharacterSet(specificCharacterSet: example.terms)
        #expect(characterSet.decode(example.bytes, vr: example.vr) == example.text)
        #expect(characterSet.decode(example.bytes + [0x20], vr: example.vr) == example.text + " ", "padding is kept")
    }

    @Test("Encoding the standard's examples gives the bytes the standard prints, escape sequences included", arguments: annexExamples)
    func annexEncoding(_ example: AnnexExample) {
        let characterSet = SpecificCharacterSet(specificCharacterSet: example.terms)
        let encoded = characterSet.encode(example.text, vr: example.vr)
        #expect(hexString(encoded) == hexString(example.bytes))
        #expect(characterSet.canEncode(example.text))
    }

    // MARK: Round trips, read back by pydicom and dcmtk

    enum Reader: Sendable {
        case pydicom, dcmtk
    }

    struct RoundTrip: Sendable, CustomTestStringConvertible {
        let terms: String
        let vr: VR
        let text: String
        /// Which independent reader checks the bytes: pydicom, or dcmtk where pydicom cannot (IR 58 escapes kept,
        /// JIS X 0201 Romaji 07/14 read as ASCII "~").
        let reader: Reader
        var testDescription: String { "\(terms) \(vr) \(text)" }
    }

    static let roundTrips: [RoundTrip] = [
        RoundTrip(terms: "ISO_IR 100", vr: .PN, text: "Buc^Jérôme\\Müller^Ånne", reader: .pydicom),
        RoundTrip(terms: "ISO_IR 101", vr: .LO, text: "Łódź Świętokrzyska Žluťoučký", reader: .pydicom),
        RoundTrip(terms: "ISO_IR 109", vr: .LO, text: "Ħal Għargħur ĉu ĝi", reader: .pydicom),
        RoundTrip(terms: "ISO_IR 110", vr: .LO, text: "Ķīlis Ļaudona Ņ Ŗ", reader: .pydicom),
        RoundTrip(terms: "ISO_IR 126", vr: .PN, text: "Διονυσιος^Αλέξης", reader: .pydicom),
        RoundTrip(terms: "ISO_IR 127", vr: .PN, text: "قباني^لنزار", reader: .pydicom),
        RoundTrip(terms: "ISO_IR 138", vr: .PN, text: "שרון^דבורה", reader: .pydicom),
        RoundTrip(terms: "ISO_IR 144", vr: .PN, text: "Люксембург^Ёжик", reader: .pydicom),
        RoundTrip(terms: "ISO_IR 148", vr: .LO, text: "İstanbul Ğ ş ı", reader: .pydicom),
        RoundTrip(terms: "ISO_IR 166", vr: .LO, text: "ภาษาไทย สวัสดี", reader: .pydicom),
        RoundTrip(terms: "ISO_IR 13", vr: .PN, text: "ﾔﾏﾀﾞ^ﾀﾛｳ", reader: .pydicom),
        RoundTrip(terms: "ISO_IR 13", vr: .LT, text: "ｱｲｳ ¥100 ‾", reader: .dcmtk),
        RoundTrip(terms: "ISO_IR 192", vr: .PN, text: "Wang^XiaoDong=王^小東\\𠀀^😀", reader: .pydicom),
        RoundTrip(terms: "GB18030", vr: .PN, text: "Wang^XiaoDong=王^小东\\𠀀^€", reader: .pydicom),
        RoundTrip(terms: "GB18030", vr: .LT, text: "诊断意见：右肺上叶见结节影\r\n𠀀𪚥 四字节\\乗", reader: .pydicom),
        RoundTrip(terms: "GBK", vr: .LO, text: "乗\\表\\王小东", reader: .pydicom),
        RoundTrip(terms: "\\ISO 2022 IR 87", vr: .PN, text: "Yamada^Tarou=山田^太郎=やまだ^たろう", reader: .pydicom),
        RoundTrip(terms: "\\ISO 2022 IR 87", vr: .LO, text: "倍\\接 CT", reader: .pydicom),
        RoundTrip(terms: "\\ISO 2022 IR 87\\ISO 2022 IR 159", vr: .PN, text: "Sato^Ikko=佐藤^丂一=さとう", reader: .pydicom),
        RoundTrip(terms: "ISO 2022 IR 13\\ISO 2022 IR 87", vr: .PN, text: "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう", reader: .pydicom),
        RoundTrip(terms: "\\ISO 2022 IR 149", vr: .PN, text: "Hong^Gildong=洪^吉洞=홍^길동", reader: .pydicom),
        RoundTrip(terms: "\\ISO 2022 IR 149", vr: .LT, text: "The 1st line includes 길동.\r\nThe 2nd line 길동.", reader: .pydicom),
        RoundTrip(terms: "\\ISO 2022 IR 58", vr: .PN, text: "Zhang^XiaoDong=张^小东", reader: .dcmtk),
        RoundTrip(terms: "\\ISO 2022 IR 58", vr: .LO, text: "张三\\Li Si\\李四", reader: .dcmtk),
        RoundTrip(terms: "ISO 2022 IR 100\\ISO 2022 IR 144", vr: .PN, text: "Jérôme^Люк", reader: .pydicom),
        RoundTrip(terms: "ISO 2022 IR 6\\ISO 2022 IR 126\\ISO 2022 IR 138", vr: .LO, text: "Δ שרון Ω", reader: .pydicom),
    ]

    static let roundTripReadings: Result<[CharsetOracle.Reading], CharsetOracle.Failure> = Result {
        try CharsetOracle.read(
            roundTrips.map { trip in
                let characterSet = SpecificCharacterSet(specificCharacterSet: trip.terms)
                return CharsetOracle.Request(
                    terms: characterSet.terms, vr: trip.vr.description, hex: hexString(characterSet.encode(trip.text, vr: trip.vr))
                )
            }
        )
    }.mapError { $0 as? CharsetOracle.Failure ?? CharsetOracle.Failure(description: "\($0)") }

    @Test("Encoding then decoding gives the text back, and pydicom or dcmtk read the same text", arguments: roundTrips.indices)
    func roundTrip(_ index: Int) throws {
        let trip = Self.roundTrips[index]
        let characterSet = SpecificCharacterSet(specificCharacterSet: trip.terms)
        let encoded = characterSet.encode(trip.text, vr: trip.vr)
        #expect(characterSet.canEncode(trip.text, vr: trip.vr), "\(trip.testDescription)")
        #expect(characterSet.decode(encoded, vr: trip.vr) == trip.text, "\(trip.testDescription)")
        let reading = try Self.roundTripReadings.get()[index]
        let independent = try #require(trip.reader == .pydicom ? reading.pydicom : reading.dcmtk, "no reading for \(trip.testDescription)")
        #expect(normalized(independent, vr: trip.vr) == normalized(trip.text, vr: trip.vr), "\(trip.testDescription)")
    }

    // MARK: Repertoire limits and malformed input

    @Test("canEncode tells which repertoires hold a text")
    func canEncode() {
        #expect(SpecificCharacterSet(terms: ["ISO_IR 100"]).canEncode("Jérôme"))
        #expect(!SpecificCharacterSet(terms: ["ISO_IR 100"]).canEncode("王"))
        #expect(!SpecificCharacterSet.default.canEncode("é"))
        #expect(SpecificCharacterSet.default.canEncode("Doe^John"))
        #expect(SpecificCharacterSet.utf8.canEncode("王𠀀😀"))
        #expect(SpecificCharacterSet.gb18030.canEncode("王𠀀😀"), "GB18030 four-byte forms cover all of Unicode")
        #expect(!SpecificCharacterSet(terms: ["GBK"]).canEncode("𠀀"), "GBK has no four-byte forms")
        #expect(SpecificCharacterSet(terms: ["GBK"]).canEncode("王小东"))
        #expect(SpecificCharacterSet(terms: ["", "ISO 2022 IR 87"]).canEncode("山田"))
        #expect(!SpecificCharacterSet(terms: ["", "ISO 2022 IR 87"]).canEncode("홍"))
        #expect(!SpecificCharacterSet(terms: ["ISO_IR 13"]).canEncode("¥", vr: .PN), "05/12 is the delimiter in PN")
        #expect(SpecificCharacterSet(terms: ["ISO_IR 13"]).canEncode("¥", vr: .LT))
        #expect(SpecificCharacterSet(terms: ["ISO_IR 100"]).encode("王^é", vr: .PN) == [0x3F, 0x5E, 0xE9])
    }

    @Test("Unknown terms are reported and read as ISO_IR 100")
    func unknownTerms() {
        let characterSet = SpecificCharacterSet(specificCharacterSet: "ISO_IR 999")
        #expect(characterSet.unknownTerms == ["ISO_IR 999"])
        #expect(characterSet.decode([0x4A, 0xE9], vr: .LO) == "Jé")  // E9 is é in ISO 8859-1
        let misspelled = SpecificCharacterSet(specificCharacterSet: "ISO-IR 144")
        #expect(misspelled.unknownTerms == ["ISO-IR 144"])
        #expect(misspelled.decode([0xBB], vr: .LO) == "Л")  // BB is Л in ISO 8859-5
        #expect(SpecificCharacterSet(specificCharacterSet: "\\ISO 2022 IR 87").unknownTerms.isEmpty)
        #expect(SpecificCharacterSet(specificCharacterSet: "ISO_IR 6").unknownTerms.isEmpty)
        #expect(
            SpecificCharacterSet.default.decode([0x41, 0xE9], vr: .LO) == "Aé",
            "high bytes without a charset read as ISO 8859-1, as pydicom does")
    }

    @Test("Malformed bytes become U+FFFD and never crash")
    func malformed() {
        let replacement = "\u{FFFD}"
        // A truncated escape sequence, an unknown one, a lone lead byte, a GBK pair whose second byte is 05/12.
        #expect(SpecificCharacterSet(specificCharacterSet: "\\ISO 2022 IR 87").decode([0x41, 0x1B, 0x24], vr: .LO) == "A" + replacement)
        #expect(
            SpecificCharacterSet(specificCharacterSet: "\\ISO 2022 IR 87").decode([0x1B, 0x25, 0x47, 0x41], vr: .LO) == replacement + "A")
        #expect(
            SpecificCharacterSet(specificCharacterSet: "\\ISO 2022 IR 149").decode([0x1B, 0x24, 0x29, 0x43, 0xB1], vr: .LO) == replacement)
        #expect(SpecificCharacterSet(terms: ["GB18030"]).decode([0x41, 0xB1], vr: .LO) == "A" + replacement)
        #expect(
            SpecificCharacterSet(terms: ["GBK"]).decode([0xA1, 0x5C, 0x41], vr: .LO) == replacement + "A",
            "05/12 inside a pair is no delimiter")
        #expect(SpecificCharacterSet.utf8.decode([0x41, 0xFF, 0x42], vr: .LO) == "A" + replacement + "B")
        // Random bytes in every scheme.
        var generator = SystemRandomNumberGenerator()
        let sets = [
            "", "ISO_IR 100", "ISO_IR 13", "ISO_IR 192", "GB18030", "GBK", "\\ISO 2022 IR 87\\ISO 2022 IR 159",
            "ISO 2022 IR 13\\ISO 2022 IR 87", "\\ISO 2022 IR 149", "\\ISO 2022 IR 58", "ISO 2022 IR 100\\ISO 2022 IR 166", "bogus",
        ].map(SpecificCharacterSet.init(specificCharacterSet:))
        for _ in 0..<300 {
            let bytes = (0..<Int.random(in: 0..<64, using: &generator)).map { _ in
                Bool.random(using: &generator)
                    ? UInt8.random(in: 0...255, using: &generator)
                    : [0x1B, 0x24, 0x28, 0x29, 0x5C, 0x5E, 0x42][Int.random(in: 0..<7, using: &generator)]
            }
            for characterSet in sets {
                for vr in [VR.PN, .LO, .LT] {
                    let text = characterSet.decode(bytes, vr: vr)
                    _ = characterSet.encode(text, vr: vr)
                }
            }
        }
    }

    // MARK: The hot path

    @Test("Plain ASCII and UTF-8 values decode without iconv, fast")
    func fastPath() {
        let value = Array("DOE^JOHN^^^DR\\SMITH^JANE  ".utf8)
        let utf8Value = Array("Wang^XiaoDong=王^小東=".utf8)
        let sets = ["ISO_IR 100", "GB18030", "GBK", "\\ISO 2022 IR 87", "ISO_IR 192", ""].map(
            SpecificCharacterSet.init(specificCharacterSet:))
        let iterations = 100_000
        var total = 0
        let counter = ConversionCounter()
        let elapsed = Iconv.$conversionCounter.withValue(counter) {
            ContinuousClock().measure {
                for i in 0..<iterations {
                    total &+= sets[i % sets.count].decode(value, vr: .PN).utf8.count
                    total &+= SpecificCharacterSet.utf8.decode(utf8Value, vr: .PN).utf8.count
                }
            }
        }
        #expect(counter.value == 0, "a plain value went through iconv")
        // The counter does see values that need iconv.
        Iconv.$conversionCounter.withValue(counter) {
            #expect(SpecificCharacterSet.gb18030.decode([0xCD, 0xF5], vr: .PN) == "王")  // PS3.5 J.3
        }
        #expect(counter.value == 1)
        #expect(total > 0)
        let perValue = elapsed / (iterations * 2)
        print("decoding a plain ASCII or UTF-8 value: \(perValue) each")
        #expect(perValue < .microseconds(20))
    }

    @Test("Many tasks decode and encode at once with the same results")
    func concurrentUse() async {
        let examples = Self.annexExamples
        let failures = await withTaskGroup(of: Int.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var failures = 0
                    for round in 0..<200 {
                        let example = examples[(task + round) % examples.count]
                        let characterSet = SpecificCharacterSet(specificCharacterSet: example.terms)
                        if characterSet.decode(example.bytes, vr: example.vr) != example.text { failures += 1 }
                        if characterSet.encode(example.text, vr: example.vr) != example.bytes { failures += 1 }
                    }
                    return failures
                }
            }
            return await group.reduce(0, +)
        }
        #expect(failures == 0)
    }
}
