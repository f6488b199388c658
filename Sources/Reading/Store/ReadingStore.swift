import Archive
import DICOM
import Foundation
import Platform
import Synchronization

/// The settings of the workflow: service levels, how long a claim's lease lasts without a heartbeat, and how long an
/// unacknowledged critical result waits before it is escalated.
public struct ReadingSettings: Sendable, Equatable {
    public var serviceLevels = ServiceLevels()
    public var leaseSeconds: Double = 90
    public var escalationSeconds: Double = 15 * 60
    /// The name printed at the head of reports (the reading institution).
    public var readingInstitution = "Atrium"
    /// Whether notifications also go out by e-mail (SMTP configured): then they are written to the mail outbox.
    public var mail = false
    /// The web application's absolute base URL for the links in e-mails ("" for paths only).
    public var mailLinkBase = ""

    public init() {}
}

/// Filters of the readers' worklist (nil or empty: no restriction).
public struct WorklistFilter: Sendable, Hashable {
    /// Work item states; by default the open ones (SCHEDULED and IN PROGRESS).
    public var states: Set<WorkItemState> = [.scheduled, .inProgress]
    public var priority: Priority?
    public var modality: String?
    public var bodyPart: String?
    public var institution: String?
    /// The reader who holds the lock (username).
    public var owner: String?
    public var serviceLines: Set<ServiceLine> = Set(ServiceLine.allCases)
    public var limit = 200

    public init() {}
}

/// A signed version whose documents are still to be stored, with the UIDs its SR gets.
public struct PendingDocument: Sendable, Equatable {
    public var reportID: Int64
    public var version: Int
    public var seriesInstanceUID: String
    public var sopInstanceUID: String
    /// The SR of the version before (an addendum's predecessor), if any.
    public var predecessorSOPInstanceUID: String?
}

/// One row of the worklist: a work item with its request and where its report stands.
public struct WorklistEntry: Sendable, Equatable {
    public var request: ConsultationRequest
    public var item: WorkItem
    public var reportStatus: ReportStatus?
}

/// How many open items each priority and state has, under the worklist's other filters.
public struct WorklistCounts: Sendable, Equatable {
    public var byPriority: [Priority: Int] = [:]
    public var byState: [WorkItemState: Int] = [:]
    public var total = 0
}

/// Consultation requests, work items and their locks, reports and their signed versions, critical results,
/// notifications and events, in the platform's database (SQLite or PostgreSQL through ``PlatformDatabase``).
///
/// Every operation reads the current rows, applies a pure transition of ``ReadingTransitions``, and writes the result
/// in one transaction whose first statement only matches the row it read (its revision): if someone changed it
/// meanwhile, nothing is written and the caller gets ``ReadingError/conflict(_:)``. Every view, claim, sign, addendum
/// and acknowledgement is recorded in the audit trail; every change is published on ``changes``.
public final class ReadingStore: Sendable {
    let database: any PlatformDatabase
    public let audit: AuditTrail
    public let settings: ReadingSettings
    public let changes = ReadingChanges()
    let clock: @Sendable () -> Date
    private let migrated = Mutex(false)
    /// Bumped after every write this store makes: the worklist's counts are cached until it changes.
    private let writes = Atomic<Int>(0)
    private let countsCache = Mutex<[WorklistFilter: CachedCounts]>([:])

    private struct CachedCounts {
        var writes: Int
        var at: ContinuousClock.Instant
        var counts: WorklistCounts
    }

    package init(database: any PlatformDatabase, audit: AuditTrail, settings: ReadingSettings, clock: @escaping @Sendable () -> Date) {
        self.database = database
        self.audit = audit
        self.settings = settings
        self.clock = clock
    }

    /// The store in the identity store's database, with its audit trail.
    public static func make(
        identity: IdentityStore, settings: ReadingSettings = ReadingSettings(), clock: @escaping @Sendable () -> Date = { Date() }
    ) -> ReadingStore {
        let store = ReadingStore(database: identity.database, audit: identity.audit, settings: settings, clock: clock)
        // Several processes on one PostgreSQL: their changes reach this one's worklists and UPS channels, and its
        // cached counts are stale after each of theirs.
        if let cluster = identity.cluster {
            store.changes.connect(cluster) { [weak store] in store?.writes.add(1, ordering: .releasing) }
        }
        return store
    }

    /// Creates or migrates the tables now (otherwise the first call does).
    public func prepare() async throws(ReadingError) {
        if migrated.withLock({ $0 }) { return }
        do {
            try await database.migrate(
                versionTable: ReadingSchema.versionTable, lockKey: ReadingSchema.lockKey, migrations: ReadingSchema.migrations)
        } catch {
            throw .database("\(error)")
        }
        migrated.withLock { $0 = true }
    }

    public var now: Date { clock() }

    // MARK: - SQL helpers

    @discardableResult
    func query(_ sql: String, _ bindings: [SQLValue] = []) async throws(ReadingError) -> [[SQLValue]] {
        try await prepare()
        do {
            let rows = try await database.query(sql, bindings)
            if !sql.hasPrefix("SELECT") { writes.add(1, ordering: .releasing) }
            return rows
        } catch {
            throw Self.mapped(error)
        }
    }

    func transaction(_ steps: [SQLStep]) async throws(ReadingError) -> [[[SQLValue]]]? {
        try await prepare()
        defer { writes.add(1, ordering: .releasing) }
        do {
            return try await database.transaction(guarded: steps)
        } catch {
            throw Self.mapped(error)
        }
    }

    static func mapped(_ error: PlatformError) -> ReadingError {
        switch error {
        case .invalid(let message) where message.hasPrefix("already exists"): .conflict("someone else made the same change first")
        case .invalid(let message): .invalid(message)
        case .notFound(let what): .notFound(what)
        case .database(let message): .database(message)
        }
    }

    static func ms(_ date: Date) -> SQLValue { .integer(Int64((date.timeIntervalSince1970 * 1000).rounded())) }
    static func ms(_ date: Date?) -> SQLValue { date.map { ms($0) } ?? .null }
    static func date(_ value: SQLValue) -> Date? { value.integer.map { Date(timeIntervalSince1970: Double($0) / 1000) } }
    static func text(_ value: String?) -> SQLValue { value.map(SQLValue.text) ?? .null }

