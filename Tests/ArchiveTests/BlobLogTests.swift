import AtriumTesting
import DICOM
import Foundation
import Testing

@testable import Archive

/// The blob log (``IndexDurability/recoverFromBlobs``): index commits are synced about once a second, and a start
/// after an unclean stop rebuilds the rows a power loss took from the blobs written since the last synced checkpoint.
/// A power loss is simulated by putting back copies of the database files taken at a checkpoint: everything committed
/// after it is gone, the blobs (synced before each commit) stay.
@Suite("Blob log")
struct BlobLogTests {
    private let hospitalA = SourceInfo(applicationEntityTitle: "CT_A", institution: "Hospital A", transport: .cStore)
    private let hospitalB = SourceInfo(applicationEntityTitle: "MR_B", institution: "Hospital B", transport: .stowRS)

    @Test("After a simulated power loss, recovery re-indexes the lost rows, keeps deleted instances deleted, skips cut blobs")
    func powerLoss() async throws {
        let directory = try Corpus.temporaryDirectory("blob-log")
        let files = try Fixtures.files(in: try Fixtures.generatedStudies())
        try #require(files.count >= 6)
        let blobs = "\(directory)/blobs/"
        let snapshot = try Corpus.temporaryDirectory("blob-log-snapshot")
        var deletedKey = ""
        var lostKeys: [String] = []
        do {
            let archive = try Archive.open(directory: directory, durability: .recoverFromBlobs)
            #expect(archive.indexDurability == .recoverFromBlobs)
            var stored: [StoreOutcome] = []
            for file in files[0..<3] { stored.append(try await archive.store(file: file, source: hospitalA)) }
            // Deleted before the power loss; its file comes back (as if the unlink had not reached the disk).
            let deleted = stored[2]
            deletedKey = deleted.blobKey.rawValue
            try Python.run(Self.copyWithAttribute, "\(blobs)\(deletedKey)", "\(snapshot)/deleted.blob")
            #expect(try await archive.delete(.instance(sopInstanceUID: deleted.sopInstanceUID)) == 1)
            #expect(!FileManager.default.fileExists(atPath: "\(blobs)\(deletedKey)"))
            try Python.run(Self.copyWithAttribute, "\(snapshot)/deleted.blob", "\(blobs)\(deletedKey)")
            try await archive.checkpointIndex()
            // The database as the disk holds it at this checkpoint.
            try Self.copyDatabase(from: directory, to: snapshot)
            // Committed without a sync after the checkpoint: what the power loss takes.
            for file in files[3..<6] {
                lostKeys.append(try await archive.store(file: file, source: hospitalB).blobKey.rawValue)
            }
            #expect(try await archive.index.counts().instances == 5)
        }
        // A blob whose write the power loss cut short: its provenance names the whole length and checksum.
        let cut = "\(blobs)ff/\(UUID().uuidString.lowercased())"
        try Python.run(Self.copyWithAttribute, "\(blobs)\(lostKeys[0])", cut, "-100")
        // The power loss: the database files as they were at the checkpoint.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: "\(directory)/atrium.sqlite\(suffix)") }
        try Self.copyDatabase(from: snapshot, to: directory)

        let archive = try Archive.open(directory: directory, durability: .recoverFromBlobs)
        let index = try #require(archive.index as? SQLiteIndex)
        #expect(try await archive.index.counts().instances == 2, "the rows committed after the checkpoint are gone")
        #expect(await index.pendingRecovery() != nil)
        // The sweep leaves alone what recovery still needs, however old it is made to look.
        #expect(try await archive.sweepOrphans(olderThanSeconds: 0) == 0)
        let report: IndexRecoveryReport = try await archive.recoverIndex()
        let expected = IndexRecoveryReport(reindexed: 3, removedDeleted: 1, incomplete: 1)
        #expect(report == expected)
        #expect(try await archive.index.counts().instances == 5)
        let all = try await archive.index.instances(studyInstanceUID: nil, seriesInstanceUID: nil, sopInstanceUID: nil)
        // Each recovered row names its blob, which reads back whole.
        for key in lostKeys {
            let file = try DICOMFile.read(contentsOf: "\(blobs)\(key)")
            let uid: String = file.dataSet.string(.sopInstanceUID) ?? ""
            let row: StoredInstance? = all.first { $0.blobKey.rawValue == key }
            #expect(row?.sopInstanceUID == uid)
        }
        // The recovered rows keep the source the provenance named (read with Python's sqlite3).
        let sources = try Python.run(
            """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            keys = sys.argv[2:]
            rows = db.execute('SELECT source_aet, source_institution FROM instances WHERE blob_key IN (?, ?, ?)', keys)
            print(sorted(set(rows)))
            """, "\(directory)/atrium.sqlite", lostKeys[0], lostKeys[1], lostKeys[2])
        #expect(sources == "[('MR_B', 'Hospital B')]")
        #expect(!FileManager.default.fileExists(atPath: "\(blobs)\(deletedKey)"), "the deleted instance stays deleted")
        #expect(FileManager.default.fileExists(atPath: cut), "the cut blob is left to the orphan sweep")
        #expect(await index.pendingRecovery() == nil)
    }

