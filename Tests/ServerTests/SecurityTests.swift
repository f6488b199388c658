import AtriumTesting
import Foundation
import Platform
import Server
import Testing

/// An Atrium server with a configuration of the test's own, on a free loopback port; `stop()` ends it.
private final class ConfiguredServer: @unchecked Sendable {
    let server: AtriumServer
    let port: Int
    /// The DIMSE port, when started with `dimse: true`.
    var dicomPort = 0
    let dataDirectory: String
    private var tasks: [Task<Void, Error>] = []

    var baseURL: String { "http://127.0.0.1:\(port)" }

    init(dimse: Bool = false, _ configure: (inout ServerConfiguration) -> Void = { _ in }) async throws {
        var configuration = ServerConfiguration()
        configuration.dataDirectory = try Corpus.temporaryDirectory("atrium-security")
        configuration.httpPort = 0
        configuration.dicomPort = 0
        configuration.host = "127.0.0.1"
        configure(&configuration)
        dataDirectory = configuration.dataDirectory
        server = try AtriumServer(configuration: configuration)
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = server.makeApplication { port in continuation.yield(port) }
        tasks.append(Task { try await app.run() })
        var iterator = stream.makeAsyncIterator()
        guard let port = await iterator.next() else { throw PeerError("the server did not start") }
        self.port = port
        if dimse {
            let (dicom, dicomContinuation) = AsyncStream.makeStream(of: Int.self)
            let listener = server.makeDIMSEListener { port in dicomContinuation.yield(port) }
            tasks.append(Task { try await listener.run() })
            var ports = dicom.makeAsyncIterator()
            guard let dicomPort = await ports.next() else { throw PeerError("the DIMSE listener did not start") }
            self.dicomPort = dicomPort
        }
    }

    func stop() async {
        for task in tasks { task.cancel() }
        for task in tasks { _ = await task.result }
    }

    /// One request with curl: status, response headers (lowercased names) and body. `jar` keeps cookies between calls.
    func call(_ method: String, _ path: String, _ extra: [String] = [], jar: String? = nil) async throws -> Answer {
        var arguments = ["-s", "-D", "-", "-X", method]
        if let jar { arguments += ["-b", jar, "-c", jar] }
        let run = try await Subprocess.runDetached("/usr/bin/curl", arguments + extra + [baseURL + path])
        return Answer(run.output)
    }
}

/// A curl answer taken apart.
private struct Answer {
    var status = -1
    var headers: [String: [String]] = [:]
    var body = ""

