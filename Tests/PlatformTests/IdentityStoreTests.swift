import Archive
import AtriumTesting
import Foundation
import Testing

@testable import Platform

#if canImport(FoundationXML)
    import FoundationXML
#endif
#if canImport(Glibc)
    import Glibc
#endif

@Suite("Identity store and audit trail")
struct IdentityStoreTests {
    @Test("The SQLite store passes the shared identity suite, in the archive's own database file")
    func sqlite() async throws {
        let directory = try Corpus.temporaryDirectory("atrium-identity")
        let archive = try Archive.open(directory: directory)
        let store = try IdentityStore.make(archive: archive, directory: directory, policy: IdentitySuite.policy)
        try await IdentitySuite.run(store)
        // The platform's tables sit beside the index's in one file, with a version of their own.
        let tables = try Subprocess.run("python3", ["-c", listTables, directory + "/atrium.sqlite"]).output
        for table in ["studies", "instances", "people", "sessions", "api_tokens", "audit_events", "platform_schema_version"] {
            #expect(tables.split(separator: "\n").contains(Substring(table)), "\(table) in \(tables)")
        }
    }

    @Test("The PostgreSQL store passes the shared identity suite, in the archive's own database")
    func postgres() async throws {
        let server = try await PostgresServer.start()
        defer { server.stop() }
        let url = try await server.createDatabase("atrium_identity")
        let directory = try Corpus.temporaryDirectory("atrium-identity-pg")
        let archive = try Archive.open(directory: directory, database: url)
        let store = try IdentityStore.make(archive: archive, directory: directory, policy: IdentitySuite.policy)
        try await store.prepare()
        try await IdentitySuite.run(store)
        let tables = try await Subprocess.runDetached(
            "psql",
            [
                "-h", "127.0.0.1", "-p", "\(server.port)", "-U", "postgres", "-d", "atrium_identity", "-tAc",
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
            ]
        ).output
        for table in ["studies", "people", "audit_events", "platform_schema_version"] {
            #expect(tables.split(separator: "\n").contains(Substring(table)), "\(table) in \(tables)")
        }
    }

    @Test("Password hashes are PBKDF2-HMAC-SHA256 as Python's hashlib computes them, at the default cost")
    func passwordHashMatchesHashlib() throws {
        let iterations = SecurityPolicy().passwordIterations
        #expect(iterations >= 600_000)
        let password = "pässwörd 密码 1"
        let stored = try PasswordHasher.hash(password, iterations: iterations)
        let parts = stored.split(separator: "$").map(String.init)
        #expect(parts.count == 4 && parts[0] == "pbkdf2-sha256" && parts[1] == "\(iterations)")
        let script = """
            import base64, hashlib, sys
            salt = base64.b64decode(sys.argv[2])
            print(base64.b64encode(hashlib.pbkdf2_hmac('sha256', sys.argv[1].encode(), salt, int(sys.argv[3]), 32)).decode())
            """
        let expected = try Subprocess.run("python3", ["-c", script, password, parts[2], parts[1]]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(parts[3] == expected)
        #expect(PasswordHasher.verify(password, against: stored))
        #expect(!PasswordHasher.verify(password + " ", against: stored))
        #expect(!PasswordHasher.verify(password, against: "pbkdf2-sha256$x$y$z"))
    }

    @Test("Audit events go to a syslog collector as RFC 5424 messages carrying a DICOM audit message")
    func syslogForwarding() async throws {
        let collector = try UDPCollector()
        defer { collector.close() }
        let forwarder = try SyslogForwarder(url: "udp://127.0.0.1:\(collector.port)")
        let study = "1.2.840.113619.2.55.3.\(Int.random(in: 1...999_999))"
        let event = AuditEvent(
            eventID: .studyDeleted, action: .delete, outcome: .success, user: "admin & co", sourceAddress: "192.0.2.4",
            participants: [.study(study)], detail: "deleted <1> study")
        forwarder.send(event)
        let datagram = try await Subprocess.onThread { try collector.receive(seconds: 10) }
        let text = try #require(String(data: datagram, encoding: .utf8))
        // RFC 5424 6: <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA SP MSG
        let fields = text.split(separator: " ", maxSplits: 7, omittingEmptySubsequences: false).map(String.init)
        #expect(fields.count == 8)
        #expect(fields[0] == "<\(13 * 8 + 5)>1", "facility 13 (log audit), severity 5 (notice), version 1")
        #expect(ISO8601DateFormatter.withFractions.date(from: fields[1]) != nil, "timestamp \(fields[1])")
        #expect(fields[3] == "atrium" && Int(fields[4]) != nil && fields[5] == "DICOM+RFC3881" && fields[6] == "-")
        #expect(fields[7].hasPrefix("\u{FEFF}<?xml"), "MSG is UTF-8 with a BOM (RFC 5424 6.4)")
        // The XML parses, and carries the event's fields (PS3.15 A.5.1).
        let xml = Data(String(fields[7].dropFirst()).utf8)
        let collected = XMLAttributes()
        let parser = XMLParser(data: xml)
        parser.delegate = collected
        #expect(parser.parse(), "well-formed XML: \(parser.parserError.map { "\($0)" } ?? "")")
        #expect(collected.attributes["EventIdentification"]?["EventActionCode"] == "D")
        #expect(collected.attributes["EventID"]?["csd-code"] == "110105")
        #expect(collected.attributes["ActiveParticipant"]?["UserID"] == "admin & co")
        #expect(collected.attributes["ActiveParticipant"]?["NetworkAccessPointID"] == "192.0.2.4")
        #expect(collected.attributes["ParticipantObjectIdentification"]?["ParticipantObjectID"] == study)
        #expect(collected.attributes["ParticipantObjectIDTypeCode"]?["csd-code"] == "110180")
    }
}

private let listTables = """
    import sqlite3, sys
    for (name,) in sqlite3.connect(sys.argv[1]).execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1"):
        print(name)
    """

extension ISO8601DateFormatter {
    fileprivate static var withFractions: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}

/// The attributes of the first element of each name.
private final class XMLAttributes: NSObject, XMLParserDelegate {
    var attributes: [String: [String: String]] = [:]

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes attributeDict: [String: String]
    ) {
        if attributes[elementName] == nil { attributes[elementName] = attributeDict }
    }
}

/// A UDP socket bound to a free loopback port, standing in for a syslog collector.
private final class UDPCollector: @unchecked Sendable {
    let socket: Int32
    let port: Int

    init() throws {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw PeerError("cannot open a UDP socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw PeerError("cannot bind a UDP socket on loopback") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        socket = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Waits (blocking, on a thread of its own) for one datagram.
    func receive(seconds: Int) throws -> Data {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = recv(socket, &buffer, buffer.count, 0)
        guard count > 0 else { throw PeerError("no syslog datagram arrived within \(seconds) s") }
        return Data(buffer[0..<count])
    }

    func close() { Glibc.close(socket) }
}
