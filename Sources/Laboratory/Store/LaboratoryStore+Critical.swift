import Archive
import Foundation
import Platform

extension LaboratoryStore {
    static let criticalColumns =
        "id, result_set, seq, institution, patient_id, analyte, loinc, value, unit, flag, limit_text, raised_at, request_id, "
        + "critical_result_id, acknowledged_by, acknowledged_at"

    static func criticalRow(_ row: [SQLValue]) -> CriticalValue {
        CriticalValue(
            id: row[0].text ?? "", resultSet: row[1].text ?? "", seq: Int(row[2].integer ?? 0), institution: row[3].text ?? "",
            patientID: row[4].text ?? "", analyte: row[5].text ?? "", loinc: row[6].text, value: row[7].text ?? "", unit: row[8].text ?? "",
            flag: ResultFlag(rawValue: row[9].text ?? "") ?? .criticalHigh, limit: row[10].text ?? "",
            raisedAt: date(row[11]) ?? Date(timeIntervalSince1970: 0), requestID: row[12].integer, criticalResultID: row[13].integer,
            acknowledgedBy: row[14].text, acknowledgedAt: date(row[15]))
    }

    static func criticalBindings(_ value: CriticalValue) -> [SQLValue] {
        let loinc: SQLValue = value.loinc.map { .text($0) } ?? .null
        let head: [SQLValue] = [
            .text(value.id), .text(value.resultSet), .integer(Int64(value.seq)), .text(value.institution), .text(value.patientID),
        ]
        let tail: [SQLValue] = [
            .text(value.analyte), loinc, .text(value.value), .text(value.unit), .text(value.flag.rawValue), .text(value.limit),
            ms(value.raisedAt),
        ]
        return head + tail
    }

    /// Finds and records the critical values of a stored result set (once: a set already examined records nothing new).
    @discardableResult
    public func recordCriticalValues(of set: ResultSet, at now: Date = Date()) async throws(LaboratoryError) -> [CriticalValue] {
        let existing = try await criticalValues(resultSet: set.id)
        if !existing.isEmpty { return existing }
        let found = CriticalValue.detect(in: set, interpreted: try await interpret(set), at: now)
        guard !found.isEmpty else { return [] }
        let sql =
            "INSERT INTO lab_critical_values (\(Self.criticalColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL)"
        try await transaction(found.map { (sql, Self.criticalBindings($0)) })
        return found
    }

    public func criticalValues(resultSet: String) async throws(LaboratoryError) -> [CriticalValue] {
        try await query("SELECT \(Self.criticalColumns) FROM lab_critical_values WHERE result_set = ? ORDER BY seq", [.text(resultSet)])
            .map(Self.criticalRow)
    }

    public func criticalValue(id: String) async throws(LaboratoryError) -> CriticalValue? {
        try await query("SELECT \(Self.criticalColumns) FROM lab_critical_values WHERE id = ?", [.text(id)]).first.map(Self.criticalRow)
    }

    /// Critical values of an institution (or of all), newest first; `open` keeps those neither routed to a consultation
    /// nor acknowledged on the list.
    public func criticalValues(institution: String?, open: Bool = false, limit: Int = 200) async throws(LaboratoryError)
        -> [CriticalValue]
    {
        var conditions: [String] = []
        var bindings: [SQLValue] = []
        if let institution {
            conditions.append("institution = ?")
            bindings.append(.text(institution))
        }
        if open { conditions.append("request_id IS NULL AND acknowledged_at IS NULL") }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        bindings.append(.integer(Int64(max(1, min(limit, 5000)))))
        return try await query(
            "SELECT \(Self.criticalColumns) FROM lab_critical_values\(filter) ORDER BY raised_at DESC, result_set, seq LIMIT ?", bindings
        ).map(Self.criticalRow)
    }

    /// Records that these critical values travel on a consultation's critical-result path.
    public func route(_ ids: [String], requestID: Int64, criticalResultID: Int64) async throws(LaboratoryError) {
        try await transaction(
            ids.map {
                (
                    "UPDATE lab_critical_values SET request_id = ?, critical_result_id = ? WHERE id = ? AND request_id IS NULL",
                    [.integer(requestID), .integer(criticalResultID), .text($0)]
                )
            })
    }

    /// The laboratory staff acknowledge a critical value on their list (once).
    public func acknowledgeCriticalValue(id: String, by person: String, at now: Date = Date()) async throws(LaboratoryError)
        -> CriticalValue
    {
        guard let value = try await criticalValue(id: id) else { throw .notFound("critical value \(id)") }
        guard value.acknowledgedAt == nil else { throw .conflict("the critical value was acknowledged already") }
        guard value.requestID == nil else {
            throw .conflict("the critical value is acknowledged through consultation \(value.requestID ?? 0)")
        }
        try await transaction([
            (
                "UPDATE lab_critical_values SET acknowledged_by = ?, acknowledged_at = ? WHERE id = ? AND acknowledged_at IS NULL",
                [.text(person), Self.ms(now), .text(id)]
            )
        ])
        guard let updated = try await criticalValue(id: id) else { throw .notFound("critical value \(id)") }
        return updated
    }
}
