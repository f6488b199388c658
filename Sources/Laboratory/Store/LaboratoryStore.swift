import Archive
import Foundation
import Platform
import Synchronization

/// A patient's earlier value of one analyte, in the canonical unit.
public struct AnalytePoint: Sendable, Equatable {
    public var resultSet: String
    public var at: Date
    public var value: Double
    public var unit: String
}

/// The laboratory's records in the platform's database (SQLite or PostgreSQL): result sets and their observations,
/// which sending facility is which partner institution, reference intervals, delta-check rules, QC materials and runs,
/// and the links between consultation requests and result sets.
public final class LaboratoryStore: Sendable {
    let database: any PlatformDatabase
    public let audit: AuditTrail
    private let prepared = Mutex(false)

    package init(database: any PlatformDatabase, audit: AuditTrail) {
        self.database = database
        self.audit = audit
    }

    /// The store beside the identity store's tables, with its audit trail.
    public convenience init(identity: IdentityStore) {
        self.init(database: identity.database, audit: identity.audit)
    }

    /// Creates or migrates the tables; the first time, seeds the default reference intervals and delta rules.
    public func prepare() async throws(LaboratoryError) {
        if prepared.withLock({ $0 }) { return }
        do {
            try await database.migrate(
                versionTable: LaboratorySchema.versionTable, lockKey: LaboratorySchema.lockKey, migrations: LaboratorySchema.migrations)
            // Once, however many processes start at once on one database.
            if try await database.query("SELECT COUNT(*) FROM lab_reference_ranges", []).first?.first?.integer == 0 {
                try await database.seedIfEmpty(
                    table: "lab_reference_ranges", lockKey: LaboratorySchema.lockKey, ReferenceRanges.defaults.map(Self.insertRange))
            }
            if try await database.query("SELECT COUNT(*) FROM lab_delta_rules", []).first?.first?.integer == 0 {
                try await database.seedIfEmpty(
                    table: "lab_delta_rules", lockKey: LaboratorySchema.lockKey, ReferenceRanges.deltaDefaults.map(Self.insertDelta))
            }
        } catch {
            throw .database("\(error)")
        }
        prepared.withLock { $0 = true }
    }

    // MARK: - Facilities

    /// Maps a sending facility (MSH-4's namespace ID) to a partner institution's code.
    public func setFacility(_ facility: String, institution: String, by person: String) async throws(LaboratoryError) {
        let facility = facility.trimmingCharacters(in: .whitespaces)
        guard !facility.isEmpty, !institution.isEmpty else { throw .invalid("facility and institution are required") }
        try await transaction([
            ("DELETE FROM lab_facilities WHERE facility = ?", [.text(facility)]),
            (
                "INSERT INTO lab_facilities (facility, institution, updated_by, updated_at) VALUES (?, ?, ?, ?)",
                [.text(facility), .text(institution), .text(person), Self.ms(Date())]
            ),
        ])
    }

    public func removeFacility(_ facility: String) async throws(LaboratoryError) {
        try await query("DELETE FROM lab_facilities WHERE facility = ?", [.text(facility)])
    }

    /// Every mapping, facility → institution code.
    public func facilities() async throws(LaboratoryError) -> [(facility: String, institution: String)] {
        try await query("SELECT facility, institution FROM lab_facilities ORDER BY facility", []).map {
            ($0[0].text ?? "", $0[1].text ?? "")
        }
    }

    public func institution(forFacility facility: String) async throws(LaboratoryError) -> String? {
        try await query("SELECT institution FROM lab_facilities WHERE facility = ?", [.text(facility)]).first?.first?.text
    }

    // MARK: - Result sets

