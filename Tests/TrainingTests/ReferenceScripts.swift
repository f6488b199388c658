import AtriumTesting
import Foundation

/// Runs the independent Python references in `Scripts/` and decodes what they print.
enum ReferenceScript {
    /// Runs `Scripts/<name>` with `arguments`; a missing Python package fails the test with how to install it.
    static func run(_ name: String, _ arguments: [String]) throws -> Data {
        let result = try Subprocess.run("python3", [Corpus.script("TrainingTests", name)] + arguments)
        guard result.status == 0 else {
            if result.errorOutput.contains("ModuleNotFoundError") {
                throw PeerError(
                    "\(name) needs numpy, datasketch, openpyxl and opencc-python-reimplemented: run scripts/install-deps (\(result.errorOutput))"
                )
            }
            throw PeerError("\(name) failed: \(result.errorOutput)")
        }
        return result.standardOutput
    }

    /// Runs a short Python program given inline and returns what it printed.
    static func inline(_ program: String, _ arguments: [String]) throws -> String {
        let result = try Subprocess.run("python3", ["-c", program] + arguments)
        guard result.status == 0 else {
            throw PeerError("python3 failed (run scripts/install-deps if a package is missing): \(result.errorOutput)")
        }
        return result.output
    }

    static func json(_ name: String, _ arguments: [String]) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: run(name, arguments)) as? [String: Any] else {
            throw PeerError("\(name) printed something that is not a JSON object")
        }
        return object
    }

    /// Writes `contents` to a new temporary file and returns its path.
    static func temporaryFile(_ name: String, _ contents: Data) throws -> String {
        let path = try Corpus.temporaryDirectory("training") + "/" + name
        try contents.write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// `a` and `b` agree to `tolerance` (both `nil` counts as agreeing).
func close(_ a: Double?, _ b: Double?, _ tolerance: Double = 1e-9) -> Bool {
    switch (a, b) {
    case (nil, nil): true
    case (let x?, let y?): abs(x - y) <= tolerance
    default: false
    }
}