    static func sectionsJSON(_ sections: [ReportSection]) -> String {
        (try? JSONEncoder().encode(sections)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }

    static func sections(_ text: String?) -> [ReportSection] {
        (try? JSONDecoder().decode([ReportSection].self, from: Data((text ?? "[]").utf8))) ?? []
    }

    static func event(_ requestID: Int64, _ kind: String, _ actor: String, _ detail: String, at time: Date) -> SQLStep {
        SQLStep(
            "INSERT INTO consultation_events (request_id, time, kind, actor, detail) VALUES (?, ?, ?, ?, ?)",
            [.integer(requestID), ms(time), .text(kind), .text(actor), .text(detail)])
    }

    static func notification(institution: String?, recipient: String?, kind: String, requestID: Int64, at time: Date) -> SQLStep {
        SQLStep(
            "INSERT INTO reading_notifications (institution_code, recipient, kind, request_id, created_at) VALUES (?, ?, ?, ?, ?)",
            [text(institution), text(recipient), .text(kind), .integer(requestID), ms(time)])
    }

    /// Records an audit event about a request (PS3.15 A.5.3.2 DICOM Instances Accessed, with the studies and the patient
    /// as participants). The detail never holds report text or patient names.
    func record(
        _ action: AuditAction, _ actor: ReadingActor, _ request: ConsultationRequest?, _ detail: String, outcome: AuditOutcome = .success
    ) async {
        var participants = (request?.studies ?? []).map(AuditParticipant.study)
        if let id = request?.patientID, !id.isEmpty { participants.append(.patient(id)) }
        await audit.record(
            AuditEvent(
                eventID: .instancesAccessed, action: action, outcome: outcome, user: actor.username, sourceAddress: actor.sourceAddress,
                transport: actor.transport, participants: participants, detail: detail))
    }

    func publish(_ kind: String, _ request: ConsultationRequest, item: Int64?, actor: ReadingActor, detail: String = "") {
        changes.publish(
            ReadingChange(
                kind: kind, requestID: request.id, workItemID: item, institutionCode: request.institutionCode, actor: actor.username,
                detail: detail))
    }

    // MARK: - Requests

    static let requestColumns =
        "r.id, r.service_line, r.priority, r.status, r.institution_code, r.requested_by, r.referring_physician, r.clinical_history, "
        + "r.question, r.accession_number, r.modality, r.body_part, r.patient_name, r.patient_id, r.created_at, r.deadline_at, r.updated_at"
    static let requestColumnCount = 17

    static func requestRow(_ row: [SQLValue], offset o: Int = 0) -> ConsultationRequest {
        func t(_ i: Int) -> String { row[o + i].text ?? "" }
        return ConsultationRequest(
            id: row[o].integer ?? 0, serviceLine: ServiceLine(rawValue: t(1)) ?? .imaging, priority: Priority(rawValue: t(2)) ?? .routine,
            status: RequestStatus(rawValue: t(3)) ?? .requested, institutionCode: t(4), requestedBy: t(5), referringPhysician: t(6),
            clinicalHistory: t(7), question: t(8), accessionNumber: t(9), modality: t(10), bodyPart: t(11), patientName: t(12),
            patientID: t(13), createdAt: date(row[o + 14]) ?? Date(timeIntervalSince1970: 0),
            deadline: date(row[o + 15]) ?? Date(timeIntervalSince1970: 0), updatedAt: date(row[o + 16]) ?? Date(timeIntervalSince1970: 0))
    }

    /// Fills each request's linked studies.
    func withStudies(_ requests: [ConsultationRequest]) async throws(ReadingError) -> [ConsultationRequest] {
        if requests.isEmpty { return [] }
        let ids = requests.map(\.id)
        let placeholders = Array(repeating: "?", count: ids.count).joined(separator: ", ")
        let rows = try await query(
            "SELECT request_id, study_instance_uid FROM consultation_studies WHERE request_id IN (\(placeholders)) "
                + "ORDER BY request_id, study_instance_uid", ids.map(SQLValue.integer))
        var studies: [Int64: [String]] = [:]
        for row in rows { studies[row[0].integer ?? 0, default: []].append(row[1].text ?? "") }
        return requests.map { request in
            var request = request
            request.studies = studies[request.id] ?? []
            return request
        }
    }

    /// Files a request for `institution`'s studies: the request, its links to the studies, its SCHEDULED work item and
    /// its first event, in one transaction.
    /// `itemUID` is the work item's SOP Instance UID when a UPS-RS create names one; `upsAttributes` the DICOM JSON of the
    /// attributes such a create gave, kept with the item in the same transaction.
    public func file(
        _ new: NewConsultationRequest, institution: String, by actor: ReadingActor, itemUID: String? = nil, upsAttributes: String? = nil
    ) async throws(ReadingError) -> (
        ConsultationRequest, WorkItem
    ) {
        let question = new.question.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !question.isEmpty else { throw .invalid("a request asks a question") }
        guard !institution.isEmpty else { throw .invalid("a request comes from an institution") }
        for field in [new.question, new.clinicalHistory, new.referringPhysician] where field.count > 20_000 {
            throw .invalid("a field of a request has at most 20000 characters")
        }
        for study in new.studies where !UID.isValid(study) { throw .invalid("\(study) is not a Study Instance UID") }
        guard !new.studies.isEmpty || !new.accessionNumber.isEmpty else {
            throw .invalid("a request names at least one study, or the accession number of a study still to come")
        }
        let now = clock()
        let deadline = settings.serviceLevels.deadline(for: new.priority, requestedAt: now)
        let uid = UID.generate()
        if let itemUID, !UID.isValid(itemUID) { throw .invalid("\(itemUID) is not a UID") }
        let itemUID = itemUID ?? UID.generate()
        let byUID = "FROM consultation_requests WHERE uid = ?"
        var steps = [
            SQLStep(
                "INSERT INTO consultation_requests (uid, service_line, priority, status, institution_code, requested_by, "
                    + "referring_physician, clinical_history, question, accession_number, modality, body_part, patient_name, patient_id, "
                    + "created_at, deadline_at, updated_at) VALUES (?, ?, ?, 'requested', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                [
                    .text(uid), .text(new.serviceLine.rawValue), .text(new.priority.rawValue), .text(institution), .text(actor.username),
                    .text(new.referringPhysician), .text(new.clinicalHistory), .text(question), .text(new.accessionNumber),
                    .text(new.modality), .text(new.bodyPart), .text(new.patientName), .text(new.patientID), Self.ms(now),
                    Self.ms(deadline), Self.ms(now),
                ], guarded: true)
        ]
        for study in Set(new.studies).sorted() {
            steps.append(
                SQLStep(
                    "INSERT INTO consultation_studies (request_id, study_instance_uid) SELECT id, ? \(byUID)", [.text(study), .text(uid)]))
        }
        steps.append(
            SQLStep(
                "INSERT INTO work_items (uid, request_id, kind, state, created_at, revision, deadline_at, priority, service_line) "
                    + "SELECT ?, id, 'primary', 'SCHEDULED', ?, 0, deadline_at, priority, service_line \(byUID) RETURNING id",
                [.text(itemUID), Self.ms(now), .text(uid)], guarded: true))
        let itemStep = steps.count - 1
        if let upsAttributes {
            steps.append(
                SQLStep(
                    "INSERT INTO ups_attributes (work_item_id, dataset) SELECT id, ? FROM work_items WHERE uid = ?",
                    [.text(upsAttributes), .text(itemUID)]))
        }
        if new.priority != .routine {
            steps += mailSteps(
                .newRequest,
                request: ConsultationRequest(
                    id: 0, serviceLine: new.serviceLine, priority: new.priority, status: .requested, institutionCode: institution,
                    requestedBy: actor.username, referringPhysician: "", clinicalHistory: "", question: "", createdAt: now,
                    deadline: deadline,
                    updatedAt: now), requestUID: uid, at: now)
        }
        steps.append(
            SQLStep(
                "INSERT INTO consultation_events (request_id, time, kind, actor, detail) SELECT id, ?, 'requested', ?, ? \(byUID)",
                [Self.ms(now), .text(actor.username), .text("priority \(new.priority.rawValue)"), .text(uid)]))
        guard let results = try await transaction(steps), let requestID = results[0].first?.first?.integer,
            let itemID = results[itemStep].first?.first?.integer
        else { throw .database("the new request was not written") }
        let request = ConsultationRequest(
            id: requestID, serviceLine: new.serviceLine, priority: new.priority, status: .requested, institutionCode: institution,
            requestedBy: actor.username, referringPhysician: new.referringPhysician, clinicalHistory: new.clinicalHistory,
            question: question, accessionNumber: new.accessionNumber, modality: new.modality, bodyPart: new.bodyPart,
            patientName: new.patientName, patientID: new.patientID, studies: Set(new.studies).sorted(), createdAt: now, deadline: deadline,
            updatedAt: now)
        let item = WorkItem(id: itemID, uid: itemUID, requestID: requestID, createdAt: now)
        await record(.create, actor, request, "consultation \(requestID) requested (\(new.priority.rawValue))")
        publish("requested", request, item: itemID, actor: actor)
        // Assignment by rule follows the request's own transaction: a failure leaves the item on the worklist for anyone.
        let assigned = (try? await autoAssign(request, item: item, by: actor)) ?? item
        return (request, assigned)
    }

    /// A request by id (with its studies), or nil.
    public func request(id: Int64) async throws(ReadingError) -> ConsultationRequest? {
        let rows = try await query("SELECT \(Self.requestColumns) FROM consultation_requests r WHERE r.id = ?", [.integer(id)])
        return try await withStudies(rows.map { Self.requestRow($0) }).first
    }

    func existingRequest(_ id: Int64) async throws(ReadingError) -> ConsultationRequest {
        guard let request = try await request(id: id) else { throw .notFound("consultation request \(id)") }
        return request
    }

    /// Requests, newest first: of one institution (a site's "my requests"), or all.
    public func requests(institution: String?, limit: Int = 200) async throws(ReadingError) -> [ConsultationRequest] {
        let rows: [[SQLValue]]
        let limit = SQLValue.integer(Int64(max(1, min(limit, 10_000))))
        if let institution {
            rows = try await query(
                "SELECT \(Self.requestColumns) FROM consultation_requests r WHERE r.institution_code = ? ORDER BY r.id DESC LIMIT ?",
                [.text(institution), limit])
        } else {
            rows = try await query("SELECT \(Self.requestColumns) FROM consultation_requests r ORDER BY r.id DESC LIMIT ?", [limit])
        }
        return try await withStudies(rows.map { Self.requestRow($0) })
    }

