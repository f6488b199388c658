import Archive
import Foundation
import Platform

extension HealthStore {
    // MARK: - FHIR import

    /// What a FHIR import kept.
    public struct FHIRImported: Sendable, Equatable {
        public var resident: Resident
        public var registered: Bool
        public var examinations: [Examination]
    }

    /// Keeps what ``FHIRImport/read(_:institution:)`` read, in one transaction: the resident registered (or found by
    /// record number, when the Patient's name, sex and birth date agree with the record; its diagnoses gain the
    /// Conditions), and an examination per day. Nothing is kept when anything is refused.
    public func importFHIR(_ imported: FHIRImport.Imported, by person: String) async throws(HealthError) -> FHIRImported {
        var resident = imported.resident
        try Self.validate(resident)
        for examination in imported.examinations { try Self.validate(examination) }
        let existing = try await self.resident(institution: resident.institution, recordNumber: resident.recordNumber)
        var statements: [(String, [SQLValue])] = []
        if let existing {
            var problems: [ExaminationCSV.Problem] = []
            for (element, given, kept) in [
                ("Patient.name", resident.name, existing.name), ("Patient.gender", resident.sex.rawValue, existing.sex.rawValue),
                ("Patient.birthDate", resident.birthDate, existing.birthDate),
            ] where given != kept {
                problems.append(
                    ExaminationCSV.Problem(
                        row: imported.patientEntry, column: element,
                        reason: "record \(resident.recordNumber) has another value: correct the record or the Bundle"))
            }
            guard problems.isEmpty else { throw .importRejected(problems) }
            var merged = existing
            for diagnosis in imported.conditions where !merged.information.diagnosed(diagnosis.code) {
                merged.information.diagnoses.append(diagnosis)
            }
            if merged != existing {
                statements.append(
                    ("UPDATE health_residents SET record = ? WHERE id = ?", [.text(try Self.encode(merged)), .integer(merged.id)]))
            }
            resident = merged
        } else {
            statements.append(
                (
                    """
                    INSERT INTO health_residents (institution, household_id, record_number, name, record, created_by, created_at)
                    VALUES (?, NULL, ?, ?, ?, ?, ?)
                    """,
                    [
                        .text(resident.institution), .text(resident.recordNumber), .text(resident.name), .text(try Self.encode(resident)),
                        .text(person), .integer(Self.now()),
                    ]
                ))
        }
        let batch = "fhir:\(UUID().uuidString)"
        for examination in imported.examinations {
            statements.append(
                (
                    """
                    INSERT INTO health_examinations (resident_id, institution, exam_date, source, record, created_by, created_at)
                    VALUES ((SELECT id FROM health_residents WHERE institution = ? AND record_number = ?), ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .text(resident.institution), .text(resident.recordNumber), .text(resident.institution), .text(examination.date),
                        .text(batch), .text(try Self.encode(examination)), .text(person), .integer(Self.now()),
                    ]
                ))
        }
        guard !statements.isEmpty else { return FHIRImported(resident: resident, registered: false, examinations: []) }
        try await transaction(statements)
        // The ids are known once committed: write them into the stored forms.
        guard
            let stored = try await query(
                "SELECT id FROM health_residents WHERE institution = ? AND record_number = ?",
                [.text(resident.institution), .text(resident.recordNumber)]
            ).first?.first?.integer
        else {
            throw .database("the imported resident \(resident.recordNumber) is not there after the import")
        }
        if existing == nil {
            resident.id = stored
            try await query(
                "UPDATE health_residents SET record = ? WHERE id = ?", [.text(try Self.encode(resident)), .integer(resident.id)])
        }
        var examinations: [Examination] = []
        for row in try await query("SELECT id, record FROM health_examinations WHERE source = ? ORDER BY id", [.text(batch)]) {
            var examination = try Self.decode(Examination.self, row[1])
            examination.id = row[0].integer ?? 0
            examination.residentID = resident.id
            try await query(
                "UPDATE health_examinations SET record = ?, source = 'fhir' WHERE id = ?",
                [.text(try Self.encode(examination)), .integer(examination.id)])
            examinations.append(examination)
        }
        return FHIRImported(resident: resident, registered: existing == nil, examinations: examinations)
    }

    // MARK: - Health education

    /// One attendance at a health-education session: a resident (``residentID``) or a member of staff (``person``).
    public struct Attendance: Sendable, Equatable, Codable {
        public var id: Int64
        public var course: Int64
        /// yyyy-MM-dd.
        public var date: String
        public var residentID: Int64?
        public var person: String?
        public var institution: String
        public var recordedBy: String

        public init(
            id: Int64 = 0, course: Int64, date: String, residentID: Int64? = nil, person: String? = nil, institution: String,
            recordedBy: String = ""
        ) {
            self.id = id
            self.course = course
            self.date = date
            self.residentID = residentID
            self.person = person
            self.institution = institution
            self.recordedBy = recordedBy
        }
    }

    /// Records who attended a session of a course on a day (each once; recording someone again changes nothing).
    /// Returns how many attendances were new.
    @discardableResult
    public func recordAttendance(_ list: [Attendance], by person: String) async throws(HealthError) -> Int {
        var statements: [(String, [SQLValue])] = []
        for attendance in list {
            guard CivilDate(attendance.date) != nil else { throw .invalid("session date \(attendance.date) is not yyyy-MM-dd") }
            guard (attendance.residentID != nil) != (attendance.person?.isEmpty == false) else {
                throw .invalid("an attendance is of a resident or of a member of staff")
            }
            let values: [SQLValue] = [
                .integer(attendance.course), .text(attendance.date), .integer(attendance.residentID ?? 0), .text(attendance.person ?? ""),
                .text(attendance.institution), .text(person), .integer(Self.now()),
            ]
            statements.append(
                (
                    """
                    INSERT INTO health_education_attendance
                        (course_id, session_date, resident_id, person, institution, recorded_by, recorded_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (course_id, session_date, resident_id, person) DO NOTHING
                    """,
                    values
                ))
        }
        let before = try await attendanceCount()
        try await transaction(statements)
        return try await attendanceCount() - before
    }

    func attendanceCount() async throws(HealthError) -> Int {
        Int(try await query("SELECT COUNT(*) FROM health_education_attendance", []).first?.first?.integer ?? 0)
    }

    /// The attendances of a course, by day then id.
    public func attendance(course: Int64) async throws(HealthError) -> [Attendance] {
        try await query(
            """
            SELECT id, course_id, session_date, resident_id, person, institution, recorded_by FROM health_education_attendance
            WHERE course_id = ? ORDER BY session_date, id
            """, [.integer(course)]
        ).map { row in
            let resident = row[3].integer ?? 0
            let person = row[4].text ?? ""
            return Attendance(
                id: row[0].integer ?? 0, course: row[1].integer ?? 0, date: row[2].text ?? "", residentID: resident == 0 ? nil : resident,
                person: person.isEmpty ? nil : person, institution: row[5].text ?? "", recordedBy: row[6].text ?? "")
        }
    }

    /// The library cases made from health records, newest first.
    public func teachingCaseIDs() async throws(HealthError) -> [Int64] {
        try await query("SELECT case_id FROM health_teaching_cases ORDER BY created_at DESC, case_id DESC", []).compactMap { $0[0].integer }
    }
}
