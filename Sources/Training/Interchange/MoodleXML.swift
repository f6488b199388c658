import CLibXML2
import Foundation

/// One choice of an imported Moodle question.
public struct MoodleChoice: Sendable, Equatable, Codable {
    /// The choice's text (HTML reduced to plain text).
    public var text: String
    /// The share of the question's mark it earns, −1…1 (Moodle writes it in percent: fraction="50" is 0.5).
    public var fraction: Double
    /// The feedback shown for it (plain text; empty when none).
    public var feedback: String
}

/// A choice question read from a Moodle XML quiz file, in neutral form (the question bank turns it into its own).
public struct MoodleChoiceQuestion: Sendable, Equatable, Codable {
    /// `<question type>`: multichoice or truefalse.
    public var type: String
    /// The question's name.
    public var name: String
    /// The question text, HTML reduced to plain text.
    public var text: String
    /// One right answer (multichoice single, truefalse) or several (multichoice with `<single>false</single>`).
    public var single: Bool
    public var choices: [MoodleChoice]
    public var tags: [String]
    /// The general feedback (plain text; empty when none).
    public var generalFeedback: String
    /// `<defaultgrade>` (1 when absent).
    public var defaultGrade: Double
    /// The category the file set before this question (`$course$/top/…`), when one did.
    public var category: String?
    /// Its position among the file's `<question>` elements (categories included), from 1.
    public var position: Int = 0

    enum CodingKeys: String, CodingKey {
        case type, name, text, single, choices, tags, generalFeedback, defaultGrade, category, position
    }

    /// `position` may be left out (0).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decode(String.self, forKey: .type)
        name = try c.decode(String.self, forKey: .name)
        text = try c.decode(String.self, forKey: .text)
        single = try c.decode(Bool.self, forKey: .single)
        choices = try c.decode([MoodleChoice].self, forKey: .choices)
        tags = try c.decode([String].self, forKey: .tags)
        generalFeedback = try c.decode(String.self, forKey: .generalFeedback)
        defaultGrade = try c.decode(Double.self, forKey: .defaultGrade)
        category = try c.decodeIfPresent(String.self, forKey: .category)
        position = try c.decodeIfPresent(Int.self, forKey: .position) ?? 0
    }

    init(
        type: String, name: String, text: String, single: Bool, choices: [MoodleChoice], tags: [String], generalFeedback: String,
        defaultGrade: Double, category: String?
    ) {
        self.type = type
        self.name = name
        self.text = text
        self.single = single
        self.choices = choices
        self.tags = tags
        self.generalFeedback = generalFeedback
        self.defaultGrade = defaultGrade
        self.category = category
    }
}

/// A question of the file that was not imported, and why.
public struct MoodleSkippedQuestion: Sendable, Equatable, Codable {
    /// Its position among the file's `<question>` elements (categories included), from 1.
    public var position: Int
    public var type: String
    public var name: String
    public var reason: String
}

/// What one Moodle XML file gave.
public struct MoodleImport: Sendable, Equatable, Codable {
    public var questions: [MoodleChoiceQuestion]
    public var skipped: [MoodleSkippedQuestion]
}

/// Why a Moodle XML file could not be read at all.
public enum MoodleXMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not well-formed XML, with where the parser stopped.
    case malformed(line: Int, column: Int, reason: String)
    /// Well-formed, but its root element is not `<quiz>`.
    case notAQuiz(root: String)

    public var description: String {
        switch self {
        case .malformed(let line, let column, let reason):
            "the Moodle XML file is not well-formed at line \(line), column \(column): \(reason)"
        case .notAQuiz(let root): "the file's root element is <\(root)>, not <quiz>: it is not a Moodle XML quiz file"
        }
    }
}