    /// The open requests (no final report yet) of one service line for one patient of an institution, oldest first.
    public func openRequests(serviceLine: ServiceLine, institution: String, patientID: String) async throws(ReadingError)
        -> [ConsultationRequest]
    {
        let rows = try await query(
            "SELECT \(Self.requestColumns) FROM consultation_requests r WHERE r.service_line = ? AND r.institution_code = ? "
                + "AND r.patient_id = ? ORDER BY r.id",
            [.text(serviceLine.rawValue), .text(institution), .text(patientID)])
        return try await withStudies(rows.map { Self.requestRow($0) }.filter { $0.status.isOpen })
    }

    /// Records that someone looked at a request or its report (the audit trail's "every view").
    public func recordView(_ request: ConsultationRequest, by actor: ReadingActor, what: String) async {
        await record(.read, actor, request, "consultation \(request.id): \(what) viewed")
    }

    /// The site withdraws its request while nobody has claimed it.
    public func withdraw(requestID: Int64, by actor: ReadingActor) async throws(ReadingError) -> ConsultationRequest {
        let request = try await existingRequest(requestID)
        // The latest first reading: a canceled one may have been replaced by a new SCHEDULED item.
        guard let item = try await workItems(requestID: requestID).last(where: { $0.kind == .primary }) else {
            throw .notFound("work item of request \(requestID)")
        }
        let (nextRequest, nextItem) = try ReadingTransitions.withdraw(request, item: item)
        let now = clock()
        let steps = [
            Self.writeItem(nextItem, expected: item.revision),
            SQLStep(
                "UPDATE consultation_requests SET status = 'withdrawn', updated_at = ? WHERE id = ? AND status = 'requested' RETURNING id",
                [Self.ms(now), .integer(requestID)], guarded: true),
            Self.event(requestID, "withdrawn", actor.username, "", at: now),
        ]
        guard try await transaction(steps) != nil else { throw .conflict("the request was claimed meanwhile") }
        await record(.update, actor, request, "consultation \(requestID) withdrawn")
        publish("withdrawn", nextRequest, item: item.id, actor: actor)
        return nextRequest
    }

    /// The request's events, oldest first.
    public func events(requestID: Int64) async throws(ReadingError) -> [ConsultationEvent] {
        try await query(
            "SELECT id, request_id, time, kind, actor, detail FROM consultation_events WHERE request_id = ? ORDER BY time, id",
            [.integer(requestID)]
        ).map { row in
            ConsultationEvent(
                id: row[0].integer ?? 0, requestID: row[1].integer ?? 0, time: Self.date(row[2]) ?? Date(), kind: row[3].text ?? "",
                actor: row[4].text ?? "", detail: row[5].text ?? "")
        }
    }

    /// Open requests that name an accession number and have no study yet, for linking studies that arrive later.
    public func requestsAwaitingAccession(institution: String? = nil) async throws(ReadingError) -> [ConsultationRequest] {
        var sql =
            "SELECT \(Self.requestColumns) FROM consultation_requests r WHERE r.accession_number <> '' "
            + "AND r.status IN ('requested', 'in-progress', 'preliminary') "
            + "AND NOT EXISTS (SELECT 1 FROM consultation_studies s WHERE s.request_id = r.id)"
        var bindings: [SQLValue] = []
        if let institution {
            sql += " AND r.institution_code = ?"
            bindings.append(.text(institution))
        }
        return try await withStudies(try await query(sql + " ORDER BY r.id", bindings).map { Self.requestRow($0) })
    }

    /// Links a study to a request (a later study whose accession number matches); fills the request's patient, modality
    /// and body part when it had none. Returns false when the study was linked already.
    @discardableResult
    public func linkStudy(
        requestID: Int64, studyInstanceUID: String, patientName: String, patientID: String, modality: String, bodyPart: String,
        by actor: ReadingActor
    ) async throws(ReadingError) -> Bool {
        guard UID.isValid(studyInstanceUID) else { throw .invalid("\(studyInstanceUID) is not a Study Instance UID") }
        let request = try await existingRequest(requestID)
        if request.studies.contains(studyInstanceUID) { return false }
        let now = clock()
        let steps = [
            SQLStep(
                "INSERT INTO consultation_studies (request_id, study_instance_uid) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING request_id",
                [.integer(requestID), .text(studyInstanceUID)], guarded: true),
            SQLStep(
                "UPDATE consultation_requests SET patient_name = CASE WHEN patient_name = '' THEN ? ELSE patient_name END, "
                    + "patient_id = CASE WHEN patient_id = '' THEN ? ELSE patient_id END, "
                    + "modality = CASE WHEN modality = '' THEN ? ELSE modality END, "
                    + "body_part = CASE WHEN body_part = '' THEN ? ELSE body_part END, updated_at = ? WHERE id = ?",
                [.text(patientName), .text(patientID), .text(modality), .text(bodyPart), Self.ms(now), .integer(requestID)]),
            Self.event(requestID, "study-linked", actor.username, studyInstanceUID, at: now),
        ]
        guard try await transaction(steps) != nil else { return false }
        var linked = request
        linked.studies.append(studyInstanceUID)
        await record(.update, actor, linked, "study linked to consultation \(requestID)")
        publish("study-linked", linked, item: nil, actor: actor)
        return true
    }

    // MARK: - Work items

    static let itemColumns =
        "w.id, w.uid, w.request_id, w.kind, w.state, w.owner, w.owner_name, w.transaction_uid, w.lease_until, w.claimed_at, "
        + "w.completed_at, w.assignee, w.created_at, w.revision"
    static let itemColumnCount = 14

    static func itemRow(_ row: [SQLValue], offset o: Int = 0) -> WorkItem {
        WorkItem(
            id: row[o].integer ?? 0, uid: row[o + 1].text ?? "", requestID: row[o + 2].integer ?? 0,
            kind: WorkItemKind(rawValue: row[o + 3].text ?? "") ?? .primary,
            state: WorkItemState(rawValue: row[o + 4].text ?? "") ?? .scheduled,
            owner: row[o + 5].text, ownerName: row[o + 6].text, transactionUID: row[o + 7].text, leaseUntil: date(row[o + 8]),
            claimedAt: date(row[o + 9]), completedAt: date(row[o + 10]), assignee: row[o + 11].text,
            createdAt: date(row[o + 12]) ?? Date(timeIntervalSince1970: 0), revision: row[o + 13].integer ?? 0)
    }

    /// The guarded write of a work item: matches only the revision it was read at.
    static func writeItem(_ item: WorkItem, expected revision: Int64) -> SQLStep {
        SQLStep(
            "UPDATE work_items SET state = ?, owner = ?, owner_name = ?, transaction_uid = ?, lease_until = ?, claimed_at = ?, "
                + "completed_at = ?, assignee = ?, revision = ? WHERE id = ? AND revision = ? RETURNING id",
            [
                .text(item.state.rawValue), text(item.owner), text(item.ownerName), text(item.transactionUID), ms(item.leaseUntil),
                ms(item.claimedAt), ms(item.completedAt), text(item.assignee), .integer(item.revision), .integer(item.id),
                .integer(revision),
            ], guarded: true)
    }

    public func workItem(id: Int64) async throws(ReadingError) -> WorkItem? {
        try await query("SELECT \(Self.itemColumns) FROM work_items w WHERE w.id = ?", [.integer(id)]).first.map { Self.itemRow($0) }
    }

    public func workItem(uid: String) async throws(ReadingError) -> WorkItem? {
        try await query("SELECT \(Self.itemColumns) FROM work_items w WHERE w.uid = ?", [.text(uid)]).first.map { Self.itemRow($0) }
    }

    func existingItem(_ id: Int64) async throws(ReadingError) -> WorkItem {
        guard let item = try await workItem(id: id) else { throw .notFound("work item \(id)") }
        return item
    }

    public func workItems(requestID: Int64) async throws(ReadingError) -> [WorkItem] {
        try await query("SELECT \(Self.itemColumns) FROM work_items w WHERE w.request_id = ? ORDER BY w.id", [.integer(requestID)]).map {
            Self.itemRow($0)
        }
    }

    /// The conditions and bindings of a worklist filter (without the states and priority when `counting`).
    private static func worklistConditions(_ filter: WorklistFilter, counting: Bool) -> ([String], [SQLValue]) {
        var conditions: [String] = []
        var bindings: [SQLValue] = []
        let states = counting ? [WorkItemState.scheduled, .inProgress] : WorkItemState.allCases.filter { filter.states.contains($0) }
        conditions.append("w.state IN (" + Array(repeating: "?", count: max(states.count, 1)).joined(separator: ", ") + ")")
        bindings += states.isEmpty ? [.text("")] : states.map { .text($0.rawValue) }
        let lines = ServiceLine.allCases.filter { filter.serviceLines.contains($0) }
        conditions.append("r.service_line IN (" + Array(repeating: "?", count: max(lines.count, 1)).joined(separator: ", ") + ")")
        bindings += lines.isEmpty ? [.text("")] : lines.map { .text($0.rawValue) }
        if !counting, let priority = filter.priority {
            conditions.append("r.priority = ?")
            bindings.append(.text(priority.rawValue))
        }
        for (column, value) in [
            ("r.modality", filter.modality), ("r.body_part", filter.bodyPart), ("r.institution_code", filter.institution),
        ] {
            if let value, !value.isEmpty {
                conditions.append("\(column) = ?")
                bindings.append(.text(value))
            }
        }
        if let owner = filter.owner, !owner.isEmpty {
            conditions.append("w.owner = ?")
            bindings.append(.text(owner))
        }
        return (conditions, bindings)
    }

