import Foundation

/// MinHash signatures (Broder 1997) with the permutation family datasketch uses: h_j(x) = ((a_j·x + b_j) mod 2^64
/// mod p) ∧ (2^32 − 1), p = 2^61 − 1, over a 32-bit hash of each shingle; a signature is the minimum of each h_j.
public struct MinHasher: Sendable, Equatable {
    /// The Mersenne prime 2^61 − 1.
    public static let prime: UInt64 = (1 << 61) - 1
    /// The largest hash value (and the value of an empty set's signature).
    public static let maximumHash: UInt64 = (1 << 32) - 1

    /// The permutations' multipliers (in 1..<p).
    public let a: [UInt64]
    /// The permutations' offsets (in 0..<p).
    public let b: [UInt64]

    /// Permutations drawn from a SplitMix64 generator seeded with `seed`, so signatures are stable across runs.
    public init(permutations: Int = 128, seed: UInt64 = 1) {
        var state = seed
        func next() -> UInt64 {
            state = state &+ 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var a: [UInt64] = []
        var b: [UInt64] = []
        for _ in 0..<max(1, permutations) {
            a.append(next() % (Self.prime - 1) + 1)
            b.append(next() % Self.prime)
        }
        self.a = a
        self.b = b
    }

    /// Given permutations (for example datasketch's, in a test).
    public init(a: [UInt64], b: [UInt64]) {
        self.a = a
        self.b = b
    }

    /// The number of permutations (the signature's length).
    public var permutations: Int { a.count }

    /// The signature of a set of shingles.
    public func signature(_ shingles: Set<String>) -> [UInt64] {
        signature(hashes: shingles.map { UInt64(Shingles.hash32($0)) })
    }

    /// The signature of a set given by its 32-bit hashes.
    public func signature(hashes: [UInt64]) -> [UInt64] {
        var signature = [UInt64](repeating: Self.maximumHash, count: a.count)
        for x in hashes {
            for j in a.indices {
                let value = ((a[j] &* x) &+ b[j]) % Self.prime & Self.maximumHash
                if value < signature[j] { signature[j] = value }
            }
        }
        return signature
    }

    /// The estimated Jaccard similarity of two signatures: the share of positions where they agree.
    public static func estimate(_ x: [UInt64], _ y: [UInt64]) -> Double {
        guard x.count == y.count, !x.isEmpty else { return 0 }
        var equal = 0
        for k in x.indices where x[k] == y[k] { equal += 1 }
        return Double(equal) / Double(x.count)
    }
}

/// Locality-sensitive hashing over MinHash signatures by banding: a signature of b·r values is cut into b bands of r
/// rows; two documents are candidates when any band is identical. The chance that a pair of similarity s becomes a
/// candidate is 1 − (1 − s^r)^b.
public struct MinHashBanding: Sendable, Equatable {
    /// Bands.
    public let bands: Int
    /// Rows per band.
    public let rows: Int

    /// Creates a banding; `bands · rows` must not exceed the signatures' length (the rest is ignored).
    public init(bands: Int, rows: Int) {
        self.bands = max(1, bands)
        self.rows = max(1, rows)
    }

    /// The similarity at which the chance of becoming a candidate rises fastest, about (1/b)^(1/r).
    public var threshold: Double { pow(1 / Double(bands), 1 / Double(rows)) }

    /// Pairs of indices (i < j) of `signatures` that share at least one band, in order.
    public func candidatePairs(_ signatures: [[UInt64]]) -> [(Int, Int)] {
        var pairs: Set<Pair> = []
        for band in 0..<bands {
            var buckets: [[UInt64]: [Int]] = [:]
            let range = (band * rows)..<((band + 1) * rows)
            for (index, signature) in signatures.enumerated() where signature.count >= range.upperBound {
                buckets[Array(signature[range]), default: []].append(index)
            }
            for members in buckets.values where members.count > 1 {
                for x in members.indices {
                    for y in members.indices where y > x { pairs.insert(Pair(first: members[x], second: members[y])) }
                }
            }
        }
        return pairs.sorted { $0.first != $1.first ? $0.first < $1.first : $0.second < $1.second }.map { ($0.first, $0.second) }
    }

    private struct Pair: Hashable {
        var first: Int
        var second: Int
    }
}
