import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The few elements Atrium reads from S3's XML answers (ListObjectsV2, CreateMultipartUpload, CompleteMultipartUpload,
/// Error). S3 writes flat, namespace-free element names without attributes on them, so a small scanner is enough and
/// keeps the archive free of an XML library.
enum S3XML {
    /// The text of every `<name>…</name>` in `text`, entities decoded.
    static func values(_ name: String, in text: Substring) -> [String] {
        elements(name, in: text).map { decode(String($0)) }
    }

    /// The text of the first `<name>…</name>`.
    static func value(_ name: String, in text: Substring) -> String? {
        elements(name, in: text).first.map { decode(String($0)) }
    }

    /// The raw content of every `<name>…</name>` (for blocks such as `<Contents>` that hold other elements).
    static func elements(_ name: String, in text: Substring) -> [Substring] {
        let open = "<\(name)>"
        let close = "</\(name)>"
        var found: [Substring] = []
        var rest = text[...]
        while let start = rest.range(of: open) {
            guard let end = rest[start.upperBound...].range(of: close) else { break }
            found.append(rest[start.upperBound..<end.lowerBound])
            rest = rest[end.upperBound...]
        }
        return found
    }

    /// Replaces the five predefined entities and numeric character references (XML 1.0 4.6, 4.1).
    static func decode(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var out = ""
        var rest = text[...]
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semicolon = rest[amp...].firstIndex(of: ";") else {
                out += rest[amp...]
                return out
            }
            let entity = rest[rest.index(after: amp)..<semicolon]
            switch entity {
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                var scalar: Unicode.Scalar?
                if entity.hasPrefix("#x") {
                    scalar = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init)
                } else if entity.hasPrefix("#") {
                    scalar = UInt32(entity.dropFirst()).flatMap(Unicode.Scalar.init)
                }
                if let scalar { out.unicodeScalars.append(scalar) } else { out += rest[amp...semicolon] }
            }
            rest = rest[rest.index(after: semicolon)...]
        }
        out += rest
        return out
    }

    /// Escapes text for an element's content.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Seconds since 1970 of an ISO 8601 timestamp as S3 writes it (`2026-11-28T02:50:00.000Z`); nil if malformed.
    static func seconds(iso8601 text: String) -> Double? {
        let digits = text.unicodeScalars.map { $0 }
        func number(_ from: Int, _ count: Int) -> Int32? {
            guard from + count <= digits.count else { return nil }
            var n: Int32 = 0
            for scalar in digits[from..<from + count] {
                guard let d = Int32(String(scalar)) else { return nil }
                n = n * 10 + d
            }
            return n
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
            let minute = number(14, 2), let second = number(17, 2)
        else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        return Double(timegm(&parts))
    }
}
