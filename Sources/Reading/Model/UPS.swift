import Archive
import DICOM
import Foundation

/// The Unified Procedure Step view of the work items (PS3.4 Annex CC, PS3.18 chapter 11 "Worklist Service"): the UPS
/// dataset of a work item, the request a UPS-RS create makes, event reports, subscriptions and the statuses of the
/// standard. Pure: the store reads and writes, ``Server`` maps the routes.
public enum UPS {
    /// UPS Push SOP Class (PS3.4 CC.3.1): the class a work item's dataset names.
    public static let pushSOPClassUID = "1.2.840.10008.5.1.4.34.6.1"
    /// The well-known UID of the global subscription (PS3.4 CC.3.1, PS3.18 11.8).
    public static let globalSubscriptionUID = "1.2.840.10008.5.1.4.34.5"
    /// The well-known UID of the filtered global subscription.
    public static let filteredSubscriptionUID = "1.2.840.10008.5.1.4.34.5.1"

    /// Attributes that only the state machine sets: an update or a create never writes them into the stored dataset.
    static let managedTags: Set<Tag> = [
        .sopClassUID, .sopInstanceUID, .procedureStepState, .transactionUID, .specificCharacterSet,
        .scheduledHumanPerformersSequence,
    ]

    /// Scheduled Procedure Step Priority (0074,1200) of a priority: HIGH, MEDIUM, LOW.
    public static func upsPriority(_ priority: Priority) -> String {
        switch priority {
        case .stat: "HIGH"
        case .urgent: "MEDIUM"
        case .routine: "LOW"
        }
    }

    /// The priority of a Scheduled Procedure Step Priority value; nil when it is not one of the three.
    public static func priority(ups value: String) -> Priority? {
        switch value.trimmingCharacters(in: .whitespaces).uppercased() {
        case "HIGH": .stat
        case "MEDIUM": .urgent
        case "LOW": .routine
        default: nil
        }
    }

    /// DT value in UTC (`YYYYMMDDHHMMSS+0000`).
    static func dateTime(_ date: Date) -> String {
        let iso = ReadingFormat.iso(date)  // 2026-12-06T08:00:00Z
        let digits = iso.filter(\.isNumber)
        return digits + "+0000"
    }

    /// LO holds at most 64 characters.
    static func lo(_ text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return String(line.prefix(64))
    }

    /// The UPS dataset of a work item (PS3.4 CC.2.5 attributes, Table CC.2.5-3): what retrieve and search return. The
    /// attributes a UPS-RS create or update gave (`stored`) are kept; the state machine's own (state, SOP Instance UID,
    /// performer) always come from the work item. The Transaction UID is never returned (PS3.4 CC.2.5.1.4).
    /// The SR a finished reading produced (the signed report in the study): the Output Information of a COMPLETED UPS.
    public struct Output: Sendable, Equatable {
        public var studyInstanceUID: String
        public var seriesInstanceUID: String
        public var sopInstanceUID: String

        public init(studyInstanceUID: String, seriesInstanceUID: String, sopInstanceUID: String) {
            self.studyInstanceUID = studyInstanceUID
            self.seriesInstanceUID = seriesInstanceUID
            self.sopInstanceUID = sopInstanceUID
        }
    }

    /// Performed Workitem Code of a reading: (110005, DCM, "Interpretation"), CID 9231.
    static let interpretation = (value: "110005", scheme: "DCM", meaning: "Interpretation")

