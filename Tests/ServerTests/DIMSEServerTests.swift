import Archive
import AtriumTesting
import DICOM
import Foundation
import Server
import Testing

/// An Atrium server with HTTP and DIMSE on free loopback ports and a fresh data directory, stopped by `stop()`.
final class DIMSETestServer: @unchecked Sendable {
    let httpPort: Int
    let dicomPort: Int
    let server: AtriumServer
    private let tasks: [Task<Void, Error>]

    static func start(peers: [PeerConfiguration] = [], allowUnknownPeers: Bool = true) async throws -> DIMSETestServer {
        var configuration = ServerConfiguration()
        configuration.dataDirectory = try Corpus.temporaryDirectory("atrium-dimse-server")
        configuration.httpPort = 0
        configuration.dicomPort = 0
        configuration.host = "127.0.0.1"
        configuration.peers = peers
        configuration.allowUnknownPeers = allowUnknownPeers
        let server = try AtriumServer(configuration: configuration)
        let (http, httpContinuation) = AsyncStream.makeStream(of: Int.self)
        let (dicom, dicomContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = server.makeApplication { port in httpContinuation.yield(port) }
        let listener = server.makeDIMSEListener { port in dicomContinuation.yield(port) }
        let tasks = [Task { try await app.run() }, Task { try await listener.run() }]
        var httpPorts = http.makeAsyncIterator()
        var dicomPorts = dicom.makeAsyncIterator()
        guard let httpPort = await httpPorts.next(), let dicomPort = await dicomPorts.next() else {
            throw PeerError("the server did not start")
        }
        return DIMSETestServer(httpPort: httpPort, dicomPort: dicomPort, server: server, tasks: tasks)
    }

    private init(httpPort: Int, dicomPort: Int, server: AtriumServer, tasks: [Task<Void, Error>]) {
        self.httpPort = httpPort
        self.dicomPort = dicomPort
        self.server = server
        self.tasks = tasks
    }

    func stop() async {
        for task in tasks { task.cancel() }
        for task in tasks { _ = await task.result }
    }

    /// Runs a dcmtk tool against the server's DIMSE port and returns its exit status and output.
    func dcmtk(_ tool: String, _ arguments: [String], files: [String] = [], seconds: Double = 60) async throws -> (
        status: Int32?, output: String
    ) {
        let peer = try PeerProcess("/usr/bin/" + tool, arguments + ["127.0.0.1", String(dicomPort)] + files)
        let status = await peer.exitStatus(within: seconds)
        peer.stop()
        return (status, peer.output)
    }
}

private func pydicomTestFile(_ name: String) throws -> String { try Corpus.pydicomDataDirectory() + "/test_files/" + name }

private func files(under directory: String) -> [String] {
    guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
    return walker.compactMap { $0 as? String }.map { directory + "/" + $0 }.filter {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: $0, isDirectory: &isDirectory) && !isDirectory.boolValue
    }
}

/// Compares, with pydicom, each sent file with the received file of the same SOP Instance UID: data sets equal once group
/// lengths and trailing padding are dropped (dcmtk re-encodes, dropping both), and the same transfer syntax. Prints OK n or
/// the differences.
private let pydicomCompare = """
    import sys, os, pydicom
    sent, stored = sys.argv[1].split(','), sys.argv[2]
    def load(path):
        ds = pydicom.dcmread(path)
        for tag in [t for t in ds.keys() if t.element == 0 or t == 0xFFFCFFFC]:
            del ds[tag]
        return ds
    index = {}
    for root, _, names in os.walk(stored):
        for name in names:
            try:
                ds = pydicom.dcmread(os.path.join(root, name), stop_before_pixels=True)
            except Exception:
                continue
            index[str(ds.SOPInstanceUID)] = os.path.join(root, name)
    bad = 0
    for path in sent:
        a = load(path)
        other = index.get(str(a.SOPInstanceUID))
        if other is None:
            print('MISSING', path); bad += 1; continue
        b = load(other)
        if a != b or a.file_meta.TransferSyntaxUID != b.file_meta.TransferSyntaxUID:
            print('DIFFERENT', path, [str(e.tag) for e in a if e.tag not in b or a[e.tag] != b[e.tag]][:5]); bad += 1
    print('OK', len(sent) - bad) if bad == 0 else print('BAD', bad)
    """