    @Test("A clean stop leaves nothing to recover; an unclean one sends the next start to recovery from before its stores")
    func cleanAndUncleanStops() async throws {
        let directory = try Corpus.temporaryDirectory("blob-log-stops")
        let files = try Fixtures.files(in: try Fixtures.generatedStudies())
        do {
            let archive = try Archive.open(directory: directory, durability: .recoverFromBlobs)
            _ = try await archive.store(file: files[0], source: hospitalA)
            try await archive.checkpointIndex(clean: true)
        }
        let before: Double = Date().timeIntervalSince1970
        do {
            let archive = try Archive.open(directory: directory, durability: .recoverFromBlobs)
            let index = try #require(archive.index as? SQLiteIndex)
            #expect(await index.pendingRecovery() == nil)
            _ = try await archive.store(file: files[1], source: hospitalA)
            try await archive.checkpointIndex()
            _ = try await archive.store(file: files[2], source: hospitalA)
            // No clean checkpoint: the process "dies" here.
        }
        let archive = try Archive.open(directory: directory, durability: .recoverFromBlobs)
        let index = try #require(archive.index as? SQLiteIndex)
        let since: Double = try #require(await index.pendingRecovery())
        let now: Double = Date().timeIntervalSince1970
        #expect(since >= before - 1.0)
        #expect(since <= now)
        // Nothing was lost (the process died, the disk did not): recovery finds every blob indexed.
        let report: IndexRecoveryReport = try await archive.recoverIndex()
        #expect(report == IndexRecoveryReport())
        #expect(try await archive.index.counts().instances == 3)
    }

    @Test("A row committed while its blob was being synced, whose blob the crash cut or lost, is removed by recovery")
    func rowsWithUnwrittenBlobs() async throws {
        let directory = try Corpus.temporaryDirectory("blob-log-unwritten")
        let files = try Fixtures.files(in: try Fixtures.generatedStudies())
        var kept = ""
        var cut: StoreOutcome?
        var lost: StoreOutcome?
        do {
            let archive = try Archive.open(directory: directory, durability: .recoverFromBlobs)
            kept = try await archive.store(file: files[0], source: hospitalA).sopInstanceUID
            cut = try await archive.store(file: files[1], source: hospitalA)
            lost = try await archive.store(file: files[2], source: hospitalA)
            // No clean checkpoint: the process "dies" with these three stores in flight, two of them unfinished.
        }
        let cutPath = "\(directory)/blobs/\(try #require(cut).blobKey.rawValue)"
        let size: Int = try #require(try FileManager.default.attributesOfItem(atPath: cutPath)[.size] as? Int)
        try Python.run("import os, sys; os.truncate(sys.argv[1], int(sys.argv[2]))", cutPath, "\(size / 2)")
        try FileManager.default.removeItem(atPath: "\(directory)/blobs/\(try #require(lost).blobKey.rawValue)")

        let archive = try Archive.open(directory: directory, durability: .recoverFromBlobs)
        let report: IndexRecoveryReport = try await archive.recoverIndex()
        #expect(report.removedUnwritten == 2)
        let left = try await archive.index.instances(studyInstanceUID: nil, seriesInstanceUID: nil, sopInstanceUID: nil)
        #expect(left.map(\.sopInstanceUID) == [kept])
        #expect(!FileManager.default.fileExists(atPath: cutPath))
    }

