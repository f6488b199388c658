import Platform

/// The consultation workflow's tables, in the platform's database, as numbered migrations of their own (recorded in
/// `reading_schema_version`). Times are milliseconds since 1970. Signed report versions are append-only in the database
/// itself (triggers refuse UPDATE and DELETE), as the audit trail is.
enum ReadingSchema {
    static let versionTable = "reading_schema_version"
    /// The PostgreSQL advisory lock that serialises concurrent migrators ("ATREAD").
    static let lockKey: Int64 = 0x4154_5245_4144

    /// The condition of the open items' index, as the worklist query repeats it word for word.
    static func openItems(_ prefix: String = "") -> String { "(\(prefix)state || '') IN ('SCHEDULED', 'IN PROGRESS')" }

    @Sendable static func migrations(_ flavour: PlatformSchema.Flavour) -> [[String]] {
        let key = flavour == .sqlite ? "INTEGER PRIMARY KEY" : "BIGSERIAL PRIMARY KEY"
        let int = flavour == .sqlite ? "INTEGER" : "BIGINT"
        return [
            [
                """
                CREATE TABLE consultation_requests (
                    id \(key),
                    uid TEXT NOT NULL UNIQUE,
                    service_line TEXT NOT NULL,
                    priority TEXT NOT NULL,
                    status TEXT NOT NULL,
                    institution_code TEXT NOT NULL,
                    requested_by TEXT NOT NULL,
                    referring_physician TEXT NOT NULL,
                    clinical_history TEXT NOT NULL,
                    question TEXT NOT NULL,
                    accession_number TEXT NOT NULL,
                    modality TEXT NOT NULL,
                    body_part TEXT NOT NULL,
                    patient_name TEXT NOT NULL,
                    patient_id TEXT NOT NULL,
                    created_at \(int) NOT NULL,
                    deadline_at \(int) NOT NULL,
                    updated_at \(int) NOT NULL
                )
                """,
                "CREATE INDEX consultation_requests_status ON consultation_requests (status, deadline_at)",
                "CREATE INDEX consultation_requests_institution ON consultation_requests (institution_code, created_at)",
                "CREATE INDEX consultation_requests_accession ON consultation_requests (accession_number)",
                """
                CREATE TABLE consultation_studies (
                    request_id \(int) NOT NULL REFERENCES consultation_requests (id) ON DELETE CASCADE,
                    study_instance_uid TEXT NOT NULL,
                    PRIMARY KEY (request_id, study_instance_uid)
                )
                """,
                "CREATE INDEX consultation_studies_study ON consultation_studies (study_instance_uid)",
                """
                CREATE TABLE work_items (
                    id \(key),
                    uid TEXT NOT NULL UNIQUE,
                    request_id \(int) NOT NULL REFERENCES consultation_requests (id) ON DELETE CASCADE,
                    kind TEXT NOT NULL,
                    state TEXT NOT NULL,
                    owner TEXT,
                    owner_name TEXT,
                    transaction_uid TEXT,
                    lease_until \(int),
                    claimed_at \(int),
                    completed_at \(int),
                    assignee TEXT,
                    created_at \(int) NOT NULL,
                    revision \(int) NOT NULL DEFAULT 0
                )
                """,
                "CREATE INDEX work_items_request ON work_items (request_id)",
                "CREATE INDEX work_items_state ON work_items (state, lease_until)",
                """
                CREATE TABLE reports (
                    id \(key),
                    request_id \(int) NOT NULL REFERENCES consultation_requests (id) ON DELETE CASCADE,
                    work_item_id \(int) NOT NULL UNIQUE REFERENCES work_items (id) ON DELETE CASCADE,
                    status TEXT NOT NULL,
                    author TEXT NOT NULL,
                    author_name TEXT NOT NULL,
                    sections TEXT NOT NULL,
                    signed_version \(int) NOT NULL DEFAULT 0,
                    draft_saved_at \(int),
                    created_at \(int) NOT NULL,
                    updated_at \(int) NOT NULL,
                    revision \(int) NOT NULL DEFAULT 0
                )
                """,
                "CREATE INDEX reports_request ON reports (request_id)",
                """
                CREATE TABLE report_versions (
                    report_id \(int) NOT NULL REFERENCES reports (id),
                    version \(int) NOT NULL,
                    kind TEXT NOT NULL,
                    sections TEXT NOT NULL,
                    text TEXT NOT NULL,
                    signed_by TEXT NOT NULL,
                    signed_by_name TEXT NOT NULL,
                    signed_at \(int) NOT NULL,
                    PRIMARY KEY (report_id, version)
                )
                """,
                """
                CREATE TABLE report_outbox (
                    report_id \(int) NOT NULL,
                    version \(int) NOT NULL,
                    series_instance_uid TEXT NOT NULL,
                    sop_instance_uid TEXT NOT NULL,
                    created_at \(int) NOT NULL,
                    stored_at \(int),
                    PRIMARY KEY (report_id, version)
                )
                """,
                """
                CREATE TABLE critical_results (
                    id \(key),
                    request_id \(int) NOT NULL REFERENCES consultation_requests (id) ON DELETE CASCADE,
                    finding TEXT NOT NULL,
                    flagged_by TEXT NOT NULL,
                    flagged_by_name TEXT NOT NULL,
                    flagged_at \(int) NOT NULL,
                    channel TEXT NOT NULL,
                    acknowledged_by TEXT,
                    acknowledged_at \(int),
                    escalated_at \(int),
                    escalations \(int) NOT NULL DEFAULT 0
                )
                """,
                "CREATE INDEX critical_results_request ON critical_results (request_id)",
                """
                CREATE TABLE consultation_events (
                    id \(key),
                    request_id \(int) NOT NULL,
                    time \(int) NOT NULL,
                    kind TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    detail TEXT NOT NULL
                )
                """,
                "CREATE INDEX consultation_events_request ON consultation_events (request_id, time)",
                """
                CREATE TABLE reading_notifications (
                    id \(key),
                    institution_code TEXT,
                    recipient TEXT,
                    kind TEXT NOT NULL,
                    request_id \(int) NOT NULL,
                    created_at \(int) NOT NULL,
                    read_at \(int)
                )
                """,
                "CREATE INDEX reading_notifications_institution ON reading_notifications (institution_code, created_at)",
                "CREATE INDEX reading_notifications_recipient ON reading_notifications (recipient, created_at)",
                """
                CREATE TABLE reader_profiles (
                    username TEXT PRIMARY KEY,
                    can_sign \(int) NOT NULL,
                    senior \(int) NOT NULL,
                    service_lines TEXT NOT NULL
                )
                """,
            ] + appendOnly(flavour),
            [
                """
                CREATE TABLE peer_reviews (
                    id \(key),
                    report_id \(int) NOT NULL REFERENCES reports (id),
                    reader TEXT NOT NULL,
                    site TEXT NOT NULL,
                    reviewer TEXT NOT NULL,
                    score TEXT NOT NULL,
                    comment TEXT NOT NULL,
                    reviewed_at \(int) NOT NULL,
                    UNIQUE (report_id, reviewer)
                )
                """,
                "CREATE INDEX peer_reviews_reader ON peer_reviews (reader)",
            ],
            [
                // The attributes a UPS-RS create or update gave a work item (DICOM JSON), beyond what the request holds.
                """
                CREATE TABLE ups_attributes (
                    work_item_id \(int) PRIMARY KEY REFERENCES work_items (id) ON DELETE CASCADE,
                    dataset TEXT NOT NULL
                )
                """,
                // UPS subscriptions (PS3.4 CC.2.3): target is a work item's UID or one of the two well-known UIDs.
                """
                CREATE TABLE ups_subscriptions (
                    ae_title TEXT NOT NULL,
                    target TEXT NOT NULL,
                    deletion_lock \(int) NOT NULL,
                    filter TEXT NOT NULL,
                    created_at \(int) NOT NULL,
                    suspended_at \(int),
                    PRIMARY KEY (ae_title, target)
                )
                """,
                // Readers off duty get no e-mail about new requests.
                "ALTER TABLE reader_profiles ADD COLUMN on_duty \(int) NOT NULL DEFAULT 1",
                // E-mails written in the transaction of the change they tell of, sent by the mailer with retries.
                """
                CREATE TABLE mail_outbox (
                    id \(key),
                    recipient TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    request_id \(int) NOT NULL,
                    subject TEXT NOT NULL,
                    body TEXT NOT NULL,
                    attempts \(int) NOT NULL DEFAULT 0,
                    next_attempt_at \(int) NOT NULL,
                    sent_at \(int),
                    failed_at \(int),
                    last_error TEXT,
                    created_at \(int) NOT NULL
                )
                """,
                "CREATE INDEX mail_outbox_due ON mail_outbox (sent_at, failed_at, next_attempt_at)",
                // Automatic assignment and double reading (``AssignmentRule``), set by administrators.
                """
                CREATE TABLE assignment_rules (
                    id \(key),
                    service_line TEXT NOT NULL,
                    priority TEXT NOT NULL,
                    modality TEXT NOT NULL,
                    readers TEXT NOT NULL,
                    open_cap \(int) NOT NULL,
                    double_reading \(int) NOT NULL,
                    created_at \(int) NOT NULL
                )
                """,
                "CREATE INDEX work_items_assignee ON work_items (assignee, state)",
            ],
            // The worklist's order without a sort: each item carries its request's deadline (which never changes), and the
            // open items have an index in that order. Its condition is an expression, `(state || '')`, so that a query
            // written with the same expression (``ReadingStore/worklist(_:)``) can use no other index: SQLite without
            // statistics would otherwise take `work_items_state` and sort all 10,000 open items for a page of 50.
            // The counts per priority and state from one covering index, without the requests: each item also carries
            // its request's priority (kept in step by a UPS update) and service line.
            [
                "ALTER TABLE work_items ADD COLUMN deadline_at \(int) NOT NULL DEFAULT 0",
                "ALTER TABLE work_items ADD COLUMN priority TEXT NOT NULL DEFAULT 'routine'",
                "ALTER TABLE work_items ADD COLUMN service_line TEXT NOT NULL DEFAULT 'imaging'",
                """
                UPDATE work_items SET
                    deadline_at = (SELECT r.deadline_at FROM consultation_requests r WHERE r.id = work_items.request_id),
                    priority = (SELECT r.priority FROM consultation_requests r WHERE r.id = work_items.request_id),
                    service_line = (SELECT r.service_line FROM consultation_requests r WHERE r.id = work_items.request_id)
                """,
                "CREATE INDEX work_items_open ON work_items (deadline_at, id) WHERE \(openItems())",
                "CREATE INDEX work_items_counts ON work_items (state, priority, service_line)",
            ],
            [
                // Files attached to a request (``RequestAttachment``): the bytes as sent, capped in size.
                """
                CREATE TABLE consultation_attachments (
                    id \(key),
                    request_id \(int) NOT NULL REFERENCES consultation_requests (id) ON DELETE CASCADE,
                    filename TEXT NOT NULL,
                    content_type TEXT NOT NULL,
                    size_bytes \(int) NOT NULL,
                    sha256 TEXT NOT NULL,
                    content \(flavour == .sqlite ? "BLOB" : "BYTEA") NOT NULL,
                    sop_instance_uid TEXT,
                    series_instance_uid TEXT,
                    uploaded_by TEXT NOT NULL,
                    created_at \(int) NOT NULL
                )
                """,
                "CREATE INDEX consultation_attachments_request ON consultation_attachments (request_id)",
            ],
        ]
    }

    private static func appendOnly(_ flavour: PlatformSchema.Flavour) -> [String] {
        switch flavour {
        case .sqlite:
            return ["UPDATE", "DELETE"].map { operation in
                "CREATE TRIGGER report_versions_no_\(operation.lowercased()) BEFORE \(operation) ON report_versions "
                    + "BEGIN SELECT RAISE(ABORT, 'signed report versions never change'); END"
            }
        case .postgres:
            return [
                """
                CREATE FUNCTION atrium_report_versions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'signed report versions never change'; END $$
                """,
                "CREATE TRIGGER report_versions_append_only BEFORE UPDATE OR DELETE ON report_versions "
                    + "FOR EACH ROW EXECUTE FUNCTION atrium_report_versions_append_only()",
            ]
        }
    }
}
