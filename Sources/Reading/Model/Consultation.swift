import Foundation

/// What kind of expertise a consultation asks for: the same request → work item → report path serves all three.
public enum ServiceLine: String, CaseIterable, Sendable, Codable {
    case imaging, pathology, laboratory
}

/// How soon an answer is needed (FHIR request-priority codes, without `asap`).
public enum Priority: String, CaseIterable, Sendable, Codable, Comparable {
    case stat, urgent, routine

    /// Stat first.
    public var rank: Int {
        switch self {
        case .stat: 0
        case .urgent: 1
        case .routine: 2
        }
    }

    public static func < (a: Priority, b: Priority) -> Bool { a.rank < b.rank }
}

/// The time allowed to answer a request of each priority (configurable; the defaults are the issue's).
public struct ServiceLevels: Sendable, Equatable {
    public var statSeconds: Double = 3600
    public var urgentSeconds: Double = 4 * 3600
    public var routineSeconds: Double = 24 * 3600

    public init(statSeconds: Double = 3600, urgentSeconds: Double = 4 * 3600, routineSeconds: Double = 24 * 3600) {
        self.statSeconds = statSeconds
        self.urgentSeconds = urgentSeconds
        self.routineSeconds = routineSeconds
    }

    public func seconds(for priority: Priority) -> Double {
        switch priority {
        case .stat: statSeconds
        case .urgent: urgentSeconds
        case .routine: routineSeconds
        }
    }

    /// When a request of `priority` made at `requestedAt` must be answered (final report signed).
    public func deadline(for priority: Priority, requestedAt: Date) -> Date {
        requestedAt.addingTimeInterval(seconds(for: priority))
    }
}

/// Where a consultation request stands, as the site and the worklist show it.
public enum RequestStatus: String, CaseIterable, Sendable, Codable {
    /// Filed; waiting for a reader.
    case requested
    /// A reader has claimed it.
    case inProgress = "in-progress"
    /// A preliminary report exists.
    case preliminary
    /// A final report is signed.
    case final
    /// The final report has addenda.
    case amended
    /// Withdrawn by the site before anyone claimed it.
    case withdrawn

    /// Still waiting for a final report.
    public var isOpen: Bool { self == .requested || self == .inProgress || self == .preliminary }
}

/// A site's request for a remote reading of one or more of its studies (FHIR ServiceRequest).
public struct ConsultationRequest: Sendable, Equatable {
    public var id: Int64
    public var serviceLine: ServiceLine
    public var priority: Priority
    public var status: RequestStatus
    /// The requesting institution's code (what its studies record).
    public var institutionCode: String
    /// The site user who filed it (username).
    public var requestedBy: String
    public var referringPhysician: String
    public var clinicalHistory: String
    public var question: String
    /// An accession number that studies arriving later link themselves by.
    public var accessionNumber: String
    /// Modality and body part for the worklist's filters (from the studies, or given).
    public var modality: String
    public var bodyPart: String
    /// Patient name and ID as the linked studies hold them (shown to readers and the site; never logged).
    public var patientName: String
    public var patientID: String
    /// Study Instance UIDs of the linked studies.
    public var studies: [String]
    public var createdAt: Date
    public var deadline: Date
    public var updatedAt: Date

    public init(
        id: Int64, serviceLine: ServiceLine, priority: Priority, status: RequestStatus, institutionCode: String, requestedBy: String,
        referringPhysician: String, clinicalHistory: String, question: String, accessionNumber: String = "", modality: String = "",
        bodyPart: String = "", patientName: String = "", patientID: String = "", studies: [String] = [], createdAt: Date, deadline: Date,
        updatedAt: Date
    ) {
        self.id = id
        self.serviceLine = serviceLine
        self.priority = priority
        self.status = status
        self.institutionCode = institutionCode
        self.requestedBy = requestedBy
        self.referringPhysician = referringPhysician
        self.clinicalHistory = clinicalHistory
        self.question = question
        self.accessionNumber = accessionNumber
        self.modality = modality
        self.bodyPart = bodyPart
        self.patientName = patientName
        self.patientID = patientID
        self.studies = studies
        self.createdAt = createdAt
        self.deadline = deadline
        self.updatedAt = updatedAt
    }

