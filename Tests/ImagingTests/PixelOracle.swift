import AtriumTesting
import DICOM
import Foundation
import Imaging
import Testing

/// One image of the pixel reference: a file and, when pydicom decodes it, its `pixel_array` as int64 values.
struct PixelReference: Codable, Sendable, CustomTestStringConvertible {
    var path: String
    var status: String
    var values: String?
    var count: Int?
    var transferSyntaxUID: String?
    var lossy: Bool?
    var bitsStored: Int?
    var error: String?

    var name: String { (path as NSString).lastPathComponent }
    var testDescription: String { name }
}

/// Runs `Scripts/pixel_oracle.py` (pydicom + pylibjpeg + numpy + Pillow) for the tests.
enum PixelOracle {
    static let script = Corpus.script("ImagingTests", "pixel_oracle.py")

    /// The reference directory, made once per test process: synthetic files and pydicom's decoding of every file.
    static let reference: (directory: String, entries: [PixelReference]) = {
        let directory = NSTemporaryDirectory() + "atrium-pixel-reference-\(getpid())"
        do {
            let result = try Subprocess.run("python3", [script, "reference", directory])
            guard result.status == 0 else {
                return (directory, [failure("pixel_oracle.py reference failed (exit \(result.status)): \(result.errorOutput.suffix(600))")])
            }
            let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/manifest.json"))
            struct Manifest: Codable { var entries: [PixelReference] }
            return (directory, try JSONDecoder().decode(Manifest.self, from: data).entries)
        } catch {
            return (directory, [failure("cannot make the pixel reference: \(error)")])
        }
    }()

    /// The images pydicom decodes (and any setup failure, so that it shows as a failing test).
    static var decodable: [PixelReference] { reference.entries.filter { $0.status == "ok" || $0.status == "setup" } }

    static func failure(_ message: String) -> PixelReference {
        PixelReference(path: "corpus setup", status: "setup", error: message + " — install with scripts/install-deps")
    }

    /// A synthetic file made by the reference step.
    static func synthetic(_ name: String) -> String { reference.directory + "/synthetic/\(name).dcm" }

    /// A file of pydicom's test corpus.
    static func corpus(_ name: String) throws -> String { try Corpus.pydicomDataDirectory() + "/test_files/\(name)" }

    /// Runs an oracle command and parses the JSON it prints.
    static func run(_ arguments: [String]) throws -> [String: Any] {
        let result = try Subprocess.run("python3", [script] + arguments)
        guard result.status == 0 else {
            throw PeerError("pixel_oracle.py \(arguments.first ?? "") failed (exit \(result.status)): \(result.errorOutput.suffix(800))")
        }
        guard let object = try JSONSerialization.jsonObject(with: result.standardOutput) as? [String: Any] else {
            throw PeerError("pixel_oracle.py printed no JSON object: \(result.output.prefix(300))")
        }
        return object
    }

    /// Reads an int64 little-endian file.
    static func int64Values(_ path: String) throws -> [Int] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return data.withUnsafeBytes { raw in
            (0..<(raw.count / 8)).map { Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self))) }
        }
    }

    /// A fresh temporary file path.
    static func temporaryFile(_ name: String) throws -> String { try Corpus.temporaryDirectory("atrium-imaging") + "/" + name }
}
