import DICOM
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// SQLite as SQL: `?` placeholders, GLOB for case-sensitive wildcards, `group_concat(DISTINCT …)`.
struct SQLiteDialect: SQLDialect {
    func placeholder(_ index: Int) -> String { "?" }

    func wildcardPredicate(column: String, placeholder: String) -> String { "\(column) GLOB \(placeholder)" }

    func wildcardPattern(_ pattern: String) -> String {
        var out = ""
        for c in pattern {
            if c == "[" { out += "[[]" } else { out.append(c) }
        }
        return out
    }

    func distinctList(_ expression: String) -> String { "group_concat(DISTINCT \(expression))" }

    func offsetOnly(placeholder: String) -> String { "LIMIT -1 OFFSET \(placeholder)" }
}

/// The index in one SQLite database in WAL mode: `synchronous=FULL` (a committed row survives power loss), or, as
/// ``IndexDurability/recoverFromBlobs``, `synchronous=NORMAL` with synced checkpoints and recovery from the blobs.
///
/// Writes go through one writer connection inside an actor that commits concurrent inserts together (group
/// commit: one fsync for many instances). Reads take a connection of their own from a small pool, so queries run
/// beside the writer, as WAL allows. SQLite calls block the calling thread; they are short (milliseconds).
public final class SQLiteIndex: BlobLogIndex {
    /// The database file.
    public let path: String
    public let durability: IndexDurability
    private let writer: SQLiteWriter
    private let readers: SQLiteReaderPool
    private let planner = SQLQueryPlanner(dialect: SQLiteDialect())
    /// The open lock file `<path>.lock`, held for the blob log's single writer process.
    private let lockDescriptor: Int32?

