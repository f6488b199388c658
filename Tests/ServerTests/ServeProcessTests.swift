import Archive
import AtriumTesting
import DICOM
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A person made in `data` with `atrium user add` (with their institution, made first with `atrium institution add`,
/// when given) and an API token of theirs from `atrium token create`: for a server started on `data` afterwards.
func commandLineToken(data: String, username: String, role: String, institution: String? = nil) async throws -> String {
    let atrium = try AtriumExecutable.path()
    let passwordFile = data + "-password"
    try "\(username) long password\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
    var person = ["user", "add", username, "--role", role, "--password-file", passwordFile, "--data", data]
    if let institution {
        let made = try await Subprocess.runDetached(
            atrium, ["institution", "add", institution, "--kind", "grassroots-hospital", "--data", data])
        guard made.status == 0 else { throw PeerError("atrium institution add: \(made.errorOutput)") }
        person += ["--institution", institution]
    }
    var made = try await Subprocess.runDetached(atrium, person)
    guard made.status == 0 else { throw PeerError("atrium user add: \(made.errorOutput)") }
    made = try await Subprocess.runDetached(atrium, ["token", "create", "--user", username, "--data", data])
    guard made.status == 0, let token = made.output.split(separator: "\n").last.map(String.init) else {
        throw PeerError("atrium token create: \(made.output)\(made.errorOutput)")
    }
    return token
}

/// The files storescu (`-v`) reports as stored: each "Sending file:" line answered by a successful C-STORE-RSP.
func acknowledgedFiles(_ storescuOutput: String) -> [String] {
    var current: String?
    var acknowledged: [String] = []
    for line in storescuOutput.split(separator: "\n") {
        if let range = line.range(of: "Sending file: ") {
            current = String(line[range.upperBound...])
        } else if line.contains("Received Store Response (Success)"), let file = current {
            acknowledged.append(file)
            current = nil
        }
    }
    return acknowledged
}

/// The SOP Instance UID of each file, read by pydicom.
func sopInstanceUIDs(_ directory: String) async throws -> [String: String] {
    let script = """
        import sys, os, json, pydicom
        d = sys.argv[1]
        print(json.dumps({os.path.join(d, n): str(pydicom.dcmread(os.path.join(d, n), stop_before_pixels=True).SOPInstanceUID)
                          for n in os.listdir(d) if n.endswith('.dcm')}))
        """
    let run = try await Subprocess.runDetached("python3", ["-c", script, directory])
    guard run.status == 0, let map = try JSONSerialization.jsonObject(with: run.standardOutput) as? [String: String] else {
        throw PeerError("reading UIDs with pydicom failed: \(run.errorOutput)")
    }
    return map
}

/// The SOP Instance UIDs dcmtk's findscu finds (Study Root C-FIND): the studies, then the instances of each.
func instancesByCFind(_ server: AtriumServeProcess) async throws -> Set<String> {
    func find(_ keys: [String], returning tag: String) async throws -> Set<String> {
        let findscu = try PeerProcess(
            "/usr/bin/findscu", ["-v", "-S", "-aec", "ATRIUM"] + keys.flatMap { ["-k", $0] } + ["127.0.0.1", "\(server.dicomPort)"])
        guard await findscu.exitStatus(within: 120) == 0 else { throw PeerError("findscu failed: \(findscu.output.suffix(1000))") }
        var values = Set<String>()
        for line in findscu.output.split(separator: "\n") where line.contains("(\(tag)) UI [") {
            guard let open = line.firstIndex(of: "["), let close = line.lastIndex(of: "]") else { continue }
            // dcmtk prints a UID's trailing NUL padding.
            values.insert(String(line[line.index(after: open)..<close]).trimmingCharacters(in: CharacterSet(charactersIn: "\0 ")))
        }
        return values
    }
    var instances = Set<String>()
    for study in try await find(["QueryRetrieveLevel=STUDY", "StudyInstanceUID"], returning: "0020,000d") {
        instances.formUnion(
            try await find(["QueryRetrieveLevel=IMAGE", "StudyInstanceUID=\(study)", "SOPInstanceUID"], returning: "0008,0018"))
    }
    return instances
}

/// Polls storescu's output until it reports `count` stored files (or it exits).
func waitForAcknowledgements(_ storescu: PeerProcess, count: Int) async throws {
    let deadline = Date().addingTimeInterval(120)
    while acknowledgedFiles(storescu.output).count < count {
        guard storescu.isRunning, Date() < deadline else {
            throw PeerError("storescu stored fewer than \(count) files:\n\(storescu.output.suffix(2000))")
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// Every instance the index lists has a whole blob with its UID; orphan blobs (written, never committed) are swept.
func checkNothingHalfWritten(_ data: String, expectedIndexed: Set<String>) async throws {
    let archive = try Archive.open(directory: data)
    let indexed = try await archive.index.instances(studyInstanceUID: nil, seriesInstanceUID: nil, sopInstanceUID: nil)
    #expect(Set(indexed.map(\.sopInstanceUID)) == expectedIndexed)
    for instance in indexed {
        guard case .file(let path) = try await archive.blobs.get(instance.blobKey) else {
            Issue.record("the blob of \(instance.sopInstanceUID) is missing")
            continue
        }
        #expect(try DICOMFile.read(contentsOf: path, options: .strict).dataSet.string(.sopInstanceUID) == instance.sopInstanceUID)
    }
    // Empty files are spare files (made ahead of need) of the killed server: no blobs, left until two days old.
    let orphans = try await archive.blobs.list().filter { $0.sizeBytes != 0 }.count - indexed.count
    #expect(try await archive.sweepOrphans(olderThanSeconds: -1) == orphans)
    #expect(try await archive.blobs.list().filter { $0.sizeBytes != 0 }.count == indexed.count)
}

/// A storescu transfer into `atrium serve` under way: `total` generated instances, storescu sending them all in one
/// association, at least `acknowledgements` of them already acknowledged.
private struct Transfer {
    /// SOP Instance UID by file path.
    let uids: [String: String]
    let data: String
    let server: AtriumServeProcess
    let storescu: PeerProcess

    static func start(total: Int, acknowledgements: Int) async throws -> Transfer {
        let studies = try Corpus.temporaryDirectory("serve-transfer-studies")
        let made = try await Subprocess.runDetached("python3", [Corpus.script("ArchiveTests", "make_studies.py"), studies, "\(total)"])
        guard made.status == 0 else { throw PeerError("make_studies.py failed: \(made.errorOutput)") }
        let uids = try await sopInstanceUIDs(studies)
        guard uids.count == total else { throw PeerError("make_studies.py wrote \(uids.count) files, not \(total)") }
        let data = try Corpus.temporaryDirectory("serve-transfer-data")
        let server = try await AtriumServeProcess.start(data: data)
        let storescu = try PeerProcess(
            "/usr/bin/storescu", ["-v", "-aec", "ATRIUM", "127.0.0.1", "\(server.dicomPort)"] + uids.keys.sorted())
        try await waitForAcknowledgements(storescu, count: acknowledgements)
        return Transfer(uids: uids, data: data, server: server, storescu: storescu)
    }

    /// The SOP Instance UIDs of the files storescu saw acknowledged so far.
    var acknowledged: Set<String> { Set(acknowledgedFiles(storescu.output).compactMap { uids[$0] }) }
}

@Suite("atrium serve as a process: SIGKILL and SIGTERM during C-STORE", .serialized)
struct ServeProcessTests {
    @Test("After SIGKILL during a storescu transfer, every acknowledged instance is found by C-FIND on restart, nothing half-written")
    func killDuringStore() async throws {
        let total = 500
        let transfer = try await Transfer.start(total: total, acknowledgements: 40)
        defer { transfer.storescu.stop() }
        transfer.server.process.send(SIGKILL)
        _ = await transfer.server.process.exitStatus(within: 30)
        _ = await transfer.storescu.exitStatus(within: 60)
        let acknowledged = transfer.acknowledged
        #expect(acknowledged.count >= 40)
        #expect(acknowledged.count < total, "storescu finished before the server was killed")

        let restarted = try await AtriumServeProcess.start(data: transfer.data)
        let present = try await instancesByCFind(restarted)
        #expect(acknowledged.isSubset(of: present), "acknowledged but missing: \(acknowledged.subtracting(present).sorted().prefix(5))")
        #expect(present.isSubset(of: Set(transfer.uids.values)))
        restarted.process.send(SIGTERM)
        #expect(await restarted.process.exitStatus(within: 60) == 0, "\(restarted.process.output.suffix(2000))")
        try await checkNothingHalfWritten(transfer.data, expectedIndexed: present)
    }

    @Test("SIGTERM during a storescu transfer: the association in flight finishes, the server exits 0, all of it is kept")
    func terminateDuringStore() async throws {
        let total = 300
        let transfer = try await Transfer.start(total: total, acknowledgements: 20)
        defer { transfer.storescu.stop() }
        transfer.server.process.send(SIGTERM)
        let serverStatus = await transfer.server.process.exitStatus(within: 90)
        let storescuStatus = await transfer.storescu.exitStatus(within: 90)
        #expect(serverStatus == 0, "\(transfer.server.process.output.suffix(2000))")
        #expect(storescuStatus == 0, "\(transfer.storescu.output.suffix(2000))")
        let acknowledged = transfer.acknowledged
        #expect(acknowledged.count == total, "the association in flight was cut off after \(acknowledged.count) stores")

        let restarted = try await AtriumServeProcess.start(data: transfer.data)
        let present = try await instancesByCFind(restarted)
        #expect(acknowledged.isSubset(of: present))
        restarted.process.send(SIGTERM)
        #expect(await restarted.process.exitStatus(within: 60) == 0)
        try await checkNothingHalfWritten(transfer.data, expectedIndexed: present)
    }
}
