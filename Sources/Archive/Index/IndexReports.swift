/// The index's read-only reports whose SQL is the same in every dialect, and how their rows become values: written
/// once for SQLite and PostgreSQL alike.
enum IndexReports {
    static let patientConflictsSQL =
        "SELECT patient_id, issuer, stored_name, stored_birth_date, incoming_name, incoming_birth_date, sop_uid, "
        + "source_aet, source_institution FROM patient_conflicts ORDER BY pk"

    static func patientConflicts(_ rows: [[SQLValue]]) -> [PatientConflict] {
        rows.map { r in
            let t = r.map { $0.text ?? "" }
            return PatientConflict(
                patientID: t[0], issuerOfPatientID: t[1], storedName: t[2], storedBirthDate: t[3], incomingName: t[4],
                incomingBirthDate: t[5], sopInstanceUID: t[6], sourceAETitle: t[7], sourceInstitution: t[8])
        }
    }

    static let countsSQL =
        "SELECT (SELECT COUNT(*) FROM patients), (SELECT COUNT(*) FROM studies), (SELECT COUNT(*) FROM series), "
        + "(SELECT COUNT(*) FROM instances)"

    static func counts(_ rows: [[SQLValue]]) -> IndexCounts {
        let n = rows.first?.map { Int($0.integer ?? 0) } ?? [0, 0, 0, 0]
        return IndexCounts(patients: n[0], studies: n[1], series: n[2], instances: n[3])
    }
}
