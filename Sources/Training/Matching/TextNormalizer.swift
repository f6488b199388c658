import Foundation

/// A token of normalised text: one Han character, or one run of letters and digits (a word).
public struct TextToken: Sendable, Equatable, Hashable {
    /// The token's normalised text.
    public var text: String
    /// Whether it is a Han character (compared character by character) rather than a word.
    public var isHan: Bool
    /// Where it starts in the normalised text, in Unicode scalars.
    public var offset: Int
    /// Its length in Unicode scalars.
    public var length: Int
}

/// Text made comparable: compatibility-normalised (full-width letters, digits and punctuation become half-width),
/// lower-cased, traditional characters simplified; then split into clauses at punctuation and into tokens.
public struct NormalizedText: Sendable, Equatable {
    /// The normalised text (tokens' offsets point into its scalars).
    public let text: String
    /// The text as given.
    public let original: String
    /// For each scalar of ``text``, the UTF-16 range (what JavaScript indexes by) of the character of ``original``
    /// it came from.
    public let sources: [Range<Int>]
    private let originalUnits: [UInt16]
    /// The tokens, clause by clause; clauses end at sentence and list punctuation and line breaks.
    public let clauses: [[TextToken]]

    /// All tokens in order.
    public var tokens: [TextToken] { clauses.flatMap { $0 } }

    /// Normalises `raw`.
    public init(_ raw: String) {
        // Character by character, so that every normalised scalar knows where it came from.
        var view = String.UnicodeScalarView()
        var sources: [Range<Int>] = []
        var position = 0
        for character in raw {
            let width = character.utf16.count
            if let ascii = character.asciiValue {
                view.append(Unicode.Scalar(ascii >= 65 && ascii <= 90 ? ascii + 32 : ascii))
                sources.append(position..<(position + width))
            } else {
                let piece = String(character).precomposedStringWithCompatibilityMapping.lowercased()
                for scalar in piece.unicodeScalars {
                    view.append(ChineseVariants.simplified(scalar))
                    sources.append(position..<(position + width))
                }
            }
            position += width
        }
        let folded = String(view)
        text = folded
        original = raw
        originalUnits = Array(raw.utf16)
        self.sources = sources
        var clauses: [[TextToken]] = []
        var clause: [TextToken] = []
        var word = String.UnicodeScalarView()
        var wordStart = 0
        func flushWord() {
            if !word.isEmpty {
                clause.append(TextToken(text: String(word), isHan: false, offset: wordStart, length: word.count))
                word = String.UnicodeScalarView()
            }
        }
        func flushClause() {
            flushWord()
            if !clause.isEmpty { clauses.append(clause) }
            clause = []
        }
        for (offset, scalar) in folded.unicodeScalars.enumerated() {
            if NormalizedText.isHan(scalar) {
                flushWord()
                clause.append(TextToken(text: String(scalar), isHan: true, offset: offset, length: 1))
            } else if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                if word.isEmpty { wordStart = offset }
                word.append(scalar)
            } else if NormalizedText.clauseBreaks.contains(scalar) {
                flushClause()
            } else {
                flushWord()
            }
        }
        flushClause()
        self.clauses = clauses
    }

    /// Sentence and list punctuation (after compatibility normalisation) and line breaks.
    static let clauseBreaks: Set<Unicode.Scalar> = [
        ".", ",", ";", ":", "!", "?", "\n", "\r", "。", "、", "；", "：", "！", "？", "，", "｡", "､", "(", ")", "[", "]",
    ]

    /// The original text from the character token `first` came from to the one token `last` came from, and its
    /// UTF-16 range in ``original``.
    func originalSpan(from first: TextToken, to last: TextToken) -> (text: String, range: Range<Int>) {
        let lower = sources[first.offset].lowerBound
        let upper = sources[last.offset + last.length - 1].upperBound
        return (String(decoding: originalUnits[lower..<upper], as: UTF16.self), lower..<upper)
    }

    /// CJK Unified Ideographs and their extensions, and the compatibility ideographs.
    static func isHan(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x3134F: true
        default: false
        }
    }

    /// The form two English words are compared in: Porter's step 1a (plural endings) on words of four letters and more.
    static func stem(_ word: String) -> String {
        guard word.count >= 4 else { return word }
        if word.hasSuffix("sses") { return String(word.dropLast(2)) }
        if word.hasSuffix("ies") { return String(word.dropLast(3)) + "y" }
        if word.hasSuffix("ss") || word.hasSuffix("us") || word.hasSuffix("is") { return word }
        if word.hasSuffix("s") { return String(word.dropLast()) }
        return word
    }
}
