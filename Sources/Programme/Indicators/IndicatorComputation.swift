import Foundation
import Platform

/// A period the office reads figures for: a calendar year, or one month of it, in the alliance's local time (UTC+8),
/// optionally narrowed to one institution.
public struct ProgrammePeriod: Sendable, Equatable, Hashable {
    public var year: Int
    public var month: Int?
    public var institution: String?

    public init(year: Int, month: Int? = nil, institution: String? = nil) {
        self.year = year
        self.month = month
        self.institution = institution
    }

    static var calendar: Calendar { AllianceTime.calendar }

    /// The first instant of the period and the first instant after it.
    public var interval: (start: Date, end: Date) {
        let calendar = Self.calendar
        let start = calendar.date(from: DateComponents(year: year, month: month ?? 1, day: 1)) ?? .distantPast
        let end = calendar.date(byAdding: month == nil ? .year : .month, value: 1, to: start) ?? .distantFuture
        return (start, end)
    }

    func contains(_ date: Date) -> Bool {
        let (start, end) = interval
        return date >= start && date < end
    }

    func includes(institution other: String) -> Bool { institution.map { $0 == other } ?? true }

    /// How much of the period has passed at `now`, from 0 before it to 1 after it.
    public func elapsedFraction(at now: Date) -> Double {
        let (start, end) = interval
        if now <= start { return 0 }
        if now >= end { return 1 }
        return now.timeIntervalSince(start) / end.timeIntervalSince(start)
    }
}

/// Indicator figures computed from the facts: each a plain function of the records, so a test can compute the same
/// figure another way and compare. Nil means the figure is undefined for the period (no requests with a final report
/// for a median, no cases before the year for growth).
public enum IndicatorComputation {
    public static func value(_ key: String, facts: ProgrammeFacts, period: ProgrammePeriod, now: Date) -> Double? {
        // The bounds once per call: a calendar computation per record would dominate a year of 50,000 requests.
        let (start, end) = period.interval
        let institution = period.institution
        func within(_ date: Date) -> Bool { date >= start && date < end }
        func mine(_ other: String) -> Bool { institution == nil || institution == other }
        switch key {
        case IndicatorCatalog.consultations.key:
            return Double(facts.consultations.reduce(0) { $0 + (within($1.received) && mine($1.site) ? 1 : 0) })
        case IndicatorCatalog.turnaroundMedian.key:
            let hours = facts.consultations.compactMap { c -> Double? in
                guard within(c.received), mine(c.site), let final = c.final else { return nil }
                return final.timeIntervalSince(c.received) / 3600
            }
            return median(hours)
        case IndicatorCatalog.breachRate.key:
            var requests = 0
            var breached = 0
            for c in facts.consultations where within(c.received) && mine(c.site) {
                requests += 1
                if c.breached(now: now) { breached += 1 }
            }
            return requests == 0 ? nil : 100 * Double(breached) / Double(requests)
        case IndicatorCatalog.casesAdded.key:
            return Double(facts.cases.reduce(0) { $0 + (within($1.created) && mine($1.institution) ? 1 : 0) })
        case IndicatorCatalog.casesPublished.key:
            return Double(facts.cases.reduce(0) { $0 + ($1.published.map(within) == true && mine($1.institution) ? 1 : 0) })
        case IndicatorCatalog.libraryGrowth.key:
            // Growth is a yearly figure: cases added since the start of the year (up to the end of the period read)
            // over the cases the library held before the year began.
            let yearStart = ProgrammePeriod(year: period.year).interval.start
            var before = 0
            var added = 0
            for c in facts.cases where mine(c.institution) {
                if c.created < yearStart { before += 1 } else if c.created < end { added += 1 }
            }
            return before == 0 ? nil : 100 * Double(added) / Double(before)
        case IndicatorCatalog.trainingPersonTimes.key:
            return Double(facts.training.reduce(0) { $0 + (within($1.completed) && mine($1.institution) ? 1 : 0) })
        case IndicatorCatalog.healthServicePersonTimes.key:
            return Double(facts.healthServices.reduce(0) { $0 + (within($1.date) && mine($1.institution) ? 1 : 0) })
        case IndicatorCatalog.examPassRate.key:
            var firsts = 0
            var passed = 0
            for e in facts.exams where e.first && within(e.submitted) && mine(e.institution) {
                firsts += 1
                if e.passed { passed += 1 }
            }
            return firsts == 0 ? nil : 100 * Double(passed) / Double(firsts)
        case IndicatorCatalog.caseViews.key:
            return Double(facts.libraryUse.reduce(0) { $0 + ($1.kind == .view && within($1.date) && mine($1.institution) ? 1 : 0) })
        case IndicatorCatalog.practiceAttempts.key:
            return Double(facts.libraryUse.reduce(0) { $0 + ($1.kind == .practice && within($1.date) && mine($1.institution) ? 1 : 0) })
        case IndicatorCatalog.distinctStudents.key:
            var people = Set<String>()
            for use in facts.libraryUse where within(use.date) && mine(use.institution) { people.insert(use.person) }
            return Double(people.count)
        case IndicatorCatalog.coursesPublished.key:
            return Double(facts.coursePublications.reduce(0) { $0 + (within($1.published) && mine($1.institution) ? 1 : 0) })
        default:
            // A named indicator: the sum of the figures entered for the period, nil when none was.
            let entered = facts.figures.filter { $0.indicator == key && within($0.date) && mine($0.institution) }
            return entered.isEmpty ? nil : entered.map(\.value).reduce(0, +)
        }
    }

