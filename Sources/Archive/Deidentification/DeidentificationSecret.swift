import Crypto
import Foundation

/// The secret that replacement UIDs, pseudonyms and date shifts are derived from. Whoever holds it can tell whether a
/// guessed original UID became a given replacement, so it stays with the server (its data folder) or the person
/// running `atrium anonymize`, never in the output.
public struct DeidentificationSecret: Sendable {
    let key: SymmetricKey

    /// A secret from its bytes (at least 16).
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count >= 16 else { return nil }
        key = SymmetricKey(data: Array(bytes))
    }

    /// 32 random bytes for a new secret.
    public static func generateBytes() -> [UInt8] {
        SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    }

    /// HMAC-SHA256 of `label` and `text` under the secret.
    func mac(_ label: String, _ text: String) -> [UInt8] {
        var message = Array(label.utf8)
        message.append(0)
        message += Array(text.utf8)
        return Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
    }

    /// The replacement for `uid`: `2.25.` and the decimal of a version 8 UUID (RFC 9562) made of the first 128 bits of
    /// HMAC-SHA256(secret, uid) (PS3.5 B.2). The same UID and secret give the same replacement every time.
    public func replacementUID(for uid: String) -> String {
        var bytes = Array(mac("uid", uid).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x80
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        var value: UInt128 = 0
        for b in bytes { value = value << 8 | UInt128(b) }
        return "2.25." + String(value)
    }

    /// The pseudonymous identity of a patient: the same patient ID (and issuer) and secret give the same pseudonym and
    /// the same date shift (between 1 and 3650 days back) every time.
    public func patientIdentity(patientID: String, issuer: String = "") -> PseudonymousPatient {
        let digest = mac("patient", issuer + "\u{0}" + patientID)
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var code = ""
        for b in digest.prefix(10) { code.append(alphabet[Int(b) % alphabet.count]) }
        let shiftSeed = Int(digest[12]) << 8 | Int(digest[13])
        return PseudonymousPatient(name: "ANON^" + code, id: "ANON-" + code, dateShiftDays: -(1 + shiftSeed % 3650))
    }
}

/// What stands in for a patient after de-identification.
public struct PseudonymousPatient: Sendable, Hashable {
    /// The Patient's Name written (PN).
    public var name: String
    /// The Patient ID written (LO).
    public var id: String
    /// The days added to every date under the Retain Longitudinal Temporal Information Modified Dates Option.
    public var dateShiftDays: Int

    public init(name: String, id: String, dateShiftDays: Int) {
        self.name = name
        self.id = id
        self.dateShiftDays = dateShiftDays
    }
}
