import Foundation

/// The programme dashboard as data: one row per indicator with its figure, target, status, trend and monthly series,
/// and each partner's contribution. Pages, charts, the JSON API and the exports all render this.
public enum ProgrammeDashboard {
    public struct Row: Sendable, Equatable {
        public var definition: IndicatorDefinition
        public var value: Double?
        public var target: ProgrammeTarget?
        /// The part of the target due by now (pro rata for cumulative indicators).
        public var due: Double?
        public var status: IndicatorStatus
        public var trend: Int
        public var monthly: [Double?]
    }

    /// What one institution gave the alliance in the period.
    public struct Contribution: Sendable, Equatable {
        public var institution: String
        /// Distinct studies the institution sent with the consultations it requested in the period.
        public var studiesSent: Int = 0
        public var consultationsRequested: Int
        public var consultationsReported: Int
        public var casesContributed: Int
        public var casesPublished: Int
        public var trainingPersonTimes: Int
        public var examAttempts: Int
        /// Distinct people of the institution who taught in the period (``ProgrammeFacts/TeachingAct``).
        public var partTimeTeachers: Int = 0
        /// Distinct trainees with a countersigned placement at the institution overlapping the period.
        public var traineesHosted: Int = 0
        /// Inspections of the institution dated in the period.
        public var inspections: Int = 0
    }

    /// The consultation figures of one service line (imaging, pathology, laboratory) in the period: requests received,
    /// those with a final report, the median hours to it and the share past the deadline — the consultation indicators'
    /// own definitions applied to that line's requests alone.
    public struct ServiceLineFigures: Sendable, Equatable {
        public var serviceLine: String
        public var requested: Int
        public var reported: Int
        public var turnaroundMedianHours: Double?
        public var breachRate: Double?
    }

    /// The service lines the programme reports on, in this order; a request of another line is counted under its own.
    public static let serviceLines = ["imaging", "pathology", "laboratory"]

    /// One row per service line (the three always, then any other the facts hold), for `period`.
    public static func serviceLines(facts: ProgrammeFacts, period: ProgrammePeriod, now: Date) -> [ServiceLineFigures] {
        let others = Set(facts.consultations.map(\.serviceLine)).subtracting(serviceLines).sorted()
        let (start, end) = period.interval
        return (serviceLines + others).map { line in
            var only = ProgrammeFacts()
            only.consultations = facts.consultations.filter { $0.serviceLine == line }
            let counted = only.consultations.filter { $0.received >= start && $0.received < end && period.includes(institution: $0.site) }
            return ServiceLineFigures(
                serviceLine: line, requested: counted.count, reported: counted.filter { $0.final != nil }.count,
                turnaroundMedianHours: IndicatorComputation.value(
                    IndicatorCatalog.turnaroundMedian.key, facts: only, period: period, now: now),
                breachRate: IndicatorComputation.value(IndicatorCatalog.breachRate.key, facts: only, period: period, now: now))
        }
    }

    /// The rows for `period` (a year, or a month of it, for the whole alliance or one institution). The target is the
    /// one set for the period's year and institution (nil institution: the alliance's).
    public static func rows(
        facts: ProgrammeFacts, targets: [ProgrammeTarget], definitions: [IndicatorDefinition] = IndicatorCatalog.all,
        period: ProgrammePeriod, now: Date
    ) -> [Row] {
        let elapsed = period.elapsedFraction(at: now)
        let throughMonth = period.month ?? max(1, Int((elapsed * 12).rounded(.up)))
        return definitions.map { definition in
            let value = IndicatorComputation.value(definition.key, facts: facts, period: period, now: now)
            let target = targets.first {
                $0.indicator == definition.key && $0.year == period.year && $0.institution == period.institution
            }
            // A month is read against a twelfth of the yearly target of a count, and against the level itself.
            let monthTarget = target.map { t -> ProgrammeTarget in
                guard period.month != nil, definition.accumulation == .cumulative else { return t }
                var scaled = t
                scaled.target /= 12
                scaled.warning /= 12
                return scaled
            }
            let share = period.month == nil && definition.accumulation == .cumulative ? elapsed : 1
            let status = IndicatorEvaluation.status(
                value: value, target: monthTarget, definition: definition, elapsedFraction: period.month == nil ? elapsed : 1)
            let monthly = IndicatorComputation.monthly(definition.key, facts: facts, period: period, now: now)
            return Row(
                definition: definition, value: value, target: target, due: monthTarget.map { $0.target * share }, status: status,
                trend: IndicatorEvaluation.trend(monthly: monthly, definition: definition, throughMonth: throughMonth),
                monthly: monthly)
        }
    }

    /// One row per institution that appears in the facts of the period, by name.
    public static func contributions(facts: ProgrammeFacts, period: ProgrammePeriod) -> [Contribution] {
        var table: [String: Contribution] = [:]
        let (start, end) = period.interval
        func within(_ date: Date) -> Bool { date >= start && date < end }
        func touch(_ institution: String, _ change: (inout Contribution) -> Void) {
            guard period.includes(institution: institution) else { return }
            var row =
                table[institution]
                ?? Contribution(
                    institution: institution, consultationsRequested: 0, consultationsReported: 0, casesContributed: 0,
                    casesPublished: 0, trainingPersonTimes: 0, examAttempts: 0)
            change(&row)
            table[institution] = row
        }
        var studies: [String: Set<String>] = [:]
        for c in facts.consultations where within(c.received) {
            touch(c.site) {
                $0.consultationsRequested += 1
                if c.final != nil { $0.consultationsReported += 1 }
            }
            studies[c.site, default: []].formUnion(c.studies)
        }
        for (institution, sent) in studies { touch(institution) { $0.studiesSent = sent.count } }
        for c in facts.cases {
            if within(c.created) { touch(c.institution) { $0.casesContributed += 1 } }
            if let published = c.published, within(published) { touch(c.institution) { $0.casesPublished += 1 } }
        }
        for t in facts.training where within(t.completed) { touch(t.institution) { $0.trainingPersonTimes += 1 } }
        for e in facts.exams where within(e.submitted) { touch(e.institution) { $0.examAttempts += 1 } }
        // People and trainees are counted once per institution, however many acts or placements they have.
        var teachers: [String: Set<String>] = [:]
        for act in facts.teachingActs where act.first < end && act.last >= start {
            teachers[act.institution, default: []].insert(act.person)
        }
        for (institution, people) in teachers { touch(institution) { $0.partTimeTeachers = people.count } }
        var hosted: [String: Set<String>] = [:]
        for placement in facts.placements where placement.first < end && placement.last >= start {
            hosted[placement.partner, default: []].insert(placement.trainee)
        }
        for (institution, trainees) in hosted { touch(institution) { $0.traineesHosted = trainees.count } }
        for inspection in facts.inspections where within(inspection.date) { touch(inspection.institution) { $0.inspections += 1 } }
        return table.values.sorted { $0.institution < $1.institution }
    }
}
