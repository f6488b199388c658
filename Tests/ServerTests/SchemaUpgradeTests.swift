import AtriumTesting
import Foundation
import Server
import Testing

@testable import Archive
@testable import HealthRecords
@testable import Laboratory
@testable import Platform
@testable import Programme
@testable import Reading
@testable import Teaching
@testable import Training

/// One part of the database with its own numbered migrations and version table.
private struct SchemaPart: Sendable {
    let versionTable: String
    let sqlite: [[String]]
    let postgres: [[String]]
}

/// Every part the server migrates, in the order it prepares them.
private let parts: [SchemaPart] = [
    SchemaPart(versionTable: "schema_version", sqlite: SQLiteSchema.migrations.map { [$0] }, postgres: PostgresSchema.migrations),
    SchemaPart(
        versionTable: "platform_schema_version", sqlite: PlatformSchema.migrations(.sqlite), postgres: PlatformSchema.migrations(.postgres)),
    SchemaPart(
        versionTable: TeachingSchema.versionTable, sqlite: TeachingSchema.migrations(.sqlite),
        postgres: TeachingSchema.migrations(.postgres)),
    SchemaPart(
        versionTable: TrainingSchema.versionTable, sqlite: TrainingSchema.migrations(.sqlite),
        postgres: TrainingSchema.migrations(.postgres)),
    SchemaPart(
        versionTable: ReadingSchema.versionTable, sqlite: ReadingSchema.migrations(.sqlite), postgres: ReadingSchema.migrations(.postgres)),
    SchemaPart(
        versionTable: LaboratorySchema.versionTable, sqlite: LaboratorySchema.migrations(.sqlite),
        postgres: LaboratorySchema.migrations(.postgres)),
    SchemaPart(
        versionTable: HealthSchema.versionTable, sqlite: HealthSchema.migrations(.sqlite), postgres: HealthSchema.migrations(.postgres)),
    SchemaPart(
        versionTable: ProgrammeSchema.versionTable, sqlite: ProgrammeSchema.migrations(.sqlite),
        postgres: ProgrammeSchema.migrations(.postgres)),
]

/// A column as `PRAGMA table_info` describes it.
private struct Column {
    let name: String
    let type: String
    let notNull: Bool
    let hasDefault: Bool
    let primaryKey: Bool
}

/// `tables` ordered so that each comes after the tables its foreign keys name (a cycle is broken at its first table).
private func parentsFirst(_ tables: [String], parents: [String: Set<String>]) -> [String] {
    var ordered: [String] = []
    var remaining = tables
    while !remaining.isEmpty {
        let ready = remaining.filter { (parents[$0] ?? []).subtracting([$0]).allSatisfy { ordered.contains($0) || !tables.contains($0) } }
        let next = ready.isEmpty ? [remaining[0]] : ready
        ordered += next
        remaining.removeAll { next.contains($0) }
    }
    return ordered
}

/// Puts two rows into every ordinary table of the database, each column given a value of its declared type (foreign keys
/// pointing at the parent's rows of the same number), so that migrations meet tables that are not empty. Returns the
/// tables filled, with their row counts, and those whose constraints refused such rows.
private func fillEveryTable(_ connection: SQLiteConnection) throws -> (filled: [String: Int], refused: [String: String]) {
    let master = try connection.query("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    let virtual = master.compactMap { row -> String? in
        guard let name = row[0].text, row[1].text?.uppercased().hasPrefix("CREATE VIRTUAL TABLE") == true else { return nil }
        return name
    }
    // Version tables are the migrations' own; virtual tables (full-text search) and their shadow tables are derived.
    let tables = master.compactMap { $0[0].text }.filter { name in
        !name.hasSuffix("schema_version") && !virtual.contains { name == $0 || name.hasPrefix($0 + "_") }
    }
    // Parents first.
    var parents: [String: Set<String>] = [:]
    var references: [String: [String: (table: String, column: String)]] = [:]
    for table in tables {
        for row in try connection.query("PRAGMA foreign_key_list(\(table))") {
            guard let parent = row[2].text, let from = row[3].text else { continue }
            parents[table, default: []].insert(parent)
            references[table, default: [:]][from] = (parent, row[4].text ?? "pk")
        }
    }
    let ordered = parentsFirst(tables, parents: parents)
    var filled: [String: Int] = [:]
    var refused: [String: String] = [:]
    var inserted: [String: [[String: SQLValue]]] = [:]
    for table in ordered {
        let columns = try connection.query("PRAGMA table_info(\(table))").map {
            Column(
                name: $0[1].text ?? "", type: ($0[2].text ?? "").uppercased(), notNull: $0[3].integer == 1, hasDefault: $0[4] != .null,
                primaryKey: ($0[5].integer ?? 0) > 0)
        }
        for number in 1...2 {
            var values: [String: SQLValue] = [:]
            for column in columns {
                if let reference = references[table]?[column.name] {
                    let parentRows = inserted[reference.table] ?? []
                    values[column.name] =
                        parentRows.isEmpty
                        ? .integer(Int64(number)) : parentRows[min(number, parentRows.count) - 1][reference.column] ?? .null
                } else if column.type.contains("INT") || (column.primaryKey && column.type.isEmpty) {
                    values[column.name] = .integer(Int64(number))
                } else if column.type.contains("REAL") || column.type.contains("FLOA") || column.type.contains("DOUB") {
                    values[column.name] = .text("\(Double(number) + 0.5)")
                } else if column.type.contains("BLOB") {
                    values[column.name] = .blob([UInt8(number)])
                } else {
                    values[column.name] = .text("{\"v\":\(number)}")
                }
            }
            let names = columns.map(\.name)
            let sql =
                "INSERT INTO \(table) (\(names.map { "\"\($0)\"" }.joined(separator: ", "))) VALUES (\(names.map { _ in "?" }.joined(separator: ", ")))"
            do {
                try connection.query(sql, names.map { values[$0] ?? .null })
                inserted[table, default: []].append(values)
                filled[table, default: 0] += 1
            } catch {
                refused[table] = "\(error)"
            }
        }
    }
    return (filled, refused)
}

