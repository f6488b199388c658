import Archive
import Foundation
import Logging
import Synchronization

/// Who performs an administrative or security action, for the audit trail.
public struct AuditActor: Sendable, Equatable {
    public var user: String
    public var sourceAddress: String
    public var transport: String

    public init(user: String, sourceAddress: String = "", transport: String = "http") {
        self.user = user
        self.sourceAddress = sourceAddress
        self.transport = transport
    }

    /// The command line (`atrium user add`, `atrium token create`).
    public static let commandLine = AuditActor(user: "cli", sourceAddress: "localhost", transport: "cli")
}

/// A successful sign-in: the session id for the cookie (shown once; only its SHA-256 is stored), its CSRF token, and who.
public struct SessionGrant: Sendable, Equatable {
    public var sessionID: String
    public var csrfToken: String
    public var principal: Principal
}

/// Why a sign-in failed. Callers show one message for all of them, so that usernames cannot be probed.
public enum SignInFailure: Error, Equatable {
    case unknownUser
    case wrongPassword
    case disabled
    case locked(untilSeconds: Int64)
}

/// Institutions, people, sessions, API tokens and DICOM peer mappings, in the archive's database (SQLite or PostgreSQL,
/// through ``PlatformDatabase``), with sign-in, lock-out and the audit events of each security action.
///
/// For the web pages, the calls a login form needs are ``signIn(username:password:source:)`` (then set the cookie
/// ``sessionCookieName`` to ``SessionGrant/sessionID``), ``signOut(sessionID:actor:)`` and ``principal(sessionID:)``.
public final class IdentityStore: Sendable {
    /// The session cookie's name.
    public static let sessionCookieName = "atrium_session"

    package let database: any PlatformDatabase
    public let policy: SecurityPolicy
    public let audit: AuditTrail
    /// The other processes on the same PostgreSQL database (events, exclusive work, shared counters); nil on SQLite.
    public let cluster: ProcessCluster?
    // A hash to compare against when the username is unknown, so that the answer takes as long as for a known one
    // (made on first need: it costs as much as a sign-in).
    private let decoy = Mutex<String?>(nil)

    package init(database: any PlatformDatabase, policy: SecurityPolicy, audit: AuditTrail) throws(PlatformError) {
        self.database = database
        self.policy = policy
        self.audit = audit
        if let postgres = database as? PostgresPlatformDatabase {
            cluster = ProcessCluster(index: postgres.index, database: database)
        } else {
            cluster = nil
        }
    }

    /// The store in the archive's database (`atrium.sqlite` in `directory`, or the archive's PostgreSQL). SQLite tables are
    /// created or migrated at once; PostgreSQL's by ``prepare()`` or the first call that needs them.
    public static func make(
        archive: Archive, directory: String, policy: SecurityPolicy = SecurityPolicy(), syslog: (any AuditEventSink)? = nil,
        logger: Logger = Logger(label: "atrium.platform")
    ) throws(PlatformError) -> IdentityStore {
        let database: any PlatformDatabase
        if let postgres = archive.index as? PostgresIndex {
            database = PostgresPlatformDatabase(index: postgres)
        } else {
            database = try SQLitePlatformDatabase(path: directory + "/atrium.sqlite")
        }
        return try IdentityStore(
            database: database, policy: policy, audit: AuditTrail(database: database, syslog: syslog, logger: logger))
    }

    /// Creates or migrates the tables now (otherwise the first call does).
    public func prepare() async throws(PlatformError) {
        try await database.migrate()
    }

