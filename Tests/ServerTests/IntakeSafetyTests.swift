import AtriumTesting
import Foundation
import Server
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The hostile inputs of docs/reliability.md, made once per test run by Tests/ServerTests/Scripts/intake_hostile.py
/// (small on disk: about 30 MB for bombs of 4 GiB and more), with what Python's zipfile reads from the honest ones.
actor HostileInputs {
    static let shared = HostileInputs()
    private var made: String?

    /// The manifest intake_hostile.py printed (JSON).
    func manifestText() async throws -> String {
        if let made { return made }
        let directory = try Corpus.temporaryDirectory("atrium-hostile-inputs")
        let run = try await Subprocess.runDetached("python3", [Corpus.script("ServerTests", "intake_hostile.py"), "make", directory])
        guard run.status == 0 else {
            throw PeerError("intake_hostile.py make failed (scripts/install-deps installs pydicom): \(run.errorOutput)")
        }
        made = run.output
        return run.output
    }
}

extension HostileInputs {
    nonisolated func manifest() async throws -> [String: Any] { jsonObject(try await manifestText()) }

    nonisolated func path(_ name: String) async throws -> String {
        let paths = try #require(try await manifest()["paths"] as? [String: String])
        return try #require(paths[name], "no hostile input \(name)")
    }

    nonisolated func entries(_ name: String) async throws -> [String: Any] {
        let entries = try #require(try await manifest()["entries"] as? [String: Any])
        return try #require(entries[name] as? [String: Any])
    }

    nonisolated func valid() async throws -> [String: Any] { try #require(try await manifest()["valid"] as? [String: Any]) }
}

/// A child's run with its peak resident memory, measured by Python's `os.wait4` (the kernel's rusage of the child).
struct MeasuredRun {
    var status: Int
    var peakBytes: Int
    var output: String
    var errorOutput: String

    static func run(_ executable: String, _ arguments: [String]) async throws -> MeasuredRun {
        let run = try await Subprocess.runDetached(
            "python3", [Corpus.script("ServerTests", "intake_hostile.py"), "run", executable] + arguments)
        guard run.status == 0 else { throw PeerError("intake_hostile.py run failed: \(run.errorOutput)") }
        let result = jsonObject(run.output)
        return MeasuredRun(
            status: result["status"] as? Int ?? -1, peakBytes: (result["maxrssKiB"] as? Int ?? -1) * 1024,
            output: result["stdout"] as? String ?? "", errorOutput: result["stderr"] as? String ?? "")
    }
}

/// The peak resident memory (VmHWM) of a running process, read from /proc.
func peakResidentBytes(of pid: Int32) throws -> Int {
    let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") })
    let kib = try #require(Int(line.split(separator: " ").dropFirst().first { !$0.isEmpty } ?? ""))
    return kib * 1024
}

@Suite("Intake safety: zip bombs and other inflating inputs are refused with their reason, in bounded memory")
struct IntakeSafetyTests {
    /// docs/reliability.md: the peak resident memory of `atrium import` and `atrium serve` through any of these inputs
    /// (with the default 64 MiB in-memory threshold) stays below this.
    static let memoryBoundBytes = 512 << 20

