import Crypto
import Foundation
import _CryptoExtras

/// Random secrets and their digests: session ids, CSRF tokens, API tokens and setup tokens are 256 random bits from the
/// system's generator, written as base64url; only their SHA-256 is stored.
public enum Secrets {
    /// 32 random bytes as base64url without padding, with an optional prefix (`atr_` for API tokens).
    public static func random(prefix: String = "") -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return prefix + base64URL(bytes)
    }

    /// The lowercase hex SHA-256 of the secret's UTF-8 bytes.
    public static func digest(_ secret: String) -> String {
        SHA256.hash(data: Array(secret.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Compares two strings in time that depends only on their lengths.
    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in x.indices { difference |= x[i] ^ y[i] }
        return difference == 0
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// Password hashing with PBKDF2-HMAC-SHA256 (NIST SP 800-132; OWASP's password storage guidance): a 16-byte random salt
/// per password and a slow iteration count, stored as `pbkdf2-sha256$ITERATIONS$SALT$HASH` (base64) so that the count can
/// rise later without invalidating old hashes. PBKDF2 comes with swift-crypto, which the build has already (PostgresNIO
/// uses it), so no further package is needed.
public enum PasswordHasher {
    /// Hashes `password` with `iterations` rounds.
    public static func hash(_ password: String, iterations: Int) throws(PlatformError) -> String {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let derived = try derive(password, salt: salt, iterations: iterations)
        return "pbkdf2-sha256$\(iterations)$\(Data(salt).base64EncodedString())$\(Data(derived).base64EncodedString())"
    }

    /// Whether `password` matches the stored hash; a malformed hash matches nothing.
    public static func verify(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$")
        guard parts.count == 4, parts[0] == "pbkdf2-sha256", let iterations = Int(parts[1]), iterations >= 1,
            let salt = Data(base64Encoded: String(parts[2])), let expected = Data(base64Encoded: String(parts[3])),
            let derived = try? derive(password, salt: Array(salt), iterations: iterations)
        else { return false }
        return Secrets.constantTimeEqual(Data(derived).base64EncodedString(), expected.base64EncodedString())
    }

    private static func derive(_ password: String, salt: [UInt8], iterations: Int) throws(PlatformError) -> [UInt8] {
        do {
            let key = try KDF.Insecure.PBKDF2.deriveKey(
                from: Array(password.utf8), salt: salt, using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: iterations)
            return key.withUnsafeBytes { Array($0) }
        } catch {
            throw .invalid("cannot hash the password: \(error)")
        }
    }
}