    public static func dataSet(request: ConsultationRequest, item: WorkItem, stored: DataSet? = nil, output: Output? = nil) -> DataSet {
        var ds = DataSet(characterSet: .utf8)
        ds.set(.specificCharacterSet, .CS, "ISO_IR 192")
        ds.set(.sopClassUID, .UI, pushSOPClassUID)
        ds.set(.sopInstanceUID, .UI, item.uid)
        ds.set(.patientName, .PN, request.patientName)
        ds.set(.patientID, .LO, request.patientID)
        ds.set(.issuerOfPatientID, .LO, request.institutionCode)
        ds.set(.procedureStepState, .CS, item.state.rawValue)
        ds.set(.scheduledProcedureStepPriority, .CS, upsPriority(request.priority))
        ds.set(.procedureStepLabel, .LO, lo(request.question))
        ds.set(.worklistLabel, .LO, lo("Atrium \(request.serviceLine.rawValue) \(item.kind.rawValue)"))
        ds.set(.scheduledProcedureStepStartDateTime, .DT, dateTime(request.createdAt))
        ds.set(.expectedCompletionDateTime, .DT, dateTime(request.deadline))
        ds.set(.scheduledProcedureStepModificationDateTime, .DT, dateTime(request.updatedAt))
        ds.set(.inputReadinessState, .CS, request.studies.isEmpty ? "INCOMPLETE" : "READY")
        ds.set(.accessionNumber, .SH, request.accessionNumber)
        ds.set(.referringPhysicianName, .PN, request.referringPhysician)
        if !request.modality.isEmpty { ds.set(.modality, .CS, request.modality) }
        if !request.bodyPart.isEmpty { ds.set(.bodyPartExamined, .CS, request.bodyPart) }
        ds.set(.commentsOnTheScheduledProcedureStep, .LT, request.clinicalHistory)
        ds.set(
            .inputInformationSequence,
            items: request.studies.map { study in
                var entry = DataSet(characterSet: .utf8)
                entry.set(.studyInstanceUID, .UI, study)
                entry.set(.typeOfInstances, .CS, "DICOM")
                return entry
            })
        var requested = DataSet(characterSet: .utf8)
        requested.set(.accessionNumber, .SH, request.accessionNumber)
        requested.set(.requestedProcedureID, .SH, String(request.id))
        requested.set(.reasonForTheRequestedProcedure, .LO, lo(request.question))
        if let study = request.studies.first { requested.set(.studyInstanceUID, .UI, study) }
        ds.set(.referencedRequestSequence, items: [requested])
        if let performer = item.owner ?? item.assignee {
            var human = DataSet(characterSet: .utf8)
            var code = DataSet(characterSet: .utf8)
            code.set(.codeValue, .SH, String(performer.prefix(16)))
            code.set(.codingSchemeDesignator, .SH, "99ATRIUM")
            code.set(.codeMeaning, .LO, lo(item.ownerName ?? performer))
            human.set(.humanPerformerCodeSequence, items: [code])
            human.set(.humanPerformerName, .PN, item.ownerName ?? performer)
            ds.set(.scheduledHumanPerformersSequence, items: [human])
        }
        // What the final states require (PS3.4 CC.2.5.1.3, Table CC.2.5-3): a COMPLETED UPS has its Performed Procedure
        // (performer, station, start and end, workitem code, output); a CANCELED one its Cancellation DateTime. Atrium
        // records them itself when the report is signed or the item canceled; attributes an SCU set win.
        switch item.state {
        case .completed:
            var performed = DataSet(characterSet: .utf8)
            var human = DataSet(characterSet: .utf8)
            let performer = item.owner ?? ""
            var person = DataSet(characterSet: .utf8)
            person.set(.codeValue, .SH, String(performer.prefix(16)))
            person.set(.codingSchemeDesignator, .SH, "99ATRIUM")
            person.set(.codeMeaning, .LO, lo(item.ownerName ?? performer))
            human.set(.humanPerformerCodeSequence, items: [person])
            human.set(.humanPerformerName, .PN, item.ownerName ?? performer)
            performed.set(.actualHumanPerformersSequence, items: [human])
            var station = DataSet(characterSet: .utf8)
            station.set(.codeValue, .SH, "ATRIUM")
            station.set(.codingSchemeDesignator, .SH, "99ATRIUM")
            station.set(.codeMeaning, .LO, "Atrium reading workstation")
            performed.set(.performedStationNameCodeSequence, items: [station])
            performed.set(.performedProcedureStepStartDateTime, .DT, dateTime(item.claimedAt ?? request.createdAt))
            performed.set(.performedProcedureStepEndDateTime, .DT, dateTime(item.completedAt ?? request.updatedAt))
            var workitem = DataSet(characterSet: .utf8)
            workitem.set(.codeValue, .SH, interpretation.value)
            workitem.set(.codingSchemeDesignator, .SH, interpretation.scheme)
            workitem.set(.codeMeaning, .LO, interpretation.meaning)
            performed.set(.performedWorkitemCodeSequence, items: [workitem])
            var outputs: [DataSet] = []
            if let output {
                var entry = DataSet(characterSet: .utf8)
                entry.set(.typeOfInstances, .CS, "DICOM")
                entry.set(.studyInstanceUID, .UI, output.studyInstanceUID)
                entry.set(.seriesInstanceUID, .UI, output.seriesInstanceUID)
                var reference = DataSet(characterSet: .utf8)
                reference.set(.referencedSOPClassUID, .UI, "1.2.840.10008.5.1.4.1.1.88.11")
                reference.set(.referencedSOPInstanceUID, .UI, output.sopInstanceUID)
                entry.set(.referencedSOPSequence, items: [reference])
                outputs.append(entry)
            }
            performed.set(.outputInformationSequence, items: outputs)
            ds.set(.unifiedProcedureStepPerformedProcedureSequence, items: [performed])
        case .canceled:
            var progress = DataSet(characterSet: .utf8)
            progress.set(.procedureStepCancellationDateTime, .DT, dateTime(item.completedAt ?? request.updatedAt))
            ds.set(.procedureStepProgressInformationSequence, items: [progress])
        case .scheduled, .inProgress:
            break
        }
        if let stored {
            for element in stored.elements where !managedTags.contains(element.tag) { ds[element.tag] = element }
        }
        return ds
    }

