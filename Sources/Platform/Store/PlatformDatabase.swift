import Archive
import Foundation
import Synchronization

/// The SQL the platform store runs, on the archive's own database: statements are written once with `?` placeholders and
/// `RETURNING`, which SQLite (3.35 and later) and PostgreSQL both understand; the PostgreSQL side numbers the placeholders.
package protocol PlatformDatabase: Sendable {
    /// Runs one statement and returns its rows.
    @discardableResult
    func query(_ sql: String, _ bindings: [SQLValue]) async throws(PlatformError) -> [[SQLValue]]
    /// Creates or migrates the platform's tables (numbered migrations, recorded in `platform_schema_version`).
    func migrate() async throws(PlatformError)
    /// Runs statements in one transaction: all or none.
    func transaction(_ statements: [(String, [SQLValue])]) async throws(PlatformError)
    /// Runs steps in one transaction and returns each step's rows; when a step marked `guarded` returns no row (an
    /// `UPDATE … WHERE revision = ? RETURNING …` that matched nothing because someone else changed the row first),
    /// everything is rolled back and the answer is nil: the caller lost a race and reports a conflict.
    func transaction(guarded steps: [SQLStep]) async throws(PlatformError) -> [[[SQLValue]]]?
    /// Like ``transaction(guarded:)``, then, in the same transaction, the steps `then` makes from the rows `steps`
    /// returned: rows that refer to a row made by `steps` (its generated id) are written with it, all or none, so that a
    /// process killed between them leaves neither.
    func transaction(guarded steps: [SQLStep], then: @Sendable ([[[SQLValue]]]) -> [SQLStep]) async throws(PlatformError)
        -> [[[SQLValue]]]?
    /// Creates or migrates a domain's own tables: `migrations` (for this back end's ``PlatformSchema/Flavour``) numbered from
    /// 1, the version recorded in `versionTable`; `lockKey` serialises concurrent migrators on PostgreSQL.
    func migrate(versionTable: String, lockKey: Int64, migrations: @Sendable (PlatformSchema.Flavour) -> [[String]])
        async throws(PlatformError)
}

/// One statement of a guarded transaction (``PlatformDatabase/transaction(guarded:)``).
package struct SQLStep: Sendable {
    package var sql: String
    package var bindings: [SQLValue]
    /// When true, the statement must return at least one row, else the transaction is rolled back.
    package var guarded: Bool

    package init(_ sql: String, _ bindings: [SQLValue] = [], guarded: Bool = false) {
        self.sql = sql
        self.bindings = bindings
        self.guarded = guarded
    }
}

