import ArgumentParser
import DICOM

#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print DICOM files as dcmdump does, or as DICOM JSON (PS3.18 F.2).",
        discussion: """
            Reads Part 10 files and bare datasets in any uncompressed, deflated or encapsulated transfer syntax.
            Tolerated deviations are printed to standard error as warnings; a file that cannot be read is
            reported there with the byte offset and the reason, and the exit status is 1.
            With --json and several files, each file's JSON object is printed on one line (JSON Lines).
            """
    )

    @Flag(name: .long, help: "Print DICOM JSON instead of the dcmdump-style tree.")
    var json = false

    @Flag(name: .long, help: "Stop reading before Pixel Data (7FE0,0010).")
    var stopBeforePixels = false

    @Flag(name: .long, help: "Indent the JSON output.")
    var pretty = false

    @Flag(name: .long, help: "Do not print warnings about tolerated deviations.")
    var quiet = false

    @Option(
        name: .long,
        help: "With --json, write bulk values longer than this many bytes as BulkDataURI (file offsets) instead of inline base64.")
    var bulkDataThreshold: Int?

    @Argument(help: "DICOM files to print, or directories to walk.")
    var files: [String]

    func run() throws {
        let options = stopBeforePixels ? ReadOptions.stopBeforePixelData : ReadOptions.default
        var failures = 0
        let formatter = DumpFormatter()
        let paths = try expand(files)
        let single = paths.count == 1
        for path in paths {
            let file: DICOMFile
            do {
                file = try DICOMFile.read(contentsOf: path, options: options)
            } catch {
                writeStandardError("atrium dump: \(path): \(error)\n")
                failures += 1
                continue
            }
            if !quiet {
                for w in file.warnings { writeStandardError("atrium dump: \(path): \(w)\n") }
            }
            if json {
                var policy = DICOMJSONEncoder.BulkDataPolicy.inline
                if let threshold = bulkDataThreshold {
                    policy = .uri(thresholdBytes: threshold) { _, element in
                        "file://\(path)#offset=\(element.offset)"
                    }
                }
                var bytes = DICOMJSONEncoder(bulkData: policy, prettyPrinted: pretty && single).encode(file.dataSet)
                bytes.append(0x0A)
                writeStandardOutput(bytes)
            } else {
                if !single { writeStandardOutput(Array("# \(path)\n".utf8)) }
                writeStandardOutput(Array(formatter.format(file).utf8))
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}

/// Buffered standard output (fwrite on the C stream; flushed at exit).
func writeStandardOutput(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { _ = fwrite($0.baseAddress, 1, $0.count, Glibc.stdout) }
}

func writeStandardError(_ text: String) {
    var text = text
    text.withUTF8 { _ = fwrite($0.baseAddress, 1, $0.count, Glibc.stderr) }
}
