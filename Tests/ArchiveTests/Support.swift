import Archive
import AtriumTesting
import DICOM
import Foundation

/// Shared helpers: generated studies and a fresh archive in a temporary directory.
enum Fixtures {
    /// Writes the fixed generated studies (or `count` bulk instances) with pydicom and returns the directory.
    static func generatedStudies(count: Int? = nil) throws -> String {
        let directory = try Corpus.temporaryDirectory("archive-studies")
        var arguments = [Corpus.script("ArchiveTests", "make_studies.py"), directory]
        if let count { arguments.append(String(count)) }
        let result = try Subprocess.run("python3", arguments)
        guard result.status == 0 else { throw PeerError("make_studies.py failed: \(result.errorOutput)") }
        return directory
    }

    /// The DICOM files in a directory, sorted.
    static func files(in directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".dcm") }.sorted().map {
            directory + "/" + $0
        }
    }

    /// A new, empty archive in a temporary directory.
    static func emptyArchive(policy: DuplicatePolicy = .ignore) throws -> (Archive, String) {
        let directory = try Corpus.temporaryDirectory("archive-data")
        return (try Archive.open(directory: directory, duplicatePolicy: policy), directory)
    }

    /// An archive holding the fixed generated studies.
    static func loadedArchive() async throws -> (archive: Archive, files: [String]) {
        let (archive, _) = try emptyArchive()
        let files = try files(in: try generatedStudies())
        for file in files { _ = try await archive.store(file: file, source: SourceInfo(transport: .importer)) }
        return (archive, files)
    }

    /// A C-FIND identifier from findscu-style keys (`PatientName=Wang*`, `StudyInstanceUID`, `0008,0052=STUDY`).
    static func identifier(_ keys: [String]) -> DataSet {
        var ds = DataSet(characterSet: .utf8)
        for key in keys {
            let parts = key.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            let value = parts.count > 1 ? String(parts[1]) : ""
            let tag: DICOM.Tag
            if name.count == 9, let t = DICOM.Tag(hexString: name.replacingOccurrences(of: ",", with: "")) {
                tag = t
            } else if let t = DataDictionary.tag(forKeyword: name) {
                tag = t
            } else {
                continue
            }
            let vr = DataDictionary.entry(for: tag)?.vr ?? .LO
            ds.set(tag, vr, value.split(separator: "\\", omittingEmptySubsequences: false).map(String.init))
        }
        return ds
    }
}

/// Runs dcmtk's dcmqrscp on loopback with the given files indexed by dcmqridx; stops it on `stop()`.
final class DCMQRSCP {
    let port: Int
    let directory: String
    private let process: Process

    init(files: [String]) throws {
        directory = try Corpus.temporaryDirectory("dcmqrscp")
        try FileManager.default.createDirectory(atPath: directory + "/db", withIntermediateDirectories: true)
        let config = """
            NetworkType = "tcp"
            MaxPDUSize = 16384
            MaxAssociations = 16
            HostTable BEGIN
            HostTable END
            VendorTable BEGIN
            VendorTable END
            AETable BEGIN
            ARCHIVE \(directory)/db RW (200, 1024mb) ANY
            AETable END

            """
        try config.write(toFile: directory + "/dcmqrscp.cfg", atomically: true, encoding: .utf8)
        let indexed = try Subprocess.run("dcmqridx", [directory + "/db"] + files)
        guard indexed.status == 0 else { throw PeerError("dcmqridx failed: \(indexed.errorOutput)") }
        port = try freePort()
        process = Process()
        process.executableURL = URL(fileURLWithPath: try Subprocess.resolve("dcmqrscp"))
        process.arguments = ["-c", directory + "/dcmqrscp.cfg", String(port)]
        var environment = ProcessInfo.processInfo.environment
        environment["TCP_NODELAY"] = "1"
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until it accepts associations.
        for _ in 0..<50 {
            if let result = try? Subprocess.run("/usr/bin/echoscu", ["-aec", "ARCHIVE", "127.0.0.1", String(port)]),
                result.status == 0
            {
                return
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        stop()
        throw PeerError("dcmqrscp did not start on port \(port)")
    }

    /// The values of `uniqueKey` in every response to a findscu query.
    func find(model: QueryModel, keys: [String], uniqueKey: DICOM.Tag) throws -> Set<String> {
        var arguments = [model == .studyRoot ? "-S" : "-P", "-aec", "ARCHIVE"]
        for key in keys { arguments += ["-k", key] }
        arguments += ["-k", uniqueKey.description.dropFirst().dropLast().description, "127.0.0.1", String(port)]
        let result = try Subprocess.run("/usr/bin/findscu", arguments, environment: ["TCP_NODELAY": "1"])
        guard result.status == 0 else { throw PeerError("findscu failed: \(result.errorOutput)") }
        let needle = uniqueKey.description.lowercased() + " "
        var values = Set<String>()
        for line in (result.output + result.errorOutput).split(separator: "\n") {
            guard let range = line.range(of: needle) else { continue }
            guard let open = line[range.upperBound...].firstIndex(of: "[") else { continue }
            let rest = line[line.index(after: open)...]
            if let end = rest.firstIndex(of: "]") {
                values.insert(rest[..<end].trimmingCharacters(in: CharacterSet.whitespaces.union(CharacterSet(charactersIn: "\0"))))
            }
        }
        return values
    }

    func stop() {
        // dcmqrscp ignores SIGTERM while it waits for associations.
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// A free TCP port on loopback.
func freePort() throws -> Int {
    let result = try Subprocess.run(
        "python3", ["-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"])
    guard let port = Int(result.output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
        throw PeerError("no free port: \(result.errorOutput)")
    }
    return port
}
