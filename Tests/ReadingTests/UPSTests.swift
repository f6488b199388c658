import DICOM
import Foundation
import Testing

@testable import Reading

/// The UPS view of work items, without a database: the statuses of PS3.4 CC.2 (codes written here from the standard's
/// tables), the create's mapping onto a request, and the event reports' attributes.
@Suite("UPS logic")
struct UPSTests {
    static let owner = "1.2.826.0.1.3680043.8.498.55"
    static func item(_ state: WorkItemState, transaction: String? = owner) -> WorkItem {
        WorkItem(
            id: 1, uid: "1.2.826.0.1.3680043.8.498.1", requestID: 1, state: state, owner: state == .scheduled ? nil : "reader",
            transactionUID: state == .scheduled ? nil : transaction, createdAt: Date(timeIntervalSince1970: 0))
    }

    @Test(
        "Each change of state gets the status PS3.4 CC.2.1.3 gives it",
        arguments: [
            (WorkItemState.scheduled, WorkItemState.inProgress, nil as String?, 0xC301 as Int?, 400),
            (.scheduled, .inProgress, "1.2.3", nil, 0),
            (.inProgress, .inProgress, "1.2.3", 0xC302, 409),
            (.scheduled, .completed, owner, 0xC310, 409),
            (.inProgress, .completed, nil, 0xC301, 400),
            (.inProgress, .completed, "1.2.3", 0xC301, 400),
            (.inProgress, .completed, owner, nil, 0),
            (.inProgress, .canceled, owner, nil, 0),
            (.completed, .completed, owner, 0xB306, 200),
            (.canceled, .canceled, owner, 0xB304, 200),
            (.completed, .inProgress, owner, 0xC300, 409),
            (.canceled, .completed, owner, 0xC300, 409),
            (.inProgress, .scheduled, owner, 0xC303, 400),
        ])
    func stateChanges(current: WorkItemState, target: WorkItemState, transaction: String?, code: Int?, http: Int) {
        let status = UPS.stateChangeStatus(current: Self.item(current), target: target, transactionUID: transaction, at: Date())
        #expect(status.map { Int($0.code) } == code)
        if let status {
            #expect(status.http == http)
            #expect(status.warning.hasPrefix("299 Atrium: ") && status.warning.contains(String(format: "0x%04X", code ?? 0)))
        }
    }

    @Test("An update is refused once final (0xC300) and needs the owner's Transaction UID while in progress (0xC301)")
    func updates() {
        #expect(UPS.updateStatus(current: Self.item(.scheduled), transactionUID: nil) == nil)
        #expect(UPS.updateStatus(current: Self.item(.inProgress), transactionUID: nil)?.code == 0xC301)
        #expect(UPS.updateStatus(current: Self.item(.inProgress), transactionUID: "9.9")?.code == 0xC301)
        #expect(UPS.updateStatus(current: Self.item(.inProgress), transactionUID: Self.owner) == nil)
        #expect(UPS.updateStatus(current: Self.item(.completed), transactionUID: Self.owner)?.code == 0xC300)
        #expect(UPS.updateStatus(current: Self.item(.canceled), transactionUID: Self.owner)?.code == 0xC300)
    }

    @Test("A create becomes a request: label, priority, studies, accession; a create that is not SCHEDULED is refused")
    func create() throws {
        var ds = DataSet(characterSet: .utf8)
        ds.set(.procedureStepLabel, .LO, "Pneumonia?")
        ds.set(.scheduledProcedureStepPriority, .CS, "MEDIUM")
        var input = DataSet(characterSet: .utf8)
        input.set(.studyInstanceUID, .UI, "1.2.3.4")
        ds.set(.inputInformationSequence, items: [input])
        var requested = DataSet(characterSet: .utf8)
        requested.set(.accessionNumber, .SH, "ACC-9")
        ds.set(.referencedRequestSequence, items: [requested])
        let new = try UPS.newRequest(from: ds)
        #expect(new.question == "Pneumonia?" && new.priority == .urgent && new.studies == ["1.2.3.4"] && new.accessionNumber == "ACC-9")
        var started = ds
        started.set(.procedureStepState, .CS, "IN PROGRESS")
        #expect(throws: ReadingError.self) { try UPS.newRequest(from: started) }
        var withTransaction = ds
        withTransaction.set(.transactionUID, .UI, "1.2.3")
        #expect(throws: ReadingError.self) { try UPS.newRequest(from: withTransaction) }
        var unlabelled = ds
        unlabelled.remove(.procedureStepLabel)
        #expect(throws: ReadingError.self) { try UPS.newRequest(from: unlabelled) }
        var oddPriority = ds
        oddPriority.set(.scheduledProcedureStepPriority, .CS, "URGENT")
        #expect(throws: ReadingError.self) { try UPS.newRequest(from: oddPriority) }
    }