    init(_ text: String) {
        var rest = Substring(text)
        // Skip interim answers (100 Continue) to the last header block.
        while let split = rest.range(of: "\r\n\r\n") {
            let head = rest[..<split.lowerBound]
            let lines = head.split(separator: "\r\n")
            status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? -1
            headers = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let name = line[..<colon].lowercased()
                headers[name, default: []].append(line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            rest = rest[split.upperBound...]
            if status != 100 { break }
        }
        body = String(rest)
    }

    func header(_ name: String) -> String? { headers[name.lowercased()]?.first }

    /// The value of cookie `name` in Set-Cookie.
    func cookie(_ name: String) -> String? {
        for line in headers["set-cookie"] ?? [] where line.hasPrefix(name + "=") {
            return String(line.dropFirst(name.count + 1).prefix { $0 != ";" })
        }
        return nil
    }

    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
}

/// The directives of a Content-Security-Policy header: name → sources.
private func directives(_ policy: String) -> [String: [String]] {
    var out: [String: [String]] = [:]
    for part in policy.split(separator: ";") {
        let words = part.split(separator: " ").map(String.init)
        guard let name = words.first else { continue }
        out[name] = Array(words.dropFirst())
    }
    return out
}

@Suite("Web security (OWASP ASVS 5.0): headers, sessions, rate limits, passwords, uploads", .serialized)
struct SecurityTests {
    @Test("Every response carries CSP without unsafe-inline, frame-ancestors, nosniff and Referrer-Policy; HSTS only behind TLS")
    func headers() async throws {
        let server = try await ConfiguredServer()
        let token = try await server.server.testToken("sec-admin", roles: [.admin])
        let bearer = ["-H", "Authorization: Bearer \(token)"]
        // Pages, the JSON API, DICOMweb, static files, health, and the errors: 401, 403, 404, 400 and a redirect.
        let requests: [(String, String, [String], Int)] = [
            ("GET", "/login", [], 200), ("GET", "/", [], 200), ("GET", "/api/me", bearer, 200), ("GET", "/api/me", [], 401),
            ("GET", "/dicom-web/studies", bearer, 200), ("GET", "/static/js/app.js", [], 200), ("GET", "/health", [], 200),
            ("GET", "/no/such/page", [], 404), ("GET", "/studies", [], 302), ("GET", "/dicom-web/studies?access_token=x", [], 400),
            ("POST", "/api/admin/people", bearer + ["-H", "Content-Type: application/json", "--data", "[]"], 400),
            ("GET", "/viewer", bearer, -1), ("GET", "/slide-viewer", bearer, -1), ("GET", "/metrics", [], 200),
        ]
        for (method, path, extra, status) in requests {
            let answer = try await server.call(method, path, extra)
            if status != -1 { #expect(answer.status == status, "\(method) \(path): \(answer.status) \(answer.body.prefix(200))") }
            let policy = try #require(answer.header("Content-Security-Policy"), "\(method) \(path) has no CSP")
            let parsed = directives(policy)
            #expect(parsed["script-src"] == ["'self'"], "\(path): script-src \(parsed["script-src"] ?? [])")
            #expect(parsed["style-src"] == ["'self'"], "\(path): style-src \(parsed["style-src"] ?? [])")
            #expect(parsed["object-src"] == ["'none'"] && parsed["base-uri"] == ["'none'"], "\(path): \(policy)")
            #expect(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"), "\(path): \(policy)")
            let framed = path.hasPrefix("/viewer") || path.hasPrefix("/slide-viewer")
            #expect(parsed["frame-ancestors"] == [framed ? "'self'" : "'none'"], "\(path): \(policy)")
            #expect(answer.header("X-Frame-Options") == (framed ? "SAMEORIGIN" : "DENY"), "\(path)")
            #expect(answer.header("X-Content-Type-Options") == "nosniff", "\(path)")
            #expect(answer.header("Referrer-Policy") == "strict-origin-when-cross-origin", "\(path)")
            #expect(answer.header("Strict-Transport-Security") == nil, "\(path): HSTS over plain http")
        }
        // A TLS-terminating proxy marks the request as https: HSTS.
        var answer = try await server.call("GET", "/login", ["-H", "X-Forwarded-Proto: https"])
        #expect(answer.header("Strict-Transport-Security") == "max-age=31536000; includeSubDomains")
        answer = try await server.call("GET", "/login", ["-H", "Forwarded: for=10.0.0.1;proto=https"])
        #expect(answer.header("Strict-Transport-Security") == "max-age=31536000; includeSubDomains")
        await server.stop()

        // Served as https (the public URL), with the max-age configured: on every response, errors too.
        let secure = try await ConfiguredServer {
            $0.publicURL = "https://pacs.example.org"
            $0.hstsSeconds = 600
        }
        for path in ["/login", "/api/me", "/no/such/page"] {
            answer = try await secure.call("GET", path)
            #expect(answer.header("Strict-Transport-Security") == "max-age=600; includeSubDomains", "\(path)")
        }
        await secure.stop()
    }

    @Test("Session fixation: a session id chosen before sign-in is never adopted; each sign-in gets a new id; sign-out ends it")
    func sessionFixation() async throws {
        let server = try await ConfiguredServer()
        _ = try await server.server.testToken("fixed", roles: [.reader])
        let planted = String(repeating: "ab", count: 32)
        let body = ["-H", "Content-Type: application/json", "--data", #"{"username":"fixed","password":"test password fixed"}"#]
        var first = try await server.call("POST", "/api/session", body + ["-b", "atrium_session=\(planted)"])
        #expect(first.status == 200)
        let id1 = try #require(first.cookie("atrium_session"))
        #expect(id1 != planted && id1.count >= 32, "the session id is the server's own: \(id1)")
        #expect(try await server.call("GET", "/api/me", ["-b", "atrium_session=\(planted)"]).status == 401)
        #expect(try await server.call("GET", "/api/me", ["-b", "atrium_session=\(id1)"]).status == 200)
        // Signing in again while signed in issues another id (the form too).
        first = try await server.call(
            "POST", "/api/session",
            ["-b", "atrium_session=\(id1)", "--data-urlencode", "username=fixed", "--data-urlencode", "password=test password fixed"])
        let id2 = try #require(first.cookie("atrium_session"))
        #expect(id2 != id1)
        let csrf = try #require(first.json["csrfToken"] as? String)
        // Sign-out ends the session on the server, not only in the browser.
        let out = try await server.call("DELETE", "/api/session", ["-b", "atrium_session=\(id2)", "-H", "X-CSRF-Token: \(csrf)"])
        #expect(out.status == 204)
        #expect(out.cookie("atrium_session") == "")
        #expect(try await server.call("GET", "/api/me", ["-b", "atrium_session=\(id2)"]).status == 401)
        await server.stop()
    }

    @Test("Rate limits: sign-in attempts and bad bearer tokens per client address give 429 with Retry-After, audited")
    func rateLimits() async throws {
        let server = try await ConfiguredServer {
            $0.signInAttemptsPerMinute = 5
            $0.failedTokensPerMinute = 5
        }
        let token = try await server.server.testToken("limited", roles: [.reader])
        func signIn(_ username: String, _ password: String, from client: String? = nil) async throws -> Answer {
            let json = #"{"username":"\#(username)","password":"\#(password)"}"#
            return try await server.call(
                "POST", "/api/session",
                ["-H", "Content-Type: application/json", "--data", json] + (client.map { ["-H", "X-Forwarded-For: \($0)"] } ?? []))
        }
        // Five guesses at five different accounts (the per-account lock-out never triggers), then 429.
        var statuses: [Int] = []
        for n in 1...7 { statuses.append(try await signIn("nobody\(n)", "guess number \(n)").status) }
        #expect(statuses == [401, 401, 401, 401, 401, 429, 429])
        var answer = try await signIn("limited", "test password limited")
        #expect(answer.status == 429, "even the right password waits: \(answer.body)")
        let retry = Int(answer.header("Retry-After") ?? "") ?? 0
        #expect((1...60).contains(retry), "Retry-After: \(retry)")
        // The setup token is a password too.
        answer = try await server.call("POST", "/api/setup", ["-H", "Content-Type: application/json", "--data", #"{"token":"x"}"#])
        #expect(answer.status == 429)
        // Another client behind the local proxy (X-Forwarded-For from a loopback peer) has its own count.
        #expect(try await signIn("limited", "test password limited", from: "10.1.2.3").status == 200)

        // Bad tokens: five answered 401, then every bearer request from that client is 429, a good token too.
        statuses = []
        for n in 1...6 {
            statuses.append(try await server.call("GET", "/api/me", ["-H", "Authorization: Bearer atr_wrong\(n)"]).status)
        }
        #expect(statuses == [401, 401, 401, 401, 401, 429])
        #expect(try await server.call("GET", "/api/me", ["-H", "Authorization: Bearer \(token)"]).status == 429)
        #expect(
            try await server.call("GET", "/api/me", ["-H", "Authorization: Bearer \(token)", "-H", "X-Forwarded-For: 10.9.9.9"]).status
                == 200)
        // Both limits left a Security Alert in the audit trail.
        await server.server.identity.audit.flush()
        let events = try await server.server.identity.audit.search(AuditSearch(eventCode: "110113"))
        #expect(events.contains { $0.detail.contains("rate limit: sign-in attempts") }, "\(events.map(\.detail))")
        #expect(events.contains { $0.detail.contains("rate limit: requests with a bad token") }, "\(events.map(\.detail))")
        await server.stop()
    }

    @Test("Password policy: common passwords from the bundled list, repeats, runs and the username are refused; a passphrase is accepted")
    func passwordPolicy() async throws {
        let server = try await ConfiguredServer()
        let token = try await server.server.testToken("policy-admin", roles: [.admin])
        func create(_ username: String, _ password: String) async throws -> Answer {
            let body = try JSONSerialization.data(withJSONObject: ["username": username, "password": password, "roles": ["reader"]])
            return try await server.call(
                "POST", "/api/admin/people",
                [
                    "-H", "Authorization: Bearer \(token)", "-H", "Content-Type: application/json", "--data-binary",
                    String(decoding: body, as: UTF8.self),
                ])
        }
        // Passwords that lead every published list of leaked passwords, and the rules beyond the list.
        let refused = [
            "password1234", "Password123!", "qwertyuiop", "1qaz2wsx3edc", "iloveyou1314", "woaini1314", "1234567890", "0987654321",
            "aaaaaaaaaaaa", "abcdefghijkl", "zhangwei2024", "alice-smith!2024",
        ]
        for (n, password) in refused.enumerated() {
            let username = n == refused.count - 1 ? "alice.smith" : "weak\(n)"
            let answer = try await create(username, password)
            #expect(answer.status == 400, "\(password) for \(username): \(answer.status) \(answer.body)")
            #expect(answer.body.contains("refused") || answer.body.contains("common passwords"), "\(answer.body)")
        }
        #expect(try await create("short", "short pw").status == 400)
        #expect(try await create("strong", "violet tram under seven bridges").status == 201)
        // Changing one's own password and an administrator's reset follow the same policy.
        let me = try await server.call(
            "POST", "/api/me/password",
            [
                "-H", "Authorization: Bearer \(token)", "-H", "Content-Type: application/json", "--data",
                #"{"current":"test password policy-admin","new":"qwerty123456"}"#,
            ])
        #expect(me.status == 400, "\(me.body)")
        await server.stop()
    }

    @Test("An abandoned resumable upload expires: its files are removed and it answers 404; one owner holds a bounded number")
    func abandonedUploads() async throws {
        let server = try await ConfiguredServer { $0.uploadAbandonSeconds = 3600 }
        let token = try await server.server.testToken("uploader", roles: [.reader])
        let auth = ["-H", "Authorization: Bearer \(token)", "-H", "Content-Type: application/json"]
        func create() async throws -> String {
            let answer = try await server.call("POST", "/uploads", auth + ["--data", #"{"name":"a.dcm","size":100}"#])
            #expect(answer.status == 201, "\(answer.body)")
            return try #require(answer.json["id"] as? String)
        }
        func age(_ id: String) throws {
            // As if the last chunk came two hours ago (the abandonment limit is one hour).
            let past = Date().addingTimeInterval(-7200)
            for path in [server.dataDirectory + "/uploads/\(id)/data", server.dataDirectory + "/uploads/\(id)"] {
                try FileManager.default.setAttributes([.modificationDate: past], ofItemAtPath: path)
            }
        }
        let a = try await create()
        #expect(try await server.call("GET", "/uploads/\(a)", auth).status == 200)
        try age(a)
        #expect(try await server.call("GET", "/uploads/\(a)", auth).status == 404)
        #expect(!FileManager.default.fileExists(atPath: server.dataDirectory + "/uploads/\(a)"), "the abandoned files are removed")
        // Another abandoned session, never asked for again, is swept when someone starts an upload.
        let b = try await create()
        try age(b)
        let c = try await create()
        #expect(!FileManager.default.fileExists(atPath: server.dataDirectory + "/uploads/\(b)"))
        #expect(FileManager.default.fileExists(atPath: server.dataDirectory + "/uploads/\(c)"), "a live session stays")
        // One owner may hold 50 open uploads; the 51st is refused until some finish or expire.
        var statuses: [Int] = []
        for _ in 0..<50 {
            statuses.append(try await server.call("POST", "/uploads", auth + ["--data", #"{"name":"b.dcm","size":10}"#]).status)
        }
        #expect(statuses.filter { $0 == 201 }.count == 49 && statuses.last == 400, "\(statuses)")
        await server.stop()
    }

    @Test(
        "DIMSE user identity (pynetdicom): required when configured; a person's password or API token is accepted, a wrong one, a student or none is rejected and audited"
    )
    func dimseUserIdentity() async throws {
        let server = try await ConfiguredServer(dimse: true) { $0.dicomRequireUserIdentity = true }
        let token = try await server.server.testToken("modality", roles: [.reader])
        _ = try await server.server.testToken("learner", roles: [.student])
        let file = try Corpus.pydicomDataDirectory() + "/test_files/CT_small.dcm"
        func associate(_ identity: [String]) async throws -> [String: Any] {
            let run = try await Subprocess.runDetached(
                "python3",
                [Corpus.script("ServerTests", "dimse_identity.py"), "127.0.0.1", "\(server.dicomPort)", "CTSCANNER", file] + identity)
            #expect(run.status == 0, "\(run.errorOutput.suffix(1500))")
            return (try? JSONSerialization.jsonObject(with: run.standardOutput)) as? [String: Any] ?? [:]
        }
        var result = try await associate([])
        #expect(result["accepted"] as? Bool == false, "no identity: \(result)")
        result = try await associate(["modality", "not the password"])
        #expect(result["accepted"] as? Bool == false, "wrong password: \(result)")
        result = try await associate(["modality", "", "1"])
        #expect(result["accepted"] as? Bool == false, "a username without a passcode (type 1): \(result)")
        result = try await associate(["learner", "test password learner"])
        #expect(result["accepted"] as? Bool == false, "a student: \(result)")
        #expect(try await server.server.archive.index.counts().instances == 0)
        result = try await associate(["modality", "test password modality"])
        #expect(result["accepted"] as? Bool == true && result["status"] as? Int == 0, "the right password: \(result)")
        result = try await associate(["modality", token])
        #expect(result["accepted"] as? Bool == true, "an API token of the person: \(result)")
        await server.server.identity.audit.flush()
        let events = try await server.server.identity.audit.search(AuditSearch(eventCode: "110114"))
        let dimse = events.filter { $0.transport == "dimse" }
        #expect(dimse.contains { $0.user == "modality" && $0.outcome == .success }, "\(dimse.map(\.detail))")
        #expect(dimse.filter { $0.outcome != .success }.count >= 3, "\(dimse.map { "\($0.user) \($0.detail)" })")
        await server.stop()
    }

    @Test(
        "DIMSE audit (dcmtk storescu): one Instances Transferred event per association and patient (PS3.15 A.5.3.4), naming that patient and each of their studies"
    )
    func dimseAuditPerAssociation() async throws {
        let server = try await ConfiguredServer(dimse: true)
        let root = try Corpus.pydicomDataDirectory() + "/test_files/"
        let files = ["CT_small.dcm", "MR_small.dcm", "rtdose.dcm"].map { root + $0 }
        // Each file's patient and study, read with pydicom (not with Atrium); the three files are of three patients.
        let read = try await Subprocess.runDetached(
            "python3",
            ["-c", "import sys, pydicom\nfor f in sys.argv[1:]:\n d = pydicom.dcmread(f)\n print(d.PatientID, d.StudyInstanceUID)"]
                + files)
        let pairs = read.output.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(
            pairs.count == 3 && Set(pairs.map { $0[0] }).count == 3 && Set(pairs.map { $0[1] }).count == 3,
            "\(read.output)\(read.errorOutput)")
        func storescu(_ aeTitle: String, _ paths: [String]) async throws {
            let peer = try PeerProcess(
                "/usr/bin/storescu", ["-aet", aeTitle, "-aec", "ATRIUM", "127.0.0.1", "\(server.dicomPort)"] + paths)
            let status = await peer.exitStatus(within: 60)
            peer.stop()
            #expect(status == 0, "\(peer.output)")
        }
        try await storescu("MODALITY1", files)
        try await storescu("MODALITY2", [files[0], files[0]])
        await server.server.identity.audit.flush()
        let events = try await server.server.identity.audit.search(AuditSearch(eventCode: "110104"))
        let first = events.filter { $0.user == "ae:MODALITY1" }
        #expect(first.count == 3, "one event for each patient of the association: \(first.map(\.detail))")
        for pair in pairs {
            let theirs = first.filter { $0.participants.contains(.patient(pair[0])) }
            #expect(theirs.count == 1, "patient \(pair[0]): \(first.map(\.participants))")
            #expect(theirs.first?.participants == [.patient(pair[0]), .study(pair[1])], "\(theirs.map(\.participants))")
            #expect(theirs.first?.detail.hasPrefix("1 instance of 3 for 3 patients") == true, "\(theirs.map(\.detail))")
        }
        // One patient, the same instance twice in one association: one event for both C-STOREs.
        let second = events.filter { $0.user == "ae:MODALITY2" }
        #expect(second.count == 1 && second.first?.detail.hasPrefix("2 instances stored") == true, "\(second.map(\.detail))")
        #expect(second.first?.participants == [.patient(pairs[0][0]), .study(pairs[0][1])])
        // A C-GET of two patients' studies (dcmtk getscu, one identifier with both Study Instance UIDs): one read event
        // for each patient.
        let out = try Corpus.temporaryDirectory("audit-getscu")
        let getscu = try PeerProcess(
            "/usr/bin/getscu",
            [
                "-aet", "GETTER", "-aec", "ATRIUM", "-S", "-k", "QueryRetrieveLevel=STUDY", "-k",
                "StudyInstanceUID=\(pairs[0][1])\\\(pairs[1][1])", "-od", out, "127.0.0.1", "\(server.dicomPort)",
            ])
        let getStatus = await getscu.exitStatus(within: 60)
        getscu.stop()
        #expect(getStatus == 0, "\(getscu.output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).count == 2, "\(getscu.output)")
        await server.server.identity.audit.flush()
        let reads = try await server.server.identity.audit.search(AuditSearch(user: "ae:GETTER", eventCode: "110104"))
        #expect(reads.count == 2, "\(reads.map(\.participants))")
        for pair in pairs.prefix(2) {
            #expect(
                reads.filter { $0.participants == [.patient(pair[0]), .study(pair[1])] && $0.action == .read }.count == 1,
                "\(reads.map(\.participants))")
        }
        await server.stop()
    }

    @Test(
        "STOW-RS audit (dicomweb-client): one store of three patients' instances is one Instances Transferred event per patient, naming that patient and their study"
    )
    func stowAuditPerPatient() async throws {
        let server = try await ConfiguredServer()
        let token = try await server.server.testToken("stow-modality", roles: [.admin])
        let root = try Corpus.pydicomDataDirectory() + "/test_files/"
        let files = ["CT_small.dcm", "MR_small.dcm", "rtdose.dcm"].map { root + $0 }
        let script = """
            import sys, pydicom
            from dicomweb_client.api import DICOMwebClient
            files = sys.argv[3:]
            client = DICOMwebClient(sys.argv[1] + "/dicom-web", headers={"Authorization": "Bearer " + sys.argv[2]})
            client.store_instances([pydicom.dcmread(f) for f in files])
            for f in files:
                d = pydicom.dcmread(f, stop_before_pixels=True)
                print(d.PatientID, d.StudyInstanceUID)
            """
        let run = try await Subprocess.runDetached("python3", ["-c", script, server.baseURL, token] + files)
        try #require(run.status == 0, "\(run.output)\(run.errorOutput)")
        let pairs = run.output.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        try #require(pairs.count == 3 && Set(pairs.map { $0[0] }).count == 3, "\(run.output)")
        await server.server.identity.audit.flush()
        let events = try await server.server.identity.audit.search(AuditSearch(user: "stow-modality", eventCode: "110104"))
        #expect(events.count == 3, "\(events.map(\.participants))")
        for pair in pairs {
            let theirs = events.filter { $0.participants.contains(.patient(pair[0])) }
            #expect(
                theirs.count == 1 && theirs.first?.participants == [.patient(pair[0]), .study(pair[1])], "\(events.map(\.participants))")
            #expect(theirs.first?.action == .create && theirs.first?.outcome == .success && theirs.first?.transport == "http")
        }
        await server.stop()
    }

    @Test(
        "In Chromium against atrium serve --demo: stored XSS payloads never run, every page family loads without a CSP violation, cross-origin posts are refused, search fields take SQL as text, and the workflow route families answer each role as documented"
    )
    func browser() async throws {
        try Chromium.require()
        let data = try Corpus.temporaryDirectory("atrium-security-demo")
        let server = try await AtriumServeProcess.start(data: data, arguments: ["--demo"])
        defer { server.process.stop() }
        let deadline = Date().addingTimeInterval(120)
        while !server.process.output.contains("  data:"), Date() < deadline { try await Task.sleep(for: .milliseconds(200)) }
        try await Task.sleep(for: .milliseconds(300))
        var passwords: [String: String] = [:]
        for line in server.process.output.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("demo:") else { continue }
            let fields = trimmed.dropFirst(5).split(separator: " ", omittingEmptySubsequences: true)
            if let user = fields.first, let password = fields.last { passwords[String(user)] = String(password) }
        }
        #expect(passwords["demo-admin"] != nil, "no demo accounts in the banner:\n\(server.process.output.prefix(3000))")
        let accounts = try Corpus.temporaryDirectory("atrium-security-accounts") + "/accounts.json"
        try JSONSerialization.data(withJSONObject: passwords).write(to: URL(fileURLWithPath: accounts))
        let screenshots =
            (ProcessInfo.processInfo.environment["ATRIUM_SCREENSHOTS"] ?? Corpus.repositoryRoot + "/.build/screenshots") + "/security"
        let run = try await Subprocess.runDetached(
            "python3",
            [Corpus.script("ServerTests", "security_web.py"), server.baseURL, accounts, screenshots, "xss", "csp", "csrf", "sql", "matrix"])
        print("security screenshots: \(screenshots)")
        #expect(run.status == 0, "\(run.output.suffix(6000))\(run.errorOutput.suffix(3000))")
        #expect(run.output.hasSuffix("ok\n"))
    }
}
