import Archive
import Foundation
import Logging
import Platform
import Synchronization

/// The demonstration institutions of `atrium serve --demo`: the college, its affiliated hospital and two grassroots
/// hospitals. Their codes are fixed: the demo people, studies and later workflows' demo data refer to them.
public enum DemoInstitutions {
    public struct Entry: Sendable, Equatable {
        public let code: String
        public let name: String
        public let kind: InstitutionKind
    }

    public static let college = Entry(code: "MEDCOLLEGE", name: "滨江医学院 Binjiang Medical College", kind: .college)
    public static let affiliated = Entry(
        code: "AFFILIATED", name: "滨江医学院附属医院 Binjiang Medical College Affiliated Hospital", kind: .affiliatedHospital)
    public static let countyA = Entry(code: "COUNTY-A", name: "青山县人民医院 Qingshan County People's Hospital", kind: .grassrootsHospital)
    public static let countyB = Entry(code: "COUNTY-B", name: "石桥县人民医院 Shiqiao County People's Hospital", kind: .grassrootsHospital)

    /// Every demo institution, in the order they are created.
    public static let all = [college, affiliated, countyA, countyB]
}

/// The demonstration people of `atrium serve --demo`: one for each role (two site users and two readers, so that
/// institution scopes and second opinions can be seen). Their passwords are generated when they are created and shown
/// once, in the start banner.
public enum DemoPeople {
    public struct Entry: Sendable, Equatable {
        public let username: String
        public let displayName: String
        public let role: Role
        /// The code of their institution (``DemoInstitutions``).
        public let institution: String
    }

    public static let admin = Entry(username: "demo-admin", displayName: "周静 Zhou Jing", role: .admin, institution: "MEDCOLLEGE")
    public static let site = Entry(username: "demo-site", displayName: "刘洋 Liu Yang", role: .site, institution: "COUNTY-A")
    public static let siteB = Entry(username: "demo-site-b", displayName: "陈磊 Chen Lei", role: .site, institution: "COUNTY-B")
    public static let reader = Entry(username: "demo-reader", displayName: "李华 Li Hua", role: .reader, institution: "MEDCOLLEGE")
    public static let reader2 = Entry(username: "demo-reader2", displayName: "赵敏 Zhao Min", role: .reader, institution: "AFFILIATED")
    public static let curator = Entry(username: "demo-curator", displayName: "孙丽 Sun Li", role: .curator, institution: "MEDCOLLEGE")
    public static let student = Entry(username: "demo-student", displayName: "吴昊 Wu Hao", role: .student, institution: "MEDCOLLEGE")
    public static let supervisor = Entry(
        username: "demo-supervisor", displayName: "郑强 Zheng Qiang", role: .supervisor, institution: "AFFILIATED")

    /// The health-service centre's health manager (the college runs the centre) and a community doctor of the county
    /// hospital that serves the demo residents.
    public static let healthManager = Entry(
        username: "demo-health", displayName: "钱芳 Qian Fang", role: .healthManager, institution: "MEDCOLLEGE")
    public static let doctor = Entry(username: "demo-doctor", displayName: "许文 Xu Wen", role: .site, institution: "COUNTY-A")

    /// Every demo person, in the order they are created and listed in the banner.
    public static let all = [admin, site, siteB, reader, reader2, curator, student, supervisor, healthManager, doctor]

    /// The demo person with this username (`demo-reader`…) in `identity`, or nil when there is none (no `--demo`, or
    /// removed). Later workflows' demo steps use it to act as a demo person.
    public static func find(_ username: String, in identity: IdentityStore) async throws -> Person? {
        guard let person = try await identity.person(username: username), person.demo else { return nil }
        return person
    }
}

/// A demo account created at this start, with its password (shown once, in the start banner).
public struct DemoAccount: Sendable, Equatable {
    public let username: String
    public let role: Role
    public let institution: String
    public let password: String
}

/// What one demo step works with.
public struct DemoContext: Sendable {
    /// The server's settings (data directory, database), for a step that opens a store of its own domain.
    public let configuration: ServerConfiguration
    public let archive: Archive
    public let identity: IdentityStore
    public let logger: Logger
    /// Who the audit trail names for what the demo steps do.
    public let actor = AuditActor(user: "demo", sourceAddress: "localhost", transport: "demo")
    let created: CreatedAccounts

    /// The accounts the people step made at this start.
    final class CreatedAccounts: Sendable {
        let list = Mutex<[DemoAccount]>([])
    }

    /// The demo person with this username; an error when the people step has not made them.
    public func person(_ username: String) async throws -> Person {
        guard let person = try await DemoPeople.find(username, in: identity) else { throw DemoError.missing("person \(username)") }
        return person
    }

    /// The demo institution with this code; an error when the institutions step has not made it.
    public func institution(_ code: String) async throws -> Institution {
        guard let institution = try await identity.institution(code: code) else { throw DemoError.missing("institution \(code)") }
        return institution
    }
}

