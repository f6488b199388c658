import Foundation
import Platform

/// A trainee's two supervisors: the academic supervisor (the college's) and the practice supervisor, who comes from a
/// partner institution (a hospital, company or research institute) and countersigns the trainee's logbook entries.
public struct SupervisorAssignment: Sendable, Equatable, Codable {
    public var trainee: String
    public var academicSupervisor: String?
    public var practiceSupervisor: String?
    /// The code of the partner institution the practice supervisor belongs to.
    public var partner: String?
    public var updatedBy: String
    public var updatedAt: Date

    public init(
        trainee: String, academicSupervisor: String?, practiceSupervisor: String?, partner: String?, updatedBy: String = "",
        updatedAt: Date = Date(timeIntervalSince1970: 0)
    ) {
        self.trainee = trainee
        self.academicSupervisor = academicSupervisor
        self.practiceSupervisor = practiceSupervisor
        self.partner = partner
        self.updatedBy = updatedBy
        self.updatedAt = updatedAt
    }
}

/// What a trainee logs by hand (the cases they study, report and are examined on are counted by ``Logbook``).
public enum LogbookEntryKind: String, Sendable, Equatable, Codable, CaseIterable {
    /// A rotation through a department of a partner hospital, with its dates.
    case placement
    /// A procedure observed or performed.
    case procedure
}

/// The trainee's part in a procedure.
public enum ProcedureRole: String, Sendable, Equatable, Codable, CaseIterable {
    case observed
    case performed
}

/// Where an entry stands: only countersigned entries count.
public enum CountersignState: String, Sendable, Equatable, Codable, CaseIterable {
    case pending
    case countersigned
    /// Sent back to the trainee with a comment.
    case returned
}

/// A placement or procedure as the trainee logs it. Dates are calendar dates of the alliance, `yyyy-MM-dd`.
public struct LogbookSubmission: Sendable, Equatable, Codable {
    public var kind: LogbookEntryKind
    /// Placement: the partner hospital's institution code.
    public var partner: String?
    public var department: String?
    /// Placement: the first day; procedure: its day.
    public var date: String
    /// Placement: the last day.
    public var endDate: String?
    public var modality: String?
    public var bodyRegion: String?
    public var role: ProcedureRole?
    public var description: String?
    /// Procedure: the placement it was done in (an entry id of the same trainee).
    public var placement: Int64?

    public init(
        kind: LogbookEntryKind, partner: String? = nil, department: String? = nil, date: String, endDate: String? = nil,
        modality: String? = nil, bodyRegion: String? = nil, role: ProcedureRole? = nil, description: String? = nil,
        placement: Int64? = nil
    ) {
        self.kind = kind
        self.partner = partner
        self.department = department
        self.date = date
        self.endDate = endDate
        self.modality = modality
        self.bodyRegion = bodyRegion
        self.role = role
        self.description = description
        self.placement = placement
    }

    static func filled(_ text: String?) -> String? {
        guard let value = text?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    /// What is wrong with it, or nil.
    public func problem() -> String? {
        guard CalendarDay.valid(date) else { return "the date is not a day (yyyy-MM-dd)" }
        for text in [partner, department, modality, bodyRegion] where (text?.count ?? 0) > 200 { return "a field is too long" }
        if (description?.count ?? 0) > 4000 { return "the description is too long" }
        switch kind {
        case .placement:
            guard Self.filled(partner) != nil else { return "a placement names its partner hospital" }
            guard Self.filled(department) != nil else { return "a placement names its department" }
            guard let end = endDate, CalendarDay.valid(end) else { return "a placement has an end date (yyyy-MM-dd)" }
            guard end >= date else { return "a placement ends on or after its start" }
        case .procedure:
            guard Self.filled(modality) != nil else { return "a procedure names its modality" }
            guard Self.filled(bodyRegion) != nil else { return "a procedure names its body region" }
            guard role != nil else { return "a procedure is observed or performed" }
            guard Self.filled(description) != nil else { return "a procedure has a description" }
        }
        return nil
    }
}

/// A placement or procedure in a trainee's logbook, with its countersignature.
public struct LogbookEntry: Sendable, Equatable, Codable {
    public var id: Int64
    public var trainee: String
    public var submission: LogbookSubmission
    public var state: CountersignState
    public var reviewer: String?
    public var reviewedAt: Date?
    public var comment: String
    public var loggedAt: Date
}

/// Calendar days written `yyyy-MM-dd` (in the alliance's calendar; they compare as text).
public enum CalendarDay {
    public static func valid(_ text: String) -> Bool {
        guard text.count == 10, let day = CivilDate(text) else { return false }
        return (1900...2999).contains(day.year)
    }
}

/// A competency the college defines, with its levels 1…`levels`.
public struct Competency: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var levels: Int

    public init(id: String, name: String, levels: Int) {
        self.id = id
        self.name = name
        self.levels = levels
    }
}

/// A supervisor's sign-off of a trainee's level in a competency (the newest one stands).
public struct CompetencySignOff: Sendable, Equatable, Codable {
    public var trainee: String
    public var competency: String
    public var level: Int
    public var signedBy: String
    public var signedAt: Date
    public var note: String
}

/// A programme's target count of countersigned procedures in one modality or one body region.
public struct LogbookTarget: Sendable, Equatable, Codable, Hashable {
    public enum Dimension: String, Sendable, Equatable, Codable, CaseIterable {
        case modality
        case region
    }
    public var dimension: Dimension
    public var value: String
    public var count: Int