    @Test("Each blob carries its provenance in an extended attribute that other tools read")
    func provenanceAttribute() async throws {
        let directory = try Corpus.temporaryDirectory("blob-log-attribute")
        let archive = try Archive.open(directory: directory, durability: .recoverFromBlobs)
        let file = try #require(try Fixtures.files(in: try Fixtures.generatedStudies()).first)
        let outcome = try await archive.store(file: file, source: hospitalB)
        let path = "\(directory)/blobs/\(outcome.blobKey.rawValue)"
        let script = """
            import os, sys, urllib.parse
            raw = os.getxattr(sys.argv[1], 'user.atrium.provenance').decode()
            fields = dict(line.split('=', 1) for line in raw.split('\\n'))
            size = os.path.getsize(sys.argv[1])
            print(fields['length'], size, urllib.parse.unquote(fields['institution']), fields['aet'], fields['transport'])
            """
        let output: String = try Python.run(script, path)
        let size: Int = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        let expected = "\(size) \(size) Hospital B MR_B STOW-RS"
        #expect(output == expected)
    }

    @Test("A second copy under ignore is reported and its blob removed, the first kept (blob written while the row is checked)")
    func secondCopy() async throws {
        let directory = try Corpus.temporaryDirectory("blob-log-duplicate")
        let archive = try Archive.open(directory: directory, durability: .recoverFromBlobs)
        let file = try #require(try Fixtures.files(in: try Fixtures.generatedStudies()).first)
        let first = try await archive.store(file: file, source: hospitalA)
        let second = try await archive.store(file: file, source: hospitalB)
        #expect(first.status == .stored)
        #expect(second.status == .alreadyStored)
        #expect(second.blobKey == first.blobKey)
        let blobs = try await archive.blobs.list().filter { $0.sizeBytes != 0 }
        #expect(blobs.map(\.key) == [first.blobKey])
    }

    @Test("Only one process writes an index as a blob log; another opening it syncs every commit")
    func singleWriter() async throws {
        let directory = try Corpus.temporaryDirectory("blob-log-lock")
        let first = try Archive.open(directory: directory, durability: .recoverFromBlobs)
        let second = try Archive.open(directory: directory, durability: .recoverFromBlobs)
        #expect(first.indexDurability == .recoverFromBlobs)
        #expect(second.indexDurability == .everyCommit)
    }

    @Test("Index timestamps are ISO 8601 in UTC, as Foundation's formatter writes them")
    func timestamps() {
        let formatter = ISO8601DateFormatter()
        for seconds in [0.0, 951_782_400.5, 1_795_844_699.999, 4_102_444_800] {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(indexTimestamp(date) == formatter.string(from: date))
        }
    }

    /// Copies `atrium.sqlite` and its WAL file, when there is one, between directories.
    private static func copyDatabase(from source: String, to target: String) throws {
        for suffix in ["", "-wal"] {
            let from = "\(source)/atrium.sqlite\(suffix)"
            if FileManager.default.fileExists(atPath: from) {
                try FileManager.default.copyItem(atPath: from, toPath: "\(target)/atrium.sqlite\(suffix)")
            }
        }
    }

    /// Copies a file with its provenance attribute; with a third argument -N, without its last N bytes.
    private static let copyWithAttribute = """
        import os, sys
        source, target = sys.argv[1], sys.argv[2]
        data = open(source, 'rb').read()
        if len(sys.argv) > 3:
            data = data[:int(sys.argv[3])]
        with open(target, 'wb') as f:
            f.write(data)
        os.setxattr(target, 'user.atrium.provenance', os.getxattr(source, 'user.atrium.provenance'))
        """
}

/// Python scripts run to completion (with `python3 -c`), failing the test on a non-zero exit.
private enum Python {
    @discardableResult
    static func run(_ script: String, _ arguments: String...) throws -> String {
        let result = try Subprocess.run("python3", ["-c", script] + arguments)
        guard result.status == 0 else { throw PeerError("python3 failed: \(result.errorOutput)") }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
