import Foundation
import Platform
import Testing

@testable import Reading

@Suite("Consultation state machine and access table")
struct ReadingLogicTests {
    let t0 = Date(timeIntervalSince1970: 1_700_000_000)
    let a = ReadingActor(username: "a", displayName: "A")
    let b = ReadingActor(username: "b", displayName: "B")

    func item(_ state: WorkItemState = .scheduled) -> WorkItem {
        WorkItem(id: 1, uid: "2.25.1", requestID: 1, state: state, createdAt: t0)
    }

    @Test("A UPS claim needs a Transaction UID, a second claim is a conflict, and only the owner's UID completes it")
    func upsStates() throws {
        #expect(throws: ReadingError.transactionUIDMismatch) {
            try ReadingTransitions.changeUPSState(item(), to: .inProgress, transactionUID: nil, by: a, now: t0, leaseSeconds: 60)
        }
        let claimed = try ReadingTransitions.changeUPSState(
            item(), to: .inProgress, transactionUID: "2.25.7", by: a, now: t0, leaseSeconds: 60)
        #expect(claimed.state == .inProgress && claimed.transactionUID == "2.25.7" && claimed.leaseUntil == t0.addingTimeInterval(60))
        #expect(throws: ReadingError.conflict("the work item is already IN PROGRESS")) {
            try ReadingTransitions.changeUPSState(claimed, to: .inProgress, transactionUID: "2.25.8", by: b, now: t0, leaseSeconds: 60)
        }
        #expect(throws: ReadingError.transactionUIDMismatch) {
            try ReadingTransitions.changeUPSState(claimed, to: .completed, transactionUID: "2.25.8", by: b, now: t0, leaseSeconds: 60)
        }
        let done = try ReadingTransitions.changeUPSState(
            claimed, to: .completed, transactionUID: "2.25.7", by: a, now: t0, leaseSeconds: 60)
        #expect(done.state == .completed)
        // PS3.4 CC.1.1: COMPLETED and CANCELED are final.
        for target in WorkItemState.allCases {
            #expect(throws: ReadingError.self) {
                try ReadingTransitions.changeUPSState(done, to: target, transactionUID: "2.25.7", by: a, now: t0, leaseSeconds: 60)
            }
        }
        #expect(
            try ReadingTransitions.changeUPSState(item(), to: .canceled, transactionUID: nil, by: a, now: t0, leaseSeconds: 60).state
                == .canceled)
    }

    @Test("A lock is held until its lease passes; then anyone may take it, with a new Transaction UID")
    func leases() throws {
        let held = try ReadingTransitions.claim(item(), by: a, transactionUID: "2.25.1", now: t0, leaseSeconds: 30)
        #expect(throws: ReadingError.locked(owner: "A", until: t0.addingTimeInterval(30))) {
            try ReadingTransitions.claim(held, by: b, transactionUID: "2.25.2", now: t0.addingTimeInterval(29), leaseSeconds: 30)
        }
        #expect(ReadingTransitions.expire(held, now: t0.addingTimeInterval(29)) == nil)
        #expect(ReadingTransitions.expire(held, now: t0.addingTimeInterval(30))?.state == .scheduled)
        let taken = try ReadingTransitions.claim(held, by: b, transactionUID: "2.25.2", now: t0.addingTimeInterval(31), leaseSeconds: 30)
        #expect(taken.owner == "b" && taken.transactionUID == "2.25.2" && taken.revision == held.revision + 1)
        let renewed = try ReadingTransitions.renew(taken, by: b, now: t0.addingTimeInterval(40), leaseSeconds: 30)
        #expect(renewed.leaseUntil == t0.addingTimeInterval(70) && renewed.revision == taken.revision)
        #expect(throws: ReadingError.notLockHolder("renew the lock")) {
            try ReadingTransitions.renew(taken, by: a, now: t0, leaseSeconds: 30)
        }
        #expect(try ReadingTransitions.breakLock(taken).owner == nil)
    }

    @Test("Reports go draft → preliminary → final → amended; a signed text never changes and an empty report is not signed")
    func reports() throws {
        let held = try ReadingTransitions.claim(item(), by: a, transactionUID: "2.25.1", now: t0, leaseSeconds: 30)
        let draft = Report(id: 9, requestID: 1, workItemID: 1, author: "a", authorName: "A", sections: [], createdAt: t0, updatedAt: t0)
        let empty = [ReportSection(kind: "findings", title: "Findings", text: "  ")]
        let text = [ReportSection(kind: "findings", title: "Findings", text: "Normal.")]
        #expect(throws: ReadingError.invalid("a report has text in at least one section")) {
            try ReadingTransitions.sign(draft, sections: empty, item: held, by: a, now: t0)
        }
        #expect(throws: ReadingError.notLockHolder("sign the report")) {
            try ReadingTransitions.sign(draft, sections: text, item: held, by: b, now: t0)
        }
        let (preliminary, v1) = try ReadingTransitions.preliminary(draft, sections: text, item: held, by: a, now: t0)
        #expect(preliminary.status == .preliminary && v1.version == 1 && v1.kind == .preliminary)
        let (final, v2) = try ReadingTransitions.sign(preliminary, sections: text, item: held, by: a, now: t0)
        #expect(final.status == .final && v2.version == 2 && v2.kind == .final)
        #expect(throws: ReadingError.conflict("the report is already signed")) {
            try ReadingTransitions.sign(final, sections: text, item: held, by: a, now: t0)
        }
        #expect(throws: ReadingError.invalidTransition(action: "edit", from: "final")) {
            try ReadingTransitions.saveDraft(final, sections: text, item: held, by: a, now: t0)
        }
        #expect(throws: ReadingError.invalidTransition(action: "add an addendum", from: "draft")) {
            try ReadingTransitions.addendum(draft, text: "x", by: a, now: t0)
        }
        let (amended, v3) = try ReadingTransitions.addendum(final, text: "More.", by: b, now: t0)
        #expect(amended.status == .amended && amended.sections == text && v3.version == 3 && v3.text == "More.")
        #expect(ReadingTransitions.requestStatus(for: .amended) == .amended)
    }

    @Test("Withdrawal only before a claim; escalation only while unacknowledged, once per period")
    func withdrawalAndEscalation() throws {
        let request = ConsultationRequest(
            id: 1, serviceLine: .imaging, priority: .stat, status: .requested, institutionCode: "X", requestedBy: "s",
            referringPhysician: "",
            clinicalHistory: "", question: "?", createdAt: t0, deadline: t0, updatedAt: t0)
        let (withdrawn, canceled) = try ReadingTransitions.withdraw(request, item: item())
        #expect(withdrawn.status == .withdrawn && canceled.state == .canceled)
        var claimedRequest = request
        claimedRequest.status = .inProgress
        #expect(throws: ReadingError.self) { try ReadingTransitions.withdraw(claimedRequest, item: item(.inProgress)) }
        let flagged = CriticalResult(id: 1, requestID: 1, finding: "f", flaggedBy: "a", flaggedByName: "A", flaggedAt: t0)
        #expect(ReadingTransitions.escalate(flagged, now: t0.addingTimeInterval(59), afterSeconds: 60) == nil)
        let once = try #require(ReadingTransitions.escalate(flagged, now: t0.addingTimeInterval(60), afterSeconds: 60))
        #expect(once.escalations == 1 && ReadingTransitions.escalate(once, now: t0.addingTimeInterval(119), afterSeconds: 60) == nil)
        #expect(ReadingTransitions.escalate(once, now: t0.addingTimeInterval(120), afterSeconds: 60)?.escalations == 2)
        let acknowledged = try ReadingTransitions.acknowledge(once, by: b, now: t0)
        #expect(ReadingTransitions.escalate(acknowledged, now: t0.addingTimeInterval(10_000), afterSeconds: 60) == nil)
    }

    @Test("Service levels: deadlines per priority from the configured durations")
    func serviceLevels() {
        let levels = ServiceLevels(statSeconds: 1800, urgentSeconds: 7200, routineSeconds: 86400)
        #expect(levels.deadline(for: .stat, requestedAt: t0) == t0.addingTimeInterval(1800))
        #expect(levels.deadline(for: .urgent, requestedAt: t0) == t0.addingTimeInterval(7200))
        #expect(levels.deadline(for: .routine, requestedAt: t0) == t0.addingTimeInterval(86400))
        #expect(Priority.allCases.sorted() == [.stat, .urgent, .routine])
    }

    @Test(
        "Dates are written as Foundation's ISO 8601 formatter writes them, and in UTC+8 for pages",
        arguments: [
            -86_400.5, 0, 951_782_400, 1_700_000_000, 1_709_164_799, 4_102_444_800,
        ])
    func dates(seconds: Double) {
        let date = Date(timeIntervalSince1970: seconds)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        #expect(ReadingFormat.iso(date) == formatter.string(from: date))
        let local = DateFormatter()
        local.locale = Locale(identifier: "en_US_POSIX")
        local.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
        local.dateFormat = "yyyy-MM-dd HH:mm"
        #expect(ReadingFormat.local(date) == local.string(from: date))
    }

    @Test("Templates are chosen by modality and body part, most specific first")
    func templates() {
        #expect(ReportTemplates.template(modality: "CT", bodyPart: "HEAD").id == "ct-head")
        #expect(ReportTemplates.template(modality: "ct", bodyPart: "chest").id == "ct-chest")
        #expect(ReportTemplates.template(modality: "DX", bodyPart: "HAND").id == "radiograph")
        #expect(ReportTemplates.template(modality: "MR", bodyPart: "KNEE").id == "general")
    }

    @Test("A whole-slide (SM) study gets the pathology template: specimen, gross, microscopic, diagnosis, immunohistochemistry")
    func pathologyTemplate() {
        let template = ReportTemplates.template(modality: "SM", bodyPart: "")
        #expect(template.id == "pathology")
        #expect(template.sections.map(\.kind) == ["history", "specimen", "gross", "findings", "impression", "immunohistochemistry"])
        // The diagnosis is the impression: the section FHIR's conclusion and the SR's Impressions are made of.
        #expect(template.sections.first { $0.kind == "impression" }?.title.contains("Diagnosis") == true)
    }

    /// The expected table, written out here cell by cell from the "Access and audit" and the roles of DESIGN.md.
    static let people: [(String, Set<Role>, String?, ReaderProfile?)] = [
        ("site", [.site], "COUNTY-A", nil),
        ("other-site", [.site], "COUNTY-B", nil),
        ("reader", [.reader], "MEDCOLLEGE", nil),
        ("junior", [.reader], "MEDCOLLEGE", ReaderProfile(username: "junior", canSign: false)),
        ("senior", [.reader, .supervisor], "MEDCOLLEGE", nil),
        ("admin", [.admin], nil, nil),
        ("curator", [.curator], "MEDCOLLEGE", nil),
        ("student", [.student], "MEDCOLLEGE", nil),
        ("supervisor", [.supervisor], "MEDCOLLEGE", nil),
    ]
    static let expected: [ReadingAction: Set<String>] = [
        .request: ["site"],
        .withdraw: ["site"],
        .acknowledgeCritical: ["site"],
        .viewRequest: ["site", "reader", "junior", "senior", "admin"],
        .viewReport: ["site", "reader", "junior", "senior", "admin"],
        .viewWorklist: ["reader", "junior", "senior", "admin"],
        .claim: ["reader", "junior", "senior"],
        .release: ["reader", "junior", "senior"],
        .writeReport: ["reader", "junior", "senior"],
        .flagCritical: ["reader", "junior", "senior"],
        .secondOpinion: ["reader", "junior", "senior"],
        .sign: ["reader", "senior"],
        .addendum: ["reader", "senior"],
        .breakLock: ["senior"],
        .viewTurnaround: ["site", "reader", "junior", "senior", "admin"],
        .peerReview: ["senior", "supervisor"],
        .attach: ["site", "admin"],
        .viewAttachments: ["site", "admin"],
    ]

    @Test("Every action × role of the consultation workflow, against a request of COUNTY-A", arguments: ReadingAction.allCases)
    func accessMatrix(action: ReadingAction) throws {
        let allowed = try #require(Self.expected[action])
        for (name, roles, institution, profile) in Self.people {
            let principal = Principal(
                userID: 1, username: name, displayName: name, roles: roles, institutionID: 1, method: .session(csrfToken: ""),
                institutionCode: institution)
            let decision = ReadingAccess.decide(action, principal: principal, profile: profile, requestInstitution: "COUNTY-A")
            #expect(decision.allowed == allowed.contains(name), "\(action) by \(name): \(decision)")
        }
    }

    @Test("A reader sees a request's attachments only once assigned to it; another institution's site never does")
    func attachmentsForAssignedReaders() {
        func principal(_ roles: Set<Role>, _ institution: String?) -> Principal {
            Principal(
                userID: 1, username: "p", displayName: "p", roles: roles, institutionID: 1, method: .session(csrfToken: ""),
                institutionCode: institution)
        }
        let reader = principal([.reader], "MEDCOLLEGE")
        #expect(!ReadingAccess.decide(.viewAttachments, principal: reader, requestInstitution: "COUNTY-A").allowed)
        #expect(ReadingAccess.decide(.viewAttachments, principal: reader, requestInstitution: "COUNTY-A", assigned: true).allowed)
        #expect(!ReadingAccess.decide(.attach, principal: reader, requestInstitution: "COUNTY-A", assigned: true).allowed)
        let student = principal([.student], "MEDCOLLEGE")
        #expect(!ReadingAccess.decide(.viewAttachments, principal: student, requestInstitution: "COUNTY-A", assigned: true).allowed)
        let otherSite = principal([.site], "COUNTY-B")
        #expect(!ReadingAccess.decide(.viewAttachments, principal: otherSite, requestInstitution: "COUNTY-A", assigned: true).allowed)
    }
}
