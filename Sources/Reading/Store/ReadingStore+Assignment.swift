import Archive
import DICOM
import Foundation
import Platform

/// Automatic assignment and double reading by rule (``AssignmentRule``, ``Assignment``).
extension ReadingStore {
    public func assignmentRules() async throws(ReadingError) -> [AssignmentRule] {
        try await query(
            "SELECT id, service_line, priority, modality, readers, open_cap, double_reading FROM assignment_rules ORDER BY id"
        ).map { row in
            AssignmentRule(
                id: row[0].integer ?? 0, serviceLine: ServiceLine(rawValue: row[1].text ?? "") ?? .imaging,
                priority: Priority(rawValue: row[2].text ?? ""), modality: row[3].text ?? "",
                readers: (row[4].text ?? "").split(separator: ",").map(String.init), openCap: Int(row[5].integer ?? 0),
                doubleReading: (row[6].integer ?? 0) != 0)
        }
    }

    /// Adds a rule (an administrator's; the route checks the role). Audited.
    public func addAssignmentRule(_ rule: AssignmentRule, by actor: ReadingActor) async throws(ReadingError) -> AssignmentRule {
        guard (1...1000).contains(rule.openCap) else { throw .invalid("the open-count cap is 1–1000") }
        guard rule.readers.allSatisfy({ !$0.isEmpty && !$0.contains(",") && $0.count <= 64 }), rule.modality.count <= 16 else {
            throw .invalid("readers are usernames; a modality is at most 16 characters")
        }
        let rows = try await query(
            "INSERT INTO assignment_rules (service_line, priority, modality, readers, open_cap, double_reading, created_at) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [
                .text(rule.serviceLine.rawValue), .text(rule.priority?.rawValue ?? ""), .text(rule.modality.uppercased()),
                .text(rule.readers.joined(separator: ",")), .integer(Int64(rule.openCap)), .integer(rule.doubleReading ? 1 : 0),
                Self.ms(clock()),
            ])
        guard let id = rows.first?.first?.integer else { throw .database("the rule was not written") }
        await record(.create, actor, nil, "assignment rule \(id) added")
        var added = rule
        added.id = id
        added.modality = rule.modality.uppercased()
        return added
    }

    /// Replaces rule `rule.id` (an administrator's). Audited. False when there is no such rule.
    public func updateAssignmentRule(_ rule: AssignmentRule, by actor: ReadingActor) async throws(ReadingError) -> Bool {
        guard (1...1000).contains(rule.openCap) else { throw .invalid("the open-count cap is 1–1000") }
        guard rule.readers.allSatisfy({ !$0.isEmpty && !$0.contains(",") && $0.count <= 64 }), rule.modality.count <= 16 else {
            throw .invalid("readers are usernames; a modality is at most 16 characters")
        }
        let rows = try await query(
            "UPDATE assignment_rules SET service_line = ?, priority = ?, modality = ?, readers = ?, open_cap = ?, double_reading = ? "
                + "WHERE id = ? RETURNING id",
            [
                .text(rule.serviceLine.rawValue), .text(rule.priority?.rawValue ?? ""), .text(rule.modality.uppercased()),
                .text(rule.readers.joined(separator: ",")), .integer(Int64(rule.openCap)), .integer(rule.doubleReading ? 1 : 0),
                .integer(rule.id),
            ])
        if !rows.isEmpty { await record(.update, actor, nil, "assignment rule \(rule.id) changed") }
        return !rows.isEmpty
    }

    @discardableResult
    public func deleteAssignmentRule(id: Int64, by actor: ReadingActor) async throws(ReadingError) -> Bool {
        let rows = try await query("DELETE FROM assignment_rules WHERE id = ? RETURNING id", [.integer(id)])
        if !rows.isEmpty { await record(.delete, actor, nil, "assignment rule \(id) deleted") }
        return !rows.isEmpty
    }

    /// Every reader (role) who is not disabled, with their profile and how many open items they hold or are assigned.
    public func assignmentCandidates() async throws(ReadingError) -> [AssignmentCandidate] {
        let readers = try await query(
            "SELECT p.username, rp.on_duty, rp.service_lines FROM people p LEFT JOIN reader_profiles rp ON rp.username = p.username "
                + "WHERE (',' || p.roles || ',') LIKE '%,reader,%' AND p.disabled = 0 ORDER BY p.username")
        var open: [String: Int] = [:]
        for row in try await query(
            "SELECT COALESCE(owner, assignee), COUNT(*) FROM work_items WHERE state IN ('SCHEDULED', 'IN PROGRESS') "
                + "AND COALESCE(owner, assignee) IS NOT NULL GROUP BY COALESCE(owner, assignee)")
        {
            open[row[0].text ?? ""] = Int(row[1].integer ?? 0)
        }
        return readers.map { row in
            let username = row[0].text ?? ""
            let lines = row[2].text.map { Set($0.split(separator: ",").compactMap { ServiceLine(rawValue: String($0)) }) }
            return AssignmentCandidate(
                username: username, onDuty: (row[1].integer ?? 1) != 0, serviceLines: lines ?? Set(ServiceLine.allCases),
                open: open[username] ?? 0)
        }
    }

    /// Assigns a new request's first item by the first rule that applies, if a reader is free; else leaves it.
    func autoAssign(_ request: ConsultationRequest, item: WorkItem, by actor: ReadingActor) async throws(ReadingError) -> WorkItem {
        guard let rule = Assignment.rule(for: request, in: try await assignmentRules()),
            let reader = Assignment.choose(rule: rule, candidates: try await assignmentCandidates())
        else { return item }
        var next = item
        next.assignee = reader
        next.revision += 1
        let now = clock()
        let steps = [
            Self.writeItem(next, expected: item.revision),
            Self.event(request.id, "assigned", "system", "work item \(item.id) to \(reader) by rule \(rule.id)", at: now),
            Self.notification(institution: nil, recipient: reader, kind: "assigned", requestID: request.id, at: now),
        ]
        guard try await transaction(steps) != nil else { return item }
        await record(.update, actor, request, "consultation \(request.id): work item \(item.id) assigned to \(reader) by rule \(rule.id)")
        publish("assigned", request, item: item.id, actor: actor)
        return next
    }

    /// After the first reader signs: a second reader's item when a double-reading rule applies (assigned to a free
    /// reader other than the first, or left for anyone but the first). Returns the new item, if any.
    func doubleReadingItem(_ request: ConsultationRequest, firstReader: String, by actor: ReadingActor) async throws(ReadingError)
        -> WorkItem?
    {
        guard let rule = Assignment.rule(for: request, in: try await assignmentRules()), rule.doubleReading else { return nil }
        if try await workItems(requestID: request.id).contains(where: { $0.kind == .doubleReading }) { return nil }
        let reader = Assignment.choose(rule: rule, candidates: try await assignmentCandidates(), excluding: [firstReader])
        let now = clock()
        let uid = UID.generate()
        var steps = [
            SQLStep(
                "INSERT INTO work_items (uid, request_id, kind, state, assignee, created_at, revision, deadline_at, priority, service_line) "
                    + "SELECT ?, id, 'double-reading', 'SCHEDULED', ?, ?, 0, deadline_at, priority, service_line "
                    + "FROM consultation_requests WHERE id = ? "
                    + "RETURNING id",
                [.text(uid), Self.text(reader), Self.ms(now), .integer(request.id)], guarded: true),
            Self.event(request.id, "double-reading", "system", "second reader \(reader ?? "(any)") by rule \(rule.id)", at: now),
        ]
        if let reader {
            steps.append(Self.notification(institution: nil, recipient: reader, kind: "double-reading", requestID: request.id, at: now))
        }
        guard let results = try await transaction(steps), let id = results[0].first?.first?.integer else {
            throw .database("the double-reading work item was not written")
        }
        await record(.create, actor, request, "consultation \(request.id): double reading (work item \(id))")
        publish("double-reading", request, item: id, actor: actor)
        return WorkItem(id: id, uid: uid, requestID: request.id, kind: .doubleReading, assignee: reader, createdAt: now)
    }
}
