import Archive
import DICOM
import Foundation
import Platform

/// A work item with its request and the UPS attributes a UPS-RS create or update gave it.
public struct UPSEntry: Sendable, Equatable {
    public var request: ConsultationRequest
    public var item: WorkItem
    public var stored: DataSet?
    /// The SR of the item's signed report, once stored.
    public var output: UPS.Output?

    public init(request: ConsultationRequest, item: WorkItem, stored: DataSet?, output: UPS.Output? = nil) {
        self.request = request
        self.item = item
        self.stored = stored
        self.output = output
    }

    /// The item's UPS dataset (``UPS/dataSet(request:item:stored:output:)``).
    public var dataSet: DataSet { UPS.dataSet(request: request, item: item, stored: stored, output: output) }
}

/// What a cancellation request (PS3.4 CC.2.2, PS3.18 11.8) did.
public enum UPSCancellation: Sendable, Equatable {
    /// The UPS was SCHEDULED: it is CANCELED now (and its request withdrawn when it was the request's first reading).
    case canceled(WorkItem)
    /// The UPS is IN PROGRESS: its performer is told (UPS Cancel Requested) and decides.
    case requested(WorkItem)
}

/// UPS-RS over the work items: create, search, retrieve, update, cancellation requests and subscriptions.
extension ReadingStore {
    static func encodeJSON(_ ds: DataSet) -> String { String(decoding: DICOMJSONEncoder().encode(ds), as: UTF8.self) }

    static func decodeJSON(_ text: String?) -> DataSet? {
        guard let text, !text.isEmpty else { return nil }
        return try? DICOMJSONDecoder().decode(Data(text.utf8))
    }

    /// Creates a UPS (PS3.4 CC.2.5.1.1): a consultation request of `institution` whose first work item is the UPS, with
    /// the dataset's other attributes kept. A UID already in use is a conflict.
    public func createUPS(_ ds: DataSet, uid: String?, institution: String, by actor: ReadingActor) async throws(ReadingError) -> (
        ConsultationRequest, WorkItem
    ) {
        let new = try UPS.newRequest(from: ds)
        if let uid {
            guard UID.isValid(uid) else { throw .invalid("\(uid) is not a UID") }
            if try await workItem(uid: uid) != nil { throw .conflict("a UPS with SOP Instance UID \(uid) exists") }
        }
        return try await file(new, institution: institution, by: actor, itemUID: uid, upsAttributes: Self.encodeJSON(UPS.storable(ds)))
    }

    /// Work items with their requests and UPS attributes, soonest deadline first: one (`uid`), or those in `state`, of
    /// `institution` when given. At most `limit`.
    public func upsEntries(uid: String? = nil, state: WorkItemState? = nil, institution: String? = nil, limit: Int = 1000)
        async throws(ReadingError) -> [UPSEntry]
    {
        var conditions: [String] = []
        var bindings: [SQLValue] = []
        if let uid {
            conditions.append("w.uid = ?")
            bindings.append(.text(uid))
        }
        if let state {
            conditions.append("w.state = ?")
            bindings.append(.text(state.rawValue))
        }
        if let institution {
            conditions.append("r.institution_code = ?")
            bindings.append(.text(institution))
        }
        let rows = try await query(
            "SELECT \(Self.itemColumns), \(Self.requestColumns), a.dataset, "
                + "(SELECT o.series_instance_uid || ' ' || o.sop_instance_uid FROM reports p JOIN report_outbox o ON o.report_id = p.id "
                + "WHERE p.work_item_id = w.id ORDER BY o.version DESC LIMIT 1) FROM work_items w "
                + "JOIN consultation_requests r ON r.id = w.request_id LEFT JOIN ups_attributes a ON a.work_item_id = w.id"
                + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")) + " ORDER BY r.deadline_at, w.id LIMIT ?",
            bindings + [.integer(Int64(max(1, min(limit, 10_000))))])
        let requests = try await withStudies(rows.map { Self.requestRow($0, offset: Self.itemColumnCount) })
        return zip(rows, requests).map { row, request in
            let sr = (row[Self.itemColumnCount + Self.requestColumnCount + 1].text ?? "").split(separator: " ").map(String.init)
            return UPSEntry(
                request: request, item: Self.itemRow(row),
                stored: Self.decodeJSON(row[Self.itemColumnCount + Self.requestColumnCount].text),
                output: sr.count == 2 && request.studies.first != nil
                    ? UPS.Output(studyInstanceUID: request.studies[0], seriesInstanceUID: sr[0], sopInstanceUID: sr[1]) : nil)
        }
    }

