import AtriumTesting
import Foundation
import Testing

@testable import Programme

@Suite("Consultations by service line")
struct ServiceLineTests {
    @Test(
        "Counts, reports, median turnaround and breach rate per service line match a count made here",
        arguments: [(nil, nil), (3, nil), (nil, "COUNTY-B"), (11, "COUNTY-A")] as [(Int?, String?)])
    func breakdown(month: Int?, institution: String?) {
        var random = SeededRandom(seed: 20_261_206)
        // China Standard Time, written out here rather than taken from Atrium's period type.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 8 * 3600) ?? .current
        let yearStart = calendar.date(from: DateComponents(year: 2026, month: 1, day: 1)) ?? .distantPast
        let now = calendar.date(from: DateComponents(year: 2026, month: 12, day: 6, hour: 12)) ?? .distantPast
        var facts = ProgrammeFacts()
        let lines = ["imaging", "imaging", "imaging", "pathology", "laboratory"]
        for _ in 0..<1500 {
            let received = yearStart.addingTimeInterval(-86_400 * 10 + random.unit() * 86_400 * 380)
            let deadline = received.addingTimeInterval(86_400)
            let final = random.below(5) == 0 ? nil : received.addingTimeInterval(random.unit() * 172_800)
            facts.consultations.append(
                .init(
                    site: ["COUNTY-A", "COUNTY-B", "AFFILIATED"][random.below(3)], priority: "routine", modality: "CT", received: received,
                    deadline: deadline, final: final, serviceLine: lines[random.below(lines.count)]))
        }
        let figures = ProgrammeDashboard.serviceLines(
            facts: facts, period: ProgrammePeriod(year: 2026, month: month, institution: institution), now: now)
        #expect(figures.map(\.serviceLine) == ["imaging", "pathology", "laboratory"])
        for line in ["imaging", "pathology", "laboratory"] {
            let mine = facts.consultations.filter { c in
                let parts = calendar.dateComponents([.year, .month], from: c.received)
                return c.serviceLine == line && parts.year == 2026 && (month == nil || parts.month == month)
                    && (institution == nil || c.site == institution)
            }
            let hours = mine.compactMap { c in c.final.map { $0.timeIntervalSince(c.received) / 3600 } }.sorted()
            let median: Double? =
                hours.isEmpty
                ? nil : hours.count % 2 == 1 ? hours[hours.count / 2] : (hours[hours.count / 2 - 1] + hours[hours.count / 2]) / 2
            let late = mine.filter { c in c.final.map { $0 > c.deadline } ?? (now > c.deadline) }.count
            let row = figures.first { $0.serviceLine == line }
            #expect(row?.requested == mine.count, "\(line)")
            #expect(row?.reported == mine.filter { $0.final != nil }.count, "\(line)")
            #expect(row?.turnaroundMedianHours == median, "\(line)")
            #expect(row?.breachRate == (mine.isEmpty ? nil : 100 * Double(late) / Double(mine.count)), "\(line)")
        }
        // Every request of the period is in exactly one line.
        #expect(
            figures.map(\.requested).reduce(0, +)
                == ProgrammeDashboard.contributions(
                    facts: facts, period: ProgrammePeriod(year: 2026, month: month, institution: institution)
                ).map(\.consultationsRequested).reduce(0, +))
    }
}
