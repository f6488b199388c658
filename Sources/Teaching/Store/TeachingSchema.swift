import Platform

/// The library's tables, numbered migrations recorded in `teaching_schema_version`.
enum TeachingSchema {
    static let versionTable = "teaching_schema_version"
    /// Serialises migrators on PostgreSQL ("ATTEACH" in ASCII).
    static let lockKey: Int64 = 0x4154_5445_4143_48

    @Sendable static func migrations(_ flavour: PlatformSchema.Flavour) -> [[String]] {
        let key = flavour == .sqlite ? "INTEGER PRIMARY KEY" : "BIGSERIAL PRIMARY KEY"
        let int = flavour == .sqlite ? "INTEGER" : "BIGINT"
        let search: [String] =
            switch flavour {
            case .sqlite:
                // rowid = case id × 2 + (1 for the published scope): one row per case and scope, replaced by rowid.
                [
                    "CREATE VIRTUAL TABLE teaching_search USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2')"
                ]
            case .postgres:
                [
                    """
                    CREATE TABLE teaching_search (
                        case_id BIGINT NOT NULL REFERENCES teaching_cases (id) ON DELETE CASCADE,
                        scope TEXT NOT NULL,
                        terms TSVECTOR NOT NULL,
                        title_terms TSVECTOR NOT NULL,
                        PRIMARY KEY (case_id, scope)
                    )
                    """,
                    "CREATE INDEX teaching_search_terms ON teaching_search USING GIN (terms)",
                ]
            }
        return [
            [
                """
                CREATE TABLE teaching_cases (
                    id \(key),
                    status TEXT NOT NULL,
                    version \(int) NOT NULL,
                    content TEXT NOT NULL,
                    published_version \(int),
                    authors TEXT NOT NULL,
                    institution TEXT NOT NULL,
                    source TEXT NOT NULL,
                    source_key TEXT UNIQUE,
                    completeness \(int) NOT NULL,
                    created_at \(int) NOT NULL,
                    updated_at \(int) NOT NULL,
                    revision \(int) NOT NULL DEFAULT 0
                )
                """,
                """
                CREATE TABLE teaching_case_versions (
                    case_id \(int) NOT NULL REFERENCES teaching_cases (id) ON DELETE CASCADE,
                    version \(int) NOT NULL,
                    content TEXT NOT NULL,
                    author TEXT NOT NULL,
                    note TEXT NOT NULL,
                    created_at \(int) NOT NULL,
                    PRIMARY KEY (case_id, version)
                )
                """,
                // What each scope holds: `latest` (curators) and `published` (students), with the sort keys and the
                // single-valued facets (counted from the matches alone, without a join).
                """
                CREATE TABLE teaching_index (
                    case_id \(int) NOT NULL REFERENCES teaching_cases (id) ON DELETE CASCADE,
                    scope TEXT NOT NULL,
                    title TEXT NOT NULL,
                    difficulty \(int) NOT NULL,
                    updated_at \(int) NOT NULL,
                    body_region TEXT NOT NULL,
                    organ_system TEXT NOT NULL,
                    pathology_category TEXT NOT NULL,
                    audience TEXT NOT NULL,
                    certainty TEXT NOT NULL,
                    PRIMARY KEY (scope, case_id)
                )\(flavour == .sqlite ? " WITHOUT ROWID" : "")
                """,
                "CREATE INDEX teaching_index_updated ON teaching_index (scope, updated_at)",
                """
                CREATE TABLE teaching_case_tags (
                    case_id \(int) NOT NULL REFERENCES teaching_cases (id) ON DELETE CASCADE,
                    scope TEXT NOT NULL,
                    facet TEXT NOT NULL,
                    value TEXT NOT NULL
                )
                """,
                // Filters look values up (facet first); facet counts join on the case (never by scope alone, which the
                // SQLite planner would otherwise pick and scan).
                "CREATE INDEX teaching_case_tags_value ON teaching_case_tags (facet, value, scope, case_id)",
                "CREATE INDEX teaching_case_tags_case ON teaching_case_tags (case_id, scope)",
                """
                CREATE TABLE teaching_curriculum (
                    code TEXT PRIMARY KEY,
                    title_zh TEXT NOT NULL,
                    title_en TEXT NOT NULL,
                    parent TEXT NOT NULL
                )
                """,
            ] + search,
            // When each case was first published, for the programme's "cases published" indicator (a later retire and
            // re-publish keeps the first time).
            ["ALTER TABLE teaching_cases ADD COLUMN first_published_at \(int)"],
            flagged(flavour),
            sharing(flavour),
            // Migration 5: case pages opened by signed-in people, for the library-use indicators.
            [
                """
                CREATE TABLE teaching_case_views (
                    id \(key),
                    case_id \(int) NOT NULL,
                    person TEXT NOT NULL,
                    institution TEXT NOT NULL,
                    viewed_at \(int) NOT NULL
                )
                """,
                "CREATE INDEX teaching_case_views_time ON teaching_case_views (viewed_at)",
            ],
        ]
    }