    @Test("atrium import refuses every bomb with its reason and a non-zero exit, in bounded memory, and leaves stored studies alone")
    func importRefusesBombs() async throws {
        let inputs = HostileInputs.shared
        let valid = try await inputs.valid()
        let data = try Corpus.temporaryDirectory("atrium-intake-import")
        let atrium = try AtriumExecutable.path()
        func importing(_ name: String, _ extra: [String] = []) async throws -> MeasuredRun {
            let path = name.hasPrefix("/") ? name : try await inputs.path(name)
            let run = try await MeasuredRun.run(atrium, ["import", "--data", data, "--jobs", "2"] + extra + [path])
            #expect(run.peakBytes > 0 && run.peakBytes < Self.memoryBoundBytes, "\(name): peak resident memory \(run.peakBytes) bytes")
            return run
        }

        // A valid study first: stored, and its text file listed as skipped with the size Python's zipfile reads.
        let validZip = try #require(valid["zip"] as? String)
        let sizes = try #require(valid["zipEntrySizes"] as? [String: Int])
        var run = try await importing(validZip)
        #expect(run.status == 0, "\(run.output)\(run.errorOutput)")
        #expect(run.output.contains("stored 1,"), "\(run.output)")
        #expect(run.output.contains("skipped: \(validZip):study/readme.txt (\(sizes["study/readme.txt"] ?? -1) bytes)"), "\(run.output)")

        // One entry of 4 GiB, declared honestly: refused before anything is inflated (it passes the 2 GiB entry cap).
        let huge = try await inputs.entries("one-huge.zip")
        run = try await importing("one-huge.zip")
        #expect(run.status == 1)
        #expect(run.output.contains("failed 1"), "\(run.output)")
        #expect(run.output.contains("bomb.bin: refused: holds \(huge["firstSize"] as? Int ?? -1) (declared) bytes"), "\(run.output)")
        #expect(run.output.contains("maximumEntryBytes"), "\(run.output)")

        // 1 GiB of zeros from 1 MiB: under the entry cap, past the compression ratio cap.
        let ratio = try await inputs.entries("ratio.zip")
        run = try await importing("ratio.zip")
        #expect(run.status == 1)
        #expect(run.output.contains("zeros.bin: refused: declares \(ratio["firstSize"] as? Int ?? -1) bytes"), "\(run.output)")
        #expect(run.output.contains("maximumCompressionRatio"), "\(run.output)")

        // A header that declares 1 MiB over 4 GiB of data: inflating stops just past the declared size.
        run = try await importing("lying.zip")
        #expect(run.status == 1)
        #expect(run.output.contains("lie.bin: refused: declares 1048576 bytes but holds more"), "\(run.output)")

        // 200 entries of 15 MiB under a 1 GiB archive cap: those that fit are inflated and listed as not DICOM, the
        // rest refused by the archive cap.
        let many = try await inputs.entries("many.zip")
        let entrySize = try #require(many["firstSize"] as? Int)
        let count = try #require(many["count"] as? Int)
        let fitting = (1 << 30) / entrySize
        run = try await importing("many.zip", ["--max-archive-bytes", "1GiB"])
        #expect(run.status == 1)
        #expect(run.output.contains("skipped (not DICOM) \(fitting), failed \(count - fitting)"), "\(run.output)")
        #expect(run.output.contains("many/zeros-000.bin (\(entrySize) bytes)"), "\(run.output)")
        #expect(run.output.contains("maximumArchiveBytes"), "\(run.output)")

        // A hundred directory entries sharing one local header: refused as overlapping, none inflated.
        run = try await importing("overlap.zip")
        #expect(run.status == 1)
        #expect(run.output.contains("stored 0, already stored 0, replaced 0, skipped (not DICOM) 0, failed 101"), "\(run.output)")
        #expect(run.output.contains("overlaps another entry"), "\(run.output)")

        // A zip inside a zip is listed as skipped with its size, not unpacked.
        let nested = try await inputs.entries("nested.zip")
        run = try await importing("nested.zip")
        #expect(run.status == 0, "\(run.output)")
        #expect(
            run.output.contains("inner/one-huge.zip (\(nested["firstSize"] as? Int ?? -1) bytes): a zip archive inside"), "\(run.output)")

        // The deflated transfer syntax whose dataset inflates to 4 GiB, on its own and inside a zip.
        for name in ["deflated-ts.dcm", "deflated-ts.zip"] {
            run = try await importing(name)
            #expect(run.status == 1, "\(name)")
            #expect(run.output.contains("limit exceeded"), "\(name): \(run.output)")
            #expect(run.output.contains("compression ratio cap of 200:1"), "\(name): \(run.output)")
        }

        // A DICOMDIR medium (pydicom's) whose first referenced file is the deflated bomb: the others are stored, the bomb
        // fails with its reason.
        let medium = try #require(try await inputs.manifest()["dicomdir"] as? [String: Any])
        let referenced = try #require(medium["referencedFiles"] as? Int)
        run = try await importing(try #require(medium["path"] as? String))
        #expect(run.status == 1)
        #expect(run.output.contains("stored \(referenced - 1),") && run.output.contains("failed 1"), "\(run.output)")
        #expect(
            run.output.contains("failed: \(try #require(medium["bombFile"] as? String)):")
                && run.output.contains("compression ratio cap of 200:1"), "\(run.output)")

