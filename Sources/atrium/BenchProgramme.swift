import Archive
import ArgumentParser
import Foundation
import Platform
import Programme
import Reading
import Synchronization
import Teaching

/// `atrium bench programme`: the programme dashboard's speed on a generated year (issue 19's target: every indicator
/// page p95 < 300 ms with 50,000 consultations and 20,000 cases for 30 institutions). The year is filled through the
/// consultation and library stores (a clock set to spread the requests over the year), then each view the page offers
/// (the year, each month, each institution) is computed as the page computes it: the facts read from the database,
/// then every indicator, its status and its monthly series, and the contributions.
struct BenchProgramme: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "programme",
        abstract: "Fill a year of consultations and teaching cases, then time the programme dashboard's views; print JSON."
    )

    @Option(help: "Consultation requests to generate over the year (kept between runs in --data).")
    var consultations: Int = 50_000

    @Option(help: "Teaching cases to generate (a third of them published).")
    var cases: Int = 20_000

    @Option(help: "Institutions the requests and cases come from.")
    var institutions: Int = 30

    @Option(help: "Dashboard views to time.")
    var views: Int = 200

    @Option(help: "Data folder (kept between runs).")
    var data: String = "bench/out/programme"

    @Option(help: "PostgreSQL URL instead of SQLite.")
    var database: String?

    func run() async throws {
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let archive = try Archive.open(directory: data, database: database)
        if let index = archive.index as? PostgresIndex { try await index.prepare() }
        let identity = try IdentityStore.make(archive: archive, directory: data)
        try await identity.prepare()
        let year = 2026
        let start = ProgrammePeriod(year: year).interval.start
        let clock = Mutex(start)
        let reading = ReadingStore.make(identity: identity, clock: { clock.withLock { $0 } })
        let teaching = TeachingStore(identity: identity)
        let store = ProgrammeStore(identity: identity, reading: reading, teaching: teaching)
        try await store.prepare()
        var generator = SplitMix(seed: 19)
        let codes = (1...institutions).map { String(format: "SITE-%02d", $0) }
        let fillStart = ContinuousClock.now
        let existing = try await reading.turnaroundCases(institution: nil).count
        let site = ReadingActor(username: "bench-site", displayName: "Bench site", sourceAddress: "127.0.0.1")
        let span = 365.0 * 86_400
        for n in existing..<consultations {
            clock.withLock { $0 = start.addingTimeInterval(span * Double(n) / Double(consultations)) }
            let priority = [Priority.stat, .urgent, .routine, .routine][Int.random(in: 0..<4, using: &generator)]
            _ = try await reading.file(
                NewConsultationRequest(
                    priority: priority, referringPhysician: "Dr Bench", clinicalHistory: "History \(n)", question: "Question \(n)?",
                    modality: ["CT", "MR", "CR"][n % 3], bodyPart: "CHEST", studies: ["1.2.826.0.1.3680043.8.498.19.\(n)"]),
                institution: codes.randomElement(using: &generator) ?? "SITE-01", by: site)
            if n % 5_000 == 4_999 { FileHandle.standardError.write(Data("  \(n + 1) consultations\n".utf8)) }
        }
        let existingCases = try await teaching.indicatorRecords().count
        for n in existingCases..<cases {
            var content = CaseContent(title: "Bench case \(n)")
            content.findings = "Findings \(n)"
            content.diagnosis = "Diagnosis \(n)"
            content.tags.modalities = [["CT", "MR", "CR"][n % 3]]
            let created = try await teaching.create(
                content, author: "bench-author", institution: codes.randomElement(using: &generator) ?? "SITE-01", source: "bench")
            if n % 3 == 0 {
                let submitted = try await teaching.apply(.submit, to: created.id, actor: "bench-author", revision: created.revision)
                _ = try await teaching.apply(.approve, to: created.id, actor: "bench-reviewer", revision: submitted.revision)
            }
            if n % 5_000 == 4_999 { FileHandle.standardError.write(Data("  \(n + 1) cases\n".utf8)) }
        }
        if try await store.targets(year: year).isEmpty {
            for definition in IndicatorCatalog.all {
                let lower = definition.direction == .lowerIsBetter
                try await store.setTarget(
                    ProgrammeTarget(
                        year: year, institution: nil, indicator: definition.key, target: lower ? 10 : 100, warning: lower ? 20 : 80,
                        owner: "bench"), by: "bench")
            }
        }
        let fillSeconds = (ContinuousClock.now - fillStart).seconds
        let now = ProgrammePeriod(year: year, month: 10).interval.start
        var latencies: [Double] = []
        var factsLatencies: [Double] = []
        for index in 0..<views {
            let period: ProgrammePeriod =
                switch index % 3 {
                case 0: ProgrammePeriod(year: year)
                case 1: ProgrammePeriod(year: year, month: 1 + index % 12)
                default: ProgrammePeriod(year: year, institution: codes[index % codes.count])
                }
            let began = ContinuousClock.now
            let facts = try await store.facts()
            factsLatencies.append((ContinuousClock.now - began).seconds * 1000)
            let targets = try await store.targets(year: year)
            let rows = ProgrammeDashboard.rows(facts: facts, targets: targets, period: period, now: now)
            let contributions = ProgrammeDashboard.contributions(facts: facts, period: period)
            latencies.append((ContinuousClock.now - began).seconds * 1000)
            if rows.isEmpty || (period.institution == nil && contributions.isEmpty) { throw ValidationError("an empty dashboard") }
        }
        func percentile(_ values: [Double], _ p: Double) -> Double {
            let sorted = values.sorted()
            return sorted[min(sorted.count - 1, max(0, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))]
        }
        let result: [String: Any] = [
            "backend": database == nil ? "sqlite" : "postgres", "consultations": consultations, "cases": cases,
            "institutions": institutions, "views": views, "fill_seconds": fillSeconds,
            "facts_p50_ms": percentile(factsLatencies, 50), "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95),
            "max_ms": latencies.max() ?? 0,
        ]
        let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }
}

extension Duration {
    fileprivate var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
