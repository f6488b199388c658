import Foundation
import Imaging
import Testing

/// One frame of a reference case: the compressed bytes and the reference decoder's pixels.
struct CodecFrameFiles: Codable, Sendable {
    var compressed: String
    var expected: String
}

/// A compressed image with its descriptor and, per frame, what pydicom + pylibjpeg decode it to.
struct CodecCase: Codable, Sendable, CustomTestStringConvertible {
    var name: String
    var origin: String
    var transferSyntaxUID: String
    var codec: String
    var lossless: Bool
    var descriptor: FrameDescriptor
    var frames: [CodecFrameFiles]
    /// Set when the corpus could not be made; the test then fails with this message.
    var setupError: String?

    var testDescription: String { "\(name) (\(codec))" }
}

private struct CodecManifest: Codable {
    var cases: [CodecCase]
    var notes: [String]
}

/// Runs `Scripts/make_codec_cases.py` once per test process and reads what it wrote.
enum CodecCorpus {
    static let scriptsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts")

    static let manifest: (cases: [CodecCase], notes: [String]) = load()

    static var cases: [CodecCase] { manifest.cases }

    static func cases(codec: String) -> [CodecCase] {
        cases.filter { $0.codec == codec || $0.setupError != nil }
    }

    private static func load() -> ([CodecCase], [String]) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atrium-codec-cases-\(getpid())")
        let result = runPython(script: "make_codec_cases.py", arguments: [directory.path])
        guard result.status == 0 else {
            return ([failure("make_codec_cases.py failed (exit \(result.status)): \(result.output)")], [])
        }
        do {
            let data = try Data(contentsOf: directory.appendingPathComponent("cases.json"))
            let manifest = try JSONDecoder().decode(CodecManifest.self, from: data)
            return (manifest.cases, manifest.notes)
        } catch {
            return ([failure("cannot read cases.json: \(error)")], [])
        }
    }

    private static func failure(_ message: String) -> CodecCase {
        CodecCase(
            name: "corpus setup", origin: "", transferSyntaxUID: "", codec: "", lossless: true,
            descriptor: FrameDescriptor(rows: 1, columns: 1, bitsAllocated: 8), frames: [], setupError: message)
    }

    /// Runs a script of `Scripts/` with python3; returns the exit status and its combined output.
    static func runPython(script: String, arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", scriptsDirectory.appendingPathComponent(script).path] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do {
            try process.run()
        } catch {
            return (127, "cannot run python3 (\(error)); install Python 3 and run scripts/install-deps")
        }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}

/// Sample values of native little-endian pixel data, for comparisons within a tolerance.
func sampleValues(_ bytes: [UInt8], descriptor: FrameDescriptor) -> [Int] {
    let width = descriptor.bytesPerSample
    var values: [Int] = []
    values.reserveCapacity(bytes.count / width)
    var index = 0
    while index + width <= bytes.count {
        var raw: UInt64 = 0
        for b in 0..<width { raw |= UInt64(bytes[index + b]) << (8 * UInt64(b)) }
        let bits = 8 * width
        if descriptor.isSigned, raw & (1 << UInt64(bits - 1)) != 0 {
            values.append(Int(raw) - (1 << bits))
        } else {
            values.append(Int(raw))
        }
        index += width
    }
    return values
}

/// Largest absolute difference and peak signal-to-noise ratio (dB, over the stored bit range) between two frames.
func compare(_ actual: [Int], _ expected: [Int], bitsStored: Int) -> (maximumDifference: Int, psnr: Double, differing: Int) {
    var maximum = 0
    var squared = 0.0
    var differing = 0
    for (a, e) in zip(actual, expected) {
        let d = abs(a - e)
        if d > 0 { differing += 1 }
        maximum = max(maximum, d)
        squared += Double(d * d)
    }
    let mse = squared / Double(max(1, expected.count))
    let peak = Double((1 << bitsStored) - 1)
    return (maximum, mse == 0 ? .infinity : 10 * log10(peak * peak / mse), differing)
}
