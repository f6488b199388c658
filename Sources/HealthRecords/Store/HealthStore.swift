import Archive
import Foundation
import Platform
import Synchronization

/// Residents, households, examinations, assessments, follow-ups, plans and the recommendation library in the
/// platform's database (SQLite or PostgreSQL). Each form is stored whole as JSON; the columns beside it are what is
/// listed, searched and counted.
public final class HealthStore: Sendable {
    let database: any PlatformDatabase
    private let prepared = Mutex(false)

    package init(database: any PlatformDatabase) {
        self.database = database
    }

    /// The store beside the identity store's tables.
    public convenience init(identity: IdentityStore) {
        self.init(database: identity.database)
    }

    public func prepare() async throws(HealthError) {
        if prepared.withLock({ $0 }) { return }
        do {
            try await database.migrate(
                versionTable: HealthSchema.versionTable, lockKey: HealthSchema.lockKey, migrations: HealthSchema.migrations)
        } catch {
            throw .database("\(error)")
        }
        prepared.withLock { $0 = true }
    }

    // MARK: - Households and residents

    public func createHousehold(_ household: Household, by person: String) async throws(HealthError) -> Household {
        guard !household.institution.isEmpty, !household.number.isEmpty else {
            throw .invalid("a household needs its institution and number")
        }
        if try await !query(
            "SELECT id FROM health_households WHERE institution = ? AND number = ?",
            [.text(household.institution), .text(household.number)]
        ).isEmpty {
            throw .conflict("household \(household.number) of \(household.institution)")
        }
        let rows = try await query(
            "INSERT INTO health_households (institution, number, address, created_by, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
            [.text(household.institution), .text(household.number), .text(household.address), .text(person), .integer(Self.now())])
        var created = household
        created.id = rows.first?.first?.integer ?? 0
        return created
    }

    public func households(institution: String) async throws(HealthError) -> [Household] {
        try await query(
            "SELECT id, institution, number, address FROM health_households WHERE institution = ? ORDER BY number", [.text(institution)]
        ).map { Household(id: $0[0].integer ?? 0, institution: $0[1].text ?? "", number: $0[2].text ?? "", address: $0[3].text ?? "") }
    }

