import Archive
import AtriumTesting
import DICOM
import Foundation
import Testing

/// The `atrium` executable built beside the test bundle.
private func atriumExecutable() throws -> String { try AtriumExecutable.path() }

@Suite("atrium import")
struct ImportTests {
    @Test("atrium import stores a folder, a zip archive and the files of a DICOMDIR, and reports second copies")
    func importsFoldersZipsAndDICOMDIR() async throws {
        let atrium = try atriumExecutable()
        let studies = try Fixtures.generatedStudies()
        try Data("not DICOM".utf8).write(to: URL(fileURLWithPath: studies + "/README.txt"))
        let data = try Corpus.temporaryDirectory("import-data")

        let first = try Subprocess.run(atrium, ["import", studies, "--data", data])
        #expect(first.status == 0, "\(first.errorOutput)")
        #expect(first.output.contains("stored 19, already stored 0"), "\(first.output)")
        #expect(first.output.contains("skipped (not DICOM) 1"))
        let again = try Subprocess.run(atrium, ["import", studies, "--data", data])
        #expect(again.output.contains("stored 0, already stored 19"), "\(again.output)")

        // A zip archive made by Info-ZIP.
        let zipData = try Corpus.temporaryDirectory("import-zip")
        let zipped = try Subprocess.run("zip", ["-q", "-r", zipData + "/studies.zip", "."], currentDirectory: studies)
        try #require(zipped.status == 0, "\(zipped.errorOutput)")
        let fromZip = try Subprocess.run(atrium, ["import", zipData + "/studies.zip", "--data", zipData + "/data"])
        #expect(fromZip.output.contains("stored 19"), "\(fromZip.output) \(fromZip.errorOutput)")

        // DICOMDIR media written by pydicom's FileSet.
        let media = try Corpus.temporaryDirectory("import-media")
        let script = """
            import sys, glob
            from pydicom.fileset import FileSet
            fs = FileSet()
            for path in sorted(glob.glob(sys.argv[1] + '/*.dcm')):
                fs.add(path)
            fs.write(sys.argv[2])
            """
        let written = try Subprocess.run("python3", ["-c", script, studies, media])
        try #require(written.status == 0, "\(written.errorOutput)")
        let fromMedia = try Subprocess.run(atrium, ["import", media + "/DICOMDIR", "--data", media + "-data"])
        #expect(fromMedia.status == 0, "\(fromMedia.output) \(fromMedia.errorOutput)")
        #expect(fromMedia.output.contains("stored 19"), "\(fromMedia.output)")
        let archive = try Archive.open(directory: media + "-data")
        var series = Set<String>()
        var studiesSeen = Set<String>()
        var patients = Set<String>()
        for file in try Fixtures.files(in: studies) {
            let ds = try DICOMFile.read(contentsOf: file).dataSet
            series.insert(ds.string(.seriesInstanceUID) ?? "")
            studiesSeen.insert(ds.string(.studyInstanceUID) ?? "")
            patients.insert(ds.string(.patientID) ?? "")
        }
        let expected = IndexCounts(patients: patients.count, studies: studiesSeen.count, series: series.count, instances: 19)
        #expect(try await archive.index.counts() == expected)
    }