    /// Stores result sets in one transaction (all or none) and returns them with their ids. Sets from a message already
    /// stored (same facility and control ID) are not stored again: the ids of the earlier ones are returned.
    @discardableResult
    public func store(_ sets: [ResultSet], institution: String) async throws(LaboratoryError) -> [ResultSet] {
        guard let first = sets.first else { return [] }
        if first.source == .hl7v2, !first.messageControlID.isEmpty {
            let existing = try await query(
                "SELECT id FROM lab_result_sets WHERE facility = ? AND control_id = ? AND source = ? ORDER BY position",
                [.text(first.sendingFacility), .text(first.messageControlID), .text(first.source.rawValue)])
            if !existing.isEmpty {
                var result: [ResultSet] = []
                for row in existing { if let set = try await resultSet(id: row[0].text ?? "") { result.append(set) } }
                return result
            }
        }
        var statements: [(String, [SQLValue])] = []
        var stored: [ResultSet] = []
        for (position, original) in sets.enumerated() {
            var set = original
            set.id = set.id.isEmpty ? ResultSet.newID() : set.id
            set.institution = institution
            stored.append(set)
            statements.append(
                (
                    """
                    INSERT INTO lab_result_sets (id, institution, source, facility, control_id, patient_id, patient_authority, family_name,
                        given_name, birth_date, sex, placer, filler, service_code, service_text, service_system, order_observed_at,
                        observed_at, received_at, position)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .text(set.id), .text(institution), .text(set.source.rawValue), .text(set.sendingFacility),
                        .text(set.messageControlID),
                        .text(set.patient.id), .text(set.patient.assigningAuthority), .text(set.patient.familyName),
                        .text(set.patient.givenName), set.patient.birthDate.map(SQLValue.text) ?? .null, .text(set.patient.sex.rawValue),
                        .text(set.order.placerNumber), .text(set.order.fillerNumber), .text(set.order.serviceCode),
                        .text(set.order.serviceText), .text(set.order.serviceSystem), Self.ms(set.order.observedAt),
                        Self.ms(set.observedAt),
                        Self.ms(set.receivedAt), .integer(Int64(position)),
                    ]
                ))
            for (seq, o) in set.observations.enumerated() {
                let n = o.normalised
                statements.append(
                    (
                        """
                        INSERT INTO lab_observations (result_set, seq, value_type, code, code_text, code_system, loinc, value, numeric_value,
                            comparator, units, ucum, canonical_value, canonical_unit, reference_range, abnormal_flags, status, observed_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                        [
                            .text(set.id), .integer(Int64(seq)), .text(o.valueType.rawValue), .text(o.code), .text(o.codeText),
                            .text(o.codeSystem), o.loinc.map(SQLValue.text) ?? .null, .text(o.value), Self.number(o.numeric),
                            .text(o.comparator),
                            .text(o.units), n.ucum.map(SQLValue.text) ?? .null, Self.number(n.value), .text(n.unit),
                            .text(o.referenceRange),
                            .text(o.abnormalFlags.joined(separator: "~")), .text(o.status), Self.ms(o.observedAt),
                        ]
                    ))
            }
        }
        try await transaction(statements)
        return stored
    }

    static let setColumns = """
        id, institution, source, facility, control_id, patient_id, patient_authority, family_name, given_name, birth_date, sex, placer,
        filler, service_code, service_text, service_system, order_observed_at, received_at
        """

    static func setRow(_ row: [SQLValue]) -> ResultSet {
        func t(_ i: Int) -> String { row[i].text ?? "" }
        return ResultSet(
            id: t(0), institution: t(1), source: ResultSource(rawValue: t(2)) ?? .hl7v2, sendingFacility: t(3), messageControlID: t(4),
            patient: LabPatient(
                id: t(5), assigningAuthority: t(6), familyName: t(7), givenName: t(8), birthDate: row[9].text,
                sex: AdministrativeSex(hl7: t(10))),
            order: LabOrder(
                placerNumber: t(11), fillerNumber: t(12), serviceCode: t(13), serviceText: t(14), serviceSystem: t(15),
                observedAt: date(row[16])),
            observations: [], receivedAt: date(row[17]) ?? Date(timeIntervalSince1970: 0))
    }

    func withObservations(_ sets: [ResultSet]) async throws(LaboratoryError) -> [ResultSet] {
        var result: [ResultSet] = []
        for var set in sets {
            set.observations = try await query(
                """
                SELECT value_type, code, code_text, code_system, value, numeric_value, comparator, units, reference_range, abnormal_flags,
                    status, observed_at FROM lab_observations WHERE result_set = ? ORDER BY seq
                """, [.text(set.id)]
            ).map { row in
                func t(_ i: Int) -> String { row[i].text ?? "" }
                return LabObservation(
                    valueType: ObservationValueType(rawValue: t(0)) ?? .string, code: t(1), codeText: t(2), codeSystem: t(3), value: t(4),
                    numeric: row[5].text.flatMap(Double.init), comparator: t(6), units: t(7), referenceRange: t(8),
                    abnormalFlags: t(9).split(separator: "~").map(String.init), status: t(10), observedAt: Self.date(row[11]))
            }
            result.append(set)
        }
        return result
    }

