import Foundation
import Testing

@testable import Programme

@Suite("Programme targets, status and improvement actions")
struct EvaluationTests {
    let consultations = IndicatorCatalog.consultations
    let turnaround = IndicatorCatalog.turnaroundMedian
    let passRate = IndicatorCatalog.examPassRate

    func target(_ definition: IndicatorDefinition, _ value: Double, warning: Double) -> ProgrammeTarget {
        ProgrammeTarget(year: 2026, institution: nil, indicator: definition.key, target: value, warning: warning, owner: "office")
    }

    // A yearly target of 1,000 consultations with a warning at 800: half-way through the year 500 are due, and fewer
    // than 400 is off track.
    @Test(
        "A count is read against the part of its yearly target due by now",
        arguments: [
            (500.0, IndicatorStatus.onTrack), (650, .onTrack), (499, .warning), (400, .warning), (399, .offTrack), (0, .offTrack),
        ])
    func cumulative(value: Double, expected: IndicatorStatus) {
        let status = IndicatorEvaluation.status(
            value: value, target: target(consultations, 1000, warning: 800), definition: consultations, elapsedFraction: 0.5)
        #expect(status == expected)
    }

    // A median turnaround of at most 24 hours is on track, up to 36 a warning, above that off track, whatever the date.
    @Test(
        "A lower-is-better level is read against the target itself",
        arguments: [(20.0, IndicatorStatus.onTrack), (24, .onTrack), (30, .warning), (36, .warning), (36.5, .offTrack)])
    func level(value: Double, expected: IndicatorStatus) {
        for elapsed in [0.1, 0.5, 1.0] {
            #expect(
                IndicatorEvaluation.status(
                    value: value, target: target(turnaround, 24, warning: 36), definition: turnaround, elapsedFraction: elapsed)
                    == expected)
        }
    }

    @Test("Without a target the status says so; without a figure it says there is no data")
    func missing() {
        #expect(IndicatorEvaluation.status(value: 3, target: nil, definition: passRate, elapsedFraction: 1) == .noTarget)
        #expect(
            IndicatorEvaluation.status(value: nil, target: target(passRate, 80, warning: 70), definition: passRate, elapsedFraction: 1)
                == .noData)
    }

    @Test("A warning threshold on the wrong side of the target, or a negative one, is refused with the reason")
    func invalidTargets() {
        #expect(target(consultations, 1000, warning: 1200).problem(for: consultations) != nil)
        #expect(target(turnaround, 24, warning: 12).problem(for: turnaround) != nil)
        #expect(target(passRate, -1, warning: -2).problem(for: passRate) != nil)
        #expect(target(consultations, .nan, warning: 1).problem(for: consultations) != nil)
        #expect(target(consultations, 1000, warning: 800).problem(for: consultations) == nil)
        #expect(target(turnaround, 24, warning: 36).problem(for: turnaround) == nil)
    }

    @Test("The trend compares the last two months with a figure, in the indicator's own direction")
    func trend() {
        let monthly: [Double?] = [10, 12, nil, 15, 9, nil, nil, nil, nil, nil, nil, nil]
        #expect(IndicatorEvaluation.trend(monthly: monthly, definition: consultations, throughMonth: 4) == 1)  // 12 → 15
        #expect(IndicatorEvaluation.trend(monthly: monthly, definition: consultations, throughMonth: 5) == -1)  // 15 → 9
        #expect(IndicatorEvaluation.trend(monthly: monthly, definition: turnaround, throughMonth: 5) == 1)  // less is better
        #expect(IndicatorEvaluation.trend(monthly: monthly, definition: consultations, throughMonth: 1) == 0)
    }

    @Test("An off-track indicator needs an action until one is open; closing needs a note")
    func actions() throws {
        let off = ImprovementRules.Need(year: 2026, institution: "COUNTY-A", indicator: consultations.key)
        let warn = ImprovementRules.Need(year: 2026, institution: nil, indicator: turnaround.key)
        let statuses: [ImprovementRules.Need: IndicatorStatus] = [off: .offTrack, warn: .warning]
        #expect(ImprovementRules.actionsNeeded(statuses: statuses, actions: []) == [off])
        let opened = Date(timeIntervalSince1970: 1_780_000_000)
        let action = ImprovementAction(
            id: 1, year: 2026, institution: "COUNTY-A", indicator: consultations.key, description: "Visit the site", owner: "office",
            due: opened.addingTimeInterval(86_400 * 30), openedBy: "admin", openedAt: opened)
        #expect(ImprovementRules.actionsNeeded(statuses: statuses, actions: [action]).isEmpty)
        #expect(action.overdue(at: opened.addingTimeInterval(86_400 * 31)))
        #expect(throws: ProgrammeError.self) { try action.closed(by: "office", note: "  \n", at: opened) }
        let closed = try action.closed(by: "office", note: "Two training visits held", at: opened)
        #expect(closed.state == .closed && closed.closingNote == "Two training visits held")
        #expect(throws: ProgrammeError.self) { try closed.closed(by: "office", note: "again", at: opened) }
        // A closed action no longer covers the indicator.
        #expect(ImprovementRules.actionsNeeded(statuses: statuses, actions: [closed]) == [off])
    }

    @Test("A period's bounds are local (UTC+8) calendar months and years; the elapsed share runs from 0 to 1")
    func periods() {
        let year = ProgrammePeriod(year: 2026).interval
        // 2026-01-01T00:00+08:00 is 2025-12-31T16:00Z.
        #expect(year.start == Date(timeIntervalSince1970: 1_767_196_800))
        let february = ProgrammePeriod(year: 2026, month: 2).interval
        #expect(february.end.timeIntervalSince(february.start) == 28 * 86_400)
        #expect(ProgrammePeriod(year: 2026).elapsedFraction(at: year.start.addingTimeInterval(-1)) == 0)
        #expect(ProgrammePeriod(year: 2026).elapsedFraction(at: year.end) == 1)
    }
}
