import Archive
import AtriumTesting
import DICOM
import Foundation
import Testing

/// The S3 blob store against moto's S3 server (which checks signatures and keys once set up), with boto3 looking at the
/// bucket from the outside.
@Suite("S3 blob store against moto", .serialized)
struct S3BlobStoreTests {
    private let source = SourceInfo(applicationEntityTitle: "TEST", institution: "Test Hospital", transport: .importer)

    private func archive(_ moto: MotoServer, url: String? = nil, environment: [String: String]? = nil) throws -> Archive {
        try Archive.open(
            directory: try Corpus.temporaryDirectory("archive-s3"), storage: url ?? "s3://\(moto.bucket)/archive",
            environment: environment ?? moto.environment)
    }

    private func objectKeys(_ moto: MotoServer, prefix: String) async throws -> [String: Int] {
        let listed = try await moto.boto("list", [prefix])
        let objects = listed["objects"] as? [[String: Any]] ?? []
        var keys: [String: Int] = [:]
        for object in objects { keys[object["key"] as? String ?? ""] = object["size"] as? Int ?? -1 }
        return keys
    }

    @Test("Stored instances are objects boto3 reads back byte for byte; get, ranged read and delete go through the archive")
    func storeRetrieveDelete() async throws {
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        let archive = try archive(moto)
        try await archive.blobs.prepare()
        let files = try Fixtures.files(in: try Fixtures.generatedStudies())
        var outcomes: [StoreOutcome] = []
        for file in files { outcomes.append(try await archive.store(file: file, source: source)) }
        #expect(outcomes.allSatisfy { $0.status == .stored })
        let keys = try await objectKeys(moto, prefix: "archive/")
        #expect(keys.count == files.count)
        let scratch = try Corpus.temporaryDirectory("s3-get")
        for (file, outcome) in zip(files, outcomes) {
            let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
            // boto3's view of the object Atrium wrote.
            _ = try await moto.boto("get", ["archive/" + outcome.blobKey.rawValue, scratch + "/object"])
            #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: scratch + "/object"))) == original)
            // Atrium's own reads: whole, and a byte range streamed.
            guard case .bytes(let bytes) = try await archive.blobs.get(outcome.blobKey) else {
                Issue.record("an S3 blob came back as a file")
                continue
            }
            #expect(bytes == original)
            var ranged: [UInt8] = []
            for try await chunk in try await archive.blobs.read(outcome.blobKey, range: 128..<700) { ranged += chunk }
            #expect(ranged == Array(original[128..<700]))
            #expect(try await archive.blobs.exists(outcome.blobKey))
        }
        let study = try #require(outcomes.first?.studyInstanceUID)
        let studyKeys = outcomes.filter { $0.studyInstanceUID == study }.map(\.blobKey)
        let removed = try await archive.delete(.study(studyInstanceUID: study))
        #expect(removed == studyKeys.count)
        let remaining = try await objectKeys(moto, prefix: "archive/")
        #expect(remaining.count == files.count - studyKeys.count)
        for key in studyKeys {
            #expect(remaining["archive/" + key.rawValue] == nil)
            #expect(try await archive.blobs.exists(key) == false)
            do {
                _ = try await archive.blobs.get(key)
                Issue.record("a deleted blob was read")
            } catch {
                guard case .blobNotFound = error else {
                    Issue.record("unexpected error \(error)")
                    continue
                }
            }
        }
    }