    public func resultSet(id: String) async throws(LaboratoryError) -> ResultSet? {
        let rows = try await query("SELECT \(Self.setColumns) FROM lab_result_sets WHERE id = ?", [.text(id)])
        return try await withObservations(rows.map(Self.setRow)).first
    }

    /// Result sets, newest first: of one institution (nil: all), of one patient (nil: all).
    public func resultSets(institution: String?, patientID: String? = nil, limit: Int = 200) async throws(LaboratoryError) -> [ResultSet] {
        var conditions: [String] = []
        var bindings: [SQLValue] = []
        if let institution {
            conditions.append("institution = ?")
            bindings.append(.text(institution))
        }
        if let patientID {
            conditions.append("patient_id = ?")
            bindings.append(.text(patientID))
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let rows = try await query(
            "SELECT \(Self.setColumns) FROM lab_result_sets \(whereClause) ORDER BY observed_at DESC, id LIMIT \(max(1, min(limit, 1000)))",
            bindings)
        return try await withObservations(rows.map(Self.setRow))
    }

    /// The values of one analyte (LOINC) of a patient of an institution, oldest first, in canonical units.
    public func history(institution: String, patientID: String, loinc: String, before: Date? = nil) async throws(LaboratoryError)
        -> [AnalytePoint]
    {
        var sql = """
            SELECT s.id, COALESCE(o.observed_at, s.observed_at), o.canonical_value, o.canonical_unit
            FROM lab_observations o JOIN lab_result_sets s ON s.id = o.result_set
            WHERE s.institution = ? AND s.patient_id = ? AND o.loinc = ? AND o.canonical_value IS NOT NULL
            """
        var bindings: [SQLValue] = [.text(institution), .text(patientID), .text(loinc)]
        if let before {
            sql += " AND COALESCE(o.observed_at, s.observed_at) < ?"
            bindings.append(Self.ms(before))
        }
        sql += " ORDER BY 2, s.id"
        return try await query(sql, bindings).compactMap { row in
            guard let at = Self.date(row[1]), let value = row[2].text.flatMap(Double.init) else { return nil }
            return AnalytePoint(resultSet: row[0].text ?? "", at: at, value: value, unit: row[3].text ?? "")
        }
    }

    /// The observations of a result set as a reviewer sees them: intervals for the patient, flags, delta checks.
    public func interpret(_ set: ResultSet) async throws(LaboratoryError) -> [InterpretedObservation] {
        let ranges = try await referenceRanges()
        let rules = try await deltaRules()
        var result: [InterpretedObservation] = []
        for observation in set.observations {
            var previous: (value: Double, at: Date)?
            if let loinc = observation.loinc {
                let at = observation.observedAt ?? set.observedAt
                let earlier = try await history(institution: set.institution, patientID: set.patient.id, loinc: loinc, before: at)
                    .filter { $0.resultSet != set.id && $0.unit == observation.normalised.unit }
                if let last = earlier.last { previous = (last.value, last.at) }
            }
            result.append(
                InterpretedObservation.interpret(
                    observation, patient: set.patient, at: observation.observedAt ?? set.observedAt, ranges: ranges, deltaRules: rules,
                    previous: previous))
        }
        return result
    }

    // MARK: - Reference ranges and delta rules

    static func insertRange(_ r: ReferenceRange) -> (String, [SQLValue]) {
        (
            """
            INSERT INTO lab_reference_ranges (loinc, name, sex, minimum_age, maximum_age, low, high, critical_low, critical_high, unit, source)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(r.loinc), .text(r.name), .text(r.sex?.rawValue ?? ""), .integer(Int64(r.minimumAge)), .integer(Int64(r.maximumAge)),
                number(r.low), number(r.high), number(r.criticalLow), number(r.criticalHigh), .text(r.unit), .text(r.source),
            ]
        )
    }

    static func insertDelta(_ rule: DeltaRule) -> (String, [SQLValue]) {
        (
            "INSERT INTO lab_delta_rules (loinc, absolute_change, percent_change) VALUES (?, ?, ?)",
            [.text(rule.loinc), number(rule.absolute), number(rule.percent)]
        )
    }

    public func referenceRanges() async throws(LaboratoryError) -> [ReferenceRange] {
        try await query(
            """
            SELECT id, loinc, name, sex, minimum_age, maximum_age, low, high, critical_low, critical_high, unit, source
            FROM lab_reference_ranges ORDER BY loinc, sex, minimum_age, id
            """, []
        ).map { row in
            func d(_ i: Int) -> Double? { row[i].text.flatMap(Double.init) }
            return ReferenceRange(
                id: row[0].integer ?? 0, loinc: row[1].text ?? "", name: row[2].text ?? "",
                sex: (row[3].text ?? "").isEmpty ? nil : AdministrativeSex(hl7: row[3].text ?? ""), minimumAge: Int(row[4].integer ?? 0),
                maximumAge: Int(row[5].integer ?? 150), low: d(6), high: d(7), criticalLow: d(8), criticalHigh: d(9),
                unit: row[10].text ?? "",
                source: row[11].text ?? "")
        }
    }

    /// Adds an interval (id 0) or replaces the one with its id.
    @discardableResult
    public func saveReferenceRange(_ range: ReferenceRange) async throws(LaboratoryError) -> ReferenceRange {
        guard !range.loinc.isEmpty, range.minimumAge < range.maximumAge, range.low != nil || range.high != nil else {
            throw .invalid("an interval needs a LOINC code, an age band and a low or high limit")
        }
        if let low = range.low, let high = range.high, low > high { throw .invalid("low is above high") }
        if range.id != 0 {
            try await transaction([("DELETE FROM lab_reference_ranges WHERE id = ?", [.integer(range.id)])])
        }
        let (sql, bindings) = Self.insertRange(range)
        let rows = try await query(sql + " RETURNING id", bindings)
        var saved = range
        saved.id = rows.first?.first?.integer ?? 0
        return saved
    }

    public func deleteReferenceRange(id: Int64) async throws(LaboratoryError) {
        try await query("DELETE FROM lab_reference_ranges WHERE id = ?", [.integer(id)])
    }

    public func deltaRules() async throws(LaboratoryError) -> [DeltaRule] {
        try await query("SELECT loinc, absolute_change, percent_change FROM lab_delta_rules ORDER BY loinc", []).map {
            DeltaRule(loinc: $0[0].text ?? "", absolute: $0[1].text.flatMap(Double.init), percent: $0[2].text.flatMap(Double.init))
        }
    }

    public func setDeltaRule(_ rule: DeltaRule) async throws(LaboratoryError) {
        try await transaction([("DELETE FROM lab_delta_rules WHERE loinc = ?", [.text(rule.loinc)]), Self.insertDelta(rule)])
    }

    // MARK: - Quality control

    @discardableResult
    public func addMaterial(_ material: ControlMaterial) async throws(LaboratoryError) -> ControlMaterial {
        guard material.sd > 0, !material.name.isEmpty, !material.institution.isEmpty else {
            throw .invalid("a control material needs a name, an institution and an SD above zero")
        }
        let rows = try await query(
            """
            INSERT INTO lab_qc_materials (institution, loinc, analyte, name, lot, level, mean, sd, unit)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
            """,
            [
                .text(material.institution), .text(material.loinc), .text(material.analyte), .text(material.name), .text(material.lot),
                .text(material.level), .text(String(material.mean)), .text(String(material.sd)), .text(material.unit),
            ])
        var saved = material
        saved.id = rows.first?.first?.integer ?? 0
        return saved
    }

    public func materials(institution: String?) async throws(LaboratoryError) -> [ControlMaterial] {
        let rows =
            if let institution {
                try await query(
                    "SELECT id, institution, loinc, analyte, name, lot, level, mean, sd, unit FROM lab_qc_materials WHERE institution = ? ORDER BY id",
                    [.text(institution)])
            } else {
                try await query(
                    "SELECT id, institution, loinc, analyte, name, lot, level, mean, sd, unit FROM lab_qc_materials ORDER BY id", [])
            }
        return rows.map { row in
            func t(_ i: Int) -> String { row[i].text ?? "" }
            return ControlMaterial(
                id: row[0].integer ?? 0, institution: t(1), loinc: t(2), analyte: t(3), name: t(4), lot: t(5), level: t(6),
                mean: Double(t(7)) ?? 0, sd: Double(t(8)) ?? 0, unit: t(9))
        }
    }

    /// Records a run (its values on materials of the run's institution), in one transaction.
    @discardableResult
    public func addRun(_ run: QCRun, by person: String) async throws(LaboratoryError) -> QCRun {
        guard !run.values.isEmpty else { throw .invalid("a run needs at least one value") }
        let own = Set(try await materials(institution: run.institution).map(\.id))
        guard Set(run.values.keys).isSubset(of: own) else { throw .invalid("a value names a material of another institution") }
        let token = UUID().uuidString
        var statements: [(String, [SQLValue])] = [
            (
                "INSERT INTO lab_qc_runs (institution, run_at, recorded_by, token) VALUES (?, ?, ?, ?)",
                [.text(run.institution), Self.ms(run.at), .text(person), .text(token)]
            )
        ]
        for (material, value) in run.values.sorted(by: { $0.key < $1.key }) {
            statements.append(
                (
                    "INSERT INTO lab_qc_values (run_id, material_id, value) SELECT id, ?, ? FROM lab_qc_runs WHERE token = ?",
                    [.integer(material), .text(String(value)), .text(token)]
                ))
        }
        try await transaction(statements)
        var saved = run
        saved.id = try await query("SELECT id FROM lab_qc_runs WHERE token = ?", [.text(token)]).first?.first?.integer ?? 0
        return saved
    }

    /// The runs of an institution (nil: all), oldest first.
    public func runs(institution: String?) async throws(LaboratoryError) -> [QCRun] {
        let rows =
            if let institution {
                try await query(
                    """
                    SELECT r.id, r.institution, r.run_at, v.material_id, v.value FROM lab_qc_runs r JOIN lab_qc_values v ON v.run_id = r.id
                    WHERE r.institution = ? ORDER BY r.run_at, r.id
                    """, [.text(institution)])
            } else {
                try await query(
                    """
                    SELECT r.id, r.institution, r.run_at, v.material_id, v.value FROM lab_qc_runs r JOIN lab_qc_values v ON v.run_id = r.id
                    ORDER BY r.run_at, r.id
                    """, [])
            }
        var runs: [QCRun] = []
        for row in rows {
            let id = row[0].integer ?? 0
            if runs.last?.id != id {
                runs.append(
                    QCRun(id: id, institution: row[1].text ?? "", at: Self.date(row[2]) ?? Date(timeIntervalSince1970: 0), values: [:]))
            }
            runs[runs.count - 1].values[row[3].integer ?? 0] = row[4].text.flatMap(Double.init)
        }
        return runs
    }

    // MARK: - Consultation links

    /// Links a consultation request to the result set it asks about.
    public func link(requestID: Int64, resultSet: String) async throws(LaboratoryError) {
        guard try await self.resultSet(id: resultSet) != nil else { throw .notFound("result set \(resultSet)") }
        try await transaction([
            ("DELETE FROM lab_request_links WHERE request_id = ?", [.integer(requestID)]),
            ("INSERT INTO lab_request_links (request_id, result_set) VALUES (?, ?)", [.integer(requestID), .text(resultSet)]),
        ])
    }

    public func resultSetID(forRequest requestID: Int64) async throws(LaboratoryError) -> String? {
        try await query("SELECT result_set FROM lab_request_links WHERE request_id = ?", [.integer(requestID)]).first?.first?.text
    }

    public func requests(forResultSet id: String) async throws(LaboratoryError) -> [Int64] {
        try await query("SELECT request_id FROM lab_request_links WHERE result_set = ? ORDER BY request_id", [.text(id)]).compactMap {
            $0[0].integer
        }
    }

    // MARK: - Plumbing

    static func ms(_ date: Date) -> SQLValue { .integer(Int64((date.timeIntervalSince1970 * 1000).rounded())) }
    static func ms(_ date: Date?) -> SQLValue { date.map { ms($0) } ?? .null }
    static func date(_ value: SQLValue) -> Date? { value.integer.map { Date(timeIntervalSince1970: Double($0) / 1000) } }
    static func number(_ value: Double?) -> SQLValue { value.map { .text(String($0)) } ?? .null }

    @discardableResult
    func query(_ sql: String, _ bindings: [SQLValue]) async throws(LaboratoryError) -> [[SQLValue]] {
        try await prepare()
        do {
            return try await database.query(sql, bindings)
        } catch {
            throw .database("\(error)")
        }
    }

    func transaction(_ statements: [(String, [SQLValue])]) async throws(LaboratoryError) {
        try await prepare()
        do {
            try await database.transaction(statements)
        } catch {
            throw .database("\(error)")
        }
    }
}
