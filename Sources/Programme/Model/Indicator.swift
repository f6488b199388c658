import Foundation

/// Whether more of an indicator is better (consultations, pass rates) or less (turnaround, breaches).
public enum IndicatorDirection: String, Sendable, Codable, CaseIterable {
    case higherIsBetter = "higher"
    case lowerIsBetter = "lower"
}

/// How an indicator grows through the year. A count (consultations, cases added) accumulates, so by the end of June
/// half of the yearly target is expected; a level (a median, a rate) is compared with its target whenever it is read.
public enum IndicatorAccumulation: String, Sendable, Codable, CaseIterable {
    case cumulative
    case level
}

/// One indicator the programme office follows: a stable key, its unit, which way is better, how it accumulates, and
/// whether Atrium derives it from its own data or someone types it in with evidence (an award, a publication).
public struct IndicatorDefinition: Sendable, Equatable, Codable, Hashable {
    public var key: String
    public var unit: String
    public var direction: IndicatorDirection
    public var accumulation: IndicatorAccumulation
    public var derived: Bool

    public init(key: String, unit: String, direction: IndicatorDirection, accumulation: IndicatorAccumulation, derived: Bool) {
        self.key = key
        self.unit = unit
        self.direction = direction
        self.accumulation = accumulation
        self.derived = derived
    }
}

/// The indicators Atrium computes from its data. Named indicators an administrator adds (typed in, with evidence)
/// live beside these in the store; their keys may not clash with these.
public enum IndicatorCatalog {
    /// Consultations requested in the period (by the requesting site).
    public static let consultations = IndicatorDefinition(
        key: "consultations", unit: "count", direction: .higherIsBetter, accumulation: .cumulative, derived: true)
    /// Median hours from a request's arrival to its final report, over the requests of the period that have one.
    public static let turnaroundMedian = IndicatorDefinition(
        key: "consultations.turnaround-median", unit: "hours", direction: .lowerIsBetter, accumulation: .level, derived: true)
    /// Percentage of the period's requests whose final report came after the deadline (or has not come, deadline past).
    public static let breachRate = IndicatorDefinition(
        key: "consultations.breach-rate", unit: "percent", direction: .lowerIsBetter, accumulation: .level, derived: true)
    /// Teaching cases created in the period (by the contributing institution).
    public static let casesAdded = IndicatorDefinition(
        key: "library.cases-added", unit: "count", direction: .higherIsBetter, accumulation: .cumulative, derived: true)
    /// Teaching cases first published in the period.
    public static let casesPublished = IndicatorDefinition(
        key: "library.cases-published", unit: "count", direction: .higherIsBetter, accumulation: .cumulative, derived: true)
    /// Cases created in the year as a percentage of the cases that existed before it (the +10 % a year target).
    public static let libraryGrowth = IndicatorDefinition(
        key: "library.growth", unit: "percent", direction: .higherIsBetter, accumulation: .cumulative, derived: true)
    /// Training person-times: one per person per training activity completed (a course, an exam sat, a session).
    public static let trainingPersonTimes = IndicatorDefinition(
        key: "training.person-times", unit: "count", direction: .higherIsBetter, accumulation: .cumulative, derived: true)
    /// Health-management service person-times: one per examination, risk assessment or follow-up visit of a resident of
    /// the institution (the health-service centre's 3,000 a year).
    public static let healthServicePersonTimes = IndicatorDefinition(
        key: "health.service-person-times", unit: "count", direction: .higherIsBetter, accumulation: .cumulative, derived: true)
    /// Percentage of first attempts at exams in the period that passed.
    public static let examPassRate = IndicatorDefinition(
        key: "exams.pass-rate", unit: "percent", direction: .higherIsBetter, accumulation: .level, derived: true)

    /// Teaching case pages opened by signed-in people in the period.
    public static let caseViews = IndicatorDefinition(
        key: "library.case-views", unit: "count", direction: .higherIsBetter, accumulation: .cumulative, derived: true)
    /// Practice reports written on library cases in the period.
    public static let practiceAttempts = IndicatorDefinition(
        key: "library.practice-attempts", unit: "count", direction: .higherIsBetter, accumulation: .cumulative, derived: true)
    /// Distinct people who opened a case or wrote a practice report in the period.
    public static let distinctStudents = IndicatorDefinition(
        key: "library.distinct-students", unit: "count", direction: .higherIsBetter, accumulation: .cumulative, derived: true)
    /// Continuing-education courses first published in the period (online courses).
    public static let coursesPublished = IndicatorDefinition(
        key: "courses.published", unit: "count", direction: .higherIsBetter, accumulation: .cumulative, derived: true)

    public static let all: [IndicatorDefinition] = [
        consultations, turnaroundMedian, breachRate, casesAdded, casesPublished, libraryGrowth, trainingPersonTimes, examPassRate,
        healthServicePersonTimes, caseViews, practiceAttempts, distinctStudents, coursesPublished,
    ]

    public static func definition(_ key: String) -> IndicatorDefinition? { all.first { $0.key == key } }
}