    @Test("A wrong secret key is refused with SignatureDoesNotMatch and nothing is indexed; an unknown key with InvalidAccessKeyId")
    func wrongCredentials() async throws {
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        var environment = moto.environment
        environment["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
        let archive = try archive(moto, environment: environment)
        let file = try #require(try Fixtures.files(in: try Fixtures.generatedStudies()).first)
        do {
            _ = try await archive.store(file: file, source: source)
            Issue.record("a store with a wrong secret succeeded")
        } catch {
            guard case .objectStore(let operation, _, let status, let code, _) = error else {
                Issue.record("not an object store error: \(error)")
                return
            }
            #expect(code == "SignatureDoesNotMatch")
            #expect(status == 403)
            #expect(operation == "PUT")
        }
        #expect(try await archive.index.counts().instances == 0)
        #expect(try await objectKeys(moto, prefix: "").isEmpty)
        environment["AWS_ACCESS_KEY_ID"] = "AKIANOBODYKNOWS00000"
        let stranger = try self.archive(moto, environment: environment)
        do {
            try await stranger.blobs.prepare()
            Issue.record("an unknown access key was accepted")
        } catch {
            guard case .objectStore(_, _, _, let code, _) = error else {
                Issue.record("not an object store error: \(error)")
                return
            }
            #expect(code == "InvalidAccessKeyId")
        }
    }

    @Test("A missing bucket is a NoSuchBucket error at prepare, naming the bucket")
    func missingBucket() async throws {
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        let archive = try archive(moto, url: "s3://atrium-no-such-bucket/x")
        do {
            try await archive.blobs.prepare()
            Issue.record("a missing bucket was accepted")
        } catch {
            guard case .objectStore(_, let location, let status, let code, _) = error else {
                Issue.record("not an object store error: \(error)")
                return
            }
            #expect(code == "NoSuchBucket")
            #expect(status == 404)
            #expect(location.contains("atrium-no-such-bucket"))
        }
    }

    @Test("The orphan sweep lists the bucket page by page and removes only unreferenced blobs of Atrium's own key shape")
    func orphanSweep() async throws {
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        var configuration = try S3Configuration(url: "s3://\(moto.bucket)/archive", environment: moto.environment)
        configuration.listPageKeys = 2  // several pages, so continuation tokens are exercised
        let index = try SQLiteIndex(path: try Corpus.temporaryDirectory("archive-s3") + "/atrium.sqlite")
        let archive = Archive(blobs: S3BlobStore(configuration: configuration), index: index)
        let files = try Fixtures.files(in: try Fixtures.generatedStudies()).prefix(3)
        var referenced: [BlobKey] = []
        for file in files { referenced.append(try await archive.store(file: file, source: source).blobKey) }
        // Blobs whose index rows never came (a crash between blob and commit), and an object that is not Atrium's.
        let orphans = [try await archive.blobs.put([1, 2, 3]), try await archive.blobs.put([4, 5])]
        let foreign = try Corpus.temporaryDirectory("s3-foreign") + "/notes.txt"
        try Data("not a blob".utf8).write(to: URL(fileURLWithPath: foreign))
        _ = try await moto.boto("put", ["archive/notes.txt", foreign])
        let listed = try await archive.blobs.list()
        #expect(Set(listed.map(\.key)) == Set(referenced + orphans))
        // Recent orphans stay: another server may be about to commit them.
        #expect(try await archive.sweepOrphans(olderThanSeconds: 3600) == 0)
        try await Task.sleep(for: .seconds(1.1))
        #expect(try await archive.sweepOrphans(olderThanSeconds: 0) == orphans.count)
        let keys = try await objectKeys(moto, prefix: "archive/")
        #expect(Set(keys.keys) == Set(referenced.map { "archive/" + $0.rawValue } + ["archive/notes.txt"]))
    }

    @Test("A large object goes up as a multipart upload that boto3 reads back whole, and comes back in chunks")
    func multipart() async throws {
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        var configuration = try S3Configuration(url: "s3://\(moto.bucket)/big", environment: moto.environment)
        configuration.multipartThresholdBytes = 6 << 20
        configuration.partSizeBytes = 5 << 20
        let store = S3BlobStore(configuration: configuration)
        // Bytes that differ from part to part, so a part sent twice or out of order would show.
        let bytes = (0..<(12 << 20) + 12345).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }
        let path = try Corpus.temporaryDirectory("s3-big") + "/big.bin"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let fromMemory = try await store.put(bytes)
        let fromFile = try await store.put(contentsOf: path)
        for key in [fromMemory, fromFile] {
            let got = try await moto.boto("get", ["big/" + key.rawValue, path + ".out"])
            // S3 gives a multipart object the ETag "<md5 of the part md5s>-<part count>".
            #expect((got["etag"] as? String)?.hasSuffix("-3\"") == true, "ETag \(got["etag"] ?? "none")")
            #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path + ".out"))) == bytes)
            var chunks = 0
            var streamed: [UInt8] = []
            for try await chunk in try await store.read(key, range: nil) {
                chunks += 1
                streamed += chunk
            }
            #expect(streamed == bytes)
            #expect(chunks > 1)
        }
        let listed = try await moto.boto("list", ["big/"])
        #expect(listed["uploads"] as? Int == 0)
    }

    @Test("Network failures are retried, then reported as NetworkError with the attempt count")
    func unreachable() async throws {
        let port = try LoopbackPort.free()
        var configuration = try S3Configuration(
            url: "s3://atrium-test", settings: S3Settings(endpoint: "http://127.0.0.1:\(port)"),
            environment: ["AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK"])
        configuration.maximumAttempts = 2
        configuration.retryBaseDelayMilliseconds = 10
        do {
            try await S3BlobStore(configuration: configuration).prepare()
            Issue.record("an unreachable store was accepted")
        } catch {
            guard case .objectStore(_, _, let status, let code, let message) = error else {
                Issue.record("not an object store error: \(error)")
                return
            }
            #expect(status == nil)
            #expect(code == "NetworkError")
            #expect(message.contains("after 2 attempts"))
        }
    }
}
