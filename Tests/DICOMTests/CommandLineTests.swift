import AtriumTesting
import DICOM
import Foundation
import Testing

/// The `atrium` executable built next to the test bundle.
func atriumExecutable() throws -> String {
    let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [directory, directory.deletingLastPathComponent()] {
        let path = candidate.appendingPathComponent("atrium").path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    throw PeerError("the atrium executable is not built next to the tests: run `swift build --build-tests` (scripts/test does)")
}

@Suite("atrium dump and transcode on the command line")
struct CommandLineTests {
    @Test("dump prints the tree that dcmdump prints: the same tags in the same order")
    func dumpTree() throws {
        let sample = Corpus.repositoryRoot + "/samples/ct-gb18030.dcm"
        let ours = try Subprocess.run(try atriumExecutable(), ["dump", sample])
        #expect(ours.status == 0)
        let theirs = try Subprocess.run("/usr/bin/dcmdump", ["+U8", sample])
        func tags(_ text: String) -> [String] {
            text.split(separator: "\n").compactMap { line in
                let t = line.trimmingCharacters(in: .whitespaces)
                return t.hasPrefix("(") ? String(t.prefix(11)).lowercased() : nil
            }
        }
        #expect(tags(ours.output) == tags(theirs.output))
        #expect(ours.output.contains("Wang^Xiaoming=王^小明"))
        #expect(ours.output.contains("示例县人民医院"))
    }

    @Test("dump --json prints what the library encodes, and several files give one line each")
    func dumpJSON() throws {
        let sample = Corpus.repositoryRoot + "/samples/ct-gb18030.dcm"
        let run = try Subprocess.run(try atriumExecutable(), ["dump", "--json", "--stop-before-pixels", sample, sample])
        let lines = run.output.split(separator: "\n")
        #expect(lines.count == 2)
        let object = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        #expect(object?["7FE00010"] == nil)
        let name = ((object?["00100010"] as? [String: Any])?["Value"] as? [[String: String]])?.first
        #expect(name?["Ideographic"] == "王^小明")
    }

    @Test("A file that cannot be read is named on stderr and the exit status is 1; the others are still printed")
    func dumpErrors() throws {
        let directory = try Corpus.temporaryDirectory()
        let bad = directory + "/bad.dcm"
        try Data([UInt8](repeating: 0x41, count: 7)).write(to: URL(fileURLWithPath: bad))
        let run = try Subprocess.run(try atriumExecutable(), ["dump", bad, Corpus.repositoryRoot + "/samples/ct-gb18030.dcm"])
        #expect(run.status == 1)
        #expect(run.errorOutput.contains(bad))
        #expect(run.output.contains("PatientName"))
    }

    @Test("transcode writes a file dcmdump reads in the requested syntax")
    func transcode() throws {
        let out = try Corpus.temporaryDirectory() + "/big.dcm"
        let run = try Subprocess.run(
            try atriumExecutable(), ["transcode", "-t", "big", Corpus.repositoryRoot + "/samples/ct-gb18030.dcm", out])
        #expect(run.status == 0, "\(run.errorOutput)")
        let dump = try Subprocess.run("/usr/bin/dcmdump", [out])
        #expect(dump.output.contains("=BigEndianExplicit"))
    }
}
