import Platform

/// Training's tables, numbered migrations recorded in `training_schema_version`. Times of attempts and answers are in
/// milliseconds since 1970 (deadlines are compared to the millisecond); other times in seconds.
enum TrainingSchema {
    static let versionTable = "training_schema_version"
    /// Serialises migrators on PostgreSQL ("ATTRAIN" in ASCII).
    static let lockKey: Int64 = 0x4154_5452_4149_4E

    @Sendable static func migrations(_ flavour: PlatformSchema.Flavour) -> [[String]] {
        let key = flavour == .sqlite ? "INTEGER PRIMARY KEY" : "BIGSERIAL PRIMARY KEY"
        let int = flavour == .sqlite ? "INTEGER" : "BIGINT"

        return [
            [
                """
                CREATE TABLE training_questions (
                    id \(key),
                    kind TEXT NOT NULL,
                    case_id \(int),
                    difficulty \(int) NOT NULL,
                    content TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    created_at \(int) NOT NULL,
                    updated_at \(int) NOT NULL,
                    revision \(int) NOT NULL DEFAULT 0,
                    retired \(int) NOT NULL DEFAULT 0
                )
                """,
                """
                CREATE TABLE training_question_tags (
                    question_id \(int) NOT NULL REFERENCES training_questions (id) ON DELETE CASCADE,
                    tag TEXT NOT NULL,
                    PRIMARY KEY (tag, question_id)
                )
                """,
                """
                CREATE TABLE training_exams (
                    id \(key),
                    settings TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    created_at \(int) NOT NULL,
                    released_at \(int),
                    revision \(int) NOT NULL DEFAULT 0
                )
                """,
                // The use history of each question: which exams (and forms) it was put in.
                """
                CREATE TABLE training_question_uses (
                    question_id \(int) NOT NULL REFERENCES training_questions (id) ON DELETE CASCADE,
                    exam_id \(int) NOT NULL REFERENCES training_exams (id) ON DELETE CASCADE,
                    form \(int) NOT NULL,
                    used_at \(int) NOT NULL,
                    PRIMARY KEY (question_id, exam_id, form)
                )
                """,
                """
                CREATE TABLE training_attempts (
                    id \(key),
                    exam_id \(int) NOT NULL REFERENCES training_exams (id) ON DELETE CASCADE,
                    student TEXT NOT NULL,
                    number \(int) NOT NULL,
                    form \(int) NOT NULL,
                    seed TEXT NOT NULL,
                    started_at \(int) NOT NULL,
                    deadline \(int) NOT NULL,
                    submitted_at \(int),
                    feedback TEXT NOT NULL DEFAULT '',
                    UNIQUE (exam_id, student, number)
                )
                """,
                "CREATE INDEX training_attempts_student ON training_attempts (student, exam_id)",
                """
                CREATE TABLE training_attempt_items (
                    attempt_id \(int) NOT NULL REFERENCES training_attempts (id) ON DELETE CASCADE,
                    question_id \(int) NOT NULL,
                    position \(int) NOT NULL,
                    PRIMARY KEY (attempt_id, question_id)
                )
                """,
                """
                CREATE TABLE training_answers (
                    attempt_id \(int) NOT NULL REFERENCES training_attempts (id) ON DELETE CASCADE,
                    question_id \(int) NOT NULL,
                    answer TEXT NOT NULL,
                    sequence \(int) NOT NULL,
                    saved_at \(int) NOT NULL,
                    PRIMARY KEY (attempt_id, question_id)
                )
                """,
                // Every click of a hotspot question, in the order given (the answer keeps the last).
                """
                CREATE TABLE training_clicks (
                    id \(key),
                    attempt_id \(int) NOT NULL REFERENCES training_attempts (id) ON DELETE CASCADE,
                    question_id \(int) NOT NULL,
                    slice \(int) NOT NULL,
                    x TEXT NOT NULL,
                    y TEXT NOT NULL,
                    clicked_at \(int) NOT NULL
                )
                """,
                "CREATE INDEX training_clicks_attempt ON training_clicks (attempt_id, question_id)",
                """
                CREATE TABLE training_rubric_grades (
                    attempt_id \(int) NOT NULL REFERENCES training_attempts (id) ON DELETE CASCADE,
                    question_id \(int) NOT NULL,
                    grader TEXT NOT NULL,
                    awards TEXT NOT NULL,
                    comment TEXT NOT NULL,
                    graded_at \(int) NOT NULL,
                    PRIMARY KEY (attempt_id, question_id, grader)
                )
                """,
                """
                CREATE TABLE training_overrides (
                    attempt_id \(int) NOT NULL REFERENCES training_attempts (id) ON DELETE CASCADE,
                    question_id \(int) NOT NULL,
                    points TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    changed_by TEXT NOT NULL,
                    changed_at \(int) NOT NULL,
                    PRIMARY KEY (attempt_id, question_id)
                )
                """,
            ],
            // 2: practice on library cases — each case's key findings, and the students' practice reports.
            [
                """
                CREATE TABLE training_key_findings (
                    case_id \(int) PRIMARY KEY,
                    findings TEXT NOT NULL,
                    updated_by TEXT NOT NULL,
                    updated_at \(int) NOT NULL
                )
                """,
                """
                CREATE TABLE training_practice (
                    id \(key),
                    case_id \(int) NOT NULL,
                    student TEXT NOT NULL,
                    findings TEXT NOT NULL,
                    impression TEXT NOT NULL,
                    matches TEXT NOT NULL,
                    submitted_at \(int) NOT NULL,
                    comment TEXT NOT NULL DEFAULT '',
                    commented_by TEXT,
                    commented_at \(int)
                )
                """,
                "CREATE INDEX training_practice_student ON training_practice (student, id)",
                "CREATE INDEX training_practice_case ON training_practice (case_id, id)",
            ],
            // 3: supervision across partners — supervisors, hand-logged placements and procedures with their
            // countersignatures, competencies and their sign-offs, logbook targets, cohorts, inspections.
            [
                """
                CREATE TABLE training_supervisors (
                    trainee TEXT PRIMARY KEY,
                    academic TEXT,
                    practice TEXT,
                    partner TEXT,
                    updated_by TEXT NOT NULL,
                    updated_at \(int) NOT NULL
                )
                """,
                """
                CREATE TABLE training_logbook_entries (
                    id \(key),
                    trainee TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    submission TEXT NOT NULL,
                    partner TEXT,
                    state TEXT NOT NULL,
                    reviewer TEXT,
                    reviewed_at \(int),
                    comment TEXT NOT NULL DEFAULT '',
                    logged_at \(int) NOT NULL
                )
                """,
                "CREATE INDEX training_logbook_entries_trainee ON training_logbook_entries (trainee, id)",
                """
                CREATE TABLE training_competencies (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    levels \(int) NOT NULL,
                    position \(int) NOT NULL
                )
                """,
                """
                CREATE TABLE training_competency_signoffs (
                    id \(key),
                    trainee TEXT NOT NULL,
                    competency TEXT NOT NULL,
                    level \(int) NOT NULL,
                    signed_by TEXT NOT NULL,
                    signed_at \(int) NOT NULL,
                    note TEXT NOT NULL
                )
                """,
                "CREATE INDEX training_competency_signoffs_trainee ON training_competency_signoffs (trainee, id)",
                """
                CREATE TABLE training_logbook_targets (
                    programme TEXT NOT NULL,
                    dimension TEXT NOT NULL,
                    value TEXT NOT NULL,
                    count \(int) NOT NULL,
                    PRIMARY KEY (programme, dimension, value)
                )
                """,
                """
                CREATE TABLE training_cohorts (
                    id \(key),
                    name TEXT NOT NULL,
                    programme TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    created_at \(int) NOT NULL
                )
                """,
                """
                CREATE TABLE training_cohort_members (
                    cohort_id \(int) NOT NULL REFERENCES training_cohorts (id) ON DELETE CASCADE,
                    trainee TEXT NOT NULL,
                    enrolled_by TEXT NOT NULL,
                    enrolled_at \(int) NOT NULL,
                    PRIMARY KEY (cohort_id, trainee)
                )
                """,
                """
                CREATE TABLE training_inspections (
                    id \(key),
                    inspector TEXT NOT NULL,
                    institution TEXT NOT NULL,
                    subject_kind TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    party TEXT NOT NULL,
                    unannounced \(int) NOT NULL,
                    day TEXT NOT NULL,
                    findings TEXT NOT NULL,
                    closed_at \(int),
                    closing_note TEXT NOT NULL DEFAULT '',
                    published_at \(int),
                    created_at \(int) NOT NULL
                )
                """,
                """
                CREATE TABLE training_inspection_actions (
                    id \(key),
                    inspection_id \(int) NOT NULL REFERENCES training_inspections (id) ON DELETE CASCADE,
                    action TEXT NOT NULL,
                    owner TEXT NOT NULL,
                    due TEXT NOT NULL
                )
                """,
            ],
            // 4: master's training plans (milestones with documents, reviewers' scores and supervisors' approvals) and the
            // project register.
            [
                """
                CREATE TABLE training_milestones (
                    trainee TEXT NOT NULL,
                    stage TEXT NOT NULL,
                    due TEXT NOT NULL,
                    reviewers TEXT NOT NULL,
                    status TEXT NOT NULL,
                    documents TEXT NOT NULL,
                    scores TEXT NOT NULL,
                    approvals TEXT NOT NULL,
                    comment TEXT NOT NULL DEFAULT '',
                    submitted_at \(int),
                    PRIMARY KEY (trainee, stage)
                )
                """,
                """
                CREATE TABLE training_projects (
                    id \(key),
                    title TEXT NOT NULL,
                    points TEXT NOT NULL,
                    trainees TEXT NOT NULL,
                    supervisor TEXT NOT NULL,
                    year \(int) NOT NULL,
                    registered_by TEXT NOT NULL,
                    created_at \(int) NOT NULL
                )
                """,
            ],
            // 5: project-based assignments — the task with its rubric, units (groups or students) and weights as JSON; each
            // unit's submission; each evaluator's marks per criterion.
            [
                """
                CREATE TABLE training_assignments (
                    id \(key),
                    content TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    created_at \(int) NOT NULL,
                    released_at \(int)
                )
                """,
                """
                CREATE TABLE training_assignment_submissions (
                    assignment_id \(int) NOT NULL REFERENCES training_assignments (id) ON DELETE CASCADE,
                    unit \(int) NOT NULL,
                    text TEXT NOT NULL,
                    submitted_by TEXT NOT NULL,
                    submitted_at \(int) NOT NULL,
                    PRIMARY KEY (assignment_id, unit)
                )
                """,
                """
                CREATE TABLE training_assignment_evaluations (
                    assignment_id \(int) NOT NULL REFERENCES training_assignments (id) ON DELETE CASCADE,
                    unit \(int) NOT NULL,
                    evaluator TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    marks TEXT NOT NULL,
                    comment TEXT NOT NULL DEFAULT '',
                    evaluated_at \(int) NOT NULL,
                    PRIMARY KEY (assignment_id, unit, evaluator)
                )
                """,
            ],
        ]
    }
}
