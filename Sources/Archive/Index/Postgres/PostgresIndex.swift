import DICOM
import Foundation
import Logging
import NIOSSL
import PostgresNIO
import Synchronization

/// The index in a PostgreSQL database, with the same schema and behaviour as ``SQLiteIndex``, so that several
/// `atrium serve` processes can share one index.
///
/// Connections come from PostgresNIO's pool (``PostgresClient``, run in a task of its own for the index's lifetime).
/// Each insert is one transaction on a pooled connection; inserts of the same SOP Instance UID are serialised with
/// a transaction-scoped advisory lock, and patients, studies and series are created with `ON CONFLICT DO NOTHING`,
/// so concurrent inserts into one series (from this process or another) neither fail nor duplicate. The schema is
/// created or migrated on first use (``prepare()``), under an advisory lock.
public final class PostgresIndex: ArchiveIndex {
    /// The URL the index was opened from, without the password.
    public let displayURL: String
    private let client: PostgresClient
    let direct: PostgresConnection.Configuration
    private let runner: Task<Void, Never>
    private let logger: Logger
    private let migrated = Mutex(false)
    private let planner = SQLQueryPlanner(dialect: PostgresDialect())
    /// Events between the processes that share this database (`LISTEN`/`NOTIFY`).
    public let events: PostgresEvents

    /// Connects (lazily) to `postgres://user:password@host:port/database`; the schema is created or migrated by
    /// ``prepare()`` or by the first call that needs it.
    public init(url: String, logger: Logger = PostgresIndex.defaultLogger) throws(ArchiveError) {
        let configuration = try Self.configuration(url)
        client = PostgresClient(configuration: configuration.client, backgroundLogger: logger)
        displayURL = configuration.display
        direct = configuration.direct
        self.logger = logger
        let client = client
        runner = Task { await client.run() }
        events = PostgresEvents(configuration: configuration.direct, logger: logger) { payload throws(ArchiveError) in
            do {
                try await client.withConnection { connection in
                    let rows = try await connection.query("SELECT pg_notify(\(PostgresEvents.channel), \(payload))", logger: logger)
                    for try await _ in rows {}
                }
            } catch {
                throw postgresError("pg_notify", error)
            }
        }
    }

    /// Opens the index at `url` and brings its schema to the current version; fails when the server is unreachable.
    public static func open(url: String, logger: Logger = PostgresIndex.defaultLogger) async throws(ArchiveError)
        -> PostgresIndex
    {
        let index = try PostgresIndex(url: url, logger: logger)
        try await index.prepare()
        return index
    }

    deinit {
        events.stop()
        runner.cancel()
    }

    /// The pool's background logger: warnings and errors (PostgresNIO logs each failed connection attempt at info).
    public static var defaultLogger: Logger {
        var logger = Logger(label: "atrium.postgres")
        logger.logLevel = .warning
        return logger
    }

