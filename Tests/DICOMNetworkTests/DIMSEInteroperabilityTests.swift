import AtriumTesting
import DICOM
import Foundation
import Logging
import NIOCore
import Synchronization
import Testing

@testable import DICOMNetwork

private let studyRootFind = QueryRetrieveInformationModel.studyRoot.findSOPClassUID

/// Runs Atrium's DIMSE service provider on a free loopback port while `body` runs.
private func withAtriumSCP(
    _ configuration: DIMSEServiceProvider.Configuration, checksCalledAETitle: Bool = false,
    upperLayer: UpperLayerConfiguration = .init(), _ body: @Sendable @escaping (Int) async throws -> Void
) async throws {
    let policy = DIMSEServiceProvider.acceptorPolicy(for: configuration, checksCalledAETitle: checksCalledAETitle)
    let acceptor = try await AssociationAcceptor.bind(host: "127.0.0.1", port: 0, policy: policy, configuration: upperLayer)
    let port = try #require(acceptor.localPort)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await acceptor.run(handler: DIMSEServiceProvider(configuration: configuration)) }
        defer { group.cancelAll() }
        try await body(port)
    }
}

/// Synthetic CT instances made by pydicom (bench/make_ct_series.py), shared by the tests of a run.
private func ctSeries(_ count: Int) throws -> String {
    let directory = NSTemporaryDirectory() + "atrium-network-ct-\(count)"
    let result = try Subprocess.run("python3", [Corpus.repositoryRoot + "/bench/make_ct_series.py", directory, String(count)])
    guard result.status == 0 else { throw PeerError("make_ct_series.py failed: \(result.errorOutput)") }
    return directory
}

/// A few of pydicom's files in several SOP classes and transfer syntaxes, compressed ones included.
private func mixedFiles() throws -> [String] {
    let root = try Corpus.pydicomDataDirectory() + "/test_files/"
    return ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "JPEG2000.dcm", "SC_rgb_rle.dcm", "SC_rgb_jpeg_dcmtk.dcm"]
        .map { root + $0 }
}

/// Compares, with pydicom, each sent file with the stored file of the same SOP Instance UID. `bytes`: the data set bytes
/// after the meta groups are identical (for senders that send a file's data set as it is). `dataset`: the data sets are equal
/// once group lengths and trailing padding are dropped (dcmtk's storescu and storescp re-encode, dropping both). Prints OK n or the
/// differences.
private let pydicomCompare = """
    import sys, os, pydicom
    sent, stored, mode = sys.argv[1].split(','), sys.argv[2], sys.argv[3]
    def body(path):
        ds = pydicom.dcmread(path)
        with open(path, 'rb') as f:
            data = f.read()
        for tag in [t for t in ds.keys() if t.element == 0 or t == 0xFFFCFFFC]:
            del ds[tag]
        return ds, data[132 + 12 + ds.file_meta.FileMetaInformationGroupLength:]
    index = {}
    for root, _, files in os.walk(stored):
        for name in files:
            ds = pydicom.dcmread(os.path.join(root, name), stop_before_pixels=True)
            index[str(ds.SOPInstanceUID)] = os.path.join(root, name)
    bad = 0
    for path in sent:
        a, abytes = body(path)
        other = index.get(str(a.SOPInstanceUID))
        if other is None:
            print('MISSING', path); bad += 1; continue
        b, bbytes = body(other)
        same = abytes == bbytes if mode == 'bytes' else a == b
        if not same or a.file_meta.TransferSyntaxUID != b.file_meta.TransferSyntaxUID:
            print('DIFFERENT', path, other, [str(e.tag) for e in a if e.tag not in b or a[e.tag] != b[e.tag]][:5]); bad += 1
    print('OK', len(sent) - bad) if bad == 0 else print('BAD', bad)
    """

private func compareWithPydicom(sent: [String], stored: String, bytes: Bool = false) throws -> String {
    try Subprocess.run("python3", ["-c", pydicomCompare, sent.joined(separator: ","), stored, bytes ? "bytes" : "dataset"]).output
        .trimmingCharacters(in: .whitespacesAndNewlines)
}

