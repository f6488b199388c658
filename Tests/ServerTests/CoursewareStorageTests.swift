import Archive
import AtriumTesting
import Foundation
import Programme
import Testing

@testable import Server

/// Course files beside an archive kept in an S3-compatible store (moto): a sibling prefix the archive's sweep never
/// touches, ranged reads that equal the slices of the bytes kept.
@Suite("Courseware beside an S3 archive (moto)")
struct CoursewareStorageTests {
    @Test("Course files go under the archive's prefix with -courseware, read back by boto3 and by range, and survive the orphan sweep")
    func s3Courseware() async throws {
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        let archive = try Archive.open(
            directory: try Corpus.temporaryDirectory("atrium-courseware-s3"), storage: "s3://\(moto.bucket)/archive",
            environment: moto.environment)
        try await archive.blobs.prepare()
        let files = CoursewareFiles(blobs: try AtriumServer.coursewareBlobs(archive: archive, directory: "/nonexistent"))
        // Bytes that are a PDF by their signature, long enough for several ranges.
        var bytes = Array("%PDF-1.4\n".utf8)
        for index in 0..<20_000 { bytes.append(UInt8(truncatingIfNeeded: index &* 31 &+ 7)) }
        let kept = try await files.keep(bytes, filename: "slides.pdf", allowed: [.pdf])
        let listed = try await moto.boto("list", ["archive-courseware/"])
        let objects = listed["objects"] as? [[String: Any]] ?? []
        #expect(objects.map { $0["key"] as? String } == ["archive-courseware/" + kept.key])
        #expect(objects.first?["size"] as? Int == bytes.count)
        for range in [0..<100, 5_000..<5_001, 19_000..<20_009, 0..<bytes.count] {
            var read: [UInt8] = []
            for try await chunk in try await files.blobs.read(BlobKey(kept.key), range: range) { read += chunk }
            #expect(read == Array(bytes[range]), "range \(range)")
        }
        #expect(try await archive.sweepOrphans(olderThanSeconds: 0) == 0)
        #expect(try await files.blobs.exists(BlobKey(kept.key)))
        await files.remove(kept)
        #expect(try await !files.blobs.exists(BlobKey(kept.key)))
    }
}
