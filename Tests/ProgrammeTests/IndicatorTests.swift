import AtriumTesting
import Foundation
import Platform
import Testing

@testable import Programme

/// A seeded year of the alliance's records: consultations, teaching cases (some from the year before), training
/// person-times and exam attempts, for four institutions.
struct SeededYear {
    static let institutions = ["AFFILIATED", "COUNTY-A", "COUNTY-B", "MEDCOLLEGE"]
    let year = 2026
    let now: Date
    let facts: ProgrammeFacts

    init(seed: UInt64, now: Date) {
        var random = SeededRandom(seed: seed)
        self.now = now
        let start = ProgrammePeriod(year: 2026).interval.start.timeIntervalSince1970
        let span = ProgrammePeriod(year: 2026).interval.end.timeIntervalSince1970 - start
        func moment(_ from: Double, _ length: Double) -> Date { Date(timeIntervalSince1970: from + random.unit() * length) }
        var facts = ProgrammeFacts()
        for n in 0..<900 {
            // Study UIDs from the request's number: every 600th request resends a study, every fifth sends two.
            let studies = ["2.25.\(n % 600)"] + (n % 5 == 0 ? ["2.25.\(1000 + n)"] : [])
            let received = moment(start - 86_400 * 20, span + 86_400 * 40)
            let priority = ["stat", "urgent", "routine"][random.below(3)]
            let deadline = received.addingTimeInterval(["stat": 3600.0, "urgent": 14_400, "routine": 86_400][priority] ?? 86_400)
            // About one in six has no final report yet; the others take up to two days.
            let final = random.below(6) == 0 ? nil : received.addingTimeInterval(random.unit() * 172_800)
            facts.consultations.append(
                .init(
                    site: Self.institutions[random.below(4)], priority: priority, modality: ["CT", "MR", "DX"][random.below(3)],
                    received: received, deadline: deadline, final: final, studies: studies))
        }
        for _ in 0..<400 {
            let created = moment(start - span * 1.5, span * 2.5)
            let published = random.below(3) == 0 ? nil : created.addingTimeInterval(random.unit() * 86_400 * 60)
            facts.cases.append(
                .init(
                    institution: Self.institutions[random.below(4)], modality: "CT", created: created, published: published))
        }
        for index in 0..<700 {
            facts.training.append(
                .init(
                    person: "p\(index % 90)", institution: Self.institutions[random.below(4)], kind: "course",
                    completed: moment(start - 86_400 * 10, span + 86_400 * 20)))
        }
        for index in 0..<500 {
            facts.exams.append(
                .init(
                    person: "p\(index % 120)", institution: Self.institutions[random.below(4)], exam: "e\(index % 7)",
                    submitted: moment(start, span), passed: random.below(10) < 7, first: random.below(4) != 0))
        }
        for index in 0..<600 {
            facts.healthServices.append(
                .init(
                    institution: Self.institutions[random.below(4)], kind: ["examination", "assessment", "follow-up"][index % 3],
                    date: moment(start - 86_400 * 10, span + 86_400 * 20)))
        }
        // Library use: case views and practice reports by 150 people, some around the year's edges; courses published.
        for index in 0..<1_200 {
            facts.libraryUse.append(
                .init(
                    kind: random.below(3) == 0 ? .practice : .view, person: "s\(random.below(150))",
                    institution: Self.institutions[random.below(4)], caseID: Int64(index % 90),
                    date: moment(start - 86_400 * 10, span + 86_400 * 20)))
        }
        for _ in 0..<40 {
            facts.coursePublications.append(
                .init(institution: Self.institutions[random.below(4)], published: moment(start - 86_400 * 30, span + 86_400 * 60)))
        }
        // Supervision across partners: countersigned placements of 60 trainees (whole local days, some across the year's
        // edges), teaching by 45 people of the three partners (moments, and placements supervised), inspections.
        let partners = ["AFFILIATED", "COUNTY-A", "COUNTY-B"]
        func day(_ date: Date) -> CivilDate { CivilDate(date) }
        for index in 0..<160 {
            let first = day(moment(start - 86_400 * 60, span + 86_400 * 60))
            let last = first.adding(days: random.below(90))
            facts.placements.append(
                .init(trainee: "t\(index % 60)", partner: partners[random.below(3)], first: first.start, last: last.start))
        }
        for index in 0..<500 {
            let person = random.below(45)
            if index % 5 == 0 {
                let first = day(moment(start - 86_400 * 40, span + 86_400 * 40))
                facts.teachingActs.append(
                    .init(
                        person: "teacher\(person)", institution: partners[person % 3], kind: "practice-supervision", first: first.start,
                        last: first.adding(days: random.below(60)).start))
            } else {
                let date = moment(start - 86_400 * 30, span + 86_400 * 60)
                facts.teachingActs.append(
                    .init(
                        person: "teacher\(person)", institution: partners[person % 3], kind: ["countersign", "grade"][index % 2],
                        first: date, last: date))
            }
        }
        for _ in 0..<70 {
            facts.inspections.append(
                .init(institution: Self.institutions[random.below(4)], date: day(moment(start - 86_400 * 20, span + 86_400 * 40)).start))
        }
        self.facts = facts
    }

