import Foundation
import Platform
import Server

extension AtriumServer {
    /// Creates a person with `roles` (in the institution with code `institution`, created when missing) and returns an
    /// API token of theirs with every scope, for tests that talk to the server as that person
    /// (`Authorization: Bearer TOKEN`).
    func testToken(_ username: String = "test-admin", roles: Set<Role> = [.admin], institution: String? = nil) async throws -> String {
        let actor = AuditActor(user: "test")
        var institutionID: Int64?
        if let institution {
            if let existing = try await identity.institution(code: institution) {
                institutionID = existing.id
            } else {
                institutionID = try await identity.createInstitution(
                    code: institution, name: institution, kind: .grassrootsHospital, actor: actor
                ).id
            }
        }
        let person =
            if let existing = try await identity.person(username: username) {
                existing
            } else {
                try await identity.createPerson(
                    username: username, password: "test password \(username)", roles: roles, institutionID: institutionID, actor: actor)
            }
        return try await identity.createToken(personID: person.id, actor: actor).secret
    }
}