        // With a 1 KiB in-memory threshold the CT entry is inflated into a temporary file and stored from a mapping of it,
        // as is the named file: the same instance, found again; the temporary folder is gone afterwards.
        let small = data + "-small"
        run = try await MeasuredRun.run(atrium, ["import", "--data", small, "--in-memory-entry-bytes", "1KiB", validZip])
        #expect(run.status == 0 && run.output.contains("stored 1,"), "\(run.output)\(run.errorOutput)")
        run = try await MeasuredRun.run(
            atrium, ["import", "--data", small, "--in-memory-entry-bytes", "1KiB", try #require(valid["file"] as? String)])
        #expect(run.status == 0 && run.output.contains("already stored 1"), "\(run.output)\(run.errorOutput)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: small + "/tmp")) ?? []).isEmpty)

        // The study stored first is still there, whole: importing it again finds it.
        run = try await importing(try #require(valid["file"] as? String))
        #expect(run.status == 0 && run.output.contains("already stored 1"), "\(run.output)")
    }

    @Test("The web upload and STOW-RS refuse every bomb with its reason per entry; the server stays up, in bounded memory")
    func webUploadRefusesBombs() async throws {
        let inputs = HostileInputs.shared
        let valid = try await inputs.valid()
        let data = try Corpus.temporaryDirectory("atrium-intake-serve")
        let atrium = try AtriumExecutable.path()
        let passwordFile = data + "-password"
        try "county clerk password\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
        var made = try await Subprocess.runDetached(
            atrium, ["institution", "add", "COUNTY", "--kind", "grassroots-hospital", "--data", data])
        #expect(made.status == 0, "\(made.errorOutput)")
        made = try await Subprocess.runDetached(
            atrium, ["user", "add", "clerk", "--role", "site", "--institution", "COUNTY", "--password-file", passwordFile, "--data", data])
        #expect(made.status == 0, "\(made.errorOutput)")
        let server = try await AtriumServeProcess.start(data: data, environment: ["ATRIUM_MAX_ARCHIVE_BYTES": "1GiB"])
        defer { server.process.stop() }
        let client = try WebClient(baseURL: server.baseURL)
        let csrf = "X-CSRF-Token: \(try await client.signIn("clerk", password: "county clerk password"))"

        func upload(_ path: String, as name: String) async throws -> [[String: Any]] {
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? -1
            let created = try await client.request(
                "POST", "/uploads", headers: [csrf, "Content-Type: application/json"], bodyText: #"{"name": "\#(name)", "size": \#(size)}"#)
            let id = try #require(jsonObject(created.body)["id"] as? String, "\(created.status) \(created.body)")
            let put = try await client.request("PUT", "/uploads/\(id)?offset=0", headers: [csrf], bodyFile: path)
            #expect(put.status == 200, "\(put.body)")
            let done = try await client.request("POST", "/uploads/\(id)/complete", headers: [csrf])
            #expect(done.status == 200, "\(done.body)")
            return try #require(jsonObject(done.body)["results"] as? [[String: Any]], "\(done.body)")
        }
        func reasons(_ results: [[String: Any]], _ status: String) -> [String] {
            results.filter { $0["status"] as? String == status }.map {
                "\($0["name"] ?? "") \($0["reason"] ?? "") \($0["sizeBytes"] ?? "")"
            }
        }

        var results = try await upload(try #require(valid["zip"] as? String), as: "valid.zip")
        #expect(results.filter { $0["status"] as? String == "stored" }.count == 1, "\(results)")
        let sizes = try #require(valid["zipEntrySizes"] as? [String: Int])
        #expect(
            results.contains {
                $0["name"] as? String == "valid.zip/study/readme.txt" && $0["status"] as? String == "skipped"
                    && $0["sizeBytes"] as? Int == sizes["study/readme.txt"] && ($0["reason"] as? String)?.hasPrefix("not DICOM") == true
            }, "\(results)")

        results = try await upload(try await inputs.path("one-huge.zip"), as: "one-huge.zip")
        #expect(reasons(results, "failed").count == 1 && reasons(results, "failed")[0].contains("maximumEntryBytes"), "\(results)")
        let refusal = try #require(results.first?["refusal"] as? [String: Any], "\(results)")
        #expect(refusal["cap"] as? String == "maximumEntryBytes" && refusal["limit"] as? Int == 2 << 30)
        #expect(refusal["declaredBytes"] as? Int == (try await inputs.entries("one-huge.zip"))["firstSize"] as? Int)
        #expect(refusal["actualBytes"] == nil, "refused before inflating: \(refusal)")
        results = try await upload(try await inputs.path("ratio.zip"), as: "ratio.zip")
        #expect(reasons(results, "failed").first?.contains("maximumCompressionRatio") == true, "\(results)")
        results = try await upload(try await inputs.path("lying.zip"), as: "lying.zip")
        #expect(reasons(results, "failed").first?.contains("declares 1048576 bytes but holds more") == true, "\(results)")
        let many = try await inputs.entries("many.zip")
        let entrySize = try #require(many["firstSize"] as? Int)
        let fitting = (1 << 30) / entrySize
        results = try await upload(try await inputs.path("many.zip"), as: "many.zip")
        #expect(reasons(results, "skipped").count == fitting, "\(results.count) results")
        #expect(reasons(results, "failed").count == (many["count"] as? Int ?? -1) - fitting)
        #expect(reasons(results, "failed").allSatisfy { $0.contains("maximumArchiveBytes") })
        results = try await upload(try await inputs.path("overlap.zip"), as: "overlap.zip")
        #expect(reasons(results, "failed").count == 101 && reasons(results, "failed").allSatisfy { $0.contains("overlaps") })
        results = try await upload(try await inputs.path("nested.zip"), as: "nested.zip")
        #expect(reasons(results, "skipped").first?.contains("a zip archive inside the archive is not unpacked") == true, "\(results)")
        for name in ["deflated-ts.dcm", "deflated-ts.zip"] {
            results = try await upload(try await inputs.path(name), as: name)
            #expect(reasons(results, "failed").first?.contains("compression ratio cap of 200:1") == true, "\(name): \(results)")
        }

        // STOW-RS with a gzip body Python's gzip wrote: decoded and stored.
        let stowed = try await client.request(
            "POST", "/dicom-web/studies",
            headers: [csrf, "Content-Type: multipart/related; type=\"application/dicom\"; boundary=XYZ", "Content-Encoding: gzip"],
            bodyFile: try #require(valid["stowBody"] as? String))
        #expect(stowed.status == 200, "\(stowed.status) \(stowed.body)")
        let stowedStudy = try #require(valid["stowStudyInstanceUID"] as? String)
        let stowedFound = try await client.request(
            "GET", "/dicom-web/studies?StudyInstanceUID=\(stowedStudy)", headers: ["Accept: application/dicom+json"])
        #expect(stowedFound.body.contains(stowedStudy), "\(stowedFound.body)")

        // STOW-RS with a gzip body of 4 GiB of zeros: refused at the ratio cap; an unknown coding is refused outright.
        let stow = try await client.request(
            "POST", "/dicom-web/studies",
            headers: [csrf, "Content-Type: multipart/related; type=\"application/dicom\"; boundary=x", "Content-Encoding: gzip"],
            bodyFile: try await inputs.path("body.gz"))
        #expect(stow.status == 413, "\(stow.status) \(stow.body)")
        #expect(stow.body.contains("compression ratio cap"), "\(stow.body)")
        let brotli = try await client.request(
            "POST", "/dicom-web/studies",
            headers: [csrf, "Content-Type: multipart/related; type=\"application/dicom\"; boundary=x", "Content-Encoding: br"],
            bodyText: "x")
        #expect(brotli.status == 415, "\(brotli.status) \(brotli.body)")

        // In Chromium, the upload page shows the refused entry's reason and the skipped entry's size.
        try Chromium.require()
        let screenshots = try ProcessInfo.processInfo.environment["ATRIUM_SCREENSHOTS"] ?? Corpus.temporaryDirectory("atrium-screenshots")
        let browser = try await Subprocess.runDetached(
            "python3",
            [
                Corpus.script("ServerTests", "intake_browser.py"), server.baseURL, "clerk", "county clerk password", screenshots,
                try await inputs.path("one-huge.zip"), try #require(valid["zip"] as? String), "\(sizes["study/readme.txt"] ?? -1)",
                LocaleFiles.directory,
            ])
        print("intake browser test screenshots: \(screenshots)")
        #expect(browser.status == 0 && browser.output.contains("ok"), "\(browser.output)\(browser.errorOutput.suffix(2000))")

        // The server still answers, within the bound, and the study stored first is intact.
        let peak = try peakResidentBytes(of: server.process.processIdentifier)
        #expect(peak < Self.memoryBoundBytes, "atrium serve's peak resident memory: \(peak) bytes")
        #expect(try await client.request("GET", "/health").status == 200)
        let study = try #require(valid["studyInstanceUID"] as? String)
        let found = try await client.request(
            "GET", "/dicom-web/studies?StudyInstanceUID=\(study)&includefield=NumberOfStudyRelatedInstances",
            headers: ["Accept: application/dicom+json"])
        #expect(found.status == 200 && found.body.contains(study), "\(found.status) \(found.body)")
        #expect(found.body.contains("\"00201208\":{\"vr\":\"IS\",\"Value\":[1]}"), "\(found.body)")
        let instance = try await client.request(
            "GET", "/dicom-web/studies/\(study)/instances", headers: ["Accept: application/dicom+json"])
        #expect(instance.body.contains(try #require(valid["sopInstanceUID"] as? String)), "\(instance.body)")
        print("intake: atrium serve peak resident memory \(peak >> 20) MiB through every hostile upload")
    }

    @Test("The caps come from the configuration file, the environment and the flags, in that order, with binary units")
    func capsAreConfigurable() async throws {
        let directory = try Corpus.temporaryDirectory("atrium-intake-configuration")
        let file = directory + "/atrium.json"
        try
            #"{"maximumEntryBytes": "1GiB", "maximumArchiveBytes": 10737418240, "maximumCompressionRatio": 50, "inMemoryEntryBytes": "8MiB"}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        var configuration = ServerConfiguration()
        try configuration.apply(file: file)
        try configuration.apply(environment: ["ATRIUM_MAX_ARCHIVE_ENTRIES": "500", "ATRIUM_MAX_COMPRESSION_RATIO": "80"])
        let limits = configuration.intakeLimits
        #expect(limits.maximumEntryBytes == 1 << 30 && limits.maximumArchiveBytes == 10 << 30)
        #expect(limits.maximumCompressionRatio == 80 && limits.maximumArchiveEntries == 500 && limits.inMemoryEntryBytes == 8 << 20)
        #expect(limits.zip.maximumEntryBytes == 1 << 30 && limits.inflation.maximumBytes == 1 << 30 && limits.inflation.maximumRatio == 80)
        #expect(throws: ConfigurationError.self) { try configuration.set("maximumEntryBytes", "2 parsecs", source: "test") }
        #expect(throws: ConfigurationError.self) { try configuration.set("maximumCompressionRatio", "-1", source: "test") }

        // atrium import's flag, then the environment variable, each refuse the valid CT object (about 38 KiB) at 16 KiB.
        let valid = try await HostileInputs.shared.valid()
        let zip = try #require(valid["zip"] as? String)
        let atrium = try AtriumExecutable.path()
        var run = try await Subprocess.runDetached(atrium, ["import", "--data", directory + "/data", "--max-entry-bytes", "16KiB", zip])
        #expect(run.status == 1)
        #expect(run.output.contains("study/ct.dcm: refused: holds"), "\(run.output)")
        #expect(run.output.contains("per-entry cap of 16384 bytes (maximumEntryBytes)"), "\(run.output)")
        run = try await Subprocess.runDetached(
            atrium, ["import", "--data", directory + "/data", zip], environment: ["ATRIUM_MAX_ENTRY_BYTES": "16KiB"])
        #expect(run.status == 1 && run.output.contains("per-entry cap of 16384 bytes"), "\(run.output)")
        run = try await Subprocess.runDetached(atrium, ["import", "--data", directory + "/data", "--max-entry-bytes", "lots", zip])
        #expect(run.status != 0 && run.errorOutput.contains("maximumEntryBytes is a positive byte count"), "\(run.errorOutput)")
    }
}
