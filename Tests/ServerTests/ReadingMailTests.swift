import AtriumTesting
import Foundation
import Platform
import Reading
import Server
import Testing

/// The messages an aiosmtpd sink caught, as Python's email package reads them (mail_read.py).
struct CaughtMail: Decodable {
    var envelopeTo: [String]
    var to: String
    var subject: String
    var body: String
    var contentType: String
    var charset: String?
}

func caughtMail(_ directory: String) throws -> [CaughtMail] {
    let run = try Subprocess.run("python3", [Corpus.script("ServerTests", "mail_read.py"), directory])
    guard run.status == 0 else { throw PeerError("mail_read.py: \(run.errorOutput)") }
    return try JSONDecoder().decode([CaughtMail].self, from: Data(run.output.utf8))
}

/// What the sink recorded of each session beyond the message: TLS and who authenticated how.
struct CaughtSession: Decodable {
    var to: [String]
    var tls: Bool
    var auth: String?
    var mechanism: String?
}

func caughtSessions(_ directory: String) throws -> [CaughtSession] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory))?.filter { $0.hasSuffix(".json") }.sorted() ?? []
    return try names.map {
        try JSONDecoder().decode(CaughtSession.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/" + $0)))
    }
}

@Suite("E-mail notifications through an SMTP sink on loopback")
struct ReadingMailTests {
    @Test(
        "STARTTLS with a certificate made by openssl, AUTH PLAIN and LOGIN; no mail with a wrong password or an untrusted certificate; credentials never in clear"
    )
    func startTLSAndAuthentication() async throws {
        let check = try Subprocess.run("python3", ["-c", "import aiosmtpd"])
        try #require(check.status == 0, "aiosmtpd is missing: pip install aiosmtpd (scripts/install-deps)")
        let directory = try Corpus.temporaryDirectory("atrium-smtp-tls")
        let made = try Subprocess.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem",
                "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            ])
        try #require(made.status == 0, "openssl (apt install openssl): \(made.errorOutput)")
        let port = try LoopbackPort.free()
        let caught = directory + "/caught"
        let sink = try PeerProcess(
            "python3",
            [
                Corpus.script("ServerTests", "smtp_sink.py"), "\(port)", caught, directory + "/cert.pem", directory + "/key.pem", "mailer",
                "s3cret:pw",
            ])
        defer { sink.stop() }
        try await LoopbackPort.waitForListener(port, seconds: 20)
        let base = "smtp://mailer:s3cret%3Apw@127.0.0.1:\(port)?tls=starttls&ca=\(directory)/cert.pem"
        func send(_ url: String, to recipient: String) async throws {
            let client = SMTPClient(relay: try #require(SMTPRelay(url: url)), from: "atrium@college.example.org")
            try await client.send(to: recipient, subject: "TLS", body: "over TLS")
        }
        try await send(base, to: "plain@example.org")
        try await send(base + "&auth=login", to: "login@example.org")
        await #expect(throws: SMTPError.self) {
            try await send("smtp://mailer:wrong@127.0.0.1:\(port)?tls=starttls&ca=\(directory)/cert.pem", to: "wrong@example.org")
        }
        // Without the CA file the self-signed certificate is not trusted: the handshake fails, nothing is sent.
        await #expect(throws: SMTPError.self) { try await send("smtp://mailer:s3cret%3Apw@127.0.0.1:\(port)", to: "untrusted@example.org") }
        var sessions: [CaughtSession] = []
        for _ in 0..<100 where sessions.count < 2 {
            sessions = try caughtSessions(caught)
            if sessions.count < 2 { try await Task.sleep(for: .milliseconds(50)) }
        }
        let byRecipient = Dictionary(grouping: sessions, by: { $0.to.joined() })
        #expect(
            byRecipient["plain@example.org"]?.first.map { $0.tls && $0.auth == "mailer" && $0.mechanism == "PLAIN" } == true, "\(sessions)")
        #expect(
            byRecipient["login@example.org"]?.first.map { $0.tls && $0.auth == "mailer" && $0.mechanism == "LOGIN" } == true, "\(sessions)")
        #expect(byRecipient["wrong@example.org"] == nil && byRecipient["untrusted@example.org"] == nil)
        #expect(sessions.count == 2)

        // A relay without STARTTLS: credentials are never sent in clear, and tls=starttls sends nothing at all.
        let plainPort = try LoopbackPort.free()
        let plainCaught = directory + "/plain"
        let plainSink = try PeerProcess("python3", [Corpus.script("ServerTests", "smtp_sink.py"), "\(plainPort)", plainCaught])
        defer { plainSink.stop() }
        try await LoopbackPort.waitForListener(plainPort, seconds: 20)
        await #expect(throws: SMTPError.authentication("credentials go over TLS only (tls=none in the relay URL allows it)")) {
            try await send("smtp://mailer:s3cret@127.0.0.1:\(plainPort)", to: "clear@example.org")
        }
        await #expect(throws: SMTPError.tls("the relay does not offer STARTTLS")) {
            try await send("smtp://127.0.0.1:\(plainPort)?tls=starttls", to: "required@example.org")
        }
        try await send("smtp://127.0.0.1:\(plainPort)", to: "opportunistic@example.org")
        var plainSessions: [CaughtSession] = []
        for _ in 0..<100 where plainSessions.isEmpty {
            plainSessions = try caughtSessions(plainCaught)
            if plainSessions.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(plainSessions.map(\.to) == [["opportunistic@example.org"]] && plainSessions.first?.tls == false)
    }

    @Test(
        "Stat requests mail the readers on duty, critical results and signed reports the requesting site, each in its language, without patient identifiers; a relay that is down delays mail and never a transition"
    )
    func notifications() async throws {
        let check = try Subprocess.run("python3", ["-c", "import aiosmtpd"])
        try #require(check.status == 0, "aiosmtpd is missing: pip install aiosmtpd (scripts/install-deps)")
        let smtpPort = try LoopbackPort.free()
        let caught = try Corpus.temporaryDirectory("atrium-mail")
        let server = try await ReadingTestServer.start { configuration in
            configuration.smtpURL = "smtp://127.0.0.1:\(smtpPort)"
            configuration.smtpFrom = "atrium@college.example.org"
            configuration.mailRetrySeconds = 1
            configuration.publicURL = "https://atrium.example.org/"
        }
        defer { Task { await server.stop() } }
        let identity = server.server.identity
        let actor = AuditActor(user: "test")
        let countyA = try await identity.createInstitution(code: "COUNTY-A", name: "County A", kind: .grassrootsHospital, actor: actor)
        let countyB = try await identity.createInstitution(code: "COUNTY-B", name: "County B", kind: .grassrootsHospital, actor: actor)
        let people: [(String, Set<Role>, Int64?, InterfaceLanguage, String)] = [
            ("reader-en", [.reader], nil, .english, "reader.en@college.example.org"),
            ("reader-zh", [.reader, .supervisor], nil, .chinese, "reader.zh@college.example.org"),
            ("reader-off", [.reader], nil, .english, "reader.off@college.example.org"),
            ("reader-nomail", [.reader], nil, .english, ""),
            ("site-a", [.site], countyA.id, .chinese, "site.a@county-a.example.org"),
            ("site-a-en", [.site], countyA.id, .english, "site.a.en@county-a.example.org"),
            ("site-b", [.site], countyB.id, .english, "site.b@county-b.example.org"),
        ]
        for (name, roles, institution, language, email) in people {
            let person = try await identity.createPerson(
                username: name, password: "test password \(name)", roles: roles, institutionID: institution, language: language,
                actor: actor)
            if !email.isEmpty { try await identity.setEmail(email, personID: person.id, actor: actor) }
        }
        await #expect(throws: PlatformError.self) {
            try await identity.setEmail("a@b.org\r\nBcc: x@y.org", personID: 1, actor: actor)
        }
        try await server.server.reading.setProfile(ReaderProfile(username: "reader-off", onDuty: false))
        let site = ReadingActor(username: "site-a", displayName: "Site A")
        let reader = ReadingActor(username: "reader-en", displayName: "Dr En")
        let store = server.server.reading
        let secretName = "Zhang^Sanfeng"
        let secretID = "PID-SECRET-77"

        // The relay is down: the stat request is filed at once, its mails wait in the outbox and are retried.
        let (stat, item) = try await store.file(
            NewConsultationRequest(
                priority: .stat, referringPhysician: "", clinicalHistory: "", question: "Haemorrhage?", accessionNumber: "MAIL-1",
                patientName: secretName, patientID: secretID), institution: "COUNTY-A", by: site)
        var failedOnce = false
        for _ in 0..<200 where !failedOnce {
            failedOnce = try await store.mail(requestID: stat.id).contains { $0.mail.attempts >= 1 && !$0.sent }
            if !failedOnce { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(failedOnce, "the mailer tried the relay that is down and kept the mail")
        _ = try await store.file(
            NewConsultationRequest(
                priority: .routine, referringPhysician: "", clinicalHistory: "", question: "Routine?", accessionNumber: "MAIL-2"),
            institution: "COUNTY-A", by: site)

        // The relay comes up: the waiting mails go, and those of the critical result and the signature follow.
        let sink = try PeerProcess("python3", [Corpus.script("ServerTests", "smtp_sink.py"), "\(smtpPort)", caught])
        defer { sink.stop() }
        try await LoopbackPort.waitForListener(smtpPort, seconds: 20)
        _ = try await store.flagCritical(requestID: stat.id, finding: "Subdural haematoma", by: reader)
        _ = try await store.claim(itemID: item.id, by: reader)
        let report = try #require(try await store.reports(requestID: stat.id).first)
        _ = try await store.sign(
            reportID: report.id, sections: [ReportSection(kind: "impression", title: "Impression", text: "Acute subdural haematoma.")],
            by: reader)
        #expect(try await store.criticalResults(requestID: stat.id).first?.channel == "in-app+email")

        var messages: [CaughtMail] = []
        for _ in 0..<600 where messages.count < 6 {
            try await Task.sleep(for: .milliseconds(100))
            messages = try caughtMail(caught)
        }
        let byRecipient = Dictionary(grouping: messages, by: { $0.envelopeTo.joined(separator: ",") })
        #expect(messages.count == 6, "\(messages.map { ($0.envelopeTo, $0.subject) })")
        // Readers on duty with an address, each in its language; not the one off duty, not the routine request.
        let english = try #require(byRecipient["reader.en@college.example.org"]?.first)
        #expect(english.subject.contains("stat") && english.subject.contains("#\(stat.id)"), "\(english.subject)")
        #expect(english.body.contains("https://atrium.example.org/worklist"))
        let chinese = try #require(byRecipient["reader.zh@college.example.org"]?.first)
        #expect(chinese.subject.contains("急诊") && chinese.subject.contains("#\(stat.id)"), "\(chinese.subject)")
        #expect(byRecipient["reader.off@college.example.org"] == nil)
        // The requesting site's users: the critical result and the signed report; never the other site.
        let siteChinese = try #require(byRecipient["site.a@county-a.example.org"])
        #expect(siteChinese.map(\.subject).sorted() == ["[Atrium] 会诊 #\(stat.id) 危急值通知", "[Atrium] 会诊 #\(stat.id) 报告已签发"].sorted())
        let siteEnglish = try #require(byRecipient["site.a.en@county-a.example.org"])
        #expect(siteEnglish.contains { $0.subject.hasPrefix("[Atrium] Critical result") && $0.body.contains("/consultations/\(stat.id)") })
        #expect(byRecipient["site.b@county-b.example.org"] == nil)
        for message in messages {
            #expect(message.contentType == "text/plain" && message.charset == "utf-8")
            for secret in [secretName, "Zhang", secretID, "Haemorrhage", "haematoma"] {
                #expect(!message.subject.contains(secret) && !message.body.contains(secret), "\(secret) in \(message.subject)")
            }
        }
        #expect(try await store.mail(requestID: stat.id).allSatisfy(\.sent))

        // The client itself: dot-stuffing and a Chinese subject arrive intact.
        let client = SMTPClient(relay: try #require(SMTPRelay(url: "smtp://127.0.0.1:\(smtpPort)")), from: "atrium@college.example.org")
        try await client.send(to: "dots@example.org", subject: "点号测试", body: ".leading dot\n..two dots\n.\nend")
        var dots: CaughtMail?
        for _ in 0..<100 where dots == nil {
            dots = try caughtMail(caught).first { $0.envelopeTo == ["dots@example.org"] }
            if dots == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(dots?.subject == "点号测试")
        #expect(dots?.body.replacingOccurrences(of: "\r\n", with: "\n") == ".leading dot\n..two dots\n.\nend\n")

        // One's own address over the API and on the consultations page; an administrator's on the people form's API.
        func curl(_ method: String, _ path: String, token: String, body: String? = nil) async throws -> (status: Int, body: String) {
            var arguments = ["-s", "-o", "-", "-w", "\n%{http_code}", "-X", method, "-H", "Authorization: Bearer \(token)"]
            if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
            let run = try await Subprocess.runDetached("/usr/bin/curl", arguments + [server.baseURL + path])
            var lines = run.output.split(separator: "\n", omittingEmptySubsequences: false)
            let status = Int(lines.popLast() ?? "") ?? -1
            return (status, lines.joined(separator: "\n"))
        }
        let siteB = try await server.server.testToken("site-b")
        #expect(try await curl("PUT", "/api/me/email", token: siteB, body: #"{"email": "new.b@county-b.example.org"}"#).status == 204)
        #expect(try await curl("GET", "/api/me", token: siteB).body.contains("new.b@county-b.example.org"))
        #expect(try await curl("PUT", "/api/me/email", token: siteB, body: #"{"email": "not an address"}"#).status == 400)
        let page = try await curl("GET", "/consultations", token: siteB)
        #expect(page.status == 200 && page.body.contains(#"id="email-form""#) && page.body.contains(#"value="new.b@county-b.example.org""#))
        let admin = try await server.server.testToken("mail-admin", roles: [.admin])
        let siteBID = try #require(try await identity.person(username: "site-b")).id
        #expect(
            try await curl("PATCH", "/api/admin/people/\(siteBID)", token: admin, body: #"{"email": "desk@county-b.example.org"}"#).status
                == 204)
        #expect(try await curl("GET", "/api/admin/people", token: admin).body.contains("desk@county-b.example.org"))
        #expect(try await identity.email(personID: siteBID) == "desk@county-b.example.org")
    }
}
