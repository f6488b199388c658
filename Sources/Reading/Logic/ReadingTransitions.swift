import Foundation

/// Who performs a transition: a username and the name to show.
public struct ReadingActor: Sendable, Equatable {
    public var username: String
    public var displayName: String
    /// For the audit trail: the client's address and how the request came (`http`, `dicomweb`).
    public var sourceAddress: String
    public var transport: String

    public init(username: String, displayName: String, sourceAddress: String = "", transport: String = "http") {
        self.username = username
        self.displayName = displayName
        self.sourceAddress = sourceAddress
        self.transport = transport
    }
}

/// The consultation's transitions as a pure state machine: each takes the current values and returns the next ones,
/// or a typed error naming why not. The store reads, applies one of these, and writes back only if nobody changed the
/// row meanwhile (its revision), so the rules live here once and are tested without a database.
///
/// Work item (a UPS, PS3.4 CC.1.1): SCHEDULED → IN PROGRESS (claim, with a new Transaction UID) → COMPLETED (final report
/// signed) or CANCELED (request withdrawn); IN PROGRESS → SCHEDULED when released, when its lease runs out, or when a
/// senior reader breaks the lock. Report: draft → preliminary → final → amended (each addendum).
public enum ReadingTransitions {
    /// Claims `item` for `actor`. The holder claiming again renews the lease and keeps its Transaction UID; a lock whose
    /// lease has passed is taken over.
    public static func claim(
        _ item: WorkItem, by actor: ReadingActor, transactionUID: String, now: Date, leaseSeconds: Double
    ) throws(ReadingError) -> WorkItem {
        var next = item
        switch item.state {
        case .completed, .canceled:
            throw .invalidTransition(action: "claim", from: item.state.rawValue)
        case .inProgress:
            if let owner = item.owner, owner != actor.username, item.isLocked(at: now) {
                throw .locked(owner: item.ownerName ?? owner, until: item.leaseUntil)
            }
            if item.owner != actor.username {
                next.transactionUID = transactionUID
                next.claimedAt = now
            }
        case .scheduled:
            next.transactionUID = transactionUID
            next.claimedAt = now
        }
        next.state = .inProgress
        next.owner = actor.username
        next.ownerName = actor.displayName
        next.leaseUntil = now.addingTimeInterval(leaseSeconds)
        next.revision += 1
        return next
    }

    /// Renews the holder's lease (the reporting page's heartbeat). Not a change of state: the revision stays, so that a
    /// senior's concurrent break of the lock still wins.
    public static func renew(_ item: WorkItem, by actor: ReadingActor, now: Date, leaseSeconds: Double) throws(ReadingError) -> WorkItem {
        guard item.state == .inProgress, item.owner == actor.username else { throw .notLockHolder("renew the lock") }
        var next = item
        next.leaseUntil = now.addingTimeInterval(leaseSeconds)
        return next
    }

    /// The holder gives the item back to the worklist.
    public static func release(_ item: WorkItem, by actor: ReadingActor) throws(ReadingError) -> WorkItem {
        guard item.state == .inProgress else { throw .invalidTransition(action: "release", from: item.state.rawValue) }
        guard item.owner == actor.username else { throw .notLockHolder("release it") }
        return unlocked(item)
    }

    /// A senior reader takes the lock away from its holder (audited by the store).
    public static func breakLock(_ item: WorkItem) throws(ReadingError) -> WorkItem {
        guard item.state == .inProgress else { throw .invalidTransition(action: "break the lock", from: item.state.rawValue) }
        return unlocked(item)
    }

    /// An item whose holder's browser went away: back to SCHEDULED once the lease has passed.
    public static func expire(_ item: WorkItem, now: Date) -> WorkItem? {
        guard item.state == .inProgress, let until = item.leaseUntil, until <= now else { return nil }
        return unlocked(item)
    }

    private static func unlocked(_ item: WorkItem) -> WorkItem {
        var next = item
        next.state = .scheduled
        next.owner = nil
        next.ownerName = nil
        next.transactionUID = nil
        next.leaseUntil = nil
        next.revision += 1
        return next
    }

    /// The item is done: its report is final.
    public static func complete(_ item: WorkItem, by actor: ReadingActor, now: Date) throws(ReadingError) -> WorkItem {
        guard item.state == .inProgress else { throw .invalidTransition(action: "complete", from: item.state.rawValue) }
        guard item.owner == actor.username else { throw .notLockHolder("complete it") }
        var next = item
        next.state = .completed
        next.completedAt = now
        next.leaseUntil = nil
        next.revision += 1
        return next
    }

    /// The site withdraws its request: allowed only while nobody has claimed it.
    public static func withdraw(_ request: ConsultationRequest, item: WorkItem) throws(ReadingError) -> (ConsultationRequest, WorkItem) {
        guard request.status == .requested, item.state == .scheduled else {
            throw .invalidTransition(action: "withdraw", from: request.status == .requested ? item.state.rawValue : request.status.rawValue)
        }
        var nextRequest = request
        nextRequest.status = .withdrawn
        var nextItem = item
        nextItem.state = .canceled
        nextItem.completedAt = nil
        nextItem.revision += 1
        return (nextRequest, nextItem)
    }

