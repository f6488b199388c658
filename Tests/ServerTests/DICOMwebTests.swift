import AtriumTesting
import DICOM
import Foundation
import Hummingbird
import Server
import Testing

/// An Atrium server on a free loopback port with a fresh data directory, stopped by `stop()`.
final class TestServer: @unchecked Sendable {
    let port: Int
    let dataDirectory: String
    let server: AtriumServer
    /// An administrator's API token, which ``curl(_:_:headers:bodyFile:anonymous:)`` sends unless told not to.
    let token: String
    private let task: Task<Void, Error>

    var baseURL: String { "http://127.0.0.1:\(port)" }

    static func start() async throws -> TestServer {
        var configuration = ServerConfiguration()
        configuration.dataDirectory = try Corpus.temporaryDirectory("atrium-server")
        configuration.httpPort = 0
        configuration.host = "127.0.0.1"
        let server = try AtriumServer(configuration: configuration)
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = server.makeApplication { port in continuation.yield(port) }
        let task = Task { try await app.run() }
        var iterator = stream.makeAsyncIterator()
        guard let port = await iterator.next() else { throw PeerError("the server did not start") }
        let token = try await server.testToken()
        return TestServer(port: port, dataDirectory: configuration.dataDirectory, server: server, token: token, task: task)
    }

    private init(port: Int, dataDirectory: String, server: AtriumServer, token: String, task: Task<Void, Error>) {
        self.token = token
        self.port = port
        self.dataDirectory = dataDirectory
        self.server = server
        self.task = task
    }

    func stop() async {
        task.cancel()
        _ = await task.result
    }

    /// Sends a request with curl (an HTTP client nobody here wrote); returns the status and body.
    func curl(_ method: String, _ path: String, headers: [String] = [], bodyFile: String? = nil, anonymous: Bool = false) async throws -> (
        status: Int, body: String
    ) {
        var arguments = ["-s", "-o", "-", "-w", "\n%{http_code}", "-X", method]
        if !anonymous { arguments += ["-H", "Authorization: Bearer \(token)"] }
        for h in headers { arguments += ["-H", h] }
        if let bodyFile { arguments += ["--data-binary", "@" + bodyFile] }
        arguments.append(baseURL + path)
        let run = try await Subprocess.runDetached("/usr/bin/curl", arguments)
        var lines = run.output.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.popLast() ?? "") ?? -1
        return (status, lines.joined(separator: "\n"))
    }
}

/// Files with native pixel data from pydicom's corpus, one per study where possible, for the DICOMweb session.
func sessionFiles() throws -> [String] {
    let root = try Corpus.pydicomDataDirectory() + "/test_files/"
    return ["CT_small.dcm", "MR_small.dcm", "rtdose.dcm", "SC_rgb_small_odd.dcm", "JPEG2000.dcm", "examples_ybr_color.dcm"].map {
        root + $0
    }
}

@Suite("DICOMweb with dicomweb-client and curl against a running server", .serialized)
struct DICOMwebTests {
    @Test("dicomweb-client stores, searches and retrieves, and every answer agrees with pydicom")
    func dicomwebClientSession() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let run = try await Subprocess.runDetached(
            "python3", [Corpus.script("ServerTests", "dicomweb_session.py"), server.baseURL + "/dicom-web"] + sessionFiles(),
            environment: ["ATRIUM_TOKEN": server.token])
        #expect(run.status == 0, "dicomweb_session.py failed: \(run.errorOutput.suffix(1500))")
        let report = try #require(try? JSONSerialization.jsonObject(with: run.standardOutput) as? [String: Any])
        let checks = try #require(report["checks"] as? [[Any]])
        #expect(checks.count >= 20)
        for check in checks {
            let name = check[0] as? String ?? "?"
            #expect(check[1] as? Bool == true, "\(name): \(check[2])")
        }
        await server.stop()
    }

    @Test("Malformed uploads get a clear 4xx and store nothing")
    func malformedUploads() async throws {
        let server = try await TestServer.start()
        let directory = try Corpus.temporaryDirectory()
        let dicom = try Data(contentsOf: URL(fileURLWithPath: try sessionFiles()[0]))
        func body(_ parts: [Data], close: Bool = true) -> String {
            var data = Data()
            for p in parts {
                data += Data("--xyz\r\nContent-Type: application/dicom\r\n\r\n".utf8) + p + Data("\r\n".utf8)
            }
            if close { data += Data("--xyz--\r\n".utf8) }
            let path = directory + "/\(UUID().uuidString)"
            FileManager.default.createFile(atPath: path, contents: data)
            return path
        }
        let multipart = "Content-Type: multipart/related; type=\"application/dicom\"; boundary=xyz"
        // Truncated: the body stops inside the part, without the closing boundary.
        let truncated = directory + "/truncated"
        FileManager.default.createFile(atPath: truncated, contents: try Data(contentsOf: URL(fileURLWithPath: body([dicom]))).prefix(5000))
        var r = try await server.curl("POST", "/dicom-web/studies", headers: [multipart], bodyFile: truncated)
        #expect(r.status == 400, "truncated multipart: \(r.status) \(r.body)")
        // A part that is not DICOM.
        r = try await server.curl("POST", "/dicom-web/studies", headers: [multipart], bodyFile: body([Data("not dicom at all".utf8)]))
        #expect(r.status == 409, "non-DICOM part: \(r.status) \(r.body)")
        #expect(r.body.contains("00081198"), "the response lists the failure in FailedSOPSequence")
        // A truncated DICOM part inside a well-formed body.
        r = try await server.curl("POST", "/dicom-web/studies", headers: [multipart], bodyFile: body([dicom.prefix(dicom.count - 100)]))
        #expect(r.status == 409, "truncated DICOM part: \(r.status) \(r.body)")
        // Wrong content types.
        r = try await server.curl("POST", "/dicom-web/studies", headers: ["Content-Type: application/json"], bodyFile: body([dicom]))
        #expect(r.status == 415, "wrong content type: \(r.status)")
        r = try await server.curl(
            "POST", "/dicom-web/studies", headers: ["Content-Type: multipart/related; type=\"application/json\"; boundary=xyz"],
            bodyFile: body([dicom]))
        #expect(r.status == 415)
        // Nothing was stored by any of them.
        r = try await server.curl("GET", "/dicom-web/studies")
        #expect(r.status == 200 && r.body.trimmingCharacters(in: .whitespacesAndNewlines) == "[]", "studies after bad uploads: \(r.body)")
        // A good upload after all that works, and a mixed one answers 202.
        r = try await server.curl("POST", "/dicom-web/studies", headers: [multipart], bodyFile: body([dicom]))
        #expect(r.status == 200, "\(r.status) \(r.body)")
        r = try await server.curl("POST", "/dicom-web/studies", headers: [multipart], bodyFile: body([dicom, Data("junk".utf8)]))
        #expect(r.status == 202, "\(r.status) \(r.body)")
        // Unknown resources and bad queries.
        r = try await server.curl("GET", "/dicom-web/studies/1.2.3.4")
        #expect(r.status == 404)
        r = try await server.curl("GET", "/dicom-web/studies?NoSuchAttribute=1")
        #expect(r.status == 400)
        await server.stop()
    }
}