    /// Seconds until the deadline (negative once it has passed).
    public func secondsLeft(at now: Date) -> Double { deadline.timeIntervalSince(now) }
}

/// What a new request says, before the store gives it an id and a deadline.
public struct NewConsultationRequest: Sendable, Equatable {
    public var serviceLine: ServiceLine
    public var priority: Priority
    public var referringPhysician: String
    public var clinicalHistory: String
    public var question: String
    public var accessionNumber: String
    public var modality: String
    public var bodyPart: String
    public var patientName: String
    public var patientID: String
    public var studies: [String]

    public init(
        serviceLine: ServiceLine = .imaging, priority: Priority, referringPhysician: String, clinicalHistory: String, question: String,
        accessionNumber: String = "", modality: String = "", bodyPart: String = "", patientName: String = "", patientID: String = "",
        studies: [String] = []
    ) {
        self.serviceLine = serviceLine
        self.priority = priority
        self.referringPhysician = referringPhysician
        self.clinicalHistory = clinicalHistory
        self.question = question
        self.accessionNumber = accessionNumber
        self.modality = modality
        self.bodyPart = bodyPart
        self.patientName = patientName
        self.patientID = patientID
        self.studies = studies
    }
}

/// The states of a Unified Procedure Step (PS3.4 CC.1.1): a work item is one UPS.
public enum WorkItemState: String, CaseIterable, Sendable, Codable {
    case scheduled = "SCHEDULED"
    case inProgress = "IN PROGRESS"
    case completed = "COMPLETED"
    case canceled = "CANCELED"

    public var isFinal: Bool { self == .completed || self == .canceled }
}

/// Why a work item exists.
public enum WorkItemKind: String, CaseIterable, Sendable, Codable {
    /// The first reading of a request.
    case primary
    /// A colleague's second read, asked for by the first reader.
    case secondOpinion = "second-opinion"
    /// A second reader's independent read, made by a double-reading rule when the first signs.
    case doubleReading = "double-reading"
}

/// One unit of reading work on a request: a UPS with a lock. Claiming takes the lock (owner, a Transaction UID as
/// PS3.4 CC.1.1 requires for IN PROGRESS, and a lease the reader's open page keeps renewing); a lock whose lease has
/// passed may be taken by anyone, and a senior reader may break a live one.
public struct WorkItem: Sendable, Equatable {
    public var id: Int64
    /// The SOP Instance UID of the UPS (a DICOM UID, `2.25.…`).
    public var uid: String
    public var requestID: Int64
    public var kind: WorkItemKind
    public var state: WorkItemState
    /// The reader who holds the lock (username), with their display name.
    public var owner: String?
    public var ownerName: String?
    /// The Transaction UID of the claim (PS3.4 CC.1.1.1): changes of an IN PROGRESS item need it.
    public var transactionUID: String?
    public var leaseUntil: Date?
    public var claimedAt: Date?
    public var completedAt: Date?
    /// The reader this item is meant for (a second opinion's colleague, or automatic assignment), if any.
    public var assignee: String?
    public var createdAt: Date
    /// Bumped by every change: the store's optimistic lock.
    public var revision: Int64

    public init(
        id: Int64, uid: String, requestID: Int64, kind: WorkItemKind = .primary, state: WorkItemState = .scheduled, owner: String? = nil,
        ownerName: String? = nil, transactionUID: String? = nil, leaseUntil: Date? = nil, claimedAt: Date? = nil,
        completedAt: Date? = nil, assignee: String? = nil, createdAt: Date, revision: Int64 = 0
    ) {
        self.id = id
        self.uid = uid
        self.requestID = requestID
        self.kind = kind
        self.state = state
        self.owner = owner
        self.ownerName = ownerName
        self.transactionUID = transactionUID
        self.leaseUntil = leaseUntil
        self.claimedAt = claimedAt
        self.completedAt = completedAt
        self.assignee = assignee
        self.createdAt = createdAt
        self.revision = revision
    }

    /// Whether someone holds a live lock at `now`.
    public func isLocked(at now: Date) -> Bool {
        state == .inProgress && owner != nil && (leaseUntil.map { $0 > now } ?? false)
    }
}

