import Archive
import ArgumentParser
import Foundation
import Platform
import Programme
import Reading
import Synchronization
import Teaching
import Training

/// `atrium bench programme`: the programme dashboard's speed on a generated year (issue 19's target: every indicator
/// page p95 < 300 ms with 50,000 consultations, 20,000 cases and 500,000 exam answers for 30 institutions). The year is
/// filled through the consultation, library and exam stores (a clock set to spread the requests and attempts over the
/// year; the answers of each batch of attempts written in one transaction, as the exam store writes them one by one),
/// then each view the page offers
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

    @Option(help: "Exam answers to generate (20 objective questions an attempt; students of every institution).")
    var answers: Int = 500_000

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
        // Students are made with cheap password hashes: nobody signs in, and 600,000 PBKDF2 rounds each would be the fill.
        var policy = SecurityPolicy()
        policy.passwordIterations = 1_000
        let identity = try IdentityStore.make(archive: archive, directory: data, policy: policy)
        try await identity.prepare()
        let year = 2026
        let start = ProgrammePeriod(year: year).interval.start
        let clock = Mutex(start)
        let reading = ReadingStore.make(identity: identity, clock: { clock.withLock { $0 } })
        let teaching = TeachingStore(identity: identity)
        let training = TrainingStore(identity: identity)
        try await training.prepare()
        let store = ProgrammeStore(identity: identity, reading: reading, teaching: teaching, training: training)
        try await store.prepare()
        var generator = SplitMix(seed: 19)
        let codes = (1...institutions).map { String(format: "SITE-%02d", $0) }
        let fillStart = ContinuousClock.now
        let existing = try await reading.turnaroundCases(institution: nil).count
        let site = ReadingActor(username: "bench-site", displayName: "Bench site", sourceAddress: "127.0.0.1")
        let span = 365.0 * 86_400
        for n in min(existing, consultations)..<consultations {
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
        for n in min(existingCases, cases)..<cases {
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
        try await fillExams(training: training, identity: identity, codes: codes, start: start, span: span, generator: &generator)
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
        // The first read of the facts (nothing kept yet: what a view pays after a restart or a change of the data).
        let coldStart = ContinuousClock.now
        _ = try await store.facts()
        let coldMilliseconds = (ContinuousClock.now - coldStart).seconds * 1000
        var latencies: [String: [Double]] = [:]
        var factsLatencies: [Double] = []
        for index in 0..<views {
            let (kind, period): (String, ProgrammePeriod) =
                switch index % 3 {
                case 0: ("year", ProgrammePeriod(year: year))
                case 1: ("month", ProgrammePeriod(year: year, month: 1 + index % 12))
                default: ("institution", ProgrammePeriod(year: year, institution: codes[index % codes.count]))
                }
            let began = ContinuousClock.now
            let facts = try await store.facts()
            factsLatencies.append((ContinuousClock.now - began).seconds * 1000)
            let targets = try await store.targets(year: year)
            let rows = ProgrammeDashboard.rows(facts: facts, targets: targets, period: period, now: now)
            let contributions = ProgrammeDashboard.contributions(facts: facts, period: period)
            let lines = ProgrammeDashboard.serviceLines(facts: facts, period: period, now: now)
            latencies[kind, default: []].append((ContinuousClock.now - began).seconds * 1000)
            if rows.isEmpty || lines.isEmpty || (period.institution == nil && contributions.isEmpty) {
                throw ValidationError("an empty dashboard")
            }
        }
        // A view right after the data changed: a case page opened (the case views read again) or a consultation filed
        // (the year's consultations read again); the other sources' records are kept.
        var changed: [String: [Double]] = [:]
        for n in 0..<max(4, views / 10) {
            let kind = n % 2 == 0 ? "case_view" : "consultation"
            if kind == "case_view" {
                try await teaching.recordCaseView(1, person: "bench-student-0000", institution: codes[n % codes.count], at: now)
            } else {
                _ = try await reading.file(
                    NewConsultationRequest(
                        priority: .routine, referringPhysician: "Dr Bench", clinicalHistory: "History", question: "Question?",
                        modality: "CT", bodyPart: "CHEST", studies: ["1.2.826.0.1.3680043.8.498.19.9\(n)\(Int.random(in: 0..<1_000_000))"]),
                    institution: codes[n % codes.count], by: site)
            }
            let began = ContinuousClock.now
            let facts = try await store.facts()
            _ = ProgrammeDashboard.rows(
                facts: facts, targets: try await store.targets(year: year), period: ProgrammePeriod(year: year), now: now)
            changed[kind, default: []].append((ContinuousClock.now - began).seconds * 1000)
        }
        func percentile(_ values: [Double], _ p: Double) -> Double {
            let sorted = values.sorted()
            guard !sorted.isEmpty else { return 0 }
            return sorted[min(sorted.count - 1, max(0, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))]
        }
        let all = latencies.values.flatMap { $0 }
        var result: [String: Any] = [
            "backend": database == nil ? "sqlite" : "postgres", "consultations": consultations, "cases": cases, "answers": answers,
            "institutions": institutions, "views": views, "fill_seconds": fillSeconds, "facts_cold_ms": coldMilliseconds,
            "facts_p50_ms": percentile(factsLatencies, 50), "p50_ms": percentile(all, 50), "p95_ms": percentile(all, 95),
            "max_ms": all.max() ?? 0,
        ]
        for (kind, values) in changed {
            result["after_\(kind)_p50_ms"] = percentile(values, 50)
            result["after_\(kind)_max_ms"] = values.max() ?? 0
        }
        for (kind, values) in latencies {
            result["\(kind)_p50_ms"] = percentile(values, 50)
            result["\(kind)_p95_ms"] = percentile(values, 95)
        }
        let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }
}