/// ``fillEveryTable(_:)`` for PostgreSQL, through psql: two rows in every table of the public schema, each column a
/// value of its type, foreign keys pointing at the parent's rows. Returns the row counts of the tables filled.
private func fillEveryTable(_ server: PostgresServer, database: String) async throws -> [String: Int] {
    let columns = try await server.psql(
        database: database,
        """
        SELECT c.table_name, c.column_name, c.udt_name FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
        WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.table_name NOT LIKE '%schema_version'
        ORDER BY c.table_name, c.ordinal_position
        """
    ).output.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    let foreign = try await server.psql(
        database: database,
        """
        SELECT kcu.table_name, kcu.column_name, ccu.table_name, ccu.column_name
        FROM information_schema.table_constraints tc
            JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name
                AND kcu.table_schema = tc.table_schema
            JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name
                AND ccu.table_schema = tc.table_schema
        WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = 'public'
        """
    ).output.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    var tableColumns: [String: [(name: String, type: String)]] = [:]
    var tableOrder: [String] = []
    for row in columns where row.count == 3 {
        if tableColumns[row[0]] == nil { tableOrder.append(row[0]) }
        tableColumns[row[0], default: []].append((row[1], row[2]))
    }
    var parents: [String: Set<String>] = [:]
    var references: [String: [String: String]] = [:]
    for row in foreign where row.count == 4 {
        parents[row[0], default: []].insert(row[2])
        references[row[0], default: [:]][row[1]] = row[2]
    }
    let ordered = parentsFirst(tableOrder, parents: parents)
    // Referenced keys are the parents' numbers 1 and 2; foreign-key triggers are off while filling (text keys would not match).
    var script = "SET session_replication_role = replica;\n"
    for table in ordered {
        guard let list = tableColumns[table] else { continue }
        for number in 1...2 {
            let values = list.map { column -> String in
                switch column.type {
                case "int2", "int4", "int8", "numeric": return "\(number)"
                case "float4", "float8": return "\(Double(number) + 0.5)"
                case "bool": return "true"
                case "bytea": return "'\\x0\(number)'::bytea"
                case "timestamptz", "timestamp", "date": return "now()"
                default: return references[table]?[column.name] != nil ? "'\(number)'" : "'{\"v\":\(number)}'"
                }
            }
            script +=
                "INSERT INTO \(table) (\(list.map { "\"\($0.name)\"" }.joined(separator: ", "))) VALUES (\(values.joined(separator: ", ")));\n"
        }
    }
    _ = try await server.psql(database: database, script, stopOnError: false)
    return try await rowCounts(server, database: database, tables: ordered).filter { $0.value > 0 }
}

private func rowCounts(_ server: PostgresServer, database: String, tables: [String]) async throws -> [String: Int] {
    let query = tables.map { "SELECT '\($0)', count(*) FROM \($0)" }.joined(separator: " UNION ALL ") + ";"
    var counts: [String: Int] = [:]
    for line in try await server.psql(database: database, query).output.split(separator: "\n") {
        let fields = line.split(separator: "\t")
        if fields.count == 2, let count = Int(fields[1]) { counts[String(fields[0])] = count }
    }
    return counts
}

