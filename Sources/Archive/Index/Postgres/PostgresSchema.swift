/// The index schema in PostgreSQL: the same tables, columns, indexes and numbered migrations as ``SQLiteSchema``,
/// with PostgreSQL's types (BIGSERIAL, BIGINT, BYTEA). `schema_version` holds how many migrations have run.
enum PostgresSchema {
    /// Each migration as its statements (the extended protocol takes one statement at a time).
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE patients (
                pk BIGSERIAL PRIMARY KEY,
                patient_id TEXT NOT NULL,
                issuer TEXT NOT NULL,
                name TEXT NOT NULL,
                name_search TEXT NOT NULL,
                birth_date TEXT NOT NULL,
                sex TEXT NOT NULL,
                attributes BYTEA NOT NULL,
                UNIQUE (patient_id, issuer)
            )
            """,
            "CREATE INDEX patients_name_search ON patients (name_search text_pattern_ops)",
            "CREATE INDEX patients_birth_date ON patients (birth_date)",
            """
            CREATE TABLE studies (
                pk BIGSERIAL PRIMARY KEY,
                patient_pk BIGINT NOT NULL REFERENCES patients (pk) ON DELETE CASCADE,
                study_uid TEXT NOT NULL UNIQUE,
                study_date TEXT NOT NULL,
                study_time TEXT NOT NULL,
                accession TEXT NOT NULL,
                study_id TEXT NOT NULL,
                referring_search TEXT NOT NULL,
                attributes BYTEA NOT NULL
            )
            """,
            "CREATE INDEX studies_patient ON studies (patient_pk)",
            "CREATE INDEX studies_date ON studies (study_date)",
            "CREATE INDEX studies_accession ON studies (accession)",
            """
            CREATE TABLE series (
                pk BIGSERIAL PRIMARY KEY,
                study_pk BIGINT NOT NULL REFERENCES studies (pk) ON DELETE CASCADE,
                series_uid TEXT NOT NULL UNIQUE,
                modality TEXT NOT NULL,
                series_number TEXT NOT NULL,
                attributes BYTEA NOT NULL
            )
            """,
            "CREATE INDEX series_study ON series (study_pk, modality)",
            "CREATE INDEX series_modality ON series (modality)",
            """
            CREATE TABLE instances (
                pk BIGSERIAL PRIMARY KEY,
                series_pk BIGINT NOT NULL REFERENCES series (pk) ON DELETE CASCADE,
                sop_uid TEXT NOT NULL UNIQUE,
                sop_class TEXT NOT NULL,
                instance_number TEXT NOT NULL,
                transfer_syntax TEXT NOT NULL,
                blob_key TEXT NOT NULL UNIQUE,
                size_bytes BIGINT NOT NULL,
                stored_at TEXT NOT NULL,
                source_aet TEXT NOT NULL,
                source_institution TEXT NOT NULL,
                attributes BYTEA NOT NULL
            )
            """,
            "CREATE INDEX instances_series ON instances (series_pk)",
            "CREATE INDEX instances_sop_class ON instances (sop_class)",
            """
            CREATE TABLE patient_conflicts (
                pk BIGSERIAL PRIMARY KEY,
                patient_pk BIGINT REFERENCES patients (pk) ON DELETE SET NULL,
                patient_id TEXT NOT NULL,
                issuer TEXT NOT NULL,
                stored_name TEXT NOT NULL,
                stored_birth_date TEXT NOT NULL,
                incoming_name TEXT NOT NULL,
                incoming_birth_date TEXT NOT NULL,
                sop_uid TEXT NOT NULL,
                source_aet TEXT NOT NULL,
                source_institution TEXT NOT NULL,
                recorded_at TEXT NOT NULL
            )
            """,
        ],
        [
            "ALTER TABLE studies ADD COLUMN institution TEXT NOT NULL DEFAULT ''",
            """
            UPDATE studies SET institution = COALESCE((SELECT i.source_institution FROM instances i JOIN series se
                ON se.pk = i.series_pk WHERE se.study_pk = studies.pk ORDER BY i.pk LIMIT 1), '')
            """,
            "CREATE INDEX studies_institution ON studies (institution)",
        ],
        [
            """
            CREATE TABLE slide_instances (
                instance_pk BIGINT PRIMARY KEY REFERENCES instances (pk) ON DELETE CASCADE,
                series_pk BIGINT NOT NULL REFERENCES series (pk) ON DELETE CASCADE,
                image_type TEXT NOT NULL,
                total_columns BIGINT NOT NULL,
                total_rows BIGINT NOT NULL,
                description BYTEA NOT NULL,
                frame_positions BYTEA NOT NULL,
                frame_ranges BYTEA NOT NULL
            )
            """,
            "CREATE INDEX slide_instances_series ON slide_instances (series_pk)",
        ],
    ]

    /// The advisory lock key that serialises migrations between processes sharing the database.
    static let migrationLock: Int64 = 0x4154_5249_554D

    /// Brings the database to the newest version, in one transaction under an advisory lock.
    static func migrate(_ session: PostgresSession) async throws(ArchiveError) {
        try await session.transaction { () async throws(ArchiveError) in
            try await session.query("SELECT pg_advisory_xact_lock($1)", [.integer(migrationLock)])
            try await session.query("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
            let rows = try await session.query("SELECT version FROM schema_version")
            var version = Int(rows.first?.first?.integer ?? 0)
            if rows.isEmpty { try await session.query("INSERT INTO schema_version (version) VALUES (0)") }
            if version > migrations.count {
                throw ArchiveError.unsupportedSchemaVersion(found: version, supported: migrations.count)
            }
            while version < migrations.count {
                for statement in migrations[version] { try await session.query(statement) }
                version += 1
                try await session.query("UPDATE schema_version SET version = $1", [.integer(Int64(version))])
            }
        }
    }
}
