import AtriumTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Faults: a full disk")
struct FullDiskTests {
    @Test(
        "Data directory on a 24 MiB file system: C-STOREs past the space are refused with A700 while the server stays up; with space added, every instance is stored, each one whole, none twice"
    )
    func fullDisk() async throws {
        // A file system of its own, small enough to fill (tmpfs keeps the blobs' extended attributes since Linux 6.6).
        let mountPoint = try Corpus.temporaryDirectory("atrium-full-disk")
        let mount = try await Subprocess.runDetached("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=24m", "tmpfs", mountPoint])
        try #require(mount.status == 0, "mounting a small tmpfs needs root (CI runs as root): \(mount.errorOutput)")
        defer { _ = try? Subprocess.run("/usr/bin/umount", ["-l", mountPoint]) }

        // Forty instances of 1 MiB of pixels each (random, so that nothing could compress them away).
        let files = try Corpus.temporaryDirectory("atrium-full-disk-files")
        let made = try await Subprocess.runDetached(
            "python3", [Corpus.script("ServerTests", "backup_check.py"), "make", files, "40", "724"])
        try #require(made.status == 0, "\(made.errorOutput)")
        let uids = try await sopInstanceUIDs(files)
        try #require(uids.count == 40)

        let data = mountPoint + "/data"
        let server = try await AtriumServeProcess.start(data: data)
        defer { server.process.stop() }
        let first = try PeerProcess("/usr/bin/storescu", ["-v", "-aec", "ATRIUM", "127.0.0.1", "\(server.dicomPort)"] + uids.keys.sorted())
        _ = await first.exitStatus(within: 300)
        let acknowledged = Set(acknowledgedFiles(first.output))
        #expect(acknowledged.count > 0 && acknowledged.count < 40, "\(acknowledged.count) acknowledged of 40 on 24 MiB")
        let refusals = first.output.split(whereSeparator: \.isNewline).filter { $0.contains("Store Response") && !$0.contains("Success") }
        #expect(
            !refusals.isEmpty && refusals.allSatisfy { $0.contains("Refused: OutOfResources") },
            "\(refusals) \(first.output.suffix(1500))")
        #expect(server.process.isRunning, "the server stopped on a full disk:\n\(server.process.output.suffix(3000))")
        // The blob's write (ENOSPC) or the index's commit (SQLITE_FULL) meets the full disk first, depending on timing.
        #expect(
            server.process.output.contains("No space left on device") || server.process.output.contains("database or disk is full"),
            "the refusals are logged with the reason")

        // Space is added; the refused files are sent again and every one is acknowledged.
        let grow = try await Subprocess.runDetached("/usr/bin/mount", ["-o", "remount,size=256m", mountPoint])
        try #require(grow.status == 0, "\(grow.errorOutput)")
        let rest = uids.keys.sorted().filter { !acknowledged.contains($0) }
        let second = try PeerProcess("/usr/bin/storescu", ["-v", "-aec", "ATRIUM", "127.0.0.1", "\(server.dicomPort)"] + rest)
        #expect(await second.exitStatus(within: 300) == 0, "\(second.output.suffix(3000))")
        #expect(Set(acknowledgedFiles(second.output)) == Set(rest))

        // C-FIND (dcmtk) finds all forty; stopped, the index lists each once with a whole blob, and no stray blob is left.
        #expect(try await instancesByCFind(server) == Set(uids.values))
        server.process.send(SIGTERM)
        #expect(await server.process.exitStatus(within: 60) == 0, "\(server.process.output.suffix(2000))")
        try await checkNothingHalfWritten(data, expectedIndexed: Set(uids.values))
    }
}
