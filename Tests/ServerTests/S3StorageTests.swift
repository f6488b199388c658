import Archive
import AtriumTesting
import Foundation
import Server
import Testing

/// `atrium serve` with its blobs in an S3-compatible store: moto's S3 server, signature checks on.
@Suite("Server with S3 storage against moto", .serialized)
struct S3StorageTests {
    private func configuration(_ moto: MotoServer, bucket: String) throws -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.dataDirectory = try Corpus.temporaryDirectory("atrium-server-s3")
        configuration.httpPort = 0
        configuration.host = "127.0.0.1"
        try configuration.set("storage", "s3://\(bucket)/blobs", source: "test")
        try configuration.set("storageEndpoint", moto.endpoint, source: "test")
        return configuration
    }

    @Test("dicomweb-client stores, searches and retrieves through a server whose blobs are in S3; boto3 finds one object each")
    func dicomwebSession() async throws {
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        let server = try AtriumServer(configuration: try configuration(moto, bucket: moto.bucket), environment: moto.environment)
        try await server.archive.blobs.prepare()
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = server.makeApplication { port in continuation.yield(port) }
        let task = Task { try await app.run() }
        defer { task.cancel() }
        var iterator = stream.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let files = try sessionFiles()
        let run = try await Subprocess.runDetached(
            "python3", [Corpus.script("ServerTests", "dicomweb_session.py"), "http://127.0.0.1:\(port)/dicom-web"] + files,
            environment: ["ATRIUM_TOKEN": try await server.testToken()])
        #expect(run.status == 0, "dicomweb_session.py failed: \(run.errorOutput.suffix(1500))")
        let report = try #require(try? JSONSerialization.jsonObject(with: run.standardOutput) as? [String: Any])
        let checks = try #require(report["checks"] as? [[Any]])
        #expect(checks.count >= 20)
        for check in checks {
            #expect(check[1] as? Bool == true, "\(check[0]): \(check[2])")
        }
        // Every indexed instance has its object in the bucket, under the configured prefix, and nothing else is there.
        let listed = try await moto.boto("list", ["blobs/"])
        let keys = Set((listed["objects"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String })
        let instances = try await server.archive.index.instances(studyInstanceUID: nil, seriesInstanceUID: nil, sopInstanceUID: nil)
        #expect(instances.count == files.count)
        #expect(keys == Set(instances.map { "blobs/" + $0.blobKey.rawValue }))
        // Nothing went to the data directory's blobs/.
        let local = (try? FileManager.default.contentsOfDirectory(atPath: server.configuration.dataDirectory + "/blobs")) ?? []
        #expect(local.isEmpty, "local blobs: \(local)")
        task.cancel()
        _ = await task.result
    }

    @Test("A server whose bucket does not exist stops at startup with NoSuchBucket")
    func missingBucket() async throws {
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        let server = try AtriumServer(configuration: try configuration(moto, bucket: "atrium-missing"), environment: moto.environment)
        do {
            try await server.run()
            Issue.record("the server started without its bucket")
        } catch {
            #expect("\(error)".contains("NoSuchBucket"), "\(error)")
            #expect("\(error)".contains("atrium-missing"), "\(error)")
        }
    }
}