    @Test("atrium import reads ATRIUM_DATA and ATRIUM_DATABASE like serve does, and its flags override them")
    func importReadsEnvironment() async throws {
        let atrium = try atriumExecutable()
        let studies = try Fixtures.generatedStudies()
        let expected = try Fixtures.files(in: studies).count
        let fromEnvironment = try Corpus.temporaryDirectory("import-env-data")
        let run = try await Subprocess.runDetached(atrium, ["import", studies], environment: ["ATRIUM_DATA": fromEnvironment])
        #expect(run.status == 0, "\(run.output) \(run.errorOutput)")
        #expect(try await Archive.open(directory: fromEnvironment).index.counts().instances == expected)

        let flagged = try Corpus.temporaryDirectory("import-flag-data")
        let unused = try Corpus.temporaryDirectory("import-unused-data")
        let overridden = try await Subprocess.runDetached(
            atrium, ["import", studies, "--data", flagged], environment: ["ATRIUM_DATA": unused])
        #expect(overridden.status == 0, "\(overridden.output) \(overridden.errorOutput)")
        #expect(try await Archive.open(directory: flagged).index.counts().instances == expected)
        #expect(!FileManager.default.fileExists(atPath: unused + "/atrium.sqlite"))

        // The index in PostgreSQL, named by ATRIUM_DATABASE alone; blobs in ATRIUM_DATA.
        let postgres = try await PostgresServer.start()
        defer { postgres.stop() }
        let url = try await postgres.createDatabase("atrium_import_env")
        let blobs = try Corpus.temporaryDirectory("import-env-blobs")
        let toPostgres = try await Subprocess.runDetached(
            atrium, ["import", studies], environment: ["ATRIUM_DATA": blobs, "ATRIUM_DATABASE": url])
        #expect(toPostgres.status == 0, "\(toPostgres.output) \(toPostgres.errorOutput)")
        #expect(try await PostgresIndex.open(url: url).counts().instances == expected)
        #expect(!FileManager.default.fileExists(atPath: blobs + "/atrium.sqlite"), "the index went to PostgreSQL, not SQLite")
    }

    @Test("After SIGKILL in the middle of an import, every indexed instance has a readable blob, and re-import completes")
    func crashDuringImport() async throws {
        let atrium = try atriumExecutable()
        // Enough files that the importer is still busy when the watcher (a Python process) sees the first commits, even
        // on a loaded machine.
        let total = 1500
        let files = try Fixtures.generatedStudies(count: total)
        let data = try Corpus.temporaryDirectory("crash-data")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: atrium)
        process.arguments = ["import", files, "--data", data]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait (in Python, reading the WAL database) until some instances are committed, then kill the importer.
        let watcher = """
            import sqlite3, sys, time, os
            path = sys.argv[1] + '/atrium.sqlite'
            deadline = time.time() + 60
            while time.time() < deadline:
                try:
                    c = sqlite3.connect('file:' + path + '?mode=ro', uri=True, timeout=5)
                    n = c.execute('SELECT COUNT(*) FROM instances').fetchone()[0]
                    c.close()
                    if n >= 40:
                        print(n)
                        sys.exit(0)
                except sqlite3.Error:
                    pass
                time.sleep(0.02)
            sys.exit(1)
            """
        let watched = try Subprocess.run("python3", ["-c", watcher, data])
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try #require(watched.status == 0, "the importer committed nothing within a minute")
        #expect(process.terminationReason == .uncaughtSignal, "the importer finished before it could be killed")

        let archive = try Archive.open(directory: data)
        let indexed = try await archive.index.instances(studyInstanceUID: nil, seriesInstanceUID: nil, sopInstanceUID: nil)
        #expect(indexed.count >= 40 && indexed.count < total)
        for instance in indexed {
            guard case .file(let path) = try await archive.blobs.get(instance.blobKey) else {
                Issue.record("blob \(instance.blobKey) is missing")
                continue
            }
            let file = try DICOMFile.read(contentsOf: path, options: .strict)
            #expect(file.dataSet.string(.sopInstanceUID) == instance.sopInstanceUID)
        }
        // Blobs written but never committed are orphans; the sweep removes them and only them. Empty files are the
        // killed importer's spare files (made ahead of need): no blobs, and left until they are two days old.
        let listed = try await archive.blobs.list()
        let orphans = listed.filter { $0.sizeBytes != 0 }.count - indexed.count
        #expect(try await archive.sweepOrphans(olderThanSeconds: -1) == orphans)

        let resumed = try Subprocess.run(atrium, ["import", files, "--data", data])
        #expect(resumed.status == 0, "\(resumed.output)")
        #expect(resumed.output.contains("stored \(total - indexed.count), already stored \(indexed.count)"), "\(resumed.output)")
        #expect(try await archive.index.counts().instances == total)
        #expect(try await archive.blobs.list().filter { $0.sizeBytes != 0 }.count == total)
    }
}
