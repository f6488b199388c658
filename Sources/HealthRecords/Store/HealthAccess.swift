import Platform

/// Who may see a resident's record (DESIGN.md, issue 21): the staff of the serving institution, and the
/// health-service centre's health managers assigned to the resident; students see de-identified records only.
public enum HealthAccess: Sendable, Equatable {
    case full
    case deidentified
    case none

    /// The reader's side of the decision: their username, institution code and roles.
    public struct Viewer: Sendable, Equatable {
        public var username: String
        public var institution: String?
        public var roles: Set<Role>

        public init(username: String, institution: String?, roles: Set<Role>) {
            self.username = username
            self.institution = institution
            self.roles = roles
        }

        public init(_ principal: Principal) {
            self.init(username: principal.username, institution: principal.institutionCode, roles: principal.roles)
        }

        /// Staff: anyone holding a role other than student.
        public var isStaff: Bool { !roles.subtracting([.student]).isEmpty }
    }

    public static func decide(viewer: Viewer, residentInstitution: String, assigned: Set<String>) -> HealthAccess {
        if viewer.isStaff, let institution = viewer.institution, institution == residentInstitution { return .full }
        if viewer.roles.contains(.healthManager), assigned.contains(viewer.username) { return .full }
        if viewer.roles.contains(.student) { return .deidentified }
        return .none
    }
}

extension Resident {
    /// The record without what identifies the person: name, identity number, phone, address and record number go; the
    /// birth date keeps its year only (July 1st), so age stays within a year.
    public func deidentified() -> Resident {
        var copy = self
        copy.name = ""
        copy.identityNumber = ""
        copy.phone = ""
        copy.address = ""
        copy.recordNumber = "R\(id)"
        copy.householdID = nil
        if let birth = CivilDate(birthDate) { copy.birthDate = String(format: "%04d-07-01", birth.year) }
        copy.information.environment = [:]
        return copy
    }
}

/// What a student sees of a resident's forms: every date moved back by the resident's offset (as in the teaching
/// cases), the people who examined, assessed or planned removed, and the free-text items dropped; measurements and
/// coded items stay.
public enum HealthDeidentification {
    static func shifted(_ text: String, _ days: Int) -> String {
        CivilDate(text).map { $0.adding(days: -days).description } ?? ""
    }

    public static func examination(_ examination: Examination, shift days: Int) -> Examination {
        var copy = examination
        copy.date = shifted(copy.date, days)
        copy.doctor = ""
        copy.medications = []
        copy.guidance = []
        copy.abnormalities = []
        copy.physicalExamination = [:]
        copy.organFunction = [:]
        copy.auxiliary.other = [:]
        copy.lifestyle.occupationalExposures = []
        return copy
    }

    public static func followUp(_ followUp: FollowUp, shift days: Int) -> FollowUp {
        var copy = followUp
        copy.date = shifted(copy.date, days)
        copy.nextDate = shifted(copy.nextDate, days)
        copy.doctor = ""
        copy.adverseReaction = ""
        copy.medications = []
        copy.referral = ""
        copy.targets = [:]
        return copy
    }

    public static func assessment(_ assessment: Assessment, shift days: Int) -> Assessment {
        var copy = assessment
        copy.date = shifted(copy.date, days)
        copy.assessedBy = ""
        copy.assessedAt = copy.assessedAt.addingTimeInterval(-Double(days) * 86_400)
        return copy
    }

    public static func plan(_ plan: ManagementPlan, shift days: Int) -> ManagementPlan {
        var copy = plan
        copy.goals = copy.goals.map { ManagementPlan.Goal(item: $0.item, target: $0.target, due: shifted($0.due, days)) }
        copy.followUpDates = copy.followUpDates.map { shifted($0, days) }
        copy.note = ""
        copy.createdBy = ""
        copy.createdAt = copy.createdAt.addingTimeInterval(-Double(days) * 86_400)
        return copy
    }
}