/// A step of the demonstration data. Steps run in the order of ``DemoSeed/steps``, each once per data folder (recorded
/// in the database), and only on a folder where nobody but demo people exists; a step should create only what is
/// missing, since a start may stop half-way through it.
public struct DemoStep: Sendable {
    /// Unique, stable: the record that the step has run.
    public let name: String
    public let run: @Sendable (DemoContext) async throws -> Void

    public init(name: String, run: @escaping @Sendable (DemoContext) async throws -> Void) {
        self.name = name
        self.run = run
    }
}

/// Why demo data could not be made.
public enum DemoError: Error, CustomStringConvertible {
    case missing(String)

    public var description: String {
        switch self {
        case .missing(let what): "the demo \(what) does not exist (is the step that makes it listed before this one?)"
        }
    }
}

/// What `--demo` did at this start.
public enum DemoOutcome: Sendable, Equatable {
    /// Nothing: the data folder has people of its own.
    case skipped
    /// The steps that were missing ran; `created` holds the accounts made now (with their passwords), `existing` the
    /// usernames of demo accounts made at an earlier start.
    case seeded(created: [DemoAccount], existing: [String], steps: [String])
}

/// `atrium serve --demo`: institutions, one person per role, studies, and whatever each workflow adds.
public enum DemoSeed {
    /// The demo steps, in order. A workflow adds its own demo data by appending a step here (after `people`, so that it
    /// can act as ``DemoPeople``): `DemoStep(name: "consultations") { context in … }`.
    public static let steps: [DemoStep] = [
        institutions, people, studies, ReadingDemo.step, LibraryDemo.step, ProgrammeDemo.step, TrainingDemo.step, SupervisionDemo.step,
        LaboratoryDemo.step,
        HealthDemo.step, HealthTeachingDemo.step, CoursewareDemo.step,
    ]

    /// The college, the affiliated hospital and the two grassroots hospitals.
    static let institutions = DemoStep(name: "institutions") { context in
        for entry in DemoInstitutions.all {
            if try await context.identity.institution(code: entry.code) != nil { continue }
            try await context.identity.createInstitution(
                code: entry.code, name: entry.name, kind: entry.kind, demo: true, actor: context.actor)
        }
    }

    /// One person per role, each with a generated password.
    static let people = DemoStep(name: "people") { context in
        for entry in DemoPeople.all {
            if try await context.identity.person(username: entry.username) != nil { continue }
            let institution = try await context.institution(entry.institution)
            let password = generatePassword()
            try await context.identity.createPerson(
                username: entry.username, displayName: entry.displayName, password: password, roles: [entry.role],
                institutionID: institution.id, demo: true, actor: context.actor)
            context.created.list.withLock {
                $0.append(DemoAccount(username: entry.username, role: entry.role, institution: entry.institution, password: password))
            }
        }
    }

    /// The generated studies (``DemoData``), when the archive is empty.
    static let studies = DemoStep(name: "studies") { context in
        guard try await context.archive.index.counts().instances == 0 else { return }
        let stored = try await DemoData.load(into: context.archive)
        context.logger.info("demo studies loaded", metadata: ["instances": "\(stored)"])
    }

    /// Runs the steps this data folder has not had, unless it has people other than demo ones.
    public static func run(
        steps: [DemoStep] = DemoSeed.steps, configuration: ServerConfiguration, archive: Archive, identity: IdentityStore,
        logger: Logger
    ) async throws -> DemoOutcome {
        if try await identity.hasPeopleOtherThanDemo() {
            logger.notice("--demo: this data folder has people of its own, so no demo data is added")
            return .skipped
        }
        let context = DemoContext(
            configuration: configuration, archive: archive, identity: identity, logger: logger, created: DemoContext.CreatedAccounts())
        var ran: [String] = []
        for step in steps {
            if try await identity.demoStepApplied(step.name) { continue }
            try await step.run(context)
            try await identity.recordDemoStep(step.name)
            ran.append(step.name)
        }
        let created = context.created.list.withLock { $0 }
        let existing = try await identity.people().filter { person in person.demo && !created.contains { $0.username == person.username } }
            .map(\.username)
        if !ran.isEmpty { logger.info("demo steps run", metadata: ["steps": "\(ran.joined(separator: ","))"]) }
        return .seeded(created: created, existing: existing, steps: ran)
    }

    /// A password to type from a banner: three groups of four letters and digits without look-alikes (about 60 bits).
    static func generatePassword() -> String {
        let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<12).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
        return stride(from: 0, to: 12, by: 4).map { String(characters[$0..<$0 + 4]) }.joined(separator: "-")
    }
}

/// What the first start made that people need to see: the demo outcome, for the start banner and the sign-in page.
public final class FirstRunState: Sendable {
    private let demoOutcome = Mutex<DemoOutcome?>(nil)

    public init() {}

    /// What `--demo` did at this start; nil without `--demo`.
    public var demo: DemoOutcome? { demoOutcome.withLock { $0 } }

    func record(_ outcome: DemoOutcome) { demoOutcome.withLock { $0 = outcome } }
}