    private static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }

    // MARK: - Institutions

    /// Creates an institution; `code` is unique, short, and what DICOM peers and studies refer to.
    @discardableResult
    public func createInstitution(code: String, name: String, kind: InstitutionKind, demo: Bool = false, actor: AuditActor)
        async throws(PlatformError) -> Institution
    {
        let code = code.trimmingCharacters(in: .whitespaces)
        guard !code.isEmpty, code.count <= 64, !code.contains(where: { $0.isNewline }) else {
            throw .invalid("an institution code is 1–64 characters on one line")
        }
        let rows = try await database.query(
            "INSERT INTO institutions (code, name, kind, demo) VALUES (?, ?, ?, ?) RETURNING id",
            [.text(code), .text(name), .text(kind.rawValue), .integer(demo ? 1 : 0)])
        guard let id = rows.first?.first?.integer else { throw .database("no id for the new institution") }
        await audit.record(
            AuditEvent(
                eventID: .securityAlert, eventType: .securityConfiguration, action: .create, user: actor.user,
                sourceAddress: actor.sourceAddress, transport: actor.transport, detail: "institution \(code) created"))
        return Institution(id: id, code: code, name: name, kind: kind, demo: demo)
    }

    /// Every institution, by id.
    public func institutions() async throws(PlatformError) -> [Institution] {
        try await database.query("SELECT id, code, name, kind, demo FROM institutions ORDER BY id", []).map(Self.institutionRow)
    }

    /// The institution with this id, or with this code.
    public func institution(id: Int64) async throws(PlatformError) -> Institution? {
        try await database.query("SELECT id, code, name, kind, demo FROM institutions WHERE id = ?", [.integer(id)]).first.map(
            Self.institutionRow)
    }

    public func institution(code: String) async throws(PlatformError) -> Institution? {
        try await database.query("SELECT id, code, name, kind, demo FROM institutions WHERE code = ?", [.text(code)]).first.map(
            Self.institutionRow)
    }

    private static func institutionRow(_ row: [SQLValue]) -> Institution {
        Institution(
            id: row[0].integer ?? 0, code: row[1].text ?? "", name: row[2].text ?? "",
            kind: InstitutionKind(rawValue: row[3].text ?? "") ?? .grassrootsHospital, demo: (row[4].integer ?? 0) != 0)
    }

    // MARK: - People

    private static let personColumns = "id, username, display_name, institution_id, roles, language, disabled"
    /// ``personColumns`` and the demo mark, for the lists that show it.
    private static let listedPersonColumns = personColumns + ", demo"

    /// A person from the columns of ``personColumns`` (and the demo mark at index 7 when `withDemo`).
    private static func personRow(_ row: [SQLValue], withDemo: Bool = false) -> Person {
        Person(
            id: row[0].integer ?? 0, username: row[1].text ?? "", displayName: row[2].text ?? "", institutionID: row[3].integer,
            roles: Set((row[4].text ?? "").split(separator: ",").compactMap { Role(rawValue: String($0)) }),
            language: InterfaceLanguage(rawValue: row[5].text ?? "") ?? .chinese, disabled: (row[6].integer ?? 0) != 0,
            demo: withDemo && (row[7].integer ?? 0) != 0)
    }

    /// The advisory lock key of ``createPerson(username:displayName:password:roles:institutionID:language:demo:firstAdministrator:actor:)``
    /// with `firstAdministrator`.
    static let firstAdministratorLock: Int64 = 0x4154_4144_4D4E
    /// The refusal of a first administrator when one exists already.
    public static let administratorExists = "an administrator exists already"

    private static func rolesText(_ roles: Set<Role>) -> String { roles.map(\.rawValue).sorted().joined(separator: ",") }

    func checkPassword(_ password: String, username: String) throws(PlatformError) {
        guard password.count >= policy.minimumPasswordLength else {
            throw .invalid("a password has at least \(policy.minimumPasswordLength) characters")
        }
        guard password.utf8.count <= 1024 else { throw .invalid("a password has at most 1024 bytes") }
        if let reason = PasswordPolicy.weakness(password, username: username) { throw .invalid(reason) }
    }

    /// Creates a person with a password (hashed here) and at least one role.
    @discardableResult
    public func createPerson(
        username: String, displayName: String? = nil, password: String, roles: Set<Role>, institutionID: Int64? = nil,
        language: InterfaceLanguage = .chinese, demo: Bool = false, firstAdministrator: Bool = false, actor: AuditActor
    ) async throws(PlatformError) -> Person {
        guard !username.isEmpty, username.count <= 64,
            username.allSatisfy({ $0.isLetter || $0.isNumber || "._-@".contains($0) })
        else { throw .invalid("a username is 1–64 letters, digits, '.', '_', '-' or '@'") }
        guard !roles.isEmpty else { throw .invalid("a person needs at least one role") }
        try checkPassword(password, username: username)
        if let institutionID, try await institution(id: institutionID) == nil { throw .notFound("institution \(institutionID)") }
        if roles.contains(.site) && institutionID == nil { throw .invalid("a site user belongs to an institution") }
        let hash = try PasswordHasher.hash(password, iterations: policy.passwordIterations)
        let rows: [[SQLValue]]
        if firstAdministrator {
            // One transaction, serialised across processes (an advisory lock on PostgreSQL; SQLite's BEGIN IMMEDIATE
            // serialises writers): the insert matches nothing once an administrator exists, so two setups racing
            // (on one process or several, each with its own setup token) create one administrator.
            guard
                let results = try await database.transaction(guarded: [
                    database.serialisingStep(lockKey: Self.firstAdministratorLock),
                    SQLStep(
                        "INSERT INTO people (username, display_name, roles, language, disabled, password_hash, created_at, demo) "
                            + "SELECT ?, ?, ?, ?, 0, ?, ?, 0 WHERE NOT EXISTS (SELECT 1 FROM people WHERE disabled = 0 "
                            + "AND demo = 0 AND (',' || roles || ',') LIKE '%,admin,%') RETURNING id",
                        [
                            .text(username), .text(displayName ?? username), .text(Self.rolesText(roles)), .text(language.rawValue),
                            .text(hash), .integer(Self.now()),
                        ], guarded: true),
                ])
            else { throw .invalid(Self.administratorExists) }
            rows = results.last ?? []
        } else {
            rows = try await database.query(
                "INSERT INTO people (username, display_name, institution_id, roles, language, disabled, password_hash, created_at, demo) "
                    + "VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?) RETURNING id",
                [
                    .text(username), .text(displayName ?? username), institutionID.map(SQLValue.integer) ?? .null,
                    .text(Self.rolesText(roles)), .text(language.rawValue), .text(hash), .integer(Self.now()), .integer(demo ? 1 : 0),
                ])
        }
        guard let id = rows.first?.first?.integer else { throw .database("no id for the new person") }
        await audit.record(
            AuditEvent(
                eventID: .securityAlert, eventType: .userSecurityAttributesChanged, action: .create, user: actor.user,
                sourceAddress: actor.sourceAddress, transport: actor.transport, participants: [.user(username)],
                detail: "\(demo ? "demo " : "")person created with roles \(Self.rolesText(roles))"))
        return Person(
            id: id, username: username, displayName: displayName ?? username, institutionID: institutionID, roles: roles,
            language: language, disabled: false, demo: demo)
    }

    /// Whether `password` is the person's current password, without signing in (a reader re-enters it to sign a report).
    /// Never counts towards the lock-out; a disabled person's password never matches.
    public func confirmPassword(personID: Int64, password: String) async throws(PlatformError) -> Bool {
        let rows = try await database.query("SELECT password_hash, disabled FROM people WHERE id = ?", [.integer(personID)])
        guard let row = rows.first, (row[1].integer ?? 0) == 0, let stored = row[0].text else { return false }
        return PasswordHasher.verify(password, against: stored)
    }

    public func people() async throws(PlatformError) -> [Person] {
        try await database.query("SELECT \(Self.listedPersonColumns) FROM people ORDER BY id", []).map {
            Self.personRow($0, withDemo: true)
        }
    }

    public func person(id: Int64) async throws(PlatformError) -> Person? {
        try await database.query("SELECT \(Self.listedPersonColumns) FROM people WHERE id = ?", [.integer(id)]).first.map {
            Self.personRow($0, withDemo: true)
        }
    }

    public func person(username: String) async throws(PlatformError) -> Person? {
        try await database.query("SELECT \(Self.listedPersonColumns) FROM people WHERE username = ?", [.text(username)]).first.map {
            Self.personRow($0, withDemo: true)
        }
    }

    /// Whether an enabled administrator exists who is not a demo account (else first start offers the setup link: a demo
    /// server still gets a real administrator of its own).
    public func hasAdministrator() async throws(PlatformError) -> Bool {
        let rows = try await database.query("SELECT roles FROM people WHERE disabled = 0 AND demo = 0", [])
        return rows.contains { ($0.first?.text ?? "").split(separator: ",").contains("admin") }
    }

    /// Whether anyone exists who is not a demo account (then `--demo` creates nothing).
    public func hasPeopleOtherThanDemo() async throws(PlatformError) -> Bool {
        !(try await database.query("SELECT id FROM people WHERE demo = 0 LIMIT 1", [])).isEmpty
    }

    private func existing(_ id: Int64) async throws(PlatformError) -> Person {
        guard let person = try await person(id: id) else { throw .notFound("person \(id)") }
        return person
    }

    /// Replaces a person's roles.
    public func setRoles(_ roles: Set<Role>, personID: Int64, actor: AuditActor) async throws(PlatformError) {
        let person = try await existing(personID)
        guard !roles.isEmpty else { throw .invalid("a person needs at least one role") }
        if roles.contains(.site) && person.institutionID == nil { throw .invalid("a site user belongs to an institution") }
        try await database.query("UPDATE people SET roles = ? WHERE id = ?", [.text(Self.rolesText(roles)), .integer(personID)])
        await audit.record(
            AuditEvent(
                eventID: .securityAlert, eventType: .securityRolesChanged, action: .update, user: actor.user,
                sourceAddress: actor.sourceAddress, transport: actor.transport, participants: [.user(person.username)],
                detail: "roles \(Self.rolesText(person.roles)) → \(Self.rolesText(roles))"))
    }

    /// Updates a person's display name, institution or language.
    public func update(
        personID: Int64, displayName: String?, institutionID: Int64??, language: InterfaceLanguage?, actor: AuditActor
    ) async throws(PlatformError) {
        let person = try await existing(personID)
        if let displayName {
            try await database.query("UPDATE people SET display_name = ? WHERE id = ?", [.text(displayName), .integer(personID)])
        }
        if let language {
            try await database.query("UPDATE people SET language = ? WHERE id = ?", [.text(language.rawValue), .integer(personID)])
        }
        if let institutionID {
            if let id = institutionID, try await institution(id: id) == nil { throw .notFound("institution \(id)") }
            try await database.query(
                "UPDATE people SET institution_id = ? WHERE id = ?", [institutionID.map(SQLValue.integer) ?? .null, .integer(personID)])
            await audit.record(
                AuditEvent(
                    eventID: .securityAlert, eventType: .userSecurityAttributesChanged, action: .update, user: actor.user,
                    sourceAddress: actor.sourceAddress, transport: actor.transport, participants: [.user(person.username)],
                    detail: "institution changed"))
        }
    }

    /// Disables or re-enables a person; disabling ends their sessions (their tokens stop working while disabled).
    public func setDisabled(_ disabled: Bool, personID: Int64, actor: AuditActor) async throws(PlatformError) {
        let person = try await existing(personID)
        try await database.query("UPDATE people SET disabled = ? WHERE id = ?", [.integer(disabled ? 1 : 0), .integer(personID)])
        if disabled { try await database.query("DELETE FROM sessions WHERE person_id = ?", [.integer(personID)]) }
        await audit.record(
            AuditEvent(
                eventID: .securityAlert, eventType: .userSecurityAttributesChanged, action: .update, user: actor.user,
                sourceAddress: actor.sourceAddress, transport: actor.transport, participants: [.user(person.username)],
                detail: disabled ? "disabled" : "enabled"))
    }

    /// An administrator sets a new password: the lock-out is cleared and every session of the person ends.
    public func resetPassword(personID: Int64, newPassword: String, actor: AuditActor) async throws(PlatformError) {
        let person = try await existing(personID)
        try await setPassword(person, newPassword)
        await audit.record(
            AuditEvent(
                eventID: .securityAlert, eventType: .userSecurityAttributesChanged, action: .update, user: actor.user,
                sourceAddress: actor.sourceAddress, transport: actor.transport, participants: [.user(person.username)],
                detail: "password reset by an administrator"))
    }

    /// A person changes their own password, giving the current one; their other sessions end.
    public func changePassword(personID: Int64, current: String, new: String, keepingSession sessionID: String?, actor: AuditActor)
        async throws(PlatformError)
    {
        let person = try await existing(personID)
        let stored = try await database.query("SELECT password_hash FROM people WHERE id = ?", [.integer(personID)]).first?.first?.text
        guard let stored, PasswordHasher.verify(current, against: stored) else {
            await audit.record(
                AuditEvent(
                    eventID: .securityAlert, eventType: .userSecurityAttributesChanged, action: .update, outcome: .minorFailure,
                    user: actor.user, sourceAddress: actor.sourceAddress, transport: actor.transport,
                    participants: [.user(person.username)], detail: "password change refused: the current password is wrong"))
            throw .invalid("the current password is wrong")
        }
        try await setPassword(person, new, keeping: sessionID)
        await audit.record(
            AuditEvent(
                eventID: .securityAlert, eventType: .userSecurityAttributesChanged, action: .update, user: actor.user,
                sourceAddress: actor.sourceAddress, transport: actor.transport, participants: [.user(person.username)],
                detail: "password changed"))
    }

    private func setPassword(_ person: Person, _ password: String, keeping sessionID: String? = nil) async throws(PlatformError) {
        try checkPassword(password, username: person.username)
        let hash = try PasswordHasher.hash(password, iterations: policy.passwordIterations)
        try await database.query(
            "UPDATE people SET password_hash = ?, failed_attempts = 0, locked_until = NULL WHERE id = ?",
            [.text(hash), .integer(person.id)])
        try await database.query(
            "DELETE FROM sessions WHERE person_id = ? AND id_hash <> ?",
            [.integer(person.id), .text(sessionID.map(Secrets.digest) ?? "")])
    }

    // MARK: - Sign-in and sessions

    /// Checks a username and password. Success opens a session; failure counts towards the lock-out (``SecurityPolicy``),
    /// and every outcome is audited (PS3.15 A.5.3.17 User Authentication; a lock-out is also a Security Alert).
    public func signIn(username: String, password: String, source: String) async throws(PlatformError) -> Result<
        SessionGrant, SignInFailure
    > {
        let person: Person
        switch try await checkCredentials(username: username, password: password, source: source, transport: "http") {
        case .failure(let failure): return .failure(failure)
        case .success(let checked): person = checked
        }
        let now = Self.now()
        let sessionID = Secrets.random()
        let csrf = Secrets.random()
        try await database.query(
            "INSERT INTO sessions (id_hash, person_id, csrf_token, created_at, last_seen_at, source) VALUES (?, ?, ?, ?, ?, ?)",
            [.text(Secrets.digest(sessionID)), .integer(person.id), .text(csrf), .integer(now), .integer(now), .text(source)])
        await audit.record(
            AuditEvent(
                eventID: .userAuthentication, eventType: .login, action: .execute, user: username, sourceAddress: source,
                participants: [.user(username)]))
        let principal = try await principal(for: person, method: .session(csrfToken: csrf))
        return .success(SessionGrant(sessionID: sessionID, csrfToken: csrf, principal: principal))
    }

    /// Checks a username and password without opening a session, for DIMSE user identity negotiation (PS3.7 D.3.3.7):
    /// the same lock-out as ``signIn(username:password:source:)``, and a User Authentication event on the outcome.
    public func authenticate(username: String, password: String, source: String, transport: String) async throws(PlatformError)
        -> Result<Principal, SignInFailure>
    {
        switch try await checkCredentials(username: username, password: password, source: source, transport: transport) {
        case .failure(let failure): return .failure(failure)
        case .success(let person):
            await audit.record(
                AuditEvent(
                    eventID: .userAuthentication, eventType: .login, action: .execute, user: username, sourceAddress: source,
                    transport: transport, participants: [.user(username)], detail: "user identity negotiation"))
            return .success(try await principal(for: person, method: .token(scopes: TokenScope.all)))
        }
    }

    /// The password check behind sign-in: counts failures towards the lock-out and audits each failure.
    private func checkCredentials(username: String, password: String, source: String, transport: String) async throws(PlatformError)
        -> Result<Person, SignInFailure>
    {
        let rows = try await database.query(
            "SELECT \(Self.personColumns), password_hash, failed_attempts, locked_until FROM people WHERE username = ?",
            [.text(username)])
        let now = Self.now()
        func fail(_ failure: SignInFailure, _ detail: String) async -> Result<Person, SignInFailure> {
            await audit.record(
                AuditEvent(
                    eventID: .userAuthentication, eventType: .login, action: .execute, outcome: .minorFailure, user: username,
                    sourceAddress: source, transport: transport, participants: [.user(username)], detail: detail))
            return .failure(failure)
        }
        guard let row = rows.first else {
            let decoyHash = try decoy.withLock { stored throws(PlatformError) in
                if let stored { return stored }
                let made = try PasswordHasher.hash(Secrets.random(), iterations: policy.passwordIterations)
                stored = made
                return made
            }
            _ = PasswordHasher.verify(password, against: decoyHash)
            return await fail(.unknownUser, "unknown user")
        }
        let person = Self.personRow(row)
        if let lockedUntil = row[9].integer, lockedUntil > now {
            return await fail(.locked(untilSeconds: lockedUntil), "account locked")
        }
        guard PasswordHasher.verify(password, against: row[7].text ?? "") else {
            let failures = (row[8].integer ?? 0) + 1
            if failures >= Int64(policy.maximumFailures) {
                let until = now + Int64(policy.lockoutSeconds)
                try await database.query(
                    "UPDATE people SET failed_attempts = 0, locked_until = ? WHERE id = ?", [.integer(until), .integer(person.id)])
                _ = await fail(.wrongPassword, "wrong password")
                await audit.record(
                    AuditEvent(
                        eventID: .securityAlert, eventType: .useOfRestrictedFunction, action: .execute, outcome: .seriousFailure,
                        user: username, sourceAddress: source, participants: [.user(username)],
                        detail: "locked for \(Int(policy.lockoutSeconds)) s after \(failures) failed sign-ins"))
                audit.logger.warning(
                    "account locked after repeated failed sign-ins", metadata: ["username": "\(username)", "source": "\(source)"])
                return .failure(.locked(untilSeconds: until))
            }
            try await database.query("UPDATE people SET failed_attempts = ? WHERE id = ?", [.integer(failures), .integer(person.id)])
            return await fail(.wrongPassword, "wrong password")
        }
        if person.disabled { return await fail(.disabled, "account disabled") }
        try await database.query("UPDATE people SET failed_attempts = 0, locked_until = NULL WHERE id = ?", [.integer(person.id)])
        return .success(person)
    }

    /// The person signed in with this session id, while the session is within its idle and absolute limits. One indexed
    /// query; the last-seen time is written at most once a minute.
    public func principal(sessionID: String) async throws(PlatformError) -> Principal? {
        let rows = try await database.query(
            "SELECT p.id, p.username, p.display_name, p.institution_id, p.roles, p.language, p.disabled, s.csrf_token, "
                + "s.created_at, s.last_seen_at, s.id, i.code FROM sessions s JOIN people p ON p.id = s.person_id "
                + "LEFT JOIN institutions i ON i.id = p.institution_id WHERE s.id_hash = ?",
            [.text(Secrets.digest(sessionID))])
        guard let row = rows.first else { return nil }
        let person = Self.personRow(row)
        let now = Self.now()
        let created = row[8].integer ?? 0
        let lastSeen = row[9].integer ?? 0
        guard !person.disabled, now - created <= Int64(policy.sessionAbsoluteSeconds), now - lastSeen <= Int64(policy.sessionIdleSeconds)
        else {
            try await database.query("DELETE FROM sessions WHERE id = ?", [.integer(row[10].integer ?? 0)])
            return nil
        }
        if now - lastSeen >= 60 {
            try await database.query("UPDATE sessions SET last_seen_at = ? WHERE id = ?", [.integer(now), .integer(row[10].integer ?? 0)])
        }
        return Principal(
            userID: person.id, username: person.username, displayName: person.displayName, roles: person.roles,
            institutionID: person.institutionID, language: person.language, method: .session(csrfToken: row[7].text ?? ""),
            institutionCode: row[11].text)
    }

    /// Ends a session (sign-out).
    public func signOut(sessionID: String, actor: AuditActor) async throws(PlatformError) {
        let rows = try await database.query(
            "DELETE FROM sessions WHERE id_hash = ? RETURNING person_id", [.text(Secrets.digest(sessionID))])
        guard !rows.isEmpty else { return }
        await audit.record(
            AuditEvent(
                eventID: .userAuthentication, eventType: .logout, action: .execute, user: actor.user, sourceAddress: actor.sourceAddress,
                transport: actor.transport, participants: [.user(actor.user)]))
    }

    /// Sets a person's interface language.
    public func setLanguage(_ language: InterfaceLanguage, personID: Int64) async throws(PlatformError) {
        try await database.query("UPDATE people SET language = ? WHERE id = ?", [.text(language.rawValue), .integer(personID)])
    }

    /// A person's e-mail address ("" when none).
    public func email(personID: Int64) async throws(PlatformError) -> String {
        let rows = try await database.query("SELECT email FROM people WHERE id = ?", [.integer(personID)])
        return rows.first?.first?.text ?? ""
    }

    /// Every person's e-mail address that is set, by person id.
    public func emails() async throws(PlatformError) -> [Int64: String] {
        var out: [Int64: String] = [:]
        for row in try await database.query("SELECT id, email FROM people WHERE email <> ''", []) {
            if let id = row[0].integer, let email = row[1].text { out[id] = email }
        }
        return out
    }

    /// Whether `email` is an address the notifications may be sent to: `local@domain`, at most 254 characters, no spaces,
    /// control characters, angle brackets or commas (so that it can never add a header or a second recipient).
    public static func isValidEmail(_ email: String) -> Bool {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."),
            !parts[1].hasSuffix(".")
        else { return false }
        return email.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F && !"<>,;\"\\()[]".unicodeScalars.contains($0) }
    }

    /// Sets (or clears, with "") a person's e-mail address; audited.
    public func setEmail(_ email: String, personID: Int64, actor: AuditActor) async throws(PlatformError) {
        let person = try await existing(personID)
        let email = email.trimmingCharacters(in: .whitespaces)
        guard email.isEmpty || Self.isValidEmail(email) else { throw .invalid("\(email) is not an e-mail address") }
        try await database.query("UPDATE people SET email = ? WHERE id = ?", [.text(email), .integer(personID)])
        await audit.record(
            AuditEvent(
                eventID: .securityAlert, eventType: .userSecurityAttributesChanged, action: .update, user: actor.user,
                sourceAddress: actor.sourceAddress, transport: actor.transport, participants: [.user(person.username)],
                detail: email.isEmpty ? "e-mail address removed" : "e-mail address changed"))
    }

    func principal(for person: Person, method: Principal.Method) async throws(PlatformError) -> Principal {
        let code: String?
        if let id = person.institutionID { code = try await institution(id: id)?.code } else { code = nil }
        return Principal(
            userID: person.id, username: person.username, displayName: person.displayName, roles: person.roles,
            institutionID: person.institutionID, language: person.language, method: method, institutionCode: code)
    }

    // MARK: - API tokens

    /// Creates a token for a person; the secret (`atr_…`) is returned once and only its SHA-256 is kept.
    public func createToken(
        personID: Int64, name: String = "", scopes: Set<String> = TokenScope.all, expiresInSeconds: Double? = nil, actor: AuditActor
    ) async throws(PlatformError) -> (token: APIToken, secret: String) {
        let person = try await existing(personID)
        guard !scopes.isEmpty else { throw .invalid("a token needs at least one scope") }
        for scope in scopes where !TokenScope.all.contains(scope) {
            throw .invalid("unknown scope \(scope) (one of \(TokenScope.all.sorted().joined(separator: ", ")))")
        }
        if let expiresInSeconds, expiresInSeconds <= 0 { throw .invalid("a token expires after a positive duration") }
        let secret = Secrets.random(prefix: "atr_")
        let now = Self.now()
        let expires = expiresInSeconds.map { now + Int64($0) }
        let rows = try await database.query(
            "INSERT INTO api_tokens (token_hash, person_id, name, scopes, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            [
                .text(Secrets.digest(secret)), .integer(personID), .text(name), .text(scopes.sorted().joined(separator: " ")),
                .integer(now), expires.map(SQLValue.integer) ?? .null,
            ])
        guard let id = rows.first?.first?.integer else { throw .database("no id for the new token") }
        await audit.record(
            AuditEvent(
                eventID: .securityAlert, eventType: .userSecurityAttributesChanged, action: .create, user: actor.user,
                sourceAddress: actor.sourceAddress, transport: actor.transport, participants: [.user(person.username)],
                detail: "API token \(id) created with scopes \(scopes.sorted().joined(separator: " "))"))
        let token = APIToken(
            id: id, userID: personID, name: name, scopes: scopes, createdAt: Date(timeIntervalSince1970: Double(now)),
            expiresAt: expires.map { Date(timeIntervalSince1970: Double($0)) }, revokedAt: nil, lastUsedAt: nil)
        return (token, secret)
    }

    /// Tokens, of one person or of everyone.
    public func tokens(personID: Int64? = nil) async throws(PlatformError) -> [APIToken] {
        let columns = "id, person_id, name, scopes, created_at, expires_at, revoked_at, last_used_at"
        let rows: [[SQLValue]]
        if let personID {
            rows = try await database.query("SELECT \(columns) FROM api_tokens WHERE person_id = ? ORDER BY id", [.integer(personID)])
        } else {
            rows = try await database.query("SELECT \(columns) FROM api_tokens ORDER BY id", [])
        }
        func date(_ value: SQLValue) -> Date? { value.integer.map { Date(timeIntervalSince1970: Double($0)) } }
        return rows.map { row in
            APIToken(
                id: row[0].integer ?? 0, userID: row[1].integer ?? 0, name: row[2].text ?? "",
                scopes: Set((row[3].text ?? "").split(separator: " ").map(String.init)), createdAt: date(row[4]) ?? Date(),
                expiresAt: date(row[5]), revokedAt: date(row[6]), lastUsedAt: date(row[7]))
        }
    }

    /// Revokes a token at once.
    public func revokeToken(id: Int64, actor: AuditActor) async throws(PlatformError) {
        let rows = try await database.query(
            "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING person_id",
            [.integer(Self.now()), .integer(id)])
        guard let personID = rows.first?.first?.integer else { throw .notFound("active token \(id)") }
        let username = try await person(id: personID)?.username ?? ""
        await audit.record(
            AuditEvent(
                eventID: .securityAlert, eventType: .userSecurityAttributesChanged, action: .delete, user: actor.user,
                sourceAddress: actor.sourceAddress, transport: actor.transport, participants: [.user(username)],
                detail: "API token \(id) revoked"))
    }

    /// The owner of a bearer token, if the token is known, unexpired, unrevoked and its owner enabled. One indexed query;
    /// the last-used time is written at most once a minute.
    public func principal(bearerToken secret: String) async throws(PlatformError) -> Principal? {
        let rows = try await database.query(
            "SELECT p.id, p.username, p.display_name, p.institution_id, p.roles, p.language, p.disabled, t.scopes, t.expires_at, "
                + "t.revoked_at, t.last_used_at, t.id, i.code FROM api_tokens t JOIN people p ON p.id = t.person_id "
                + "LEFT JOIN institutions i ON i.id = p.institution_id WHERE t.token_hash = ?",
            [.text(Secrets.digest(secret))])
        guard let row = rows.first else { return nil }
        let person = Self.personRow(row)
        let now = Self.now()
        guard !person.disabled, row[9].integer == nil, (row[8].integer ?? Int64.max) > now else { return nil }
        if now - (row[10].integer ?? 0) >= 60 {
            try await database.query(
                "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", [.integer(now), .integer(row[11].integer ?? 0)])
        }
        return Principal(
            userID: person.id, username: person.username, displayName: person.displayName, roles: person.roles,
            institutionID: person.institutionID, language: person.language,
            method: .token(scopes: Set((row[7].text ?? "").split(separator: " ").map(String.init))), institutionCode: row[12].text)
    }

    // MARK: - DICOM peers

    /// Maps a calling AE title to an institution (what it stores belongs there; what it queries is limited to it).
    public func setPeerInstitution(aeTitle: String, institutionID: Int64?, actor: AuditActor) async throws(PlatformError) {
        try await database.query("DELETE FROM peer_institutions WHERE ae_title = ?", [.text(aeTitle)])
        if let institutionID {
            guard try await institution(id: institutionID) != nil else { throw .notFound("institution \(institutionID)") }
            try await database.query(
                "INSERT INTO peer_institutions (ae_title, institution_id) VALUES (?, ?)", [.text(aeTitle), .integer(institutionID)])
        }
        await audit.record(
            AuditEvent(
                eventID: .securityAlert, eventType: .securityConfiguration, action: .update, user: actor.user,
                sourceAddress: actor.sourceAddress, transport: actor.transport,
                detail: "peer \(aeTitle) mapped to institution \(institutionID.map(String.init) ?? "none")"))
    }

    /// The AE titles mapped in the database, with their institution codes.
    public func peerInstitutions() async throws(PlatformError) -> [String: String] {
        let rows = try await database.query(
            "SELECT m.ae_title, i.code FROM peer_institutions m JOIN institutions i ON i.id = m.institution_id", [])
        var map: [String: String] = [:]
        for row in rows { map[row[0].text ?? ""] = row[1].text ?? "" }
        return map
    }
}
