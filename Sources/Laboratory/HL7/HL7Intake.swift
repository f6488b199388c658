import Foundation

/// What happened to one received message: the ACK to send back, and for the log, the outcome without patient data.
public struct HL7IntakeOutcome: Sendable, Equatable {
    public var ack: [UInt8]
    public var code: HL7AcknowledgmentCode
    /// The error behind an AE/AR (its reason names fields, never values).
    public var error: HL7Error?
    /// The ids of the result sets stored (empty unless AA).
    public var stored: [String]
    /// MSH-10 of the message, when it could be read.
    public var controlID: String
}

/// Takes received HL7 v2 messages: parses, checks the sending facility against the facility table, reads ORU^R01 into
/// result sets and stores them in one transaction only when everything is valid; answers with AA, AE or AR.
public struct HL7Intake: Sendable {
    let store: LaboratoryStore
    let clock: @Sendable () -> Date

    public init(store: LaboratoryStore, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.clock = clock
    }

    public func receive(_ bytes: [UInt8]) async -> HL7IntakeOutcome {
        let now = clock()
        let ackID = "ACK" + String(UInt64(now.timeIntervalSince1970 * 1000)) + String(UInt32.random(in: 0...999_999))
        let message: HL7Message
        do throws(HL7Error) {
            message = try HL7Message.parse(bytes)
        } catch {
            return outcome(nil, error, ackID, now)
        }
        let facility = message.header.value(4)
        do throws(HL7Error) {
            guard !facility.isEmpty else {
                throw HL7Error(
                    .requiredFieldMissing, "MSH-4 (sending facility) is empty", at: HL7Location(segment: "MSH", field: 4), reject: true)
            }
            let institution: String?
            do {
                institution = try await store.institution(forFacility: facility)
            } catch {
                throw HL7Error(.applicationInternalError, "the facility table could not be read")
            }
            guard let institution else {
                throw HL7Error(
                    .unknownKeyIdentifier, "MSH-4 (sending facility) is not mapped to a partner institution",
                    at: HL7Location(segment: "MSH", field: 4), reject: true)
            }
            let sets = try ORUR01.resultSets(message, receivedAt: now)
            let stored: [ResultSet]
            do {
                stored = try await store.store(sets, institution: institution)
            } catch {
                throw HL7Error(.applicationInternalError, "the results could not be stored")
            }
            let ack = HL7Acknowledgment.ack(to: message, code: .applicationAccept, controlID: ackID, at: now)
            return HL7IntakeOutcome(
                ack: Array(ack.utf8), code: .applicationAccept, error: nil, stored: stored.map(\.id), controlID: message.controlID)
        } catch {
            return outcome(message, error, ackID, now)
        }
    }

    /// The NAK of a message too large to take: AR, with the control ID when the message's first segment could be read.
    public func oversized(head: [UInt8], bytes: Int, limit: Int) -> HL7IntakeOutcome {
        let now = clock()
        let message = try? HL7Message.parse(head)
        let error = HL7Error(
            .applicationInternalError, "the message is larger than this receiver takes (\(limit) bytes)", at: HL7Location(segment: "MSH"),
            reject: true)
        return outcome(message, error, "ACK" + String(UInt64(now.timeIntervalSince1970 * 1000)), now)
    }

    func outcome(_ message: HL7Message?, _ error: HL7Error, _ ackID: String, _ now: Date) -> HL7IntakeOutcome {
        let ack = HL7Acknowledgment.ack(to: message, code: error.acknowledgment, error: error, controlID: ackID, at: now)
        return HL7IntakeOutcome(
            ack: Array(ack.utf8), code: error.acknowledgment, error: error, stored: [], controlID: message?.controlID ?? "")
    }
}