    /// Completing a reading's UPS over UPS-RS (IN PROGRESS → COMPLETED) is refused while its report is not signed:
    /// the consultation is finished by a signature (the password again, the SR stored), which completes the UPS itself.
    /// PS3.4 CC.2.1.3 0xC304, "has not met final state requirements".
    public static func completionStatus(report: Report?) -> Status? {
        report?.status.isSigned == true ? nil : .reportNotSigned
    }

    /// What a UPS-RS create (PS3.4 CC.2.5.1.1, N-CREATE) asks for, as a consultation request: the Procedure Step State
    /// is SCHEDULED (or absent), no Transaction UID; the question is the Procedure Step Label, the priority HIGH/MEDIUM/
    /// LOW, the studies the Input Information Sequence's Study Instance UIDs, the accession number the Referenced
    /// Request Sequence's or the top level's.
    public static func newRequest(from ds: DataSet) throws(ReadingError) -> NewConsultationRequest {
        if let state = ds.string(.procedureStepState), !state.isEmpty, state != WorkItemState.scheduled.rawValue {
            throw .invalid("a new UPS is SCHEDULED (Procedure Step State \(state)); PS3.4 CC.2.5.1.1")
        }
        if let transaction = ds.string(.transactionUID), !transaction.isEmpty {
            throw .invalid("a new UPS carries no Transaction UID; PS3.4 CC.2.5.1.1")
        }
        let label = (ds.string(.procedureStepLabel) ?? "").trimmingCharacters(in: .whitespaces)
        let requested = ds.items(.referencedRequestSequence).first
        let reason = requested?.string(.reasonForTheRequestedProcedure) ?? ""
        let question = label.isEmpty ? reason : label
        guard !question.isEmpty else { throw .invalid("a UPS for a consultation has a Procedure Step Label (0074,1204)") }
        var priority = Priority.routine
        if let value = ds.string(.scheduledProcedureStepPriority), !value.isEmpty {
            guard let p = self.priority(ups: value) else {
                throw .invalid("Scheduled Procedure Step Priority is HIGH, MEDIUM or LOW, not \(value)")
            }
            priority = p
        }
        var studies: [String] = []
        for entry in ds.items(.inputInformationSequence) {
            if let uid = entry.string(.studyInstanceUID), !uid.isEmpty { studies.append(uid) }
        }
        for entry in ds.items(.referencedRequestSequence) {
            if let uid = entry.string(.studyInstanceUID), !uid.isEmpty, !studies.contains(uid) { studies.append(uid) }
        }
        let accession = (requested?.string(.accessionNumber)).flatMap { $0.isEmpty ? nil : $0 } ?? ds.string(.accessionNumber) ?? ""
        return NewConsultationRequest(
            priority: priority, referringPhysician: ds.string(.referringPhysicianName) ?? "",
            clinicalHistory: ds.string(.commentsOnTheScheduledProcedureStep) ?? "", question: question,
            accessionNumber: accession.trimmingCharacters(in: .whitespaces), modality: ds.string(.modality) ?? "",
            bodyPart: ds.string(.bodyPartExamined) ?? "", patientName: ds.string(.patientName) ?? "",
            patientID: ds.string(.patientID) ?? "", studies: studies)
    }

