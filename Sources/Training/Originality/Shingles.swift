/// How texts are cut into shingles for originality comparison.
public struct ShingleOptions: Sendable, Equatable, Codable {
    /// Characters per shingle inside a run of Han characters (Chinese is compared by characters, unsegmented).
    public var hanLength: Int
    /// Words per shingle inside a run of words (English and other alphabetic text).
    public var wordLength: Int

    /// Creates options; the defaults suit short answers and reports (docs/training.md).
    public init(hanLength: Int = 3, wordLength: Int = 3) {
        self.hanLength = max(1, hanLength)
        self.wordLength = max(1, wordLength)
    }
}

/// The shingles of a text: character n-grams over each run of Han characters and word n-grams over each run of words,
/// after ``NormalizedText`` (so width, case, traditional/simplified and punctuation do not matter). A run shorter than
/// n is one shingle. Mixed text gives both kinds.
public enum Shingles {
    /// The shingles of `text` (a set: repeats count once, as Jaccard similarity wants).
    public static func of(_ text: String, options: ShingleOptions = ShingleOptions()) -> Set<String> {
        var out: Set<String> = []
        for run in runs(NormalizedText(text).tokens) {
            let n = run.first?.isHan == true ? options.hanLength : options.wordLength
            let separator = run.first?.isHan == true ? "" : " "
            if run.count <= n {
                out.insert(run.map(\.text).joined(separator: separator))
                continue
            }
            for start in 0...(run.count - n) {
                out.insert(run[start..<(start + n)].map(\.text).joined(separator: separator))
            }
        }
        return out
    }

    /// Maximal runs of tokens of one kind (punctuation does not end a run; a change of script does).
    static func runs(_ tokens: [TextToken]) -> [[TextToken]] {
        var runs: [[TextToken]] = []
        for token in tokens {
            if let last = runs.last?.last, last.isHan == token.isHan {
                runs[runs.count - 1].append(token)
            } else {
                runs.append([token])
            }
        }
        return runs
    }

    /// The exact Jaccard similarity |A ∩ B| / |A ∪ B| (0 when both are empty).
    public static func jaccard(_ a: Set<String>, _ b: Set<String>) -> Double {
        let union = a.union(b).count
        return union == 0 ? 0 : Double(a.intersection(b).count) / Double(union)
    }

    /// FNV-1a, 32 bits, over the shingle's UTF-8 bytes: the hash every MinHash permutation starts from.
    public static func hash32(_ shingle: String) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in shingle.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return hash
    }
}