    /// The readers' worklist: work items with their requests, soonest deadline first.
    public func worklist(_ filter: WorklistFilter) async throws(ReadingError) -> [WorklistEntry] {
        var (conditions, bindings) = Self.worklistConditions(filter, counting: false)
        if filter.states.allSatisfy({ !$0.isFinal }) {
            // Open items only: walk the open items' index in deadline order and stop at the page's end. Both state
            // conditions are written as expressions so that no other index competes (ReadingSchema, `work_items_open`).
            conditions[0] = ReadingSchema.openItems("w.") + " AND (w.state || '')" + conditions[0].dropFirst("w.state".count)
        }
        let rows = try await query(
            "SELECT \(Self.itemColumns), \(Self.requestColumns), (SELECT p.status FROM reports p WHERE p.work_item_id = w.id) "
                + "FROM work_items w JOIN consultation_requests r ON r.id = w.request_id WHERE "
                + conditions.joined(separator: " AND ") + " ORDER BY w.deadline_at, w.id LIMIT ?",
            bindings + [.integer(Int64(max(1, min(filter.limit, 10_000))))])
        let requests = try await withStudies(rows.map { Self.requestRow($0, offset: Self.itemColumnCount) })
        return zip(rows, requests).map { row, request in
            WorklistEntry(
                request: request, item: Self.itemRow(row),
                reportStatus: row[Self.itemColumnCount + Self.requestColumnCount].text.flatMap(ReportStatus.init(rawValue:)))
        }
    }

    /// Open items per priority and state under the filter's other conditions. Every poll of every reader asks for them
    /// and counting all open items is the worklist's dearest query (4–5 ms at 10,000), so they are kept until this store
    /// writes anything, and at most two seconds (another server on the same PostgreSQL may have written meanwhile).
    public func worklistCounts(_ filter: WorklistFilter) async throws(ReadingError) -> WorklistCounts {
        var key = filter
        key.states = []
        key.priority = nil
        key.limit = 0
        let generation = writes.load(ordering: .acquiring)
        let now = ContinuousClock.now
        if let cached = countsCache.withLock({ $0[key] }), cached.writes == generation, now - cached.at < .seconds(2) {
            return cached.counts
        }
        let counts = try await countOpenItems(filter)
        countsCache.withLock { cache in
            if cache.count >= 64 { cache.removeAll() }
            cache[key] = CachedCounts(writes: generation, at: now, counts: counts)
        }
        return counts
    }

    private func countOpenItems(_ filter: WorklistFilter) async throws(ReadingError) -> WorklistCounts {
        var (conditions, bindings) = Self.worklistConditions(filter, counting: true)
        // Without a filter on the requests' own columns, the items' covering index answers alone (`work_items_counts`).
        let byRequest = [filter.modality, filter.bodyPart, filter.institution].contains { !($0 ?? "").isEmpty }
        if !byRequest { conditions = conditions.map { $0.replacingOccurrences(of: "r.service_line", with: "w.service_line") } }
        let rows = try await query(
            "SELECT w.priority, w.state, COUNT(*) FROM work_items w "
                + (byRequest ? "JOIN consultation_requests r ON r.id = w.request_id " : "") + "WHERE "
                + conditions.joined(separator: " AND ") + " GROUP BY w.priority, w.state", bindings)
        var counts = WorklistCounts()
        for row in rows {
            let n = Int(row[2].integer ?? 0)
            if let priority = Priority(rawValue: row[0].text ?? "") { counts.byPriority[priority, default: 0] += n }
            if let state = WorkItemState(rawValue: row[1].text ?? "") { counts.byState[state, default: 0] += n }
            counts.total += n
        }
        return counts
    }

    /// Claims a work item (takes its lock) and opens its report (a draft from the template of the request's modality and
    /// body part). A second reader gets ``ReadingError/locked(owner:until:)``.
    public func claim(itemID: Int64, by actor: ReadingActor, transactionUID: String? = nil) async throws(ReadingError) -> WorkItem {
        let item = try await existingItem(itemID)
        if item.kind == .secondOpinion, let assignee = item.assignee, assignee != actor.username {
            throw .forbidden("this second opinion was asked of \(assignee)")
        }
        if item.kind == .doubleReading {
            if let assignee = item.assignee, assignee != actor.username {
                throw .forbidden("this double reading is assigned to \(assignee)")
            }
            let first = try await reports(requestID: item.requestID).first { $0.status.isSigned }?.author
            if first == actor.username { throw .forbidden("a double reading is made by a second reader") }
        }
        let request = try await existingRequest(item.requestID)
        let now = clock()
        let next = try ReadingTransitions.claim(
            item, by: actor, transactionUID: transactionUID ?? UID.generate(), now: now, leaseSeconds: settings.leaseSeconds)
        let template = ReportTemplates.template(modality: request.modality, bodyPart: request.bodyPart)
        var sections = template.emptySections
        if let index = sections.firstIndex(where: { $0.kind == "history" }) { sections[index].text = request.clinicalHistory }
        var steps = [Self.writeItem(next, expected: item.revision)]
        if item.kind == .primary {
            steps.append(
                SQLStep(
                    "UPDATE consultation_requests SET status = 'in-progress', updated_at = ? WHERE id = ? AND status = 'requested'",
                    [Self.ms(now), .integer(request.id)]))
        }
        steps += [
            SQLStep(
                "INSERT INTO reports (request_id, work_item_id, status, author, author_name, sections, signed_version, created_at, "
                    + "updated_at, revision) SELECT ?, ?, 'draft', ?, ?, ?, 0, ?, ?, 0 WHERE NOT EXISTS "
                    + "(SELECT 1 FROM reports WHERE work_item_id = ?)",
                [
                    .integer(request.id), .integer(item.id), .text(actor.username), .text(actor.displayName),
                    .text(Self.sectionsJSON(sections)), Self.ms(now), Self.ms(now), .integer(item.id),
                ]),
            SQLStep(
                "UPDATE reports SET author = ?, author_name = ? WHERE work_item_id = ? AND status = 'draft'",
                [.text(actor.username), .text(actor.displayName), .integer(item.id)]),
        ]
        let renewing = item.owner == actor.username && item.state == .inProgress
        if !renewing { steps.append(Self.event(request.id, "claimed", actor.username, "work item \(item.id)", at: now)) }
        guard try await transaction(steps) != nil else {
            if let current = try await workItem(id: itemID), current.isLocked(at: clock()), let owner = current.owner {
                throw .locked(owner: current.ownerName ?? owner, until: current.leaseUntil)
            }
            throw .conflict("the work item changed meanwhile")
        }
        if !renewing {
            await record(.update, actor, request, "consultation \(request.id): work item \(item.id) claimed")
            publish("claimed", request, item: item.id, actor: actor)
        }
        return next
    }

    /// The holder's heartbeat: extends the lease.
    public func renew(itemID: Int64, by actor: ReadingActor) async throws(ReadingError) -> WorkItem {
        let item = try await existingItem(itemID)
        let next = try ReadingTransitions.renew(item, by: actor, now: clock(), leaseSeconds: settings.leaseSeconds)
        let rows = try await query(
            "UPDATE work_items SET lease_until = ? WHERE id = ? AND owner = ? AND state = 'IN PROGRESS' RETURNING id",
            [Self.ms(next.leaseUntil), .integer(itemID), .text(actor.username)])
        guard !rows.isEmpty else { throw .notLockHolder("renew the lock") }
        return next
    }

    /// The holder gives the item back.
    public func release(itemID: Int64, by actor: ReadingActor) async throws(ReadingError) -> WorkItem {
        try await unlock(itemID: itemID, by: actor, kind: "released") { item throws(ReadingError) in
            try ReadingTransitions.release(item, by: actor)
        }
    }

