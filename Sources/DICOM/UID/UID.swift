import Foundation

/// UID generation and validation (PS3.5 9), and the registered UIDs as constants (`UID.ctImageStorage`).
public enum UID {
    /// Whether `text` is a valid UID: at most 64 characters, dot-separated numeric components without leading zeros.
    public static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 64 else { return false }
        var componentStart = true
        var componentLength = 0
        var leadingZero = false
        for b in bytes {
            if b == 0x2E {
                if componentStart { return false }
                componentStart = true
                componentLength = 0
                leadingZero = false
            } else if b >= 0x30 && b <= 0x39 {
                if leadingZero { return false }
                if componentStart && b == 0x30 { leadingZero = true }
                componentStart = false
                componentLength += 1
            } else {
                return false
            }
        }
        return !componentStart
    }

    /// A new UID: under `root` when given (root, then a dot and digits from a random 128-bit number, cut to 64
    /// characters), else `2.25.` followed by the decimal form of a random UUID (PS3.5 B.2).
    public static func generate(root: String? = nil) -> String {
        var rng = SystemRandomNumberGenerator()
        let high = rng.next() as UInt64
        let low = rng.next() as UInt64
        if let root, !root.isEmpty {
            let digits = decimal(high: high, low: low)
            let room = 64 - root.count - 1
            guard room > 0 else { return String(root.prefix(64)) }
            var suffix = String(digits.prefix(room))
            while suffix.count > 1 && suffix.hasPrefix("0") { suffix.removeFirst() }
            return root + "." + suffix
        }
        // A version 4 UUID: 122 random bits.
        let h = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        let l = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return "2.25." + decimal(high: h, low: l)
    }

    /// The `2.25.` UID of a given UUID.
    public static func from(uuid: UUID) -> String {
        let u = uuid.uuid
        let bytes = [u.0, u.1, u.2, u.3, u.4, u.5, u.6, u.7, u.8, u.9, u.10, u.11, u.12, u.13, u.14, u.15]
        var high: UInt64 = 0
        var low: UInt64 = 0
        for i in 0..<8 { high = high << 8 | UInt64(bytes[i]) }
        for i in 8..<16 { low = low << 8 | UInt64(bytes[i]) }
        return "2.25." + decimal(high: high, low: low)
    }

    /// The decimal digits of the 128-bit number high·2⁶⁴ + low.
    static func decimal(high: UInt64, low: UInt64) -> String {
        if high == 0 { return String(low) }
        var words = [UInt32(high >> 32), UInt32(high & 0xFFFF_FFFF), UInt32(low >> 32), UInt32(low & 0xFFFF_FFFF)]
        var digits: [UInt8] = []
        while words.contains(where: { $0 != 0 }) {
            var remainder: UInt64 = 0
            for i in words.indices {
                let value = remainder << 32 | UInt64(words[i])
                words[i] = UInt32(value / 10)
                remainder = value % 10
            }
            digits.append(UInt8(remainder) + 0x30)
        }
        return String(decoding: digits.reversed(), as: UTF8.self)
    }
}