    /// One UPS by its SOP Instance UID, or nil.
    public func upsEntry(uid: String) async throws(ReadingError) -> UPSEntry? {
        try await upsEntries(uid: uid, limit: 1).first
    }

    /// Updates a UPS's attributes (PS3.4 CC.2.6, N-SET): not once it is COMPLETED or CANCELED, and while IN PROGRESS
    /// only with its Transaction UID. A new Procedure Step Label or priority changes the request's question or
    /// priority too (the web worklist shows them).
    public func updateUPS(uid: String, with update: DataSet, transactionUID: String?, by actor: ReadingActor)
        async throws(ReadingError) -> UPSEntry
    {
        guard let entry = try await upsEntry(uid: uid) else { throw .notFound("work item \(uid)") }
        if let refusal = UPS.updateStatus(current: entry.item, transactionUID: transactionUID) {
            throw refusal.code == 0xC301 ? .transactionUIDMismatch : .invalidTransition(action: "update", from: entry.item.state.rawValue)
        }
        if let state = update.string(.procedureStepState), !state.isEmpty {
            throw .invalid("an update does not change the Procedure Step State; PUT …/state does")
        }
        var priority = entry.request.priority
        if let value = update.string(.scheduledProcedureStepPriority), !value.isEmpty {
            guard let p = UPS.priority(ups: value) else { throw .invalid("Scheduled Procedure Step Priority is HIGH, MEDIUM or LOW") }
            priority = p
        }
        let label = (update.string(.procedureStepLabel) ?? "").trimmingCharacters(in: .whitespaces)
        let question = label.isEmpty ? entry.request.question : label
        let now = clock()
        var next = entry.item
        next.revision += 1
        let merged = UPS.merged(entry.stored, update: update)
        let steps = [
            Self.writeItem(next, expected: entry.item.revision),
            SQLStep(
                "INSERT INTO ups_attributes (work_item_id, dataset) VALUES (?, ?) "
                    + "ON CONFLICT (work_item_id) DO UPDATE SET dataset = excluded.dataset",
                [.integer(entry.item.id), .text(Self.encodeJSON(merged))]),
            SQLStep(
                "UPDATE consultation_requests SET priority = ?, question = ?, updated_at = ? WHERE id = ?",
                [.text(priority.rawValue), .text(question), Self.ms(now), .integer(entry.request.id)]),
            SQLStep("UPDATE work_items SET priority = ? WHERE request_id = ?", [.text(priority.rawValue), .integer(entry.request.id)]),
            Self.event(entry.request.id, "ups-updated", actor.username, "work item \(entry.item.id)", at: now),
        ]
        guard try await transaction(steps) != nil else { throw .conflict("the work item changed meanwhile") }
        await record(.update, actor, entry.request, "consultation \(entry.request.id): work item \(entry.item.id) updated over UPS-RS")
        var request = entry.request
        request.priority = priority
        request.question = question
        request.updatedAt = now
        publish("ups-updated", request, item: entry.item.id, actor: actor)
        return UPSEntry(request: request, item: next, stored: merged)
    }

    /// A cancellation request (PS3.4 CC.2.2): a SCHEDULED UPS is canceled at once (its request withdrawn when it is
    /// the request's first reading and nobody claimed it); an IN PROGRESS one stays so, and its performer and subscribers
    /// are told (UPS Cancel Requested, with `reason`). A COMPLETED or CANCELED one is refused.
    public func requestUPSCancellation(uid: String, reason: String, contact: String, by actor: ReadingActor)
        async throws(ReadingError) -> UPSCancellation
    {
        guard let entry = try await upsEntry(uid: uid) else { throw .notFound("work item \(uid)") }
        let item = entry.item
        let reason = String(reason.prefix(1024))
        switch item.state {
        case .completed, .canceled:
            throw .invalidTransition(action: "request cancellation", from: item.state.rawValue)
        case .scheduled:
            if item.kind == .primary, entry.request.status == .requested {
                _ = try await withdraw(requestID: entry.request.id, by: actor)
                return .canceled(try await workItem(id: item.id) ?? item)
            }
            let next = try ReadingTransitions.changeUPSState(
                item, to: .canceled, transactionUID: nil, by: actor, now: clock(), leaseSeconds: settings.leaseSeconds)
            let steps = [
                Self.writeItem(next, expected: item.revision),
                Self.event(entry.request.id, "ups-canceled", actor.username, "work item \(item.id)", at: clock()),
            ]
            guard try await transaction(steps) != nil else { throw .conflict("the work item changed meanwhile") }
            await record(.update, actor, entry.request, "consultation \(entry.request.id): work item \(item.id) canceled")
            publish("ups-canceled", entry.request, item: item.id, actor: actor)
            return .canceled(next)
        case .inProgress:
            try await query(
                "INSERT INTO consultation_events (request_id, time, kind, actor, detail) VALUES (?, ?, 'cancel-requested', ?, ?)",
                [.integer(entry.request.id), Self.ms(clock()), .text(actor.username), .text("work item \(item.id)")])
            await record(.update, actor, entry.request, "consultation \(entry.request.id): cancellation of work item \(item.id) requested")
            publish("cancel-requested", entry.request, item: item.id, actor: actor, detail: reason + "\n" + String(contact.prefix(64)))
            return .requested(item)
        }
    }

