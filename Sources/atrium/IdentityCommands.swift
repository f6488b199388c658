import ArgumentParser
import Foundation
import Platform
import Server

/// Where the identity commands find the database: the same `--data` / `--database` (or ATRIUM_DATA / ATRIUM_DATABASE,
/// or `--config`) as `atrium serve`.
struct StoreOptions: ParsableArguments {
    @Option(help: "A JSON configuration file (as for serve).") var config: String?
    @Option(help: "Data directory (atrium.sqlite and blobs/). Default ATRIUM_DATA or ./atrium-data.") var data: String?
    @Option(help: "Index in PostgreSQL: postgres://user:password@host:port/database. Default ATRIUM_DATABASE or SQLite.")
    var database: String?

    /// Opens the server's stores without listening.
    func open() async throws -> AtriumServer {
        var configuration = ServerConfiguration()
        if let config { try configuration.apply(file: config) }
        try configuration.apply(environment: ProcessInfo.processInfo.environment)
        if let data { configuration.dataDirectory = data }
        if let database { configuration.database = database }
        let server = try AtriumServer(configuration: configuration)
        try await server.identity.prepare()
        return server
    }
}

/// `atrium user …`: people who sign in.
struct User: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage people: atrium user add NAME --role ROLE --password-file F.", subcommands: [UserAdd.self, UserList.self])
}

struct UserAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Create a person who can sign in.",
        discussion: """
            Roles: \(Role.allCases.map(\.rawValue).joined(separator: ", ")); repeat --role for several. A site user needs
            --institution (its id or code, see atrium institution add). The password is read from --password-file (first
            line; use /dev/stdin to pipe it) and is at least 10 characters. Exit status 1 with a message on any error.
            """)

    @Argument(help: "The username.") var name: String
    @Option(name: .customLong("role"), help: "A role (repeatable).") var roles: [String] = []
    @Option(help: "The institution, by id or code.") var institution: String?
    @Option(help: "A file whose first line is the password.") var passwordFile: String
    @Option(help: "The name shown in the interface. Default the username.") var displayName: String?
    @Option(help: "Interface language: zh-CN or en. Default zh-CN.") var language: String = "zh-CN"
    @OptionGroup var store: StoreOptions

    func run() async throws {
        var parsed: Set<Role> = []
        for name in roles {
            guard let role = Role(rawValue: name) else {
                throw ValidationError("unknown role \(name) (one of \(Role.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            parsed.insert(role)
        }
        guard !parsed.isEmpty else { throw ValidationError("give at least one --role") }
        guard let language = InterfaceLanguage(rawValue: language) else { throw ValidationError("--language is zh-CN or en") }
        let password: String
        do {
            let text = try String(contentsOfFile: passwordFile, encoding: .utf8)
            password = String(text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                .trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
        } catch {
            throw ValidationError("cannot read the password file \(passwordFile): \(error.localizedDescription)")
        }
        let server = try await store.open()
        let identity = server.identity
        var institutionID: Int64?
        if let institution {
            if let id = Int64(institution), try await identity.institution(id: id) != nil {
                institutionID = id
            } else if let found = try await identity.institution(code: institution) {
                institutionID = found.id
            } else {
                throw ValidationError("no institution \(institution); create it with atrium institution add")
            }
        }
        let person = try await identity.createPerson(
            username: name, displayName: displayName, password: password, roles: parsed, institutionID: institutionID,
            language: language, actor: .commandLine)
        await identity.audit.flush()
        print("created \(person.username) (id \(person.id)) with roles \(person.roles.map(\.rawValue).sorted().joined(separator: ", "))")
    }
}

struct UserList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List people: id, username, roles, institution.")
    @OptionGroup var store: StoreOptions

    func run() async throws {
        let server = try await store.open()
        for person in try await server.identity.people() {
            let roles = person.roles.map(\.rawValue).sorted().joined(separator: ",")
            print(
                "\(person.id)\t\(person.username)\t\(roles)\t\(person.institutionID.map(String.init) ?? "-")\(person.disabled ? "\tdisabled" : "")"
            )
        }
    }
}

/// `atrium institution …`: the alliance's institutions.
struct InstitutionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "institution", abstract: "Manage institutions.", subcommands: [InstitutionAdd.self, InstitutionList.self])
}

struct InstitutionAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Create an institution; prints its id.",
        discussion: """
            CODE is the short name DICOM peers are mapped to (peers[].institution in the configuration) and studies record.
            Kinds: \(InstitutionKind.allCases.map(\.rawValue).joined(separator: ", ")).
            """)
    @Argument(help: "The institution's code.") var code: String
    @Option(help: "Its full name. Default the code.") var name: String?
    @Option(help: "Its kind.") var kind: String = InstitutionKind.grassrootsHospital.rawValue
    @OptionGroup var store: StoreOptions

    func run() async throws {
        guard let kind = InstitutionKind(rawValue: kind) else {
            throw ValidationError("--kind is one of \(InstitutionKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let server = try await store.open()
        let institution = try await server.identity.createInstitution(code: code, name: name ?? code, kind: kind, actor: .commandLine)
        await server.identity.audit.flush()
        print("created institution \(institution.code) (id \(institution.id))")
        print(institution.id)
    }
}

struct InstitutionList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List institutions: id, code, kind, name.")
    @OptionGroup var store: StoreOptions

    func run() async throws {
        let server = try await store.open()
        for i in try await server.identity.institutions() { print("\(i.id)\t\(i.code)\t\(i.kind.rawValue)\t\(i.name)") }
    }
}

/// `atrium token …`: API tokens for DICOMweb and JSON-API clients.
struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage API tokens.", subcommands: [TokenCreate.self, TokenRevoke.self])
}

struct TokenCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create an API token for a person; the token is printed on the last line, once.",
        discussion: """
            Clients send it as Authorization: Bearer TOKEN (never in a URL). Scopes: \(TokenScope.all.sorted().joined(separator: ", "));
            all of them unless --scope is given. Only the token's SHA-256 is stored: a lost token is revoked and replaced.
            """)
    @Option(help: "The person's username.") var user: String
    @Option(help: "Lifetime: 30d, 12h, 45m, 2w. Default: no expiry.") var expires: String?
    @Option(name: .customLong("scope"), help: "A scope (repeatable).") var scopes: [String] = []
    @Option(help: "A label for the token.") var name: String = ""
    @OptionGroup var store: StoreOptions

    func run() async throws {
        var seconds: Double?
        if let expires {
            guard let value = DurationText.seconds(expires) else { throw ValidationError("--expires is a duration such as 30d, 12h, 45m") }
            seconds = value
        }
        let server = try await store.open()
        guard let person = try await server.identity.person(username: user) else { throw ValidationError("no user \(user)") }
        let created = try await server.identity.createToken(
            personID: person.id, name: name, scopes: scopes.isEmpty ? TokenScope.all : Set(scopes), expiresInSeconds: seconds,
            actor: .commandLine)
        await server.identity.audit.flush()
        let expiry = created.token.expiresAt.map { "expires \(ISO8601DateFormatter().string(from: $0))" } ?? "does not expire"
        print(
            "token \(created.token.id) for \(person.username), scopes \(created.token.scopes.sorted().joined(separator: " ")), \(expiry):")
        print(created.secret)
    }
}

struct TokenRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke an API token by its id.")
    @Argument(help: "The token's id.") var id: Int64
    @OptionGroup var store: StoreOptions

    func run() async throws {
        let server = try await store.open()
        try await server.identity.revokeToken(id: id, actor: .commandLine)
        await server.identity.audit.flush()
        print("revoked token \(id)")
    }
}
