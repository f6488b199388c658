import Archive
import AtriumTesting
import DICOM
import Foundation
import Platform
import Synchronization
import Testing

@testable import Reading

/// A clock the tests move by hand, so that leases and escalations pass without waiting.
final class TestClock: Sendable {
    private let value = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { value.withLock { $0 } }
    func advance(_ seconds: Double) { value.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// The consultation store's behaviour, run against SQLite and PostgreSQL alike (``ReadingStoreTests``).
enum ReadingStoreSuite {
    static let site = ReadingActor(username: "county.clerk", displayName: "County clerk", sourceAddress: "10.0.0.7")
    static let readerA = ReadingActor(username: "reader.a", displayName: "Dr A", sourceAddress: "10.0.0.8")
    static let readerB = ReadingActor(username: "reader.b", displayName: "Dr B", sourceAddress: "10.0.0.9")
    static let study1 = "1.2.826.0.1.3680043.8.498.1001"
    static let study2 = "1.2.826.0.1.3680043.8.498.1002"

    static func settings() -> ReadingSettings {
        var settings = ReadingSettings()
        settings.serviceLevels = ServiceLevels(statSeconds: 3600, urgentSeconds: 4 * 3600, routineSeconds: 24 * 3600)
        settings.leaseSeconds = 90
        settings.escalationSeconds = 600
        settings.readingInstitution = "Medical College"
        return settings
    }

    static func run(_ store: ReadingStore, clock: TestClock) async throws {
        try await store.prepare()
        try await requestsAndWorklist(store, clock: clock)
        try await locksAndLeases(store, clock: clock)
        try await reportsAndSigning(store, clock: clock)
        try await criticalResults(store, clock: clock)
        try await linkingAndWithdrawal(store, clock: clock)
        try await unifiedProcedureSteps(store, clock: clock)
        try await assignmentAndDoubleReading(store, clock: clock)
        try await auditTrail(store)
    }

    static func requestsAndWorklist(_ store: ReadingStore, clock: TestClock) async throws {
        let start = clock.now
        let (stat, statItem) = try await store.file(
            NewConsultationRequest(
                priority: .stat, referringPhysician: "Dr Wang", clinicalHistory: "Fall, headache", question: "Bleed?", modality: "CT",
                bodyPart: "HEAD", patientName: "Zhang^San", patientID: "P1", studies: [study1]), institution: "COUNTY-A", by: site)
        #expect(stat.status == .requested && statItem.state == .scheduled)
        #expect(stat.deadline == start.addingTimeInterval(3600), "stat: one hour, as configured")
        #expect(UIDCheck.isDICOMUID(statItem.uid))
        clock.advance(1)
        let (routine, _) = try await store.file(
            NewConsultationRequest(
                priority: .routine, referringPhysician: "Dr Li", clinicalHistory: "Cough", question: "Pneumonia?", modality: "CR",
                bodyPart: "CHEST", studies: [study2]), institution: "COUNTY-B", by: site)
        #expect(routine.deadline == start.addingTimeInterval(1 + 24 * 3600))
        await #expect(throws: ReadingError.self) {
            try await store.file(
                NewConsultationRequest(priority: .urgent, referringPhysician: "", clinicalHistory: "", question: "  ", studies: [study1]),
                institution: "COUNTY-A", by: site)
        }
        await #expect(throws: ReadingError.self) {
            try await store.file(
                NewConsultationRequest(
                    priority: .urgent, referringPhysician: "", clinicalHistory: "", question: "x", studies: ["not a uid"]),
                institution: "COUNTY-A", by: site)
        }
        // Sorted by deadline: the stat request first although filed first anyway; the routine one 24 h later.
        let list = try await store.worklist(WorklistFilter())
        #expect(list.map(\.request.id) == [stat.id, routine.id])
        #expect(list.first?.request.studies == [study1])
        var filter = WorklistFilter()
        filter.modality = "CR"
        #expect(try await store.worklist(filter).map(\.request.id) == [routine.id])
        filter = WorklistFilter()
        filter.institution = "COUNTY-A"
        #expect(try await store.worklist(filter).map(\.request.id) == [stat.id])
        filter = WorklistFilter()
        filter.priority = .stat
        let counts = try await store.worklistCounts(filter)
        #expect(counts.byPriority == [.stat: 1, .routine: 1] && counts.total == 2, "counts ignore the priority being filtered")
        // With a finished state among the filter's, the worklist takes the general query (not the open items' index).
        filter = WorklistFilter()
        filter.states = [.completed]
        #expect(try await store.worklist(filter).isEmpty)
        filter.states = [.completed, .scheduled]
        #expect(try await store.worklist(filter).map(\.request.id) == [stat.id, routine.id])
        #expect(try await store.requests(institution: "COUNTY-A").map(\.id) == [stat.id])
        #expect(try await store.requests(institution: nil).count == 2)
    }