private func compareWithPydicom(sent: [String], stored: String) async throws -> String {
    let run = try await Subprocess.runDetached("python3", ["-W", "ignore", "-c", pydicomCompare, sent.joined(separator: ","), stored])
    return (run.output + run.errorOutput).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// Stores the session files: the uncompressed ones in one storescu run from an unknown AE, JPEG 2000 from a configured peer.
private func storeSessionFiles(_ server: DIMSETestServer) async throws -> [String] {
    let uncompressed = try ["CT_small.dcm", "MR_small.dcm", "rtdose.dcm", "SC_rgb_small_odd.dcm"].map(pydicomTestFile)
    let first = try await server.dcmtk("storescu", ["-R", "-aec", "ATRIUM"], files: uncompressed)
    #expect(first.status == 0, "\(first.output)")
    let jpeg2000 = try pydicomTestFile("JPEG2000.dcm")
    let second = try await server.dcmtk("storescu", ["-xw", "-aet", "COUNTY", "-aec", "ATRIUM"], files: [jpeg2000])
    #expect(second.status == 0, "\(second.output)")
    return uncompressed + [jpeg2000]
}

private let county = PeerConfiguration(
    aeTitle: "COUNTY", host: "127.0.0.1", port: 1, institution: "County Hospital", permissions: ["store", "query", "retrieve"])

@Suite("atrium serve's DIMSE listener with dcmtk", .serialized)
struct DIMSEServerTests {
    @Test("storescu stores into the archive: QIDO sees the studies, the blobs equal what was sent, a peer's institution is kept")
    func storeThenSearch() async throws {
        let server = try await DIMSETestServer.start(peers: [county])
        let sent = try await storeSessionFiles(server)
        let counts = try await server.server.archive.index.counts()
        #expect(counts.instances == sent.count)
        // curl as a peer process, waited for without blocking: a blocking wait could hold the cooperative thread the
        // in-process server needs to answer (two threads on these machines, and suites run in parallel).
        let token = try await server.server.testToken(roles: [.reader])
        let qido = try PeerProcess(
            "/usr/bin/curl", ["-s", "-H", "Authorization: Bearer \(token)", "http://127.0.0.1:\(server.httpPort)/dicom-web/studies"])
        #expect(await qido.exitStatus(within: 30) == 0)
        let studies = try #require(try JSONSerialization.jsonObject(with: Data(qido.output.utf8)) as? [[String: Any]])
        #expect(studies.count == sent.count)
        let comparison = try await compareWithPydicom(sent: sent, stored: server.server.configuration.dataDirectory + "/blobs")
        #expect(comparison == "OK \(sent.count)", "\(comparison)")

        var identifier = DataSet()
        identifier.set(.queryRetrieveLevel, .CS, "STUDY")
        identifier.set(.studyInstanceUID, .UI, "1.3.6.1.4.1.5962.1.2.8.20040826185059.5457")
        identifier.set(.issuerOfPatientID, .LO, "")
        let issuers = try await server.server.archive.index.find(ArchiveQuery(cFindIdentifier: identifier, model: .studyRoot))
        #expect(issuers.map { $0.string(.issuerOfPatientID) } == ["County Hospital"])
        await server.stop()
    }

    @Test("findscu at study level with a patient name wildcard returns exactly the matching studies, with the retrieve AE title")
    func findStudiesByName() async throws {
        let server = try await DIMSETestServer.start(peers: [county])
        _ = try await storeSessionFiles(server)
        func find(_ name: String) async throws -> (studies: Set<String>, output: String) {
            let run = try await server.dcmtk(
                "findscu",
                [
                    "-v", "-S", "-aec", "ATRIUM", "-k", "QueryRetrieveLevel=STUDY", "-k", "PatientName=\(name)", "-k", "StudyInstanceUID",
                    "-k", "RetrieveAETitle",
                ], seconds: 30)
            #expect(run.status == 0, "\(run.output)")
            let uids = run.output.split(separator: "\n").compactMap { line -> String? in
                guard line.contains("(0020,000d) UI ["), let open = line.firstIndex(of: "["), let close = line.firstIndex(of: "]") else {
                    return nil
                }
                // dcmtk prints a UID's trailing NUL padding.
                return String(line[line.index(after: open)..<close]).trimmingCharacters(in: CharacterSet(charactersIn: "\0 "))
            }
            return (Set(uids), run.output)
        }
        let compressed = try await find("CompressedSamples*")
        #expect(
            compressed.studies
                == [
                    "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322", "1.3.6.1.4.1.5962.1.2.4.20040826185059.5457",
                    "1.3.6.1.4.1.5962.1.2.8.20040826185059.5457",
                ], "\(compressed.output)")
        #expect(compressed.output.contains("(0008,0054) AE [ATRIUM]"), "\(compressed.output)")
        let ct = try await find("compressedsamples^c*")
        #expect(ct.studies == ["1.3.6.1.4.1.5962.1.2.1.20040119072730.12322"], "\(ct.output)")
        let none = try await find("Nobody*")
        #expect(none.studies.isEmpty, "\(none.output)")
        await server.stop()
    }

    @Test("movescu to a configured destination and getscu deliver the instances; unknown or unpermitted destinations are A801")
    func moveAndGet() async throws {
        let destinationPort = try LoopbackPort.free()
        let moved = try Corpus.temporaryDirectory("atrium-serve-moved")
        let destination = try PeerProcess("/usr/bin/storescp", ["--aetitle", "DEST", "+xa", "-od", moved, String(destinationPort)])
        defer { destination.stop() }
        try await LoopbackPort.waitForListener(destinationPort)
        let server = try await DIMSETestServer.start(peers: [
            county, PeerConfiguration(aeTitle: "DEST", host: "127.0.0.1", port: destinationPort, permissions: ["moveDestination"]),
        ])
        let ct = try pydicomTestFile("CT_small.dcm")
        let mr = try pydicomTestFile("MR_small.dcm")
        let stored = try await server.dcmtk("storescu", ["-R", "-aec", "ATRIUM"], files: [ct, mr])
        #expect(stored.status == 0, "\(stored.output)")
        let ctStudy = "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322"

        let move = try await server.dcmtk(
            "movescu", ["-S", "-aec", "ATRIUM", "-aem", "DEST", "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=\(ctStudy)"])
        #expect(move.status == 0, "\(move.output)")
        #expect(files(under: moved).count == 1)
        let movedComparison = try await compareWithPydicom(sent: [ct], stored: moved)
        #expect(movedComparison == "OK 1", "\(movedComparison)")

        let got = try Corpus.temporaryDirectory("atrium-serve-got")
        let get = try await server.dcmtk(
            "getscu", ["-S", "-aec", "ATRIUM", "-od", got, "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=\(ctStudy)"])
        #expect(get.status == 0, "\(get.output)")
        let gotComparison = try await compareWithPydicom(sent: [ct], stored: got)
        #expect(gotComparison == "OK 1", "\(gotComparison)")

        // NOBODY is not configured; COUNTY is, but without the moveDestination permission.
        for destination in ["NOBODY", "COUNTY"] {
            let refused = try await server.dcmtk(
                "movescu",
                ["-S", "-aec", "ATRIUM", "-aem", destination, "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=\(ctStudy)"],
                seconds: 30)
            #expect(refused.output.contains("MoveDestinationUnknown") || refused.output.contains("0xa801"), "\(refused.output)")
        }
        await server.stop()
    }

    @Test(
        "with allowUnknownPeers off, an unknown AE's association is rejected (calling AE title not recognized), and a configured peer may store"
    )
    func unknownPeersRefused() async throws {
        let server = try await DIMSETestServer.start(peers: [county], allowUnknownPeers: false)
        let ct = try pydicomTestFile("CT_small.dcm")
        let refused = try await server.dcmtk("storescu", ["-v", "-R", "-aec", "ATRIUM"], files: [ct], seconds: 30)
        #expect(refused.status != 0 && refused.output.contains("Calling AE Title Not Recognized"), "\(refused.output)")
        let echo = try await server.dcmtk("echoscu", ["-aet", "STRANGER", "-aec", "ATRIUM"], seconds: 30)
        #expect(echo.status != 0 && echo.output.contains("Calling AE Title Not Recognized"), "\(echo.output)")
        #expect(try await server.server.archive.index.counts().instances == 0)
        let accepted = try await server.dcmtk("storescu", ["-R", "-aet", "COUNTY", "-aec", "ATRIUM"], files: [ct], seconds: 30)
        #expect(accepted.status == 0, "\(accepted.output)")
        #expect(try await server.server.archive.index.counts().instances == 1)
        await server.stop()
    }
}