private func files(under directory: String) -> [String] {
    (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? [])
        .map { directory + "/" + $0 }
        .filter { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
}

private func storageConfiguration(_ directory: String, queryRetrieve: String? = nil, peers: [RemoteApplicationEntity] = [])
    -> DIMSEServiceProvider.Configuration
{
    let folder = queryRetrieve.map { FolderQueryRetrieveProvider(directory: $0) }
    return DIMSEServiceProvider.Configuration(
        aeTitle: "ATRIUM", storage: FileStorageProvider(directory: directory), query: folder, retrieve: folder,
        peers: StaticPeerRegistry(peers))
}

/// Yields `count` matches slowly, counting how many were produced: a query that C-CANCEL must stop.
private struct SlowQueryProvider: QueryProvider {
    let produced = ProducedCounter()

    func find(_ request: QueryRequest) async throws -> any AsyncSequence<DataSet, any Error> {
        let produced = self.produced
        return AsyncThrowingStream<DataSet, any Error> { continuation in
            let task = Task {
                for index in 0..<1_000 {
                    var match = DataSet()
                    match.set(.queryRetrieveLevel, .CS, "STUDY")
                    match.set(.studyInstanceUID, .UI, "1.2.3.\(index + 1)")
                    produced.increment()
                    continuation.yield(match)
                    try? await Task.sleep(for: .milliseconds(5))
                    if Task.isCancelled { break }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

private final class ProducedCounter: Sendable {
    private let value = Mutex(0)
    func increment() { value.withLock { $0 += 1 } }
    var count: Int { value.withLock { $0 } }
}

@Suite("DIMSE services against dcmtk and pynetdicom on 127.0.0.1", .serialized)
struct DIMSEInteroperabilityTests {
    @Test("dcmtk echoscu gets C-ECHO success from Atrium's service provider")
    func echoscu() async throws {
        let out = try Corpus.temporaryDirectory("atrium-echo")
        try await withAtriumSCP(storageConfiguration(out)) { port in
            let peer = try PeerProcess("/usr/bin/echoscu", ["-v", "-aec", "ATRIUM", "127.0.0.1", String(port)])
            #expect(await peer.exitStatus(within: 20) == 0, "\(peer.output)")
        }
    }

    @Test("dcmtk storescu sends CT, MR, RT, JPEG 2000, RLE and JPEG files; Atrium stores data sets pydicom finds byte-equal")
    func storescuToAtrium() async throws {
        let out = try Corpus.temporaryDirectory("atrium-store")
        let root = try Corpus.pydicomDataDirectory() + "/test_files/"
        let uncompressed = [root + "CT_small.dcm", root + "MR_small.dcm", root + "rtplan.dcm"] + files(under: try ctSeries(20))
        // storescu proposes one syntax family per SOP class, so each compressed file goes in its own run with the option
        // that proposes its syntax: J2K (-xw), JPEG baseline (-xy), RLE (-xr).
        let runs = [
            (["-R"], uncompressed), (["-xw"], [root + "JPEG2000.dcm"]), (["-xy"], [root + "SC_rgb_jpeg_dcmtk.dcm"]),
            (["-xr"], [root + "SC_rgb_rle.dcm"]),
        ]
        let sent = runs.flatMap(\.1)
        try await withAtriumSCP(storageConfiguration(out)) { port in
            for (options, paths) in runs {
                let peer = try PeerProcess("/usr/bin/storescu", options + ["-aec", "ATRIUM", "127.0.0.1", String(port)] + paths)
                #expect(await peer.exitStatus(within: 60) == 0, "\(peer.output)")
            }
        }
        #expect(files(under: out).count == sent.count)
        let comparison1 = try compareWithPydicom(sent: sent, stored: out)
        #expect(comparison1 == "OK \(sent.count)", "\(comparison1)")
    }

    @Test("pynetdicom sends files as they are; Atrium's stored data sets are byte-equal to the files'")
    func pynetdicomRawStore() async throws {
        let out = try Corpus.temporaryDirectory("atrium-raw")
        let sent = try mixedFiles() + files(under: try ctSeries(20))
        let script = """
            import sys
            from pydicom import dcmread
            from pynetdicom import AE
            paths = sys.argv[2].split(',')
            ae = AE(ae_title='PYSCU')
            for path in paths:
                ds = dcmread(path, stop_before_pixels=True)
                ae.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
            assoc = ae.associate('127.0.0.1', int(sys.argv[1]), ae_title='ATRIUM')
            assert assoc.is_established
            print('STATUSES', sorted(set(assoc.send_c_store(path).Status for path in paths)))
            assoc.release()
            """
        try await withAtriumSCP(storageConfiguration(out)) { port in
            let peer = try PeerProcess("python3", ["-c", script, String(port), sent.joined(separator: ",")])
            #expect(await peer.exitStatus(within: 60) == 0, "\(peer.output)")
            #expect(peer.output.contains("STATUSES [0]"), "\(peer.output)")
        }
        let comparison2 = try compareWithPydicom(sent: sent, stored: out, bytes: true)
        #expect(comparison2 == "OK \(sent.count)", "\(comparison2)")
    }

    @Test("pynetdicom as SCU stores a file in Atrium and finds it by C-FIND with a wildcard")
    func pynetdicomSCU() async throws {
        let out = try Corpus.temporaryDirectory("atrium-pynet")
        let file = try Corpus.pydicomDataDirectory() + "/test_files/CT_small.dcm"
        let script = """
            import sys
            from pydicom import dcmread
            from pydicom.dataset import Dataset
            from pynetdicom import AE
            from pynetdicom.sop_class import CTImageStorage, StudyRootQueryRetrieveInformationModelFind
            ae = AE(ae_title='PYSCU')
            ae.add_requested_context(CTImageStorage)
            ae.add_requested_context(StudyRootQueryRetrieveInformationModelFind)
            assoc = ae.associate('127.0.0.1', int(sys.argv[1]), ae_title='ATRIUM')
            assert assoc.is_established
            status = assoc.send_c_store(dcmread(sys.argv[2]))
            print('STORE', status.Status)
            q = Dataset(); q.QueryRetrieveLevel = 'STUDY'; q.PatientName = 'CompressedSamples*'; q.StudyInstanceUID = ''
            for status, identifier in assoc.send_c_find(q, StudyRootQueryRetrieveInformationModelFind):
                print('FIND', hex(status.Status), identifier.StudyInstanceUID if identifier else '')
            assoc.release()
            """
        try await withAtriumSCP(storageConfiguration(out, queryRetrieve: out)) { port in
            let peer = try PeerProcess("python3", ["-c", script, String(port), file])
            #expect(await peer.exitStatus(within: 60) == 0, "\(peer.output)")
            let output = peer.output
            #expect(output.contains("STORE 0"), "\(output)")
            #expect(output.contains("FIND 0xff00 1.3.6.1.4.1.5962.1.2.1.20040119072730.12322"), "\(output)")
            #expect(output.contains("FIND 0x0"), "\(output)")
        }
    }

    @Test("dcmtk findscu, getscu and movescu query and retrieve a folder served by Atrium; a move to an unknown AE is A801")
    func queryRetrieveWithDCMTK() async throws {
        let source = try ctSeries(20)
        let study = try #require(
            try DICOMFile.read(contentsOf: files(under: source)[0], options: .stopBeforePixelData).dataSet.string(.studyInstanceUID))
        let destinationPort = try LoopbackPort.free()
        let moved = try Corpus.temporaryDirectory("atrium-moved")
        let destination = try PeerProcess("/usr/bin/storescp", ["--aetitle", "DEST", "-od", moved, String(destinationPort)])
        defer { destination.stop() }
        try await LoopbackPort.waitForListener(destinationPort)
        let configuration = storageConfiguration(
            try Corpus.temporaryDirectory("atrium-qr-in"), queryRetrieve: source,
            peers: [RemoteApplicationEntity(aeTitle: "DEST", host: "127.0.0.1", port: destinationPort)])
        try await withAtriumSCP(configuration) { port in
            let find = try PeerProcess(
                "/usr/bin/findscu",
                [
                    "-v", "-S", "-aec", "ATRIUM", "-k", "QueryRetrieveLevel=SERIES", "-k", "StudyInstanceUID=\(study)", "-k",
                    "SeriesInstanceUID",
                    "-k", "NumberOfSeriesRelatedInstances", "127.0.0.1", String(port),
                ])
            #expect(await find.exitStatus(within: 30) == 0, "\(find.output)")
            #expect(find.output.contains("(0020,1209) IS [20]"), "\(find.output)")

            let got = try Corpus.temporaryDirectory("atrium-got")
            let get = try PeerProcess(
                "/usr/bin/getscu",
                [
                    "-S", "-aec", "ATRIUM", "-od", got, "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=\(study)",
                    "127.0.0.1", String(port),
                ])
            #expect(await get.exitStatus(within: 60) == 0, "\(get.output)")
            #expect(files(under: got).count == 20)

            let move = try PeerProcess(
                "/usr/bin/movescu",
                [
                    "-S", "-aec", "ATRIUM", "-aem", "DEST", "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=\(study)",
                    "127.0.0.1", String(port),
                ])
            #expect(await move.exitStatus(within: 60) == 0, "\(move.output)")
            #expect(files(under: moved).count == 20)
            let comparison3 = try compareWithPydicom(sent: files(under: source), stored: moved)
            #expect(comparison3 == "OK 20", "\(comparison3)")

            let unknown = try PeerProcess(
                "/usr/bin/movescu",
                [
                    "-S", "-aec", "ATRIUM", "-aem", "NOBODY", "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=\(study)",
                    "127.0.0.1", String(port),
                ])
            _ = await unknown.exitStatus(within: 30)
            #expect(unknown.output.contains("MoveDestinationUnknown"), "\(unknown.output)")
            let outcome = try await DIMSEClient(host: "127.0.0.1", port: port, callingAETitle: "SCU", calledAETitle: "ATRIUM").move(
                {
                    var identifier = DataSet()
                    identifier.set(.queryRetrieveLevel, .CS, "STUDY")
                    identifier.set(.studyInstanceUID, .UI, study)
                    return identifier
                }(), model: .studyRoot, destination: "NOBODY")
            #expect(outcome.status == .moveDestinationUnknown)
        }
    }

    @Test("Atrium's SCU stores into dcmtk storescp and pynetdicom's storage SCP; pydicom finds the data sets byte-equal")
    func atriumSCUStores() async throws {
        let sent = try mixedFiles() + files(under: try ctSeries(20))
        let port = try LoopbackPort.free()
        let received = try Corpus.temporaryDirectory("atrium-to-storescp")
        let storescp = try PeerProcess("/usr/bin/storescp", ["--aetitle", "STORESCP", "+xa", "-od", received, String(port)])
        defer { storescp.stop() }
        try await LoopbackPort.waitForListener(port)
        var statuses: [DIMSEStatus?] = []
        try await DIMSEClient(host: "127.0.0.1", port: port, callingAETitle: "ATRIUM", calledAETitle: "STORESCP").store(paths: sent) {
            statuses.append($0.status)
        }
        #expect(statuses.count == sent.count && statuses.allSatisfy { $0 == .success }, "\(statuses)")
        let comparison4 = try compareWithPydicom(sent: sent, stored: received)
        #expect(comparison4 == "OK \(sent.count)", "\(comparison4)")

        let pyPort = try LoopbackPort.free()
        let pyReceived = try Corpus.temporaryDirectory("atrium-to-pynetdicom")
        let script = """
            import sys, os
            from pynetdicom import AE, evt, AllStoragePresentationContexts, ALL_TRANSFER_SYNTAXES
            def on_store(event):
                # The data set as it arrived, behind pynetdicom's own meta group.
                with open(os.path.join(sys.argv[2], event.request.AffectedSOPInstanceUID + '.dcm'), 'wb') as f:
                    f.write(event.encoded_dataset())
                return 0
            ae = AE(ae_title='PYSCP')
            for cx in AllStoragePresentationContexts:
                ae.add_supported_context(cx.abstract_syntax, ALL_TRANSFER_SYNTAXES)
            ae.start_server(('127.0.0.1', int(sys.argv[1])), block=True, evt_handlers=[(evt.EVT_C_STORE, on_store)])
            """
        let pynetdicom = try PeerProcess("python3", ["-c", script, String(pyPort), pyReceived])
        defer { pynetdicom.stop() }
        try await LoopbackPort.waitForListener(pyPort)
        let few = try mixedFiles()
        var pyStatuses: [DIMSEStatus?] = []
        try await DIMSEClient(host: "127.0.0.1", port: pyPort, callingAETitle: "ATRIUM", calledAETitle: "PYSCP").store(paths: few) {
            pyStatuses.append($0.status)
        }
        #expect(pyStatuses.allSatisfy { $0 == .success }, "\(pyStatuses) \(pynetdicom.output)")
        let comparison5 = try compareWithPydicom(sent: few, stored: pyReceived, bytes: true)
        #expect(comparison5 == "OK \(few.count)", "\(comparison5)")
    }

    @Test("Atrium's SCU finds, moves and gets from dcmtk dcmqrscp")
    func atriumSCUWithDcmqrscp() async throws {
        let source = try ctSeries(20)
        let storage = try Corpus.temporaryDirectory("atrium-dcmqrscp")
        let port = try LoopbackPort.free()
        let destinationPort = try LoopbackPort.free()
        let config = storage + "/dcmqrscp.cfg"
        try """
        NetworkTCPPort = \(port)
        MaxPDUSize = 16384
        MaxAssociations = 16
        HostTable BEGIN
        atrium = (ATRIUM, 127.0.0.1, \(destinationPort))
        HostTable END
        VendorTable BEGIN
        VendorTable END
        AETable BEGIN
        QRSCP \(storage) RW (200, 1024mb) ANY
        AETable END
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let qr = try PeerProcess("/usr/bin/dcmqrscp", ["-c", config])
        defer { qr.stop() }
        try await LoopbackPort.waitForListener(port)
        let sent = files(under: source)
        let store = try PeerProcess("/usr/bin/storescu", ["-aec", "QRSCP", "127.0.0.1", String(port)] + sent)
        #expect(await store.exitStatus(within: 60) == 0, "\(store.output)\n\(qr.output)")

        let client = DIMSEClient(host: "127.0.0.1", port: port, callingAETitle: "ATRIUM", calledAETitle: "QRSCP")
        var query = DataSet()
        query.set(.queryRetrieveLevel, .CS, "STUDY")
        query.set(.studyInstanceUID, .UI, [String]())
        query.set(.patientID, .LO, [String]())
        var studies: [String] = []
        let findStatus = try await client.find(query, model: .studyRoot) { match in
            studies.append(match.string(.studyInstanceUID) ?? "")
            return true
        }
        #expect(findStatus == .success)
        #expect(studies.count == 1)
        var retrieve = DataSet()
        retrieve.set(.queryRetrieveLevel, .CS, "STUDY")
        retrieve.set(.studyInstanceUID, .UI, studies.first ?? "")

        // C-MOVE to Atrium's own storage SCP, which dcmqrscp knows as ATRIUM.
        let moved = try Corpus.temporaryDirectory("atrium-moved-in")
        let policy = DIMSEServiceProvider.acceptorPolicy(for: storageConfiguration(moved))
        let acceptor = try await AssociationAcceptor.bind(host: "127.0.0.1", port: destinationPort, policy: policy)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await acceptor.run(handler: DIMSEServiceProvider(configuration: storageConfiguration(moved))) }
            defer { group.cancelAll() }
            let outcome = try await client.move(retrieve, model: .studyRoot, destination: "ATRIUM")
            #expect(outcome.status == .success, "\(qr.output)")
            #expect(outcome.counts.completed == 20)
        }
        let comparison6 = try compareWithPydicom(sent: sent, stored: moved)
        #expect(comparison6 == "OK 20", "\(comparison6)")

        let got = try Corpus.temporaryDirectory("atrium-got-qr")
        let outcome = try await client.get(
            retrieve, model: .studyRoot, storageSOPClasses: ["1.2.840.10008.5.1.4.1.1.2"], storage: FileStorageProvider(directory: got))
        #expect(outcome.status == .success, "\(qr.output)")
        #expect(outcome.counts.completed == 20)
        let comparison7 = try compareWithPydicom(sent: sent, stored: got)
        #expect(comparison7 == "OK 20", "\(comparison7)")
    }
}

@Suite("DIMSE negotiation and failure edges", .serialized)
struct DIMSEEdgeTests {
    @Test("A C-CANCEL during C-FIND ends the query with status FE00 long before every match was produced")
    func cancelDuringFind() async throws {
        let provider = SlowQueryProvider()
        let configuration = DIMSEServiceProvider.Configuration(aeTitle: "ATRIUM", query: provider)
        try await withAtriumSCP(configuration) { port in
            var query = DataSet()
            query.set(.queryRetrieveLevel, .CS, "STUDY")
            query.set(.studyInstanceUID, .UI, [String]())
            var seen = 0
            let status = try await DIMSEClient(host: "127.0.0.1", port: port, callingAETitle: "SCU", calledAETitle: "ATRIUM").find(
                query, model: .studyRoot
            ) { _ in
                seen += 1
                return seen < 3
            }
            #expect(status == .cancel)
            #expect(provider.produced.count < 100, "\(provider.produced.count) produced")
        }
    }

    @Test("A file whose SOP class the peer does not accept is reported, not sent, and the others go through")
    func noAcceptableContext() async throws {
        let out = try Corpus.temporaryDirectory("atrium-noctx")
        let ct = try Corpus.pydicomDataDirectory() + "/test_files/CT_small.dcm"
        let rtplan = try Corpus.pydicomDataDirectory() + "/test_files/rtplan.dcm"
        let configuration = storageConfiguration(out)
        let policy = AcceptorPolicy(aeTitle: "ATRIUM", acceptedAbstractSyntaxes: ["1.2.840.10008.5.1.4.1.1.2"])
        let acceptor = try await AssociationAcceptor.bind(host: "127.0.0.1", port: 0, policy: policy)
        let port = try #require(acceptor.localPort)
        var outcomes: [DIMSEClient.StoreOutcome] = []
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await acceptor.run(handler: DIMSEServiceProvider(configuration: configuration)) }
            defer { group.cancelAll() }
            try await DIMSEClient(host: "127.0.0.1", port: port, callingAETitle: "SCU", calledAETitle: "ATRIUM").store(paths: [rtplan, ct])
            {
                outcomes.append($0)
            }
        }
        #expect(outcomes.count == 2)
        #expect(outcomes.first?.status == nil && outcomes.first?.error?.contains("no accepted presentation context") == true)
        #expect(outcomes.last?.status == .success)
    }

    @Test("A called AE title other than Atrium's is rejected when the check is on; atrium echo exits 2")
    func rejectedAETitle() async throws {
        let out = try Corpus.temporaryDirectory("atrium-rj")
        try await withAtriumSCP(storageConfiguration(out), checksCalledAETitle: true) { port in
            await #expect(throws: AssociationError.self) {
                _ = try await DIMSEClient(host: "127.0.0.1", port: port, callingAETitle: "SCU", calledAETitle: "WRONG").echo()
            }
            let status = try await DIMSEClient(host: "127.0.0.1", port: port, callingAETitle: "SCU", calledAETitle: "ATRIUM").echo()
            #expect(status == .success)
        }
    }

    @Test("An abort after the C-STORE-RQ command leaves no file, and the provider goes on serving")
    func abortMidTransfer() async throws {
        let out = try Corpus.temporaryDirectory("atrium-abort")
        try await withAtriumSCP(storageConfiguration(out)) { port in
            let proposal = AssociationProposal(
                callingAETitle: "SCU", calledAETitle: "ATRIUM",
                contexts: [ProposedPresentationContext(abstractSyntax: "1.2.840.10008.5.1.4.1.1.2")])
            await #expect(throws: (any Error).self) {
                try await AssociationRequestor.withAssociation(host: "127.0.0.1", port: port, proposal: proposal) { association in
                    let request = CStoreRQ(messageID: 1, affectedSOPClassUID: "1.2.840.10008.5.1.4.1.1.2", affectedSOPInstanceUID: "1.2.3")
                    try await association.send(
                        PresentationDataMessage(presentationContextID: 1, kind: .command, bytes: request.commandSet.encoded()))
                    try await association.abort()
                    throw DIMSEError.associationEnded
                }
            }
            // A data set with no command before it is a protocol error: the provider aborts the association.
            await #expect(throws: (any Error).self) {
                try await AssociationRequestor.withAssociation(host: "127.0.0.1", port: port, proposal: proposal) { association in
                    try await association.send(
                        PresentationDataMessage(presentationContextID: 1, kind: .dataSet, bytes: ByteBuffer(bytes: [1, 2, 3, 4])))
                    _ = try await association.receive()
                }
            }
            let status = try await DIMSEClient(host: "127.0.0.1", port: port, callingAETitle: "SCU", calledAETitle: "ATRIUM").echo()
            #expect(status == .success)
        }
        #expect(files(under: out).isEmpty)
    }

    @Test("Over the association limit, a second association is rejected as transient, local limit exceeded")
    func associationLimit() async throws {
        let out = try Corpus.temporaryDirectory("atrium-limit")
        try await withAtriumSCP(storageConfiguration(out), upperLayer: UpperLayerConfiguration(maximumAssociations: 1)) { port in
            let proposal = AssociationProposal(
                callingAETitle: "SCU", calledAETitle: "ATRIUM",
                contexts: [ProposedPresentationContext(abstractSyntax: verificationSOPClassUID)])
            try await AssociationRequestor.withAssociation(host: "127.0.0.1", port: port, proposal: proposal) { _ in
                await #expect(
                    throws: AssociationError.rejected(
                        AAssociateRJ(result: .rejectedTransient, source: .serviceProviderPresentation, reason: .localLimitExceeded))
                ) {
                    _ = try await DIMSEClient(host: "127.0.0.1", port: port, callingAETitle: "SCU2", calledAETitle: "ATRIUM").echo()
                }
            }
        }
    }

    @Test("A C-STORE from a peer without the store permission is refused with 0124")
    func notAuthorized() async throws {
        let out = try Corpus.temporaryDirectory("atrium-perm")
        let configuration = DIMSEServiceProvider.Configuration(
            aeTitle: "ATRIUM", storage: FileStorageProvider(directory: out), peers: StaticPeerRegistry(unknownCallerPermissions: [.query]))
        try await withAtriumSCP(configuration) { port in
            var statuses: [DIMSEStatus?] = []
            try await DIMSEClient(host: "127.0.0.1", port: port, callingAETitle: "STRANGER", calledAETitle: "ATRIUM").store(
                paths: [try Corpus.pydicomDataDirectory() + "/test_files/CT_small.dcm"]
            ) { statuses.append($0.status) }
            #expect(statuses == [.notAuthorized])
        }
        #expect(files(under: out).isEmpty)
    }
}
