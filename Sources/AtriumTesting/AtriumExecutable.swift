import Foundation

extension Corpus {
    /// The `atrium` executable built next to the test bundle (`swift build --build-tests` builds both).
    public static func atriumExecutable() throws -> String {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [directory, directory.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("atrium").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw PeerError("the atrium executable is not built next to the tests: run `swift build --build-tests` (scripts/test does)")
    }
}
