import Archive
import AtriumTesting
import Crypto
import Foundation
import Testing

@testable import Platform

/// The identity store's behaviour, run against SQLite and PostgreSQL alike (``IdentityStoreTests``).
enum IdentitySuite {
    static let actor = AuditActor(user: "tester", sourceAddress: "127.0.0.1")

    /// A policy with a cheap hash, so that the suite's many sign-ins stay quick (the hash cost has a test of its own).
    static var policy: SecurityPolicy {
        var policy = SecurityPolicy()
        policy.passwordIterations = 1000
        return policy
    }

    static func run(_ store: IdentityStore) async throws {
        try await institutionsAndPeople(store)
        try await signInSessionsAndLockOut(store)
        try await passwords(store)
        try await tokens(store)
        try await auditTrail(store)
        try await demoAccounts(store)
    }

    /// Demo accounts and institutions are marked, demo steps are recorded once, and removal takes only demo ones (with
    /// their sessions and tokens), keeping an institution someone else belongs to.
    static func demoAccounts(_ store: IdentityStore) async throws {
        let demoInstitution = try await store.createInstitution(
            code: "DEMO-X", name: "示例医院", kind: .grassrootsHospital, demo: true, actor: actor)
        let sharedInstitution = try await store.createInstitution(
            code: "DEMO-Y", name: "Shared", kind: .college, demo: true, actor: actor)
        let demo = try await store.createPerson(
            username: "demo-x", password: "demo password 1", roles: [.site], institutionID: demoInstitution.id, demo: true, actor: actor)
        let demoAdmin = try await store.createPerson(
            username: "demo-x-admin", password: "demo password 2", roles: [.admin], demo: true, actor: actor)
        let member = try await store.createPerson(
            username: "member-y", password: "member password", roles: [.reader], institutionID: sharedInstitution.id, actor: actor)
        #expect(try await store.person(username: "demo-x")?.demo == true)
        #expect(try await store.person(id: member.id)?.demo == false)
        #expect(try await store.people().filter(\.demo).map(\.username).sorted() == ["demo-x", "demo-x-admin"])
        #expect(try await store.institutions().filter(\.demo).map(\.code).sorted() == ["DEMO-X", "DEMO-Y"])
        #expect(try await store.hasPeopleOtherThanDemo())
        let token = try await store.createToken(personID: demo.id, actor: actor).secret
        guard case .success = try await store.signIn(username: "demo-x-admin", password: "demo password 2", source: "127.0.0.1") else {
            Issue.record("a demo account signs in")
            return
        }
        #expect(try await !store.demoStepApplied("people"))
        try await store.recordDemoStep("people")
        try await store.recordDemoStep("people")
        #expect(try await store.demoStepApplied("people"))

        let removal = try await store.removeDemo(actor: actor)
        #expect(removal.people.sorted() == ["demo-x", "demo-x-admin"])
        #expect(removal.institutions == ["DEMO-X"] && removal.keptInstitutions == ["DEMO-Y"])
        #expect(try await store.person(id: demoAdmin.id) == nil)
        #expect(try await store.principal(bearerToken: token) == nil, "a removed demo account's token stops")
        #expect(try await store.person(id: member.id) != nil)
        #expect(try await store.person(username: "root") != nil)
        #expect(try await store.institution(code: "DEMO-Y") != nil)
        #expect(try await store.institution(code: "DEMO-X") == nil)
        #expect(try await !store.demoStepApplied("people"))
    }

