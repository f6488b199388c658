import Foundation

/// What a course module holds. A course is an ordered list of them beside its completion rules.
public enum CourseModuleKind: String, Sendable, Codable, CaseIterable {
    /// A passage of text written by the teacher.
    case text
    /// A published teaching case of the library (studied like the course's other cases).
    case teachingCase = "case"
    /// A link to a page elsewhere (http or https only).
    case link
    /// Courseware such as PDF slides, downloaded as is.
    case courseware
    /// A micro-lecture video (MP4 with H.264, or WebM), streamed with range requests, with an optional poster frame and
    /// WebVTT subtitles in Chinese and English.
    case video
}

/// A file kept in the courseware blob store: its key, the type read from its bytes, its size and SHA-256.
public struct CourseFile: Sendable, Equatable, Codable {
    public var key: String
    public var contentType: String
    public var sizeBytes: Int
    public var sha256: String
    public var filename: String

    public init(key: String, contentType: String, sizeBytes: Int, sha256: String, filename: String) {
        self.key = key
        self.contentType = contentType
        self.sizeBytes = sizeBytes
        self.sha256 = sha256
        self.filename = filename
    }
}

/// One module of a course, at its position.
public struct CourseModule: Sendable, Equatable, Codable {
    public var id: Int64
    public var course: Int64
    public var position: Int
    public var kind: CourseModuleKind
    public var title: String
    /// The text of a text module; the address of a link.
    public var body: String
    /// The teaching case of a case module.
    public var caseID: Int64?
    /// The courseware or video file.
    public var file: CourseFile?
    /// The poster frame of a video (PNG or JPEG), if any.
    public var poster: CourseFile?
    /// WebVTT subtitles of a video, by language tag (`zh-CN`, `en`).
    public var subtitles: [String: String]
    public var createdBy: String
    public var createdAt: Date

    public init(
        id: Int64, course: Int64, position: Int, kind: CourseModuleKind, title: String, body: String = "", caseID: Int64? = nil,
        file: CourseFile? = nil, poster: CourseFile? = nil, subtitles: [String: String] = [:], createdBy: String, createdAt: Date
    ) {
        self.id = id
        self.course = course
        self.position = position
        self.kind = kind
        self.title = title
        self.body = body
        self.caseID = caseID
        self.file = file
        self.poster = poster
        self.subtitles = subtitles
        self.createdBy = createdBy
        self.createdAt = createdAt
    }

    /// The subtitle languages a video may carry.
    public static let subtitleLanguages = ["zh-CN", "en"]
}

/// The kinds of uploaded file a course accepts, each read from the file's first bytes, never from its name or the type
/// a browser claims.
public enum CoursewareType: String, Sendable, Codable, CaseIterable {
    case pdf = "application/pdf"
    case mp4 = "video/mp4"
    case webm = "video/webm"
    case png = "image/png"
    case jpeg = "image/jpeg"

    /// The type of `bytes`, or nil when they are none of these. An MP4 must be a well-formed ISO base media file: top
    /// level boxes that tile the file, `ftyp` first and a `moov` box (ISO/IEC 14496-12 4.2, 4.3); HEIF and AVIF images
    /// (the same box structure) are not videos.
    public static func sniff(_ bytes: [UInt8]) -> CoursewareType? {
        if bytes.starts(with: Array("%PDF-".utf8)) { return .pdf }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if bytes.starts(with: [0x1A, 0x45, 0xDF, 0xA3]), isWebM(bytes) { return .webm }
        if MP4Boxes.isVideo(bytes) { return .mp4 }
        return nil
    }

    /// An EBML header whose DocType is `webm` (Matroska's EBML header, element 0x4282).
    static func isWebM(_ bytes: [UInt8]) -> Bool {
        let head = Array(bytes.prefix(64))
        var index = 4
        while index + 3 < head.count {
            // The DocType element (0x4282) with a one-byte size of 4 and the value "webm".
            if head[index] == 0x42, head[index + 1] == 0x82, head[index + 2] & 0x80 != 0 {
                let length = Int(head[index + 2] & 0x7F)
                let start = index + 3
                return start + length <= head.count && Array(head[start..<start + length]) == Array("webm".utf8)
            }
            index += 1
        }
        return false
    }

    /// Whether a module of `kind` takes this type as its main file.
    public func fits(_ kind: CourseModuleKind) -> Bool {
        switch kind {
        case .courseware: self == .pdf
        case .video: self == .mp4 || self == .webm
        default: false
        }
    }
}