    /// A senior reader takes the lock away (the store does not check seniority: ``ReadingAccess`` does).
    public func breakLock(itemID: Int64, by actor: ReadingActor) async throws(ReadingError) -> WorkItem {
        try await unlock(itemID: itemID, by: actor, kind: "lock-broken") { item throws(ReadingError) in
            try ReadingTransitions.breakLock(item)
        }
    }

    private func unlock(
        itemID: Int64, by actor: ReadingActor, kind: String, _ transition: (WorkItem) throws(ReadingError) -> WorkItem
    ) async throws(ReadingError) -> WorkItem {
        let item = try await existingItem(itemID)
        let request = try await existingRequest(item.requestID)
        let next = try transition(item)
        let now = clock()
        let detail = kind == "lock-broken" ? "work item \(item.id) held by \(item.owner ?? "")" : "work item \(item.id)"
        let steps = [
            Self.writeItem(next, expected: item.revision),
            SQLStep(
                "UPDATE consultation_requests SET status = 'requested', updated_at = ? WHERE id = ? AND status = 'in-progress'",
                [Self.ms(now), .integer(request.id)]),
            Self.event(request.id, kind, actor.username, detail, at: now),
        ]
        guard try await transaction(steps) != nil else { throw .conflict("the work item changed meanwhile") }
        await record(.update, actor, request, "consultation \(request.id): \(detail) \(kind)")
        publish(kind, request, item: item.id, actor: actor)
        return next
    }

    /// Releases every lock whose lease has passed (the holder's browser went away); returns the items released.
    @discardableResult
    public func expireLeases() async throws(ReadingError) -> [WorkItem] {
        let now = clock()
        let rows = try await query(
            "SELECT \(Self.itemColumns) FROM work_items w WHERE w.state = 'IN PROGRESS' AND w.lease_until <= ?", [Self.ms(now)])
        var released: [WorkItem] = []
        let system = ReadingActor(username: "system", displayName: "Atrium", transport: "internal")
        for item in rows.map({ Self.itemRow($0) }) {
            guard let next = ReadingTransitions.expire(item, now: now) else { continue }
            let steps = [
                Self.writeItem(next, expected: item.revision),
                SQLStep(
                    "UPDATE consultation_requests SET status = 'requested', updated_at = ? WHERE id = ? AND status = 'in-progress'",
                    [Self.ms(now), .integer(item.requestID)]),
                Self.event(item.requestID, "lease-expired", "system", "work item \(item.id) held by \(item.owner ?? "")", at: now),
            ]
            guard try await transaction(steps) != nil else { continue }
            released.append(next)
            if let request = try await request(id: item.requestID) { publish("lease-expired", request, item: item.id, actor: system) }
        }
        return released
    }

    /// A UPS state change (PS3.4 CC.2.1.3) for workstations that take part through UPS-RS.
    public func changeUPSState(uid: String, to target: WorkItemState, transactionUID: String?, by actor: ReadingActor)
        async throws(ReadingError) -> WorkItem
    {
        guard let item = try await workItem(uid: uid) else { throw .notFound("work item \(uid)") }
        if item.state == .scheduled && target == .inProgress {
            return try await claim(itemID: item.id, by: actor, transactionUID: transactionUID ?? "")
        }
        let request = try await existingRequest(item.requestID)
        let now = clock()
        var next = try ReadingTransitions.changeUPSState(
            item, to: target, transactionUID: transactionUID, by: actor, now: now, leaseSeconds: settings.leaseSeconds)
        if target == .completed {
            // Only a signature finishes a reading (and completes its item in the same transaction).
            let report = try await reports(requestID: request.id).first { $0.workItemID == item.id }
            if let refusal = UPS.completionStatus(report: report) { throw .conflict(refusal.text) }
        }
        if target == .canceled { next.completedAt = now }
        let kind = target == .completed ? "ups-completed" : "ups-canceled"
        var steps = [
            Self.writeItem(next, expected: item.revision), Self.event(request.id, kind, actor.username, "work item \(item.id)", at: now),
        ]
        // A first reading canceled by its performer: withdrawn when the site asked for the cancellation, else back on the
        // worklist as a new SCHEDULED item (the canceled item keeps its draft).
        var followUp: String?
        if target == .canceled, item.kind == .primary, request.status.isOpen {
            let asked = try await query(
                "SELECT 1 FROM consultation_events WHERE request_id = ? AND kind = 'cancel-requested' AND detail = ?",
                [.integer(request.id), .text("work item \(item.id)")])
            if !asked.isEmpty {
                followUp = "withdrawn"
                steps.append(
                    SQLStep(
                        "UPDATE consultation_requests SET status = 'withdrawn', updated_at = ? WHERE id = ?",
                        [Self.ms(now), .integer(request.id)]))
                steps.append(Self.event(request.id, "withdrawn", actor.username, "cancellation of work item \(item.id) requested", at: now))
            } else {
                followUp = "requeued"
                steps.append(
                    SQLStep(
                        "INSERT INTO work_items (uid, request_id, kind, state, created_at, revision, deadline_at, priority, service_line) "
                            + "SELECT ?, id, 'primary', 'SCHEDULED', ?, 0, deadline_at, priority, service_line FROM consultation_requests "
                            + "WHERE id = ? RETURNING id", [.text(UID.generate()), Self.ms(now), .integer(request.id)], guarded: true))
                steps.append(
                    SQLStep(
                        "UPDATE consultation_requests SET status = 'requested', updated_at = ? WHERE id = ?",
                        [Self.ms(now), .integer(request.id)]))
                steps.append(Self.event(request.id, "requeued", actor.username, "work item \(item.id) canceled", at: now))
            }
        }
        guard let results = try await transaction(steps) else { throw .conflict("the work item changed meanwhile") }
        await record(.update, actor, request, "consultation \(request.id): work item \(item.id) \(target.rawValue)")
        publish(kind, request, item: item.id, actor: actor)
        if let followUp {
            var changed = request
            changed.status = followUp == "withdrawn" ? .withdrawn : .requested
            // The new item is announced as a new request's is (subscribers get its SCHEDULED State Report).
            let newItem = followUp == "requeued" ? results[2].first?.first?.integer : nil
            publish(newItem == nil ? followUp : "requested", changed, item: newItem, actor: actor)
        }
        return next
    }

    /// The reader of a request asks a colleague for a second read: a new SCHEDULED work item meant for the colleague,
    /// with its own report; the colleague is notified. The request's status follows its primary item only.
    public func requestSecondOpinion(requestID: Int64, colleague: String, by actor: ReadingActor) async throws(ReadingError) -> WorkItem {
        let request = try await existingRequest(requestID)
        guard request.status != .withdrawn else {
            throw .invalidTransition(action: "ask for a second opinion", from: request.status.rawValue)
        }
        let colleague = colleague.trimmingCharacters(in: .whitespaces)
        guard !colleague.isEmpty, colleague != actor.username else { throw .invalid("a second opinion is asked of a colleague") }
        let now = clock()
        let uid = UID.generate()
        let steps = [
            SQLStep(
                "INSERT INTO work_items (uid, request_id, kind, state, assignee, created_at, revision, deadline_at, priority, service_line) "
                    + "SELECT ?, id, 'second-opinion', 'SCHEDULED', ?, ?, 0, deadline_at, priority, service_line "
                    + "FROM consultation_requests WHERE id = ? "
                    + "RETURNING id",
                [.text(uid), .text(colleague), Self.ms(now), .integer(requestID)], guarded: true),
            Self.event(requestID, "second-opinion", actor.username, "asked of \(colleague)", at: now),
            Self.notification(institution: nil, recipient: colleague, kind: "second-opinion", requestID: requestID, at: now),
        ]
        guard let results = try await transaction(steps), let id = results[0].first?.first?.integer else {
            throw .database("the second-opinion work item was not written")
        }
        await record(.create, actor, request, "consultation \(requestID): second opinion asked (work item \(id))")
        publish("second-opinion", request, item: id, actor: actor)
        return WorkItem(id: id, uid: uid, requestID: requestID, kind: .secondOpinion, assignee: colleague, createdAt: now)
    }

    /// Records that a reader marked key images of a request for teaching (the KOS "For Teaching" stored in the archive).
    public func recordForTeaching(requestID: Int64, keyObjectUID: String, by actor: ReadingActor) async throws(ReadingError) {
        let request = try await existingRequest(requestID)
        try await query(
            "INSERT INTO consultation_events (request_id, time, kind, actor, detail) VALUES (?, ?, 'for-teaching', ?, ?)",
            [.integer(requestID), Self.ms(clock()), .text(actor.username), .text("key object \(keyObjectUID)")])
        await record(.create, actor, request, "consultation \(requestID): key images marked for teaching")
        publish("for-teaching", request, item: nil, actor: actor)
    }

