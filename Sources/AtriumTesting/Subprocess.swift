import Foundation

/// The result of running a program to completion.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let standardOutput: Data
    public let standardError: Data

    public var output: String { String(decoding: standardOutput, as: UTF8.self) }
    public var errorOutput: String { String(decoding: standardError, as: UTF8.self) }
}

/// Why a peer program could not be used.
public struct PeerError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs peer programs (dcmtk, Python with pydicom, …) for tests.
public enum Subprocess {
    /// Runs `executable` with `arguments` and waits; output is collected in memory. Environment additions such as
    /// `TCP_NODELAY=1` (dcmtk) go in `environment`.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        input: Data? = nil, currentDirectory: String? = nil
    ) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try resolve(executable))
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let inPipe = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : inPipe
        try process.run()
        if let input {
            inPipe.fileHandleForWriting.write(input)
            try inPipe.fileHandleForWriting.close()
        }
        // Read both pipes concurrently so that neither fills up and blocks the child.
        let errorBox = DataBox()
        let reader = Thread {
            errorBox.data = err.fileHandleForReading.readDataToEndOfFile()
            errorBox.done.signal()
        }
        reader.start()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        errorBox.done.wait()
        process.waitUntilExit()
        return ProcessResult(status: process.terminationStatus, standardOutput: stdout, standardError: errorBox.data)
    }

    /// Runs a program like ``run(_:_:environment:input:currentDirectory:)`` but waits on a thread of its own, so
    /// that an async test never blocks a thread of the cooperative pool — which an in-process server under test may
    /// need to answer the very program being waited for.
    public static func runDetached(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        input: Data? = nil
    ) async throws -> ProcessResult {
        try await onThread { try run(executable, arguments, environment: environment, input: input) }
    }

    /// Runs blocking work (waiting for programs, sleeping) on a thread of its own and awaits its result, so that the
    /// two threads of the cooperative pool on a 2-core machine stay free for the code under test.
    public static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do {
                    continuation.resume(returning: try body())
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.start()
        }
    }

    /// The full path of a program, searching PATH for bare names; a missing program is an error that says how
    /// to install it.
    public static func resolve(_ executable: String) throws -> String {
        if executable.contains("/") {
            guard FileManager.default.isExecutableFile(atPath: executable) else { throw missing(executable) }
            return executable
        }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(dir)/\(executable)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw missing(executable)
    }

    static func missing(_ executable: String) -> PeerError {
        PeerError(
            "\(executable) is not installed: run scripts/install-deps (or scripts/test), which installs dcmtk, dicom3tools, pydicom and the other peers"
        )
    }
}

private final class DataBox: @unchecked Sendable {
    var data = Data()
    let done = DispatchSemaphore(value: 0)
}

/// Headless Chromium for the browser tests.
public enum Chromium {
    /// Throws, saying how to install them, when Debian's chromium or chromium-driver is missing.
    public static func require() throws {
        for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
            guard FileManager.default.isExecutableFile(atPath: tool) else {
                throw PeerError("\(tool) is missing: apt-get install chromium chromium-driver (scripts/install-deps)")
            }
        }
    }
}
