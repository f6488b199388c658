import Foundation

/// MSA-1 (HL7 table 0008) in original acknowledgment mode.
public enum HL7AcknowledgmentCode: String, Sendable, Equatable {
    /// Application Accept: the message was stored.
    case applicationAccept = "AA"
    /// Application Error: something in the message's content was wrong; nothing was stored.
    case applicationError = "AE"
    /// Application Reject: the message's kind, version or sender is not accepted; nothing was stored.
    case applicationReject = "AR"
}

/// Builds the ACK of a received message (HL7 v2.5 2.9.2 original mode; MSH, MSA and, for AE and AR, an ERR segment with
/// ERR-2 location, ERR-3 table 0357 condition, ERR-4 severity and ERR-8 the reason).
public enum HL7Acknowledgment {
    /// The application and facility this receiver names itself with in MSH-3 and MSH-4.
    public static let application = "ATRIUM"
    public static let facility = "ATRIUM-LAB"

    /// The ACK of `message` (nil when the message could not be parsed at all: then MSA-2 is empty and the header's
    /// addressing is left blank). The ACK is always written in ASCII-safe UTF-8 with the standard delimiters.
    public static func ack(
        to message: HL7Message?, code: HL7AcknowledgmentCode, error: HL7Error? = nil, controlID: String, at time: Date = Date()
    ) -> String {
        let e = HL7EncodingCharacters()
        func esc(_ s: String) -> String { HL7Escaping.escape(s, e) }
        let header = message?.header
        let version = message.map { $0.version.isEmpty ? "2.5" : $0.version } ?? "2.5"
        let event = message?.messageType.event ?? ""
        let sendingApplication = header?.raw(3) ?? ""
        let sendingFacility = header?.raw(4) ?? ""
        let processing = header.map { $0.value(11).isEmpty ? "P" : $0.value(11) } ?? "P"
        let msh = [
            "MSH", e.msh2, application, facility, reencode(sendingApplication, from: message), reencode(sendingFacility, from: message),
            HL7DateTime.format(time), "", "ACK^\(esc(event))^ACK", esc(controlID), esc(processing), esc(version),
        ].joined(separator: String(e.field))
        let msa = ["MSA", code.rawValue, esc(message?.controlID ?? "")].joined(separator: String(e.field))
        var segments = [msh, msa]
        if let error, code != .applicationAccept {
            let location = error.location.map { "\(esc($0.segment))^\($0.sequence)^\($0.field.map(String.init) ?? "")" } ?? ""
            let err = [
                "ERR", "", location, "\(error.condition.rawValue)^\(esc(error.condition.text))^HL70357", "E", "", "", "",
                esc(error.reason),
            ]
            segments.append(err.joined(separator: String(e.field)))
        }
        return segments.joined(separator: "\r") + "\r"
    }

    /// A sender's field written again with the standard delimiters (its components unescaped and escaped again).
    static func reencode(_ raw: String, from message: HL7Message?) -> String {
        guard let message else { return "" }
        let components = raw.split(separator: message.encoding.component, omittingEmptySubsequences: false).map {
            HL7Escaping.escape(HL7Escaping.unescape(String($0), message.encoding))
        }
        return components.joined(separator: "^")
    }
}