/// The stages of a report.
public enum ReportStatus: String, CaseIterable, Sendable, Codable {
    case draft, preliminary, final, amended

    public var isSigned: Bool { self == .final || self == .amended }
}

/// One section of a report as the reader writes it.
public struct ReportSection: Sendable, Equatable, Codable {
    /// `history`, `technique`, `findings`, `impression` or `other`.
    public var kind: String
    public var title: String
    public var text: String

    public init(kind: String, title: String, text: String) {
        self.kind = kind
        self.title = title
        self.text = text
    }
}

/// A report on a request: a draft autosaved as the reader types, then a preliminary and a final version, then
/// addenda. Signed versions never change; each is a ``ReportVersion``.
public struct Report: Sendable, Equatable {
    public var id: Int64
    public var requestID: Int64
    public var workItemID: Int64
    public var status: ReportStatus
    /// The reader who writes it (username) and their display name.
    public var author: String
    public var authorName: String
    /// The current draft (or, once signed, the signed text).
    public var sections: [ReportSection]
    /// The highest version number given so far (0 while only a draft exists).
    public var signedVersion: Int
    public var draftSavedAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
    public var revision: Int64

    public init(
        id: Int64, requestID: Int64, workItemID: Int64, status: ReportStatus = .draft, author: String, authorName: String,
        sections: [ReportSection], signedVersion: Int = 0, draftSavedAt: Date? = nil, createdAt: Date, updatedAt: Date,
        revision: Int64 = 0
    ) {
        self.id = id
        self.requestID = requestID
        self.workItemID = workItemID
        self.status = status
        self.author = author
        self.authorName = authorName
        self.sections = sections
        self.signedVersion = signedVersion
        self.draftSavedAt = draftSavedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.revision = revision
    }
}

/// A version of a report that someone put their name to.
public struct ReportVersion: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable { case preliminary, final, addendum }

    public var reportID: Int64
    public var version: Int
    public var kind: Kind
    /// The sections (preliminary and final); empty for an addendum.
    public var sections: [ReportSection]
    /// The addendum's text; empty otherwise.
    public var text: String
    public var signedBy: String
    public var signedByName: String
    public var signedAt: Date

    public init(
        reportID: Int64, version: Int, kind: Kind, sections: [ReportSection], text: String, signedBy: String, signedByName: String,
        signedAt: Date
    ) {
        self.reportID = reportID
        self.version = version
        self.kind = kind
        self.sections = sections
        self.text = text
        self.signedBy = signedBy
        self.signedByName = signedByName
        self.signedAt = signedAt
    }
}

/// A critical finding communicated to the requesting site (ACR practice parameter on communication): who flagged it,
/// when the site was told, who acknowledged it and when, and how often it was escalated while unacknowledged.
public struct CriticalResult: Sendable, Equatable {
    public var id: Int64
    public var requestID: Int64
    public var finding: String
    public var flaggedBy: String
    public var flaggedByName: String
    public var flaggedAt: Date
    /// How the site was told (`in-app`, `in-app+email`).
    public var channel: String
    public var acknowledgedBy: String?
    public var acknowledgedAt: Date?
    public var escalatedAt: Date?
    public var escalations: Int

    public init(
        id: Int64, requestID: Int64, finding: String, flaggedBy: String, flaggedByName: String, flaggedAt: Date, channel: String = "in-app",
        acknowledgedBy: String? = nil, acknowledgedAt: Date? = nil, escalatedAt: Date? = nil, escalations: Int = 0
    ) {
        self.id = id
        self.requestID = requestID
        self.finding = finding
        self.flaggedBy = flaggedBy
        self.flaggedByName = flaggedByName
        self.flaggedAt = flaggedAt
        self.channel = channel
        self.acknowledgedBy = acknowledgedBy
        self.acknowledgedAt = acknowledgedAt
        self.escalatedAt = escalatedAt
        self.escalations = escalations
    }

    /// The line appended to the report: who told whom what, when and how.
    public var reportLine: String {
        var line = "Critical result: \(finding). Flagged by \(flaggedByName) at \(ReadingFormat.iso(flaggedAt)), communicated \(channel)"
        if let by = acknowledgedBy, let at = acknowledgedAt {
            line += "; acknowledged by \(by) at \(ReadingFormat.iso(at))"
        } else {
            line += "; not yet acknowledged"
        }
        if escalations > 0 { line += "; escalated \(escalations)×" }
        return line + "."
    }
}

