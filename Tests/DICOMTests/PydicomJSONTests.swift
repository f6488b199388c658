import AtriumTesting
import DICOM
import Foundation
import Testing

/// pydicom's DICOM JSON for every corpus file, computed once by one Python process.
final class PydicomReference: @unchecked Sendable {
    static let shared = PydicomReference()
    static let files: [String] = (try? Corpus.pydicomFiles()) ?? []

    private let lock = NSLock()
    private var cache: [Bool: Result<[String: [String: Any]], Error>] = [:]

    func reference(stopBeforePixels: Bool) throws -> [String: [String: Any]] {
        lock.lock()
        defer { lock.unlock() }
        if let cached = cache[stopBeforePixels] { return try cached.get() }
        let result = Result { () throws -> [String: [String: Any]] in
            let input = Data(PydicomReference.files.joined(separator: "\n").utf8)
            let run = try Subprocess.run(
                "python3", [Corpus.script("DICOMTests", "pydicom_json.py")] + (stopBeforePixels ? ["--stop-before-pixels"] : []),
                input: input)
            guard run.status == 0 else { throw PeerError("pydicom_json.py failed: \(run.errorOutput.prefix(500))") }
            var out: [String: [String: Any]] = [:]
            for line in run.output.split(separator: "\n") {
                guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    let path = object["path"] as? String
                else { continue }
                out[path] = object
            }
            return out
        }
        cache[stopBeforePixels] = result
        return try result.get()
    }
}

/// Files where Atrium's reading deliberately differs from pydicom's, and why (also in docs/conformance.md).
let knownDifferences: [String: String] = [
    "no_meta.dcm":
        "the file starts one byte into its first element; pydicom (force=True) reads one UN element of garbage, Atrium refuses it as not DICOM",
    "badVR.dcm": "an IS value is \"1A\": pydicom's to_json_dict() raises; Atrium writes the malformed IS as a JSON string",
]

@Suite("DICOM JSON equals pydicom's for every file pydicom ships")
struct PydicomJSONTests {
    @Test("pydicom's corpus is installed and large")
    func corpusIsPresent() throws {
        _ = try Corpus.pydicomDataDirectory()
        #expect(
            PydicomReference.files.count >= 100,
            "expected pydicom's bundled corpus (test_files, charset_files, palettes); run scripts/install-deps")
    }

    @Test("Atrium's DICOM JSON of the whole file equals pydicom's to_json_dict()", arguments: PydicomReference.files)
    func wholeFile(path: String) throws {
        try compare(path: path, stopBeforePixels: false)
    }

    @Test("Reading stops before Pixel Data exactly where pydicom's stop_before_pixels does", arguments: PydicomReference.files)
    func headerOnly(path: String) throws {
        try compare(path: path, stopBeforePixels: true)
    }

    func compare(path: String, stopBeforePixels: Bool) throws {
        let name = (path as NSString).lastPathComponent
        let reference = try #require(
            try PydicomReference.shared.reference(stopBeforePixels: stopBeforePixels)[path], "no pydicom output for \(name)")
        let options = stopBeforePixels ? ReadOptions.stopBeforePixelData : ReadOptions.default
        if let reason = knownDifferences[name] {
            // A documented difference still has to be the one documented: Atrium must fail or differ, not crash.
            let atrium = try? DICOMFile.read(contentsOf: path, options: options)
            let same =
                atrium.map {
                    jsonDifferences(reference["json"], try? JSONSerialization.jsonObject(with: Data(DICOMJSONEncoder().encode($0.dataSet))))
                        .isEmpty
                } ?? false
            #expect(!same, "\(name) is listed as a known difference (\(reason)) but now matches pydicom: remove it from the list")
            return
        }
        if let error = reference["error"] as? String {
            #expect(throws: DICOMError.self, "pydicom cannot read \(name) (\(error)); Atrium should fail too") {
                _ = try DICOMFile.read(contentsOf: path, options: options)
            }
            return
        }
        let file = try DICOMFile.read(contentsOf: path, options: options)
        let ours = try JSONSerialization.jsonObject(with: Data(DICOMJSONEncoder().encode(file.dataSet)))
        let differences = jsonDifferences(reference["json"], ours, trimmingStrings: true)
        #expect(differences.isEmpty, "\(name): pydicom vs Atrium:\n\(differences.joined(separator: "\n"))")
    }
}