    /// Opens (and creates or migrates) the database at `path`. With ``IndexDurability/recoverFromBlobs`` the index takes
    /// the lock file `<path>.lock`; when another process holds it, it falls back to ``IndexDurability/everyCommit``.
    public init(path: String, durability: IndexDurability = .everyCommit) throws(ArchiveError) {
        self.path = path
        var lock: Int32?
        if durability == .recoverFromBlobs {
            let fd = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            if fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 {
                lock = fd
            } else if fd >= 0 {
                close(fd)
            }
        }
        lockDescriptor = lock
        self.durability = lock == nil ? .everyCommit : .recoverFromBlobs
        let connection = try SQLiteConnection(path: path)
        try connection.execute(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = " + (self.durability == .recoverFromBlobs ? "NORMAL" : "FULL"))
        try SQLiteSchema.migrate(connection)
        try SQLiteSchema.prepareBlobLog(connection)
        let state = try connection.query("SELECT synced_through_ms, clean FROM blob_log_state WHERE id = 1").first
        let pending = state?[1].integer == 0 ? Double(state?[0].integer ?? 0) / 1000 : nil
        writer = SQLiteWriter(connection: connection, blobLog: self.durability == .recoverFromBlobs, pendingRecovery: pending)
        readers = SQLiteReaderPool(path: path)
    }

    deinit {
        if let lockDescriptor { close(lockDescriptor) }
    }

    public func pendingRecovery() async -> Double? { await writer.pendingRecovery }

    public func checkpoint(syncedThrough: Double, clean: Bool) async throws(ArchiveError) {
        try await writer.checkpoint(syncedThrough: syncedThrough, clean: clean)
    }

    public func finishRecovery(syncedThrough: Double) async throws(ArchiveError) {
        try await writer.finishRecovery(syncedThrough: syncedThrough)
    }

    public func references(_ key: BlobKey) async throws(ArchiveError) -> Bool {
        try await read { connection throws(ArchiveError) in
            try !connection.query("SELECT 1 FROM instances WHERE blob_key = ?", [.text(key.rawValue)]).isEmpty
        }
    }

    public func instances(storedSince since: Double) async throws(ArchiveError) -> [StoredInstance] {
        // stored_at is ISO 8601 UTC text, which sorts as time does.
        let from = indexTimestamp(Date(timeIntervalSince1970: since))
        let sql =
            "SELECT st.study_uid, se.series_uid, i.sop_uid, i.sop_class, i.transfer_syntax, i.blob_key, i.size_bytes "
            + "FROM instances i JOIN series se ON se.pk = i.series_pk JOIN studies st ON st.pk = se.study_pk WHERE i.stored_at >= ?"
        let rows = try await read { connection throws(ArchiveError) in try connection.query(sql, [.text(from)]) }
        return rows.map { row in
            StoredInstance(
                studyInstanceUID: row[0].text ?? "", seriesInstanceUID: row[1].text ?? "", sopInstanceUID: row[2].text ?? "",
                sopClassUID: row[3].text ?? "", transferSyntaxUID: row[4].text ?? "", blobKey: BlobKey(row[5].text ?? ""),
                sizeBytes: Int(row[6].integer ?? 0))
        }
    }

    public func tombstones() async throws(ArchiveError) -> Set<BlobKey> {
        let rows = try await read { connection throws(ArchiveError) in try connection.query("SELECT blob_key FROM deleted_blobs") }
        return Set(rows.compactMap { $0.first?.text.map(BlobKey.init) })
    }

    public func slideInstances(seriesInstanceUID: String, institution: String?) async throws(ArchiveError) -> [IndexedSlideInstance] {
        var bindings: [SQLValue] = [.text(seriesInstanceUID)]
        var sql = SlideRow.selectSQL + " WHERE se.series_uid = ?"
        if let institution {
            bindings.append(.text(institution))
            sql += " AND st.institution = ?"
        }
        let rows = try await read { connection throws(ArchiveError) in try connection.query(sql, bindings) }
        return SlideRow.decode(rows)
    }

    public func insert(_ record: InstanceRecord, duplicatePolicy: DuplicatePolicy) async throws(ArchiveError) -> IndexInsertResult {
        try await writer.insert(record, duplicatePolicy)
    }

    public func find(_ query: ArchiveQuery) async throws(ArchiveError) -> [DataSet] {
        try query.validate()
        let (plan, exact) = planner.plan(query)
        let rows = try await read { connection throws(ArchiveError) in try connection.query(plan.sql, plan.bindings) }
        return try QueryEngine.results(query, plan: plan, rows: rows, sliced: exact)
    }

    public func instances(
        studyInstanceUID: String?, seriesInstanceUID: String?, sopInstanceUID: String?, institution: String?
    ) async throws(ArchiveError) -> [StoredInstance] {
        var conditions: [String] = []
        var bindings: [SQLValue] = []
        if let studyInstanceUID {
            conditions.append("st.study_uid = ?")
            bindings.append(.text(studyInstanceUID))
        }
        if let seriesInstanceUID {
            conditions.append("se.series_uid = ?")
            bindings.append(.text(seriesInstanceUID))
        }
        if let sopInstanceUID {
            conditions.append("i.sop_uid = ?")
            bindings.append(.text(sopInstanceUID))
        }
        if let institution {
            conditions.append("st.institution = ?")
            bindings.append(.text(institution))
        }
        var sql =
            "SELECT st.study_uid, se.series_uid, i.sop_uid, i.sop_class, i.transfer_syntax, i.blob_key, i.size_bytes "
            + "FROM instances i JOIN series se ON se.pk = i.series_pk JOIN studies st ON st.pk = se.study_pk"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY i.pk"
        let rows = try await read { connection throws(ArchiveError) in try connection.query(sql, bindings) }
        return rows.map { row in
            StoredInstance(
                studyInstanceUID: row[0].text ?? "", seriesInstanceUID: row[1].text ?? "", sopInstanceUID: row[2].text ?? "",
                sopClassUID: row[3].text ?? "", transferSyntaxUID: row[4].text ?? "", blobKey: BlobKey(row[5].text ?? ""),
                sizeBytes: Int(row[6].integer ?? 0))
        }
    }

    public func delete(_ target: DeletionTarget) async throws(ArchiveError) -> [BlobKey] {
        try await writer.delete(target)
    }

    public func referencedBlobKeys() async throws(ArchiveError) -> Set<BlobKey> {
        let rows = try await read { connection throws(ArchiveError) in try connection.query("SELECT blob_key FROM instances") }
        return Set(rows.compactMap { $0.first?.text.map(BlobKey.init) })
    }

    public func patientConflicts() async throws(ArchiveError) -> [PatientConflict] {
        let sql = IndexReports.patientConflictsSQL
        return IndexReports.patientConflicts(try await read { connection throws(ArchiveError) in try connection.query(sql) })
    }

    public func counts() async throws(ArchiveError) -> IndexCounts {
        let sql = IndexReports.countsSQL
        return IndexReports.counts(try await read { connection throws(ArchiveError) in try connection.query(sql) })
    }

    private func read<T>(_ body: (SQLiteConnection) throws(ArchiveError) -> T) async throws(ArchiveError) -> T {
        let connection = try await readers.checkOut()
        defer { readers.checkIn(connection) }
        return try body(connection)
    }
}

/// Reader connections, one per concurrent query (WAL lets them read beside the one writer). Also the platform
/// database's (`SQLitePlatformDatabase`).
package final class SQLiteReaderPool: Sendable {
    private let path: String
    private let idle = Mutex<[SQLiteConnection]>([])

    package init(path: String) { self.path = path }

    package func checkOut() async throws(ArchiveError) -> SQLiteConnection {
        if let connection = idle.withLock({ $0.popLast() }) { return connection }
        return try SQLiteConnection(path: path)
    }

    package func checkIn(_ connection: SQLiteConnection) {
        idle.withLock { pool in
            if pool.count < 8 { pool.append(connection) }
        }
    }
}