    /// The facts as the reference script reads them.
    func json() throws -> Data {
        func t(_ date: Date?) -> Any { date.map { $0.timeIntervalSince1970 } ?? NSNull() }
        let object: [String: Any] = [
            "now": now.timeIntervalSince1970, "year": year, "institutions": Self.institutions,
            "consultations": facts.consultations.map {
                [
                    "site": $0.site, "received": t($0.received), "deadline": t($0.deadline), "final": t($0.final),
                    "studies": $0.studies,
                ] as [String: Any]
            },
            "cases": facts.cases.map {
                ["institution": $0.institution, "created": t($0.created), "published": t($0.published)] as [String: Any]
            },
            "training": facts.training.map { ["institution": $0.institution, "completed": t($0.completed)] as [String: Any] },
            "health": facts.healthServices.map { ["institution": $0.institution, "date": t($0.date)] as [String: Any] },
            "libraryUse": facts.libraryUse.map {
                ["kind": $0.kind.rawValue, "person": $0.person, "institution": $0.institution, "date": t($0.date)] as [String: Any]
            },
            "courses": facts.coursePublications.map { ["institution": $0.institution, "published": t($0.published)] as [String: Any] },
            "placements": facts.placements.map {
                ["trainee": $0.trainee, "partner": $0.partner, "first": t($0.first), "last": t($0.last)] as [String: Any]
            },
            "teaching": facts.teachingActs.map {
                ["person": $0.person, "institution": $0.institution, "first": t($0.first), "last": t($0.last)] as [String: Any]
            },
            "inspections": facts.inspections.map { ["institution": $0.institution, "date": t($0.date)] as [String: Any] },
            "exams": facts.exams.map {
                ["institution": $0.institution, "submitted": t($0.submitted), "passed": $0.passed, "first": $0.first] as [String: Any]
            },
        ]
        return try JSONSerialization.data(withJSONObject: object)
    }
}

/// SplitMix64: a small seeded generator, so the year is the same on every run.
struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

@Suite("Programme indicators")
struct IndicatorTests {
    @Test("Every indicator, for the year and each month, for the alliance and each institution, equals Python's own count")
    func indicatorsMatchReference() throws {
        let now = ProgrammePeriod(year: 2026, month: 9).interval.start.addingTimeInterval(86_400 * 12.5)
        let seeded = SeededYear(seed: 20_261_206, now: now)
        let path = try Corpus.temporaryDirectory("atrium-indicators") + "/facts.json"
        try seeded.json().write(to: URL(fileURLWithPath: path))
        let run = try Subprocess.run("python3", [Corpus.script("ProgrammeTests", "indicator_reference.py"), path])
        try #require(run.status == 0, "indicator_reference.py: \(run.errorOutput)")
        let reference = try #require(try JSONSerialization.jsonObject(with: run.standardOutput) as? [String: Any])
        var compared = 0
        for institution in [nil] + SeededYear.institutions.map(Optional.some) {
            for month in 0...12 {
                let period = ProgrammePeriod(year: 2026, month: month == 0 ? nil : month, institution: institution)
                for definition in IndicatorCatalog.all {
                    let key = "\(institution ?? "*")|\(month)|\(definition.key)"
                    let expected = try #require(reference.keys.contains(key) ? reference[key] : nil, "no reference for \(key)")
                    let value = IndicatorComputation.value(definition.key, facts: seeded.facts, period: period, now: now)
                    if let number = expected as? Double {
                        #expect(value.map { abs($0 - number) < 1e-9 } == true, "\(key): \(String(describing: value)) vs \(number)")
                    } else {
                        #expect(value == nil, "\(key): \(String(describing: value)) vs none")
                    }
                    compared += 1
                }
            }
            // The monthly series (computed in one pass) gives each month's figure as Python counts it.
            for definition in IndicatorCatalog.all {
                let series = IndicatorComputation.monthly(
                    definition.key, facts: seeded.facts, period: ProgrammePeriod(year: 2026, institution: institution), now: now)
                #expect(series.count == 12)
                for (index, value) in series.enumerated() {
                    let key = "\(institution ?? "*")|\(index + 1)|\(definition.key)"
                    if let number = reference[key] as? Double {
                        #expect(value.map { abs($0 - number) < 1e-9 } == true, "monthly \(key): \(String(describing: value)) vs \(number)")
                    } else {
                        #expect(value == nil, "monthly \(key): \(String(describing: value)) vs none")
                    }
                }
            }
        }
        #expect(compared == 5 * 13 * IndicatorCatalog.all.count)
    }

