import Archive
import AtriumTesting
import DICOM
import Foundation
import Server
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Polls `body` every 200 ms until it returns true; fails with `what` after `seconds`.
private func waitUntil(_ what: String, seconds: Double = 120, _ body: () throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while try !body() {
        guard Date() < deadline else { throw PeerError("waited \(Int(seconds)) s for \(what)") }
        try await Task.sleep(for: .milliseconds(200))
    }
}

/// `fault_load.py` running against one server: storescu, QIDO-RS and WADO-RS at once, tagged with the test's phase.
private struct Load {
    let control: String
    let process: PeerProcess

    static func start(_ server: AtriumServeProcess, token: String, files: String) throws -> Load {
        let control = try Corpus.temporaryDirectory("atrium-fault-load")
        try "before".write(toFile: control + "/phase", atomically: true, encoding: .utf8)
        let process = try PeerProcess(
            "python3",
            [Corpus.script("ServerTests", "fault_load.py"), server.baseURL, "\(server.dicomPort)", token, files, control])
        return Load(control: control, process: process)
    }

    func set(_ phase: String) throws { try phase.write(toFile: control + "/phase", atomically: true, encoding: .utf8) }

    /// The counts so far: "kind phase outcome" → n.
    func counts() -> [String: Int] {
        guard let data = FileManager.default.contents(atPath: control + "/progress.json"),
            let progress = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return [:] }
        return progress["counts"] as? [String: Int] ?? [:]
    }

    func count(_ key: String) -> Int { counts()[key] ?? 0 }

    /// Waits for `body`; on failure the error holds the counts so far and what the load printed.
    func wait(_ what: String, seconds: Double = 120, _ body: () throws -> Bool) async throws {
        do {
            try await waitUntil(what, seconds: seconds, body)
        } catch {
            let progress = (try? String(contentsOfFile: control + "/progress.json", encoding: .utf8)) ?? ""
            throw PeerError("\(error): \(progress) \(process.output.suffix(2000))")
        }
    }

    /// Requests of `kind` answered in `phase` with anything but success.
    func failures(_ kind: String, _ phase: String) -> [String: Int] {
        counts().filter { $0.key.hasPrefix("\(kind) \(phase) ") && !$0.key.hasSuffix(" ok") }
    }

    /// Stops the load and returns its summary (counts, samples of failures, acknowledged SOP Instance UIDs).
    func finish() async throws -> (counts: [String: Int], samples: [String: String], acknowledged: Set<String>) {
        try set("stop")
        guard await process.exitStatus(within: 120) == 0,
            let line = process.output.split(separator: "\n").last,
            let summary = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        else { throw PeerError("fault_load.py failed: \(process.output.suffix(3000))") }
        return (
            summary["counts"] as? [String: Int] ?? [:], summary["samples"] as? [String: String] ?? [:],
            Set(summary["acknowledged"] as? [String] ?? [])
        )
    }
}

/// Three hundred generated instances in twelve studies (make_studies.py) and their SOP Instance UIDs by path.
private func makeFiles(_ count: Int = 300) async throws -> (directory: String, uids: [String: String]) {
    let directory = try Corpus.temporaryDirectory("atrium-fault-files")
    let made = try await Subprocess.runDetached("python3", [Corpus.script("ArchiveTests", "make_studies.py"), directory, "\(count)"])
    guard made.status == 0 else { throw PeerError("make_studies.py failed: \(made.errorOutput)") }
    return (directory, try await sopInstanceUIDs(directory))
}

/// A server on the same configuration as the `atrium serve` a test runs (for what is done in-process: tokens, sweeps).
private func sameServer(data: String, database: String? = nil, environment: [String: String] = [:], storage: String? = nil)
    throws -> AtriumServer
{
    var configuration = ServerConfiguration()
    configuration.dataDirectory = data
    if let database { try configuration.set("database", database, source: "test") }
    if let storage {
        try configuration.set("storage", storage, source: "test")
        if let endpoint = environment["AWS_ENDPOINT_URL"] { try configuration.set("storageEndpoint", endpoint, source: "test") }
    }
    return try AtriumServer(configuration: configuration, environment: environment)
}

/// An administrator's API token, made through a server on the same configuration before `atrium serve` runs.
private func adminToken(data: String, database: String? = nil, environment: [String: String] = [:], storage: String? = nil)
    async throws -> String
{
    try await sameServer(data: data, database: database, environment: environment, storage: storage).testToken(
        "fault-admin", roles: [.admin])
}

