import Foundation
import Testing

@testable import Training

@Suite("Originality")
struct OriginalityTests {
    static let texts = [
        "左肺上叶见一结节，大小约1.2cm，边缘毛刺，考虑周围型肺癌可能，建议增强CT进一步检查。",
        "左肺上叶可见一个结节，大小约1.2cm，边缘有毛刺，考虑周围型肺癌可能，建议进一步增强CT检查。",
        "右肾见一枚结石，伴轻度肾积水，输尿管未见扩张。",
        "A spiculated nodule in the left upper lobe measuring 12 mm, suspicious for primary lung cancer; contrast CT recommended.",
        "There is a spiculated nodule in the left upper lobe measuring 12 mm, suspicious for primary lung cancer. Contrast CT is recommended.",
        "Normal chest radiograph. The heart size is normal and the lungs are clear.",
        "ＣＴ示右肾结石 with mild hydronephrosis, no ureteric dilatation.",
        "CT示右肾结石 with mild hydronephrosis and no ureteric dilatation!",
        "",
    ]

    struct Reference: Decodable {
        var permutations: [[UInt64]]
        var shingles: [[String]]
        var signatures: [[UInt64]]
        var exact: [String: Double]
        var estimate: [String: Double]
        var candidates: [[Int]]
    }

    static func reference(bands: Int, rows: Int) throws -> Reference {
        let path = try ReferenceScript.temporaryFile("texts.json", JSONEncoder().encode(texts))
        return try JSONDecoder().decode(Reference.self, from: ReferenceScript.run("minhash_reference.py", [path, "\(bands)", "\(rows)"]))
    }

    @Test("Shingles of Chinese, English and mixed text are the sets Python cuts from the documented rules")
    func shingles() throws {
        let reference = try Self.reference(bands: 64, rows: 2)
        for (index, text) in Self.texts.enumerated() {
            #expect(Shingles.of(text) == Set(reference.shingles[index]), "text \(index)")
        }
    }

    @Test("With datasketch's permutations, signatures are datasketch's MinHash hash values, bit for bit")
    func signaturesMatchDatasketch() throws {
        let reference = try Self.reference(bands: 64, rows: 2)
        let hasher = MinHasher(a: reference.permutations[0], b: reference.permutations[1])
        for (index, text) in Self.texts.enumerated() {
            #expect(hasher.signature(Shingles.of(text)) == reference.signatures[index], "text \(index)")
        }
        for (key, value) in reference.estimate {
            let pair = key.split(separator: ",").compactMap { Int($0) }
            let got = MinHasher.estimate(reference.signatures[pair[0]], reference.signatures[pair[1]])
            #expect(close(got, value), "pair \(key)")
        }
    }

    @Test("Atrium's own permutations estimate Jaccard within 0.15 of the exact value from Python sets")
    func estimatesNearExact() throws {
        let reference = try Self.reference(bands: 64, rows: 2)
        let hasher = MinHasher()
        let signatures = Self.texts.map { hasher.signature(Shingles.of($0)) }
        var nonZero = 0
        for (key, exact) in reference.exact {
            let pair = key.split(separator: ",").compactMap { Int($0) }
            let sets = (Shingles.of(Self.texts[pair[0]]), Shingles.of(Self.texts[pair[1]]))
            #expect(close(Shingles.jaccard(sets.0, sets.1), exact), "exact \(key)")
            // 128 permutations: the standard error is at most 0.044; 0.15 is more than three of them.
            #expect(abs(MinHasher.estimate(signatures[pair[0]], signatures[pair[1]]) - exact) <= 0.15, "estimate \(key)")
            if exact > 0.2 { nonZero += 1 }
        }
        #expect(nonZero >= 3, "the texts hold at least three similar pairs")
    }

    @Test("LSH banding gives the candidate pairs Python's banding of the same signatures gives", arguments: [(64, 2), (32, 4), (16, 8)])
    func banding(bands: Int, rows: Int) throws {
        let reference = try Self.reference(bands: bands, rows: rows)
        let pairs = MinHashBanding(bands: bands, rows: rows).candidatePairs(reference.signatures)
        #expect(pairs.map { [$0.0, $0.1] } == reference.candidates)
    }

    @Test("A copied sentence is shown as a shared passage at its place in both texts")
    func sharedPassages() throws {
        let first = "Heart size normal. A spiculated nodule in the left upper lobe measuring 12 mm. Bones intact."
        let second = "Findings: there is a spiculated nodule in the left upper lobe measuring 12 mm; no effusion."
        let passages = SharedPassages.find(first, second)
        let passage = try #require(passages.first)
        #expect(passages.count == 1)
        // Offsets are UTF-16 code units of the texts as written (JavaScript's substring takes them).
        #expect(passage.text == "A spiculated nodule in the left upper lobe measuring 12 mm")
        #expect(Self.slice(first, passage.firstOffset, passage.firstLength) == passage.text)
        #expect(
            Self.slice(second, passage.secondOffset, passage.secondLength) == "a spiculated nodule in the left upper lobe measuring 12 mm")
        #expect(passage.tokens == 11)
        // Width, punctuation and traditional characters differ; the passage is shown as each text wrote it.
        let chineseFirst = "病史：咳嗽。左肺上叶见一结节，边缘毛刺。"
        let chineseSecond = "𠀀左肺上葉見一結節, 邊緣毛刺，建议随访。"
        let chinese = SharedPassages.find(chineseFirst, chineseSecond)
        #expect(chinese.map(\.text) == ["左肺上叶见一结节，边缘毛刺"])
        let c = try #require(chinese.first)
        #expect(Self.slice(chineseSecond, c.secondOffset, c.secondLength) == "左肺上葉見一結節, 邊緣毛刺")
        #expect(c.secondOffset == 2, "the supplementary-plane character before it takes two UTF-16 units")
    }

    static func slice(_ text: String, _ offset: Int, _ length: Int) -> String {
        let units = Array(text.utf16)
        guard offset >= 0, length >= 0, offset + length <= units.count else { return "(out of range)" }
        return String(decoding: units[offset..<(offset + length)], as: UTF16.self)
    }

    @Test("The check flags the copied and lightly edited pairs, with passages, and not the unrelated ones")
    func flags() {
        let documents = Self.texts.enumerated().map { OriginalityDocument(id: "d\($0.offset)", text: $0.element) }
        let flags = OriginalityCheck.flags(documents)
        let pairs = Set(flags.map { "\($0.first)-\($0.second)" })
        #expect(pairs.contains("d0-d1"))
        #expect(pairs.contains("d3-d4"))
        #expect(pairs.contains("d6-d7"))
        #expect(!pairs.contains("d0-d2") && !pairs.contains("d3-d5") && !pairs.contains("d0-d3"))
        #expect(!pairs.contains { $0.contains("d8") }, "an empty text is never flagged")
        for flag in flags { #expect(flag.jaccard >= OriginalityOptions().threshold) }
        #expect(flags.first { $0.first == "d3" && $0.second == "d4" }?.passages.isEmpty == false)
    }
}
