import Archive
import AtriumTesting
import DICOM
import Foundation
import Platform
import Reading
import Server
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Two `atrium serve` processes on one PostgreSQL database and one bucket (moto's S3 server), both on loopback.
private struct TwoServers {
    let postgres: PostgresServer
    let moto: MotoServer
    let database: String
    let databaseURL: String
    let a: AtriumServeProcess
    let b: AtriumServeProcess

    /// The settings both processes get: the same database and bucket, a data directory each.
    var arguments: [String] {
        ["--database", databaseURL, "--storage", "s3://\(moto.bucket)/blobs", "--storage-endpoint", moto.endpoint]
    }

    /// Starts PostgreSQL and moto, then A and B at once (their schema migrations race, under PostgreSQL's advisory locks).
    static func start(environment: [String: String] = [:]) async throws -> TwoServers {
        let postgres = try await PostgresServer.start()
        let moto = try await MotoServer.start()
        let database = "multiproc"
        let url = try await postgres.createDatabase(database)
        let arguments = ["--database", url, "--storage", "s3://\(moto.bucket)/blobs", "--storage-endpoint", moto.endpoint]
        let env = moto.environment.merging(environment) { $1 }
        async let first = AtriumServeProcess.start(data: try Corpus.temporaryDirectory("multi-a"), arguments: arguments, environment: env)
        async let second = AtriumServeProcess.start(
            data: try Corpus.temporaryDirectory("multi-b"), arguments: arguments, environment: env)
        let (a, b) = try await (first, second)
        return TwoServers(postgres: postgres, moto: moto, database: database, databaseURL: url, a: a, b: b)
    }

    /// An in-process server on the same database and bucket, not listening: for making people, tokens and requests.
    func helper(smtpURL: String? = nil) throws -> AtriumServer {
        var configuration = ServerConfiguration()
        if let smtpURL { try configuration.set("smtpURL", smtpURL, source: "test") }
        configuration.dataDirectory = try Corpus.temporaryDirectory("multi-helper")
        try configuration.set("database", databaseURL, source: "test")
        try configuration.set("storage", "s3://\(moto.bucket)/blobs", source: "test")
        try configuration.set("storageEndpoint", moto.endpoint, source: "test")
        return try AtriumServer(configuration: configuration, environment: moto.environment)
    }

    /// The archive as a third process sees it (index and bucket), for checks after the fact.
    func archive() throws -> Archive {
        try Archive.open(
            directory: try Corpus.temporaryDirectory("multi-check"), database: databaseURL, storage: "s3://\(moto.bucket)/blobs",
            storageSettings: S3Settings(endpoint: moto.endpoint, region: "us-east-1", pathStyle: true), environment: moto.environment)
    }

    /// One value per row of `sql` (psql, unaligned).
    func psql(_ sql: String) async throws -> [String] {
        try await postgres.psql(database: database, sql).output.split(separator: "\n").map(String.init)
    }

    func stop() {
        a.process.stop()
        b.process.stop()
        moto.stop()
        postgres.stop()
    }
}

/// The one-time setup token `atrium serve` prints when no administrator exists.
private func setupToken(_ server: AtriumServeProcess) async throws -> String {
    for _ in 0..<300 {
        let output = server.process.output
        if let match = output.range(of: #"/setup\?token=[A-Za-z0-9_-]{43}"#, options: .regularExpression) {
            return String(output[match].dropFirst("/setup?token=".count))
        }
        try await Task.sleep(for: .milliseconds(100))
    }
    throw PeerError("no setup link in the banner: \(server.process.output.suffix(1500))")
}

/// The HTTP status of `POST URL` with a JSON body (curl).
private func post(_ url: String, _ json: String) async throws -> Int {
    let run = try await Subprocess.runDetached(
        "/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Content-Type: application/json", "--data", json, url])
    return Int(run.output) ?? 0
}