    // MARK: - Reports

    static let reportColumns =
        "id, request_id, work_item_id, status, author, author_name, sections, signed_version, draft_saved_at, created_at, updated_at, revision"

    static func reportRow(_ row: [SQLValue]) -> Report {
        Report(
            id: row[0].integer ?? 0, requestID: row[1].integer ?? 0, workItemID: row[2].integer ?? 0,
            status: ReportStatus(rawValue: row[3].text ?? "") ?? .draft, author: row[4].text ?? "", authorName: row[5].text ?? "",
            sections: sections(row[6].text), signedVersion: Int(row[7].integer ?? 0), draftSavedAt: date(row[8]),
            createdAt: date(row[9]) ?? Date(timeIntervalSince1970: 0), updatedAt: date(row[10]) ?? Date(timeIntervalSince1970: 0),
            revision: row[11].integer ?? 0)
    }

    public func report(id: Int64) async throws(ReadingError) -> Report? {
        try await query("SELECT \(Self.reportColumns) FROM reports WHERE id = ?", [.integer(id)]).first.map(Self.reportRow)
    }

    /// The reports of a request (the primary one first, then second opinions).
    public func reports(requestID: Int64) async throws(ReadingError) -> [Report] {
        try await query("SELECT \(Self.reportColumns) FROM reports WHERE request_id = ? ORDER BY id", [.integer(requestID)]).map(
            Self.reportRow)
    }

    func existingReport(_ id: Int64) async throws(ReadingError) -> Report {
        guard let report = try await report(id: id) else { throw .notFound("report \(id)") }
        return report
    }

    /// Every signed version of a report, oldest first.
    public func versions(reportID: Int64) async throws(ReadingError) -> [ReportVersion] {
        try await query(
            "SELECT report_id, version, kind, sections, text, signed_by, signed_by_name, signed_at FROM report_versions "
                + "WHERE report_id = ? ORDER BY version", [.integer(reportID)]
        ).map { row in
            ReportVersion(
                reportID: row[0].integer ?? 0, version: Int(row[1].integer ?? 0),
                kind: ReportVersion.Kind(rawValue: row[2].text ?? "") ?? .final, sections: Self.sections(row[3].text),
                text: row[4].text ?? "", signedBy: row[5].text ?? "", signedByName: row[6].text ?? "",
                signedAt: Self.date(row[7]) ?? Date(timeIntervalSince1970: 0))
        }
    }

    static func writeReport(_ report: Report, expected revision: Int64) -> SQLStep {
        SQLStep(
            "UPDATE reports SET status = ?, author = ?, author_name = ?, sections = ?, signed_version = ?, draft_saved_at = ?, "
                + "updated_at = ?, revision = ? WHERE id = ? AND revision = ? RETURNING id",
            [
                .text(report.status.rawValue), .text(report.author), .text(report.authorName), .text(sectionsJSON(report.sections)),
                .integer(Int64(report.signedVersion)), ms(report.draftSavedAt), ms(report.updatedAt), .integer(report.revision),
                .integer(report.id), .integer(revision),
            ], guarded: true)
    }