    static func institutionsAndPeople(_ store: IdentityStore) async throws {
        let county = try await store.createInstitution(code: "COUNTY", name: "County Hospital", kind: .grassrootsHospital, actor: actor)
        let college = try await store.createInstitution(code: "COLLEGE", name: "Medical College", kind: .college, actor: actor)
        #expect(try await store.institutions().map(\.code) == ["COUNTY", "COLLEGE"])
        #expect(try await store.institution(code: "COUNTY") == county)
        await #expect(throws: PlatformError.self) {
            try await store.createInstitution(code: "COUNTY", name: "again", kind: .enterprise, actor: actor)
        }
        #expect(try await !store.hasAdministrator())
        let admin = try await store.createPerson(
            username: "root", password: "correct horse battery", roles: [.admin], actor: actor)
        #expect(try await store.hasAdministrator())
        let site = try await store.createPerson(
            username: "county.clerk", displayName: "县医院", password: "county-password-1", roles: [.site],
            institutionID: county.id, language: .english, actor: actor)
        #expect(site.roles == [.site] && site.institutionID == county.id)
        #expect(try await store.person(username: "county.clerk") == site)
        // Rules: a short password, no role, a site user without an institution, a taken username.
        await #expect(throws: PlatformError.self) {
            try await store.createPerson(username: "short", password: "123", roles: [.reader], actor: actor)
        }
        await #expect(throws: PlatformError.self) {
            try await store.createPerson(username: "norole", password: "long enough password", roles: [], actor: actor)
        }
        await #expect(throws: PlatformError.self) {
            try await store.createPerson(username: "lost", password: "long enough password", roles: [.site], actor: actor)
        }
        await #expect(throws: PlatformError.self) {
            try await store.createPerson(username: "root", password: "long enough password", roles: [.reader], actor: actor)
        }
        try await store.setRoles([.reader, .curator], personID: admin.id, actor: actor)
        #expect(try await store.person(id: admin.id)?.roles == [.reader, .curator])
        #expect(try await !store.hasAdministrator())
        try await store.setRoles([.admin], personID: admin.id, actor: actor)
        try await store.update(
            personID: site.id, displayName: "Clerk", institutionID: .some(college.id), language: .chinese, actor: actor)
        let updated = try await store.person(id: site.id)
        #expect(updated?.displayName == "Clerk" && updated?.institutionID == college.id && updated?.language == .chinese)
        try await store.update(personID: site.id, displayName: nil, institutionID: .some(county.id), language: nil, actor: actor)
        // Peer mappings.
        try await store.setPeerInstitution(aeTitle: "COUNTY_PACS", institutionID: county.id, actor: actor)
        #expect(try await store.peerInstitutions() == ["COUNTY_PACS": "COUNTY"])
        try await store.setPeerInstitution(aeTitle: "COUNTY_PACS", institutionID: nil, actor: actor)
        #expect(try await store.peerInstitutions().isEmpty)
    }

    static func signInSessionsAndLockOut(_ store: IdentityStore) async throws {
        guard case .success(let grant) = try await store.signIn(username: "county.clerk", password: "county-password-1", source: "10.0.0.7")
        else { Issue.record("a correct password signs in"); return }
        #expect(grant.sessionID.count >= 43, "256 random bits in base64url")
        #expect(grant.principal.institutionCode == "COUNTY" && grant.principal.roles == [.site])
        let principal = try #require(try await store.principal(sessionID: grant.sessionID))
        #expect(principal.username == "county.clerk")
        #expect(principal.method == .session(csrfToken: grant.csrfToken))
        // Only the SHA-256 of the session id is stored.
        let stored = try await store.database.query("SELECT id_hash FROM sessions", []).compactMap { $0.first?.text }
        #expect(!stored.contains(grant.sessionID))
        #expect(stored.contains(sha256(grant.sessionID)))
        #expect(try await store.principal(sessionID: grant.sessionID + "x") == nil)

        // Idle expiry: a session last seen longer ago than the idle limit is over.
        let idle = Int64(Date().timeIntervalSince1970 - store.policy.sessionIdleSeconds - 5)
        try await store.database.query(
            "UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?", [.integer(idle), .text(sha256(grant.sessionID))])
        #expect(try await store.principal(sessionID: grant.sessionID) == nil)
        // Absolute expiry: recently seen, but opened longer ago than the absolute limit.
        guard case .success(let second) = try await store.signIn(username: "county.clerk", password: "county-password-1", source: "x")
        else { Issue.record("signs in again"); return }
        let old = Int64(Date().timeIntervalSince1970 - store.policy.sessionAbsoluteSeconds - 5)
        try await store.database.query(
            "UPDATE sessions SET created_at = ? WHERE id_hash = ?", [.integer(old), .text(sha256(second.sessionID))])
        #expect(try await store.principal(sessionID: second.sessionID) == nil)
        // Sign-out.
        guard case .success(let third) = try await store.signIn(username: "county.clerk", password: "county-password-1", source: "x")
        else { Issue.record("signs in again"); return }
        try await store.signOut(sessionID: third.sessionID, actor: actor)
        #expect(try await store.principal(sessionID: third.sessionID) == nil)

        // Failures: unknown user, wrong password; the fifth in a row locks the account, even for the right password.
        #expect(try await store.signIn(username: "nobody", password: "whatever-it-is", source: "x") == .failure(.unknownUser))
        for attempt in 1...store.policy.maximumFailures {
            let result = try await store.signIn(username: "county.clerk", password: "wrong password \(attempt)", source: "10.0.0.9")
            if attempt < store.policy.maximumFailures {
                #expect(result == .failure(.wrongPassword))
            } else if case .failure(.locked) = result {
            } else {
                Issue.record("the \(attempt)th failure locks the account, got \(result)")
            }
        }
        let locked = try await store.signIn(username: "county.clerk", password: "county-password-1", source: "10.0.0.9")
        guard case .failure(.locked(let until)) = locked else { Issue.record("locked: \(locked)"); return }
        #expect(Double(until) > Date().timeIntervalSince1970 + store.policy.lockoutSeconds - 60)
        // When the lock-out time has passed, the right password works again.
        try await store.database.query(
            "UPDATE people SET locked_until = ? WHERE username = ?",
            [.integer(Int64(Date().timeIntervalSince1970) - 1), .text("county.clerk")])
        guard case .success = try await store.signIn(username: "county.clerk", password: "county-password-1", source: "x") else {
            Issue.record("the lock-out ends"); return
        }
        await store.audit.flush()
        let alerts = try await store.audit.search(AuditSearch(user: "county.clerk", eventCode: AuditCode.securityAlert.code))
        #expect(alerts.contains { $0.outcome == .seriousFailure && $0.detail.contains("locked") }, "the lock-out is audited")
        let failures = try await store.audit.search(AuditSearch(user: "county.clerk", eventCode: "110114", outcome: .minorFailure))
        #expect(failures.count == store.policy.maximumFailures + 1, "each failed sign-in is audited")
        let unknown = try await store.audit.search(AuditSearch(user: "nobody"))
        #expect(unknown.count == 1 && unknown.first?.eventType == .login)
    }

    static func passwords(_ store: IdentityStore) async throws {
        let person = try #require(try await store.person(username: "county.clerk"))
        guard case .success(let kept) = try await store.signIn(username: "county.clerk", password: "county-password-1", source: "x"),
            case .success(let other) = try await store.signIn(username: "county.clerk", password: "county-password-1", source: "y")
        else { Issue.record("signs in"); return }
        await #expect(throws: PlatformError.self) {
            try await store.changePassword(
                personID: person.id, current: "not it at all", new: "a new password 2", keepingSession: nil, actor: actor)
        }
        try await store.changePassword(
            personID: person.id, current: "county-password-1", new: "a new password 2", keepingSession: kept.sessionID, actor: actor)
        #expect(try await store.principal(sessionID: kept.sessionID) != nil, "the session that changed the password stays")
        #expect(try await store.principal(sessionID: other.sessionID) == nil, "other sessions end")
        #expect(try await store.signIn(username: "county.clerk", password: "county-password-1", source: "x") == .failure(.wrongPassword))
        // An administrator's reset clears a lock-out too.
        for _ in 0..<store.policy.maximumFailures {
            _ = try await store.signIn(username: "county.clerk", password: "bad guess!", source: "x")
        }
        try await store.resetPassword(personID: person.id, newPassword: "reset by admin 3", actor: actor)
        guard case .success = try await store.signIn(username: "county.clerk", password: "reset by admin 3", source: "x") else {
            Issue.record("the reset password works at once"); return
        }
        // A disabled person cannot sign in.
        try await store.setDisabled(true, personID: person.id, actor: actor)
        #expect(try await store.signIn(username: "county.clerk", password: "reset by admin 3", source: "x") == .failure(.disabled))
        try await store.setDisabled(false, personID: person.id, actor: actor)
        // Stored hashes are PBKDF2 with a per-password salt: two people with one password get different hashes.
        let other2 = try await store.createPerson(username: "twin", password: "reset by admin 3", roles: [.student], actor: actor)
        let hashes = try await store.database.query(
            "SELECT password_hash FROM people WHERE id IN (?, ?)", [.integer(person.id), .integer(other2.id)]
        ).compactMap { $0.first?.text }
        #expect(hashes.count == 2 && hashes[0] != hashes[1] && hashes.allSatisfy { $0.hasPrefix("pbkdf2-sha256$") })
        #expect(hashes.allSatisfy { !$0.contains("reset by admin 3") })
    }

    static func tokens(_ store: IdentityStore) async throws {
        let person = try #require(try await store.person(username: "county.clerk"))
        let (token, secret) = try await store.createToken(
            personID: person.id, name: "pacs bridge", scopes: [TokenScope.dicomwebRead], expiresInSeconds: 3600, actor: actor)
        #expect(secret.hasPrefix("atr_"))
        let principal = try #require(try await store.principal(bearerToken: secret))
        #expect(principal.method == .token(scopes: [TokenScope.dicomwebRead]) && principal.institutionCode == "COUNTY")
        let stored = try await store.database.query("SELECT token_hash FROM api_tokens WHERE id = ?", [.integer(token.id)])
        #expect(stored.first?.first?.text == sha256(secret), "only the SHA-256 is stored")
        #expect(try await store.principal(bearerToken: "atr_" + String(secret.dropFirst(4).reversed())) == nil)
        await #expect(throws: PlatformError.self) {
            try await store.createToken(personID: person.id, scopes: ["root"], actor: actor)
        }
        // Expired.
        try await store.database.query(
            "UPDATE api_tokens SET expires_at = ? WHERE id = ?", [.integer(Int64(Date().timeIntervalSince1970) - 1), .integer(token.id)])
        #expect(try await store.principal(bearerToken: secret) == nil)
        // Revoked.
        let (second, secret2) = try await store.createToken(personID: person.id, actor: actor)
        #expect(try await store.principal(bearerToken: secret2) != nil)
        try await store.revokeToken(id: second.id, actor: actor)
        #expect(try await store.principal(bearerToken: secret2) == nil)
        await #expect(throws: PlatformError.self) { try await store.revokeToken(id: second.id, actor: actor) }
        let listed = try await store.tokens(personID: person.id)
        #expect(listed.map(\.id) == [token.id, second.id] && listed[1].revokedAt != nil && listed[1].scopes == TokenScope.all)
        // A disabled owner's token stops working.
        let (_, secret3) = try await store.createToken(personID: person.id, actor: actor)
        try await store.setDisabled(true, personID: person.id, actor: actor)
        #expect(try await store.principal(bearerToken: secret3) == nil)
        try await store.setDisabled(false, personID: person.id, actor: actor)
        #expect(try await store.principal(bearerToken: secret3) != nil)
    }

    static func auditTrail(_ store: IdentityStore) async throws {
        let study = "1.2.826.0.1.3680043.8.498.\(Int.random(in: 1...999_999))"
        let time = Date(timeIntervalSince1970: 1_800_000_000)
        await store.audit.record(
            AuditEvent(
                time: time, eventID: .instancesTransferred, action: .read, user: "reader1", sourceAddress: "10.1.2.3",
                participants: [.study(study), .patient("P-7")], detail: "WADO-RS"))
        await store.audit.record(
            AuditEvent(eventID: .query, action: .execute, user: "reader1", participants: [.query("/dicom-web/studies")]))
        await store.audit.flush()
        let byStudy = try await store.audit.search(AuditSearch(participant: study))
        #expect(byStudy.count == 1)
        let event = try #require(byStudy.first)
        #expect(event.eventID == .instancesTransferred && event.action == .read && event.user == "reader1")
        #expect(event.sourceAddress == "10.1.2.3" && event.participants == [.study(study), .patient("P-7")])
        #expect(abs(event.time.timeIntervalSince(time)) < 0.002)
        #expect(try await store.audit.search(AuditSearch(user: "reader1")).count == 2)
        #expect(try await store.audit.search(AuditSearch(from: time.addingTimeInterval(-1), to: time.addingTimeInterval(1))).count == 1)
        // Exports: JSON that parses back to the same events, CSV with a header and one line per event.
        let events = try await store.audit.search(AuditSearch(user: "reader1"))
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let decoded = try decoder.decode([AuditEvent].self, from: Data(AuditTrail.json(events)))
        #expect(decoded.map(\.id) == events.map(\.id) && decoded.map(\.participants) == events.map(\.participants))
        let csv = AuditTrail.csv(events).split(separator: "\r\n")
        #expect(csv.count == 3 && csv[0].hasPrefix("id,time,event_id"))
        // Append-only: the database refuses changes and deletions of audit rows.
        await #expect(throws: PlatformError.self) { try await store.database.query("UPDATE audit_events SET username = 'x'", []) }
        await #expect(throws: PlatformError.self) { try await store.database.query("DELETE FROM audit_events", []) }
        #expect(try await store.audit.search(AuditSearch(user: "reader1")).count == 2)
    }

    /// SHA-256 in lowercase hex, by swift-crypto directly.
    static func sha256(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