/// The objects under `blobs/` in the bucket (boto3), and the multipart uploads left open.
private func bucketObjects(_ moto: MotoServer) async throws -> (keys: [String], uploads: Int) {
    let listed = try await moto.boto("list", ["blobs/"])
    let keys = (listed["objects"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String }
    return (keys, listed["uploads"] as? Int ?? -1)
}

/// Generated instances (fresh UIDs): SOP Instance UID by path.
private func makeInstances(_ count: Int, studies: Int) async throws -> [String: String] {
    let directory = try Corpus.temporaryDirectory("multi-instances")
    let run = try await Subprocess.runDetached(
        "python3", [Corpus.script("ServerTests", "multi_ingest.py"), "make", directory, "\(count)", "\(studies)"])
    guard run.status == 0, let map = try JSONSerialization.jsonObject(with: run.standardOutput) as? [String: String], map.count == count
    else { throw PeerError("multi_ingest.py make failed: \(run.errorOutput.suffix(1000))") }
    return map
}

/// One STOW-RS request of `files` (multi_ingest.py): the HTTP status and the SOP Instance UIDs the answer lists as stored.
private func stow(_ base: String, token: String, files: [String]) async throws -> (status: Int, stored: [String]) {
    let run = try await Subprocess.runDetached(
        "python3", [Corpus.script("ServerTests", "multi_ingest.py"), "stow", base, token] + files)
    guard run.status == 0, let answer = try JSONSerialization.jsonObject(with: run.standardOutput) as? [String: Any] else {
        throw PeerError("multi_ingest.py stow failed: \(run.errorOutput.suffix(1000))")
    }
    return (answer["status"] as? Int ?? 0, answer["stored"] as? [String] ?? [])
}

@Suite("Several atrium serve processes on one PostgreSQL and one bucket", .serialized)
struct MultiProcessTests {
    @Test(
        "Two processes: each one's setup link works on the other, one first administrator from two setup tokens; sessions, tokens, worklist push, UPS events, claims and rate limits hold across them"
    )
    func coordination() async throws {
        let signInLimit = 5
        let tokenLimit = 4
        // Both processes send the mail outbox to one SMTP sink (aiosmtpd), each message caught once per delivery.
        let check = try await Subprocess.runDetached("python3", ["-c", "import aiosmtpd"])
        try #require(check.status == 0, "aiosmtpd is missing: pip install aiosmtpd (scripts/install-deps)")
        let smtpPort = try LoopbackPort.free()
        let caught = try Corpus.temporaryDirectory("multi-mail")
        let sink = try PeerProcess("python3", [Corpus.script("ServerTests", "smtp_sink.py"), "\(smtpPort)", caught])
        defer { sink.stop() }
        try await LoopbackPort.waitForListener(smtpPort, seconds: 30)
        let smtp = "smtp://127.0.0.1:\(smtpPort)"
        let servers = try await TwoServers.start(environment: [
            "ATRIUM_SIGN_IN_ATTEMPTS_PER_MINUTE": "\(signInLimit)", "ATRIUM_FAILED_TOKENS_PER_MINUTE": "\(tokenLimit)",
            "ATRIUM_SMTP_URL": smtp,
        ])
        defer { servers.stop() }

        // Each process printed a setup token of its own. Each works on the other process too (behind a proxy the link
        // may reach either): A's token sent to B and B's to A, at once, make one administrator.
        let tokenA = try await setupToken(servers.a)
        let tokenB = try await setupToken(servers.b)
        async let answerA = post(
            servers.b.baseURL + "/api/setup", #"{"token":"\#(tokenA)","username":"chief-a","password":"a long password 1"}"#)
        async let answerB = post(
            servers.a.baseURL + "/api/setup", #"{"token":"\#(tokenB)","username":"chief-b","password":"a long password 2"}"#)
        let answers = try await [answerA, answerB]
        #expect(answers.sorted() == [201, 409], "setup answers \(answers)")
        // Setup is over on both: a token on the process that did not print it is answered 409 (closed), not 403.
        let late = try await post(
            servers.b.baseURL + "/api/setup", #"{"token":"\#(tokenA)","username":"late","password":"a long password 3"}"#)
        #expect(late == 409, "a late setup: \(late)")
        let admins = try await servers.psql("SELECT username FROM people WHERE (',' || roles || ',') LIKE '%,admin,%'")
        #expect(admins.count == 1, "administrators: \(admins)")

        // People, a study and three requests, made by a third process on the same database and bucket.
        let helper = try servers.helper(smtpURL: smtp)
        let study = try await storeFreshStudy(helper, file: "CT_small.dcm", institution: "COUNTY-A", accession: "ACC-MP")
        var people: [String: [String: String]] = [:]
        for (key, username, roles, institution) in [
            ("reader", "mp-reader-1", Set<Role>([.reader]), "MEDCOLLEGE"), ("reader2", "mp-reader-2", [.reader], "MEDCOLLEGE"),
            ("site", "mp-site", [.site], "COUNTY-A"),
        ] {
            let token = try await helper.testToken(username, roles: roles, institution: institution)
            people[key] = ["username": username, "password": "test password \(username)", "token": token]
            if roles.contains(.reader), let person = try await helper.identity.person(username: username) {
                try await helper.identity.setEmail("\(username)@example.org", personID: person.id, actor: AuditActor(user: "test"))
            }
        }
        let site = ReadingActor(username: "mp-site", displayName: "mp-site")
        var items: [[String: Any]] = []
        // Each new urgent request puts a mail to each reader on duty in the outbox; both processes' maintenance rounds send it.
        for n in 0..<23 {
            let (request, item) = try await helper.reading.file(
                NewConsultationRequest(
                    priority: n < 3 ? .routine : .urgent, referringPhysician: "", clinicalHistory: "", question: "Case \(n)?",
                    studies: [study]),
                institution: "COUNTY-A", by: site)
            if n < 3 { items.append(["requestID": request.id, "itemID": item.id, "uid": item.uid]) }
        }
        await helper.identity.audit.flush()
        let fixture: [String: Any] = [
            "baseA": servers.a.baseURL, "baseB": servers.b.baseURL, "people": people, "items": items, "signInLimit": signInLimit,
            "tokenLimit": tokenLimit,
        ]
        let fixtureFile = try Corpus.temporaryDirectory("multi-fixture") + "/fixture.json"
        try JSONSerialization.data(withJSONObject: fixture).write(to: URL(fileURLWithPath: fixtureFile))
        let run = try await Subprocess.runDetached("python3", [Corpus.script("ServerTests", "multi_process.py"), fixtureFile])
        #expect(run.status == 0, "multi_process.py: \(run.output.suffix(3000))\n\(run.errorOutput.suffix(2000))")
        print(run.output)

        // The claim race left one holder, the one whose claim was answered 200, as the database says.
        let summary = run.output.split(separator: "\n").last.map { String($0) } ?? "{}"
        let winner = (try? JSONSerialization.jsonObject(with: Data(summary.utf8)) as? [String: Any])?["claimRaceWinner"] as? String
        let raced = try #require(items[1]["itemID"] as? Int64)
        let holders = try await servers.psql("SELECT owner FROM work_items WHERE id = \(raced)")
        #expect(winner != nil && holders == [winner ?? ""], "holders \(holders), winner \(winner ?? "none")")
        // Every mail of the outbox was sent once: the sink caught each (recipient, subject) once, and none is left.
        let outbox = Int(try await servers.psql("SELECT count(*) FROM mail_outbox").first ?? "") ?? 0
        #expect(outbox == 40, "mails in the outbox: \(outbox) (20 urgent requests, 2 readers)")
        var mails: [CaughtMail] = []
        for _ in 0..<300 {
            mails = try caughtMail(caught)
            if mails.count >= outbox { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .seconds(3))
        mails = try caughtMail(caught)
        let deliveries = mails.map { "\($0.envelopeTo.joined(separator: ",")) \($0.subject)" }
        #expect(mails.count == outbox, "caught \(mails.count) mails for \(outbox) in the outbox")
        #expect(Set(deliveries).count == deliveries.count, "a mail sent twice: \(deliveries.sorted())")
        #expect(try await servers.psql("SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL") == ["0"])

        // The server drops every LISTEN connection (as on a restart): each process connects again, and B's stream
        // carries A's next change.
        let listening = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = '\(servers.database)'"
        let before = Int(try await servers.psql(listening).first ?? "") ?? 0
        #expect(before >= 3, "LISTEN connections of A, B and the helper: \(before)")
        let terminated = try await servers.psql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = '\(servers.database)'")
        #expect(terminated.count == before)
        var now = 0
        for _ in 0..<200 where now < before {
            try await Task.sleep(for: .milliseconds(100))
            now = Int(try await servers.psql(listening).first ?? "") ?? 0
        }
        #expect(now >= before, "LISTEN connections after the server dropped them: \(now) of \(before)")
        let reader = try #require(people["reader"]?["token"])
        let first = try #require(items[0]["itemID"] as? Int64)
        async let stream = Subprocess.runDetached(
            "/usr/bin/curl", ["-s", "-N", "-m", "6", "-H", "Authorization: Bearer \(reader)", servers.b.baseURL + "/api/worklist/events"])
        try await Task.sleep(for: .seconds(2))
        let release = try await Subprocess.runDetached(
            "/usr/bin/curl",
            [
                "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "Authorization: Bearer \(reader)", "-H",
                "Content-Type: application/json", "--data", "{}", servers.a.baseURL + "/api/worklist/\(first)/release",
            ])
        #expect(release.output == "200")
        let streamed = try await stream.output
        #expect(
            streamed.contains("\"kind\":\"released\"") && streamed.contains("\"workItemID\":\(first)"),
            "B's stream after reconnecting: \(streamed)")

        // Work under one advisory key runs in one process at a time: of two at once, one runs and the other is told so.
        let left = try PostgresIndex(url: servers.databaseURL)
        let right = try PostgresIndex(url: servers.databaseURL)
        async let ranLeft = left.exclusively(key: 0x4D50_5445_5354) { try? await Task.sleep(for: .seconds(2)) }
        async let ranRight = right.exclusively(key: 0x4D50_5445_5354) { try? await Task.sleep(for: .seconds(2)) }
        let ran = try await [ranLeft, ranRight]
        #expect(ran.filter { $0 }.count == 1, "ran: \(ran)")
        for server in [servers.a, servers.b] {
            server.process.send(SIGTERM)
            #expect(await server.process.exitStatus(within: 60) == 0, "\(server.process.output.suffix(2000))")
        }
    }

    @Test(
        "Two processes ingest the same and different studies at once (C-STORE and STOW-RS): every instance once in the index and the bucket; SIGKILL mid-STOW leaves nothing half-done"
    )
    func ingest() async throws {
        let servers = try await TwoServers.start()
        defer { servers.stop() }
        let helper = try servers.helper()
        let token = try await helper.testToken("mp-admin")

        let same = try await makeInstances(120, studies: 2)
        let onlyA = try await makeInstances(80, studies: 2)
        let onlyB = try await makeInstances(80, studies: 2)
        let stowed = try await makeInstances(60, studies: 1)
        func storescu(_ server: AtriumServeProcess, _ files: [String: String]) throws -> PeerProcess {
            try PeerProcess("/usr/bin/storescu", ["-v", "-aec", "ATRIUM", "127.0.0.1", "\(server.dicomPort)"] + files.keys.sorted())
        }
        // Everything at once: the same study to both over C-STORE and over STOW-RS, a different one to each.
        let senders = [
            try storescu(servers.a, same), try storescu(servers.b, same), try storescu(servers.a, onlyA), try storescu(servers.b, onlyB),
        ]
        async let stowA = stow(servers.a.baseURL, token: token, files: stowed.keys.sorted())
        async let stowB = stow(servers.b.baseURL, token: token, files: stowed.keys.sorted())
        let stows = try await [stowA, stowB]
        for (sender, files) in zip(senders, [same, same, onlyA, onlyB]) {
            #expect(await sender.exitStatus(within: 300) == 0, "storescu: \(sender.output.suffix(1500))")
            #expect(acknowledgedFiles(sender.output).count == files.count, "acknowledged \(acknowledgedFiles(sender.output).count)")
        }
        for answer in stows {
            #expect(answer.status == 200, "STOW-RS \(answer.status)")
            #expect(Set(answer.stored) == Set(stowed.values), "STOW-RS stored \(answer.stored.count) of \(stowed.count)")
        }
        let sent = Set(same.values).union(onlyA.values).union(onlyB.values).union(stowed.values)
        #expect(sent.count == 340)
        // C-FIND on each process finds every instance, once.
        #expect(try await instancesByCFind(servers.a) == sent)
        #expect(try await instancesByCFind(servers.b) == sent)
        let rows = try await servers.psql("SELECT count(*), count(DISTINCT sop_uid) FROM instances")
        #expect(rows == ["\(sent.count)\t\(sent.count)"], "instances rows: \(rows)")
        // The bucket holds one object per instance and nothing else: the copies that lost were deleted.
        let keys = try await servers.psql("SELECT 'blobs/' || blob_key FROM instances")
        let bucket = try await bucketObjects(servers.moto)
        #expect(bucket.keys.count == sent.count, "objects \(bucket.keys.count) for \(sent.count) instances")
        #expect(Set(bucket.keys) == Set(keys))
        #expect(bucket.uploads == 0)
        print(
            "two processes: \(sent.count) instances sent (\(same.count + stowed.count) of them twice), \(rows), \(bucket.keys.count) objects"
        )

        // SIGKILL of A during one big STOW-RS request: B then shows only whole instances, and the sweep leaves the bucket
        // holding exactly the indexed instances.
        let big = try await makeInstances(400, studies: 1)
        let bigFile = try #require(big.keys.first)
        let bigHeader = try DICOMFile.read(contentsOf: bigFile, options: .stopBeforePixelData)
        let bigStudy = try #require(bigHeader.dataSet.string(.studyInstanceUID))
        let request = Task { try await stow(servers.a.baseURL, token: token, files: big.keys.sorted()) }
        var indexed = 0
        for _ in 0..<1200 where indexed < 20 {
            try await Task.sleep(for: .milliseconds(25))
            let count = try await servers.psql(
                "SELECT count(*) FROM instances i JOIN series se ON se.pk = i.series_pk JOIN studies st ON st.pk = se.study_pk "
                    + "WHERE st.study_uid = '\(bigStudy)'")
            indexed = Int(count.first ?? "") ?? 0
        }
        servers.a.process.send(SIGKILL)
        _ = await servers.a.process.exitStatus(within: 30)
        let answer = try? await request.value
        #expect(answer?.status != 200 || (answer?.stored.count ?? 0) < big.count, "the STOW-RS finished before the kill")
        let seenOnB = try await instancesByCFind(servers.b).subtracting(sent)
        #expect(seenOnB.count >= 20 && seenOnB.count < big.count, "after the kill B shows \(seenOnB.count) of \(big.count)")
        #expect(seenOnB.isSubset(of: Set(big.values)))
        // Every instance B shows is whole: its object in the bucket reads as that instance (pydicom-independent check:
        // DICOM parsing of the bytes the bucket holds).
        let archive = try servers.archive()
        let visible = try await archive.index.instances(studyInstanceUID: bigStudy, seriesInstanceUID: nil, sopInstanceUID: nil)
        #expect(Set(visible.map(\.sopInstanceUID)) == seenOnB)
        for instance in visible {
            let file = try Corpus.temporaryDirectory("multi-get") + "/blob.dcm"
            _ = try await servers.moto.boto("get", ["blobs/" + instance.blobKey.rawValue, file])
            #expect(try DICOMFile.read(contentsOf: file, options: .strict).dataSet.string(.sopInstanceUID) == instance.sopInstanceUID)
        }
        // Objects written but never indexed (the kill came between the two) are orphans the sweep removes; none other.
        let before = try await bucketObjects(servers.moto)
        let allKeys = Set(try await servers.psql("SELECT 'blobs/' || blob_key FROM instances"))
        let orphans = Set(before.keys).subtracting(allKeys)
        #expect(allKeys.isSubset(of: Set(before.keys)))
        #expect(try await archive.sweepOrphans(olderThanSeconds: -1) == orphans.count)
        let after = try await bucketObjects(servers.moto)
        #expect(Set(after.keys) == allKeys)
        print("SIGKILL mid-STOW: \(seenOnB.count) of \(big.count) indexed and whole, \(orphans.count) orphan objects swept")
        servers.b.process.send(SIGTERM)
        #expect(await servers.b.process.exitStatus(within: 60) == 0, "\(servers.b.process.output.suffix(2000))")
    }

    @Test(
        "Reports signed through both processes at once: each version's SR is stored once, next to its study, whichever sign route or maintenance round got there first; the bucket holds exactly what the index names"
    )
    func reportDocuments() async throws {
        let servers = try await TwoServers.start()
        defer { servers.stop() }
        let helper = try servers.helper()
        let study = try await storeFreshStudy(helper, file: "CT_small.dcm", institution: "COUNTY-A", accession: "ACC-MP-SR")
        let reader = try await helper.testToken("mp-sr-reader", roles: [.reader], institution: "MEDCOLLEGE")
        let site = ReadingActor(username: "mp-sr-site", displayName: "mp-sr-site")
        var items: [String] = []
        for n in 0..<12 {
            let (_, item) = try await helper.reading.file(
                NewConsultationRequest(
                    priority: .routine, referringPhysician: "", clinicalHistory: "", question: "Case \(n)?", studies: [study]),
                institution: "COUNTY-A", by: site)
            items.append("\(item.id)")
        }
        let run = try await Subprocess.runDetached(
            "python3",
            [
                Corpus.script("ServerTests", "multi_sign.py"), servers.a.baseURL, servers.b.baseURL, reader,
                "test password mp-sr-reader",
            ] + items)
        try #require(run.status == 0, "multi_sign.py: \(run.output)\(run.errorOutput.suffix(2000))")
        print("signed through both processes: \(run.output)")
        #expect(run.output.contains(#""final": 12"#), "\(run.output)")

        // Every version's documents stored (the rounds run each second), each SR once in the index.
        var pending = ["?"]
        for _ in 0..<120 {
            pending = try await servers.psql("SELECT count(*) FROM report_outbox WHERE stored_at IS NULL")
            if pending == ["0"] { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(pending == ["0"], "report documents still pending: \(pending)")
        let versions = try await servers.psql("SELECT count(*) FROM report_outbox")
        #expect(versions == ["12"])
        let indexed = try await servers.psql(
            "SELECT i.sop_uid, i.sop_class FROM instances i JOIN report_outbox o ON o.sop_instance_uid = i.sop_uid")
        #expect(indexed.count == 12 && indexed.allSatisfy { $0.contains("\t1.2.840.10008.5.1.4.1.1.88.") }, "\(indexed)")
        let srInStudy = try await servers.psql(
            "SELECT count(*) FROM instances i JOIN series s ON s.pk = i.series_pk JOIN studies t ON t.pk = s.study_pk "
                + "WHERE t.study_uid = '\(study)' AND i.sop_class LIKE '1.2.840.10008.5.1.4.1.1.88.%'")
        #expect(srInStudy == ["12"], "SR documents next to the study: \(srInStudy)")
        // A document both a sign route and a round stored left one object in the bucket; any other is an orphan the sweep
        // removes, after which the bucket holds exactly the indexed objects.
        let archive = try servers.archive()
        _ = try await archive.sweepOrphans(olderThanSeconds: -1)
        let keys = Set(try await servers.psql("SELECT 'blobs/' || blob_key FROM instances"))
        #expect(Set(try await bucketObjects(servers.moto).keys) == keys)
        let storedLines = (servers.a.process.output + servers.b.process.output).components(separatedBy: "report documents stored")
        print("'report documents stored' logged \(storedLines.count - 1) times for 12 versions")
        // Each sign route stores its own report's documents, racing at most the rounds: never every report's each time.
        #expect(storedLines.count - 1 <= 24, "report documents stored \(storedLines.count - 1) times for 12 versions")
    }

    @Test(
        "Behind nginx with both processes as upstreams: a session made through the proxy holds whichever process answers; 40 students answer an exam while one process is killed and started again; every acknowledged answer is stored, and both processes served answers"
    )
    func behindNginx() async throws {
        let servers = try await TwoServers.start()
        defer { servers.stop() }
        let helper = try servers.helper()
        let admin = try await helper.testToken("nginx-admin", roles: [.admin])
        let teacher = try await helper.testToken("nginx-teacher", roles: [.curator], institution: "MEDCOLLEGE")
        let nginx = try await ShippedNginx.start(upstreams: [servers.a.httpPort, servers.b.httpPort])
        defer { nginx.stop() }
        let base = "https://127.0.0.1:\(nginx.https)"
        let upstreamA = "127.0.0.1:\(servers.a.httpPort)"
        let upstreamB = "127.0.0.1:\(servers.b.httpPort)"

        // A browser's session (cookie) made through the proxy: nginx sends each request to the next process in turn.
        let jar = try Corpus.temporaryDirectory("multi-nginx-jar") + "/cookies"
        let signIn = try await Subprocess.runDetached(
            "/usr/bin/curl",
            [
                "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", nginx.certificate, "-c", jar, "-H",
                "Content-Type: application/json", "--data", #"{"username":"nginx-admin","password":"test password nginx-admin"}"#,
                base + "/api/session",
            ])
        #expect(["200", "201"].contains(signIn.output), "sign-in through nginx: \(signIn.output) \(signIn.errorOutput)")
        for _ in 0..<6 {
            let me = try await Subprocess.runDetached(
                "/usr/bin/curl", ["-s", "-w", "\n%{http_code}", "--cacert", nginx.certificate, "-b", jar, base + "/api/me"])
            #expect(me.output.hasSuffix("\n200") && me.output.contains("nginx-admin"), "\(me.output)")
        }
        let meServedBy = Set(nginx.accessLog().filter { $0.method == "GET" && $0.path == "/api/me" }.map(\.upstream))
        #expect(meServedBy == [upstreamA, upstreamB], "the session was read by both processes: \(meServedBy)")

        // The exam through the proxy; A is killed 8 s into 24 s of answering and started again on its port (nginx tries a
        // failed upstream again after its fail_timeout, 10 s by default, so the last seconds show A back).
        let state = try Corpus.temporaryDirectory("multi-nginx-exam") + "/state.json"
        let client = Corpus.repositoryRoot + "/bench/exam_client.py"
        let environment = ["REQUESTS_CA_BUNDLE": nginx.certificate]
        let setup = try await Subprocess.runDetached(
            "python3", [client, "setup", base, admin, teacher, "40", "10", state], environment: environment)
        try #require(setup.status == 0, "\(setup.output)\(setup.errorOutput.suffix(2000))")
        let students = try PeerProcess("python3", [client, "run", base, state, "24"], environment: environment)
        try await Task.sleep(for: .seconds(8))
        let killed = Date().timeIntervalSince1970
        servers.a.process.send(SIGKILL)
        _ = await servers.a.process.exitStatus(within: 30)
        let restarted = try await servers.a.restart()
        defer { restarted.process.stop() }
        let back = Date().timeIntervalSince1970
        #expect(await students.exitStatus(within: 300) == 0, "\(students.output)")
        let check = try await Subprocess.runDetached("python3", [client, "check", base, state], environment: environment)
        print("behind nginx, A killed and restarted: \(check.output)")
        #expect(check.status == 0, "\(check.output)\(check.errorOutput.suffix(2000))")
        // Which process acknowledged the answers (the access log's last upstream of each 200 PUT): both, before and after.
        let answers = nginx.accessLog().filter {
            $0.status == 200 && $0.method == "PUT" && $0.path.hasPrefix("/api/training/attempts/")
        }
        func count(_ upstream: String, _ range: Range<Double>) -> Int {
            answers.filter { $0.upstream == upstream && range.contains($0.time) }.count
        }
        let figures = [
            "A before the kill": count(upstreamA, 0..<killed), "B before the kill": count(upstreamB, 0..<killed),
            "B in the 5 s after the kill": count(upstreamB, killed..<killed + 5),
            "A after its restart": count(upstreamA, back..<Double.infinity), "B after": count(upstreamB, back..<Double.infinity),
        ]
        print("answers acknowledged per process: \(figures.sorted { $0.key < $1.key })")
        #expect(figures["A before the kill", default: 0] > 0 && figures["B before the kill", default: 0] > 0, "\(figures)")
        #expect(figures["B in the 5 s after the kill", default: 0] > 0, "the kill fell while students answered: \(figures)")
        #expect(figures["A after its restart", default: 0] > 0, "the restarted process answers again: \(figures)")
    }
}
