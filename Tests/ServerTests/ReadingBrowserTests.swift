import Archive
import AtriumTesting
import DICOM
import Foundation
import Platform
import Reading
import Server
import Testing

/// An Atrium server with HTTP, DIMSE and the consultation maintenance loop on free loopback ports, stopped by `stop()`.
final class ReadingTestServer: @unchecked Sendable {
    let httpPort: Int
    let dicomPort: Int
    let server: AtriumServer
    private let tasks: [Task<Void, Error>]
    var baseURL: String { "http://127.0.0.1:\(httpPort)" }

    static func start(configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> ReadingTestServer {
        var configuration = ServerConfiguration()
        configuration.dataDirectory = try Corpus.temporaryDirectory("atrium-reading-server")
        configuration.httpPort = 0
        configuration.dicomPort = 0
        configuration.host = "127.0.0.1"
        configure(&configuration)
        let server = try AtriumServer(configuration: configuration)
        try await server.reading.prepare()
        let (http, httpContinuation) = AsyncStream.makeStream(of: Int.self)
        let (dicom, dicomContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = server.makeApplication { port in httpContinuation.yield(port) }
        let listener = server.makeDIMSEListener { port in dicomContinuation.yield(port) }
        let tasks = [Task { try await app.run() }, Task { try await listener.run() }, Task { try await server.runReadingMaintenance() }]
        var httpPorts = http.makeAsyncIterator()
        var dicomPorts = dicom.makeAsyncIterator()
        guard let httpPort = await httpPorts.next(), let dicomPort = await dicomPorts.next() else {
            throw PeerError("the server did not start")
        }
        return ReadingTestServer(httpPort: httpPort, dicomPort: dicomPort, server: server, tasks: tasks)
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
}

@Suite("Consultation workflow in headless Chromium")
struct ReadingBrowserTests {
    @Test(
        "Three people in Chromium: storescu, a stat request, live worklist, claim, report, critical result escalated and acknowledged, signature, print, addendum, lock conflict, a draft surviving a killed browser, the assignment rules page"
    )
    func wholePath() async throws {
        for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver", "/usr/bin/storescu"] {
            guard FileManager.default.isExecutableFile(atPath: tool) else {
                throw PeerError("\(tool) is missing: apt-get install chromium chromium-driver dcmtk (scripts/install-deps)")
            }
        }
        let server = try await ReadingTestServer.start { configuration in
            configuration.criticalEscalationSeconds = 2
            configuration.peers = [PeerConfiguration(aeTitle: "COUNTY_A_PACS", host: "127.0.0.1", port: 1, institution: "COUNTY-A")]
        }
        defer { Task { await server.stop() } }
        let directory = try Corpus.temporaryDirectory("atrium-reading-browser")
        // The study the site sends: pydicom's CT_small as a new study.
        var dicom = try DICOMFile.read(contentsOf: try Corpus.pydicomDataDirectory() + "/test_files/CT_small.dcm")
        let study = UID.generate()
        dicom.dataSet.set(.studyInstanceUID, .UI, study)
        dicom.dataSet.set(.seriesInstanceUID, .UI, UID.generate())
        dicom.dataSet.set(.sopInstanceUID, .UI, UID.generate())
        dicom.fileMetaInformation = DataSet()
        let file = directory + "/sent.dcm"
        try dicom.write(to: file)
        let site = try await server.server.testToken("site-county-a", roles: [.site], institution: "COUNTY-A")
        _ = site
        _ = try await server.server.testToken("reader-wang", roles: [.reader], institution: "MEDCOLLEGE")
        _ = try await server.server.testToken("reader-li", roles: [.reader, .supervisor], institution: "MEDCOLLEGE")
        _ = try await server.server.testToken("admin-zhou", roles: [.admin], institution: nil)
        // A routine request already waiting, for the lock conflict.
        let other = try await storeFreshStudy(server.server, file: "MR_small.dcm", institution: "COUNTY-A", accession: "ACC-ROUTINE")
        let (_, routineItem) = try await server.server.reading.file(
            NewConsultationRequest(
                priority: .routine, referringPhysician: "", clinicalHistory: "", question: "Follow-up", studies: [other]),
            institution: "COUNTY-A", by: ReadingActor(username: "site-county-a", displayName: "site-county-a"))
        func person(_ username: String) -> [String: String] {
            ["username": username, "password": "test password \(username)", "displayName": username]
        }
        // The files attached to the request form (made by Pillow and by hand in Python).
        let made = try Subprocess.run("python3", [Corpus.script("ReadingTests", "attachment_files.py"), "make", directory])
        try #require(made.status == 0, "attachment_files.py (pip install pillow): \(made.errorOutput)")
        let fixtures: [String: Any] = [
            "site": person("site-county-a"), "reader": person("reader-wang"), "senior": person("reader-li"), "admin": person("admin-zhou"),
            "file": file, "study": study,
            "callingAE": "COUNTY_A_PACS", "routineItem": routineItem.id,
            "attachments": [directory + "/form.pdf", directory + "/photo.jpg"], "badAttachment": directory + "/not-a-pdf.pdf",
        ]
        let fixturesFile = directory + "/fixtures.json"
        try JSONSerialization.data(withJSONObject: fixtures).write(to: URL(fileURLWithPath: fixturesFile))
        let screenshots = try ProcessInfo.processInfo.environment["ATRIUM_SCREENSHOTS"] ?? Corpus.temporaryDirectory("atrium-screenshots")
        let run = try await Subprocess.runDetached(
            "python3",
            [
                Corpus.script("ServerTests", "web_reading.py"), server.baseURL, String(server.dicomPort), LocaleFiles.directory,
                screenshots,
                fixturesFile,
            ])
        print("consultation browser test screenshots: \(screenshots)")
        #expect(run.status == 0, "\(run.output)\(run.errorOutput.suffix(3000))")
        #expect(run.output.contains("\nok"), "\(run.output)")
        // The "For Teaching" key-object selection landed in the site's study.
        let kos = run.output.split(separator: "\n").first { $0.hasPrefix("kos: ") }.map { String($0.dropFirst(5)) } ?? ""
        let stored = try await server.server.archive.index.instances(
            studyInstanceUID: study, seriesInstanceUID: nil, sopInstanceUID: kos, institution: "COUNTY-A")
        #expect(stored.first?.sopClassUID == "1.2.840.10008.5.1.4.1.1.88.59", "the KOS \(kos) in the study")
        // The attachments of the form are an Encapsulated PDF and a Secondary Capture in the same study.
        let classes = try await server.server.archive.index.instances(
            studyInstanceUID: study, seriesInstanceUID: nil, sopInstanceUID: nil, institution: "COUNTY-A"
        ).map(\.sopClassUID)
        #expect(classes.contains("1.2.840.10008.5.1.4.1.1.104.1") && classes.contains("1.2.840.10008.5.1.4.1.1.7"), "\(classes)")
        // The claim, the signature, the addendum and the acknowledgement are in the audit trail.
        await server.server.identity.audit.flush()
        let details = try await server.server.identity.audit.search(AuditSearch(participant: study, limit: 1000)).map(\.detail)
        for needle in ["claimed", "signed", "addendum", "acknowledged", "escalated"] {
            #expect(details.contains { $0.contains(needle) }, "audit lacks \(needle)")
        }
    }
}