    static func validate(_ resident: Resident) throws(HealthError) {
        guard !resident.institution.isEmpty else { throw .invalid("a resident needs the serving institution") }
        guard !resident.recordNumber.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw .invalid("a resident needs a record number")
        }
        guard !resident.name.trimmingCharacters(in: .whitespaces).isEmpty else { throw .invalid("a resident needs a name") }
        guard CivilDate(resident.birthDate) != nil else { throw .invalid("birth date \(resident.birthDate) is not yyyy-MM-dd") }
        if !resident.identityNumber.isEmpty, !IdentityNumber.isValid(resident.identityNumber) {
            throw .invalid("the identity number's check digit does not match (GB 11643)")
        }
    }

    public func createResident(_ resident: Resident, by person: String) async throws(HealthError) -> Resident {
        try Self.validate(resident)
        if try await !query(
            "SELECT id FROM health_residents WHERE institution = ? AND record_number = ?",
            [.text(resident.institution), .text(resident.recordNumber)]
        ).isEmpty {
            throw .conflict("record number \(resident.recordNumber) of \(resident.institution)")
        }
        let rows = try await query(
            """
            INSERT INTO health_residents (institution, household_id, record_number, name, record, created_by, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id
            """,
            [
                .text(resident.institution), resident.householdID.map { .integer($0) } ?? .null, .text(resident.recordNumber),
                .text(resident.name), .text(try Self.encode(resident)), .text(person), .integer(Self.now()),
            ])
        guard let id = rows.first?.first?.integer else { throw .database("no id for the new resident") }
        var created = resident
        created.id = id
        try await query("UPDATE health_residents SET record = ? WHERE id = ?", [.text(try Self.encode(created)), .integer(id)])
        return created
    }

    public func updateResident(_ resident: Resident, by person: String) async throws(HealthError) -> Resident {
        try Self.validate(resident)
        let current = try await self.resident(resident.id)
        guard current.institution == resident.institution else {
            throw .invalid("a resident's serving institution is changed by transfer, not edit")
        }
        try await query(
            "UPDATE health_residents SET household_id = ?, record_number = ?, name = ?, record = ? WHERE id = ?",
            [
                resident.householdID.map { .integer($0) } ?? .null, .text(resident.recordNumber), .text(resident.name),
                .text(try Self.encode(resident)), .integer(resident.id),
            ])
        return resident
    }

    public func resident(_ id: Int64) async throws(HealthError) -> Resident {
        guard let row = try await query("SELECT record FROM health_residents WHERE id = ?", [.integer(id)]).first else {
            throw .notFound("resident \(id)")
        }
        return try Self.decode(Resident.self, row[0])
    }

    public func resident(institution: String, recordNumber: String) async throws(HealthError) -> Resident? {
        guard
            let row = try await query(
                "SELECT record FROM health_residents WHERE institution = ? AND record_number = ?",
                [.text(institution), .text(recordNumber)]
            ).first
        else { return nil }
        return try Self.decode(Resident.self, row[0])
    }

    /// The residents a viewer may see, each with the access they have, optionally narrowed by a search of name or
    /// record number (case-insensitive substring). Students get the de-identified records.
    public func residents(visibleTo viewer: HealthAccess.Viewer, search: String = "") async throws(HealthError) -> [Resident] {
        let assigned = Set(
            try await query("SELECT resident_id FROM health_assignments WHERE person = ?", [.text(viewer.username)]).compactMap {
                $0[0].integer
            })
        let rows = try await query("SELECT id, institution, record FROM health_residents ORDER BY institution, record_number", [])
        let needle = search.trimmingCharacters(in: .whitespaces).lowercased()
        var result: [Resident] = []
        for row in rows {
            let id = row[0].integer ?? 0
            let access = HealthAccess.decide(
                viewer: viewer, residentInstitution: row[1].text ?? "", assigned: assigned.contains(id) ? [viewer.username] : [])
            guard access != .none else { continue }
            var resident = try Self.decode(Resident.self, row[2])
            if access == .deidentified { resident = resident.deidentified() }
            if !needle.isEmpty, !resident.name.lowercased().contains(needle), !resident.recordNumber.lowercased().contains(needle) {
                continue
            }
            result.append(resident)
        }
        return result
    }

    /// The access a viewer has to one resident.
    public func access(_ viewer: HealthAccess.Viewer, resident id: Int64) async throws(HealthError) -> HealthAccess {
        let resident = try await resident(id)
        return HealthAccess.decide(viewer: viewer, residentInstitution: resident.institution, assigned: Set(try await assignees(id)))
    }

    // MARK: - Assignments to the health-service centre's staff

    public func assign(resident id: Int64, to person: String, by actor: String) async throws(HealthError) {
        _ = try await resident(id)
        guard !person.isEmpty else { throw .invalid("an assignment needs a person") }
        try await query("DELETE FROM health_assignments WHERE resident_id = ? AND person = ?", [.integer(id), .text(person)])
        try await query(
            "INSERT INTO health_assignments (resident_id, person, assigned_by, assigned_at) VALUES (?, ?, ?, ?)",
            [.integer(id), .text(person), .text(actor), .integer(Self.now())])
    }

    public func unassign(resident id: Int64, from person: String) async throws(HealthError) {
        try await query("DELETE FROM health_assignments WHERE resident_id = ? AND person = ?", [.integer(id), .text(person)])
    }

    public func assignees(_ id: Int64) async throws(HealthError) -> [String] {
        try await query("SELECT person FROM health_assignments WHERE resident_id = ? ORDER BY person", [.integer(id)]).compactMap {
            $0[0].text
        }
    }

    // MARK: - Examinations

    static func validate(_ examination: Examination) throws(HealthError) {
        guard CivilDate(examination.date) != nil else { throw .invalid("examination date \(examination.date) is not yyyy-MM-dd") }
        let v = examination.vitals
        for (name, value, range) in [
            ("height", v.height, 50.0...250.0), ("weight", v.weight, 10...300), ("waist", v.waist, 40...200),
            ("left systolic", v.leftSystolic, 50...300), ("left diastolic", v.leftDiastolic, 20...200),
            ("right systolic", v.rightSystolic, 50...300), ("right diastolic", v.rightDiastolic, 20...200),
            ("fasting glucose", examination.auxiliary.fastingGlucose, 1...40),
            ("total cholesterol", examination.auxiliary.totalCholesterol, 1...20),
            ("HDL cholesterol", examination.auxiliary.hdlCholesterol, 0.1...5),
        ] {
            if let value, !(value.isFinite && range.contains(value)) {
                throw .invalid("\(name) \(value) is outside \(range.lowerBound)–\(range.upperBound)")
            }
        }
    }

    public func addExamination(_ examination: Examination, by person: String, source: String = "form") async throws(HealthError)
        -> Examination
    {
        try Self.validate(examination)
        let resident = try await resident(examination.residentID)
        let rows = try await query(
            """
            INSERT INTO health_examinations (resident_id, institution, exam_date, source, record, created_by, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id
            """,
            [
                .integer(resident.id), .text(resident.institution), .text(examination.date), .text(source),
                .text(try Self.encode(examination)), .text(person), .integer(Self.now()),
            ])
        guard let id = rows.first?.first?.integer else { throw .database("no id for the new examination") }
        var created = examination
        created.id = id
        try await query("UPDATE health_examinations SET record = ? WHERE id = ?", [.text(try Self.encode(created)), .integer(id)])
        return created
    }

    public func examination(_ id: Int64) async throws(HealthError) -> Examination {
        guard let row = try await query("SELECT record FROM health_examinations WHERE id = ?", [.integer(id)]).first else {
            throw .notFound("examination \(id)")
        }
        return try Self.decode(Examination.self, row[0])
    }

    public func examinations(resident id: Int64) async throws(HealthError) -> [Examination] {
        try await query("SELECT record FROM health_examinations WHERE resident_id = ? ORDER BY exam_date DESC, id DESC", [.integer(id)]).map
        {
            row throws(HealthError) in try Self.decode(Examination.self, row[0])
        }
    }

    /// Imports a partner's CSV of examinations for residents of one institution: every row is checked (format, ranges,
    /// the record number naming a resident of the institution) and either all rows are stored, in one transaction, or
    /// none and every problem is reported. Returns the examinations stored, in file order.
    public func importExaminations(csv: String, institution: String, by person: String) async throws(HealthError) -> [Examination] {
        let rows: [ExaminationCSV.Row]
        do {
            rows = try ExaminationCSV.parse(csv)
        } catch {
            throw .importRejected(error.problems)
        }
        var problems: [ExaminationCSV.Problem] = []
        var residents: [String: Int64] = [:]
        for row in rows where residents[row.recordNumber] == nil {
            if let resident = try await resident(institution: institution, recordNumber: row.recordNumber) {
                residents[row.recordNumber] = resident.id
            } else {
                problems.append(
                    ExaminationCSV.Problem(
                        row: row.line, column: "record_number", reason: "no resident \(row.recordNumber) at \(institution)"))
            }
        }
        guard problems.isEmpty else { throw .importRejected(problems) }
        guard !rows.isEmpty else { throw .importRejected([ExaminationCSV.Problem(row: 2, column: "", reason: "the file has no rows")]) }
        // One batch marker so the rows of this import can be read back in file order once the transaction committed.
        let batch = "csv:\(UUID().uuidString)"
        var statements: [(String, [SQLValue])] = []
        for row in rows {
            var examination = row.examination
            examination.residentID = residents[row.recordNumber] ?? 0
            statements.append(
                (
                    """
                    INSERT INTO health_examinations (resident_id, institution, exam_date, source, record, created_by, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .integer(examination.residentID), .text(institution), .text(examination.date), .text(batch),
                        .text(try Self.encode(examination)), .text(person), .integer(Self.now()),
                    ]
                ))
        }
        try await transaction(statements)
        var stored: [Examination] = []
        for row in try await query("SELECT id, record FROM health_examinations WHERE source = ? ORDER BY id", [.text(batch)]) {
            var examination = try Self.decode(Examination.self, row[1])
            examination.id = row[0].integer ?? 0
            try await query(
                "UPDATE health_examinations SET record = ?, source = 'csv' WHERE id = ?",
                [.text(try Self.encode(examination)), .integer(examination.id)])
            stored.append(examination)
        }
        return stored
    }

    // MARK: - Assessments

    /// Assesses an examination and keeps the result (each assessment is a service person-time).
    public func assess(examination id: Int64, by person: String, at now: Date = Date()) async throws(HealthError) -> Assessment {
        let examination = try await examination(id)
        let resident = try await resident(examination.residentID)
        var assessment = Assessment.assess(examination, of: resident, by: person, at: now)
        let rows = try await query(
            """
            INSERT INTO health_assessments (resident_id, examination_id, institution, record, assessed_by, assessed_at)
            VALUES (?, ?, ?, ?, ?, ?) RETURNING id
            """,
            [
                .integer(resident.id), .integer(id), .text(resident.institution), .text(try Self.encode(assessment)), .text(person),
                .integer(Int64(now.timeIntervalSince1970)),
            ])
        assessment.id = rows.first?.first?.integer ?? 0
        return assessment
    }

    public func assessments(resident id: Int64) async throws(HealthError) -> [Assessment] {
        try await query("SELECT id, record FROM health_assessments WHERE resident_id = ? ORDER BY id DESC", [.integer(id)]).map {
            row throws(HealthError) in
            var assessment = try Self.decode(Assessment.self, row[1])
            assessment.id = row[0].integer ?? 0
            return assessment
        }
    }

    public func assessment(_ id: Int64) async throws(HealthError) -> Assessment {
        guard let row = try await query("SELECT id, record FROM health_assessments WHERE id = ?", [.integer(id)]).first else {
            throw .notFound("assessment \(id)")
        }
        var assessment = try Self.decode(Assessment.self, row[1])
        assessment.id = row[0].integer ?? 0
        return assessment
    }

    // MARK: - Follow-ups

    public func recordFollowUp(_ followUp: FollowUp, by person: String) async throws(HealthError) -> FollowUp {
        if let problem = followUp.problem { throw .invalid(problem) }
        let resident = try await resident(followUp.residentID)
        let rows = try await query(
            """
            INSERT INTO health_follow_ups (resident_id, institution, kind, visit_date, classification, next_date, record, created_by, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
            """,
            [
                .integer(resident.id), .text(resident.institution), .text(followUp.kind.rawValue), .text(followUp.date),
                .text(followUp.classification.rawValue), .text(followUp.nextDate), .text(try Self.encode(followUp)), .text(person),
                .integer(Self.now()),
            ])
        guard let id = rows.first?.first?.integer else { throw .database("no id for the new follow-up") }
        var created = followUp
        created.id = id
        try await query("UPDATE health_follow_ups SET record = ? WHERE id = ?", [.text(try Self.encode(created)), .integer(id)])
        return created
    }

    public func followUps(resident id: Int64) async throws(HealthError) -> [FollowUp] {
        try await query("SELECT record FROM health_follow_ups WHERE resident_id = ? ORDER BY visit_date DESC, id DESC", [.integer(id)]).map
        {
            row throws(HealthError) in try Self.decode(FollowUp.self, row[0])
        }
    }

    /// A follow-up that is due: the resident, which form, the day it was due (the latest visit's next date).
    public struct DueFollowUp: Sendable, Equatable, Codable {
        public var residentID: Int64
        public var institution: String
        public var name: String
        public var kind: FollowUp.Kind
        public var due: String
        public var overdueDays: Int
    }

    /// The follow-ups due on or before `day` among the residents the viewer sees in full: for each resident and form,
    /// the latest visit's next date, when no later visit has been recorded. Earliest first.
    public func dueFollowUps(on day: CivilDate, visibleTo viewer: HealthAccess.Viewer) async throws(HealthError) -> [DueFollowUp] {
        let rows = try await query(
            """
            SELECT f.resident_id, f.institution, f.kind, f.next_date, r.name FROM health_follow_ups f
            JOIN health_residents r ON r.id = f.resident_id
            WHERE f.next_date <= ? AND NOT EXISTS (
                SELECT 1 FROM health_follow_ups later WHERE later.resident_id = f.resident_id AND later.kind = f.kind
                AND (later.visit_date > f.visit_date OR (later.visit_date = f.visit_date AND later.id > f.id)))
            ORDER BY f.next_date, f.resident_id
            """, [.text(day.description)])
        let assigned = Set(
            try await query("SELECT resident_id FROM health_assignments WHERE person = ?", [.text(viewer.username)]).compactMap {
                $0[0].integer
            })
        var result: [DueFollowUp] = []
        for row in rows {
            let id = row[0].integer ?? 0
            let institution = row[1].text ?? ""
            guard
                HealthAccess.decide(
                    viewer: viewer, residentInstitution: institution, assigned: assigned.contains(id) ? [viewer.username] : []) == .full,
                let kind = FollowUp.Kind(rawValue: row[2].text ?? ""), let due = CivilDate(row[3].text ?? "")
            else { continue }
            let days = Int((day.start.timeIntervalSince(due.start) / 86_400).rounded())
            result.append(
                DueFollowUp(
                    residentID: id, institution: institution, name: row[4].text ?? "", kind: kind, due: due.description, overdueDays: days))
        }
        return result
    }

    // MARK: - Management plans

    public func savePlan(_ plan: ManagementPlan, by person: String, at now: Date = Date()) async throws(HealthError) -> ManagementPlan {
        _ = try await resident(plan.residentID)
        for goal in plan.goals where goal.item.trimmingCharacters(in: .whitespaces).isEmpty || CivilDate(goal.due) == nil {
            throw .invalid("each goal needs an item and a due date yyyy-MM-dd")
        }
        for day in plan.followUpDates where CivilDate(day) == nil { throw .invalid("follow-up date \(day) is not yyyy-MM-dd") }
        var saved = plan
        saved.createdBy = person
        saved.createdAt = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let rows = try await query(
            "INSERT INTO health_plans (resident_id, record, created_by, created_at) VALUES (?, ?, ?, ?) RETURNING id",
            [.integer(plan.residentID), .text(try Self.encode(saved)), .text(person), .integer(Int64(now.timeIntervalSince1970))])
        saved.id = rows.first?.first?.integer ?? 0
        try await query("UPDATE health_plans SET record = ? WHERE id = ?", [.text(try Self.encode(saved)), .integer(saved.id)])
        return saved
    }

    /// The resident's current plan: the latest saved.
    public func plan(resident id: Int64) async throws(HealthError) -> ManagementPlan? {
        guard
            let row = try await query("SELECT record FROM health_plans WHERE resident_id = ? ORDER BY id DESC LIMIT 1", [.integer(id)])
                .first
        else {
            return nil
        }
        return try Self.decode(ManagementPlan.self, row[0])
    }

    // MARK: - Recommendation library

    public func recommendations(includeInactive: Bool = false) async throws(HealthError) -> [Recommendation] {
        var result: [Recommendation] = []
        for row in try await query("SELECT id, record, active FROM health_recommendations ORDER BY category, id", []) {
            var recommendation = try Self.decode(Recommendation.self, row[1])
            recommendation.id = row[0].integer ?? 0
            recommendation.active = row[2].integer == 1
            if includeInactive || recommendation.active { result.append(recommendation) }
        }
        return result
    }

    /// Adds a recommendation (id 0) or replaces one.
    public func saveRecommendation(_ recommendation: Recommendation, by person: String) async throws(HealthError) -> Recommendation {
        guard !recommendation.textChinese.trimmingCharacters(in: .whitespaces).isEmpty,
            !recommendation.textEnglish.trimmingCharacters(in: .whitespaces).isEmpty
        else { throw .invalid("a recommendation needs its Chinese and English text") }
        guard !recommendation.category.isEmpty else { throw .invalid("a recommendation needs a category") }
        var saved = recommendation
        if recommendation.id == 0 {
            let rows = try await query(
                "INSERT INTO health_recommendations (category, record, active, updated_by, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
                [
                    .text(recommendation.category), .text(try Self.encode(recommendation)), .integer(recommendation.active ? 1 : 0),
                    .text(person), .integer(Self.now()),
                ])
            saved.id = rows.first?.first?.integer ?? 0
        } else {
            let rows = try await query(
                "UPDATE health_recommendations SET category = ?, record = ?, active = ?, updated_by = ?, updated_at = ? WHERE id = ? RETURNING id",
                [
                    .text(recommendation.category), .text(try Self.encode(recommendation)), .integer(recommendation.active ? 1 : 0),
                    .text(person), .integer(Self.now()), .integer(recommendation.id),
                ])
            guard !rows.isEmpty else { throw .notFound("recommendation \(recommendation.id)") }
        }
        return saved
    }

    // MARK: - Teaching cases

    /// Keeps the reference values of a library case made from a record (the library holds the case's text).
    public func saveTeachingCase(
        _ teachingCase: HealthTeachingCase, caseID: Int64, resident: Int64, examination: Int64, by person: String
    ) async throws(HealthError) {
        try await query(
            """
            INSERT INTO health_teaching_cases (case_id, resident_id, examination_id, record, created_by, created_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """,
            [
                .integer(caseID), .integer(resident), .integer(examination), .text(try Self.encode(teachingCase)), .text(person),
                .integer(Self.now()),
            ])
    }

    public func teachingCase(_ caseID: Int64) async throws(HealthError) -> HealthTeachingCase {
        guard let row = try await query("SELECT record FROM health_teaching_cases WHERE case_id = ?", [.integer(caseID)]).first else {
            throw .notFound("health teaching case \(caseID)")
        }
        return try Self.decode(HealthTeachingCase.self, row[0])
    }

    // MARK: - Indicators

    /// One service person-time for the programme's indicators: an examination, an assessment or a follow-up visit of a
    /// resident of an institution, on a day.
    public struct IndicatorRecord: Sendable, Equatable {
        public var institution: String
        /// examination, assessment, follow-up, education (an attendance at a health-education session).
        public var kind: String
        public var date: Date
    }

    public func indicatorRecords() async throws(HealthError) -> [IndicatorRecord] {
        var records: [IndicatorRecord] = []
        for row in try await query("SELECT institution, exam_date FROM health_examinations", []) {
            records.append(IndicatorRecord(institution: row[0].text ?? "", kind: "examination", date: Self.day(row[1])))
        }
        for row in try await query("SELECT institution, assessed_at FROM health_assessments", []) {
            records.append(
                IndicatorRecord(
                    institution: row[0].text ?? "", kind: "assessment", date: Date(timeIntervalSince1970: TimeInterval(row[1].integer ?? 0))
                ))
        }
        for row in try await query("SELECT institution, visit_date FROM health_follow_ups", []) {
            records.append(IndicatorRecord(institution: row[0].text ?? "", kind: "follow-up", date: Self.day(row[1])))
        }
        for row in try await query("SELECT institution, session_date FROM health_education_attendance", []) {
            records.append(IndicatorRecord(institution: row[0].text ?? "", kind: "education", date: Self.day(row[1])))
        }
        return records
    }

    /// Noon of a recorded day in the alliance's time, so the day falls in its own month and year whatever the zone.
    static func day(_ value: SQLValue) -> Date {
        (CivilDate(value.text ?? "")?.start ?? .distantPast).addingTimeInterval(12 * 3600)
    }

    // MARK: - Plumbing

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }

    static func encode<T: Encodable>(_ value: T) throws(HealthError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw .invalid("\(error)")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ value: SQLValue) throws(HealthError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data((value.text ?? "").utf8))
        } catch {
            throw .database("a stored \(type) does not decode: \(error)")
        }
    }

    @discardableResult
    func query(_ sql: String, _ bindings: [SQLValue]) async throws(HealthError) -> [[SQLValue]] {
        try await prepare()
        do {
            return try await database.query(sql, bindings)
        } catch {
            throw .database("\(error)")
        }
    }

    func transaction(_ statements: [(String, [SQLValue])]) async throws(HealthError) {
        try await prepare()
        do {
            try await database.transaction(statements)
        } catch {
            throw .database("\(error)")
        }
    }
}

/// The resident identity card number (GB 11643-1999): 18 characters, the last a check digit over the first 17.
public enum IdentityNumber {
    public static func isValid(_ number: String) -> Bool {
        let characters = Array(number.uppercased())
        guard characters.count == 18 else { return false }
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        var sum = 0
        for (index, weight) in weights.enumerated() {
            guard let digit = characters[index].wholeNumberValue else { return false }
            sum += digit * weight
        }
        let check = Array("10X98765432")[sum % 11]
        return characters[17] == check
    }
}
