import Archive
import AtriumTesting
import Foundation
import Platform
import Testing

@testable import Reading

@Suite("Consultation store")
struct ReadingStoreTests {
    static func identityPolicy() -> SecurityPolicy {
        var policy = SecurityPolicy()
        policy.passwordIterations = 1000
        return policy
    }

    @Test("The SQLite store passes the shared consultation suite, in the archive's own database file")
    func sqlite() async throws {
        let directory = try Corpus.temporaryDirectory("atrium-reading")
        let archive = try Archive.open(directory: directory)
        let identity = try IdentityStore.make(archive: archive, directory: directory, policy: Self.identityPolicy())
        let clock = TestClock()
        let store = ReadingStore.make(identity: identity, settings: ReadingStoreSuite.settings(), clock: { clock.now })
        try await ReadingStoreSuite.run(store, clock: clock)
        let tables = try Subprocess.run(
            "python3",
            [
                "-c",
                "import sqlite3, sys; print('\\n'.join(r[0] for r in sqlite3.connect(sys.argv[1]).execute(\"SELECT name FROM sqlite_master WHERE type = 'table'\")))",
                directory + "/atrium.sqlite",
            ]
        ).output
        for table in [
            "consultation_requests", "work_items", "reports", "report_versions", "reading_schema_version", "people", "ups_attributes",
            "ups_subscriptions",
        ] {
            #expect(tables.split(separator: "\n").contains(Substring(table)), "\(table) in \(tables)")
        }
    }

    @Test("The PostgreSQL store passes the shared consultation suite, in the archive's own database")
    func postgres() async throws {
        let server = try await PostgresServer.start()
        defer { server.stop() }
        let url = try await server.createDatabase("atrium_reading")
        let directory = try Corpus.temporaryDirectory("atrium-reading-pg")
        let archive = try Archive.open(directory: directory, database: url)
        let identity = try IdentityStore.make(archive: archive, directory: directory, policy: Self.identityPolicy())
        try await identity.prepare()
        let clock = TestClock()
        let store = ReadingStore.make(identity: identity, settings: ReadingStoreSuite.settings(), clock: { clock.now })
        try await ReadingStoreSuite.run(store, clock: clock)
        let version = try await Subprocess.runDetached(
            "psql",
            [
                "-h", "127.0.0.1", "-p", "\(server.port)", "-U", "postgres", "-d", "atrium_reading", "-tAc",
                "SELECT version FROM reading_schema_version",
            ]
        ).output
        #expect(version.trimmingCharacters(in: .whitespacesAndNewlines) == "5")
    }
}