    /// A UPS state change (PS3.4 CC.2.1.3, `PUT /workitems/{uid}/state`): SCHEDULED → IN PROGRESS needs a new Transaction
    /// UID (a second claim is refused: PS3.4 CC.2.1.3 0xC302, HTTP 409); IN PROGRESS → COMPLETED or CANCELED needs the owner's.
    public static func changeUPSState(
        _ item: WorkItem, to target: WorkItemState, transactionUID: String?, by actor: ReadingActor, now: Date, leaseSeconds: Double
    ) throws(ReadingError) -> WorkItem {
        switch (item.state, target) {
        case (.scheduled, .inProgress):
            guard let transactionUID, !transactionUID.isEmpty else { throw .transactionUIDMismatch }
            return try claim(item, by: actor, transactionUID: transactionUID, now: now, leaseSeconds: leaseSeconds)
        case (.inProgress, .inProgress):
            throw .conflict("the work item is already IN PROGRESS")
        case (.inProgress, .completed), (.inProgress, .canceled):
            guard let transactionUID, transactionUID == item.transactionUID else { throw .transactionUIDMismatch }
            var next = item
            next.state = target
            next.completedAt = now
            next.leaseUntil = nil
            next.revision += 1
            return next
        case (.scheduled, .canceled):
            var next = item
            next.state = .canceled
            next.revision += 1
            return next
        default:
            throw .invalidTransition(action: "change to \(target.rawValue)", from: item.state.rawValue)
        }
    }

    /// Saves the draft the holder is typing. A signed report's text never changes.
    public static func saveDraft(
        _ report: Report, sections: [ReportSection], item: WorkItem, by actor: ReadingActor, now: Date
    ) throws(ReadingError) -> Report {
        guard report.status == .draft || report.status == .preliminary else {
            throw .invalidTransition(action: "edit", from: report.status.rawValue)
        }
        guard item.state == .inProgress, item.owner == actor.username else { throw .notLockHolder("edit the report") }
        var next = report
        next.sections = sections
        next.draftSavedAt = now
        next.updatedAt = now
        next.revision += 1
        return next
    }

    /// The holder puts their name to a preliminary report (a junior reader's last step; a senior signs it final).
    public static func preliminary(
        _ report: Report, sections: [ReportSection], item: WorkItem, by actor: ReadingActor, now: Date
    ) throws(ReadingError) -> (Report, ReportVersion) {
        guard report.status == .draft || report.status == .preliminary else {
            throw .invalidTransition(action: "issue a preliminary report", from: report.status.rawValue)
        }
        guard item.state == .inProgress, item.owner == actor.username else { throw .notLockHolder("issue a preliminary report") }
        try requireText(sections)
        var next = report
        next.status = .preliminary
        next.sections = sections
        next.signedVersion += 1
        next.updatedAt = now
        next.revision += 1
        let version = ReportVersion(
            reportID: report.id, version: next.signedVersion, kind: .preliminary, sections: sections, text: "", signedBy: actor.username,
            signedByName: actor.displayName, signedAt: now)
        return (next, version)
    }

    /// Signs the report final. Needs the lock; the store checks the signing privilege and the password.
    public static func sign(
        _ report: Report, sections: [ReportSection], item: WorkItem, by actor: ReadingActor, now: Date
    ) throws(ReadingError) -> (Report, ReportVersion) {
        guard report.status == .draft || report.status == .preliminary else {
            throw report.status.isSigned
                ? .conflict("the report is already signed") : .invalidTransition(action: "sign", from: report.status.rawValue)
        }
        guard item.state == .inProgress, item.owner == actor.username else { throw .notLockHolder("sign the report") }
        try requireText(sections)
        var next = report
        next.status = .final
        next.sections = sections
        next.signedVersion += 1
        next.updatedAt = now
        next.revision += 1
        let version = ReportVersion(
            reportID: report.id, version: next.signedVersion, kind: .final, sections: sections, text: "", signedBy: actor.username,
            signedByName: actor.displayName, signedAt: now)
        return (next, version)
    }

    /// Adds a signed addendum to a final report: the report's text stays as signed.
    public static func addendum(_ report: Report, text: String, by actor: ReadingActor, now: Date) throws(ReadingError) -> (
        Report, ReportVersion
    ) {
        guard report.status.isSigned else { throw .invalidTransition(action: "add an addendum", from: report.status.rawValue) }
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw .invalid("an addendum has text") }
        var next = report
        next.status = .amended
        next.signedVersion += 1
        next.updatedAt = now
        next.revision += 1
        let version = ReportVersion(
            reportID: report.id, version: next.signedVersion, kind: .addendum, sections: [], text: text, signedBy: actor.username,
            signedByName: actor.displayName, signedAt: now)
        return (next, version)
    }

    /// The request's status once its report reaches `status`.
    public static func requestStatus(for status: ReportStatus) -> RequestStatus {
        switch status {
        case .draft: .inProgress
        case .preliminary: .preliminary
        case .final: .final
        case .amended: .amended
        }
    }

    /// The site acknowledges a critical result (once).
    public static func acknowledge(_ result: CriticalResult, by actor: ReadingActor, now: Date) throws(ReadingError) -> CriticalResult {
        guard result.acknowledgedAt == nil else { throw .invalidTransition(action: "acknowledge", from: "acknowledged") }
        var next = result
        next.acknowledgedBy = actor.username
        next.acknowledgedAt = now
        return next
    }

    /// A critical result unacknowledged for `afterSeconds` since it was flagged (or last escalated) is escalated again.
    public static func escalate(_ result: CriticalResult, now: Date, afterSeconds: Double) -> CriticalResult? {
        guard result.acknowledgedAt == nil else { return nil }
        let since = result.escalatedAt ?? result.flaggedAt
        guard now.timeIntervalSince(since) >= afterSeconds else { return nil }
        var next = result
        next.escalatedAt = now
        next.escalations += 1
        return next
    }

    private static func requireText(_ sections: [ReportSection]) throws(ReadingError) {
        guard sections.contains(where: { !$0.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }) else {
            throw .invalid("a report has text in at least one section")
        }
    }
}
