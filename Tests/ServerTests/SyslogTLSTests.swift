import AtriumTesting
import Foundation
import Logging
import Platform
import Server
import Testing

/// Audit forwarding to a syslog collector over TLS (RFC 5425), against a collector written with Python's ssl module that
/// reads the octet-counted frames and parses each message's XML with ElementTree.
@Suite("Audit events to syslog over TLS", .serialized)
struct SyslogTLSTests {
    struct Certificates {
        let directory: String
        var serverCertificate: String { directory + "/server.pem" }
        var serverKey: String { directory + "/server-key.pem" }
        var clientCertificate: String { directory + "/client.pem" }
        var clientKey: String { directory + "/client-key.pem" }
        var strangerCertificate: String { directory + "/stranger.pem" }
    }

    /// Self-signed certificates made by openssl: the collector's (for 127.0.0.1), a sender's, and one that signs nothing.
    static func certificates() throws -> Certificates {
        let directory = try Corpus.temporaryDirectory("atrium-syslog-tls")
        for (name, subject, san) in [
            ("server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1"), ("client", "/CN=atrium-sender", "subjectAltName=DNS:atrium-sender"),
            ("stranger", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1"),
        ] {
            let made = try Subprocess.run(
                "/usr/bin/openssl",
                [
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(directory)/\(name)-key.pem", "-out",
                    "\(directory)/\(name).pem",
                    "-days", "1", "-subj", subject, "-addext", san,
                ])
            try #require(made.status == 0, "openssl (apt install openssl): \(made.errorOutput)")
        }
        return Certificates(directory: directory)
    }

    static func startCollector(port: Int, _ certificates: Certificates, output: String, clientCA: String? = nil) async throws -> PeerProcess
    {
        var arguments = [
            Corpus.script("ServerTests", "syslog_tls_collector.py"), "\(port)", certificates.serverCertificate, certificates.serverKey,
            output,
        ]
        if let clientCA { arguments.append(clientCA) }
        let collector = try PeerProcess("python3", arguments)
        try await LoopbackPort.waitForListener(port, seconds: 20)
        return collector
    }

    /// The collector's records, one JSON object a line, without the readiness probe's connection (closed before any
    /// TLS byte: an unexpected end of file in the handshake).
    static func records(_ path: String) -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(whereSeparator: \.isNewline).compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }.filter { ($0["handshake_error"] as? String)?.contains("UNEXPECTED_EOF") != true }
    }

    static func waitForRecords(_ path: String, seconds: Double, until done: ([[String: Any]]) -> Bool) async throws -> [[String: Any]] {
        let deadline = Date().addingTimeInterval(seconds)
        var found = records(path)
        while !done(found) && Date() < deadline {
            try await Task.sleep(for: .milliseconds(100))
            found = records(path)
        }
        return found
    }

    static func event(_ detail: String, outcome: AuditOutcome = .success) -> AuditEvent {
        AuditEvent(
            eventID: .instancesAccessed, action: .read, outcome: outcome, user: "reader 李", sourceAddress: "127.0.0.1",
            participants: [.study("1.2.826.0.1.3680043.8.498.\(Int.random(in: 1...999_999))")], detail: detail)
    }

    @Test("Each event arrives once per send as an octet-counted RFC 5424 frame with a DICOM audit message, under mutual TLS")
    func framesUnderMutualTLS() async throws {
        let certificates = try Self.certificates()
        let port = try LoopbackPort.free()
        let output = certificates.directory + "/collected.jsonl"
        let collector = try await Self.startCollector(port: port, certificates, output: output, clientCA: certificates.clientCertificate)
        defer { collector.stop() }
        let url =
            "tls://127.0.0.1:\(port)?ca=\(certificates.serverCertificate)&cert=\(certificates.clientCertificate)&key=\(certificates.clientKey)"
        let destination = try #require(SyslogTLSDestination(url: url))
        let forwarder = try SyslogTLSForwarder(destination: destination, logger: Logger(label: "test"))
        let details = (0..<40).map { "access \($0) 检查 <&>" }
        for (n, detail) in details.enumerated() { forwarder.send(Self.event(detail, outcome: n == 7 ? .minorFailure : .success)) }
        let records = try await Self.waitForRecords(output, seconds: 30) { $0.count >= details.count }
        #expect(records.count == details.count, "\(records.prefix(3))")
        #expect(records.allSatisfy { $0["error"] == nil && $0["handshake_error"] == nil }, "\(records.filter { $0["error"] != nil })")
        // Sent in order, each frame's declared length the message's own (the collector reads exactly that many octets).
        #expect(records.compactMap { $0["description"] as? String } == details)
        #expect(records.allSatisfy { $0["xml"] as? Bool == true && $0["event_id"] as? String == "110103" && $0["bom"] as? Bool == true })
        #expect(
            records.allSatisfy {
                $0["version"] as? String == "1" && $0["app"] as? String == "atrium" && $0["msgid"] as? String == "DICOM+RFC3881"
            })
        // Facility 13 (log audit); severity 5 (notice) for success, 4 (warning) for a failure.
        #expect(records.compactMap { $0["pri"] as? Int } == details.indices.map { $0 == 7 ? 13 * 8 + 4 : 13 * 8 + 5 })
        #expect(
            records.allSatisfy { ($0["subject"] as? String)?.contains("atrium-sender") == true }, "the client certificate was presented")
    }

    @Test(
        "Events sent while the collector is away arrive after it comes back; an untrusted collector or a missing client certificate gets none"
    )
    func reconnectsAndRefusesUntrusted() async throws {
        let certificates = try Self.certificates()
        let port = try LoopbackPort.free()
        let output = certificates.directory + "/collected.jsonl"
        var collector = try await Self.startCollector(port: port, certificates, output: output)
        let forwarder = try SyslogTLSForwarder(
            destination: try #require(SyslogTLSDestination(url: "tls://127.0.0.1:\(port)?ca=\(certificates.serverCertificate)")),
            logger: Logger(label: "test"))
        for n in 0..<5 { forwarder.send(Self.event("before \(n)")) }
        _ = try await Self.waitForRecords(output, seconds: 30) { $0.count >= 5 }
        collector.stop()
        _ = await collector.exitStatus(within: 10)
        let away = (0..<10).map { "while away \($0)" }
        for detail in away { forwarder.send(Self.event(detail)) }
        try await Task.sleep(for: .seconds(2))
        collector = try await Self.startCollector(port: port, certificates, output: output)
        defer { collector.stop() }
        let expected = (0..<5).map { "before \($0)" } + away
        let records = try await Self.waitForRecords(output, seconds: 60) { found in
            Set(expected).isSubset(of: Set(found.compactMap { $0["description"] as? String }))
        }
        let received = records.compactMap { $0["description"] as? String }
        #expect(Set(expected).isSubset(of: Set(received)), "missing: \(Set(expected).subtracting(received).sorted())")
        // At least once: an event whose write failed is sent again, never lost, and the order of first arrivals holds.
        var firstArrivals: [String] = []
        for detail in received where !firstArrivals.contains(detail) { firstArrivals.append(detail) }
        #expect(firstArrivals == expected)

        // A collector whose certificate the CA file does not vouch for: the handshake fails and nothing is sent.
        let untrusted = try SyslogTLSForwarder(
            destination: try #require(SyslogTLSDestination(url: "tls://127.0.0.1:\(port)?ca=\(certificates.strangerCertificate)")),
            logger: Logger(label: "test"))
        untrusted.send(Self.event("to a stranger"))
        // A collector that requires a client certificate, reached without one.
        let strictPort = try LoopbackPort.free()
        let strictOutput = certificates.directory + "/strict.jsonl"
        let strict = try await Self.startCollector(
            port: strictPort, certificates, output: strictOutput, clientCA: certificates.clientCertificate)
        defer { strict.stop() }
        let anonymous = try SyslogTLSForwarder(
            destination: try #require(SyslogTLSDestination(url: "tls://127.0.0.1:\(strictPort)?ca=\(certificates.serverCertificate)")),
            logger: Logger(label: "test"))
        anonymous.send(Self.event("without a certificate"))
        let strictRecords = try await Self.waitForRecords(strictOutput, seconds: 15) {
            $0.contains { $0["handshake_error"] != nil || $0["error"] != nil }
        }
        #expect(!strictRecords.isEmpty, "the collector saw the attempt")
        #expect(strictRecords.allSatisfy { $0["description"] == nil }, "\(strictRecords)")
        let after = try await Self.waitForRecords(output, seconds: 3) { _ in false }
        #expect(!after.contains { $0["description"] as? String == "to a stranger" })
    }

    @Test("Settings: tls:// destinations parse with their files; malformed ones are refused when the configuration is read")
    func destinations() throws {
        let full = try #require(SyslogTLSDestination(url: "tls://logs.example.org?ca=/etc/ca.pem&cert=/etc/c.pem&key=/etc/k.pem"))
        #expect(full.host == "logs.example.org" && full.port == 6514 && full.caFile == "/etc/ca.pem" && full.keyFile == "/etc/k.pem")
        #expect(SyslogTLSDestination(url: "tls://10.0.0.1:1514")?.port == 1514)
        for bad in ["tls://", "tls://host:0", "tls://host?cert=/c.pem", "tls://host?colour=red", "tcp://host:6514", "tls://u:p@host"] {
            #expect(SyslogTLSDestination(url: bad) == nil, "\(bad)")
        }
        #expect(AuditSyslog.isValid("udp://127.0.0.1:514") && AuditSyslog.isValid("tls://127.0.0.1"))
        #expect(!AuditSyslog.isValid("udp://127.0.0.1") && !AuditSyslog.isValid("syslog://x"))
        var configuration = ServerConfiguration()
        #expect(throws: ConfigurationError.self) { try configuration.apply(environment: ["ATRIUM_AUDIT_SYSLOG": "tcp://127.0.0.1:6514"]) }
    }

    @Test("atrium serve with ATRIUM_AUDIT_SYSLOG=tls://… forwards a failed sign-in's audit event")
    func serveForwards() async throws {
        let certificates = try Self.certificates()
        let port = try LoopbackPort.free()
        let output = certificates.directory + "/collected.jsonl"
        let collector = try await Self.startCollector(port: port, certificates, output: output)
        defer { collector.stop() }
        let data = try Corpus.temporaryDirectory("atrium-syslog-serve")
        let server = try await AtriumServeProcess.start(
            data: data, environment: ["ATRIUM_AUDIT_SYSLOG": "tls://127.0.0.1:\(port)?ca=\(certificates.serverCertificate)"])
        defer { server.process.stop() }
        let run = try await Subprocess.runDetached(
            "/usr/bin/curl",
            [
                "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Content-Type: application/json", "--data",
                #"{"username":"syslog-probe","password":"not the password"}"#, server.baseURL + "/api/session",
            ])
        #expect(run.output.trimmingCharacters(in: .whitespacesAndNewlines) == "401", "\(run.output) \(run.errorOutput)")
        let records = try await Self.waitForRecords(output, seconds: 30) { $0.contains { $0["event_id"] as? String == "110114" } }
        let signIn = try #require(records.first { $0["event_id"] as? String == "110114" }, "\(records)")
        #expect(signIn["pri"] as? Int == 13 * 8 + 4, "a failed sign-in is a warning")
    }
}