/// A time-stamped step in a request's life (every state change is one).
public struct ConsultationEvent: Sendable, Equatable {
    public var id: Int64
    public var requestID: Int64
    public var time: Date
    /// `requested`, `claimed`, `released`, `lock-broken`, `lease-expired`, `preliminary`, `signed`, `addendum`, `withdrawn`,
    /// `study-linked`, `critical-flagged`, `critical-acknowledged`, `critical-escalated`, `second-opinion`.
    public var kind: String
    public var actor: String
    public var detail: String

    public init(id: Int64, requestID: Int64, time: Date, kind: String, actor: String, detail: String) {
        self.id = id
        self.requestID = requestID
        self.time = time
        self.kind = kind
        self.actor = actor
        self.detail = detail
    }
}

/// An in-application notice to an institution's site users or to one person.
public struct ReadingNotification: Sendable, Equatable {
    public var id: Int64
    /// The institution whose site users see it, or nil.
    public var institutionCode: String?
    /// The one person who sees it, or nil.
    public var recipient: String?
    /// `report-final`, `report-addendum`, `critical`, `critical-escalated`, `second-opinion`.
    public var kind: String
    public var requestID: Int64
    public var createdAt: Date
    public var readAt: Date?

    public init(
        id: Int64, institutionCode: String?, recipient: String?, kind: String, requestID: Int64, createdAt: Date, readAt: Date? = nil
    ) {
        self.id = id
        self.institutionCode = institutionCode
        self.recipient = recipient
        self.kind = kind
        self.requestID = requestID
        self.createdAt = createdAt
        self.readAt = readAt
    }
}

/// A reader's privileges beyond the role: signing finals (a junior reader writes preliminaries only), breaking other
/// readers' locks (senior), and the service lines whose work items they see.
public struct ReaderProfile: Sendable, Equatable {
    public var username: String
    public var canSign: Bool
    public var senior: Bool
    public var serviceLines: Set<ServiceLine>
    /// On duty: told by e-mail of new stat and urgent requests.
    public var onDuty: Bool

    public init(
        username: String, canSign: Bool = true, senior: Bool = false, serviceLines: Set<ServiceLine> = Set(ServiceLine.allCases),
        onDuty: Bool = true
    ) {
        self.username = username
        self.canSign = canSign
        self.senior = senior
        self.serviceLines = serviceLines
        self.onDuty = onDuty
    }
}

/// Small formatting shared by the model's texts.
public enum ReadingFormat {
    /// ISO 8601 in UTC, seconds precision (`2026-12-06T08:00:00Z`). Written out by hand: worklists format thousands of
    /// these, and making a date formatter for each cost more than the query.
    public static func iso(_ date: Date) -> String {
        let (y, mo, d, h, mi, s) = civil(date, offsetSeconds: 0)
        return "\(pad(y, 4))-\(pad(mo))-\(pad(d))T\(pad(h)):\(pad(mi)):\(pad(s))Z"
    }

    /// `yyyy-MM-dd HH:mm` in the alliance's local time (UTC+8).
    public static func local(_ date: Date) -> String {
        let (y, mo, d, h, mi, _) = civil(date, offsetSeconds: 8 * 3600)
        return "\(pad(y, 4))-\(pad(mo))-\(pad(d)) \(pad(h)):\(pad(mi))"
    }

    private static func pad(_ n: Int, _ width: Int = 2) -> String {
        let text = String(n)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    /// Year, month, day, hour, minute, second of `date` shifted by `offsetSeconds` (days from civil, Howard Hinnant's
    /// algorithm, proleptic Gregorian).
    private static func civil(_ date: Date, offsetSeconds: Int) -> (Int, Int, Int, Int, Int, Int) {
        let total = Int((date.timeIntervalSince1970).rounded(.down)) + offsetSeconds
        var days = total / 86400
        var seconds = total % 86400
        if seconds < 0 {
            seconds += 86400
            days -= 1
        }
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day, seconds / 3600, seconds % 3600 / 60, seconds % 60)
    }
}
