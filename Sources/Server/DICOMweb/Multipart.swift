#if canImport(Glibc)
    import Glibc
#endif

/// A media type with its parameters, as in `multipart/related; type="application/dicom"; boundary=xyz` (RFC 2045).
public struct MediaTypeValue: Sendable, Equatable {
    /// `type/subtype`, lower-cased.
    public var type: String
    /// Parameters with lower-cased names and unquoted values.
    public var parameters: [String: String]

    /// Parses a Content-Type or one entry of an Accept header; nil when there is no `type/subtype`.
    public init?(_ text: some StringProtocol) {
        var parts: [Substring] = []
        var current = Substring(text).startIndex
        var inQuotes = false
        var start = current
        let s = Substring(text)
        while current < s.endIndex {
            let c = s[current]
            if c == "\"" { inQuotes.toggle() }
            if c == ";" && !inQuotes {
                parts.append(s[start..<current])
                start = s.index(after: current)
            }
            current = s.index(after: current)
        }
        parts.append(s[start..<s.endIndex])
        let head = parts[0].trimmingCharacters(in: " \t").lowercased()
        guard head.contains("/") else { return nil }
        type = head
        parameters = [:]
        for p in parts.dropFirst() {
            guard let eq = p.firstIndex(of: "=") else { continue }
            let name = p[..<eq].trimmingCharacters(in: " \t").lowercased()
            var value = p[p.index(after: eq)...].trimmingCharacters(in: " \t")
            if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            parameters[name] = value
        }
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

/// One part of a multipart body.
public struct MultipartPart: Sendable {
    /// Header fields with lower-cased names.
    public var headers: [String: String]
    /// The body bytes.
    public var body: [UInt8]

    public var contentType: MediaTypeValue? { headers["content-type"].flatMap(MediaTypeValue.init) }
}

/// Why a multipart body could not be read.
public enum MultipartError: Error, Sendable, Equatable, CustomStringConvertible {
    case noBoundary
    /// A boundary longer than RFC 2046 5.1.1 allows (70 characters), or with characters it does not.
    case invalidBoundary(length: Int)
    case missingFirstBoundary
    case unterminated(partsRead: Int)
    case malformedPartHeader(part: Int)
    case tooManyParts(maximum: Int)

    public var description: String {
        switch self {
        case .noBoundary: "the Content-Type has no boundary parameter"
        case .invalidBoundary(let length):
            "the boundary (\(length) characters) is not 1–70 of the characters RFC 2046 5.1.1 allows"
        case .missingFirstBoundary: "the body does not start with the boundary"
        case .unterminated(let n): "the body ends after \(n) part(s) without the closing boundary (truncated upload?)"
        case .malformedPartHeader(let n): "the headers of part \(n + 1) are malformed (or over \(Multipart.maximumHeaderBytes) bytes)"
        case .tooManyParts(let maximum): "the body has more than \(maximum) parts"
        }
    }
}

/// Reads and writes multipart bodies (RFC 2046 5.1, RFC 2387), as DICOMweb uses them (PS3.18 8.6.1.2).
public enum Multipart {
    /// Splits a whole body into parts; the closing boundary must be present, so a truncated upload is refused
    /// before anything in it is used.
    public static func parse(_ body: [UInt8], boundary: String) throws(MultipartError) -> [MultipartPart] {
        var result: Result<[MultipartPart], MultipartError> = .success([])
        body.withUnsafeBytes { raw in result = Result { () throws(MultipartError) in try parse(bytes: raw, boundary: boundary) } }
        return try result.get()
    }

    /// ``parse(_:boundary:)`` over bytes in place (a request body's buffer, not copied first): only the parts' bodies
    /// are copied out.
    public static func parse(bytes body: UnsafeRawBufferPointer, boundary: String) throws(MultipartError) -> [MultipartPart] {
        try scan(bytes: body, boundary: boundary).map { MultipartPart(headers: $0.headers, body: Array(body[$0.body])) }
    }

    /// A part found by ``scan(bytes:boundary:)``: its headers and where its body lies in the scanned bytes.
    public struct Located: Sendable, Equatable {
        public var headers: [String: String]
        public var body: Range<Int>
    }

    /// The most bytes of one part's header block, and the most parts of one body: beyond them a body is malformed
    /// (a list of a million empty parts would otherwise cost far more memory than its bytes).
    public static let maximumHeaderBytes = 64 << 10
    public static let maximumParts = 100_000

    /// Finds the parts of a whole body in memory without copying them (the closing boundary must be present, as for
    /// ``parse(_:boundary:)``).
    public static func scan(bytes body: UnsafeRawBufferPointer, boundary: String) throws(MultipartError) -> [Located] {
        do {
            return try scan(InMemory(raw: body), boundary: boundary)
        } catch let error as MultipartError {
            throw error
        } catch {
            preconditionFailure("bytes in memory cannot fail to be read: \(error)")
        }
    }

    /// Finds the parts of a body of `count` bytes that `read` gives a range at a time (a spooled file), holding at most
    /// `window` bytes (and a part's header block) in memory; the same parts as ``scan(bytes:boundary:)`` finds in the
    /// same bytes. Errors of `read` are rethrown.
    public static func scan(
        count: Int, boundary: String, window: Int = 1 << 20, read: @escaping (Range<Int>) throws -> [UInt8]
    ) throws -> [Located] {
        try scan(Reading(count: count, window: max(1, window), read: read), boundary: boundary)
    }

    /// The bytes a scan reads.
    private protocol Source {
        var count: Int { get }
        /// The bytes of `range`, clamped to the body.
        func bytes(_ range: Range<Int>) throws -> [UInt8]
        /// The first index of `needle` at or after `from` that ends by `end`.
        func find(_ needle: [UInt8], from: Int, end: Int) throws -> Int?
    }

    private struct InMemory: Source {
        let raw: UnsafeRawBufferPointer
        var count: Int { raw.count }
        func bytes(_ range: Range<Int>) -> [UInt8] { Array(raw[range.clamped(to: 0..<raw.count)]) }
        func find(_ needle: [UInt8], from: Int, end: Int) -> Int? {
            Multipart.find(needle, in: UnsafeRawBufferPointer(rebasing: raw[0..<min(end, raw.count)]), from: from)
        }
    }

    private struct Reading: Source {
        let count: Int
        let window: Int
        let read: (Range<Int>) throws -> [UInt8]
        func bytes(_ range: Range<Int>) throws -> [UInt8] {
            let clamped = range.clamped(to: 0..<count)
            return clamped.isEmpty ? [] : try read(clamped)
        }
        func find(_ needle: [UInt8], from: Int, end: Int) throws -> Int? {
            let end = min(end, count)
            var start = max(from, 0)
            // Windows overlap by the needle's length less one, so no occurrence falls between two.
            while !needle.isEmpty, start + needle.count <= end {
                let chunk = try read(start..<min(end, start + window + needle.count - 1))
                if let index = Multipart.find(needle, in: chunk, from: 0) { return start + index }
                start += window
            }
            return nil
        }
    }

    private static func scan(_ body: some Source, boundary: String) throws -> [Located] {
        guard !boundary.isEmpty else { throw MultipartError.noBoundary }
        guard boundary.utf8.count <= 70, boundary.utf8.allSatisfy(Self.isBoundaryCharacter) else {
            throw MultipartError.invalidBoundary(length: boundary.utf8.count)
        }
        let crlf: [UInt8] = [0x0D, 0x0A]
        let delimiter = Array(("--" + boundary).utf8)
        var parts: [Located] = []
        guard var position = try body.find(delimiter, from: 0, end: body.count) else { throw MultipartError.missingFirstBoundary }
        // Anything before the first delimiter is preamble and ignored.
        position += delimiter.count
        while true {
            // After a delimiter: "--" closes the body; otherwise optional whitespace and CRLF start a part.
            if try body.bytes(position..<(position + 2)) == [0x2D, 0x2D] { return parts }
            while position < body.count {
                let run = try body.bytes(position..<(position + 256))
                let blanks = run.prefix { $0 == 0x20 || $0 == 0x09 }.count
                position += blanks
                if blanks < run.count { break }
            }
            guard try body.bytes(position..<(position + 2)) == crlf else {
                throw MultipartError.unterminated(partsRead: parts.count)
            }
            position += 2
            var headers: [String: String] = [:]
            let bodyStart: Int
            if try body.bytes(position..<(position + 2)) == crlf {
                bodyStart = position + 2
            } else {
                guard
                    let headerEnd = try body.find(crlf + crlf, from: position, end: position + maximumHeaderBytes + 4)
                else { throw MultipartError.malformedPartHeader(part: parts.count) }
                let text = String(decoding: try body.bytes(position..<headerEnd), as: UTF8.self)
                for line in text.split(separator: "\r\n") {
                    guard let colon = line.firstIndex(of: ":") else { throw MultipartError.malformedPartHeader(part: parts.count) }
                    headers[line[..<colon].trimmingCharacters(in: " \t").lowercased()] =
                        line[line.index(after: colon)...].trimmingCharacters(in: " \t")
                }
                bodyStart = headerEnd + 4
            }
            guard let next = try body.find(crlf + delimiter, from: bodyStart, end: body.count) else {
                throw MultipartError.unterminated(partsRead: parts.count)
            }
            guard parts.count < maximumParts else { throw MultipartError.tooManyParts(maximum: maximumParts) }
            parts.append(Located(headers: headers, body: bodyStart..<next))
            position = next + 2 + delimiter.count
        }
    }

    /// bchars of RFC 2046 5.1.1: digits, letters and '()+_,-./:=? and space.
    static func isBoundaryCharacter(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || Array("'()+_,-./:=? ".utf8).contains(c)
    }

    /// The first index of `needle` in `haystack` at or after `from`.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        haystack.withUnsafeBytes { find(needle, in: $0, from: from) }
    }

    /// The first index of `needle` in `haystack` at or after `from`: memchr for the first byte, memcmp for the rest.
    static func find(_ needle: [UInt8], in h: UnsafeRawBufferPointer, from: Int) -> Int? {
        guard !needle.isEmpty, from >= 0, h.count - from >= needle.count, let base = h.baseAddress else { return nil }
        return needle.withUnsafeBytes { n -> Int? in
            guard let needleBase = n.baseAddress else { return nil }
            let first = Int32(n[0])
            var i = from
            let last = h.count - n.count
            while i <= last {
                guard let hit = memchr(base + i, first, last - i + 1) else { return nil }
                let index = base.distance(to: UnsafeRawPointer(hit))
                if memcmp(base + index, needleBase, n.count) == 0 { return index }
                i = index + 1
            }
            return nil
        }
    }

    /// A boundary that does not occur in DICOM data by chance.
    public static func makeBoundary() -> String {
        "atrium-" + (0..<4).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 36) }.joined()
    }
}

extension Array where Element == UInt8 {
    func starts(with prefix: [UInt8], at index: Int) -> Bool {
        index + prefix.count <= count && Array(self[index..<(index + prefix.count)]) == prefix
    }
}
