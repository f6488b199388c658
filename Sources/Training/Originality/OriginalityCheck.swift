/// A text to compare: a student's report, assignment or thesis, or a library reference report.
public struct OriginalityDocument: Sendable, Equatable, Codable {
    /// Its id (an attempt, an assignment, a reference report).
    public var id: String
    /// Its text.
    public var text: String

    /// Creates a document.
    public init(id: String, text: String) {
        self.id = id
        self.text = text
    }
}

/// Settings of an originality check (docs/training.md gives the defaults and the benchmark that chose them).
public struct OriginalityOptions: Sendable, Equatable {
    public var shingles = ShingleOptions()
    public var permutations = 128
    public var bands = 64
    public var rows = 2
    public var seed: UInt64 = 1
    /// Pairs whose shingle sets' Jaccard similarity reaches this are flagged.
    public var threshold = 0.35
    /// Shared passages shorter than this (in tokens) are not shown.
    public var minimumPassageTokens = 6
    /// Shingles found in more than this share of the compared documents (and in more than
    /// ``boilerplateMinimumDocuments``) are boilerplate (the template phrases every answer about a case uses) and are
    /// left out before comparing; `nil` (the default: on the benchmark it cost more recall than it gained
    /// precision, docs/performance.md) keeps every shingle.
    public var boilerplateShare: Double? = nil
    /// A shingle is never boilerplate when at most this many documents hold it (small collections keep everything).
    public var boilerplateMinimumDocuments = 10

    /// The defaults.
    public init() {}
}

/// A pair of documents flagged as similar: an indicator for the supervisor to look at, not a verdict.
public struct OriginalityFlag: Sendable, Equatable, Codable {
    public var first: String
    public var second: String
    /// The MinHash estimate of their Jaccard similarity.
    public var estimatedJaccard: Double
    /// Their shingle sets' exact Jaccard similarity (what the threshold applies to).
    public var jaccard: Double
    /// The passages they share, for the side-by-side view.
    public var passages: [SharedPassage]
}

/// Compares every document with every other: MinHash signatures and LSH banding find the candidate pairs; the exact
/// Jaccard similarity of a candidate pair's shingles decides whether it is flagged.
public enum OriginalityCheck {
    /// The flagged pairs among `documents`, most similar first.
    public static func flags(_ documents: [OriginalityDocument], options: OriginalityOptions = OriginalityOptions()) -> [OriginalityFlag] {
        let hasher = MinHasher(permutations: options.permutations, seed: options.seed)
        var sets = documents.map { Shingles.of($0.text, options: options.shingles) }
        if let share = options.boilerplateShare {
            var frequency: [String: Int] = [:]
            for set in sets { for shingle in set { frequency[shingle, default: 0] += 1 } }
            let limit = max(options.boilerplateMinimumDocuments, Int(share * Double(documents.count)))
            let boilerplate = Set(frequency.filter { $0.value > limit }.keys)
            if !boilerplate.isEmpty { sets = sets.map { $0.subtracting(boilerplate) } }
        }
        let signatures = sets.map { hasher.signature($0) }
        let banding = MinHashBanding(bands: options.bands, rows: options.rows)
        var flags: [OriginalityFlag] = []
        for (i, j) in banding.candidatePairs(signatures) {
            guard !sets[i].isEmpty, !sets[j].isEmpty else { continue }
            let jaccard = Shingles.jaccard(sets[i], sets[j])
            guard jaccard >= options.threshold else { continue }
            flags.append(
                OriginalityFlag(
                    first: documents[i].id, second: documents[j].id,
                    estimatedJaccard: MinHasher.estimate(signatures[i], signatures[j]), jaccard: jaccard,
                    passages: SharedPassages.find(documents[i].text, documents[j].text, minimumTokens: options.minimumPassageTokens)))
        }
        return flags.sorted { $0.jaccard != $1.jaccard ? $0.jaccard > $1.jaccard : ($0.first, $0.second) < ($1.first, $1.second) }
    }
}