    @Test("Contributions per institution add up to the alliance's counts, which Python's reference gives")
    func contributionsAddUp() throws {
        let now = ProgrammePeriod(year: 2027).interval.start
        let seeded = SeededYear(seed: 7, now: now)
        let path = try Corpus.temporaryDirectory("atrium-indicators") + "/facts.json"
        try seeded.json().write(to: URL(fileURLWithPath: path))
        let run = try Subprocess.run("python3", [Corpus.script("ProgrammeTests", "indicator_reference.py"), path])
        try #require(run.status == 0, "indicator_reference.py: \(run.errorOutput)")
        let reference = try #require(try JSONSerialization.jsonObject(with: run.standardOutput) as? [String: Any])
        let rows = ProgrammeDashboard.contributions(facts: seeded.facts, period: ProgrammePeriod(year: 2026))
        #expect(rows.map(\.institution) == SeededYear.institutions)
        for row in rows {
            #expect(Double(row.consultationsRequested) == reference["\(row.institution)|0|consultations"] as? Double)
            #expect(Double(row.casesContributed) == reference["\(row.institution)|0|library.cases-added"] as? Double)
            #expect(Double(row.casesPublished) == reference["\(row.institution)|0|library.cases-published"] as? Double)
            #expect(Double(row.trainingPersonTimes) == reference["\(row.institution)|0|training.person-times"] as? Double)
        }
        #expect(
            Double(rows.map(\.consultationsRequested).reduce(0, +)) == reference["*|0|consultations"] as? Double)
    }

    @Test(
        "Studies sent, part-time teachers, trainees hosted and inspections of each partner, for the year and each month, equal Python's count"
    )
    func partnerColumnsMatchReference() throws {
        let now = ProgrammePeriod(year: 2027).interval.start
        let seeded = SeededYear(seed: 19, now: now)
        let path = try Corpus.temporaryDirectory("atrium-indicators") + "/facts.json"
        try seeded.json().write(to: URL(fileURLWithPath: path))
        let run = try Subprocess.run("python3", [Corpus.script("ProgrammeTests", "indicator_reference.py"), path])
        try #require(run.status == 0, "indicator_reference.py: \(run.errorOutput)")
        let reference = try #require(try JSONSerialization.jsonObject(with: run.standardOutput) as? [String: Any])
        var nonZero = 0
        for month in 0...12 {
            let period = ProgrammePeriod(year: 2026, month: month == 0 ? nil : month)
            let rows = Dictionary(
                uniqueKeysWithValues: ProgrammeDashboard.contributions(facts: seeded.facts, period: period).map { ($0.institution, $0) })
            for institution in SeededYear.institutions {
                let row = rows[institution]
                for (column, value) in [
                    ("studies-sent", row?.studiesSent), ("part-time-teachers", row?.partTimeTeachers),
                    ("trainees-hosted", row?.traineesHosted),
                    ("inspections", row?.inspections),
                ] {
                    let expected = try #require(reference["\(institution)|\(month)|contributions.\(column)"] as? Double)
                    #expect(Double(value ?? 0) == expected, "\(institution) month \(month) \(column)")
                    if expected > 0 { nonZero += 1 }
                }
            }
            // One institution read alone gives its own row, the same figures.
            let alone = ProgrammeDashboard.contributions(
                facts: seeded.facts, period: ProgrammePeriod(year: 2026, month: period.month, institution: "COUNTY-A"))
            #expect(alone.map(\.institution).allSatisfy { $0 == "COUNTY-A" })
            #expect(alone.first?.partTimeTeachers ?? 0 == rows["COUNTY-A"]?.partTimeTeachers ?? 0)
        }
        // The seed gives every partner figures in most months: the comparison is not of zeros.
        #expect(nonZero > 80)
    }
}