/// The platform's tables in the archive's SQLite file: writes and transactions through one connection of their own
/// inside this actor (WAL lets it work beside the index's writer and readers; the busy timeout covers the moments both
/// write), and single `SELECT`s through a pool of reader connections outside it. With one connection for everything,
/// every worklist poll waited behind every other poll and behind each commit's fsync (issue 16's benchmark: 50 readers).
package actor SQLitePlatformDatabase: PlatformDatabase {
    private let connection: SQLiteConnection
    private nonisolated let readers: SQLiteReaderPool
    /// The `PRAGMA`s a store set through ``query(_:_:)`` (a domain's cache size): run on the writer, and on each reader
    /// before it reads, so that a store's settings hold whichever connection answers.
    private nonisolated let pragmas = Mutex<[String]>([])

    /// Opens `path` (the archive's `atrium.sqlite`).
    package init(path: String) throws(PlatformError) {
        readers = SQLiteReaderPool(path: path)
        let connection: SQLiteConnection
        do {
            connection = try SQLiteConnection(path: path)
            try connection.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL")
        } catch {
            throw .database("\(error)")
        }
        try Self.migrate(connection)
        self.connection = connection
    }

    @discardableResult
    package nonisolated func query(_ sql: String, _ bindings: [SQLValue]) async throws(PlatformError) -> [[SQLValue]] {
        if Self.starts(sql, with: "PRAGMA") { pragmas.withLock { if !$0.contains(sql) { $0.append(sql) } } }
        guard Self.starts(sql, with: "SELECT") else { return try await write(sql, bindings) }
        do throws(ArchiveError) {
            let reader = try await readers.checkOut()
            defer { readers.checkIn(reader) }
            for pragma in pragmas.withLock({ $0 }) { try reader.execute(pragma) }
            return try reader.query(sql, bindings)
        } catch {
            throw Self.mapped(error)
        }
    }

    /// Whether `sql` starts with `keyword` (upper or lower case) after blanks. A `SELECT` only reads (SQLite refuses
    /// writes in one; `RETURNING` belongs to writes).
    static func starts(_ sql: String, with keyword: String) -> Bool {
        let head = sql.utf8.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") }.prefix(keyword.utf8.count)
        return head.elementsEqual(keyword.utf8) || head.elementsEqual(keyword.lowercased().utf8)
    }

    private func write(_ sql: String, _ bindings: [SQLValue]) throws(PlatformError) -> [[SQLValue]] {
        do {
            return try connection.query(sql, bindings)
        } catch {
            throw Self.mapped(error)
        }
    }

    package func transaction(_ statements: [(String, [SQLValue])]) throws(PlatformError) {
        do throws(ArchiveError) {
            try connection.execute("BEGIN IMMEDIATE")
            do throws(ArchiveError) {
                for (sql, bindings) in statements { try connection.query(sql, bindings) }
                try connection.execute("COMMIT")
            } catch {
                try? connection.execute("ROLLBACK")
                throw error
            }
        } catch {
            throw Self.mapped(error)
        }
    }

    package func transaction(guarded steps: [SQLStep]) throws(PlatformError) -> [[[SQLValue]]]? {
        try transaction(guarded: steps, then: { _ in [] })
    }

    package func transaction(guarded steps: [SQLStep], then: @Sendable ([[[SQLValue]]]) -> [SQLStep]) throws(PlatformError)
        -> [[[SQLValue]]]?
    {
        do throws(ArchiveError) {
            try connection.execute("BEGIN IMMEDIATE")
            var results: [[[SQLValue]]] = []
            do throws(ArchiveError) {
                for step in steps {
                    let rows = try connection.query(step.sql, step.bindings)
                    if step.guarded && rows.isEmpty {
                        try connection.execute("ROLLBACK")
                        return nil
                    }
                    results.append(rows)
                }
                for step in then(results) {
                    let rows = try connection.query(step.sql, step.bindings)
                    if step.guarded && rows.isEmpty {
                        try connection.execute("ROLLBACK")
                        return nil
                    }
                    results.append(rows)
                }
                try connection.execute("COMMIT")
            } catch {
                try? connection.execute("ROLLBACK")
                throw error
            }
            return results
        } catch {
            throw Self.mapped(error)
        }
    }

    package func migrate(versionTable: String, lockKey: Int64, migrations: @Sendable (PlatformSchema.Flavour) -> [[String]])
        throws(PlatformError)
    {
        do throws(ArchiveError) {
            try connection.execute("CREATE TABLE IF NOT EXISTS \(versionTable) (version INTEGER NOT NULL)")
            try connection.execute("BEGIN IMMEDIATE")
            do throws(ArchiveError) {
                let rows = try connection.query("SELECT version FROM \(versionTable)")
                var version = Int(rows.first?.first?.integer ?? 0)
                if rows.isEmpty { try connection.query("INSERT INTO \(versionTable) (version) VALUES (0)") }
                let steps = migrations(.sqlite)
                while version < steps.count {
                    for statement in steps[version] { try connection.execute(statement) }
                    version += 1
                    try connection.query("UPDATE \(versionTable) SET version = ?", [.integer(Int64(version))])
                }
                try connection.execute("COMMIT")
            } catch {
                try? connection.execute("ROLLBACK")
                throw error
            }
        } catch {
            throw .database("migrate \(versionTable): \(error)")
        }
    }

    /// Migrated when opened.
    package func migrate() {}

    private static func migrate(_ connection: SQLiteConnection) throws(PlatformError) {
        do {
            try connection.execute("CREATE TABLE IF NOT EXISTS platform_schema_version (version INTEGER NOT NULL)")
            try connection.execute("BEGIN IMMEDIATE")
            do throws(ArchiveError) {
                let rows = try connection.query("SELECT version FROM platform_schema_version")
                var version = Int(rows.first?.first?.integer ?? 0)
                if rows.isEmpty { try connection.query("INSERT INTO platform_schema_version (version) VALUES (0)") }
                let migrations = PlatformSchema.migrations(.sqlite)
                while version < migrations.count {
                    for statement in migrations[version] { try connection.execute(statement) }
                    version += 1
                    try connection.query("UPDATE platform_schema_version SET version = ?", [.integer(Int64(version))])
                }
                try connection.execute("COMMIT")
            } catch {
                try? connection.execute("ROLLBACK")
                throw error
            }
        } catch {
            throw .database("migrate: \(error)")
        }
    }

    static func mapped(_ error: ArchiveError) -> PlatformError {
        let text = "\(error)"
        if text.contains("UNIQUE constraint") { return .invalid("already exists (\(text))") }
        return .database(text)
    }
}