extension BenchProgramme {
    static let questionsPerAttempt = 20

    /// Thirty exams of twenty objective questions (single and multiple choice, image quality, matching, ordering), open to
    /// every student; the students (an equal share of each institution) sit them in turn over the year, each answering
    /// every question with a right answer more often the abler the student; every attempt submitted.
    func fillExams(
        training: TrainingStore, identity: IdentityStore, codes: [String], start: Date, span: Double, generator: inout SplitMix
    ) async throws {
        let attempts = answers / Self.questionsPerAttempt
        guard attempts > 0 else { return }
        let existing = try await training.indicatorRecords().count
        guard existing < attempts else { return }
        let actor = AuditActor(user: "bench", sourceAddress: "127.0.0.1", transport: "bench")
        var institutionIDs: [String: Int64] = Dictionary(uniqueKeysWithValues: try await identity.institutions().map { ($0.code, $0.id) })
        for code in codes where institutionIDs[code] == nil {
            institutionIDs[code] = try await identity.createInstitution(code: code, name: code, kind: .grassrootsHospital, actor: actor).id
        }
        let examCount = 30
        let studentCount = max(1, (attempts + examCount - 1) / examCount)
        let known = Set(try await identity.people().map(\.username))
        var students: [String] = []
        for n in 0..<studentCount {
            let username = String(format: "bench-student-%04d", n)
            students.append(username)
            if known.contains(username) { continue }
            _ = try await identity.createPerson(
                username: username, password: "bench password \(n) ok", roles: [.student],
                institutionID: institutionIDs[codes[n % codes.count]],
                actor: actor)
        }
        var bank = try await training.questions().filter { $0.createdBy == "bench-teacher" }.map(\.id)
        if bank.isEmpty {
            var contents: [QuestionContent] = []
            for q in 0..<Self.questionsPerAttempt {
                let choices = (0..<4).map { Choice(id: "c\($0)", text: "choice \($0)", correct: q % 5 == 4 ? $0 < 2 : $0 == 0) }
                switch q % 10 {
                case 7:
                    contents.append(
                        QuestionContent(
                            kind: .imageQuality, stem: "Rate the film \(q)",
                            criteria: ["positioning", "exposure", "collimation"].map { QualityCriterion(id: $0, name: $0, reference: 4) }))
                case 8:
                    contents.append(
                        QuestionContent(
                            kind: .matching, stem: "Match \(q)",
                            pairs: (0..<3).map { MatchPair(id: "p\($0)", left: "sign \($0)", right: "disease \($0)") }))
                case 9:
                    contents.append(
                        QuestionContent(
                            kind: .ordering, stem: "Order \(q)", items: (0..<4).map { OrderItem(id: "i\($0)", text: "step \($0)") }))
                default:
                    contents.append(
                        QuestionContent(kind: q % 5 == 4 ? .multipleChoice : .singleChoice, stem: "Question \(q)", choices: choices))
                }
            }
            bank = try await training.createQuestions(contents, by: "bench-teacher", at: start)
        }
        let contents = try await training.questions(ids: bank).mapValues(\.content)
        var exams = try await training.exams().filter { $0.createdBy == "bench-teacher" }.map(\.id)
        while exams.count < examCount {
            let settings = ExamSettings(title: "Bench exam \(exams.count + 1)", forms: [bank], shuffle: true)
            exams.append(try await training.createExam(settings, by: "bench-teacher", at: start).id)
        }
        var pending: [(String, [SQLValue])] = []
        var started: [(id: Int64, student: String, at: Date)] = []
        func flush() async throws {
            if !pending.isEmpty { try await identity.database.transaction(pending) }
            pending.removeAll(keepingCapacity: true)
            for attempt in started {
                _ = try await training.submit(attempt: attempt.id, student: attempt.student, at: attempt.at.addingTimeInterval(1_200))
            }
            started.removeAll(keepingCapacity: true)
        }
        for n in existing..<attempts {
            let student = students[n % students.count]
            let exam = exams[n / students.count % exams.count]
            let at = start.addingTimeInterval(span * Double(n) / Double(attempts))
            let attempt = try await training.start(exam: exam, student: student, at: at)
            let ability = Double(n % students.count) / Double(students.count)
            for (sequence, question) in attempt.order.enumerated() {
                guard let content = contents[question] else { continue }
                let right = Double.random(in: 0..<1, using: &generator) < 0.35 + 0.6 * ability
                let answer: Answer =
                    switch content.kind {
                    case .imageQuality: Answer(ratings: Dictionary(uniqueKeysWithValues: content.criteria.map { ($0.id, right ? 4 : 3) }))
                    case .matching: Answer(matches: Dictionary(uniqueKeysWithValues: content.pairs.map { ($0.id, right ? $0.right : "") }))
                    case .ordering: Answer(order: (right ? content.items : content.items.reversed()).map(\.id))
                    case .multipleChoice: Answer(choices: right ? ["c0", "c1"] : ["c0", "c2"])
                    default: Answer(choices: [right ? "c0" : "c\(1 + Int.random(in: 0..<3, using: &generator))"])
                    }
                let json = String(decoding: try JSONEncoder().encode(answer), as: UTF8.self)
                pending.append(
                    (
                        "INSERT INTO training_answers (attempt_id, question_id, answer, sequence, saved_at) VALUES (?, ?, ?, ?, ?)",
                        [
                            .integer(attempt.id), .integer(question), .text(json), .integer(Int64(sequence + 1)),
                            .integer(Int64((at.timeIntervalSince1970 + Double(sequence) * 30) * 1000)),
                        ]
                    ))
            }
            started.append((attempt.id, student, at))
            if started.count == 250 { try await flush() }
            if n % 5_000 == 4_999 { FileHandle.standardError.write(Data("  \(n + 1) attempts\n".utf8)) }
        }
        try await flush()
    }
}

extension Duration {
    fileprivate var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
