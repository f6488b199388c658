import Archive
import ArgumentParser
import Foundation
import Platform
import Teaching

/// `atrium bench search`: the library's search speed on a generated library (issue 17's target: p99 < 50 ms for a
/// full-text query with facets at 50,000 cases).
struct BenchSearch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Fill a library with generated cases, then time full-text searches with facets; print JSON."
    )

    @Option(help: "Published cases to generate (kept between runs in --data; only the missing ones are added).")
    var cases: Int = 50_000

    @Option(help: "Searches to time.")
    var queries: Int = 2_000

    @Option(help: "Data folder (the library goes in its atrium.sqlite, or in --database).")
    var data: String = "bench/out/library"

    @Option(help: "PostgreSQL URL instead of SQLite.")
    var database: String?

    func run() async throws {
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let archive = try Archive.open(directory: data, database: database)
        if let index = archive.index as? PostgresIndex { try await index.prepare() }
        let identity = try IdentityStore.make(archive: archive, directory: data)
        try await identity.prepare()
        let store = TeachingStore(identity: identity)
        try await store.prepare()
        var generator = SplitMix(seed: 17)
        let existing = try await store.search(CaseQuery(limit: 1)).total
        let fillStart = ContinuousClock.now
        for n in existing..<cases {
            let content = Self.content(n, &generator)
            let c = try await store.create(content, author: "bench-author", institution: "BENCH", source: "bench")
            let submitted = try await store.apply(.submit, to: c.id, actor: "bench-author", revision: c.revision)
            _ = try await store.apply(.approve, to: c.id, actor: "bench-reviewer", revision: submitted.revision)
            if n % 5_000 == 4_999 { FileHandle.standardError.write(Data("  \(n + 1) cases\n".utf8)) }
        }
        let fillSeconds = (ContinuousClock.now - fillStart).seconds
        // Queries from a generator of their own, so a run on a library filled earlier asks the same questions.
        generator = SplitMix(seed: 2026)
        var latencies: [Double] = []
        var totalHits = 0
        for _ in 0..<queries {
            var q = CaseQuery(text: Self.queryText(&generator), limit: 20)
            switch Int.random(in: 0..<3, using: &generator) {
            case 0: q.filters = ["modality": [Self.modalities.randomElement(using: &generator) ?? "CT"]]
            case 1: q.filters = ["difficulty": ["2", "3"], "bodyRegion": [Self.regions.randomElement(using: &generator) ?? "chest"]]
            default: break
            }
            let start = ContinuousClock.now
            let result = try await store.search(q)
            latencies.append((ContinuousClock.now - start).seconds * 1000)
            totalHits += result.total
        }
        latencies.sort()
        func percentile(_ p: Double) -> Double {
            latencies[min(latencies.count - 1, Int((p / 100 * Double(latencies.count)).rounded(.up)) - 1)]
        }
        let result: [String: Any] = [
            "backend": database == nil ? "sqlite" : "postgres", "cases": cases, "queries": queries,
            "fill_seconds": fillSeconds, "mean_hits": Double(totalHits) / Double(max(queries, 1)),
            "p50_ms": percentile(50), "p95_ms": percentile(95), "p99_ms": percentile(99), "max_ms": latencies.last ?? 0,
        ]
        let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }

    static let terms = [
        "肺癌", "肺炎", "结节", "磨玻璃", "肝癌", "肝脓肿", "脑梗死", "出血", "骨折", "胸腔积液", "气胸", "肾结石", "胆囊炎", "阑尾炎", "淋巴瘤",
        "脑膜瘤", "甲状腺", "乳腺癌", "主动脉夹层", "肺栓塞",
    ]
    static let english = [
        "cancer", "pneumonia", "nodule", "fracture", "hemorrhage", "infarction", "abscess", "effusion", "lymphoma", "dissection",
        "embolism", "stone",
    ]
    static let modalities = ["CT", "MR", "CR", "DX", "US", "MG"]
    static let regions = ["chest", "abdomen", "head", "neck", "pelvis", "spine", "extremity"]

    static func content(_ n: Int, _ g: inout SplitMix) -> CaseContent {
        func pick(_ list: [String]) -> String { list.randomElement(using: &g) ?? list[0] }
        let a = pick(terms), b = pick(terms), e = pick(english)
        return CaseContent(
            title: "\(a)病例 \(n) \(e)", clinicalHistory: "患者\(20 + n % 60)岁，主诉不适，既往\(b)病史。",
            findings: "影像见\(a)表现，伴\(b)。Findings consistent with \(e) and \(pick(english)).", diagnosis: "\(a) \(e)",
            differentialDiagnosis: "\(b)；\(pick(terms))", discussion: "典型\(a)的影像特征与鉴别诊断。",
            learningPoints: ["注意\(a)与\(b)的鉴别"],
            tags: CaseTags(
                modalities: [pick(modalities)], bodyRegion: pick(regions), organSystem: "system-\(n % 12)",
                pathologyCategory: "category-\(n % 8)", audience: n % 3 == 0 ? .technologist : .radiologist, difficulty: 1 + n % 5))
    }

    static func queryText(_ g: inout SplitMix) -> String {
        switch Int.random(in: 0..<3, using: &g) {
        case 0: terms.randomElement(using: &g) ?? "肺癌"
        case 1: english.randomElement(using: &g) ?? "cancer"
        default: "\(terms.randomElement(using: &g) ?? "肺癌") \(english.randomElement(using: &g) ?? "cancer")"
        }
    }
}

/// A seeded generator, so each run builds the same library.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Duration {
    fileprivate var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
