import AtriumTesting
import Foundation
import Server
import Testing

/// docs/reliability.md, "Hostile input": every input of Scripts/hostile_input.py against one `atrium serve`, and the
/// media whose paths climb out against `atrium import`.
@Suite("Hostile input: each request or medium built to attack is refused with its reason, stores nothing and writes nothing outside")
struct HostileRequestTests {
    /// The same bound as the intake's (IntakeSafetyTests): peak resident memory of `atrium serve` through all of them.
    static let memoryBoundBytes = 512 << 20

    @Test(
        "Zip traversal, body bombs, the deflated syntax, huge lengths, deep nesting, pixel floods, malformed multipart, oversized headers, climbing static paths, JSON bombs and oversized uploads each get their 4xx; the server stays up in bounded memory"
    )
    func requestsAreRefused() async throws {
        let data = try Corpus.temporaryDirectory("atrium-hostile-serve")
        let token = try await commandLineToken(data: data, username: "clerk", role: "site", institution: "COUNTY")
        let cap = 64 << 20
        let server = try await AtriumServeProcess.start(data: data, environment: ["ATRIUM_MAX_UPLOAD_BYTES": "\(cap)"])
        defer { server.process.stop() }

        let work = try Corpus.temporaryDirectory("atrium-hostile-work")
        let run = try await Subprocess.runDetached(
            "python3",
            [Corpus.script("ServerTests", "hostile_input.py"), server.baseURL, token, "\(server.process.processIdentifier)", work],
            environment: ["HOSTILE_UPLOAD_CAP": "\(cap)", "HOSTILE_DATA": data])
        print(run.output)
        #expect(run.status == 0, "\(run.output.suffix(4000))\(run.errorOutput.suffix(2000))")
        #expect(run.output.hasSuffix("ok\n"))
        #expect(run.output.components(separatedBy: "\ncase: ").count > 55, "every case ran")

        let peak = try peakResidentBytes(of: server.process.processIdentifier)
        #expect(peak < Self.memoryBoundBytes, "atrium serve's peak resident memory: \(peak) bytes")
        print("hostile input: atrium serve peak resident memory \(peak >> 20) MiB through every hostile request")
        // Nothing was written outside the data folder: the server's own temporary files stay under it.
        let outside = (try? FileManager.default.contentsOfDirectory(atPath: "/tmp"))?.filter { $0.hasPrefix("escape-") } ?? []
        #expect(outside.isEmpty, "\(outside)")
    }

    @Test("atrium import refuses zip entries and DICOMDIR references that climb out of the archive or medium, and stores nothing of them")
    func importRefusesClimbingPaths() async throws {
        let work = try Corpus.temporaryDirectory("atrium-hostile-import")
        let made = try await Subprocess.runDetached("python3", [Corpus.script("ServerTests", "hostile_input.py"), "dicomdir", work])
        guard made.status == 0 else {
            throw PeerError("hostile_input.py dicomdir failed (scripts/install-deps installs pydicom): \(made.errorOutput)")
        }
        let lines = made.output.split(separator: "\n").map { jsonObject(String($0)) }
        let medium = try #require(lines.first)
        let zip = try #require(lines.dropFirst().first)
        let atrium = try AtriumExecutable.path()
        let data = work + "/data"

        // The medium: the 26 honest references stored, the five hostile ones failed, each with its reason.
        let dicomdir = try #require(medium["dicomdir"] as? String)
        let kept = try #require(medium["kept"] as? Int)
        var run = try await Subprocess.runDetached(atrium, ["import", "--data", data, dicomdir])
        #expect(run.status == 1, "\(run.output)\(run.errorOutput)")
        #expect(run.output.contains("stored \(kept),") && run.output.contains("failed 5"), "\(run.output)")
        for reason in [
            "Referenced File ID ..\\outside.dcm: refused: a .. component that climbs out of the medium",
            "Referenced File ID /abs\\outside.dcm: refused: an absolute path",
            "Referenced File ID %2E%2E\\outside.dcm: refused: a percent-encoded %2e in the path",
            "Referenced File ID SUB/../../outside.dcm: refused: a .. component that climbs out",
            "Referenced File ID LINK: refused: it resolves outside the medium (a symbolic link)",
        ] {
            #expect(run.output.contains(reason), "\(reason)\n\(run.output)")
        }
        // The file they all pointed at was not stored: importing it by name stores it now.
        let outside = try #require(medium["outside"] as? String)
        run = try await Subprocess.runDetached(atrium, ["import", "--data", data, outside])
        #expect(run.status == 0 && run.output.contains("stored 1,"), "\(run.output)\(run.errorOutput)")

        // The zip: the honest entry stored, the seven climbing names failed with their reason, no file written.
        let zipPath = try #require(zip["zip"] as? String)
        let names = try #require(zip["names"] as? [String])
        run = try await Subprocess.runDetached(atrium, ["import", "--data", data, zipPath])
        #expect(run.status == 1, "\(run.output)\(run.errorOutput)")
        #expect(run.output.contains("stored 1,") && run.output.contains("failed \(names.count)"), "\(run.output)")
        for name in names {
            #expect(
                run.output.contains("failed: \(zipPath):\(name): refused: its name is not a safe relative path ("), "\(name)\n\(run.output)"
            )
        }
        let escaped = try FileManager.default.subpathsOfDirectory(atPath: work).filter { $0.contains("escape-") }
        #expect(escaped.isEmpty, "\(escaped)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/escape-absolute.dcm"))
    }
}