/// Reads Moodle XML quiz files (docs.moodle.org, "Moodle XML format") for the choice types: multichoice (single and
/// multiple answers) and truefalse. Other types are listed as skipped, each with its reason.
public enum MoodleXML {
    /// Parses `data` with libxml2 (no recovery from errors, no network, no DTD, entities never expanded beyond XML's
    /// own five and character references).
    public static func parse(_ data: Data) throws(MoodleXMLError) -> MoodleImport {
        if let place = notUTF8(data) {
            throw .malformed(
                line: place.line, column: place.column,
                reason: "the file is read as UTF-8 (its XML declaration names no other encoding) and this byte is not UTF-8")
        }
        guard data.count < Int(Int32.max) else { throw .malformed(line: 0, column: 0, reason: "the file is larger than 2 GiB") }
        _ = libxml2Ready
        guard let context = xmlNewParserCtxt() else { throw .malformed(line: 0, column: 0, reason: "libxml2 has no memory") }
        defer { xmlFreeParserCtxt(context) }
        // libxml2 goes on after the first fatal error to report more; the first is where the file went wrong.
        let first = FirstError()
        context.pointee._private = Unmanaged.passUnretained(first).toOpaque()
        context.pointee.sax?.pointee.serror = { userData, error in
            guard let context = userData?.assumingMemoryBound(to: xmlParserCtxt.self), let box = context.pointee._private,
                let error = error?.pointee
            else { return }
            let first = Unmanaged<FirstError>.fromOpaque(box).takeUnretainedValue()
            guard first.message == nil, error.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
            first.place = (Int(error.line), Int(error.int2))
            first.message = error.message.map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? "unknown error"
        }
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOWARNING.rawValue)
        let document = withExtendedLifetime(first) {
            data.withUnsafeBytes { bytes in
                xmlCtxtReadMemory(context, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(bytes.count), nil, nil, options)
            }
        }
        guard let document, first.message == nil else {
            if let document { xmlFreeDoc(document) }
            throw .malformed(line: first.place.line, column: first.place.column, reason: first.message ?? "libxml2 read no document")
        }
        defer { xmlFreeDoc(document) }
        if document.pointee.intSubset != nil {
            throw .malformed(line: 1, column: 1, reason: "a DOCTYPE is not allowed in a Moodle XML file")
        }
        guard let root = xmlDocGetRootElement(document) else { throw .notAQuiz(root: "") }
        let reader = Reader()
        walk(root, reader)
        guard reader.root == "quiz" else { throw .notAQuiz(root: reader.root ?? "") }
        return MoodleImport(questions: reader.questions, skipped: reader.skipped)
    }

    /// The first error libxml2 reported while reading one file.
    private final class FirstError {
        var place = (line: 0, column: 0)
        var message: String?
    }

    /// libxml2's one-time initialisation (it asks to be called once before threads use it).
    private static let libxml2Ready: Void = xmlInitParser()

    /// Feeds `node` and what it holds to `reader` in document order: elements with their attributes, text, CDATA, and
    /// the text of character and predefined entity references (libxml2 resolves those in the text nodes).
    private static func walk(_ node: UnsafeMutablePointer<xmlNode>, _ reader: Reader) {
        let name = node.pointee.name.map { String(cString: $0) } ?? ""
        var attributes: [String: String] = [:]
        var attribute = node.pointee.properties
        while let current = attribute {
            let key = current.pointee.name.map { String(cString: $0) } ?? ""
            var value = ""
            var child = current.pointee.children
            while let text = child {
                if let content = text.pointee.content { value += String(cString: content) }
                child = text.pointee.next
            }
            attributes[key] = value
            attribute = current.pointee.next
        }
        reader.start(name, attributes: attributes)
        var child = node.pointee.children
        while let current = child {
            switch current.pointee.type {
            case XML_ELEMENT_NODE: walk(current, reader)
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                if let content = current.pointee.content { reader.characters(String(cString: content)) }
            default: break
            }
            child = current.pointee.next
        }
        reader.end(name)
    }

    /// Where a file that is to be read as UTF-8 — it declares UTF-8 or no encoding, and starts with no UTF-16 or UTF-32
    /// byte order mark — first breaks UTF-8 (line and column from 1, the column counted in bytes), or nil: refused before
    /// libxml2 sees it, with the place Python's parser also names. Files in a declared other encoding are converted by
    /// libxml2, which refuses what does not convert.
    static func notUTF8(_ data: Data) -> (line: Int, column: Int)? {
        let bytes = [UInt8](data)
        let marks: [[UInt8]] = [[0xFE, 0xFF], [0xFF, 0xFE], [0x00, 0x00, 0xFE, 0xFF]]
        if marks.contains(where: { bytes.starts(with: $0) }) { return nil }
        if bytes.starts(with: Array("<?xml".utf8)), let end = bytes.prefix(512).firstIndex(of: UInt8(ascii: ">")) {
            let declaration = String(decoding: bytes[..<end], as: UTF8.self).lowercased()
            if let range = declaration.range(of: "encoding") {
                let value = declaration[range.upperBound...].drop { " =\"'".contains($0) }.prefix { !" \"'?".contains($0) }
                if !value.isEmpty, value != "utf-8", value != "utf8" { return nil }
            }
        }
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        loop: while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput: break loop
            case .error:
                let line = bytes[..<offset].reduce(1) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
                let lineStart = bytes[..<offset].lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
                return (line, offset - lineStart + 1)
            }
        }
        return nil
    }

    /// The question types this importer reads.
    public static let choiceTypes: Set<String> = ["multichoice", "truefalse"]

    /// Why one question was not imported.
    struct SkipReason: Error {
        var text: String
        init(_ text: String) { self.text = text }
    }

    /// Raw fields of one `<question>`, as the parser collects them.
    struct RawQuestion {
        var type = ""
        var name = ""
        var text = ""
        var textFormat = "html"
        var generalFeedback = ""
        var generalFeedbackFormat = "html"
        var single: String?
        var defaultGrade: String?
        var category: String?
        var answers: [RawAnswer] = []
        var tags: [String] = []
    }

    struct RawAnswer {
        var fraction: String?
        var format = "html"
        var text = ""
        var feedback = ""
        var feedbackFormat = "html"
    }

    /// Turns a raw question into a neutral one, or says why not.
    static func convert(_ raw: RawQuestion, category: String?) -> Result<MoodleChoiceQuestion, SkipReason> {
        var choices: [MoodleChoice] = []
        for (index, answer) in raw.answers.enumerated() {
            let fractionText = answer.fraction?.trimmingCharacters(in: .whitespaces) ?? ""
            guard let percent = Double(fractionText), percent.isFinite, abs(percent) <= 100 else {
                return .failure(SkipReason("answer \(index + 1) has fraction \"\(answer.fraction ?? "")\", not a number from -100 to 100"))
            }
            choices.append(
                MoodleChoice(
                    text: plain(answer.text, format: answer.format), fraction: percent / 100,
                    feedback: plain(answer.feedback, format: answer.feedbackFormat)))
        }
        var single = true
        switch raw.type {
        case "truefalse":
            guard choices.count == 2 else {
                return .failure(SkipReason("a true/false question needs two answers, it has \(choices.count)"))
            }
        default:
            let value = raw.single?.trimmingCharacters(in: .whitespaces).lowercased() ?? "true"
            guard ["true", "1", "false", "0"].contains(value) else {
                return .failure(SkipReason("<single> is \"\(value)\", not true or false"))
            }
            single = value == "true" || value == "1"
            guard choices.count >= 2 else {
                return .failure(SkipReason("a choice question needs at least two answers, it has \(choices.count)"))
            }
        }
        guard choices.contains(where: { $0.fraction > 0 }) else { return .failure(SkipReason("no answer earns any mark")) }
        if single, !choices.contains(where: { abs($0.fraction - 1) < 1e-6 }) {
            return .failure(SkipReason("a single-answer question needs one answer worth 100 %"))
        }
        let grade = raw.defaultGrade.flatMap { Double($0.trimmingCharacters(in: .whitespaces)) } ?? 1
        return .success(
            MoodleChoiceQuestion(
                type: raw.type, name: raw.name.trimmingCharacters(in: .whitespacesAndNewlines),
                text: plain(raw.text, format: raw.textFormat), single: single, choices: choices,
                tags: raw.tags.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty },
                generalFeedback: plain(raw.generalFeedback, format: raw.generalFeedbackFormat), defaultGrade: grade,
                category: category))
    }

    static func plain(_ text: String, format: String) -> String {
        format == "html" ? HTMLText.plain(text) : text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Collects the questions from the document's elements, in order.
    final class Reader {
        var root: String?
        var stack: [String] = []
        var buffer = ""
        var question: RawQuestion?
        var answer: RawAnswer?
        var category: String?
        var position = 0
        var questions: [MoodleChoiceQuestion] = []
        var skipped: [MoodleSkippedQuestion] = []

        func start(_ elementName: String, attributes: [String: String]) {
            if root == nil { root = elementName }
            stack.append(elementName)
            buffer = ""
            let format = attributes["format"] ?? "html"
            switch elementName {
            case "question" where stack.count == 2:
                position += 1
                question = RawQuestion(type: attributes["type"] ?? "")
            case "answer" where question != nil:
                answer = RawAnswer(fraction: attributes["fraction"], format: format)
            case "questiontext": question?.textFormat = format
            case "generalfeedback": question?.generalFeedbackFormat = format
            case "feedback" where answer != nil: answer?.feedbackFormat = format
            default: break
            }
        }

        func characters(_ string: String) { buffer += string }

        func end(_ elementName: String) {
            let parent = stack.count >= 2 ? stack[stack.count - 2] : ""
            let grandparent = stack.count >= 3 ? stack[stack.count - 3] : ""
            let value = buffer
            buffer = ""
            defer { stack.removeLast() }
            guard question != nil else { return }
            switch elementName {
            case "text":
                switch (grandparent, parent) {
                case ("question", "name"): question?.name = value
                case ("question", "questiontext"): question?.text = value
                case ("question", "generalfeedback"): question?.generalFeedback = value
                case ("question", "category"): question?.category = value.trimmingCharacters(in: .whitespacesAndNewlines)
                case (_, "answer"): answer?.text = value
                case ("answer", "feedback"): answer?.feedback = value
                case ("tags", "tag"): question?.tags.append(value)
                default: break
                }
            case "single" where parent == "question": question?.single = value
            case "defaultgrade" where parent == "question": question?.defaultGrade = value
            case "answer":
                if let answer { question?.answers.append(answer) }
                answer = nil
            case "question" where stack.count == 2:
                if let raw = question { finish(raw) }
                question = nil
            default: break
            }
        }

        func finish(_ raw: RawQuestion) {
            if raw.type == "category" {
                category = raw.category
                return
            }
            let name = raw.name.trimmingCharacters(in: .whitespacesAndNewlines)
            guard MoodleXML.choiceTypes.contains(raw.type) else {
                let reason = "type \(raw.type.isEmpty ? "(none)" : raw.type) is not imported; only multichoice and truefalse are"
                skipped.append(MoodleSkippedQuestion(position: position, type: raw.type, name: name, reason: reason))
                return
            }
            switch MoodleXML.convert(raw, category: category) {
            case .success(var question):
                question.position = position
                questions.append(question)
            case .failure(let reason):
                skipped.append(MoodleSkippedQuestion(position: position, type: raw.type, name: name, reason: reason.text))
            }
        }
    }
}

