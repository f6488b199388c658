import DICOM
import Foundation

/// The one writing connection. Concurrent inserts are committed together: the first caller leads, yields so that
/// the others can queue, then commits the whole batch in one transaction (one WAL fsync) and hands each caller its
/// result. Each insert runs in a savepoint, so one bad record fails alone.
///
/// In blob-log mode (``IndexDurability/recoverFromBlobs``) the connection runs with `synchronous=NORMAL`, and the
/// writer syncs only what recovery from the blobs cannot redo: the first commit of the process (which marks the
/// state unclean), deletions and replacements (with their tombstones), and the checkpoints.
actor SQLiteWriter {
    private let connection: SQLiteConnection
    private let blobLog: Bool
    /// Set while the state says unclean and recovery has not run: checkpoints must not move the recovery point.
    private(set) var pendingRecovery: Double?
    /// Whether the state on disk says clean, so that the next write must first mark it unclean, synced.
    private var markedClean = true
    /// Commits since the last checkpoint.
    private var unsyncedCommits = 0
    private var pending: [Pending] = []
    private var waiters: [Int: CheckedContinuation<IndexInsertResult, any Error>] = [:]
    private var committing = false
    private var nextID = 0

    private struct Pending {
        let id: Int
        let record: InstanceRecord
        let policy: DuplicatePolicy
    }

    init(connection: SQLiteConnection, blobLog: Bool = false, pendingRecovery: Double? = nil) {
        self.connection = connection
        self.blobLog = blobLog
        self.pendingRecovery = pendingRecovery
        markedClean = pendingRecovery == nil
    }

    /// Runs `body` in one transaction whose commit is synced (`synchronous=FULL` for it alone, in blob-log mode).
    private func synced<T>(_ body: () throws(ArchiveError) -> T) throws(ArchiveError) -> T {
        if blobLog { try connection.execute("PRAGMA synchronous = FULL") }
        defer { if blobLog { try? connection.execute("PRAGMA synchronous = NORMAL") } }
        try connection.execute("BEGIN IMMEDIATE")
        do throws(ArchiveError) {
            let result = try body()
            try connection.execute("COMMIT")
            return result
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }

    /// Before the first unsynced commit: the state on disk must say unclean, so that a power loss sends the next start
    /// to recovery.
    private func markUnclean() throws(ArchiveError) {
        guard blobLog, markedClean else { return }
        try synced { () throws(ArchiveError) in try connection.execute("UPDATE blob_log_state SET clean = 0 WHERE id = 1") }
        markedClean = false
    }

    func checkpoint(syncedThrough: Double, clean: Bool) throws(ArchiveError) {
        guard blobLog, pendingRecovery == nil else { return }
        // Nothing new since the last checkpoint: the state on disk already says what this one would.
        if unsyncedCommits == 0 && markedClean == clean { return }
        try writeCheckpoint(syncedThrough: syncedThrough, clean: clean)
    }

    func finishRecovery(syncedThrough: Double) throws(ArchiveError) {
        guard blobLog else { return }
        pendingRecovery = nil
        try writeCheckpoint(syncedThrough: syncedThrough, clean: false)
    }

    private func writeCheckpoint(syncedThrough: Double, clean: Bool) throws(ArchiveError) {
        let milliseconds = Int64((syncedThrough * 1000).rounded(.down))
        try synced { () throws(ArchiveError) in
            try connection.query(
                "UPDATE blob_log_state SET synced_through_ms = ?, clean = ? WHERE id = 1",
                [.integer(milliseconds), .integer(clean ? 1 : 0)])
            // A tombstone matters only while its blob is young enough to be a recovery candidate.
            try connection.query("DELETE FROM deleted_blobs WHERE deleted_at_ms < ?", [.integer(milliseconds - 60_000)])
        }
        unsyncedCommits = 0
        markedClean = clean
    }

    /// Tombstones for blobs about to be unlinked (in the caller's transaction).
    private func bury(_ keys: [BlobKey]) throws(ArchiveError) {
        guard blobLog else { return }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for key in keys {
            try connection.query(
                "INSERT OR REPLACE INTO deleted_blobs (blob_key, deleted_at_ms) VALUES (?, ?)", [.text(key.rawValue), .integer(now)])
        }
    }

    func insert(_ record: InstanceRecord, _ policy: DuplicatePolicy) async throws(ArchiveError) -> IndexInsertResult {
        let id = nextID
        nextID += 1
        if committing {
            do {
                return try await withCheckedThrowingContinuation { continuation in
                    pending.append(Pending(id: id, record: record, policy: policy))
                    waiters[id] = continuation
                }
            } catch let error as ArchiveError {
                throw error
            } catch {
                throw .database(operation: "insert", code: 0, message: "\(error)")
            }
        }
        committing = true
        defer { committing = false }
        pending.append(Pending(id: id, record: record, policy: policy))
        await Task.yield()
        let batch = pending
        pending = []
        var results = commit(batch)
        guard let mine = results.removeValue(forKey: id) else {
            throw .database(operation: "insert", code: 0, message: "the batch lost an insert")
        }
        for (other, result) in results {
            guard let waiter = waiters.removeValue(forKey: other) else { continue }
            waiter.resume(with: result.mapError { $0 as any Error })
        }
        return try mine.get()
    }

    private func commit(_ batch: [Pending]) -> [Int: Result<IndexInsertResult, ArchiveError>] {
        var results: [Int: Result<IndexInsertResult, ArchiveError>] = [:]
        do throws(ArchiveError) {
            try markUnclean()
            try connection.execute("BEGIN IMMEDIATE")
            for item in batch {
                do throws(ArchiveError) {
                    try connection.execute("SAVEPOINT one")
                    let result = try insertOne(item.record, item.policy)
                    try connection.execute("RELEASE one")
                    results[item.id] = .success(result)
                } catch {
                    try? connection.execute("ROLLBACK TO one")
                    try? connection.execute("RELEASE one")
                    results[item.id] = .failure(error)
                }
            }
            try connection.execute("COMMIT")
            unsyncedCommits += 1
            // A replaced blob is unlinked as soon as this returns: its replacement (and the tombstone that keeps the
            // old file from being revived) must be on disk first.
            if blobLog, results.values.contains(where: { if case .success(.replaced) = $0 { true } else { false } }) {
                try synced { () throws(ArchiveError) in
                    try connection.execute("UPDATE blob_log_state SET clean = 0 WHERE id = 1")
                }
            }
        } catch {
            try? connection.execute("ROLLBACK")
            for item in batch { results[item.id] = .failure(error) }
        }
        return results
    }

    private func insertOne(_ r: InstanceRecord, _ policy: DuplicatePolicy) throws(ArchiveError) -> IndexInsertResult {
        let existing = try connection.query("SELECT pk, blob_key FROM instances WHERE sop_uid = ?", [.text(r.sopInstanceUID)])
        if let row = existing.first, policy == .ignore {
            return .alreadyStored(existingBlob: BlobKey(row[1].text ?? ""))
        }
        let incomingName = r.patient.string(.patientName) ?? ""
        let incomingBirthDate = normalizedDate(r.patient.string(.patientBirthDate) ?? "")
        var conflict: PatientConflict?
        let patientPK: Int64
        let patients = try connection.query(
            "SELECT pk, name, birth_date FROM patients WHERE patient_id = ? AND issuer = ?",
            [.text(r.patientID), .text(r.issuerOfPatientID)])
        if let row = patients.first, let pk = row[0].integer {
            patientPK = pk
            let storedName = row[1].text ?? ""
            let storedBirthDate = row[2].text ?? ""
            if storedName != incomingName || storedBirthDate != incomingBirthDate {
                let c = PatientConflict(
                    patientID: r.patientID, issuerOfPatientID: r.issuerOfPatientID, storedName: storedName,
                    storedBirthDate: storedBirthDate, incomingName: incomingName, incomingBirthDate: incomingBirthDate,
                    sopInstanceUID: r.sopInstanceUID, sourceAETitle: r.source.applicationEntityTitle ?? "",
                    sourceInstitution: r.source.institution ?? "")
                try connection.query(
                    "INSERT INTO patient_conflicts (patient_pk, patient_id, issuer, stored_name, stored_birth_date, "
                        + "incoming_name, incoming_birth_date, sop_uid, source_aet, source_institution, recorded_at) "
                        + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        .integer(pk), .text(c.patientID), .text(c.issuerOfPatientID), .text(c.storedName),
                        .text(c.storedBirthDate), .text(c.incomingName), .text(c.incomingBirthDate), .text(c.sopInstanceUID),
                        .text(c.sourceAETitle), .text(c.sourceInstitution), .text(indexTimestamp()),
                    ])
                conflict = c
            }
        } else {
            try connection.query(
                "INSERT INTO patients (patient_id, issuer, name, name_search, birth_date, sex, attributes) "
                    + "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    .text(r.patientID), .text(r.issuerOfPatientID), .text(incomingName), .text(nameSearchText(incomingName)),
                    .text(incomingBirthDate), .text(r.patient.string(.patientSex) ?? ""), .blob(json(r.patient)),
                ])
            patientPK = connection.lastInsertRowID
        }

        let studyPK: Int64
        if let pk = try connection.query("SELECT pk FROM studies WHERE study_uid = ?", [.text(r.studyInstanceUID)]).first?[0].integer {
            studyPK = pk
        } else {
            let s = r.study
            try connection.query(
                "INSERT INTO studies (patient_pk, study_uid, study_date, study_time, accession, study_id, referring_search, "
                    + "attributes, institution) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    .integer(patientPK), .text(r.studyInstanceUID), .text(normalizedDate(s.string(.studyDate) ?? "")),
                    .text(s.string(.studyTime) ?? ""), .text(s.string(.accessionNumber) ?? ""), .text(s.string(.studyID) ?? ""),
                    .text(nameSearchText(s.string(.referringPhysicianName) ?? "")), .blob(json(s)), .text(r.source.institution ?? ""),
                ])
            studyPK = connection.lastInsertRowID
        }

        let seriesPK: Int64
        if let pk = try connection.query("SELECT pk FROM series WHERE series_uid = ?", [.text(r.seriesInstanceUID)]).first?[0].integer {
            seriesPK = pk
        } else {
            try connection.query(
                "INSERT INTO series (study_pk, series_uid, modality, series_number, attributes) VALUES (?, ?, ?, ?, ?)",
                [
                    .integer(studyPK), .text(r.seriesInstanceUID), .text(r.series.string(.modality) ?? ""),
                    .text(r.series.string(.seriesNumber) ?? ""), .blob(json(r.series)),
                ])
            seriesPK = connection.lastInsertRowID
        }

        let values: [SQLValue] = [
            .integer(seriesPK), .text(r.sopClassUID), .text(r.instance.string(.instanceNumber) ?? ""), .text(r.transferSyntaxUID),
            .text(r.blobKey.rawValue), .integer(Int64(r.sizeBytes)), .text(indexTimestamp()),
            .text(r.source.applicationEntityTitle ?? ""), .text(r.source.institution ?? ""), .blob(json(r.instance)),
        ]
        if let row = existing.first, let pk = row[0].integer {
            try connection.query(
                "UPDATE instances SET series_pk = ?, sop_class = ?, instance_number = ?, transfer_syntax = ?, blob_key = ?, "
                    + "size_bytes = ?, stored_at = ?, source_aet = ?, source_institution = ?, attributes = ? WHERE pk = ?",
                values + [.integer(pk)])
            try bury([BlobKey(row[1].text ?? "")])
            try connection.query("DELETE FROM slide_instances WHERE instance_pk = ?", [.integer(pk)])
            if let slide = SlideRow(r, instancePK: pk, seriesPK: seriesPK) {
                try connection.query(SlideRow.insertSQLite, slide.values)
            }
            return .replaced(previousBlob: BlobKey(row[1].text ?? ""), conflict: conflict)
        }
        try connection.query(
            "INSERT INTO instances (series_pk, sop_class, instance_number, transfer_syntax, blob_key, size_bytes, stored_at, "
                + "source_aet, source_institution, attributes, sop_uid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            values + [.text(r.sopInstanceUID)])
        if let slide = SlideRow(r, instancePK: connection.lastInsertRowID, seriesPK: seriesPK) {
            try connection.query(SlideRow.insertSQLite, slide.values)
        }
        return .inserted(conflict: conflict)
    }

    func delete(_ target: DeletionTarget) throws(ArchiveError) -> [BlobKey] {
        let scope: String
        var bindings: [SQLValue] = []
        switch target {
        case .patient(let patientID, let issuer):
            scope = issuer == nil ? "p.patient_id = ?" : "p.patient_id = ? AND p.issuer = ?"
            bindings = [.text(patientID)] + (issuer.map { [.text($0)] } ?? [])
        case .study(let uid):
            scope = "st.study_uid = ?"
            bindings = [.text(uid)]
        case .series(let study, let series):
            scope = study == nil ? "se.series_uid = ?" : "se.series_uid = ? AND st.study_uid = ?"
            bindings = [.text(series)] + (study.map { [.text($0)] } ?? [])
        case .instance(let uid):
            scope = "i.sop_uid = ?"
            bindings = [.text(uid)]
        }
        let join =
            "FROM instances i JOIN series se ON se.pk = i.series_pk JOIN studies st ON st.pk = se.study_pk "
            + "JOIN patients p ON p.pk = st.patient_pk WHERE " + scope
        // Synced (in blob-log mode too), with tombstones: the blobs are unlinked as soon as this returns.
        try markUnclean()
        return try synced { () throws(ArchiveError) -> [BlobKey] in
            let blobs = try connection.query("SELECT i.blob_key " + join, bindings).compactMap { $0.first?.text.map(BlobKey.init) }
            try bury(blobs)
            try connection.query("DELETE FROM instances WHERE pk IN (SELECT i.pk " + join + ")", bindings)
            // Entities left empty go too; an empty patient or study selected by the target goes with them.
            switch target {
            case .patient(_, let issuer):
                try connection.query(
                    "DELETE FROM patients WHERE patient_id = ?" + (issuer == nil ? "" : " AND issuer = ?"), bindings)
            case .study(let uid): try connection.query("DELETE FROM studies WHERE study_uid = ?", [.text(uid)])
            case .series(_, let uid): try connection.query("DELETE FROM series WHERE series_uid = ?", [.text(uid)])
            case .instance: break
            }
            try connection.execute(
                "DELETE FROM series WHERE NOT EXISTS (SELECT 1 FROM instances i WHERE i.series_pk = series.pk); "
                    + "DELETE FROM studies WHERE NOT EXISTS (SELECT 1 FROM series s WHERE s.study_pk = studies.pk); "
                    + "DELETE FROM patients WHERE NOT EXISTS (SELECT 1 FROM studies s WHERE s.patient_pk = patients.pk)")
            return blobs
        }
    }
}

private func json(_ dataSet: DataSet) -> [UInt8] { DICOMJSONEncoder().encode(dataSet) }