    @Test("The UPS dataset never holds the Transaction UID, and a create's attributes never override the state machine's")
    func dataSet() {
        let request = ConsultationRequest(
            id: 7, serviceLine: .imaging, priority: .stat, status: .inProgress, institutionCode: "COUNTY-A", requestedBy: "site",
            referringPhysician: "Wang^Fang", clinicalHistory: "cough", question: "Pneumonia?", studies: ["1.2.3.4"],
            createdAt: Date(timeIntervalSince1970: 1_800_000_000), deadline: Date(timeIntervalSince1970: 1_800_003_600),
            updatedAt: Date(timeIntervalSince1970: 1_800_000_000))
        var stored = DataSet(characterSet: .utf8)
        stored.set(.procedureStepState, .CS, "SCHEDULED")
        stored.set(.worklistLabel, .LO, "Station 3")
        let ds = UPS.dataSet(request: request, item: Self.item(.inProgress), stored: UPS.storable(stored))
        #expect(ds[.transactionUID] == nil)
        #expect(ds.string(.procedureStepState) == "IN PROGRESS")
        #expect(ds.string(.worklistLabel) == "Station 3")
        #expect(ds.string(.scheduledProcedureStepPriority) == "HIGH")
        // 1_800_000_000 s after 1970 is 2027-01-15T08:00:00Z (date -u -d @1800000000).
        #expect(ds.string(.scheduledProcedureStepStartDateTime) == "20270115080000+0000")
        let report = UPS.eventReport(.stateReport, item: ds)
        #expect(report.int(.eventTypeID) == 1 && report.string(.affectedSOPInstanceUID) == ds.string(.sopInstanceUID))
        #expect(report.string(.procedureStepState) == "IN PROGRESS" && report.string(.inputReadinessState) == "READY")
        let cancel = UPS.eventReport(.cancelRequested, item: ds, reason: "transferred")
        #expect(cancel.int(.eventTypeID) == 2 && cancel.string(.reasonForCancellation) == "transferred")
    }

    static let request = ConsultationRequest(
        id: 7, serviceLine: .imaging, priority: .stat, status: .final, institutionCode: "COUNTY-A", requestedBy: "site",
        referringPhysician: "", clinicalHistory: "cough", question: "Pneumonia?", studies: ["1.2.3.4"],
        createdAt: Date(timeIntervalSince1970: 1_800_000_000), deadline: Date(timeIntervalSince1970: 1_800_003_600),
        updatedAt: Date(timeIntervalSince1970: 1_800_000_900))

    @Test("Final states carry what PS3.4 CC.2.5.1.3 requires: the Performed Procedure when COMPLETED, the cancellation time")
    func finalStates() throws {
        var done = Self.item(.completed)
        done.claimedAt = Date(timeIntervalSince1970: 1_800_000_060)
        done.completedAt = Date(timeIntervalSince1970: 1_800_000_600)
        let output = UPS.Output(studyInstanceUID: "1.2.3.4", seriesInstanceUID: "1.2.3.4.5", sopInstanceUID: "1.2.3.4.5.6")
        let ds = UPS.dataSet(request: Self.request, item: done, stored: nil, output: output)
        let performed = try #require(ds[.unifiedProcedureStepPerformedProcedureSequence]?.items?.first)
        // 1_800_000_060 and 1_800_000_600 s after 1970: 2027-01-15T08:01:00Z and 08:10:00Z.
        #expect(performed.string(.performedProcedureStepStartDateTime) == "20270115080100+0000")
        #expect(performed.string(.performedProcedureStepEndDateTime) == "20270115081000+0000")
        let code = try #require(performed[.performedWorkitemCodeSequence]?.items?.first)
        #expect(code.string(.codeValue) == "110005" && code.string(.codingSchemeDesignator) == "DCM", "CID 9231 Interpretation")
        #expect(performed[.actualHumanPerformersSequence]?.items?.first?.string(.humanPerformerName) == "reader")
        #expect(performed[.performedStationNameCodeSequence]?.items?.count == 1)
        let out = try #require(performed[.outputInformationSequence]?.items?.first)
        #expect(out.string(.seriesInstanceUID) == "1.2.3.4.5")
        #expect(out[.referencedSOPSequence]?.items?.first?.string(.referencedSOPInstanceUID) == "1.2.3.4.5.6")
        var canceled = Self.item(.canceled)
        canceled.completedAt = Date(timeIntervalSince1970: 1_800_000_600)
        let progress = UPS.dataSet(request: Self.request, item: canceled)[.procedureStepProgressInformationSequence]?.items?.first
        #expect(progress?.string(.procedureStepCancellationDateTime) == "20270115081000+0000")
        #expect(UPS.dataSet(request: Self.request, item: Self.item(.inProgress))[.unifiedProcedureStepPerformedProcedureSequence] == nil)
        // Completing over UPS-RS: refused (0xC304, HTTP 409) until the item's report is signed.
        #expect(UPS.completionStatus(report: nil).map { Int($0.code) } == 0xC304)
        let report = Report(
            id: 1, requestID: 7, workItemID: 1, status: .preliminary, author: "reader", authorName: "reader", sections: [],
            createdAt: Date(), updatedAt: Date())
        #expect(UPS.completionStatus(report: report)?.http == 409)
        var signed = report
        signed.status = .final
        #expect(UPS.completionStatus(report: signed) == nil)
    }