    static func insertVersion(_ version: ReportVersion) -> SQLStep {
        SQLStep(
            "INSERT INTO report_versions (report_id, version, kind, sections, text, signed_by, signed_by_name, signed_at) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .integer(version.reportID), .integer(Int64(version.version)), .text(version.kind.rawValue),
                .text(sectionsJSON(version.sections)), .text(version.text), .text(version.signedBy), .text(version.signedByName),
                ms(version.signedAt),
            ])
    }

    /// Saves the draft as the holder types (the page sends it every second or two); also renews the lease.
    public func saveDraft(reportID: Int64, sections: [ReportSection], by actor: ReadingActor) async throws(ReadingError) -> Report {
        let report = try await existingReport(reportID)
        let item = try await existingItem(report.workItemID)
        let now = clock()
        var next = try ReadingTransitions.saveDraft(report, sections: sections, item: item, by: actor, now: now)
        next.author = actor.username
        next.authorName = actor.displayName
        let steps = [
            Self.writeReport(next, expected: report.revision),
            SQLStep(
                "UPDATE work_items SET lease_until = ? WHERE id = ? AND owner = ? AND state = 'IN PROGRESS' RETURNING id",
                [Self.ms(now.addingTimeInterval(settings.leaseSeconds)), .integer(item.id), .text(actor.username)], guarded: true),
        ]
        guard try await transaction(steps) != nil else { throw .conflict("the report or its lock changed meanwhile") }
        return next
    }

    /// Issues a preliminary report (versioned; the request shows it as preliminary).
    public func preliminary(reportID: Int64, sections: [ReportSection], by actor: ReadingActor) async throws(ReadingError) -> Report {
        let report = try await existingReport(reportID)
        let item = try await existingItem(report.workItemID)
        let request = try await existingRequest(report.requestID)
        let now = clock()
        var (next, version) = try ReadingTransitions.preliminary(report, sections: sections, item: item, by: actor, now: now)
        next.author = actor.username
        next.authorName = actor.displayName
        var steps = [Self.writeReport(next, expected: report.revision), Self.insertVersion(version)]
        if item.kind == .primary {
            steps.append(
                SQLStep(
                    "UPDATE consultation_requests SET status = 'preliminary', updated_at = ? WHERE id = ?",
                    [Self.ms(now), .integer(request.id)]))
        }
        steps.append(Self.event(request.id, "preliminary", actor.username, "report \(reportID) version \(version.version)", at: now))
        guard try await transaction(steps) != nil else { throw .conflict("the report changed meanwhile") }
        await record(.create, actor, request, "consultation \(request.id): preliminary report \(reportID) version \(version.version)")
        publish("preliminary", request, item: item.id, actor: actor)
        return next
    }

    /// Signs the report final, in one transaction: the report's state, its signed version, the work item COMPLETED, the
    /// request final, the documents to store (``pendingDocuments()``), the event and the site's notification. Of two
    /// readers signing at the same instant, one wins and the other gets ``ReadingError/conflict(_:)``. The caller checks
    /// the signing privilege and the re-entered password first.
    public func sign(reportID: Int64, sections: [ReportSection], by actor: ReadingActor) async throws(ReadingError) -> Report {
        let report = try await existingReport(reportID)
        let item = try await existingItem(report.workItemID)
        let request = try await existingRequest(report.requestID)
        let now = clock()
        var next: Report
        var version: ReportVersion
        do {
            (next, version) = try ReadingTransitions.sign(report, sections: sections, item: item, by: actor, now: now)
        } catch {
            // Two signatures at once: the one that read the report after the other's commit finds it signed (and the lock
            // gone); that is the same lost race as a failed guard, and says so.
            if report.status.isSigned { throw .conflict("the report was signed meanwhile by someone else") }
            throw error
        }
        next.author = report.status == .preliminary ? report.author : actor.username
        next.authorName = report.status == .preliminary ? report.authorName : actor.displayName
        var steps = [
            Self.writeReport(next, expected: report.revision),
            Self.insertVersion(version),
            SQLStep(
                "UPDATE work_items SET state = 'COMPLETED', completed_at = ?, lease_until = NULL, revision = revision + 1 "
                    + "WHERE id = ? AND state = 'IN PROGRESS' AND owner = ? RETURNING id",
                [Self.ms(now), .integer(item.id), .text(actor.username)], guarded: true),
        ]
        if item.kind == .primary {
            steps.append(
                SQLStep(
                    "UPDATE consultation_requests SET status = 'final', updated_at = ? WHERE id = ?", [Self.ms(now), .integer(request.id)]))
        }
        steps += [
            Self.outbox(reportID: reportID, version: version.version, at: now),
            Self.event(request.id, "signed", actor.username, "report \(reportID) version \(version.version)", at: now),
            Self.notification(institution: request.institutionCode, recipient: nil, kind: "report-final", requestID: request.id, at: now),
        ]
        if item.kind == .primary { steps += mailSteps(.reportFinal, request: request, at: now) }
        guard try await transaction(steps) != nil else {
            await record(
                .create, actor, request, "consultation \(request.id): signing report \(reportID) lost a race", outcome: .minorFailure)
            if let current = try await self.report(id: reportID), current.status.isSigned {
                throw .conflict("the report was signed meanwhile by someone else")
            }
            throw .conflict("the report or its lock changed meanwhile")
        }
        await record(.create, actor, request, "consultation \(request.id): report \(reportID) signed, version \(version.version)")
        publish("signed", request, item: item.id, actor: actor)
        if item.kind == .primary { _ = try? await doubleReadingItem(request, firstReader: actor.username, by: actor) }
        return next
    }

    /// Adds a signed addendum to a final report: a new version; the signed text never changes.
    public func addendum(reportID: Int64, text: String, by actor: ReadingActor) async throws(ReadingError) -> Report {
        let report = try await existingReport(reportID)
        let request = try await existingRequest(report.requestID)
        let now = clock()
        let (next, version) = try ReadingTransitions.addendum(report, text: text, by: actor, now: now)
        let steps = [
            Self.writeReport(next, expected: report.revision),
            Self.insertVersion(version),
            SQLStep(
                "UPDATE consultation_requests SET status = 'amended', updated_at = ? WHERE id = ?", [Self.ms(now), .integer(request.id)]),
            Self.outbox(reportID: reportID, version: version.version, at: now),
            Self.event(request.id, "addendum", actor.username, "report \(reportID) version \(version.version)", at: now),
            Self.notification(
                institution: request.institutionCode, recipient: nil, kind: "report-addendum", requestID: request.id, at: now),
        ]
        guard try await transaction(steps) != nil else { throw .conflict("the report changed meanwhile") }
        await record(.create, actor, request, "consultation \(request.id): addendum to report \(reportID), version \(version.version)")
        publish("addendum", request, item: report.workItemID, actor: actor)
        return next
    }

    // MARK: - Documents to store on signing

    /// Signed versions whose documents (the SR next to the study) are not yet stored: written in the signing transaction,
    /// so that a crash after it leaves the report signed and its documents still to store on the next start.
    public func pendingDocuments() async throws(ReadingError) -> [PendingDocument] {
        try await query(
            "SELECT o.report_id, o.version, o.series_instance_uid, o.sop_instance_uid, (SELECT p.sop_instance_uid FROM report_outbox p "
                + "WHERE p.report_id = o.report_id AND p.version < o.version ORDER BY p.version DESC LIMIT 1) "
                + "FROM report_outbox o WHERE o.stored_at IS NULL ORDER BY o.created_at, o.report_id, o.version"
        ).map {
            PendingDocument(
                reportID: $0[0].integer ?? 0, version: Int($0[1].integer ?? 0), seriesInstanceUID: $0[2].text ?? "",
                sopInstanceUID: $0[3].text ?? "", predecessorSOPInstanceUID: $0[4].text)
        }
    }

    /// The outbox row of a signed version: the UIDs its SR will have (chosen now, so that storing it again after a crash
    /// makes the same instance), the series one per report.
    static func outbox(reportID: Int64, version: Int, at time: Date) -> SQLStep {
        SQLStep(
            "INSERT INTO report_outbox (report_id, version, series_instance_uid, sop_instance_uid, created_at) "
                + "SELECT ?, ?, COALESCE((SELECT series_instance_uid FROM report_outbox WHERE report_id = ? LIMIT 1), ?), ?, ?",
            [.integer(reportID), .integer(Int64(version)), .integer(reportID), .text(UID.generate()), .text(UID.generate()), ms(time)])
    }

    public func markDocumentsStored(reportID: Int64, version: Int) async throws(ReadingError) {
        try await query(
            "UPDATE report_outbox SET stored_at = ? WHERE report_id = ? AND version = ?",
            [Self.ms(clock()), .integer(reportID), .integer(Int64(version))])
    }

    // MARK: - Critical results

    static let criticalColumns =
        "id, request_id, finding, flagged_by, flagged_by_name, flagged_at, channel, acknowledged_by, acknowledged_at, escalated_at, escalations"

    static func criticalRow(_ row: [SQLValue]) -> CriticalResult {
        CriticalResult(
            id: row[0].integer ?? 0, requestID: row[1].integer ?? 0, finding: row[2].text ?? "", flaggedBy: row[3].text ?? "",
            flaggedByName: row[4].text ?? "", flaggedAt: date(row[5]) ?? Date(timeIntervalSince1970: 0), channel: row[6].text ?? "",
            acknowledgedBy: row[7].text, acknowledgedAt: date(row[8]), escalatedAt: date(row[9]), escalations: Int(row[10].integer ?? 0))
    }

    /// A reader flags a critical finding: the requesting site is notified at once (in the application; `channel` says
    /// how else).
    public func flagCritical(requestID: Int64, finding: String, channel: String = "in-app", by actor: ReadingActor)
        async throws(ReadingError)
        -> CriticalResult
    {
        let finding = finding.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !finding.isEmpty, finding.count <= 2000 else { throw .invalid("a critical finding is 1–2000 characters") }
        let request = try await existingRequest(requestID)
        let now = clock()
        let channel = settings.mail && channel == "in-app" ? "in-app+email" : channel
        let steps =
            [
                SQLStep(
                    "INSERT INTO critical_results (request_id, finding, flagged_by, flagged_by_name, flagged_at, channel, escalations) "
                        + "VALUES (?, ?, ?, ?, ?, ?, 0) RETURNING id",
                    [.integer(requestID), .text(finding), .text(actor.username), .text(actor.displayName), Self.ms(now), .text(channel)],
                    guarded: true),
                Self.event(requestID, "critical-flagged", actor.username, "via \(channel)", at: now),
                Self.notification(institution: request.institutionCode, recipient: nil, kind: "critical", requestID: requestID, at: now),
            ] + mailSteps(.critical, request: request, at: now)
        guard let results = try await transaction(steps), let id = results[0].first?.first?.integer else {
            throw .database("the critical result was not written")
        }
        await record(.create, actor, request, "consultation \(requestID): critical result \(id) flagged")
        publish("critical-flagged", request, item: nil, actor: actor)
        return CriticalResult(
            id: id, requestID: requestID, finding: finding, flaggedBy: actor.username, flaggedByName: actor.displayName, flaggedAt: now,
            channel: channel)
    }

    public func criticalResults(requestID: Int64) async throws(ReadingError) -> [CriticalResult] {
        try await query("SELECT \(Self.criticalColumns) FROM critical_results WHERE request_id = ? ORDER BY id", [.integer(requestID)]).map(
            Self.criticalRow)
    }

    public func criticalResult(id: Int64) async throws(ReadingError) -> CriticalResult? {
        try await query("SELECT \(Self.criticalColumns) FROM critical_results WHERE id = ?", [.integer(id)]).first.map(Self.criticalRow)
    }

    /// Unacknowledged critical results of an institution (or of all).
    public func unacknowledgedCriticalResults(institution: String?) async throws(ReadingError) -> [CriticalResult] {
        var sql =
            "SELECT c.id, c.request_id, c.finding, c.flagged_by, c.flagged_by_name, c.flagged_at, c.channel, c.acknowledged_by, "
            + "c.acknowledged_at, c.escalated_at, c.escalations FROM critical_results c JOIN consultation_requests r ON r.id = c.request_id "
            + "WHERE c.acknowledged_at IS NULL"
        var bindings: [SQLValue] = []
        if let institution {
            sql += " AND r.institution_code = ?"
            bindings.append(.text(institution))
        }
        return try await query(sql + " ORDER BY c.id", bindings).map(Self.criticalRow)
    }

    /// The site acknowledges a critical result.
    public func acknowledge(criticalID: Int64, by actor: ReadingActor) async throws(ReadingError) -> CriticalResult {
        guard let result = try await criticalResult(id: criticalID) else { throw .notFound("critical result \(criticalID)") }
        let request = try await existingRequest(result.requestID)
        let now = clock()
        let next = try ReadingTransitions.acknowledge(result, by: actor, now: now)
        let steps = [
            SQLStep(
                "UPDATE critical_results SET acknowledged_by = ?, acknowledged_at = ? WHERE id = ? AND acknowledged_at IS NULL RETURNING id",
                [.text(actor.username), Self.ms(now), .integer(criticalID)], guarded: true),
            Self.event(request.id, "critical-acknowledged", actor.username, "critical result \(criticalID)", at: now),
            Self.notification(institution: nil, recipient: result.flaggedBy, kind: "critical-acknowledged", requestID: request.id, at: now),
        ]
        guard try await transaction(steps) != nil else { throw .conflict("the critical result was acknowledged meanwhile") }
        await record(.update, actor, request, "consultation \(request.id): critical result \(criticalID) acknowledged")
        publish("critical-acknowledged", request, item: nil, actor: actor)
        return next
    }

    /// Escalates every critical result left unacknowledged for ``ReadingSettings/escalationSeconds``: the site is
    /// notified again and the flagging reader is told. Returns the escalated results.
    @discardableResult
    public func escalateCriticalResults() async throws(ReadingError) -> [CriticalResult] {
        let now = clock()
        var escalated: [CriticalResult] = []
        let system = ReadingActor(username: "system", displayName: "Atrium", transport: "internal")
        for result in try await unacknowledgedCriticalResults(institution: nil) {
            guard let next = ReadingTransitions.escalate(result, now: now, afterSeconds: settings.escalationSeconds),
                let request = try await request(id: result.requestID)
            else { continue }
            let steps = [
                SQLStep(
                    "UPDATE critical_results SET escalated_at = ?, escalations = ? WHERE id = ? AND escalations = ? "
                        + "AND acknowledged_at IS NULL RETURNING id",
                    [Self.ms(now), .integer(Int64(next.escalations)), .integer(result.id), .integer(Int64(result.escalations))],
                    guarded: true),
                Self.event(
                    result.requestID, "critical-escalated", "system", "critical result \(result.id), escalation \(next.escalations)",
                    at: now),
                Self.notification(
                    institution: request.institutionCode, recipient: nil, kind: "critical-escalated", requestID: request.id, at: now),
                Self.notification(
                    institution: nil, recipient: result.flaggedBy, kind: "critical-escalated", requestID: request.id, at: now),
            ]
            guard try await transaction(steps) != nil else { continue }
            escalated.append(next)
            await record(.update, system, request, "consultation \(request.id): critical result \(result.id) escalated")
            publish("critical-escalated", request, item: nil, actor: system)
        }
        return escalated
    }

    // MARK: - Notifications

    /// Notifications for a person: those addressed to them, and their institution's when they are a site user; newest first.
    public func notifications(username: String, institution: String?, unreadOnly: Bool = false, limit: Int = 50) async throws(ReadingError)
        -> [ReadingNotification]
    {
        var sql =
            "SELECT id, institution_code, recipient, kind, request_id, created_at, read_at FROM reading_notifications WHERE (recipient = ?"
        var bindings: [SQLValue] = [.text(username)]
        if let institution {
            sql += " OR institution_code = ?"
            bindings.append(.text(institution))
        }
        sql += ")"
        if unreadOnly { sql += " AND read_at IS NULL" }
        sql += " ORDER BY id DESC LIMIT ?"
        bindings.append(.integer(Int64(max(1, min(limit, 500)))))
        return try await query(sql, bindings).map { row in
            ReadingNotification(
                id: row[0].integer ?? 0, institutionCode: row[1].text, recipient: row[2].text, kind: row[3].text ?? "",
                requestID: row[4].integer ?? 0, createdAt: Self.date(row[5]) ?? Date(), readAt: Self.date(row[6]))
        }
    }

    public func markNotificationRead(id: Int64, username: String, institution: String?) async throws(ReadingError) {
        try await query(
            "UPDATE reading_notifications SET read_at = ? WHERE id = ? AND read_at IS NULL AND (recipient = ? OR institution_code = ?)",
            [Self.ms(clock()), .integer(id), .text(username), .text(institution ?? "")])
    }

    // MARK: - Peer review

    /// A supervisor scores a signed report on the RADPEER scale (``PeerReview`` checks the comment and refuses one's own
    /// report); once per report and reviewer.
    public func recordPeerReview(reportID: Int64, score: RADPEERScore, comment: String, by actor: ReadingActor) async throws(ReadingError)
        -> PeerReview
    {
        let report = try await existingReport(reportID)
        guard report.status.isSigned, let signed = try await versions(reportID: reportID).first(where: { $0.kind == .final }) else {
            throw .invalidTransition(action: "peer-review", from: report.status.rawValue)
        }
        let request = try await existingRequest(report.requestID)
        let review: PeerReview
        do {
            review = try PeerReview(
                reportID: String(reportID), reader: signed.signedBy, site: request.institutionCode, reviewer: actor.username, score: score,
                comment: comment, reviewedAt: clock())
        } catch {
            throw error == .ownReport ? .forbidden(error.description) : .invalid(error.description)
        }
        let steps = [
            SQLStep(
                "INSERT INTO peer_reviews (report_id, reader, site, reviewer, score, comment, reviewed_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                    + "RETURNING id",
                [
                    .integer(reportID), .text(review.reader), .text(review.site), .text(review.reviewer), .text(score.rawValue),
                    .text(review.comment), Self.ms(review.reviewedAt),
                ], guarded: true),
            Self.event(request.id, "peer-reviewed", actor.username, "report \(reportID): RADPEER \(score.rawValue)", at: review.reviewedAt),
        ]
        guard try await transaction(steps) != nil else { throw .database("the peer review was not written") }
        await record(.create, actor, request, "consultation \(request.id): report \(reportID) peer-reviewed")
        return review
    }

    /// Every peer review, of one requesting institution's reports or of all.
    public func peerReviews(institution: String? = nil) async throws(ReadingError) -> [PeerReview] {
        var sql = "SELECT report_id, reader, site, reviewer, score, comment, reviewed_at FROM peer_reviews"
        var bindings: [SQLValue] = []
        if let institution {
            sql += " WHERE site = ?"
            bindings.append(.text(institution))
        }
        return try await query(sql + " ORDER BY id", bindings).compactMap { row in
            guard let score = RADPEERScore(rawValue: row[4].text ?? "") else { return nil }
            return try? PeerReview(
                reportID: String(row[0].integer ?? 0), reader: row[1].text ?? "", site: row[2].text ?? "", reviewer: row[3].text ?? "",
                score: score, comment: row[5].text ?? "", reviewedAt: Self.date(row[6]) ?? Date(timeIntervalSince1970: 0))
        }
    }

    // MARK: - Turnaround

    /// Every request's times for the turnaround statistics (``Turnaround``): received, first claimed, first preliminary
    /// and signed, from the events; the reader is who signed. Withdrawn requests are left out. Of one institution, or all.
    public func turnaroundCases(institution: String?) async throws(ReadingError) -> [Turnaround.Case] {
        func first(_ kind: String) -> String {
            "(SELECT MIN(e.time) FROM consultation_events e WHERE e.request_id = r.id AND e.kind = '\(kind)')"
        }
        var sql =
            "SELECT r.id, r.priority, r.institution_code, r.created_at, r.deadline_at, \(first("claimed")), \(first("preliminary")), "
            + "\(first("signed")), (SELECT e.actor FROM consultation_events e WHERE e.request_id = r.id AND e.kind = 'signed' "
            + "ORDER BY e.time LIMIT 1) FROM consultation_requests r WHERE r.status <> 'withdrawn'"
        var bindings: [SQLValue] = []
        if let institution {
            sql += " AND r.institution_code = ?"
            bindings.append(.text(institution))
        }
        return try await query(sql + " ORDER BY r.id", bindings).map { row in
            Turnaround.Case(
                requestID: String(row[0].integer ?? 0), priority: row[1].text ?? "", site: row[2].text ?? "", reader: row[8].text,
                received: Self.date(row[3]) ?? Date(timeIntervalSince1970: 0), claimed: Self.date(row[5]), preliminary: Self.date(row[6]),
                final: Self.date(row[7]), deadline: Self.date(row[4]) ?? Date(timeIntervalSince1970: 0))
        }
    }

    // MARK: - Reader profiles

    /// A reader's privileges (the defaults when none were set: may sign, not senior, every service line).
    public func profile(username: String) async throws(ReadingError) -> ReaderProfile {
        guard
            let row = try await query(
                "SELECT can_sign, senior, service_lines, on_duty FROM reader_profiles WHERE username = ?", [.text(username)]
            )
            .first
        else { return ReaderProfile(username: username) }
        return ReaderProfile(
            username: username, canSign: (row[0].integer ?? 1) != 0, senior: (row[1].integer ?? 0) != 0,
            serviceLines: Set((row[2].text ?? "").split(separator: ",").compactMap { ServiceLine(rawValue: String($0)) }),
            onDuty: (row[3].integer ?? 1) != 0)
    }

    public func setProfile(_ profile: ReaderProfile) async throws(ReadingError) {
        try await query(
            "INSERT INTO reader_profiles (username, can_sign, senior, service_lines, on_duty) VALUES (?, ?, ?, ?, ?) "
                + "ON CONFLICT (username) DO UPDATE SET can_sign = excluded.can_sign, senior = excluded.senior, "
                + "service_lines = excluded.service_lines, on_duty = excluded.on_duty",
            [
                .text(profile.username), .integer(profile.canSign ? 1 : 0), .integer(profile.senior ? 1 : 0),
                .text(ServiceLine.allCases.filter { profile.serviceLines.contains($0) }.map(\.rawValue).joined(separator: ",")),
                .integer(profile.onDuty ? 1 : 0),
            ])
    }
}
