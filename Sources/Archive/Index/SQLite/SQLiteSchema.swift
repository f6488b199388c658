/// The index schema as numbered migrations; `schema_version` holds how many have been applied. PostgreSQL keeps
/// the same tables and columns, with its own types (BIGSERIAL, BYTEA).
enum SQLiteSchema {
    static let migrations: [String] = [
        """
        CREATE TABLE patients (
            pk INTEGER PRIMARY KEY,
            patient_id TEXT NOT NULL,
            issuer TEXT NOT NULL,
            name TEXT NOT NULL,
            name_search TEXT NOT NULL,
            birth_date TEXT NOT NULL,
            sex TEXT NOT NULL,
            attributes BLOB NOT NULL,
            UNIQUE (patient_id, issuer)
        );
        CREATE INDEX patients_name_search ON patients (name_search);
        CREATE INDEX patients_birth_date ON patients (birth_date);
        CREATE TABLE studies (
            pk INTEGER PRIMARY KEY,
            patient_pk INTEGER NOT NULL REFERENCES patients (pk) ON DELETE CASCADE,
            study_uid TEXT NOT NULL UNIQUE,
            study_date TEXT NOT NULL,
            study_time TEXT NOT NULL,
            accession TEXT NOT NULL,
            study_id TEXT NOT NULL,
            referring_search TEXT NOT NULL,
            attributes BLOB NOT NULL
        );
        CREATE INDEX studies_patient ON studies (patient_pk);
        CREATE INDEX studies_date ON studies (study_date);
        CREATE INDEX studies_accession ON studies (accession);
        CREATE TABLE series (
            pk INTEGER PRIMARY KEY,
            study_pk INTEGER NOT NULL REFERENCES studies (pk) ON DELETE CASCADE,
            series_uid TEXT NOT NULL UNIQUE,
            modality TEXT NOT NULL,
            series_number TEXT NOT NULL,
            attributes BLOB NOT NULL
        );
        CREATE INDEX series_study ON series (study_pk, modality);
        CREATE INDEX series_modality ON series (modality);
        CREATE TABLE instances (
            pk INTEGER PRIMARY KEY,
            series_pk INTEGER NOT NULL REFERENCES series (pk) ON DELETE CASCADE,
            sop_uid TEXT NOT NULL UNIQUE,
            sop_class TEXT NOT NULL,
            instance_number TEXT NOT NULL,
            transfer_syntax TEXT NOT NULL,
            blob_key TEXT NOT NULL UNIQUE,
            size_bytes INTEGER NOT NULL,
            stored_at TEXT NOT NULL,
            source_aet TEXT NOT NULL,
            source_institution TEXT NOT NULL,
            attributes BLOB NOT NULL
        );
        CREATE INDEX instances_series ON instances (series_pk);
        CREATE INDEX instances_sop_class ON instances (sop_class);
        CREATE TABLE patient_conflicts (
            pk INTEGER PRIMARY KEY,
            patient_pk INTEGER REFERENCES patients (pk) ON DELETE SET NULL,
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
        );
        """,
        // The institution a study belongs to (the source institution of its first instance), for authorization.
        """
        ALTER TABLE studies ADD COLUMN institution TEXT NOT NULL DEFAULT '';
        UPDATE studies SET institution = COALESCE((SELECT i.source_institution FROM instances i JOIN series se
            ON se.pk = i.series_pk WHERE se.study_pk = studies.pk ORDER BY i.pk LIMIT 1), '');
        CREATE INDEX studies_institution ON studies (institution);
        """,
        // The pyramid of each whole-slide image (VL WSM, PS3.3 A.32.8): one row per instance with its geometry as JSON
        // (``SlideDescription``), the tile positions of TILED_SPARSE frames and each frame's byte ranges in the blob.
        """
        CREATE TABLE slide_instances (
            instance_pk INTEGER PRIMARY KEY REFERENCES instances (pk) ON DELETE CASCADE,
            series_pk INTEGER NOT NULL REFERENCES series (pk) ON DELETE CASCADE,
            image_type TEXT NOT NULL,
            total_columns INTEGER NOT NULL,
            total_rows INTEGER NOT NULL,
            description BLOB NOT NULL,
            frame_positions BLOB NOT NULL,
            frame_ranges BLOB NOT NULL
        );
        CREATE INDEX slide_instances_series ON slide_instances (series_pk);
        """,
    ]

    /// The blob log's state (``IndexDurability/recoverFromBlobs``): one row with the time up to which the index is
    /// synced and whether the last writer stopped cleanly, and the tombstones of recently deleted blobs. Operational
    /// state of this SQLite file, not part of the index schema that PostgreSQL shares, so not a numbered migration.
    static func prepareBlobLog(_ connection: SQLiteConnection) throws(ArchiveError) {
        try connection.execute(
            """
            CREATE TABLE IF NOT EXISTS blob_log_state (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                synced_through_ms INTEGER NOT NULL,
                clean INTEGER NOT NULL
            );
            INSERT OR IGNORE INTO blob_log_state (id, synced_through_ms, clean) VALUES (1, 0, 1);
            CREATE TABLE IF NOT EXISTS deleted_blobs (blob_key TEXT PRIMARY KEY, deleted_at_ms INTEGER NOT NULL);
            """)
    }

    /// Brings the database to the newest version, one migration per transaction.
    static func migrate(_ connection: SQLiteConnection) throws(ArchiveError) {
        try connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        try connection.execute("BEGIN IMMEDIATE")
        do throws(ArchiveError) {
            let rows = try connection.query("SELECT version FROM schema_version")
            var version = Int(rows.first?.first?.integer ?? 0)
            if rows.isEmpty { try connection.query("INSERT INTO schema_version (version) VALUES (0)") }
            if version > migrations.count {
                throw ArchiveError.unsupportedSchemaVersion(found: version, supported: migrations.count)
            }
            while version < migrations.count {
                try connection.execute(migrations[version])
                version += 1
                try connection.query("UPDATE schema_version SET version = ?", [.integer(Int64(version))])
            }
            try connection.execute("COMMIT")
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }
}