    @Test("A search returns a default set of attributes, the matching keys, and what includefield names; all with includefield=all")
    func includeField() throws {
        let ds = UPS.dataSet(request: Self.request, item: Self.item(.scheduled))
        let brief = UPS.searchResult(ds, keys: [], include: try UPS.includeFields([]))
        #expect(brief.string(.procedureStepState) == "SCHEDULED" && brief.contains(.patientID))
        #expect(!brief.contains(.commentsOnTheScheduledProcedureStep) && !brief.contains(.referringPhysicianName))
        let keys = try UPS.matchingKeys([("CommentsOnTheScheduledProcedureStep", "cough")])
        #expect(UPS.searchResult(ds, keys: keys, include: .tags([])).string(.commentsOnTheScheduledProcedureStep) == "cough")
        let named = UPS.searchResult(ds, keys: [], include: try UPS.includeFields([("includefield", "ReferringPhysicianName")]))
        #expect(named.contains(.referringPhysicianName) && !named.contains(.commentsOnTheScheduledProcedureStep))
        #expect(UPS.searchResult(ds, keys: [], include: try UPS.includeFields([("includefield", "all")])) == ds)
        #expect(throws: ReadingError.self) { try UPS.includeFields([("includefield", "NoSuchAttribute")]) }
    }
}

/// Assignment by rule without a database: who gets the next item.
@Suite("Assignment rules")
struct AssignmentTests {
    static let rule = AssignmentRule(
        id: 1, serviceLine: .imaging, priority: .stat, modality: "CT", readers: ["a", "b", "c", "d"], openCap: 3)

    @Test("The least loaded reader of the group who is on duty, covers the service line and is under the cap; ties by name")
    func choose() {
        let candidates = [
            AssignmentCandidate(username: "a", onDuty: true, serviceLines: [.imaging], open: 2),
            AssignmentCandidate(username: "b", onDuty: false, serviceLines: [.imaging], open: 0),
            AssignmentCandidate(username: "c", onDuty: true, serviceLines: [.pathology], open: 0),
            AssignmentCandidate(username: "d", onDuty: true, serviceLines: [.imaging], open: 2),
            AssignmentCandidate(username: "e", onDuty: true, serviceLines: [.imaging], open: 0),
        ]
        #expect(Assignment.choose(rule: Self.rule, candidates: candidates) == "a")
        #expect(Assignment.choose(rule: Self.rule, candidates: candidates, excluding: ["a"]) == "d")
        var full = candidates
        full[0].open = 3
        full[3].open = 3
        #expect(Assignment.choose(rule: Self.rule, candidates: full) == nil)
        var anyone = Self.rule
        anyone.readers = []
        #expect(Assignment.choose(rule: anyone, candidates: candidates) == "e")
    }

    @Test("A rule applies by service line, priority and modality; the first by id wins")
    func applies() {
        let request = ConsultationRequest(
            id: 1, serviceLine: .imaging, priority: .stat, status: .requested, institutionCode: "X", requestedBy: "s",
            referringPhysician: "",
            clinicalHistory: "", question: "q", modality: "ct", createdAt: Date(), deadline: Date(), updatedAt: Date())
        #expect(Self.rule.applies(to: request))
        var routine = request
        routine.priority = .routine
        #expect(!Self.rule.applies(to: routine))
        let general = AssignmentRule(id: 7, serviceLine: .imaging)
        #expect(Assignment.rule(for: routine, in: [Self.rule, general])?.id == 7)
        #expect(Assignment.rule(for: request, in: [general, Self.rule])?.id == 1)
    }
}
