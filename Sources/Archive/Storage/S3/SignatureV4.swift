import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// AWS Signature Version 4 for requests whose payload is sent in a single chunk, as the S3 API reference describes it
/// ("Signature Calculations for the Authorization Header: Transferring Payload in a Single Chunk"): a canonical request,
/// a string to sign over its SHA-256 hash, a signing key derived from the secret by HMAC-SHA256 over date, region and
/// service, and the `Authorization` header. Pure: no clock and no I/O, so tests check it against AWS's published examples.
public struct SignatureV4: Sendable {
    /// The access key id, as in `AWS_ACCESS_KEY_ID`.
    public let accessKeyID: String
    let secretAccessKey: String
    /// The region of the credential scope (`us-east-1`).
    public let region: String
    /// The service of the credential scope (`s3`).
    public let service: String

    /// The SHA-256 of an empty payload, in hex.
    public static let emptyPayloadHash = hexSHA256([])

    /// A signer for one set of credentials.
    public init(accessKeyID: String, secretAccessKey: String, region: String, service: String = "s3") {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.region = region
        self.service = service
    }

    /// What signing produced; the canonical request and string to sign are kept for tests and for diagnosing a
    /// `SignatureDoesNotMatch`.
    public struct Signed: Sendable {
        public let canonicalRequest: String
        public let stringToSign: String
        public let signature: String
        public let authorization: String
    }

    /// Signs a request. `path` is the URI path as sent (already percent-encoded), `query` the decoded query parameters,
    /// `headers` every header to sign (including `host`, `x-amz-date` and `x-amz-content-sha256`), `payloadHash` the hex
    /// SHA-256 of the body (or `UNSIGNED-PAYLOAD`), and `date` the `x-amz-date` value (`yyyyMMddTHHmmssZ`).
    public func sign(
        method: String, path: String, query: [(String, String)], headers: [(String, String)], payloadHash: String, date: String
    ) -> Signed {
        let encoded: [(name: String, value: String)] = query.map { (Self.encode($0.0), Self.encode($0.1)) }
        let sorted = encoded.sorted { (a, b) -> Bool in a.name == b.name ? a.value < b.value : a.name < b.name }
        let canonicalQuery = sorted.map { pair -> String in pair.name + "=" + pair.value }.joined(separator: "&")
        var merged: [String: [String]] = [:]
        for (name, value) in headers { merged[name.lowercased(), default: []].append(Self.trimHeaderValue(value)) }
        let names = merged.keys.sorted()
        let canonicalHeaders = names.map { $0 + ":" + (merged[$0] ?? []).joined(separator: ",") + "\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let canonicalRequest = [method, path.isEmpty ? "/" : path, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash]
            .joined(separator: "\n")
        let day = String(date.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", date, scope, Self.hexSHA256(Array(canonicalRequest.utf8))].joined(separator: "\n")
        let signature = Self.hex(Self.hmac(signingKey(day: day), Array(stringToSign.utf8)))
        let authorization =
            "AWS4-HMAC-SHA256 Credential=\(accessKeyID)/\(scope),SignedHeaders=\(signedHeaders),Signature=\(signature)"
        return Signed(canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature, authorization: authorization)
    }

    /// The signing key for a day (`yyyyMMdd`): HMAC chained over date, region, service and `aws4_request`.
    public func signingKey(day: String) -> [UInt8] {
        var key = Self.hmac(Array(("AWS4" + secretAccessKey).utf8), Array(day.utf8))
        key = Self.hmac(key, Array(region.utf8))
        key = Self.hmac(key, Array(service.utf8))
        return Self.hmac(key, Array("aws4_request".utf8))
    }

    /// The `x-amz-date` form of a time: `yyyyMMddTHHmmssZ` in UTC.
    public static func amzDate(_ date: Date) -> String { utcTimestamp(date, extended: false) }

    /// Percent-encodes every byte except the unreserved characters (RFC 3986 2.3), as SigV4 requires; `/` is kept
    /// when `keepSlash` is set (object key paths in S3 are encoded once, segment by segment).
    public static func encode(_ text: String, keepSlash: Bool = false) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                let digits = Array("0123456789ABCDEF")
                out.append("%")
                out.append(digits[Int(byte >> 4)])
                out.append(digits[Int(byte & 0x0F)])
            }
        }
        return out
    }

    /// The hex SHA-256 of `bytes`.
    public static func hexSHA256(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { raw in hex(Array(SHA256.hash(data: raw))) }
    }

    /// The hex SHA-256 of a slice, without copying it.
    public static func hexSHA256(_ bytes: ArraySlice<UInt8>) -> String {
        bytes.withUnsafeBytes { raw in hex(Array(SHA256.hash(data: raw))) }
    }

    static func hmac(_ key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        var out = ""
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return out
    }

    /// Header values are trimmed and runs of spaces become one space.
    static func trimHeaderValue(_ value: String) -> String {
        var out = ""
        var lastWasSpace = false
        for character in value.trimmingCharacters(in: .whitespaces) {
            if character == " " {
                if !lastWasSpace { out.append(character) }
                lastWasSpace = true
            } else {
                out.append(character)
                lastWasSpace = false
            }
        }
        return out
    }
}
