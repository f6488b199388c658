/// A small seeded generator (SplitMix64, Steele, Lea and Flood 2014): the same seed gives the same sequence on every
/// machine and every run, which is what a per-attempt shuffle needs (the system generator cannot be seeded).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// FNV-1a (64-bit) of `text`'s UTF-8 bytes: a stable seed from names (`Hasher` changes from run to run).
    public static func seed(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    /// A number in `0..<bound` without modulo bias (Lemire's method is overkill here; rejection keeps it simple).
    mutating func below(_ bound: Int) -> Int {
        if bound <= 1 { return 0 }
        let limit = UInt64.max - UInt64.max % UInt64(bound)
        while true {
            let value = next()
            if value < limit { return Int(value % UInt64(bound)) }
        }
    }
}

extension Array {
    /// Fisher–Yates with `generator`: the same generator state gives the same order everywhere (unlike `shuffled(using:)`,
    /// whose algorithm the standard library does not promise).
    public func deterministicallyShuffled(using generator: inout SplitMix64) -> [Element] {
        var copy = self
        if copy.count < 2 { return copy }
        for i in stride(from: copy.count - 1, to: 0, by: -1) {
            copy.swapAt(i, generator.below(i + 1))
        }
        return copy
    }
}