    static func locksAndLeases(_ store: ReadingStore, clock: TestClock) async throws {
        let entry = try #require(try await store.worklist(WorklistFilter()).first)
        let item = try await store.claim(itemID: entry.item.id, by: readerA)
        #expect(item.state == .inProgress && item.owner == "reader.a" && item.transactionUID != nil)
        #expect(try await store.request(id: entry.request.id)?.status == .inProgress)
        // The counts follow the claim at once (they are kept only until the store writes).
        let counts = try await store.worklistCounts(WorklistFilter())
        #expect(counts.byState == [.scheduled: 1, .inProgress: 1] && counts.total == 2)
        // A second claim while the lease lives is refused with who holds it.
        await #expect(throws: ReadingError.locked(owner: "Dr A", until: clock.now.addingTimeInterval(90))) {
            try await store.claim(itemID: item.id, by: readerB)
        }
        // The holder claiming again keeps the Transaction UID.
        #expect(try await store.claim(itemID: item.id, by: readerA).transactionUID == item.transactionUID)
        await #expect(throws: ReadingError.notLockHolder("release it")) { try await store.release(itemID: item.id, by: readerB) }
        // The browser went away: once the lease passes, the lock is released and B may claim.
        clock.advance(60)
        #expect(try await store.expireLeases().isEmpty)
        clock.advance(31)
        #expect(try await store.expireLeases().map(\.id) == [item.id])
        #expect(try await store.workItem(id: item.id)?.state == .scheduled)
        #expect(try await store.request(id: entry.request.id)?.status == .requested)
        let byB = try await store.claim(itemID: item.id, by: readerB)
        #expect(byB.owner == "reader.b" && byB.transactionUID != item.transactionUID)
        // A senior breaks B's lock; A claims it back.
        _ = try await store.breakLock(itemID: item.id, by: readerA)
        #expect(try await store.workItem(id: item.id)?.owner == nil)
        _ = try await store.claim(itemID: item.id, by: readerA)
        let kinds = try await store.events(requestID: entry.request.id).map(\.kind)
        #expect(kinds == ["requested", "claimed", "lease-expired", "claimed", "lock-broken", "claimed"])
        // UPS: a second claim is a conflict; a change without the owner's Transaction UID is refused.
        await #expect(throws: ReadingError.self) {
            try await store.changeUPSState(uid: item.uid, to: .inProgress, transactionUID: "2.25.1", by: readerB)
        }
        await #expect(throws: ReadingError.transactionUIDMismatch) {
            try await store.changeUPSState(uid: item.uid, to: .canceled, transactionUID: "2.25.99", by: readerB)
        }
    }

    static func reportsAndSigning(_ store: ReadingStore, clock: TestClock) async throws {
        let entry = try #require(try await store.worklist(WorklistFilter()).first { $0.item.owner == "reader.a" })
        let report = try #require(try await store.reports(requestID: entry.request.id).first)
        #expect(report.status == .draft)
        #expect(report.sections.map(\.kind) == ["history", "technique", "findings", "impression"], "the CT head template")
        #expect(report.sections.first?.text == "Fall, headache", "the history comes from the request")
        var sections = report.sections
        sections[2].text = "Acute subdural haematoma, left."
        await #expect(throws: ReadingError.notLockHolder("edit the report")) {
            try await store.saveDraft(reportID: report.id, sections: sections, by: readerB)
        }
        clock.advance(1)
        let saved = try await store.saveDraft(reportID: report.id, sections: sections, by: readerA)
        #expect(try await store.report(id: report.id)?.sections == sections && saved.draftSavedAt == clock.now)
        // Two signatures at the same instant: exactly one wins, the other is a conflict.
        sections[3].text = "Subdural haematoma."
        let signing = sections
        let outcomes = await withTaskGroup(of: Result<Report, ReadingError>.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    do throws(ReadingError) {
                        return .success(try await store.sign(reportID: report.id, sections: signing, by: readerA))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            var all: [Result<Report, ReadingError>] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        let wins = outcomes.filter { if case .success = $0 { true } else { false } }
        let conflicts = outcomes.filter { if case .failure(.conflict) = $0 { true } else { false } }
        #expect(wins.count == 1 && conflicts.count == 1, "\(outcomes)")
        let signed = try #require(try await store.report(id: report.id))
        #expect(signed.status == .final && signed.signedVersion == 1)
        #expect(try await store.workItem(id: entry.item.id)?.state == .completed)
        #expect(try await store.request(id: entry.request.id)?.status == .final)
        let pending = try await store.pendingDocuments()
        #expect(pending.map(\.reportID) == [report.id] && pending.first?.predecessorSOPInstanceUID == nil)
        #expect(pending.allSatisfy { UIDCheck.isDICOMUID($0.sopInstanceUID) && UIDCheck.isDICOMUID($0.seriesInstanceUID) })
        // A signed report never changes: drafts are refused, corrections are addenda.
        await #expect(throws: ReadingError.self) { try await store.saveDraft(reportID: report.id, sections: [], by: readerA) }
        clock.advance(5)
        _ = try await store.addendum(reportID: report.id, text: "Also a small frontal contusion.", by: readerB)
        let versions = try await store.versions(reportID: report.id)
        #expect(versions.map(\.kind) == [.final, .addendum] && versions.map(\.version) == [1, 2])
        #expect(versions[0].sections == signing && versions[1].signedBy == "reader.b")
        #expect(try await store.request(id: entry.request.id)?.status == .amended)
        await #expect(throws: ReadingError.self) {
            try await store.query("UPDATE report_versions SET text = 'changed' WHERE report_id = ?", [.integer(report.id)])
        }
        await #expect(throws: ReadingError.self) {
            try await store.query("DELETE FROM report_versions WHERE report_id = ?", [.integer(report.id)])
        }
        // The document the SR and FHIR makers read.
        let study = ReportDocument.Study(studyInstanceUID: study1, patientName: "Zhang^San", patientID: "P1")
        let document = try await store.document(reportID: report.id, study: study)
        #expect(document.status == .amended && document.version == 2 && document.reportID == String(report.id))
        #expect(document.sections.map(\.text) == signing.map(\.text))
        #expect(document.addenda.map(\.text) == ["Also a small frontal contusion."] && document.addenda.first?.author == "Dr B")
        #expect(document.verifier == "Dr A" && document.request.priority == "stat" && document.readingInstitution == "Medical College")
        let first = try await store.document(reportID: report.id, version: 1, study: study)
        #expect(first.status == .final && first.addenda.isEmpty && first.version == 1)
        try await store.markDocumentsStored(reportID: report.id, version: 1)
        let addendumDocument = try #require(try await store.pendingDocuments().first)
        #expect(addendumDocument.version == 2 && addendumDocument.predecessorSOPInstanceUID == pending.first?.sopInstanceUID)
        #expect(addendumDocument.seriesInstanceUID == pending.first?.seriesInstanceUID, "one series per report")
        // RADPEER: not one's own report; a comment from 2b on.
        await #expect(throws: ReadingError.self) {
            try await store.recordPeerReview(reportID: report.id, score: .concur, comment: "", by: readerA)
        }
        await #expect(throws: ReadingError.self) {
            try await store.recordPeerReview(reportID: report.id, score: .understandableLikelySignificant, comment: " ", by: readerB)
        }
        let review = try await store.recordPeerReview(
            reportID: report.id, score: .understandableLikelySignificant, comment: "Contusion missed.", by: readerB)
        #expect(review.reader == "reader.a" && review.site == "COUNTY-A")
        #expect(try await store.peerReviews(institution: "COUNTY-A").map(\.score) == [.understandableLikelySignificant])
        #expect(try await store.peerReviews(institution: "COUNTY-B").isEmpty)
        // The site is told.
        let notices = try await store.notifications(username: "county.clerk", institution: "COUNTY-A")
        #expect(notices.map(\.kind) == ["report-addendum", "report-final"])
    }

    static func criticalResults(_ store: ReadingStore, clock: TestClock) async throws {
        let request = try #require(try await store.requests(institution: "COUNTY-A").first)
        let flagged = try await store.flagCritical(requestID: request.id, finding: "Subdural haematoma with midline shift", by: readerA)
        #expect(try await store.unacknowledgedCriticalResults(institution: "COUNTY-A").map(\.id) == [flagged.id])
        #expect(try await store.unacknowledgedCriticalResults(institution: "COUNTY-B").isEmpty)
        clock.advance(599)
        #expect(try await store.escalateCriticalResults().isEmpty)
        clock.advance(1)
        #expect(try await store.escalateCriticalResults().map(\.escalations) == [1])
        #expect(try await store.escalateCriticalResults().isEmpty, "the next escalation waits another period")
        let acknowledged = try await store.acknowledge(criticalID: flagged.id, by: site)
        #expect(acknowledged.acknowledgedBy == "county.clerk" && acknowledged.acknowledgedAt == clock.now)
        await #expect(throws: ReadingError.self) { try await store.acknowledge(criticalID: flagged.id, by: site) }
        clock.advance(10_000)
        #expect(try await store.escalateCriticalResults().isEmpty)
        let report = try #require(try await store.reports(requestID: request.id).first)
        let document = try await store.document(
            reportID: report.id, study: ReportDocument.Study(studyInstanceUID: study1, patientName: "", patientID: ""))
        let line = try #require(document.criticalResults.first)
        #expect(line.contains("Subdural haematoma with midline shift") && line.contains("acknowledged by county.clerk"))
        #expect(line.contains("escalated 1"))
        let kinds = try await store.events(requestID: request.id).map(\.kind).suffix(3)
        #expect(Array(kinds) == ["critical-flagged", "critical-escalated", "critical-acknowledged"])
        #expect(try await store.notifications(username: "reader.a", institution: nil).map(\.kind).contains("critical-acknowledged"))
    }

    static func linkingAndWithdrawal(_ store: ReadingStore, clock: TestClock) async throws {
        let (pending, item) = try await store.file(
            NewConsultationRequest(
                priority: .urgent, referringPhysician: "", clinicalHistory: "", question: "Fracture?", accessionNumber: "ACC-77"),
            institution: "COUNTY-A", by: site)
        #expect(pending.studies.isEmpty)
        #expect(try await store.requestsAwaitingAccession(institution: "COUNTY-A").map(\.id) == [pending.id])
        #expect(
            try await store.linkStudy(
                requestID: pending.id, studyInstanceUID: "1.2.3.77", patientName: "Li^Si", patientID: "P77", modality: "DX",
                bodyPart: "HAND",
                by: site))
        #expect(
            try await !store.linkStudy(
                requestID: pending.id, studyInstanceUID: "1.2.3.77", patientName: "", patientID: "", modality: "", bodyPart: "", by: site))
        let linked = try #require(try await store.request(id: pending.id))
        #expect(linked.studies == ["1.2.3.77"] && linked.patientID == "P77" && linked.modality == "DX")
        #expect(try await store.requestsAwaitingAccession(institution: "COUNTY-A").isEmpty, "a linked request waits no more")
        // Withdrawn before anyone claims it; a claimed request cannot be withdrawn.
        let withdrawn = try await store.withdraw(requestID: pending.id, by: site)
        #expect(withdrawn.status == .withdrawn)
        #expect(try await store.workItem(id: item.id)?.state == .canceled)
        await #expect(throws: ReadingError.self) { try await store.claim(itemID: item.id, by: readerA) }
        let (other, otherItem) = try await store.file(
            NewConsultationRequest(priority: .routine, referringPhysician: "", clinicalHistory: "", question: "?", studies: [study2]),
            institution: "COUNTY-A", by: site)
        _ = try await store.claim(itemID: otherItem.id, by: readerB)
        await #expect(throws: ReadingError.invalidTransition(action: "withdraw", from: "in-progress")) {
            try await store.withdraw(requestID: other.id, by: site)
        }
        // Preliminary by a junior, then signed final by a senior after the junior releases it.
        let report = try #require(try await store.reports(requestID: other.id).first)
        var sections = report.sections
        sections[sections.count - 1].text = "No acute abnormality."
        let preliminary = try await store.preliminary(reportID: report.id, sections: sections, by: readerB)
        #expect(preliminary.status == .preliminary && preliminary.signedVersion == 1)
        #expect(try await store.request(id: other.id)?.status == .preliminary)
        _ = try await store.release(itemID: otherItem.id, by: readerB)
        #expect(try await store.request(id: other.id)?.status == .preliminary, "releasing keeps the preliminary status")
        _ = try await store.claim(itemID: otherItem.id, by: readerA)
        let final = try await store.sign(reportID: report.id, sections: sections, by: readerA)
        #expect(final.status == .final && final.signedVersion == 2 && final.author == "reader.b")
        let document = try await store.document(
            reportID: report.id, study: ReportDocument.Study(studyInstanceUID: study2, patientName: "", patientID: ""))
        #expect(document.author == "Dr B" && document.verifier == "Dr A" && document.version == 1)
        // A second opinion: a work item of its own for the colleague asked, with its own report; the request stays final.
        let second = try await store.requestSecondOpinion(requestID: other.id, colleague: "reader.b", by: readerA)
        #expect(second.kind == .secondOpinion && second.state == .scheduled && second.assignee == "reader.b")
        await #expect(throws: ReadingError.forbidden("this second opinion was asked of reader.b")) {
            try await store.claim(itemID: second.id, by: readerA)
        }
        _ = try await store.claim(itemID: second.id, by: readerB)
        let secondReport = try #require(try await store.reports(requestID: other.id).first { $0.workItemID == second.id })
        var opinion = secondReport.sections
        opinion[opinion.count - 1].text = "Agree."
        _ = try await store.sign(reportID: secondReport.id, sections: opinion, by: readerB)
        #expect(try await store.request(id: other.id)?.status == .final)
        #expect(try await store.notifications(username: "reader.b", institution: nil).map(\.kind).contains("second-opinion"))
        // Reader profiles.
        #expect(try await store.profile(username: "reader.b") == ReaderProfile(username: "reader.b"))
        try await store.setProfile(ReaderProfile(username: "reader.b", canSign: false, senior: false, serviceLines: [.imaging]))
        try await store.setProfile(ReaderProfile(username: "reader.b", canSign: false, senior: true, serviceLines: [.imaging, .pathology]))
        let profile = try await store.profile(username: "reader.b")
        #expect(!profile.canSign && profile.senior && profile.serviceLines == [.imaging, .pathology])
    }

    /// UPS-RS over the work items: a create becomes a request on the worklist with its attributes kept, an update
    /// merges, a cancellation request withdraws a scheduled item or is recorded for one in progress, and subscriptions
    /// (one item, global, filtered, suspended) cover the items PS3.4 CC.2.3 says they cover.
    static func unifiedProcedureSteps(_ store: ReadingStore, clock: TestClock) async throws {
        var ds = DataSet(characterSet: .utf8)
        ds.set(.procedureStepLabel, .LO, "UPS question: nodule?")
        ds.set(.scheduledProcedureStepPriority, .CS, "HIGH")
        ds.set(.patientName, .PN, "Li^Lei")
        ds.set(.patientID, .LO, "UPS-PID-1")
        ds.set(.scheduledStationNameCodeSequence, items: [])
        var input = DataSet(characterSet: .utf8)
        input.set(.studyInstanceUID, .UI, "1.2.826.0.1.3680043.8.498.1077")
        ds.set(.inputInformationSequence, items: [input])
        ds.set(.worklistLabel, .LO, "Remote reading")
        let uid = "1.2.826.0.1.3680043.8.498.7001"
        let (request, item) = try await store.createUPS(ds, uid: uid, institution: "COUNTY-A", by: site)
        #expect(item.uid == uid && item.state == .scheduled)
        #expect(
            request.priority == .stat && request.question == "UPS question: nodule?"
                && request.studies == ["1.2.826.0.1.3680043.8.498.1077"])
        await #expect(throws: ReadingError.self) { _ = try await store.createUPS(ds, uid: uid, institution: "COUNTY-A", by: site) }
        // On the readers' worklist, like any request.
        #expect(try await store.worklist(WorklistFilter()).contains { $0.item.uid == uid })
        let entry = try #require(try await store.upsEntry(uid: uid))
        #expect(entry.dataSet.string(.worklistLabel) == "Remote reading", "a create's own attributes are kept")
        #expect(entry.dataSet.string(.procedureStepState) == "SCHEDULED")
        #expect(entry.dataSet[.transactionUID] == nil)

        // Subscriptions: one to the item, a global one, a filtered one (HIGH only).
        let now = clock.now
        try await store.subscribe(UPSSubscription(aeTitle: "ITEM_AE", target: .item(uid), createdAt: now))
        try await store.subscribe(UPSSubscription(aeTitle: "GLOBAL_AE", target: .global, deletionLock: true, createdAt: now))
        try await store.subscribe(
            UPSSubscription(aeTitle: "FILTER_AE", target: .filtered, filter: [("ScheduledProcedureStepPriority", "HIGH")], createdAt: now))
        let subscriptions = try await store.subscriptions()
        #expect(subscriptions.map(\.aeTitle).sorted() == ["FILTER_AE", "GLOBAL_AE", "ITEM_AE"])
        let filtered = try #require(subscriptions.first { $0.aeTitle == "FILTER_AE" })
        #expect(filtered.filter.map(\.value) == ["HIGH"])
        #expect(filtered.covers(uid: uid, created: item.createdAt, dataSet: entry.dataSet))
        var low = DataSet(characterSet: .utf8)
        low.set(.scheduledProcedureStepPriority, .CS, "LOW")
        #expect(!filtered.covers(uid: "1.2.3", created: item.createdAt, dataSet: low))
        clock.advance(5)
        #expect(try await store.suspendGlobalSubscription(aeTitle: "GLOBAL_AE"))
        let global = try #require(try await store.subscriptions(aeTitle: "GLOBAL_AE").first)
        #expect(global.deletionLock && global.suspendedAt != nil)
        #expect(global.covers(uid: uid, created: item.createdAt, dataSet: entry.dataSet), "items from before the suspension stay covered")
        #expect(!global.covers(uid: "1.2.3", created: clock.now.addingTimeInterval(1), dataSet: entry.dataSet))
        #expect(try await store.unsubscribe(aeTitle: "ITEM_AE", target: uid))
        #expect(try await !store.unsubscribe(aeTitle: "ITEM_AE", target: uid))

        // Update: merged, and the request's question follows the label; not with a wrong Transaction UID once claimed.
        var ownFilter = WorklistFilter()
        ownFilter.institution = "COUNTY-A"
        let statBefore = try await store.worklistCounts(WorklistFilter()).byPriority[.stat] ?? 0
        var update = DataSet(characterSet: .utf8)
        update.set(.procedureStepLabel, .LO, "UPS question: nodule, size?")
        update.set(.scheduledProcedureStepPriority, .CS, "MEDIUM")
        let updated = try await store.updateUPS(uid: uid, with: update, transactionUID: nil, by: readerA)
        #expect(updated.dataSet.string(.procedureStepLabel) == "UPS question: nodule, size?")
        #expect(updated.dataSet.string(.worklistLabel) == "Remote reading")
        #expect(try await store.request(id: request.id)?.question == "UPS question: nodule, size?")
        // The counts follow the new priority (MEDIUM is urgent), with and without a filter on the requests' columns.
        let after = try await store.worklistCounts(WorklistFilter())
        #expect(after.byPriority[.stat] ?? 0 == statBefore - 1)
        let own = try await store.worklistCounts(ownFilter)
        let ownItems = try await store.worklist(ownFilter)
        #expect(own.byPriority[.urgent] ?? 0 == ownItems.filter { $0.request.priority == .urgent }.count)
        #expect(own.total == ownItems.count)
        let claimed = try await store.changeUPSState(
            uid: uid, to: .inProgress, transactionUID: "1.2.826.0.1.3680043.8.498.9001", by: readerA)
        #expect(claimed.state == .inProgress && claimed.owner == readerA.username)
        await #expect(throws: ReadingError.transactionUIDMismatch) {
            _ = try await store.updateUPS(uid: uid, with: update, transactionUID: "1.2.3", by: readerA)
        }
        // A cancellation request of an item in progress is recorded and published; the item stays in progress.
        let changes = store.changes.subscribe()
        var iterator = changes.makeAsyncIterator()
        let outcome = try await store.requestUPSCancellation(uid: uid, reason: "patient transferred", contact: "County clerk", by: site)
        guard case .requested(let stillClaimed) = outcome else {
            Issue.record("an item in progress stays so when its cancellation is requested")
            return
        }
        #expect(stillClaimed.state == .inProgress && stillClaimed.owner == readerA.username)
        let change = await iterator.next()
        #expect(change?.kind == "cancel-requested" && change?.detail.hasPrefix("patient transferred") == true)
        #expect(try await store.events(requestID: request.id).contains { $0.kind == "cancel-requested" })
        // Only a signature completes a reading; the performer cancels instead, and as the site asked, the request is withdrawn.
        await #expect(throws: ReadingError.self) {
            _ = try await store.changeUPSState(uid: uid, to: .completed, transactionUID: "1.2.826.0.1.3680043.8.498.9001", by: readerA)
        }
        let canceledByPerformer = try await store.changeUPSState(
            uid: uid, to: .canceled, transactionUID: "1.2.826.0.1.3680043.8.498.9001", by: readerA)
        #expect(canceledByPerformer.state == .canceled && canceledByPerformer.completedAt != nil)
        #expect(try await store.request(id: request.id)?.status == .withdrawn)
        await #expect(throws: ReadingError.self) { _ = try await store.updateUPS(uid: uid, with: update, transactionUID: nil, by: readerA) }

        // A scheduled item's cancellation withdraws its request.
        var second = ds
        second.set(.scheduledProcedureStepPriority, .CS, "LOW")
        let (secondRequest, secondItem) = try await store.createUPS(second, uid: nil, institution: "COUNTY-A", by: site)
        #expect(secondRequest.priority == .routine && UIDCheck.isDICOMUID(secondItem.uid))
        guard case .canceled(let canceled) = try await store.requestUPSCancellation(uid: secondItem.uid, reason: "", contact: "", by: site)
        else {
            Issue.record("a scheduled UPS is canceled by a cancellation request")
            return
        }
        #expect(canceled.state == .canceled)
        #expect(try await store.request(id: secondRequest.id)?.status == .withdrawn)
        await #expect(throws: ReadingError.self) {
            _ = try await store.requestUPSCancellation(uid: secondItem.uid, reason: "", contact: "", by: site)
        }

        // Canceled by its performer unasked: the request is back on the worklist with a new SCHEDULED item, which the
        // site may still withdraw.
        let (thirdRequest, thirdItem) = try await store.createUPS(second, uid: nil, institution: "COUNTY-A", by: site)
        let performerUID = "1.2.826.0.1.3680043.8.498.9002"
        _ = try await store.changeUPSState(uid: thirdItem.uid, to: .inProgress, transactionUID: performerUID, by: readerB)
        _ = try await store.changeUPSState(uid: thirdItem.uid, to: .canceled, transactionUID: performerUID, by: readerB)
        let items = try await store.workItems(requestID: thirdRequest.id)
        #expect(items.map(\.state) == [.canceled, .scheduled] && items.map(\.kind) == [.primary, .primary])
        #expect(try await store.request(id: thirdRequest.id)?.status == .requested)
        #expect(try await store.events(requestID: thirdRequest.id).contains { $0.kind == "requeued" })
        #expect(try await store.withdraw(requestID: thirdRequest.id, by: site).status == .withdrawn)
    }

    /// Rules: the least loaded reader of the group who is on duty and under the cap gets a new request; nobody when all
    /// are full; a double-reading rule makes a second reader's item when the first signs, never claimable by the first.
    static func assignmentAndDoubleReading(_ store: ReadingStore, clock: TestClock) async throws {
        for name in ["rule.a", "rule.b", "rule.c"] {
            try await store.query(
                "INSERT INTO people (username, display_name, roles, language, disabled, password_hash, created_at) "
                    + "VALUES (?, ?, 'reader', 'en', 0, 'x', 0)", [.text(name), .text(name)])
        }
        try await store.setProfile(ReaderProfile(username: "rule.c", onDuty: false))
        let admin = ReadingActor(username: "admin", displayName: "Admin")
        let first = try await store.addAssignmentRule(
            AssignmentRule(serviceLine: .pathology, readers: ["rule.a", "rule.b", "rule.c"], openCap: 1), by: admin)
        #expect(try await store.assignmentRules() == [first])
        func new(_ line: ServiceLine) -> NewConsultationRequest {
            NewConsultationRequest(
                serviceLine: line, priority: .urgent, referringPhysician: "", clinicalHistory: "", question: "Slide?",
                accessionNumber: "RULE-\(UUID().uuidString.prefix(8))")
        }
        // rule.a and rule.b hold nothing: rule.a first (by name), then rule.b; then both are at the cap of 1 and rule.c is
        // off duty, so the third waits for anyone. An imaging request matches no rule.
        let (request1, item1) = try await store.file(new(.pathology), institution: "COUNTY-A", by: site)
        #expect(item1.assignee == "rule.a")
        #expect(try await store.workItem(id: item1.id)?.assignee == "rule.a")
        #expect(try await store.events(requestID: request1.id).contains { $0.kind == "assigned" })
        #expect(try await store.notifications(username: "rule.a", institution: nil).contains { $0.kind == "assigned" })
        #expect(try await store.file(new(.pathology), institution: "COUNTY-A", by: site).1.assignee == "rule.b")
        #expect(try await store.file(new(.pathology), institution: "COUNTY-A", by: site).1.assignee == nil)
        #expect(try await store.file(new(.imaging), institution: "COUNTY-A", by: site).1.assignee == nil)

        // Double reading with a cap of 2: rule.a signs; rule.b (one open item) gets the second reading.
        #expect(try await store.deleteAssignmentRule(id: first.id, by: admin))
        _ = try await store.addAssignmentRule(
            AssignmentRule(serviceLine: .pathology, readers: ["rule.a", "rule.b", "rule.c"], openCap: 2, doubleReading: true), by: admin)
        let ruleA = ReadingActor(username: "rule.a", displayName: "Rule A")
        let ruleB = ReadingActor(username: "rule.b", displayName: "Rule B")
        _ = try await store.claim(itemID: item1.id, by: ruleA)
        let report = try #require(try await store.reports(requestID: request1.id).first)
        _ = try await store.sign(reportID: report.id, sections: [ReportSection(kind: "impression", title: "I", text: "Benign.")], by: ruleA)
        let second = try #require(try await store.workItems(requestID: request1.id).first { $0.kind == .doubleReading })
        #expect(second.assignee == "rule.b" && second.state == .scheduled)
        await #expect(throws: ReadingError.self) { _ = try await store.claim(itemID: second.id, by: ruleA) }
        #expect(try await store.claim(itemID: second.id, by: ruleB).owner == "rule.b")
        #expect(try await store.request(id: request1.id)?.status == .final, "the request's status follows its primary item")
    }

    static func auditTrail(_ store: ReadingStore) async throws {
        await store.audit.flush()
        let events = try await store.audit.search(AuditSearch(participant: study1))
        let details = events.map(\.detail)
        for needle in ["requested", "claimed", "signed", "addendum", "critical result", "acknowledged", "lock-broken"] {
            #expect(details.contains { $0.contains(needle) }, "audit holds \(needle): \(details)")
        }
        #expect(events.allSatisfy { $0.eventID == .instancesAccessed })
        #expect(!details.contains { $0.contains("Zhang") || $0.contains("haematoma") }, "no patient names or report text in the trail")
    }
}

enum UIDCheck {
    /// PS3.5 9.1, checked here independently of Atrium's own validator.
    static func isDICOMUID(_ text: String) -> Bool {
        text.count <= 64
            && text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { part in
                !part.isEmpty && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber) && (part == "0" || part.first != "0")
            }
    }
}
