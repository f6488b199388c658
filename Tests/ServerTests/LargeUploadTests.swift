import AtriumTesting
import Foundation
import Server
import Testing

/// STOW-RS bodies larger than ``DICOMwebRoutes/spoolThreshold`` are written to a file as they arrive and their parts
/// stored one at a time: the server's memory grows by far less than the body, whatever its size.
@Suite("Large STOW-RS bodies: spooled to a file, stored a part at a time, in bounded memory")
struct LargeUploadTests {
    /// Peak resident memory may grow by at most this while a 200 MiB body is stored (holding the body would take more).
    static let growthBoundBytes = 100 << 20

    @Test(
        "A 200 MiB body of twenty instances (length declared) and a chunked one are stored whole and retrieved equal, a body cut off halfway stores nothing; peak memory grows by under half the body; no spooled file is left"
    )
    func largeBodies() async throws {
        let data = try Corpus.temporaryDirectory("atrium-large-stow")
        let token = try await commandLineToken(data: data, username: "uploader", role: "admin")
        let server = try await AtriumServeProcess.start(data: data)
        defer { server.process.stop() }
        let before = try peakResidentBytes(of: server.process.processIdentifier)

        let work = try Corpus.temporaryDirectory("atrium-large-stow-work")
        let run = try await Subprocess.runDetached(
            "python3", [Corpus.script("ServerTests", "large_stow.py"), server.baseURL, token, work])
        print(run.output)
        #expect(run.status == 0, "\(run.output.suffix(3000))\(run.errorOutput.suffix(3000))\n\(server.process.output.suffix(2000))")
        #expect(run.output.hasSuffix("ok\n"))

        let after = try peakResidentBytes(of: server.process.processIdentifier)
        print("large STOW-RS: atrium serve peak resident memory \(before >> 20) → \(after >> 20) MiB")
        #expect(after - before < Self.growthBoundBytes, "peak resident memory grew by \((after - before) >> 20) MiB")
        // The cut-off body was refused with a reason in the log, and no spooled file is left behind.
        #expect(server.process.isRunning)
        let spool = (try? FileManager.default.contentsOfDirectory(atPath: data + "/spool")) ?? []
        #expect(spool.isEmpty, "\(spool)")
    }
}
