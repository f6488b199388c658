import Foundation

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

    static var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 8 * 3600) ?? .gmt
        return calendar
    }

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
        switch key {
        case IndicatorCatalog.consultations.key:
            return Double(consultations(facts, period).count)
        case IndicatorCatalog.turnaroundMedian.key:
            let hours = consultations(facts, period).compactMap { c in c.final.map { $0.timeIntervalSince(c.received) / 3600 } }
            return median(hours)
        case IndicatorCatalog.breachRate.key:
            let requests = consultations(facts, period)
            guard !requests.isEmpty else { return nil }
            return 100 * Double(requests.filter { $0.breached(now: now) }.count) / Double(requests.count)
        case IndicatorCatalog.casesAdded.key:
            return Double(facts.cases.filter { period.contains($0.created) && period.includes(institution: $0.institution) }.count)
        case IndicatorCatalog.casesPublished.key:
            return Double(
                facts.cases.filter { c in c.published.map(period.contains) == true && period.includes(institution: c.institution) }
                    .count)
        case IndicatorCatalog.libraryGrowth.key:
            // Growth is a yearly figure: cases added since the start of the year (up to the end of the period read)
            // over the cases the library held before the year began.
            let yearStart = ProgrammePeriod(year: period.year).interval.start
            let mine = facts.cases.filter { period.includes(institution: $0.institution) }
            let before = mine.filter { $0.created < yearStart }.count
            guard before > 0 else { return nil }
            let added = mine.filter { $0.created >= yearStart && $0.created < period.interval.end }.count
            return 100 * Double(added) / Double(before)
        case IndicatorCatalog.trainingPersonTimes.key:
            return Double(facts.training.filter { period.contains($0.completed) && period.includes(institution: $0.institution) }.count)
        case IndicatorCatalog.examPassRate.key:
            let firsts = facts.exams.filter { $0.first && period.contains($0.submitted) && period.includes(institution: $0.institution) }
            guard !firsts.isEmpty else { return nil }
            return 100 * Double(firsts.filter(\.passed).count) / Double(firsts.count)
        default:
            // A named indicator: the sum of the figures entered for the period, nil when none was.
            let entered = facts.figures.filter {
                $0.indicator == key && period.contains($0.date) && period.includes(institution: $0.institution)
            }
            return entered.isEmpty ? nil : entered.map(\.value).reduce(0, +)
        }
    }

    /// The figure for each month of the period's year (twelve values), for trend charts.
    public static func monthly(_ key: String, facts: ProgrammeFacts, period: ProgrammePeriod, now: Date) -> [Double?] {
        (1...12).map { month in
            value(key, facts: facts, period: ProgrammePeriod(year: period.year, month: month, institution: period.institution), now: now)
        }
    }

    static func consultations(_ facts: ProgrammeFacts, _ period: ProgrammePeriod) -> [ProgrammeFacts.Consultation] {
        facts.consultations.filter { period.contains($0.received) && period.includes(institution: $0.site) }
    }

    /// The median (the mean of the two middle values for an even count); nil for none.
    public static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
