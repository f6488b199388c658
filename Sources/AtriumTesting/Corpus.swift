import Foundation

/// Files that tests read: pydicom's bundled corpus, and the repository's own scripts.
public enum Corpus {
    /// The directory of the repository (found from this source file's path).
    public static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The `pydicom/data` directory of the installed pydicom.
    public static func pydicomDataDirectory() throws -> String {
        let result = try Subprocess.run(
            "python3", ["-c", "import pydicom, os; print(os.path.join(os.path.dirname(pydicom.__file__), 'data'))"])
        guard result.status == 0 else {
            throw PeerError("pydicom is not installed for python3 (\(result.errorOutput.prefix(200))): run scripts/install-deps")
        }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Every DICOM file pydicom ships: `test_files` (with `dicomdirtests`), `charset_files` and `palettes`.
    public static func pydicomFiles() throws -> [String] {
        let root = try pydicomDataDirectory()
        var files: [String] = []
        let manager = FileManager.default
        for sub in ["test_files", "charset_files", "palettes"] {
            guard let walker = manager.enumerator(atPath: root + "/" + sub) else { continue }
            for case let relative as String in walker {
                let path = root + "/" + sub + "/" + relative
                var isDirectory: ObjCBool = false
                guard manager.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
                if isDICOM(path) { files.append(path) }
            }
        }
        return files.sorted()
    }

    /// Whether a file looks like DICOM: `.dcm`, a DICOMDIR, or `DICM` at byte 128.
    static func isDICOM(_ path: String) -> Bool {
        let name = (path as NSString).lastPathComponent
        if name.hasSuffix(".dcm") || name == "DICOMDIR" { return true }
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 132), head.count == 132 else { return false }
        return head.suffix(4) == Data("DICM".utf8)
    }

    /// The path of a test script under `Tests/<target>/Scripts`.
    public static func script(_ target: String, _ name: String) -> String {
        repositoryRoot + "/Tests/\(target)/Scripts/\(name)"
    }

    /// A new empty temporary directory.
    public static func temporaryDirectory(_ label: String = "atrium") throws -> String {
        let path = NSTemporaryDirectory() + "\(label)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