    /// The attributes of a create or an update that the store keeps (all but the state machine's own).
    public static func storable(_ ds: DataSet) -> DataSet {
        var kept = DataSet(characterSet: .utf8)
        for element in ds.elements where !managedTags.contains(element.tag) { kept[element.tag] = element }
        return kept
    }

    /// An update (PS3.4 CC.2.6, N-SET) merged over what was stored: top-level attributes replace their namesakes.
    public static func merged(_ stored: DataSet?, update: DataSet) -> DataSet {
        var out = stored ?? DataSet(characterSet: .utf8)
        for element in storable(update).elements { out[element.tag] = element }
        return out
    }
}

/// The event types of the UPS Event SOP Class (PS3.4 CC.2.4.2, Table CC.2.4-1).
public enum UPSEventType: Int, Sendable, CaseIterable {
    case stateReport = 1
    case cancelRequested = 2
    case progressReport = 3
    case scpStatusChange = 4
    case assigned = 5
}

extension UPS {
    /// An event report as PS3.18 11.x sends it over the event channel: a DICOM JSON dataset holding the Affected SOP
    /// Class and Instance UIDs, the Event Type ID, and the event information of PS3.4 Table CC.2.4-1.
    public static func eventReport(_ type: UPSEventType, item: DataSet, reason: String = "", contact: String = "") -> DataSet {
        var ds = DataSet(characterSet: .utf8)
        ds.set(.affectedSOPClassUID, .UI, pushSOPClassUID)
        ds.set(.affectedSOPInstanceUID, .UI, item.string(.sopInstanceUID) ?? "")
        ds.set(.eventTypeID, .US, integers: [type.rawValue])
        switch type {
        case .stateReport:
            ds.set(.procedureStepState, .CS, item.string(.procedureStepState) ?? "")
            ds.set(.inputReadinessState, .CS, item.string(.inputReadinessState) ?? "READY")
        case .cancelRequested:
            if !reason.isEmpty { ds.set(.reasonForCancellation, .LT, reason) }
            if !contact.isEmpty { ds.set(.contactDisplayName, .LO, lo(contact)) }
        case .assigned:
            if let performers = item[.scheduledHumanPerformersSequence] { ds[.scheduledHumanPerformersSequence] = performers }
        case .progressReport, .scpStatusChange:
            break
        }
        return ds
    }
}

/// One subscription (PS3.4 CC.2.3, PS3.18 11.8): an AE title to one work item, to all (global), or to those matching
/// a filter (filtered global). A global subscription that is suspended still covers the items that existed before
/// (PS3.4 CC.2.3.2: no new items are subscribed).
public struct UPSSubscription: Sendable, Equatable {
    public enum Target: Sendable, Equatable {
        case item(String)
        case global
        case filtered
    }

    public var aeTitle: String
    public var target: Target
    public var deletionLock: Bool
    /// The filter of a filtered global subscription, as QIDO-style query parameters.
    public var filter: [(name: String, value: String)]
    public var createdAt: Date
    public var suspendedAt: Date?

    public init(
        aeTitle: String, target: Target, deletionLock: Bool = false, filter: [(name: String, value: String)] = [], createdAt: Date,
        suspendedAt: Date? = nil
    ) {
        self.aeTitle = aeTitle
        self.target = target
        self.deletionLock = deletionLock
        self.filter = filter
        self.createdAt = createdAt
        self.suspendedAt = suspendedAt
    }