/// The platform's tables in the archive's PostgreSQL database, on the index's connection pool.
package final class PostgresPlatformDatabase: PlatformDatabase {
    let index: PostgresIndex
    private let migrated = Mutex(false)

    package init(index: PostgresIndex) { self.index = index }

    @discardableResult
    package func query(_ sql: String, _ bindings: [SQLValue]) async throws(PlatformError) -> [[SQLValue]] {
        let numbered = Self.numbered(sql)
        try await migrate()
        do {
            return try await index.withSession { session throws(ArchiveError) in try await session.query(numbered, bindings) }
        } catch {
            let text = "\(error)"
            if text.contains("23505") { throw .invalid("already exists (\(text))") }
            throw .database(text)
        }
    }

    package func transaction(_ statements: [(String, [SQLValue])]) async throws(PlatformError) {
        try await migrate()
        do {
            try await index.withSession { session throws(ArchiveError) in
                try await session.transaction { () async throws(ArchiveError) in
                    for (sql, bindings) in statements { try await session.query(Self.numbered(sql), bindings) }
                }
            }
        } catch {
            throw .database("\(error)")
        }
    }

    package func transaction(guarded steps: [SQLStep]) async throws(PlatformError) -> [[[SQLValue]]]? {
        try await transaction(guarded: steps, then: { _ in [] })
    }

    package func transaction(guarded steps: [SQLStep], then: @Sendable ([[[SQLValue]]]) -> [SQLStep]) async throws(PlatformError)
        -> [[[SQLValue]]]?
    {
        try await migrate()
        let lost = "atrium: a guarded step matched no row"
        do {
            return try await index.withSession { session throws(ArchiveError) in
                try await session.transaction { () async throws(ArchiveError) -> [[[SQLValue]]] in
                    var results: [[[SQLValue]]] = []
                    for step in steps {
                        let rows = try await session.query(Self.numbered(step.sql), step.bindings)
                        if step.guarded && rows.isEmpty { throw ArchiveError.database(operation: "guard", code: -1, message: lost) }
                        results.append(rows)
                    }
                    for step in then(results) {
                        let rows = try await session.query(Self.numbered(step.sql), step.bindings)
                        if step.guarded && rows.isEmpty { throw ArchiveError.database(operation: "guard", code: -1, message: lost) }
                        results.append(rows)
                    }
                    return results
                }
            }
        } catch {
            if case .database(let operation, _, let message) = error, operation == "guard", message == lost { return nil }
            let text = "\(error)"
            if text.contains("23505") { throw .invalid("already exists (\(text))") }
            throw .database(text)
        }
    }

    package func migrate(versionTable: String, lockKey: Int64, migrations: @Sendable (PlatformSchema.Flavour) -> [[String]])
        async throws(PlatformError)
    {
        try await migrate()
        do {
            try await index.withSession { session throws(ArchiveError) in
                try await session.transaction { () async throws(ArchiveError) in
                    try await session.query("SELECT pg_advisory_xact_lock($1)", [.integer(lockKey)])
                    try await session.query("CREATE TABLE IF NOT EXISTS \(versionTable) (version BIGINT NOT NULL)")
                    let rows = try await session.query("SELECT version FROM \(versionTable)")
                    var version = Int(rows.first?.first?.integer ?? 0)
                    if rows.isEmpty { try await session.query("INSERT INTO \(versionTable) (version) VALUES (0)") }
                    let steps = migrations(.postgres)
                    while version < steps.count {
                        for statement in steps[version] { try await session.query(statement) }
                        version += 1
                        try await session.query("UPDATE \(versionTable) SET version = $1", [.integer(Int64(version))])
                    }
                }
            }
        } catch {
            throw .database("migrate \(versionTable): \(error)")
        }
    }

    package func migrate() async throws(PlatformError) {
        if migrated.withLock({ $0 }) { return }
        do {
            try await index.withSession { session throws(ArchiveError) in
                try await session.transaction { () async throws(ArchiveError) in
                    try await session.query("SELECT pg_advisory_xact_lock($1)", [.integer(0x4154_504C_4154)])
                    try await session.query("CREATE TABLE IF NOT EXISTS platform_schema_version (version BIGINT NOT NULL)")
                    let rows = try await session.query("SELECT version FROM platform_schema_version")
                    var version = Int(rows.first?.first?.integer ?? 0)
                    if rows.isEmpty { try await session.query("INSERT INTO platform_schema_version (version) VALUES (0)") }
                    let migrations = PlatformSchema.migrations(.postgres)
                    while version < migrations.count {
                        for statement in migrations[version] { try await session.query(statement) }
                        version += 1
                        try await session.query("UPDATE platform_schema_version SET version = $1", [.integer(Int64(version))])
                    }
                }
            }
            migrated.withLock { $0 = true }
        } catch {
            throw .database("migrate: \(error)")
        }
    }

    /// `?` placeholders as `$1`, `$2`… (the statements here hold no `?` inside literals).
    static func numbered(_ sql: String) -> String {
        var out = ""
        var n = 0
        for c in sql {
            if c == "?" {
                n += 1
                out += "$\(n)"
            } else {
                out.append(c)
            }
        }
        return out
    }
}

