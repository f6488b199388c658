import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

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
    /// Parses `data`. External entities are never resolved.
    public static func parse(_ data: Data) throws(MoodleXMLError) -> MoodleImport {
        let parser = XMLParser(data: data)
        parser.shouldResolveExternalEntities = false
        let reader = Reader()
        parser.delegate = reader
        let ok = parser.parse()
        if !ok || reader.failure != nil {
            let reason = reader.failure ?? parser.parserError.map { String(describing: $0) } ?? "unknown error"
            // Where the parser was when it reported the first error (after aborting it may have moved on).
            let place = reader.failurePlace ?? (parser.lineNumber, parser.columnNumber)
            throw .malformed(line: place.line, column: place.column, reason: reason)
        }
        guard reader.root == "quiz" else { throw .notAQuiz(root: reader.root ?? "") }
        return MoodleImport(questions: reader.questions, skipped: reader.skipped)
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

    final class Reader: NSObject, XMLParserDelegate {
        var root: String?
        var stack: [String] = []
        var buffer = ""
        var question: RawQuestion?
        var answer: RawAnswer?
        var category: String?
        var position = 0
        var questions: [MoodleChoiceQuestion] = []
        var skipped: [MoodleSkippedQuestion] = []
        var failure: String?
        var failurePlace: (line: Int, column: Int)?

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
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

        func parser(_ parser: XMLParser, foundCharacters string: String) { buffer += string }

        func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) { buffer += String(decoding: CDATABlock, as: UTF8.self) }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
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

        func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
            if failure == nil {
                failure = String(describing: parseError)
                failurePlace = (parser.lineNumber, parser.columnNumber)
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