/// The top-level boxes of an ISO base media file (MP4), read without decoding anything.
public enum MP4Boxes {
    /// The four-character types of the top-level boxes in order, or nil when the sizes do not tile the file.
    public static func topLevel(_ bytes: [UInt8]) -> [String]? {
        var offset = 0
        var types: [String] = []
        while offset < bytes.count {
            guard offset + 8 <= bytes.count else { return nil }
            var size = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self)
            if size == 1 {
                guard offset + 16 <= bytes.count else { return nil }
                let large = bytes[offset + 8..<offset + 16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                guard large <= UInt64(Int.max) else { return nil }
                size = Int(large)
                guard size >= 16 else { return nil }
            } else if size == 0 {
                size = bytes.count - offset
            }
            guard size >= 8, size <= bytes.count - offset else { return nil }
            types.append(type)
            offset += size
        }
        return types
    }

    /// An MP4 video: `ftyp` first, a `moov` box, and a major brand that is not an image format's.
    public static func isVideo(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 16, Array(bytes[4..<8]) == Array("ftyp".utf8) else { return false }
        let brand = String(decoding: bytes[8..<12], as: UTF8.self)
        if ["heic", "heix", "mif1", "msf1", "avif", "avis"].contains(brand) { return false }
        guard let boxes = topLevel(bytes), boxes.first == "ftyp", boxes.contains("moov") else { return false }
        return true
    }

    /// Whether the file holds an H.264 sample entry (`avc1` or `avc3`, ISO/IEC 14496-15), the codec browsers play.
    public static func hasH264(_ bytes: [UInt8]) -> Bool {
        let avc1 = Array("avc1".utf8)
        let avc3 = Array("avc3".utf8)
        var index = 0
        while index + 4 <= bytes.count {
            if bytes[index] == 0x61, bytes[index + 1] == 0x76, bytes[index + 2] == 0x63 {
                let four = Array(bytes[index..<index + 4])
                if four == avc1 || four == avc3 { return true }
            }
            index += 1
        }
        return false
    }
}

/// WebVTT files (W3C WebVTT 4.1): the `WEBVTT` signature, then blocks separated by blank lines; a cue has a timing
/// line `start --> end` with timestamps `[hh:]mm:ss.ttt` and an end after its start.
public enum WebVTT {
    public struct Cue: Sendable, Equatable {
        public var start: Double
        public var end: Double
        public var text: String
    }

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case notUTF8
        case noSignature
        case badTiming(line: Int, String)
        case noCues

        public var description: String {
            switch self {
            case .notUTF8: "the subtitles are not UTF-8 text"
            case .noSignature: "a WebVTT file starts with WEBVTT"
            case .badTiming(let line, let text): "line \(line): \(text) is not a cue timing (start --> end)"
            case .noCues: "the subtitles have no cue"
            }
        }
    }

    /// The cues of `bytes`, or the first problem found.
    public static func cues(_ bytes: [UInt8]) throws(Problem) -> [Cue] {
        var bytes = bytes
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .notUTF8 }
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let first = lines.first, first.hasPrefix("WEBVTT"),
            first.count == 6 || first.dropFirst(6).first == " " || first.dropFirst(6).first == "\t"
        else { throw .noSignature }
        var cues: [Cue] = []
        var index = 1
        while index < lines.count {
            let line = lines[index]
            if line.contains("-->") {
                let parts = line.components(separatedBy: "-->")
                let startText = parts[0].trimmingCharacters(in: .whitespaces)
                let endText = (parts.count > 1 ? parts[1] : "").trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(
                    String.init)
                guard parts.count == 2, let start = timestamp(startText), let endText, let end = timestamp(endText), end > start else {
                    throw .badTiming(line: index + 1, String(line.prefix(80)))
                }
                var payload: [String] = []
                index += 1
                while index < lines.count, !lines[index].isEmpty {
                    payload.append(lines[index])
                    index += 1
                }
                cues.append(Cue(start: start, end: end, text: payload.joined(separator: "\n")))
            }
            index += 1
        }
        guard !cues.isEmpty else { throw .noCues }
        return cues
    }

    /// Seconds of a WebVTT timestamp: `mm:ss.ttt` or `hh:mm:ss.ttt` (minutes and seconds below 60, three digits).
    public static func timestamp(_ text: String) -> Double? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || parts.count == 3 else { return nil }
        let secondsParts = parts[parts.count - 1].split(separator: ".", omittingEmptySubsequences: false)
        guard secondsParts.count == 2, secondsParts[0].count == 2, secondsParts[1].count == 3,
            let seconds = Int(secondsParts[0]), let millis = Int(secondsParts[1]), seconds < 60,
            secondsParts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) })
        else { return nil }
        let minutesText = parts[parts.count - 2]
        guard minutesText.count == 2, minutesText.allSatisfy({ $0.isASCII && $0.isNumber }), let minutes = Int(minutesText), minutes < 60
        else { return nil }
        var hours = 0
        if parts.count == 3 {
            guard parts[0].count >= 2, parts[0].allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(parts[0]) else { return nil }
            hours = value
        }
        return Double(hours * 3600 + minutes * 60 + seconds) + Double(millis) / 1000
    }
}
