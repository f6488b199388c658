import Logging
import NIOCore
import PostgresNIO

/// PostgreSQL as SQL: `$n` placeholders, LIKE (case-sensitive) for wildcards, `string_agg(DISTINCT …)`.
struct PostgresDialect: SQLDialect {
    func placeholder(_ index: Int) -> String { "$\(index)" }

    func wildcardPredicate(column: String, placeholder: String) -> String { "\(column) LIKE \(placeholder) ESCAPE '\\'" }

    func wildcardPattern(_ pattern: String) -> String {
        var out = ""
        for c in pattern {
            switch c {
            case "*": out.append("%")
            case "?": out.append("_")
            case "%", "_", "\\":
                out.append("\\")
                out.append(c)
            default: out.append(c)
            }
        }
        return out
    }

    func distinctList(_ expression: String) -> String {
        "string_agg(DISTINCT \(expression), ',' ORDER BY \(expression))"
    }

    func offsetOnly(placeholder: String) -> String { "OFFSET \(placeholder)" }
}

/// One leased PostgreSQL connection, with the ``SQLValue`` interface the SQLite code uses.
package struct PostgresSession {
    let connection: PostgresConnection
    let logger: Logger

    /// Runs one statement with bindings and returns its rows.
    @discardableResult
    package func query(_ sql: String, _ bindings: [SQLValue] = []) async throws(ArchiveError) -> [[SQLValue]] {
        var binds = PostgresBindings(capacity: bindings.count)
        do {
            for value in bindings {
                switch value {
                case .null: binds.appendNull()
                case .integer(let n): binds.append(n)
                case .text(let s): binds.append(s)
                case .blob(let b): binds.append(ByteBuffer(bytes: b))
                }
            }
            // The statement is written on the connection's event loop, after checking there that the connection is
            // still open: PostgresNIO drops a statement written to a channel that has already closed without ever
            // failing it (postgres-nio pull request 487, reverted in 501), and its caller would wait forever. On the
            // event loop the check and the write happen in one turn, so the connection cannot close between them; a
            // statement the connection accepted is failed by it when the connection closes.
            let query = PostgresQuery(unsafeSQL: sql, binds: binds)
            let connection = connection
            let logger = logger
            let result = try await connection.eventLoop.flatSubmit { () -> EventLoopFuture<PostgresQueryResult> in
                guard !connection.isClosed else {
                    return connection.eventLoop.makeFailedFuture(
                        ArchiveError.database(
                            operation: String(sql.prefix(80)), code: 0,
                            message: ArchiveError.unreachableDatabase + ": the connection to the server is closed"))
                }
                return connection.query(query, logger: logger)
            }.get()
            return try result.rows.map { try $0.map(sqlValue) }
        } catch {
            throw postgresError(String(sql.prefix(80)), error)
        }
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    package func transaction<T>(_ body: () async throws(ArchiveError) -> T) async throws(ArchiveError) -> T {
        try await query("BEGIN")
        do {
            let value = try await body()
            try await query("COMMIT")
            return value
        } catch {
            // A closed connection has no transaction left to roll back (the server ended it).
            if !connection.isClosed { _ = try? await query("ROLLBACK") }
            throw error
        }
    }
}

private func sqlValue(_ cell: PostgresCell) throws -> SQLValue {
    guard cell.bytes != nil else { return .null }
    switch cell.dataType {
    case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
    case .bytea: return .blob(Array(try cell.decode(ByteBuffer.self).readableBytesView))
    case .text, .varchar, .name, .bpchar: return .text(try cell.decode(String.self))
    default: return (try? cell.decode(String.self)).map(SQLValue.text) ?? .null
    }
}

/// An ``ArchiveError`` with the server's message (PSQLError's own description hides it).
func postgresError(_ operation: String, _ error: any Error) -> ArchiveError {
    if let error = error as? ArchiveError { return error }
    if let error = error as? PSQLError {
        let message = error.serverInfo?[.message] ?? error.underlying.map { "\(error.code): \($0)" } ?? "\(error.code)"
        let sqlState = error.serverInfo?[.sqlState]
        let state = sqlState.map { " (SQLSTATE \($0))" } ?? ""
        // The connection is gone or the server is going away (class 08: connection exception; 57P01–57P03: shutting
        // down, crashed, not yet accepting): the database is out of reach, not the statement wrong.
        let unreachable =
            [.serverClosedConnection, .connectionError, .uncleanShutdown, .poolClosed, .clientClosedConnection].contains(error.code)
            || sqlState.map { $0.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains($0) } == true
        return .database(
            operation: operation, code: 0, message: (unreachable ? ArchiveError.unreachableDatabase + ": " : "") + message + state)
    }
    return .database(operation: operation, code: 0, message: String(describing: error))
}