@Suite("Faults: SIGKILL during publication and answering, PostgreSQL restarted, the bucket unreachable", .serialized)
struct FaultTests {
    @Test(
        "SIGKILL while curators make, submit and approve 24 cases at once: after a restart each case is published with its de-identified copy readable, or unpublished with it; none half-made"
    )
    func killDuringPublication() async throws {
        let data = try Corpus.temporaryDirectory("atrium-fault-publication")
        var configuration = ServerConfiguration()
        configuration.dataDirectory = data
        var studies: [[String: String]] = []
        let tokenA: String
        let tokenB: String
        do {
            let setup = try AtriumServer(configuration: configuration)
            let source = try DICOMFile.read(contentsOf: try Corpus.pydicomDataDirectory() + "/test_files/CT_small.dcm")
            for n in 0..<24 {
                var dicom = source
                let (study, sop) = (UID.generate(), UID.generate())
                dicom.dataSet.set(.studyInstanceUID, .UI, study)
                dicom.dataSet.set(.seriesInstanceUID, .UI, UID.generate())
                dicom.dataSet.set(.sopInstanceUID, .UI, sop)
                dicom.dataSet.set(.patientName, .PN, "Fault^Patient\(n)")
                dicom.dataSet.set(.patientID, .LO, "FAULT-\(n)")
                dicom.fileMetaInformation = DataSet()
                _ = try await setup.archive.store(
                    try dicom.encoded(), source: SourceInfo(applicationEntityTitle: "PACS", institution: "MEDCOLLEGE", transport: .cStore))
                studies.append(["study": study, "sop": sop, "patientName": "Fault^Patient\(n)", "patientID": "FAULT-\(n)"])
            }
            tokenA = try await setup.testToken("fault-curator-a", roles: [.curator], institution: "MEDCOLLEGE")
            tokenB = try await setup.testToken("fault-curator-b", roles: [.curator], institution: "MEDCOLLEGE")
            await setup.identity.audit.flush()
        }
        let directory = try Corpus.temporaryDirectory("atrium-fault-publication-run")
        let studiesFile = directory + "/studies.json"
        try JSONSerialization.data(withJSONObject: studies).write(to: URL(fileURLWithPath: studiesFile))
        let acks = directory + "/acks.txt"
        FileManager.default.createFile(atPath: acks, contents: nil)

        let first = try await AtriumServeProcess.start(data: data)
        let curators = try PeerProcess(
            "python3", [Corpus.script("ServerTests", "fault_library.py"), "run", first.baseURL, tokenA, tokenB, studiesFile, acks])
        // Killed once two cases are published: the others are somewhere between flagging and approval.
        try await waitUntil("two published cases") {
            let text = (try? String(contentsOfFile: acks, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").filter { $0.hasPrefix("published") }.count >= 2 || !curators.isRunning
        }
        first.process.send(SIGKILL)
        _ = await first.process.exitStatus(within: 30)
        _ = await curators.exitStatus(within: 60)
        print("curators before the kill: \(curators.output.suffix(3000))")
        let acknowledged = ((try? String(contentsOfFile: acks, encoding: .utf8)) ?? "").split(separator: "\n")
        let published = acknowledged.filter { $0.hasPrefix("published") }.count
        #expect(published >= 2 && published < 24, "the kill did not fall while cases were under way: \(published) published")

        let second = try await first.restart()
        defer { second.process.stop() }
        let check = try await Subprocess.runDetached(
            "python3",
            [Corpus.script("ServerTests", "fault_library.py"), "check", second.baseURL, tokenA, data + "/atrium.sqlite", acks, studiesFile])
        print("after restart: \(check.output)")
        #expect(check.status == 0, "\(check.output)\(check.errorOutput.suffix(2000))")
    }

    @Test(
        "SIGKILL while 40 students answer an exam: restarted on the same port, every answer acknowledged before is stored with its value (bench/exam_client.py)"
    )
    func killDuringAnswering() async throws {
        let data = try Corpus.temporaryDirectory("atrium-fault-exam")
        var configuration = ServerConfiguration()
        configuration.dataDirectory = data
        let admin: String
        let teacher: String
        do {
            let setup = try AtriumServer(configuration: configuration)
            admin = try await setup.testToken("fault-exam-admin", roles: [.admin])
            teacher = try await setup.testToken("fault-exam-teacher", roles: [.curator], institution: "MEDCOLLEGE")
        }
        let state = try Corpus.temporaryDirectory("atrium-fault-exam-state") + "/state.json"
        let client = Corpus.repositoryRoot + "/bench/exam_client.py"
        let first = try await AtriumServeProcess.start(data: data)
        let setup = try await Subprocess.runDetached("python3", [client, "setup", first.baseURL, admin, teacher, "40", "10", state])
        try #require(setup.status == 0, "\(setup.output)\(setup.errorOutput.suffix(2000))")
        // The students answer for 20 s (each question after a random think time, a fifth changed later); the server is
        // killed 8 s in and started again; answers in flight are retried by the students until acknowledged.
        let students = try PeerProcess("python3", [client, "run", first.baseURL, state, "20"])
        try await Task.sleep(for: .seconds(8))
        first.process.send(SIGKILL)
        _ = await first.process.exitStatus(within: 30)
        let second = try await first.restart()
        defer { second.process.stop() }
        #expect(await students.exitStatus(within: 300) == 0, "\(students.output)")
        let check = try await Subprocess.runDetached("python3", [client, "check", second.baseURL, state])
        print(check.output)
        #expect(check.status == 0, "\(check.output)\(check.errorOutput.suffix(2000))")
        // The kill fell while students answered: some of them had to retry.
        let line = String(check.output.split(separator: "\n").first { $0.hasPrefix("answers acknowledged") } ?? "")
        let retried = line.components(separatedBy: "5xx: ").last.flatMap { Int($0.prefix { $0.isNumber }) }
        #expect((retried ?? 0) > 0, "no answer was retried: the kill missed the answering")
    }

    @Test(
        "PostgreSQL shut down and started again under storescu, QIDO-RS and WADO-RS: clear failures while it is down, recovery without a restart, every acknowledged instance there"
    )
    func postgresRestartedUnderLoad() async throws {
        let postgres = try await PostgresServer.start()
        defer { postgres.stop() }
        let database = try await postgres.createDatabase("faults")
        let data = try Corpus.temporaryDirectory("atrium-fault-postgres")
        let token = try await adminToken(data: data, database: database)
        let (files, uids) = try await makeFiles()
        let server = try await AtriumServeProcess.start(data: data, environment: ["ATRIUM_DATABASE": database])
        defer { server.process.stop() }
        let load = try Load.start(server, token: token, files: files)
        defer { load.process.stop() }
        try await load.wait("30 instances stored and queries answered") {
            load.count("store before ok") >= 30 && load.count("qido before ok") >= 3 && load.count("wado before ok") >= 3
        }
        try await postgres.shutDown()
        try load.set("fault")
        try await Task.sleep(for: .seconds(15))
        try load.set("after")
        try await postgres.startAgain()
        try await load.wait("stores and queries answered again after PostgreSQL came back", seconds: 180) {
            load.count("store after ok") >= 20 && load.count("qido after ok") >= 3 && load.count("wado after ok") >= 3
        }
        try await load.wait("every file acknowledged", seconds: 300) {
            load.counts().filter { $0.key.hasPrefix("store") && $0.key.hasSuffix(" ok") }.values.reduce(0, +) >= uids.count
        }
        let summary = try await load.finish()
        print("PostgreSQL restarted under load: \(summary.counts.sorted { $0.key < $1.key }) \(summary.samples)")
        try checkOutage(summary, kinds: ["store", "qido", "wado"], server: server)
        // Every C-STORE was answered, the ones in flight when the server went away too (they once waited for storescu's
        // 30-s timeout: PostgresNIO dropped a statement written to a connection that had just closed).
        let unanswered = summary.counts.filter { $0.key.hasPrefix("store") && $0.key.hasSuffix("no-answer") }
        #expect(unanswered.isEmpty, "C-STOREs without an answer: \(unanswered) \(summary.samples)")
        #expect(summary.acknowledged == Set(uids.values))
        #expect(server.process.isRunning)
        let present = try await instancesByCFind(server)
        #expect(summary.acknowledged.isSubset(of: present), "missing: \(summary.acknowledged.subtracting(present).count)")
        #expect(present.count == uids.count, "each instance once")
    }

    @Test(
        "The S3 bucket unreachable for a while (a proxy in front of moto refuses connections): C-STORE and WADO-RS fail clearly, QIDO-RS goes on; afterwards every acknowledged instance is retrieved"
    )
    func bucketUnreachable() async throws {
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        let motoPort = try #require(moto.endpoint.split(separator: ":").last.flatMap { Int($0) })
        let proxyPort = try LoopbackPort.free()
        let control = try Corpus.temporaryDirectory("atrium-fault-proxy") + "/state"
        try "open".write(toFile: control, atomically: true, encoding: .utf8)
        let proxy = try PeerProcess("python3", [Corpus.script("ServerTests", "tcp_proxy.py"), "\(proxyPort)", "\(motoPort)", control])
        defer { proxy.stop() }
        try await LoopbackPort.waitForListener(proxyPort, seconds: 30)
        var environment = moto.environment
        environment["AWS_ENDPOINT_URL"] = "http://127.0.0.1:\(proxyPort)"
        let data = try Corpus.temporaryDirectory("atrium-fault-s3")
        let storage = "s3://\(moto.bucket)/blobs"
        let token = try await adminToken(data: data, environment: environment, storage: storage)
        let (files, uids) = try await makeFiles()
        environment["ATRIUM_STORAGE"] = storage
        environment["ATRIUM_STORAGE_ENDPOINT"] = "http://127.0.0.1:\(proxyPort)"
        let server = try await AtriumServeProcess.start(data: data, environment: environment)
        defer { server.process.stop() }
        let load = try Load.start(server, token: token, files: files)
        defer { load.process.stop() }
        try await load.wait("30 instances stored and retrieved") {
            load.count("store before ok") >= 30 && load.count("qido before ok") >= 3 && load.count("wado before ok") >= 3
        }
        // Cut for 45 s: each object store request is tried four times, each try allowed 5 s to connect, before it fails.
        // "cutting" until the proxy says it cut: requests in flight at that moment (a WADO-RS body broken off after its
        // 200) are neither before nor inside the fault.
        try load.set("cutting")
        try "cut".write(toFile: control, atomically: true, encoding: .utf8)
        try await waitUntil("the proxy cut", seconds: 10) { proxy.output.contains("cut") }
        try load.set("fault")
        try await Task.sleep(for: .seconds(45))
        try load.set("after")
        try "open".write(toFile: control, atomically: true, encoding: .utf8)
        try await load.wait("stores and retrievals answered again after the bucket came back", seconds: 180) {
            load.count("store after ok") >= 20 && load.count("wado after ok") >= 3
        }
        try await load.wait("every file acknowledged", seconds: 300) {
            load.counts().filter { $0.key.hasPrefix("store") && $0.key.hasSuffix(" ok") }.values.reduce(0, +) >= uids.count
        }
        let summary = try await load.finish()
        print("bucket unreachable under load: \(summary.counts.sorted { $0.key < $1.key }) \(summary.samples)")
        try checkOutage(summary, kinds: ["store", "wado"], server: server)
        #expect(summary.counts.keys.contains { $0.hasPrefix("qido fault ok") }, "QIDO-RS needs only the index: it goes on")
        #expect(summary.acknowledged == Set(uids.values))
        let present = try await instancesByCFind(server)
        #expect(present == Set(uids.values))
        // Every indexed instance has its object in the bucket. A PUT the store completed while its answer was cut off
        // leaves an object no row refers to (the C-STORE was refused and sent again): invisible, and removed by the
        // orphan sweep, after which the bucket holds exactly the indexed objects.
        server.process.send(SIGTERM)
        _ = await server.process.exitStatus(within: 60)
        let archive = try sameServer(data: data, environment: environment, storage: storage).archive
        let indexed = try await archive.index.instances(studyInstanceUID: nil, seriesInstanceUID: nil, sopInstanceUID: nil)
        #expect(Set(indexed.map(\.sopInstanceUID)) == Set(uids.values))
        let before = try await moto.boto("list", ["blobs/"])
        let keysBefore = Set((before["objects"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String })
        let wanted = Set(indexed.map { "blobs/" + $0.blobKey.rawValue })
        #expect(wanted.isSubset(of: keysBefore), "indexed instances without their object: \(wanted.subtracting(keysBefore).count)")
        let swept = try await archive.sweepOrphans(olderThanSeconds: -1)
        let after = try await moto.boto("list", ["blobs/"])
        let keysAfter = Set((after["objects"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String })
        #expect(keysAfter == wanted, "\(keysAfter.count) objects for \(wanted.count) instances after sweeping \(swept)")
        print("objects in the bucket: \(keysBefore.count) for \(wanted.count) instances; orphans swept: \(swept)")
    }

    /// While the fault lasted each kind in `kinds` failed and none succeeded; each failure was a clear one (a C-STORE
    /// failure status; HTTP 503 with a message), none went unanswered; the server logged the cause.
    private func checkOutage(
        _ summary: (counts: [String: Int], samples: [String: String], acknowledged: Set<String>), kinds: [String],
        server: AtriumServeProcess
    ) throws {
        for kind in kinds {
            let during = summary.counts.filter { $0.key.hasPrefix("\(kind) fault ") }
            #expect(during["\(kind) fault ok"] == nil, "\(kind) succeeded while the fault lasted: \(during)")
            #expect(!during.isEmpty, "no \(kind) request fell inside the fault")
            let outcomes = Set(during.keys.map { String($0.split(separator: " ")[2]) })
            let clear: Set<String> = kind == "store" ? ["failed"] : ["503"]
            #expect(outcomes.isSubset(of: clear), "\(kind) during the fault: \(during) \(summary.samples)")
            for (key, text) in summary.samples where key.hasPrefix("\(kind) fault ") {
                #expect(!text.isEmpty, "\(key) without a reason")
            }
        }
        #expect(
            summary.counts.keys.allSatisfy { !$0.hasSuffix("no-answer") || $0.contains(" mixed ") || $0.contains(" cutting ") },
            "\(summary.counts)")
        print(
            "server log during the fault: \(server.process.output.split(separator: "\n").filter { $0.contains("error") || $0.contains("warning") }.prefix(8))"
        )
    }
}
