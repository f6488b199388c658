import Foundation
import Platform

/// Turnaround of consultations: how long each step took (received → claimed → preliminary → final), summarised as
/// median and 90th percentile per group (priority, site, reader) and period (ISO week or month), with the breaches of
/// the service level. Pure: the store gives the cases, the dashboard and CSV export show the result.
public enum Turnaround {
    /// One consultation's times. Nil for a step not reached yet.
    public struct Case: Sendable, Equatable {
        public var requestID: String
        public var priority: String
        public var site: String
        public var reader: String?
        public var received: Date
        public var claimed: Date?
        public var preliminary: Date?
        public var final: Date?
        public var deadline: Date

        public init(
            requestID: String, priority: String, site: String, reader: String?, received: Date, claimed: Date?, preliminary: Date?,
            final: Date?, deadline: Date
        ) {
            self.requestID = requestID
            self.priority = priority
            self.site = site
            self.reader = reader
            self.received = received
            self.claimed = claimed
            self.preliminary = preliminary
            self.final = final
            self.deadline = deadline
        }

        /// Whether the final report came after the deadline, or has not come and the deadline is past `now`.
        public func breached(now: Date) -> Bool {
            if let final { return final > deadline }
            return now > deadline
        }
    }

    /// The steps measured, each from the request's arrival.
    public enum Interval: String, Sendable, CaseIterable {
        case claimed, preliminary, final

        func seconds(_ c: Case) -> Double? {
            let end: Date? =
                switch self {
                case .claimed: c.claimed
                case .preliminary: c.preliminary ?? c.final
                case .final: c.final
                }
            return end.map { $0.timeIntervalSince(c.received) }
        }
    }

    public enum Grouping: String, Sendable, CaseIterable {
        case all, priority, site, reader

        func key(_ c: Case) -> String {
            switch self {
            case .all: "all"
            case .priority: c.priority
            case .site: c.site
            case .reader: c.reader ?? "—"
            }
        }
    }

    public enum Period: String, Sendable, CaseIterable {
        case week, month

        /// `2026-W45` (ISO 8601 week) or `2026-11`, in the alliance's local time (UTC+8).
        public func label(_ date: Date) -> String {
            var calendar = Calendar(identifier: .iso8601)
            calendar.timeZone = AllianceTime.zone
            switch self {
            case .week:
                let c = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
                return String(format: "%04d-W%02d", c.yearForWeekOfYear ?? 0, c.weekOfYear ?? 0)
            case .month:
                let c = calendar.dateComponents([.year, .month], from: date)
                return String(format: "%04d-%02d", c.year ?? 0, c.month ?? 0)
            }
        }
    }

    /// The median and 90th percentile of one step, in seconds, over the cases that reached it.
    public struct Summary: Sendable, Equatable {
        public var count: Int
        public var median: Double?
        public var p90: Double?
    }

    public struct Row: Sendable, Equatable {
        public var group: String
        public var period: String
        public var requests: Int
        public var breaches: Int
        public var steps: [Interval: Summary]
    }

    /// One row per group and period (by the request's arrival), sorted by period then group.
    public static func table(_ cases: [Case], grouping: Grouping, period: Period, now: Date) -> [Row] {
        let buckets = Dictionary(grouping: cases) { GroupKey(group: grouping.key($0), period: period.label($0.received)) }
        return buckets.map { key, cases in
            var steps: [Interval: Summary] = [:]
            for interval in Interval.allCases {
                let values = cases.compactMap { interval.seconds($0) }
                steps[interval] = Summary(count: values.count, median: percentile(values, 50), p90: percentile(values, 90))
            }
            return Row(
                group: key.group, period: key.period, requests: cases.count, breaches: cases.filter { $0.breached(now: now) }.count,
                steps: steps)
        }.sorted { ($0.period, $0.group) < ($1.period, $1.group) }
    }

    private struct GroupKey: Hashable {
        var group: String
        var period: String
    }

    /// The cases past their service level, latest deadline first.
    public static func breaches(_ cases: [Case], now: Date) -> [Case] {
        cases.filter { $0.breached(now: now) }.sorted { $0.deadline > $1.deadline }
    }

    /// The `p`th percentile by linear interpolation between closest ranks (Hyndman and Fan's type 7, numpy's default);
    /// nil for no values.
    public static func percentile(_ values: [Double], _ p: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = p / 100 * Double(sorted.count - 1)
        let low = Int(rank.rounded(.down))
        let high = min(low + 1, sorted.count - 1)
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - Double(low))
    }

    /// The table as CSV (RFC 4180), durations in minutes with one decimal.
    public static func csv(_ rows: [Row]) -> String {
        var header = ["period", "group", "requests", "breaches"]
        for interval in Interval.allCases {
            header += ["\(interval.rawValue)_count", "\(interval.rawValue)_median_min", "\(interval.rawValue)_p90_min"]
        }
        var lines = [header.joined(separator: ",")]
        for row in rows {
            var fields = [row.period, row.group, String(row.requests), String(row.breaches)]
            for interval in Interval.allCases {
                let summary = row.steps[interval]
                fields.append(String(summary?.count ?? 0))
                fields.append(summary?.median.map(minutes) ?? "")
                fields.append(summary?.p90.map(minutes) ?? "")
            }
            lines.append(fields.map { CSVWriter.field($0) }.joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    static func minutes(_ seconds: Double) -> String { String(format: "%.1f", seconds / 60) }
}