    public init(dimension: Dimension, value: String, count: Int) {
        self.dimension = dimension
        self.value = value
        self.count = count
    }

    /// The key entries are compared with: modalities in capitals (`CT`), regions in lower case, both trimmed.
    static func key(_ dimension: Dimension, _ value: String) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        return dimension == .modality ? trimmed.uppercased() : trimmed.lowercased()
    }
}

/// How far a trainee is towards one target.
public struct TargetProgress: Sendable, Equatable, Codable {
    public var target: LogbookTarget
    public var done: Int
    public var met: Bool { done >= target.count }
}

/// The logbook's counts of a trainee's hand-logged entries.
public enum LogbookProgress {
    /// Progress towards each target: countersigned procedures whose modality (or body region) is the target's, pending
    /// and returned ones left out.
    public static func against(_ targets: [LogbookTarget], entries: [LogbookEntry]) -> [TargetProgress] {
        let counted = entries.filter { $0.state == .countersigned && $0.submission.kind == .procedure }
        return targets.map { target in
            let key = LogbookTarget.key(target.dimension, target.value)
            let done = counted.filter { entry in
                let value = target.dimension == .modality ? entry.submission.modality : entry.submission.bodyRegion
                return LogbookTarget.key(target.dimension, value ?? "") == key
            }.count
            return TargetProgress(target: target, done: done)
        }
    }

    /// Countersigned entries of each kind.
    public static func countersigned(_ entries: [LogbookEntry], _ kind: LogbookEntryKind) -> Int {
        entries.filter { $0.state == .countersigned && $0.submission.kind == kind }.count
    }
}

/// A class of trainees in a programme.
public struct Cohort: Sendable, Equatable, Codable {
    public var id: Int64
    public var name: String
    public var programme: String
    public var createdBy: String
    public var createdAt: Date
    public var members: [String]
}

/// An inspection of a course, a placement or a project by an external supervisor (a partner's or the programme
/// office's), with its findings and follow-up actions; published ones are readable by the inspected party.
public struct Inspection: Sendable, Equatable, Codable {
    public enum Subject: String, Sendable, Equatable, Codable, CaseIterable {
        case course
        case placement
        case project
    }

    public struct Action: Sendable, Equatable, Codable {
        public var id: Int64
        public var action: String
        public var owner: String
        /// `yyyy-MM-dd`.
        public var due: String
    }

    public var id: Int64
    public var inspector: String
    /// The code of the inspected institution.
    public var institution: String
    public var subjectKind: Subject
    public var subject: String
    /// The person answerable for the subject (the course's teacher, the placement's supervisor), who reads it once
    /// published; may be empty.
    public var party: String
    public var unannounced: Bool
    /// `yyyy-MM-dd`.
    public var date: String
    public var findings: String
    public var actions: [Action]
    public var closedAt: Date?
    public var closingNote: String
    public var publishedAt: Date?
    public var createdAt: Date

    public var published: Bool { publishedAt != nil }
    public var closed: Bool { closedAt != nil }
}

/// What an inspection is recorded with.
public struct InspectionDraft: Sendable, Equatable, Codable {
    public var institution: String
    public var subjectKind: Inspection.Subject
    public var subject: String
    public var party: String?
    public var unannounced: Bool
    public var date: String
    public var findings: String

    public init(
        institution: String, subjectKind: Inspection.Subject, subject: String, party: String? = nil, unannounced: Bool, date: String,
        findings: String
    ) {
        self.institution = institution
        self.subjectKind = subjectKind
        self.subject = subject
        self.party = party
        self.unannounced = unannounced
        self.date = date
        self.findings = findings
    }

    public func problem() -> String? {
        guard LogbookSubmission.filled(institution) != nil else { return "an inspection names the inspected institution" }
        guard LogbookSubmission.filled(subject) != nil else { return "an inspection names its subject" }
        guard CalendarDay.valid(date) else { return "the inspection's date is not a day (yyyy-MM-dd)" }
        guard findings.count <= 20_000, subject.count <= 300 else { return "the text is too long" }
        return nil
    }
}

/// What one partner institution contributes to training: the inspections of it, the trainees it hosts (those with a
/// countersigned placement there) and its part-time teachers (its people who teach: curators). The programme's partner
/// contribution table reads this.
public struct PartnerActivity: Sendable, Equatable, Codable {
    public var institution: String
    public var kind: String
    public var inspections: Int
    public var traineesHosted: Int
    public var partTimeTeachers: Int

    /// Counts per institution other than a college (a college is not a partner of itself); every such institution has a
    /// row, with zeros when nothing is recorded.
    public static func count(
        institutions: [Institution], people: [Person], entries: [LogbookEntry], inspections: [Inspection]
    ) -> [PartnerActivity] {
        institutions.filter { $0.kind != .college }.map { institution in
            let hosted = Set(
                entries.filter {
                    $0.state == .countersigned && $0.submission.kind == .placement && $0.submission.partner == institution.code
                }.map(\.trainee))
            let teachers = people.filter { $0.institutionID == institution.id && $0.roles.contains(.curator) && !$0.disabled }
            return PartnerActivity(
                institution: institution.code, kind: institution.kind.rawValue,
                inspections: inspections.filter { $0.institution == institution.code }.count, traineesHosted: hosted.count,
                partTimeTeachers: teachers.count)
        }
    }
}