    public static func == (a: UPSSubscription, b: UPSSubscription) -> Bool {
        a.aeTitle == b.aeTitle && a.target == b.target && a.deletionLock == b.deletionLock
            && a.filter.map { "\($0.name)=\($0.value)" } == b.filter.map { "\($0.name)=\($0.value)" } && a.createdAt == b.createdAt
            && a.suspendedAt == b.suspendedAt
    }

    /// The target as the store keeps it: the work item's UID or one of the two well-known UIDs.
    public var targetUID: String {
        switch target {
        case .item(let uid): uid
        case .global: UPS.globalSubscriptionUID
        case .filtered: UPS.filteredSubscriptionUID
        }
    }

    /// Whether this subscription covers the work item `uid`, created at `created`, whose UPS dataset is `ds`.
    public func covers(uid: String, created: Date, dataSet ds: DataSet) -> Bool {
        switch target {
        case .item(let subscribed):
            return subscribed == uid
        case .global, .filtered:
            if let suspendedAt, created >= suspendedAt { return false }
            guard target == .filtered else { return true }
            guard let keys = try? UPS.matchingKeys(filter) else { return false }
            return QueryMatcher().matches(ds, keys: keys)
        }
    }

    /// AE titles are 1–16 characters of the default repertoire without backslash or control characters (PS3.5 6.2).
    public static func validAETitle(_ title: String) -> Bool {
        let trimmed = title.trimmingCharacters(in: .whitespaces)
        return !trimmed.isEmpty && title.count <= 16
            && title.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F && $0 != "\\" }
    }
}

extension UPS {
    /// The matching keys of QIDO-style parameters (PS3.18 11.9 Search: the same matching as QIDO-RS, PS3.4 C.2.2.2);
    /// `limit`, `offset`, `includefield` and `fuzzymatching` are not keys.
    /// What a search returns of each UPS without `includefield` (PS3.18 11.9.3.2 leaves the default set to the origin
    /// server): identity, state and scheduling, the patient, the request and its input; `includefield=all` returns the
    /// whole dataset, `includefield=Keyword,…` adds attributes; matching keys are always returned.
    public static let defaultSearchAttributes: Set<Tag> = [
        .specificCharacterSet, .sopClassUID, .sopInstanceUID, .procedureStepState, .scheduledProcedureStepPriority,
        .procedureStepLabel, .worklistLabel, .scheduledProcedureStepStartDateTime, .expectedCompletionDateTime,
        .scheduledProcedureStepModificationDateTime, .inputReadinessState, .patientName, .patientID, .issuerOfPatientID,
        .accessionNumber, .referencedRequestSequence, .inputInformationSequence, .scheduledHumanPerformersSequence,
    ]

    /// The `includefield` of a search's parameters (unknown attributes refused).
    public static func includeFields(_ parameters: [(name: String, value: String)]) throws(ReadingError) -> IncludeFields {
        do {
            return try ArchiveQuery(qidoParameters: parameters, level: .instance).includeFields
        } catch {
            throw .invalid("\(error)")
        }
    }

    /// A search result: `ds` cut to the default attributes, the matching keys' and the included ones.
    public static func searchResult(_ ds: DataSet, keys: [QueryKey], include: IncludeFields) -> DataSet {
        guard case .tags(let extra) = include else { return ds }
        let kept = defaultSearchAttributes.union(keys.map(\.tag)).union(extra)
        var out = ds
        out.removeAll { !kept.contains($0.tag) }
        return out
    }

    public static func matchingKeys(_ parameters: [(name: String, value: String)]) throws(ReadingError) -> [QueryKey] {
        do {
            return try ArchiveQuery(qidoParameters: parameters, level: .instance).matchingKeys
        } catch {
            throw .invalid("\(error)")
        }
    }

    /// The status of a refused UPS operation as PS3.18 11 answers it: the HTTP status, and the Warning header's text
    /// carrying the DIMSE status of PS3.4 CC.2 that it stands for.
    public struct Status: Sendable, Equatable {
        public var http: Int
        /// The DIMSE status (PS3.4 Table CC.2.1-2 and following), e.g. 0xC301.
        public var code: UInt16
        public var text: String