    // MARK: - Subscriptions

    /// Subscribes (or re-subscribes, replacing the earlier one) an AE title.
    public func subscribe(_ subscription: UPSSubscription) async throws(ReadingError) {
        guard UPSSubscription.validAETitle(subscription.aeTitle) else { throw .invalid("\(subscription.aeTitle) is not an AE title") }
        if case .item(let uid) = subscription.target, try await workItem(uid: uid) == nil { throw .notFound("work item \(uid)") }
        if subscription.target == .filtered { _ = try UPS.matchingKeys(subscription.filter) }
        var query = URLComponents()
        query.queryItems = subscription.filter.map { URLQueryItem(name: $0.name, value: $0.value) }
        try await self.query(
            "INSERT INTO ups_subscriptions (ae_title, target, deletion_lock, filter, created_at, suspended_at) VALUES (?, ?, ?, ?, ?, NULL) "
                + "ON CONFLICT (ae_title, target) DO UPDATE SET deletion_lock = excluded.deletion_lock, filter = excluded.filter, "
                + "created_at = excluded.created_at, suspended_at = NULL",
            [
                .text(subscription.aeTitle), .text(subscription.targetUID), .integer(subscription.deletionLock ? 1 : 0),
                .text(query.percentEncodedQuery ?? ""), Self.ms(subscription.createdAt),
            ])
    }

    /// Unsubscribes an AE title from one work item; from the global target, from everything (PS3.4 CC.2.3.2).
    /// Returns whether a subscription existed.
    @discardableResult
    public func unsubscribe(aeTitle: String, target: String) async throws(ReadingError) -> Bool {
        let rows: [[SQLValue]]
        if target == UPS.globalSubscriptionUID || target == UPS.filteredSubscriptionUID {
            rows = try await query("DELETE FROM ups_subscriptions WHERE ae_title = ? RETURNING target", [.text(aeTitle)])
        } else {
            rows = try await query(
                "DELETE FROM ups_subscriptions WHERE ae_title = ? AND target = ? RETURNING target", [.text(aeTitle), .text(target)])
        }
        return !rows.isEmpty
    }

    /// Suspends an AE title's global subscriptions: items created from now on are no longer covered; those before
    /// still are (PS3.4 CC.2.3.2). Returns whether there was one.
    @discardableResult
    public func suspendGlobalSubscription(aeTitle: String) async throws(ReadingError) -> Bool {
        !(try await query(
            "UPDATE ups_subscriptions SET suspended_at = ? WHERE ae_title = ? AND target IN (?, ?) RETURNING target",
            [Self.ms(clock()), .text(aeTitle), .text(UPS.globalSubscriptionUID), .text(UPS.filteredSubscriptionUID)])).isEmpty
    }

    /// Every subscription (of one AE title, when given).
    public func subscriptions(aeTitle: String? = nil) async throws(ReadingError) -> [UPSSubscription] {
        let sql = "SELECT ae_title, target, deletion_lock, filter, created_at, suspended_at FROM ups_subscriptions"
        let rows =
            if let aeTitle {
                try await query(sql + " WHERE ae_title = ? ORDER BY target", [.text(aeTitle)])
            } else {
                try await query(sql + " ORDER BY ae_title, target")
            }
        return rows.map { row in
            let target = row[1].text ?? ""
            var components = URLComponents()
            components.percentEncodedQuery = row[3].text ?? ""
            return UPSSubscription(
                aeTitle: row[0].text ?? "",
                target: target == UPS.globalSubscriptionUID ? .global : target == UPS.filteredSubscriptionUID ? .filtered : .item(target),
                deletionLock: (row[2].integer ?? 0) != 0,
                filter: (components.queryItems ?? []).map { ($0.name, $0.value ?? "") },
                createdAt: Self.date(row[4]) ?? Date(timeIntervalSince1970: 0), suspendedAt: Self.date(row[5]))
        }
    }
}
