import Foundation

/// What ``IdentityStore/removeDemo(actor:)`` did.
public struct DemoRemoval: Sendable, Equatable {
    /// Usernames of the demo accounts deleted.
    public var people: [String] = []
    /// Usernames of demo accounts that something else still refers to: disabled instead of deleted.
    public var disabledPeople: [String] = []
    /// Codes of the demo institutions deleted.
    public var institutions: [String] = []
    /// Codes of demo institutions kept because a person who is not a demo account belongs to them.
    public var keptInstitutions: [String] = []

    public init() {}
}

/// Demonstration accounts (`atrium serve --demo`): the steps a data folder has had, and their removal.
extension IdentityStore {
    /// Whether the demo step `name` has run on this data folder.
    public func demoStepApplied(_ name: String) async throws(PlatformError) -> Bool {
        !(try await database.query("SELECT name FROM demo_steps WHERE name = ?", [.text(name)])).isEmpty
    }

    /// Records that the demo step `name` has run.
    public func recordDemoStep(_ name: String) async throws(PlatformError) {
        try await database.query(
            "INSERT INTO demo_steps (name, applied_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            [.text(name), .integer(Int64(Date().timeIntervalSince1970))])
    }

    /// Deletes every demo account (with its sessions and API tokens) and every demo institution no other person belongs
    /// to, and forgets the demo steps, so that the next `atrium serve --demo` on a folder without other people starts
    /// afresh. An account another table still refers to is disabled instead. Each removal is audited.
    public func removeDemo(actor: AuditActor) async throws(PlatformError) -> DemoRemoval {
        var removal = DemoRemoval()
        for person in try await people() where person.demo {
            do throws(PlatformError) {
                try await database.transaction([
                    ("DELETE FROM sessions WHERE person_id = ?", [.integer(person.id)]),
                    ("DELETE FROM api_tokens WHERE person_id = ?", [.integer(person.id)]),
                    ("DELETE FROM people WHERE id = ? AND demo = 1", [.integer(person.id)]),
                ])
                removal.people.append(person.username)
                await audit.record(
                    AuditEvent(
                        eventID: .securityAlert, eventType: .userSecurityAttributesChanged, action: .delete, user: actor.user,
                        sourceAddress: actor.sourceAddress, transport: actor.transport, participants: [.user(person.username)],
                        detail: "demo person removed"))
            } catch {
                try await setDisabled(true, personID: person.id, actor: actor)
                removal.disabledPeople.append(person.username)
            }
        }
        for institution in try await institutions() where institution.demo {
            let members = try await database.query(
                "SELECT id FROM people WHERE institution_id = ? LIMIT 1", [.integer(institution.id)])
            guard members.isEmpty else {
                removal.keptInstitutions.append(institution.code)
                continue
            }
            do throws(PlatformError) {
                try await database.transaction([
                    ("DELETE FROM peer_institutions WHERE institution_id = ?", [.integer(institution.id)]),
                    ("DELETE FROM institutions WHERE id = ? AND demo = 1", [.integer(institution.id)]),
                ])
                removal.institutions.append(institution.code)
                await audit.record(
                    AuditEvent(
                        eventID: .securityAlert, eventType: .securityConfiguration, action: .delete, user: actor.user,
                        sourceAddress: actor.sourceAddress, transport: actor.transport,
                        detail: "demo institution \(institution.code) removed"))
            } catch {
                removal.keptInstitutions.append(institution.code)
            }
        }
        try await database.query("DELETE FROM demo_steps", [])
        return removal
    }
}
