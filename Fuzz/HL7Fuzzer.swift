// libFuzzer entry point for the laboratory's HL7 v2 intake as the MLLP listener runs it before anything is stored: the
// MLLP framer (fed in two pieces at a point the input chooses), the ER7 parser with the message's own delimiters,
// escapes and MSH-18 character sets, the ORU^R01 reader, and the ACK written for whatever came of it. Compiled by
// scripts/fuzz with the DICOM module's sources (the GB 18030 decoder) and the Laboratory files it names.
// From the outside: every ACK the receiver writes parses again as HL7 with an MSA segment, and escaping then
// unescaping a parsed field's text gives the text back.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHL7(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var framer = MLLPFramer(maximumMessageBytes: 4096)
    let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    var events = framer.feed(bytes[..<cut])
    events += framer.feed(bytes[cut...])
    var messages: [[UInt8]] = [bytes]
    for event in events {
        if case .message(let body) = event { messages.append(body) }
    }
    for body in messages.prefix(4) {
        let parsed: HL7Message?
        let failure: HL7Error?
        do throws(HL7Error) {
            parsed = try HL7Message.parse(body)
            failure = nil
        } catch {
            parsed = nil
            failure = error
        }
        var code = HL7AcknowledgmentCode.applicationReject
        var readError = failure
        if let parsed {
            do throws(HL7Error) {
                _ = try ORUR01.resultSets(parsed, receivedAt: Date(timeIntervalSince1970: 1_700_000_000))
                code = .applicationAccept
            } catch {
                code = .applicationError
                readError = error
            }
            let encoding = HL7EncodingCharacters()
            for segment in parsed.segments.prefix(8) {
                for n in 1..<min(segment.fields.count, 12) {
                    let text = segment.text(n)
                    precondition(
                        HL7Escaping.unescape(HL7Escaping.escape(text, encoding), encoding) == text,
                        "escaping then unescaping changed a field's text: \(text.debugDescription)")
                }
            }
        }
        let ack = HL7Acknowledgment.ack(
            to: parsed, code: code, error: readError, controlID: "ACK1", at: Date(timeIntervalSince1970: 1_700_000_000))
        guard let reread = try? HL7Message.parse(Array(ack.utf8)) else {
            preconditionFailure("the ACK written does not parse as HL7: \(ack.debugDescription)")
        }
        precondition(reread.segment("MSA") != nil, "the ACK has no MSA segment: \(ack.debugDescription)")
    }
    return 0
}
