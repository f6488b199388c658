import Foundation
import Platform

/// A cohort's gradebook and logbook as tables (for the page, CSV and XLSX).
public enum CohortReport {
    /// One exam's column of the gradebook.
    public struct ExamColumn: Sendable, Equatable {
        public var id: Int64
        public var title: String

        public init(id: Int64, title: String) {
            self.id = id
            self.title = title
        }
    }

    /// The gradebook: a row per member; per exam any member sat, the member's best submitted attempt as a percentage
    /// of its maximum (two decimals), empty when they did not sit it; then the mean of their percentages.
    public static func gradebook(members: [String], exams: [ExamColumn], records: [TrainingStore.IndicatorRecord]) -> SpreadsheetSheet {
        let sat = Set(records.map(\.exam))
        let columns = exams.filter { sat.contains($0.id) }.sorted { $0.id < $1.id }
        var best: [String: [Int64: Double]] = [:]
        for r in records where r.maximum > 0 {
            let percent = r.score / r.maximum * 100
            best[r.student, default: [:]][r.exam] = max(best[r.student]?[r.exam] ?? -1, percent)
        }
        let rows: [[SpreadsheetValue]] = members.map { member in
            let mine = best[member] ?? [:]
            var row: [SpreadsheetValue] = [.text(member)]
            var taken: [Double] = []
            for column in columns {
                if let p = mine[column.id] {
                    row.append(.number(rounded(p)))
                    taken.append(p)
                } else {
                    row.append(.empty)
                }
            }
            row.append(taken.isEmpty ? .empty : .number(rounded(taken.reduce(0, +) / Double(taken.count))))
            return row
        }
        return SpreadsheetSheet(
            name: "Gradebook", header: ["trainee"] + columns.map { "\($0.id) \($0.title)" } + ["mean %"], rows: rows)
    }

    /// The logbook: a row per member with their countersigned placements and procedures, entries pending and returned,
    /// competencies signed off, and per target of the cohort's programme the countersigned procedures towards it.
    public static func logbook(
        members: [String], targets: [LogbookTarget], entries: [String: [LogbookEntry]], signOffs: [String: Int]
    ) -> SpreadsheetSheet {
        let rows: [[SpreadsheetValue]] = members.map { member in
            let mine = entries[member] ?? []
            var row: [SpreadsheetValue] = [
                .text(member), .number(Double(LogbookProgress.countersigned(mine, .placement))),
                .number(Double(LogbookProgress.countersigned(mine, .procedure))),
                .number(Double(mine.filter { $0.state == .pending }.count)), .number(Double(mine.filter { $0.state == .returned }.count)),
                .number(Double(signOffs[member] ?? 0)),
            ]
            row += LogbookProgress.against(targets, entries: mine).map { .number(Double($0.done)) }
            return row
        }
        return SpreadsheetSheet(
            name: "Logbook",
            header: ["trainee", "placements", "procedures", "pending", "returned", "competencies"]
                + targets.map { "\($0.dimension.rawValue) \($0.value) (/\($0.count))" }, rows: rows)
    }

    static func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }
}
