import Platform

/// The programme office's tables, numbered migrations recorded in `programme_schema_version`. Figures derived from
/// the other domains are never stored here: only what people set or enter (targets, named indicators and their
/// figures with evidence, improvement actions). An alliance-wide row has the institution ''.
enum ProgrammeSchema {
    static let versionTable = "programme_schema_version"
    /// Serialises migrators on PostgreSQL ("ATPROGR" in ASCII).
    static let lockKey: Int64 = 0x4154_5052_4F47_52

    @Sendable static func migrations(_ flavour: PlatformSchema.Flavour) -> [[String]] {
        let key = flavour == .sqlite ? "INTEGER PRIMARY KEY" : "BIGSERIAL PRIMARY KEY"
        let int = flavour == .sqlite ? "INTEGER" : "BIGINT"
        // Decimal figures are kept as text (the platform's SQL values have no floating type), written and read by Swift.
        let real = "TEXT"
        return [
            [
                """
                CREATE TABLE programme_indicators (
                    key TEXT PRIMARY KEY,
                    unit TEXT NOT NULL,
                    direction TEXT NOT NULL,
                    accumulation TEXT NOT NULL,
                    name_en TEXT NOT NULL,
                    name_zh TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    created_at \(int) NOT NULL
                )
                """,
                """
                CREATE TABLE programme_targets (
                    year \(int) NOT NULL,
                    institution TEXT NOT NULL,
                    indicator TEXT NOT NULL,
                    target \(real) NOT NULL,
                    warning \(real) NOT NULL,
                    owner TEXT NOT NULL,
                    updated_by TEXT NOT NULL,
                    updated_at \(int) NOT NULL,
                    PRIMARY KEY (year, institution, indicator)
                )
                """,
                """
                CREATE TABLE programme_figures (
                    id \(key),
                    indicator TEXT NOT NULL,
                    institution TEXT NOT NULL,
                    figure_date \(int) NOT NULL,
                    value \(real) NOT NULL,
                    evidence TEXT NOT NULL,
                    entered_by TEXT NOT NULL,
                    entered_at \(int) NOT NULL
                )
                """,
                "CREATE INDEX programme_figures_date ON programme_figures (figure_date)",
                """
                CREATE TABLE programme_actions (
                    id \(key),
                    year \(int) NOT NULL,
                    institution TEXT NOT NULL,
                    indicator TEXT NOT NULL,
                    description TEXT NOT NULL,
                    owner TEXT NOT NULL,
                    due_at \(int) NOT NULL,
                    opened_by TEXT NOT NULL,
                    opened_at \(int) NOT NULL,
                    state TEXT NOT NULL,
                    closing_note TEXT,
                    closed_by TEXT,
                    closed_at \(int),
                    revision \(int) NOT NULL DEFAULT 0
                )
                """,
                "CREATE INDEX programme_actions_year ON programme_actions (year, state)",
            ],
            // Continuing education: courses of library cases (and an exam), enrolments, what each learner studied,
            // certificates.
            [
                """
                CREATE TABLE programme_courses (
                    id \(key),
                    title_zh TEXT NOT NULL,
                    title_en TEXT NOT NULL,
                    summary TEXT NOT NULL,
                    credit_hours TEXT NOT NULL,
                    cases TEXT NOT NULL,
                    exam_id \(int),
                    published \(int) NOT NULL,
                    created_by TEXT NOT NULL,
                    created_at \(int) NOT NULL
                )
                """,
                """
                CREATE TABLE programme_enrolments (
                    course_id \(int) NOT NULL REFERENCES programme_courses (id),
                    person TEXT NOT NULL,
                    institution TEXT NOT NULL,
                    enrolled_by TEXT NOT NULL,
                    enrolled_at \(int) NOT NULL,
                    completed_at \(int),
                    certificate TEXT,
                    PRIMARY KEY (course_id, person)
                )
                """,
                "CREATE INDEX programme_enrolments_person ON programme_enrolments (person)",
                "CREATE INDEX programme_enrolments_completed ON programme_enrolments (completed_at)",
                """
                CREATE TABLE programme_studied (
                    course_id \(int) NOT NULL,
                    person TEXT NOT NULL,
                    case_id \(int) NOT NULL,
                    studied_at \(int) NOT NULL,
                    PRIMARY KEY (course_id, person, case_id)
                )
                """,
                """
                CREATE TABLE programme_certificates (
                    code TEXT PRIMARY KEY,
                    course_id \(int) NOT NULL,
                    title_zh TEXT NOT NULL,
                    title_en TEXT NOT NULL,
                    person TEXT NOT NULL,
                    person_name TEXT NOT NULL,
                    institution TEXT NOT NULL,
                    credit_hours TEXT NOT NULL,
                    issued_at \(int) NOT NULL,
                    revoked_at \(int),
                    revoked_by TEXT,
                    revocation_reason TEXT
                )
                """,
            ],
            // A course may ask for a practice report on each of its cases.
            ["ALTER TABLE programme_courses ADD COLUMN practice_required \(int) NOT NULL DEFAULT 0"],
            // Courses of modules (text, cases, links, courseware, videos with posters and subtitles), the "videos
            // watched" rule, when a course was first published and by which institution (indicators).
            [
                "ALTER TABLE programme_courses ADD COLUMN videos_required \(int) NOT NULL DEFAULT 0",
                "ALTER TABLE programme_courses ADD COLUMN published_at \(int)",
                "ALTER TABLE programme_courses ADD COLUMN institution TEXT NOT NULL DEFAULT ''",
                "UPDATE programme_courses SET published_at = created_at WHERE published = 1",
                """
                CREATE TABLE programme_course_modules (
                    id \(key),
                    course_id \(int) NOT NULL REFERENCES programme_courses (id),
                    position \(int) NOT NULL,
                    kind TEXT NOT NULL,
                    title TEXT NOT NULL,
                    body TEXT NOT NULL,
                    case_id \(int),
                    file_key TEXT,
                    file_type TEXT,
                    file_size \(int),
                    file_sha256 TEXT,
                    file_name TEXT,
                    poster_key TEXT,
                    poster_type TEXT,
                    poster_size \(int),
                    poster_sha256 TEXT,
                    subtitles_zh TEXT,
                    subtitles_en TEXT,
                    created_by TEXT NOT NULL,
                    created_at \(int) NOT NULL
                )
                """,
                "CREATE INDEX programme_course_modules_course ON programme_course_modules (course_id, position)",
                """
                CREATE TABLE programme_watched (
                    course_id \(int) NOT NULL,
                    person TEXT NOT NULL,
                    module_id \(int) NOT NULL,
                    position TEXT NOT NULL,
                    updated_at \(int) NOT NULL,
                    watched_at \(int),
                    PRIMARY KEY (course_id, person, module_id)
                )
                """,
            ],
        ]
    }
}
