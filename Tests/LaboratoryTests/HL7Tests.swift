import AtriumTesting
import DICOM
import Foundation
import Testing

@testable import Laboratory

/// Runs a Python script of this target and returns its standard output; a failing script fails the test with its
/// error output (hl7apy and fhir.resources come from scripts/install-deps).
func python(_ script: String, _ arguments: [String]) async throws -> Data {
    let run = try await Subprocess.runDetached("python3", [Corpus.script("LaboratoryTests", script)] + arguments)
    guard run.status == 0 else {
        throw PeerError("\(script) failed (pip install hl7apy fhir.resources; scripts/install-deps): \(run.errorOutput.suffix(2000))")
    }
    return run.standardOutput
}

@Suite("HL7 v2 parsing, ORU^R01 and ACK")
struct HL7Tests {
    @Test("ORU^R01 messages built by hl7apy (UTF-8, GB 18030, LF, CR LF, other delimiters) read back with the values they were built from")
    func oruCorpus() async throws {
        let directory = try Corpus.temporaryDirectory("atrium-oru")
        _ = try await python("oru_messages.py", [directory])
        let expected = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/expected.json"))) as? [String: Any])
        #expect(expected.count == 5)
        for (name, value) in expected {
            let truth = try #require(value as? [String: Any])
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name).hl7")))
            let message = try HL7Message.parse(bytes)
            #expect(message.controlID == truth["controlID"] as? String, "\(name)")
            #expect(message.header.value(4) == truth["facility"] as? String, "\(name)")
            let sets = try ORUR01.resultSets(message)
            let orders = try #require(truth["orders"] as? [[String: Any]])
            #expect(sets.count == orders.count, "\(name)")
            let patient = try #require(truth["patient"] as? [String: String])
            for (set, order) in zip(sets, orders) {
                #expect(set.patient.id == patient["id"], "\(name)")
                #expect(set.patient.assigningAuthority == patient["authority"], "\(name)")
                #expect(set.patient.familyName == patient["family"], "\(name): Chinese family name intact")
                #expect(set.patient.givenName == patient["given"], "\(name): Chinese given name intact")
                #expect(set.patient.birthDate == patient["birthDate"], "\(name)")
                #expect(set.patient.sex.rawValue == patient["sex"], "\(name)")
                #expect(set.order.placerNumber == order["placer"] as? String, "\(name)")
                #expect(set.order.fillerNumber == order["filler"] as? String, "\(name)")
                #expect(set.order.serviceCode == order["service"] as? String, "\(name)")
                #expect(set.order.serviceText == order["serviceText"] as? String, "\(name)")
                #expect(set.order.observedAt != nil, "\(name)")
                let observations = try #require(order["observations"] as? [[String: Any]])
                #expect(set.observations.count == observations.count, "\(name)")
                for (o, t) in zip(set.observations, observations) {
                    #expect(o.valueType.rawValue == t["type"] as? String, "\(name) \(o.code)")
                    #expect(o.code == t["code"] as? String, "\(name)")
                    #expect(o.codeText == t["text"] as? String, "\(name)")
                    #expect(o.codeSystem == t["system"] as? String, "\(name)")
                    #expect(o.value == t["value"] as? String, "\(name) \(o.code): \(o.value)")
                    #expect(o.numeric == (t["numeric"] as? NSNumber)?.doubleValue, "\(name) \(o.code)")
                    #expect(o.units == t["units"] as? String, "\(name) \(o.code)")
                    #expect(o.referenceRange == t["range"] as? String, "\(name) \(o.code)")
                    #expect(o.abnormalFlags == t["flags"] as? [String], "\(name) \(o.code)")
                    #expect(o.status == t["status"] as? String, "\(name) \(o.code)")
                    #expect((o.loinc != nil) == (t["system"] as? String == "LN"), "\(name) \(o.code): LOINC kept when the system is LN")
                }
            }
        }
    }

    @Test("Escape sequences: delimiters, the escape itself, hexadecimal bytes and line breaks")
    func escapes() {
        let e = HL7EncodingCharacters()
        #expect(HL7Escaping.unescape(#"a\F\b\S\c\T\d\R\e\E\f"#, e) == "a|b^c&d~e\\f")
        #expect(HL7Escaping.unescape(#"\XE5BCA0\"#, e) == "张")
        #expect(HL7Escaping.unescape(#"one\.br\two"#, e) == "one\ntwo")
        #expect(HL7Escaping.unescape(#"\H\bold\N\"#, e) == "bold")
        let text = "x|y^z&w~v\\u"
        #expect(HL7Escaping.unescape(HL7Escaping.escape(text, e), e) == text)
    }

    @Test("HL7 dates: offsets, partial precision, invalid values refused")
    func dates() throws {
        let utc = try #require(HL7DateTime.parse("20261201083000+0000"))
        #expect(utc.timeIntervalSince1970 == 1_796_113_800)
        let china = try #require(HL7DateTime.parse("20261201163000+0800"))
        #expect(china == utc)
        // Without an offset: China Standard Time.
        #expect(HL7DateTime.parse("202612011630") == utc.addingTimeInterval(0))
        #expect(HL7DateTime.parse("2026130112") == nil)
        #expect(HL7DateTime.parse("abc") == nil)
        #expect(HL7DateTime.birthDate("19580312") == "1958-03-12")
        #expect(HL7DateTime.birthDate("19581312") == nil)
    }

    static func message(_ segments: [String]) -> [UInt8] { Array(segments.joined(separator: "\r").utf8) }
    static let header = "MSH|^~\\&|LIS|COUNTY-A-LAB|ATRIUM|ATRIUM|20261201083000||ORU^R01|C1|P|2.5"
    static let pid = "PID|1||P9^^^X^MR||WANG^WEI||19800101|M"
    static let obr = "OBR|1|PL|FL|24323-8^Panel^LN|||20261201083000"

    @Test(
        "Malformed messages are refused with the location and table 0357 condition of the problem",
        arguments: [
            (["PID|1||X"], HL7ErrorCondition.segmentSequence, HL7AcknowledgmentCode.applicationReject, "MSH", nil as Int?),
            (["MSH|^~\\^|LIS|F|||||ORU^R01|C1|P|2.5"], .dataType, .applicationReject, "MSH", 2),
            ([header, pid, obr, "OBX|1|NM|2823-3^K^LN||abc|mmol/L|||||F"], .dataType, .applicationError, "OBX", 5),
            ([header, pid, obr, "OBX|1|XX|2823-3^K^LN||1|mmol/L|||||F"], .tableValueNotFound, .applicationError, "OBX", 2),
            ([header, pid, obr, "OBX|1|NM|||1|mmol/L|||||F"], .requiredFieldMissing, .applicationError, "OBX", 3),
            ([header, "OBR|1|PL|FL|X|||20261201"], .segmentSequence, .applicationError, "OBR", nil),
            (
                [header.replacingOccurrences(of: "ORU^R01", with: "ADT^A01"), pid, obr], .unsupportedMessageType, .applicationReject, "MSH",
                9
            ),
            ([header.replacingOccurrences(of: "ORU^R01", with: "ORU^R30"), pid, obr], .unsupportedEventCode, .applicationReject, "MSH", 9),
            ([header.replacingOccurrences(of: "|C1|", with: "||"), pid, obr], .requiredFieldMissing, .applicationError, "MSH", 10),
            ([header.replacingOccurrences(of: "|2.5", with: "|9.9"), pid, obr], .unsupportedVersionID, .applicationReject, "MSH", 12),
            ([header, "PID|1||P9||WANG||1980XX01|M", obr], .dataType, .applicationError, "PID", 7),
            ([header, pid, obr, "OBX|1|NM|2823-3^K^LN||4.1|mmol/L|||||Q"], .tableValueNotFound, .applicationError, "OBX", 11),
            ([header, pid, obr], .segmentSequence, .applicationError, "OBR", nil),
            ([header + "||||||ISO IR87", pid, obr], .tableValueNotFound, .applicationReject, "MSH", 18),
            (
                [header.replacingOccurrences(of: "|P|2.5", with: "|X|2.5"), pid, obr], .unsupportedProcessingID, .applicationReject, "MSH",
                11
            ),
        ])
    func malformed(_ segments: [String], condition: HL7ErrorCondition, code: HL7AcknowledgmentCode, segment: String, field: Int?) {
        do {
            let message = try HL7Message.parse(Self.message(segments))
            _ = try ORUR01.resultSets(message)
            Issue.record("accepted: \(segments)")
        } catch {
            #expect(error.condition == condition, "\(error)")
            #expect(error.acknowledgment == code, "\(error)")
            #expect(error.location?.segment == segment, "\(error)")
            #expect(error.location?.field == field, "\(error)")
        }
    }

    @Test("Two patients in one message: each OBR belongs to the PID before it")
    func twoPatients() throws {
        let text = [
            Self.header, Self.pid, Self.obr, "OBX|1|NM|2823-3^K^LN||4.1|mmol/L|||||F",
            "PID|2||Q7^^^Y^MR||LI^NA||19900101|F", "OBR|2|PL2|FL2|58410-2^CBC^LN|||20261201", "OBX|1|NM|718-7^Hb^LN||120|g/L|||||F",
        ]
        let sets = try ORUR01.resultSets(try HL7Message.parse(Self.message(text)))
        #expect(sets.map(\.patient.id) == ["P9", "Q7"])
        #expect(sets.map(\.patient.sex) == [.male, .female])
        #expect(sets.map { $0.observations.map(\.code) } == [["2823-3"], ["718-7"]])
    }

    @Test("A message in GB 18030 whose Chinese bytes contain the delimiters' byte values is still split correctly")
    func gb18030Delimiters() throws {
        // In GB 18030 亅 is 0x81 0x7C (its second byte is '|'), 乛 is 0x81 0x5E ('^'), 乗 is 0x81 0x5C ('\\').
        let name = "亅乛乗"
        let text =
            HL7Tests.header + "||||||GB 18030-2000\r" + "PID|1||P9^^^X^MR||\(name)^伟||19800101|M\r" + HL7Tests.obr
            + "\rOBX|1|NM|2823-3^K^LN||4.1|mmol/L|||||F"
        let bytes = SpecificCharacterSet.gb18030.encode(text, vr: .UT)
        #expect(bytes.contains(0x81) && bytes.count > text.utf8.count - 20)
        let sets = try ORUR01.resultSets(try HL7Message.parse(bytes))
        #expect(sets.first?.patient.familyName == name)
        #expect(sets.first?.patient.givenName == "伟")
    }

    @Test("ACKs name the message control ID; NAKs carry ERR-2 location, ERR-3 condition, ERR-4 severity and the reason")
    func acknowledgments() throws {
        let message = try HL7Message.parse(Self.message([Self.header, Self.pid, Self.obr]))
        let ack = HL7Acknowledgment.ack(to: message, code: .applicationAccept, controlID: "A1")
        let parsedAck = try HL7Message.parse(Array(ack.utf8))
        #expect(parsedAck.segment("MSA")?.value(1) == "AA")
        #expect(parsedAck.segment("MSA")?.value(2) == "C1")
        #expect(parsedAck.segment("ERR") == nil)
        #expect(parsedAck.header.value(5) == "LIS")
        #expect(parsedAck.header.value(6) == "COUNTY-A-LAB")
        let error = HL7Error(.dataType, "OBX-5 is not a number | though NM", at: HL7Location(segment: "OBX", sequence: 2, field: 5))
        let nak = try HL7Message.parse(
            Array(HL7Acknowledgment.ack(to: message, code: .applicationError, error: error, controlID: "A2").utf8))
        let err = try #require(nak.segment("ERR"))
        #expect(nak.segment("MSA")?.value(1) == "AE")
        #expect(err.value(2) == "OBX")
        #expect(err.value(2, component: 2) == "2")
        #expect(err.value(2, component: 3) == "5")
        #expect(err.value(3) == "102")
        #expect(err.value(3, component: 3) == "HL70357")
        #expect(err.value(4) == "E")
        #expect(err.value(8) == "OBX-5 is not a number | though NM")
    }

    @Test("MLLP framing: frames split across reads, several per read, noise between frames, and oversized messages")
    func framing() {
        var framer = MLLPFramer(maximumMessageBytes: 64)
        let one = MLLPFramer.frame(Array("MSH|one".utf8))
        let two = MLLPFramer.frame(Array("MSH|two\u{1C}x".utf8))
        var events = framer.feed(one.prefix(3))
        #expect(events.isEmpty)
        events = framer.feed(Array(one.dropFirst(3)) + [0x0D, 0x0A] + two)
        #expect(events == [.message(Array("MSH|one".utf8)), .message(Array("MSH|two\u{1C}x".utf8))])
        let big = MLLPFramer.frame(Array(("MSH|big\r" + String(repeating: "x", count: 200)).utf8))
        events = framer.feed(big + one)
        #expect(events.count == 2)
        if case .oversized(let bytes, let head) = events.first {
            #expect(bytes == 208)
            #expect(head == Array("MSH|big".utf8))
        } else {
            Issue.record("no oversized event: \(events)")
        }
        #expect(events.last == .message(Array("MSH|one".utf8)))
    }
}
