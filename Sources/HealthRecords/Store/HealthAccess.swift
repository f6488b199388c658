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