    /// The figure for each month of the period's year (twelve values), for trend charts: for each month, what
    /// ``value(_:facts:period:now:)`` gives for that month, computed in one pass over the records (each record put in its
    /// month by the months' bounds) rather than twelve.
    public static func monthly(_ key: String, facts: ProgrammeFacts, period: ProgrammePeriod, now: Date) -> [Double?] {
        let bounds =
            (1...12).map { ProgrammePeriod(year: period.year, month: $0).interval.start } + [
                ProgrammePeriod(year: period.year).interval.end
            ]
        let institution = period.institution
        func mine(_ other: String) -> Bool { institution == nil || institution == other }
        /// The month (0…11) a moment falls in, nil outside the year.
        func month(_ date: Date) -> Int? {
            guard date >= bounds[0], date < bounds[12] else { return nil }
            var low = 0
            var high = 12
            while high - low > 1 {
                let middle = (low + high) / 2
                if date >= bounds[middle] { low = middle } else { high = middle }
            }
            return low
        }
        func counts<Record>(_ records: [Record], _ date: (Record) -> Date?) -> [Double?] {
            var buckets = [Double](repeating: 0, count: 12)
            for record in records {
                if let moment = date(record), let m = month(moment) { buckets[m] += 1 }
            }
            return buckets
        }
        func rates(_ totals: [Int], _ hits: [Int]) -> [Double?] {
            zip(totals, hits).map { $0.0 == 0 ? nil : 100 * Double($0.1) / Double($0.0) }
        }
        switch key {
        case IndicatorCatalog.consultations.key:
            return counts(facts.consultations) { mine($0.site) ? $0.received : nil }
        case IndicatorCatalog.turnaroundMedian.key:
            var hours = [[Double]](repeating: [], count: 12)
            for c in facts.consultations where mine(c.site) {
                if let final = c.final, let m = month(c.received) { hours[m].append(final.timeIntervalSince(c.received) / 3600) }
            }
            return hours.map(median)
        case IndicatorCatalog.breachRate.key:
            var requests = [Int](repeating: 0, count: 12)
            var breached = [Int](repeating: 0, count: 12)
            for c in facts.consultations where mine(c.site) {
                guard let m = month(c.received) else { continue }
                requests[m] += 1
                if c.breached(now: now) { breached[m] += 1 }
            }
            return rates(requests, breached)
        case IndicatorCatalog.casesAdded.key:
            return counts(facts.cases) { mine($0.institution) ? $0.created : nil }
        case IndicatorCatalog.casesPublished.key:
            return counts(facts.cases) { mine($0.institution) ? $0.published : nil }
        case IndicatorCatalog.libraryGrowth.key:
            // Each month's figure is cumulative: the cases added from the start of the year to the end of that month.
            var before = 0
            var added = [Int](repeating: 0, count: 12)
            for c in facts.cases where mine(c.institution) {
                if c.created < bounds[0] { before += 1 } else if let m = month(c.created) { added[m] += 1 }
            }
            var total = 0
            return added.map { count in
                total += count
                return before == 0 ? nil : 100 * Double(total) / Double(before)
            }
        case IndicatorCatalog.trainingPersonTimes.key:
            return counts(facts.training) { mine($0.institution) ? $0.completed : nil }
        case IndicatorCatalog.healthServicePersonTimes.key:
            return counts(facts.healthServices) { mine($0.institution) ? $0.date : nil }
        case IndicatorCatalog.examPassRate.key:
            var firsts = [Int](repeating: 0, count: 12)
            var passed = [Int](repeating: 0, count: 12)
            for e in facts.exams where e.first && mine(e.institution) {
                guard let m = month(e.submitted) else { continue }
                firsts[m] += 1
                if e.passed { passed[m] += 1 }
            }
            return rates(firsts, passed)
        case IndicatorCatalog.caseViews.key:
            return counts(facts.libraryUse) { $0.kind == .view && mine($0.institution) ? $0.date : nil }
        case IndicatorCatalog.practiceAttempts.key:
            return counts(facts.libraryUse) { $0.kind == .practice && mine($0.institution) ? $0.date : nil }
        case IndicatorCatalog.distinctStudents.key:
            var people = [Set<String>](repeating: [], count: 12)
            for use in facts.libraryUse where mine(use.institution) {
                if let m = month(use.date) { people[m].insert(use.person) }
            }
            return people.map { Double($0.count) }
        case IndicatorCatalog.coursesPublished.key:
            return counts(facts.coursePublications) { mine($0.institution) ? $0.published : nil }
        default:
            // A named indicator: few typed-in figures, read month by month.
            return (1...12).map { m in
                value(key, facts: facts, period: ProgrammePeriod(year: period.year, month: m, institution: period.institution), now: now)
            }
        }
    }

    /// The median (the mean of the two middle values for an even count); nil for none.
    public static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