    /// Creates or migrates the schema once.
    public func prepare() async throws(ArchiveError) {
        if migrated.withLock({ $0 }) { return }
        // A connection of its own, outside the pool: an unreachable server fails at once, not after the pool's retries.
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: direct, id: 0, logger: logger)
        } catch {
            throw postgresError("connect to \(displayURL)", error)
        }
        do throws(ArchiveError) {
            try await PostgresSchema.migrate(PostgresSession(connection: connection, logger: logger))
        } catch {
            try? await connection.close()
            throw error
        }
        try? await connection.close()
        migrated.withLock { $0 = true }
    }

    public func insert(_ record: InstanceRecord, duplicatePolicy: DuplicatePolicy) async throws(ArchiveError) -> IndexInsertResult {
        try await session { session throws(ArchiveError) in
            try await session.transaction { () async throws(ArchiveError) in
                try await Self.insertOne(record, duplicatePolicy, session)
            }
        }
    }

    public func find(_ query: ArchiveQuery) async throws(ArchiveError) -> [DataSet] {
        try query.validate()
        let (plan, exact) = planner.plan(query)
        let rows = try await session { session throws(ArchiveError) in try await session.query(plan.sql, plan.bindings) }
        return try QueryEngine.results(query, plan: plan, rows: rows, sliced: exact)
    }

    public func instances(
        studyInstanceUID: String?, seriesInstanceUID: String?, sopInstanceUID: String?, institution: String?
    ) async throws(ArchiveError) -> [StoredInstance] {
        var conditions: [String] = []
        var bindings: [SQLValue] = []
        for (column, value) in [
            ("st.study_uid", studyInstanceUID), ("se.series_uid", seriesInstanceUID), ("i.sop_uid", sopInstanceUID),
            ("st.institution", institution),
        ] {
            guard let value else { continue }
            bindings.append(.text(value))
            conditions.append("\(column) = $\(bindings.count)")
        }
        var sql =
            "SELECT st.study_uid, se.series_uid, i.sop_uid, i.sop_class, i.transfer_syntax, i.blob_key, i.size_bytes "
            + "FROM instances i JOIN series se ON se.pk = i.series_pk JOIN studies st ON st.pk = se.study_pk"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY i.pk"
        let rows = try await session { session throws(ArchiveError) in try await session.query(sql, bindings) }
        return rows.map { row in
            StoredInstance(
                studyInstanceUID: row[0].text ?? "", seriesInstanceUID: row[1].text ?? "", sopInstanceUID: row[2].text ?? "",
                sopClassUID: row[3].text ?? "", transferSyntaxUID: row[4].text ?? "", blobKey: BlobKey(row[5].text ?? ""),
                sizeBytes: Int(row[6].integer ?? 0))
        }
    }

    public func slideInstances(seriesInstanceUID: String, institution: String?) async throws(ArchiveError) -> [IndexedSlideInstance] {
        var bindings: [SQLValue] = [.text(seriesInstanceUID)]
        var sql = SlideRow.selectSQL + " WHERE se.series_uid = $1"
        if let institution {
            bindings.append(.text(institution))
            sql += " AND st.institution = $2"
        }
        let rows = try await session { session throws(ArchiveError) in try await session.query(sql, bindings) }
        return SlideRow.decode(rows)
    }

    public func delete(_ target: DeletionTarget) async throws(ArchiveError) -> [BlobKey] {
        let scope: String
        let bindings: [SQLValue]
        let entity: (sql: String, bindings: [SQLValue])?
        switch target {
        case .patient(let patientID, let issuer):
            scope = issuer == nil ? "p.patient_id = $1" : "p.patient_id = $1 AND p.issuer = $2"
            bindings = [.text(patientID)] + (issuer.map { [.text($0)] } ?? [])
            entity = ("DELETE FROM patients WHERE patient_id = $1" + (issuer == nil ? "" : " AND issuer = $2"), bindings)
        case .study(let uid):
            scope = "st.study_uid = $1"
            bindings = [.text(uid)]
            entity = ("DELETE FROM studies WHERE study_uid = $1", bindings)
        case .series(let study, let series):
            scope = study == nil ? "se.series_uid = $1" : "se.series_uid = $1 AND st.study_uid = $2"
            bindings = [.text(series)] + (study.map { [.text($0)] } ?? [])
            entity = ("DELETE FROM series WHERE series_uid = $1", [.text(series)])
        case .instance(let uid):
            scope = "i.sop_uid = $1"
            bindings = [.text(uid)]
            entity = nil
        }
        let join =
            "FROM instances i JOIN series se ON se.pk = i.series_pk JOIN studies st ON st.pk = se.study_pk "
            + "JOIN patients p ON p.pk = st.patient_pk WHERE " + scope
        return try await session { session throws(ArchiveError) in
            try await session.transaction { () async throws(ArchiveError) in
                let blobs = try await session.query("SELECT i.blob_key " + join, bindings).compactMap {
                    $0.first?.text.map(BlobKey.init)
                }
                try await session.query("DELETE FROM instances WHERE pk IN (SELECT i.pk " + join + ")", bindings)
                // Entities left empty go too; an empty patient or study selected by the target goes with them.
                if let entity { try await session.query(entity.sql, entity.bindings) }
                try await session.query("DELETE FROM series WHERE NOT EXISTS (SELECT 1 FROM instances i WHERE i.series_pk = series.pk)")
                try await session.query("DELETE FROM studies WHERE NOT EXISTS (SELECT 1 FROM series s WHERE s.study_pk = studies.pk)")
                try await session.query(
                    "DELETE FROM patients WHERE NOT EXISTS (SELECT 1 FROM studies s WHERE s.patient_pk = patients.pk)")
                return blobs
            }
        }
    }

    public func referencedBlobKeys() async throws(ArchiveError) -> Set<BlobKey> {
        let rows = try await session { session throws(ArchiveError) in try await session.query("SELECT blob_key FROM instances") }
        return Set(rows.compactMap { $0.first?.text.map(BlobKey.init) })
    }

    public func patientConflicts() async throws(ArchiveError) -> [PatientConflict] {
        let sql = IndexReports.patientConflictsSQL
        return IndexReports.patientConflicts(try await session { session throws(ArchiveError) in try await session.query(sql) })
    }

    public func counts() async throws(ArchiveError) -> IndexCounts {
        let sql = IndexReports.countsSQL
        return IndexReports.counts(try await session { session throws(ArchiveError) in try await session.query(sql) })
    }

    // MARK: - Connections

    /// Runs `body` on a pooled connection of this database (the platform's tables live beside the index's).
    package func withSession<T: Sendable>(_ body: (PostgresSession) async throws(ArchiveError) -> T) async throws(ArchiveError) -> T {
        try await session(body)
    }

    /// Runs `body` on a pooled connection, after the schema is in place.
    private func session<T: Sendable>(_ body: (PostgresSession) async throws(ArchiveError) -> T) async throws(ArchiveError) -> T {
        try await prepare()
        return try await leased(body)
    }

    /// How long a request waits for a pooled connection before the server is probed with a connection of its own.
    static let leaseProbeInterval: Duration = .seconds(2)

    /// Runs `body` on a pooled connection. PostgresNIO's pool keeps a request waiting for as long as it cannot connect
    /// (postgres-nio issue 565), so a request is never left hanging while the database is down: every
    /// ``leaseProbeInterval`` that the request is still waiting for a connection or an answer, the server is probed
    /// with a connection of its own; when that fails too, the request fails at once with
    /// ``ArchiveError/unreachableDatabase`` and the probe's reason. (A pool that is merely busy, or a long query, passes
    /// the probe and keeps waiting.)
    private func leased<T: Sendable>(_ body: (PostgresSession) async throws(ArchiveError) -> T) async throws(ArchiveError) -> T {
        let logger = logger
        let client = client
        let direct = direct
        let display = displayURL
        do {
            return try await withoutActuallyEscaping(body) { body in
                let work = UncheckedSendableBox(body)
                return try await withThrowingTaskGroup(of: T?.self) { group in
                    group.addTask {
                        try await client.withConnection { connection in
                            return try await work.value(PostgresSession(connection: connection, logger: logger))
                        }
                    }
                    group.addTask {
                        while true {
                            try await Task.sleep(for: Self.leaseProbeInterval)
                            do {
                                let probe = try await PostgresConnection.connect(configuration: direct, id: -1, logger: logger)
                                try? await probe.close()
                            } catch {
                                throw ArchiveError.database(
                                    operation: "connect to \(display)", code: 0,
                                    message: ArchiveError.unreachableDatabase + ": " + postgresError("probe", error).description)
                            }
                        }
                    }
                    while let next = try await group.next() {
                        if let value = next {
                            group.cancelAll()
                            return value
                        }
                    }
                    throw ArchiveError.database(operation: "connect to \(display)", code: 0, message: "no connection was leased")
                }
            }
        } catch {
            throw postgresError("connect to \(displayURL)", error)
        }
    }

    // MARK: - Insert

    private static func insertOne(_ r: InstanceRecord, _ policy: DuplicatePolicy, _ db: PostgresSession) async throws(ArchiveError)
        -> IndexInsertResult
    {
        // Inserts of one SOP Instance UID wait for each other, so the check below decides.
        try await db.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [.text(r.sopInstanceUID)])
        let existing = try await db.query("SELECT pk, blob_key FROM instances WHERE sop_uid = $1", [.text(r.sopInstanceUID)])
        if let row = existing.first, policy == .ignore {
            return .alreadyStored(existingBlob: BlobKey(row[1].text ?? ""))
        }
        let incomingName = r.patient.string(.patientName) ?? ""
        let incomingBirthDate = normalizedDate(r.patient.string(.patientBirthDate) ?? "")
        var conflict: PatientConflict?
        let patientKey: [SQLValue] = [.text(r.patientID), .text(r.issuerOfPatientID)]
        let selectPatient = "SELECT pk, name, birth_date FROM patients WHERE patient_id = $1 AND issuer = $2"
        var patientRow = try await db.query(selectPatient, patientKey).first
        var patientPK: Int64?
        if patientRow == nil {
            patientPK = try await db.query(
                "INSERT INTO patients (patient_id, issuer, name, name_search, birth_date, sex, attributes) "
                    + "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (patient_id, issuer) DO NOTHING RETURNING pk",
                patientKey + [
                    .text(incomingName), .text(nameSearchText(incomingName)), .text(incomingBirthDate),
                    .text(r.patient.string(.patientSex) ?? ""), .blob(json(r.patient)),
                ]
            ).first?.first?.integer
            // Another transaction created it meanwhile: compare with theirs.
            if patientPK == nil { patientRow = try await db.query(selectPatient, patientKey).first }
        }
        if let row = patientRow, let pk = row[0].integer {
            patientPK = pk
            let storedName = row[1].text ?? ""
            let storedBirthDate = row[2].text ?? ""
            if storedName != incomingName || storedBirthDate != incomingBirthDate {
                let c = PatientConflict(
                    patientID: r.patientID, issuerOfPatientID: r.issuerOfPatientID, storedName: storedName,
                    storedBirthDate: storedBirthDate, incomingName: incomingName, incomingBirthDate: incomingBirthDate,
                    sopInstanceUID: r.sopInstanceUID, sourceAETitle: r.source.applicationEntityTitle ?? "",
                    sourceInstitution: r.source.institution ?? "")
                try await db.query(
                    "INSERT INTO patient_conflicts (patient_pk, patient_id, issuer, stored_name, stored_birth_date, "
                        + "incoming_name, incoming_birth_date, sop_uid, source_aet, source_institution, recorded_at) "
                        + "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    [
                        .integer(pk), .text(c.patientID), .text(c.issuerOfPatientID), .text(c.storedName),
                        .text(c.storedBirthDate), .text(c.incomingName), .text(c.incomingBirthDate), .text(c.sopInstanceUID),
                        .text(c.sourceAETitle), .text(c.sourceInstitution), .text(indexTimestamp()),
                    ])
                conflict = c
            }
        }
        guard let patientPK else { throw .database(operation: "insert patient", code: 0, message: "no patient row") }

        let s = r.study
        let studyPK = try await upsert(
            db, select: "SELECT pk FROM studies WHERE study_uid = $1", key: .text(r.studyInstanceUID),
            insert: "INSERT INTO studies (study_uid, patient_pk, study_date, study_time, accession, study_id, referring_search, "
                + "attributes, institution) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (study_uid) DO NOTHING RETURNING pk",
            values: [
                .integer(patientPK), .text(normalizedDate(s.string(.studyDate) ?? "")), .text(s.string(.studyTime) ?? ""),
                .text(s.string(.accessionNumber) ?? ""), .text(s.string(.studyID) ?? ""),
                .text(nameSearchText(s.string(.referringPhysicianName) ?? "")), .blob(json(s)),
                .text(r.source.institution ?? ""),
            ])
        let seriesPK = try await upsert(
            db, select: "SELECT pk FROM series WHERE series_uid = $1", key: .text(r.seriesInstanceUID),
            insert: "INSERT INTO series (series_uid, study_pk, modality, series_number, attributes) VALUES ($1, $2, $3, $4, $5) "
                + "ON CONFLICT (series_uid) DO NOTHING RETURNING pk",
            values: [
                .integer(studyPK), .text(r.series.string(.modality) ?? ""), .text(r.series.string(.seriesNumber) ?? ""),
                .blob(json(r.series)),
            ])

        let values: [SQLValue] = [
            .integer(seriesPK), .text(r.sopClassUID), .text(r.instance.string(.instanceNumber) ?? ""), .text(r.transferSyntaxUID),
            .text(r.blobKey.rawValue), .integer(Int64(r.sizeBytes)), .text(indexTimestamp()),
            .text(r.source.applicationEntityTitle ?? ""), .text(r.source.institution ?? ""), .blob(json(r.instance)),
        ]
        if let row = existing.first, let pk = row[0].integer {
            try await db.query(
                "UPDATE instances SET series_pk = $1, sop_class = $2, instance_number = $3, transfer_syntax = $4, blob_key = $5, "
                    + "size_bytes = $6, stored_at = $7, source_aet = $8, source_institution = $9, attributes = $10 WHERE pk = $11",
                values + [.integer(pk)])
            try await db.query("DELETE FROM slide_instances WHERE instance_pk = $1", [.integer(pk)])
            if let slide = SlideRow(r, instancePK: pk, seriesPK: seriesPK) { try await db.query(SlideRow.insertPostgres, slide.values) }
            return .replaced(previousBlob: BlobKey(row[1].text ?? ""), conflict: conflict)
        }
        let inserted = try await db.query(
            "INSERT INTO instances (series_pk, sop_class, instance_number, transfer_syntax, blob_key, size_bytes, stored_at, "
                + "source_aet, source_institution, attributes, sop_uid) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING pk",
            values + [.text(r.sopInstanceUID)])
        if let pk = inserted.first?.first?.integer, let slide = SlideRow(r, instancePK: pk, seriesPK: seriesPK) {
            try await db.query(SlideRow.insertPostgres, slide.values)
        }
        return .inserted(conflict: conflict)
    }

    /// The key of the row `select` finds, or of the row `insert` creates (`$1` is `key`, then `values`); when a
    /// concurrent transaction created it first, theirs.
    private static func upsert(_ db: PostgresSession, select: String, key: SQLValue, insert: String, values: [SQLValue])
        async throws(ArchiveError) -> Int64
    {
        if let pk = try await db.query(select, [key]).first?.first?.integer { return pk }
        if let pk = try await db.query(insert, [key] + values).first?.first?.integer { return pk }
        if let pk = try await db.query(select, [key]).first?.first?.integer { return pk }
        throw .database(operation: String(insert.prefix(40)), code: 0, message: "row neither inserted nor found")
    }

    // MARK: - URL

    private struct Configuration {
        var client: PostgresClient.Configuration
        var direct: PostgresConnection.Configuration
        var display: String
    }

    /// Reads `postgres://user:password@host:port/database` (or `postgresql://`), with libpq's `sslmode` and
    /// `sslrootcert` query parameters for TLS (``tls(mode:rootCertificate:invalid:)``).
    private static func configuration(_ url: String) throws(ArchiveError) -> Configuration {
        func invalid(_ reason: String) -> ArchiveError {
            .database(operation: "open \(url.split(separator: "@").last.map(String.init) ?? "")", code: 0, message: reason)
        }
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? "") else {
            throw invalid("expected postgres://user:password@host:port/database")
        }
        guard let host = components.host, !host.isEmpty else { throw invalid("the URL names no host") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else { throw invalid("the URL names no database") }
        let user = components.user ?? "postgres"
        let port = components.port ?? 5432
        var parameters: [String: String] = [:]
        for item in components.queryItems ?? [] {
            guard ["sslmode", "sslrootcert"].contains(item.name) else {
                throw invalid("unknown URL parameter \(item.name) (sslmode and sslrootcert are understood)")
            }
            parameters[item.name] = item.value ?? ""
        }
        let mode = parameters["sslmode"] ?? "disable"
        let tls = try tls(mode: mode, rootCertificate: parameters["sslrootcert"], invalid: invalid)
        var client = PostgresClient.Configuration(
            host: host, port: port, username: user, password: components.password, database: database, tls: tls.client)
        client.options.minimumConnections = 0
        let direct = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: components.password, database: database, tls: tls.direct)
        let display = "postgres://\(user)@\(host):\(port)/\(database)" + (mode == "disable" ? "" : "?sslmode=\(mode)")
        return Configuration(client: client, direct: direct, display: display)
    }

    /// TLS as libpq's `sslmode` describes it: `disable` (the default here), `allow` and `prefer` (TLS when the server
    /// offers it), `require` (TLS, the certificate unchecked unless `sslrootcert` names a CA file, as libpq does),
    /// `verify-ca` (the chain checked against `sslrootcert`, or the system's CAs), `verify-full` (the chain and the host
    /// name). PostgreSQL's own TLS negotiation (SSLRequest) through PostgresNIO and swift-nio-ssl.
    private static func tls(mode: String, rootCertificate: String?, invalid: (String) -> ArchiveError) throws(ArchiveError) -> (
        client: PostgresClient.Configuration.TLS, direct: PostgresConnection.Configuration.TLS
    ) {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let rootCertificate, !rootCertificate.isEmpty {
            guard FileManager.default.isReadableFile(atPath: rootCertificate) else {
                throw invalid("sslrootcert \(rootCertificate) is not a readable file")
            }
            configuration.trustRoots = .file(rootCertificate)
        }
        let hasRoot = rootCertificate.map { !$0.isEmpty } ?? false
        switch mode {
        case "disable": return (.disable, .disable)
        case "allow", "prefer", "require":
            configuration.certificateVerification = hasRoot ? .noHostnameVerification : .none
        case "verify-ca": configuration.certificateVerification = .noHostnameVerification
        case "verify-full": configuration.certificateVerification = .fullVerification
        default: throw invalid("sslmode \(mode) is not one of disable, allow, prefer, require, verify-ca, verify-full")
        }
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw invalid("TLS settings: \(error)")
        }
        if mode == "require" || mode.hasPrefix("verify") { return (.require(configuration), .require(context)) }
        return (.prefer(configuration), .prefer(context))
    }
}

private func json(_ dataSet: DataSet) -> [UInt8] { DICOMJSONEncoder().encode(dataSet) }

/// A value handed to a child task of a task group that ends before the value's owner returns (the query closure of
/// ``PostgresIndex``'s lease, which is not `Sendable` but never runs concurrently with its owner).
private struct UncheckedSendableBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
