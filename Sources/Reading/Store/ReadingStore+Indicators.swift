import Foundation
import Platform

extension ReadingStore {
    /// One consultation as the programme's indicators count it: the requesting site, its priority, when it arrived,
    /// its deadline and its first final signature.
    public struct IndicatorRecord: Sendable, Equatable {
        public var site: String
        public var priority: String
        public var modality: String
        public var received: Date
        public var deadline: Date
        public var final: Date?
        /// `imaging`, `pathology` or `laboratory`.
        public var serviceLine: String
        /// The Study Instance UIDs the request carries (its own, and those linked to it later).
        public var studies: [String] = []
    }

    /// Every request not withdrawn, in one pass (one join on the signatures, not a subquery per request): the programme
    /// dashboard reads a year of them at each view.
    public func indicatorRecords() async throws(ReadingError) -> [IndicatorRecord] {
        let sql = """
            SELECT r.institution_code, r.priority, r.modality, r.created_at, r.deadline_at, MIN(e.time), r.service_line, r.id
            FROM consultation_requests r
            LEFT JOIN consultation_events e ON e.request_id = r.id AND e.kind = 'signed'
            WHERE r.status <> 'withdrawn'
            GROUP BY r.id, r.institution_code, r.priority, r.modality, r.created_at, r.deadline_at, r.service_line
            """
        var studies: [Int64: [String]] = [:]
        for row in try await query("SELECT request_id, study_instance_uid FROM consultation_studies", []) {
            if let id = row[0].integer, let uid = row[1].text { studies[id, default: []].append(uid) }
        }
        return try await query(sql, []).map { row in
            IndicatorRecord(
                site: row[0].text ?? "", priority: row[1].text ?? "", modality: row[2].text ?? "",
                received: Self.date(row[3]) ?? Date(timeIntervalSince1970: 0),
                deadline: Self.date(row[4]) ?? Date(timeIntervalSince1970: 0),
                final: Self.date(row[5]), serviceLine: row[6].text ?? ServiceLine.imaging.rawValue,
                studies: row[7].integer.flatMap { studies[$0] } ?? [])
        }
    }
}