    /// Migration 3: the curators' queue of flagged cases, the teaching copies of images, the administrators' link to the
    /// originals, and the server's de-identification secret.
    static func flagged(_ flavour: PlatformSchema.Flavour) -> [String] {
        let key = flavour == .sqlite ? "INTEGER PRIMARY KEY" : "BIGSERIAL PRIMARY KEY"
        let int = flavour == .sqlite ? "INTEGER" : "BIGINT"
        let bytes = flavour == .sqlite ? "BLOB" : "BYTEA"
        return [
            """
            CREATE TABLE teaching_flagged (
                id \(key),
                kind TEXT NOT NULL,
                source_key TEXT NOT NULL UNIQUE,
                study_uid TEXT NOT NULL,
                refs TEXT NOT NULL,
                note TEXT NOT NULL,
                flagged_by TEXT NOT NULL,
                institution TEXT NOT NULL,
                masks TEXT NOT NULL,
                case_id \(int),
                created_at \(int) NOT NULL,
                revision \(int) NOT NULL DEFAULT 0
            )
            """,
            // Every KO instance of the archive looked at once (teaching or not), so a queue refresh reads only new ones.
            "CREATE TABLE teaching_kos_seen (sop_uid TEXT PRIMARY KEY, seen_at \(int) NOT NULL)",
            """
            CREATE TABLE teaching_images (
                case_id \(int) NOT NULL REFERENCES teaching_cases (id) ON DELETE CASCADE,
                sop_uid TEXT NOT NULL,
                study_uid TEXT NOT NULL,
                series_uid TEXT NOT NULL,
                modality TEXT NOT NULL,
                position \(int) NOT NULL,
                bytes \(bytes) NOT NULL,
                PRIMARY KEY (case_id, sop_uid)
            )
            """,
            """
            CREATE TABLE teaching_origins (
                case_id \(int) PRIMARY KEY REFERENCES teaching_cases (id) ON DELETE CASCADE,
                source_key TEXT NOT NULL,
                study_uid TEXT NOT NULL,
                uid_map TEXT NOT NULL,
                created_at \(int) NOT NULL
            )
            """,
            "CREATE TABLE teaching_secret (id \(int) PRIMARY KEY, secret \(bytes) NOT NULL)",
        ]
    }

    /// Migration 4: collections (ordered playlists of cases) and share links (stored as the SHA-256 of their token).
    static func sharing(_ flavour: PlatformSchema.Flavour) -> [String] {
        let key = flavour == .sqlite ? "INTEGER PRIMARY KEY" : "BIGSERIAL PRIMARY KEY"
        let int = flavour == .sqlite ? "INTEGER" : "BIGINT"
        return [
            """
            CREATE TABLE teaching_collections (
                id \(key),
                title TEXT NOT NULL,
                description TEXT NOT NULL,
                owner TEXT NOT NULL,
                created_at \(int) NOT NULL,
                updated_at \(int) NOT NULL,
                revision \(int) NOT NULL DEFAULT 0
            )
            """,
            """
            CREATE TABLE teaching_collection_cases (
                collection_id \(int) NOT NULL REFERENCES teaching_collections (id) ON DELETE CASCADE,
                position \(int) NOT NULL,
                case_id \(int) NOT NULL REFERENCES teaching_cases (id) ON DELETE CASCADE,
                PRIMARY KEY (collection_id, position)
            )
            """,
            """
            CREATE TABLE teaching_share_links (
                id \(key),
                token_hash TEXT NOT NULL UNIQUE,
                target_kind TEXT NOT NULL,
                target_id \(int) NOT NULL,
                scope TEXT NOT NULL,
                expires_at \(int) NOT NULL,
                created_by TEXT NOT NULL,
                created_at \(int) NOT NULL,
                revoked_at \(int)
            )
            """,
            "CREATE INDEX teaching_share_links_target ON teaching_share_links (target_kind, target_id)",
        ]
    }
}