        public init(http: Int, code: UInt16, text: String) {
            self.http = http
            self.code = code
            self.text = text
        }

        /// `299 Atrium: <text> (0xC301)` (RFC 7234 5.5, as PS3.18 8.6.1.2 uses it).
        public var warning: String {
            "299 Atrium: \(text) (0x\(String(code, radix: 16, uppercase: true)))"
        }

        public static let transactionUIDMissing = Status(http: 400, code: 0xC301, text: "The Transaction UID is missing")
        public static let transactionUIDIncorrect = Status(http: 400, code: 0xC301, text: "The correct Transaction UID was not provided")
        public static let alreadyInProgress = Status(http: 409, code: 0xC302, text: "The UPS is already IN PROGRESS")
        public static let mayNoLongerBeUpdated = Status(http: 409, code: 0xC300, text: "The UPS may no longer be updated")
        public static let notYetInProgress = Status(http: 409, code: 0xC310, text: "The UPS is not yet in the IN PROGRESS state")
        public static let alreadyCompleted = Status(http: 409, code: 0xC311, text: "The UPS is already COMPLETED")
        public static let onlyViaCreate = Status(
            http: 400, code: 0xC303, text: "The UPS may only become SCHEDULED via N-CREATE, not N-SET or N-ACTION")
        public static let alreadyCanceled = Status(http: 200, code: 0xB304, text: "The UPS is already in the requested state of CANCELED")
        public static let alreadyCompletedWarning = Status(
            http: 200, code: 0xB306, text: "The UPS is already in the requested state of COMPLETED")
        public static let reportNotSigned = Status(
            http: 409, code: 0xC304,
            text: "The UPS has not met final state requirements for the requested state change: its report is not signed "
                + "(sign it in Atrium; the signature completes the UPS)")
        public static let noSuchUPS = Status(
            http: 404, code: 0xC307, text: "Specified SOP Instance UID does not exist or is not a UPS Instance managed by this SCP")
    }

    /// What a change of state (PS3.4 CC.2.1.3, PS3.18 11.7) from `current` to `target` with `transactionUID` gets when
    /// it cannot simply be done: a refusal, or (for a final state asked again with the owner's Transaction UID) a
    /// success with a warning. nil: the change is for the state machine to make.
    public static func stateChangeStatus(
        current: WorkItem, target: WorkItemState, transactionUID: String?, at now: Date
    ) -> Status? {
        let given = transactionUID.flatMap { $0.isEmpty ? nil : $0 }
        switch (current.state, target) {
        case (_, .scheduled):
            return .onlyViaCreate
        case (.scheduled, .inProgress):
            return given == nil ? .transactionUIDMissing : nil
        case (.inProgress, .inProgress):
            return .alreadyInProgress
        case (.scheduled, .completed):
            return .notYetInProgress
        case (.scheduled, .canceled):
            // A scheduled UPS is canceled by a cancellation request (CC.2.2), not by a change of state.
            return .notYetInProgress
        case (.inProgress, .completed), (.inProgress, .canceled):
            guard let given else { return .transactionUIDMissing }
            return given == current.transactionUID ? nil : .transactionUIDIncorrect
        case (.completed, .completed):
            return given != nil && given == current.transactionUID ? .alreadyCompletedWarning : .mayNoLongerBeUpdated
        case (.canceled, .canceled):
            return given != nil && given == current.transactionUID ? .alreadyCanceled : .mayNoLongerBeUpdated
        case (.completed, _), (.canceled, _):
            return .mayNoLongerBeUpdated
        }
    }

    /// What an update (PS3.4 CC.2.6, N-SET; PS3.18 11.6) gets when refused: a final UPS may no longer be updated, an
    /// IN PROGRESS one only with its Transaction UID; nil: go ahead.
    public static func updateStatus(current: WorkItem, transactionUID: String?) -> Status? {
        switch current.state {
        case .completed, .canceled: return .mayNoLongerBeUpdated
        case .scheduled: return nil
        case .inProgress:
            guard let given = transactionUID, !given.isEmpty else { return .transactionUIDMissing }
            return given == current.transactionUID ? nil : .transactionUIDIncorrect
        }
    }
}
