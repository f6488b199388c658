import AtriumTesting
import DICOM
import Foundation
import Testing

/// The zip intake's reader and inflater against archives and streams Python's zipfile, zlib and gzip wrote.
@Suite("Zip archives and DEFLATE streams under intake limits")
struct ZipArchiveTests {
    struct Oracle {
        var archives: [String: [[String: Any]]]
        var streams: [[String: Any]]
    }

    static func oracle() async throws -> Oracle {
        let directory = try Corpus.temporaryDirectory("atrium-zip-oracle")
        let run = try await Subprocess.runDetached("python3", [Corpus.script("DICOMTests", "zip_oracle.py"), directory])
        guard run.status == 0 else { throw PeerError("zip_oracle.py failed (python3 is needed): \(run.errorOutput)") }
        let object = try #require(try JSONSerialization.jsonObject(with: run.standardOutput) as? [String: Any])
        return Oracle(
            archives: try #require(object["archives"] as? [String: [[String: Any]]]),
            streams: try #require(object["streams"] as? [[String: Any]]))
    }

    static func contents(_ path: String) throws -> [UInt8] {
        Array(try #require(FileManager.default.contents(atPath: path), "cannot read \(path)"))
    }

    @Test("Every regular file of stored, deflated, ZIP64 and data-descriptor archives reads as Python's zipfile reads it")
    func readsWhatZipfileReads() async throws {
        let oracle = try await Self.oracle()
        #expect(oracle.archives.count == 3)
        for (path, expected) in oracle.archives {
            let archive = try ZipArchive(source: try ZipFileSource(path: path))
            #expect(archive.entries.map(\.name) == expected.compactMap { $0["name"] as? String }, "\(path)")
            for (entry, want) in zip(archive.entries, expected) {
                #expect(entry.declaredBytes == want["size"] as? Int, "\(path) \(entry.name)")
                let bytes = try archive.extract(entry)
                #expect(bytes == (try Self.contents(try #require(want["contentPath"] as? String))), "\(path) \(entry.name)")
            }
            // The same bytes in memory read the same.
            let inMemory = try ZipArchive(source: ZipBytesSource(try Self.contents(path)))
            #expect(inMemory.entries == archive.entries)
        }
    }

    @Test("Raw DEFLATE, zlib and gzip streams inflate to what Python compressed, and a cap below their size stops them")
    func inflatesStreams() async throws {
        let oracle = try await Self.oracle()
        for stream in oracle.streams {
            let compressed = try Self.contents(try #require(stream["path"] as? String))
            let expected = try Self.contents(try #require(stream["contentPath"] as? String))
            let format: BoundedInflater.Format = stream["format"] as? String == "raw" ? .raw : .zlibOrGzip
            let inflated = try compressed.withUnsafeBytes { try BoundedInflater.inflate($0, format: format, limits: .default) }
            #expect(inflated == expected, "\(stream["format"] ?? "")")
            let cap = expected.count - 1
            #expect(throws: InflationError.tooLarge(producedBytes: expected.count, limitBytes: cap)) {
                _ = try compressed.withUnsafeBytes {
                    try BoundedInflater.inflate($0, format: format, limits: InflationLimits(maximumBytes: cap))
                }
            }
        }
    }

    @Test("Entries past the per-entry, archive and ratio caps are refused before inflating, naming the cap")
    func refusesByDeclaredSizes() async throws {
        let oracle = try await Self.oracle()
        let path = try #require(oracle.archives.keys.first { $0.hasSuffix("mixed.zip") })
        let expected = try #require(oracle.archives[path])
        let stored = try #require(expected.first { $0["name"] as? String == "folder/stored.bin" }?["size"] as? Int)
        // Per-entry cap one byte below the stored entry's size.
        var archive = try ZipArchive(source: try ZipFileSource(path: path), limits: ZipLimits(maximumEntryBytes: stored - 1))
        var entry = try #require(archive.entries.first { $0.name == "folder/stored.bin" })
        #expect(
            throws: ZipError.refused(
                entry: entry.name, declaredBytes: stored, compressedBytes: stored, actualBytes: nil, cap: .entryBytes, limit: stored - 1)
        ) {
            try archive.extract(entry) { _ in }
        }
        // Archive cap: the first entry fits, the second does not.
        archive = try ZipArchive(source: try ZipFileSource(path: path), limits: ZipLimits(maximumArchiveBytes: stored + 10))
        entry = try #require(archive.entries.first { $0.name == "folder/stored.bin" })
        _ = try archive.extract(entry)
        #expect(archive.inflatedBytes == stored)
        let deflated = try #require(archive.entries.first { $0.name == "folder/deflated.txt" })
        #expect(throws: ZipError.self) { try archive.extract(deflated) { _ in } }
        // Ratio: the repetitive text compresses far past 2:1; with no grace it is refused from its declared sizes.
        archive = try ZipArchive(source: try ZipFileSource(path: path), limits: ZipLimits(maximumRatio: 2, ratioGraceBytes: 0))
        let text = try #require(archive.entries.first { $0.name == "folder/deflated.txt" })
        #expect(text.declaredBytes > 2 * text.compressedBytes)
        do {
            try archive.extract(text) { _ in }
            Issue.record("the ratio cap did not refuse the entry")
        } catch let ZipError.refused(_, _, _, actual, cap, _) {
            #expect(cap == .compressionRatio && actual == nil)
        }
        #expect(archive.inflatedBytes == 0)
    }

    @Test("A central directory that lists more entries than the cap is refused before it is read")
    func refusesTooManyEntries() async throws {
        let oracle = try await Self.oracle()
        let path = try #require(oracle.archives.keys.first { $0.hasSuffix("mixed.zip") })
        #expect(throws: ZipError.tooManyEntries(count: 5, limit: 4)) {
            try ZipArchive(source: try ZipFileSource(path: path), limits: ZipLimits(maximumEntries: 4))
        }
        #expect(throws: ZipError.self) { try ZipArchive(source: ZipBytesSource(Array("not a zip".utf8))) }
    }
}
