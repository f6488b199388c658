import Archive
import Foundation
import Synchronization

/// What several `atrium serve` processes on one PostgreSQL database share beyond their rows: events between processes
/// (`LISTEN`/`NOTIFY`), work that must run in one process at a time (advisory locks), and counters (a table). There is
/// no coordinator of our own: PostgreSQL is the only thing the processes talk to. On the embedded SQLite index there is
/// one process, and ``IdentityStore/cluster`` is nil: callers keep their in-process paths.
public final class ProcessCluster: Sendable {
    let index: PostgresIndex
    let database: any PlatformDatabase
    private let migrated = Mutex(false)

    init(index: PostgresIndex, database: any PlatformDatabase) {
        self.index = index
        self.database = database
    }

    /// This process's id in the events it sends.
    public var origin: String { index.events.origin }

    /// Sends `body` under `topic` to the other processes (``PostgresEvents/publish(topic:body:)``).
    @discardableResult
    public func publish(topic: String, body: String) async -> Bool { await index.events.publish(topic: topic, body: body) }

    /// What the other processes publish under `topic` from now on.
    public func subscribe(topic: String) -> AsyncStream<String> { index.events.subscribe(topic: topic) }

    /// Starts listening now, so that events sent from now on arrive (the first ``subscribe(topic:)`` does it too).
    public func startListening() async { await index.events.startListening() }

    /// Whether this process's `LISTEN` connection is up.
    public var isListening: Bool { index.events.isListening }

    /// Runs `body` unless another process runs a body under the same key now; returns whether it ran.
    public func exclusively(key: Int64, _ body: @Sendable () async -> Void) async throws(PlatformError) -> Bool {
        do {
            return try await index.exclusively(key: key, body)
        } catch {
            throw .database("\(error)")
        }
    }

    /// Counts one attempt for `key` in a shared table (one upsert; a window of `windowSeconds` per key, begun by the
    /// first attempt after the last window ended) and returns the count in the window and when it started (Unix seconds,
    /// the database's clock, so that processes on several machines agree). Windows over a day old are purged now and then.
    public func countAttempt(_ key: String, windowSeconds: Int64) async throws(PlatformError) -> (
        count: Int64, start: Int64, now: Int64
    ) {
        try await prepare()
        let rows = try await database.query(
            """
            INSERT INTO cluster_rate_windows (key, window_start, count)
            VALUES (?, CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS BIGINT), 1)
            ON CONFLICT (key) DO UPDATE SET
                count = CASE WHEN cluster_rate_windows.window_start <= EXCLUDED.window_start - ? THEN 1
                    ELSE cluster_rate_windows.count + 1 END,
                window_start = CASE WHEN cluster_rate_windows.window_start <= EXCLUDED.window_start - ? THEN EXCLUDED.window_start
                    ELSE cluster_rate_windows.window_start END
            RETURNING count, window_start, CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS BIGINT)
            """, [.text(key), .integer(windowSeconds), .integer(windowSeconds)])
        if Int.random(in: 0..<200) == 0 {
            _ = try? await database.query(
                "DELETE FROM cluster_rate_windows WHERE window_start < CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS BIGINT) - 86400",
                [])
        }
        guard let row = rows.first, row.count == 3, let count = row[0].integer, let start = row[1].integer, let now = row[2].integer
        else { throw .database("the rate window's upsert returned no row") }
        return (count, start, now)
    }

    /// The count of `key`'s current window and its start, without counting; nil when no window is open.
    public func currentWindow(_ key: String, windowSeconds: Int64) async throws(PlatformError) -> (count: Int64, start: Int64, now: Int64)?
    {
        try await prepare()
        let rows = try await database.query(
            "SELECT count, window_start, CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS BIGINT) FROM cluster_rate_windows "
                + "WHERE key = ? AND window_start > CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS BIGINT) - ?",
            [.text(key), .integer(windowSeconds)])
        guard let row = rows.first, let count = row[0].integer, let start = row[1].integer, let now = row[2].integer else { return nil }
        return (count, start, now)
    }

    // MARK: - Setup links

    /// Makes a process's one-time setup token valid on every process (its SHA-256 only is kept), so that a setup link
    /// works whichever process behind the proxy answers it.
    public func publishSetupToken(_ token: String) async throws(PlatformError) {
        try await prepare()
        _ = try await database.query(
            "INSERT INTO cluster_setup_tokens (digest, issued_at) VALUES (?, CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS BIGINT)) "
                + "ON CONFLICT (digest) DO NOTHING", [.text(Secrets.digest(token))])
    }

    /// Whether `token` is an unspent setup token of some process.
    public func isSetupToken(_ token: String) async throws(PlatformError) -> Bool {
        try await prepare()
        return !(try await database.query("SELECT 1 FROM cluster_setup_tokens WHERE digest = ?", [.text(Secrets.digest(token))]))
            .isEmpty
    }

    /// Spends every process's setup token (the first administrator exists).
    public func spendSetupTokens() async throws(PlatformError) {
        try await prepare()
        _ = try await database.query("DELETE FROM cluster_setup_tokens", [])
    }

    /// The cluster's own tables (a version table of their own, migrated under an advisory lock).
    func prepare() async throws(PlatformError) {
        if migrated.withLock({ $0 }) { return }
        try await database.migrate(versionTable: "cluster_schema_version", lockKey: 0x4154_434C_5553) { _ in
            [
                [
                    "CREATE TABLE cluster_rate_windows (key TEXT PRIMARY KEY, window_start BIGINT NOT NULL, count BIGINT NOT NULL)",
                    "CREATE INDEX cluster_rate_windows_start ON cluster_rate_windows (window_start)",
                ],
                ["CREATE TABLE cluster_setup_tokens (digest TEXT PRIMARY KEY, issued_at BIGINT NOT NULL)"],
            ]
        }
        migrated.withLock { $0 = true }
    }
}

extension PlatformDatabase {
    /// The first step of a transaction that must not run beside another holding `lockKey`: an advisory lock held to the
    /// transaction's end on PostgreSQL; on SQLite, whose `BEGIN IMMEDIATE` already serialises writers, a no-op.
    package func serialisingStep(lockKey: Int64) -> SQLStep {
        SQLStep(self is PostgresPlatformDatabase ? "SELECT pg_advisory_xact_lock(?)" : "SELECT ?", [.integer(lockKey)])
    }

    /// Fills `table` with `statements` once: in one transaction that first takes an advisory lock (`lockKey`, on
    /// PostgreSQL; SQLite's `BEGIN IMMEDIATE` serialises writers) and goes on only while the table is empty, so that
    /// several processes starting at once on one database seed it once (a count first, then inserts, raced).
    package func seedIfEmpty(table: String, lockKey: Int64, _ statements: [(String, [SQLValue])]) async throws(PlatformError) {
        _ = try await transaction(
            guarded: [
                serialisingStep(lockKey: lockKey),
                SQLStep("SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM \(table))", guarded: true),
            ] + statements.map { SQLStep($0.0, $0.1) })
    }
}