/// The platform's schema, as numbered migrations for each back end.
package enum PlatformSchema {
    /// The SQL dialect a migration is written for.
    package enum Flavour: Sendable { case sqlite, postgres }

    static func migrations(_ flavour: Flavour) -> [[String]] {
        let key = flavour == .sqlite ? "INTEGER PRIMARY KEY" : "BIGSERIAL PRIMARY KEY"
        let int = flavour == .sqlite ? "INTEGER" : "BIGINT"
        return [
            [
                """
                CREATE TABLE institutions (
                    id \(key),
                    code TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    kind TEXT NOT NULL
                )
                """,
                """
                CREATE TABLE people (
                    id \(key),
                    username TEXT NOT NULL UNIQUE,
                    display_name TEXT NOT NULL,
                    institution_id \(int) REFERENCES institutions (id),
                    roles TEXT NOT NULL,
                    language TEXT NOT NULL,
                    disabled \(int) NOT NULL DEFAULT 0,
                    password_hash TEXT NOT NULL,
                    failed_attempts \(int) NOT NULL DEFAULT 0,
                    locked_until \(int),
                    created_at \(int) NOT NULL
                )
                """,
                """
                CREATE TABLE sessions (
                    id \(key),
                    id_hash TEXT NOT NULL UNIQUE,
                    person_id \(int) NOT NULL REFERENCES people (id) ON DELETE CASCADE,
                    csrf_token TEXT NOT NULL,
                    created_at \(int) NOT NULL,
                    last_seen_at \(int) NOT NULL,
                    source TEXT NOT NULL
                )
                """,
                "CREATE INDEX sessions_person ON sessions (person_id)",
                """
                CREATE TABLE api_tokens (
                    id \(key),
                    token_hash TEXT NOT NULL UNIQUE,
                    person_id \(int) NOT NULL REFERENCES people (id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    scopes TEXT NOT NULL,
                    created_at \(int) NOT NULL,
                    expires_at \(int),
                    revoked_at \(int),
                    last_used_at \(int)
                )
                """,
                "CREATE INDEX api_tokens_person ON api_tokens (person_id)",
                """
                CREATE TABLE audit_events (
                    id \(key),
                    time \(int) NOT NULL,
                    event_code TEXT NOT NULL,
                    event_scheme TEXT NOT NULL,
                    event_meaning TEXT NOT NULL,
                    type_code TEXT NOT NULL,
                    type_scheme TEXT NOT NULL,
                    type_meaning TEXT NOT NULL,
                    action TEXT NOT NULL,
                    outcome \(int) NOT NULL,
                    username TEXT NOT NULL,
                    source_address TEXT NOT NULL,
                    transport TEXT NOT NULL,
                    participants TEXT NOT NULL,
                    participant_ids TEXT NOT NULL,
                    detail TEXT NOT NULL
                )
                """,
                "CREATE INDEX audit_events_time ON audit_events (time)",
                "CREATE INDEX audit_events_user ON audit_events (username, time)",
                "CREATE INDEX audit_events_code ON audit_events (event_code, time)",
                """
                CREATE TABLE peer_institutions (
                    ae_title TEXT PRIMARY KEY,
                    institution_id \(int) NOT NULL REFERENCES institutions (id) ON DELETE CASCADE
                )
                """,
            ] + appendOnly(flavour),
            // Demonstration accounts and institutions (`atrium serve --demo`), and the demo steps a data folder has had.
            [
                "ALTER TABLE people ADD COLUMN demo \(int) NOT NULL DEFAULT 0",
                "ALTER TABLE institutions ADD COLUMN demo \(int) NOT NULL DEFAULT 0",
                "CREATE TABLE demo_steps (name TEXT PRIMARY KEY, applied_at \(int) NOT NULL)",
            ],
            // An optional e-mail address per person, for the notifications the workflows send by SMTP.
            ["ALTER TABLE people ADD COLUMN email TEXT NOT NULL DEFAULT ''"],
        ]
    }

    /// Triggers that refuse UPDATE and DELETE on the audit tables: the trail is append-only in the database itself.
    private static func appendOnly(_ flavour: Flavour) -> [String] {
        switch flavour {
        case .sqlite:
            return ["audit_events"].flatMap { table in
                ["UPDATE", "DELETE"].map { operation in
                    "CREATE TRIGGER \(table)_no_\(operation.lowercased()) BEFORE \(operation) ON \(table) "
                        + "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
                }
            }
        case .postgres:
            return [
                """
                CREATE FUNCTION atrium_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$
                """,
                "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
                    + "FOR EACH ROW EXECUTE FUNCTION atrium_audit_append_only()",
            ]
        }
    }
}
