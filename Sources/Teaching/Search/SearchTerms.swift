import Foundation

/// Splits Chinese and English text into the terms the library indexes and searches, the same way on SQLite and
/// PostgreSQL: letters and digits of alphabetic scripts as lower-cased words; runs of CJK characters as every character
/// and every pair of neighbours (bigrams), so that a two-character term such as 肺癌 finds its cases, which trigram
/// indexes cannot do. Full-width forms are folded (NFKC) first.
public enum SearchTerms {
    /// The terms to index for `text`: words, CJK characters and CJK bigrams, each once.
    public static func indexed(_ text: String) -> [String] {
        var out: [String] = []
        var seen = Set<String>()
        for run in runs(text) {
            switch run {
            case .word(let word): out.append(word)
            case .cjk(let characters):
                out += characters.map { String($0) }
                if characters.count > 1 { out += zip(characters, characters.dropFirst()).map { String([$0, $1]) } }
            }
        }
        return out.filter { seen.insert($0).inserted }
    }

    /// The terms a query needs, all of which a case must have: words, and a CJK run's bigrams (its one character when
    /// the run is a single character).
    public static func query(_ text: String) -> [String] {
        var out: [String] = []
        var seen = Set<String>()
        for run in runs(text) {
            switch run {
            case .word(let word): out.append(word)
            case .cjk(let characters):
                if characters.count == 1 {
                    out.append(String(characters))
                } else {
                    out += zip(characters, characters.dropFirst()).map { String([$0, $1]) }
                }
            }
        }
        return out.filter { seen.insert($0).inserted }
    }

    enum Run: Equatable {
        case word(String)
        case cjk([Character])
    }

    static func runs(_ text: String) -> [Run] {
        var runs: [Run] = []
        var word = ""
        var cjk: [Character] = []
        func flush() {
            if !word.isEmpty { runs.append(.word(word)) }
            if !cjk.isEmpty { runs.append(.cjk(cjk)) }
            word = ""
            cjk = []
        }
        for character in text.precomposedStringWithCompatibilityMapping.lowercased() {
            guard let scalar = character.unicodeScalars.first else { continue }
            if isCJK(scalar) {
                if !word.isEmpty {
                    runs.append(.word(word))
                    word = ""
                }
                cjk.append(character)
            } else if character.isLetter || character.isNumber {
                if !cjk.isEmpty {
                    runs.append(.cjk(cjk))
                    cjk = []
                }
                word.append(character)
            } else {
                flush()
            }
        }
        flush()
        return runs
    }

    /// Han ideographs (unified, extension A–F, compatibility), kana and Hangul syllables.
    static func isCJK(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x2FA1F, 0x3040...0x30FF, 0xAC00...0xD7AF: true
        default: false
        }
    }
}