@Suite("Schema upgrades")
struct SchemaUpgradeTests {
    @Test(
        "A SQLite database at every earlier schema version, its tables holding rows, is migrated by the server to the newest one with every row kept"
    )
    func sqliteFromEveryVersion() async throws {
        let longest = parts.map(\.sqlite.count).max() ?? 0
        // Step 1 is the first release's schema of every part; each later step is one migration further where there is one.
        for step in 1..<longest {
            let data = try Corpus.temporaryDirectory("atrium-upgrade-\(step)")
            let connection = try SQLiteConnection(path: data + "/atrium.sqlite")
            try connection.execute("PRAGMA foreign_keys = OFF")
            for part in parts {
                let applied = min(step, part.sqlite.count)
                for migration in part.sqlite.prefix(applied) { for statement in migration { try connection.execute(statement) } }
                try connection.execute("CREATE TABLE IF NOT EXISTS \(part.versionTable) (version INTEGER NOT NULL)")
                try connection.query("INSERT INTO \(part.versionTable) (version) VALUES (?)", [.integer(Int64(applied))])
            }
            let (filled, refused) = try fillEveryTable(connection)
            #expect(filled.count >= 20, "step \(step): \(filled.count) tables filled; refused: \(refused)")

            // The server's own start: every store migrates its part.
            var configuration = ServerConfiguration()
            configuration.dataDirectory = data
            let server = try AtriumServer(configuration: configuration)
            try await server.identity.prepare()
            try await server.teaching.prepare()
            try await server.training.prepare()
            try await server.reading.prepare()
            try await server.laboratory.prepare()
            try await server.health.prepare()
            try await server.programme.prepare()
            _ = try await server.archive.index.counts()

            let check = try SQLiteConnection(path: data + "/atrium.sqlite", readOnly: true)
            for part in parts {
                let version = try check.query("SELECT version FROM \(part.versionTable)").first?.first?.integer
                #expect(version == Int64(part.sqlite.count), "step \(step): \(part.versionTable) is at \(version ?? -1)")
            }
            for (table, count) in filled.sorted(by: { $0.key < $1.key }) {
                let now = try check.query("SELECT count(*) FROM \(table)").first?.first?.integer
                #expect(now == Int64(count), "step \(step): \(table) had \(count) rows, has \(now ?? -1) after the upgrade")
            }
            print(
                "schema step \(step): \(filled.count) tables with rows, \(refused.count) refused the generic rows (\(refused.keys.sorted()))"
            )
        }
    }
    @Test(
        "A PostgreSQL database at every earlier schema version, its tables holding rows, is migrated by the server to the newest one with every row kept"
    )
    func postgresFromEveryVersion() async throws {
        let postgres = try await PostgresServer.start()
        defer { postgres.stop() }
        let longest = parts.map(\.postgres.count).max() ?? 0
        for step in 1..<longest {
            let name = "upgrade_\(step)"
            let url = try await postgres.createDatabase(name)
            var script = ""
            for part in parts {
                let applied = min(step, part.postgres.count)
                for migration in part.postgres.prefix(applied) { for statement in migration { script += statement + ";\n" } }
                script += "CREATE TABLE \(part.versionTable) (version BIGINT NOT NULL);\n"
                script += "INSERT INTO \(part.versionTable) (version) VALUES (\(applied));\n"
            }
            _ = try await postgres.psql(database: name, script)
            let filled = try await fillEveryTable(postgres, database: name)
            #expect(filled.count >= 20, "step \(step): \(filled.count) tables filled")

            var configuration = ServerConfiguration()
            configuration.dataDirectory = try Corpus.temporaryDirectory("atrium-upgrade-pg-\(step)")
            configuration.database = url
            let server = try AtriumServer(configuration: configuration)
            if let index = server.archive.index as? PostgresIndex { try await index.prepare() }
            try await server.identity.prepare()
            try await server.teaching.prepare()
            try await server.training.prepare()
            try await server.reading.prepare()
            try await server.laboratory.prepare()
            try await server.health.prepare()
            try await server.programme.prepare()

            let versions = try await postgres.psql(
                database: name,
                parts.map { "SELECT '\($0.versionTable)', version FROM \($0.versionTable)" }.joined(separator: " UNION ALL ") + ";"
            ).output
            for part in parts {
                #expect(versions.contains("\(part.versionTable)\t\(part.postgres.count)\n"), "step \(step): \(versions)")
            }
            let after = try await rowCounts(postgres, database: name, tables: Array(filled.keys))
            for (table, count) in filled.sorted(by: { $0.key < $1.key }) {
                #expect(after[table] == count, "step \(step): \(table) had \(count) rows, has \(after[table] ?? -1) after the upgrade")
            }
            print("postgres schema step \(step): \(filled.count) tables with rows")
        }
    }
}
