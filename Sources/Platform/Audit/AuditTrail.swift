import Archive
import Foundation
import Logging

/// The append-only audit trail: events are queued by ``record(_:)`` without waiting and written in batches (one
/// transaction each) by a single drain, so that recording an access costs a request almost nothing; each written event
/// is then forwarded to syslog when configured. The tables refuse UPDATE and DELETE (database triggers).
public final class AuditTrail: Sendable {
    let database: any PlatformDatabase
    let syslog: (any AuditEventSink)?
    package let logger: Logger
    private let queue = AuditQueue()
    /// How long the drain waits for more events before writing a batch.
    static let gatheringWindow = Duration.milliseconds(100)

    package init(database: any PlatformDatabase, syslog: (any AuditEventSink)?, logger: Logger) {
        self.database = database
        self.syslog = syslog
        self.logger = logger
    }

    /// Queues an event for writing; returns at once.
    public func record(_ event: AuditEvent) async {
        if await queue.append(event) {
            Task { await self.drain() }
        }
    }

    /// Waits until every event queued so far is written (and forwarded).
    public func flush() async {
        await queue.waitUntilIdle()
    }

    private func drain() async {
        while true {
            // A short gathering window: a burst of accesses (a C-STORE series arrives one instance at a time) becomes one
            // transaction, and one disk sync, instead of one per event competing with the instances' own commits.
            try? await Task.sleep(for: Self.gatheringWindow)
            let batch = await queue.take()
            if batch.isEmpty { return }
            let statements = batch.map(Self.insert)
            do {
                try await database.transaction(statements)
            } catch {
                // Never silent: an audit event that cannot be written is an operational alarm.
                logger.error(
                    "audit events could not be written", metadata: ["count": "\(batch.count)", "error": "\(error)"])
            }
            if let syslog { for event in batch { syslog.send(event) } }
        }
    }

    private static func insert(_ event: AuditEvent) -> (String, [SQLValue]) {
        let participants = (try? JSONEncoder().encode(event.participants)).flatMap { String(data: $0, encoding: .utf8) } ?? "[]"
        let ids = "," + event.participants.map { $0.id.replacingOccurrences(of: ",", with: " ") }.joined(separator: ",") + ","
        return (
            "INSERT INTO audit_events (time, event_code, event_scheme, event_meaning, type_code, type_scheme, type_meaning, action, "
                + "outcome, username, source_address, transport, participants, participant_ids, detail) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .integer(Int64((event.time.timeIntervalSince1970 * 1000).rounded())), .text(event.eventID.code),
                .text(event.eventID.scheme), .text(event.eventID.meaning), .text(event.eventType?.code ?? ""),
                .text(event.eventType?.scheme ?? ""), .text(event.eventType?.meaning ?? ""), .text(event.action.rawValue),
                .integer(Int64(event.outcome.rawValue)), .text(event.user), .text(event.sourceAddress), .text(event.transport),
                .text(participants), .text(ids), .text(event.detail),
            ]
        )
    }

    /// Events matching `search`, newest first.
    public func search(_ search: AuditSearch) async throws(PlatformError) -> [AuditEvent] {
        var conditions: [String] = []
        var bindings: [SQLValue] = []
        if let from = search.from {
            conditions.append("time >= ?")
            bindings.append(.integer(Int64(from.timeIntervalSince1970 * 1000)))
        }
        if let to = search.to {
            conditions.append("time <= ?")
            bindings.append(.integer(Int64(to.timeIntervalSince1970 * 1000)))
        }
        if let user = search.user {
            conditions.append("username = ?")
            bindings.append(.text(user))
        }
        if let code = search.eventCode {
            conditions.append("(event_code = ? OR type_code = ?)")
            bindings += [.text(code), .text(code)]
        }
        if let outcome = search.outcome {
            conditions.append("outcome = ?")
            bindings.append(.integer(Int64(outcome.rawValue)))
        }
        if let participant = search.participant {
            conditions.append("participant_ids LIKE ?")
            bindings.append(
                .text("%," + participant.replacingOccurrences(of: "%", with: "").replacingOccurrences(of: "_", with: "") + ",%"))
        }
        var sql =
            "SELECT id, time, event_code, event_scheme, event_meaning, type_code, type_scheme, type_meaning, action, outcome, "
            + "username, source_address, transport, participants, detail FROM audit_events"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY id DESC LIMIT ? OFFSET ?"
        bindings += [.integer(Int64(max(0, min(search.limit, 100_000)))), .integer(Int64(max(0, search.offset)))]
        return try await database.query(sql, bindings).map { row in
            let t = row.map { $0.text ?? "" }
            let participants =
                (try? JSONDecoder().decode([AuditParticipant].self, from: Data(t[13].utf8))) ?? []
            return AuditEvent(
                id: row[0].integer ?? 0, time: Date(timeIntervalSince1970: Double(row[1].integer ?? 0) / 1000),
                eventID: AuditCode(t[2], t[4], scheme: t[3]), eventType: t[5].isEmpty ? nil : AuditCode(t[5], t[7], scheme: t[6]),
                action: AuditAction(rawValue: t[8]) ?? .execute, outcome: AuditOutcome(rawValue: Int(row[9].integer ?? 0)) ?? .success,
                user: t[10], sourceAddress: t[11], transport: t[12], participants: participants, detail: t[14])
        }
    }

    // MARK: - Export

    /// The events as a JSON array (field names as in ``AuditEvent``, times in ISO 8601).
    public static func json(_ events: [AuditEvent]) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return Array((try? encoder.encode(events)) ?? Data("[]".utf8))
    }

    /// The events as CSV (RFC 4180), one row each, participants as `type:id` separated by spaces.
    public static func csv(_ events: [AuditEvent]) -> String {
        // A leading =, +, -, @, tab or CR would be a formula in a spreadsheet: the writer defuses it.
        func field(_ text: String) -> String { CSVWriter.field(text) }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var out = "id,time,event_id,event_meaning,event_type,action,outcome,user,source_address,transport,participants,detail\r\n"
        for e in events {
            let participants = e.participants.map { "\($0.idType.meaning):\($0.id)" }.joined(separator: " ")
            let row = [
                String(e.id), formatter.string(from: e.time), e.eventID.code, e.eventID.meaning, e.eventType?.code ?? "", e.action.rawValue,
                String(e.outcome.rawValue), e.user, e.sourceAddress, e.transport, participants, e.detail,
            ]
            out += row.map(field).joined(separator: ",") + "\r\n"
        }
        return out
    }
}

/// The queue between ``AuditTrail/record(_:)`` and its drain.
private actor AuditQueue {
    private var pending: [AuditEvent] = []
    private var draining = false
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []

    /// Queues an event; true when the caller must start a drain.
    func append(_ event: AuditEvent) -> Bool {
        pending.append(event)
        if draining { return false }
        draining = true
        return true
    }

    /// The next batch, or nothing (and the drain ends) when the queue is empty.
    func take() -> [AuditEvent] {
        let batch = pending
        pending = []
        if batch.isEmpty {
            draining = false
            for waiter in idleWaiters { waiter.resume() }
            idleWaiters = []
        }
        return batch
    }

    func waitUntilIdle() async {
        if !draining && pending.isEmpty { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }
}