extension MoodleXML.RawQuestion {
    init(type: String) {
        self.init()
        self.type = type
    }
}

/// HTML reduced to plain text: tags removed (block ends and `<br>` become line breaks, inline phrasing tags such as
/// `<b>` leave nothing, as a browser renders `胸片上<b>气胸</b>` without a gap, other tags a space), character
/// references decoded, runs of spaces collapsed, blank lines dropped.
public enum HTMLText {
    static let inlineTags: Set<String> = [
        "a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "em", "font", "i", "kbd", "mark", "q", "s", "samp", "small", "span",
        "strike", "strong", "sub", "sup", "tt", "u", "var",
    ]
    static let blockTags: Set<String> = [
        "br", "p", "/p", "div", "/div", "li", "/li", "tr", "/tr", "h1", "h2", "h3", "h4", "/h1", "/h2", "/h3", "/h4",
    ]
    static let named: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ", "ndash": "–", "mdash": "—", "times": "×",
        "deg": "°", "plusmn": "±", "le": "≤", "ge": "≥", "middot": "·", "hellip": "…", "ldquo": "“", "rdquo": "”",
        "lsquo": "‘", "rsquo": "’", "micro": "µ", "copy": "©",
    ]

    /// The plain text of an HTML fragment.
    public static func plain(_ html: String) -> String {
        var out = ""
        var index = html.startIndex
        while index < html.endIndex {
            let character = html[index]
            if character == "<", let close = html[index...].firstIndex(of: ">") {
                let inside = html[html.index(after: index)..<close].trimmingCharacters(in: .whitespaces).lowercased()
                let name = String(inside.prefix { !$0.isWhitespace })
                let tag = name.hasSuffix("/") ? String(name.dropLast()) : name
                if tag == "script" || tag == "style",
                    let end = html.range(of: "</\(tag)>", options: .caseInsensitive, range: close..<html.endIndex)
                {
                    out += " "
                    index = end.upperBound
                    continue
                }
                let bare = tag.hasPrefix("/") ? String(tag.dropFirst()) : tag
                if blockTags.contains(tag) {
                    out += "\n"
                } else if !inlineTags.contains(bare) {
                    out += " "
                }
                index = html.index(after: close)
            } else if character == "&", let semicolon = html[index...].prefix(12).firstIndex(of: ";") {
                let entity = String(html[html.index(after: index)..<semicolon])
                if let decoded = decode(entity) {
                    out += decoded
                    index = html.index(after: semicolon)
                } else {
                    out.append(character)
                    index = html.index(after: index)
                }
            } else {
                out.append(character)
                index = html.index(after: index)
            }
        }
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\u{A0}" }).joined(separator: " ")
        }
        return lines.filter { !$0.isEmpty }.joined(separator: "\n")
    }

    static func decode(_ entity: String) -> String? {
        if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
            return UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String(Character($0)) }
        }
        if entity.hasPrefix("#") { return UInt32(entity.dropFirst()).flatMap(Unicode.Scalar.init).map { String(Character($0)) } }
        return named[entity]
    }
}
