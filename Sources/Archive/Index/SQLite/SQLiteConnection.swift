import CSQLite

/// A value bound to or read from SQL.
package enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case text(String)
    case blob([UInt8])

    package var text: String? {
        if case .text(let s) = self { return s }
        return nil
    }

    package var integer: Int64? {
        if case .integer(let n) = self { return n }
        return nil
    }

    package var bytes: [UInt8]? {
        switch self {
        case .blob(let b): b
        case .text(let s): Array(s.utf8)
        default: nil
        }
    }
}

// SQLITE_TRANSIENT tells SQLite to copy bound bytes before the call returns.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// One SQLite connection with a cache of prepared statements. Used by one task at a time: the index hands
/// connections out (readers) or keeps one inside an actor (the writer), hence `@unchecked Sendable`.
package final class SQLiteConnection: @unchecked Sendable {
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    package let path: String

    package init(path: String, readOnly: Bool = false, busyTimeoutMilliseconds: Int32 = 10_000) throws(ArchiveError) {
        self.path = path
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(db)
            throw .database(operation: "open \(path)", code: rc, message: message)
        }
        handle = db
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
        try execute("PRAGMA foreign_keys = ON")
    }

    deinit {
        for (_, statement) in statements { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    /// Runs SQL without results (several statements allowed).
    package func execute(_ sql: String) throws(ArchiveError) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? "error"
            sqlite3_free(message)
            throw .database(operation: String(sql.prefix(80)), code: rc, message: text)
        }
    }

    /// Runs one statement with bindings and returns its rows.
    @discardableResult
    package func query(_ sql: String, _ bindings: [SQLValue] = []) throws(ArchiveError) -> [[SQLValue]] {
        let statement = try prepared(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (index, value) in bindings.enumerated() {
            let position = Int32(index + 1)
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(statement, position)
            case .integer(let n): rc = sqlite3_bind_int64(statement, position, n)
            case .text(let s): rc = sqlite3_bind_text(statement, position, s, -1, transient)
            case .blob(let b):
                rc = b.withUnsafeBytes { sqlite3_bind_blob(statement, position, $0.baseAddress, Int32($0.count), transient) }
            }
            if rc != SQLITE_OK { throw error("bind", rc) }
        }
        var rows: [[SQLValue]] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw error(String(sql.prefix(80)), rc) }
            let columns = sqlite3_column_count(statement)
            var row: [SQLValue] = []
            row.reserveCapacity(Int(columns))
            for column in 0..<columns {
                switch sqlite3_column_type(statement, column) {
                case SQLITE_INTEGER: row.append(.integer(sqlite3_column_int64(statement, column)))
                case SQLITE_TEXT:
                    if let text = sqlite3_column_text(statement, column) {
                        row.append(.text(String(cString: text)))
                    } else {
                        row.append(.null)
                    }
                case SQLITE_BLOB:
                    let count = Int(sqlite3_column_bytes(statement, column))
                    if let base = sqlite3_column_blob(statement, column), count > 0 {
                        row.append(.blob(Array(UnsafeRawBufferPointer(start: base, count: count))))
                    } else {
                        row.append(.blob([]))
                    }
                default: row.append(.null)
                }
            }
            rows.append(row)
        }
        return rows
    }

    /// Copies the whole database into a new file at `path` with SQLite's online backup: one read transaction, so the
    /// copy is the database as of one moment even while another connection or process writes. The copy is synced.
    package func backup(into path: String) throws(ArchiveError) {
        var destination: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        var rc = sqlite3_open_v2(path, &destination, flags, nil)
        defer { sqlite3_close_v2(destination) }
        guard rc == SQLITE_OK, let destination else { throw .database(operation: "open \(path)", code: rc, message: "cannot open") }
        guard let backup = sqlite3_backup_init(destination, "main", handle, "main") else {
            throw .database(
                operation: "backup into \(path)", code: sqlite3_errcode(destination),
                message: String(cString: sqlite3_errmsg(destination)))
        }
        rc = sqlite3_backup_step(backup, -1)
        let finished = sqlite3_backup_finish(backup)
        guard rc == SQLITE_DONE, finished == SQLITE_OK else {
            throw .database(
                operation: "backup into \(path)", code: rc == SQLITE_DONE ? finished : rc,
                message: String(cString: sqlite3_errmsg(destination)))
        }
        // A self-contained file: no write-ahead log beside it.
        rc = sqlite3_exec(destination, "PRAGMA journal_mode = DELETE", nil, nil, nil)
        guard rc == SQLITE_OK else {
            throw .database(operation: "journal mode of \(path)", code: rc, message: String(cString: sqlite3_errmsg(destination)))
        }
    }

    /// The row id of the last insert.
    package var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    private func prepared(_ sql: String) throws(ArchiveError) -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw error("prepare \(sql.prefix(80))", rc) }
        // Ad-hoc query texts (each QIDO filter combination) would grow the cache without bound: keep the common ones.
        if statements.count > 256 {
            for (_, old) in statements { sqlite3_finalize(old) }
            statements.removeAll()
        }
        statements[sql] = statement
        return statement
    }

    private func error(_ operation: String, _ rc: Int32) -> ArchiveError {
        .database(operation: operation, code: rc, message: String(cString: sqlite3_errmsg(handle)))
    }
}
