import Platform

/// The health records' tables, numbered migrations recorded in `health_schema_version`. Each form is kept whole as
/// JSON beside the columns that are searched, listed or counted (institution, dates, classification).
enum HealthSchema {
    static let versionTable = "health_schema_version"
    /// Serialises migrators on PostgreSQL ("ATHEALT" in ASCII).
    static let lockKey: Int64 = 0x4154_4845_414C_54

    @Sendable static func migrations(_ flavour: PlatformSchema.Flavour) -> [[String]] {
        let key = flavour == .sqlite ? "INTEGER PRIMARY KEY" : "BIGSERIAL PRIMARY KEY"
        let int = flavour == .sqlite ? "INTEGER" : "BIGINT"
        return [
            [
                """
                CREATE TABLE health_households (
                    id \(key),
                    institution TEXT NOT NULL,
                    number TEXT NOT NULL,
                    address TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    created_at \(int) NOT NULL,
                    UNIQUE (institution, number)
                )
                """,
                """
                CREATE TABLE health_residents (
                    id \(key),
                    institution TEXT NOT NULL,
                    household_id \(int),
                    record_number TEXT NOT NULL,
                    name TEXT NOT NULL,
                    record TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    created_at \(int) NOT NULL,
                    UNIQUE (institution, record_number)
                )
                """,
                """
                CREATE TABLE health_assignments (
                    resident_id \(int) NOT NULL,
                    person TEXT NOT NULL,
                    assigned_by TEXT NOT NULL,
                    assigned_at \(int) NOT NULL,
                    PRIMARY KEY (resident_id, person)
                )
                """,
                "CREATE INDEX health_assignments_person ON health_assignments (person)",
                """
                CREATE TABLE health_examinations (
                    id \(key),
                    resident_id \(int) NOT NULL,
                    institution TEXT NOT NULL,
                    exam_date TEXT NOT NULL,
                    source TEXT NOT NULL,
                    record TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    created_at \(int) NOT NULL
                )
                """,
                "CREATE INDEX health_examinations_resident ON health_examinations (resident_id, exam_date)",
                """
                CREATE TABLE health_assessments (
                    id \(key),
                    resident_id \(int) NOT NULL,
                    examination_id \(int) NOT NULL,
                    institution TEXT NOT NULL,
                    record TEXT NOT NULL,
                    assessed_by TEXT NOT NULL,
                    assessed_at \(int) NOT NULL
                )
                """,
                "CREATE INDEX health_assessments_resident ON health_assessments (resident_id)",
                """
                CREATE TABLE health_follow_ups (
                    id \(key),
                    resident_id \(int) NOT NULL,
                    institution TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    visit_date TEXT NOT NULL,
                    classification TEXT NOT NULL,
                    next_date TEXT NOT NULL,
                    record TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    created_at \(int) NOT NULL
                )
                """,
                "CREATE INDEX health_follow_ups_resident ON health_follow_ups (resident_id, kind, visit_date)",
                """
                CREATE TABLE health_plans (
                    id \(key),
                    resident_id \(int) NOT NULL,
                    record TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    created_at \(int) NOT NULL
                )
                """,
                """
                CREATE TABLE health_recommendations (
                    id \(key),
                    category TEXT NOT NULL,
                    record TEXT NOT NULL,
                    active \(int) NOT NULL,
                    updated_by TEXT NOT NULL,
                    updated_at \(int) NOT NULL
                )
                """,
            ],
            // Health-management teaching cases: the library case made from a record, with its reference values.
            [
                """
                CREATE TABLE health_teaching_cases (
                    case_id \(int) PRIMARY KEY,
                    resident_id \(int) NOT NULL,
                    examination_id \(int) NOT NULL,
                    record TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    created_at \(int) NOT NULL
                )
                """
            ],
            // Health education: attendance at a session of a continuing-education course, by a resident or a member
            // of staff (resident_id, or 0 and the person's username), counted as a service person-time.
            [
                """
                CREATE TABLE health_education_attendance (
                    id \(key),
                    course_id \(int) NOT NULL,
                    session_date TEXT NOT NULL,
                    resident_id \(int) NOT NULL,
                    person TEXT NOT NULL,
                    institution TEXT NOT NULL,
                    recorded_by TEXT NOT NULL,
                    recorded_at \(int) NOT NULL,
                    UNIQUE (course_id, session_date, resident_id, person)
                )
                """
            ],
        ]
    }
}
