import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The `atrium` executable built beside the test bundle (`swift build` puts both in the same folder).
public enum AtriumExecutable {
    /// Its path; an error says to build first when it is missing.
    public static func path() throws -> String {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var candidate = directory
        for _ in 0..<4 {
            let path = candidate.appendingPathComponent("atrium").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
            candidate.deleteLastPathComponent()
        }
        throw PeerError("the atrium executable is not built beside \(directory.path): run swift build first")
    }
}

/// `atrium serve` as a separate process on free loopback ports, for tests that kill or signal the server.
public final class AtriumServeProcess: @unchecked Sendable {
    /// The HTTP port (DICOMweb under `/dicom-web`).
    public let httpPort: Int
    /// The DIMSE port.
    public let dicomPort: Int
    /// The HL7 v2 MLLP port (given, so that `--demo` never takes the fixed default port in a test).
    public let hl7Port: Int
    /// The running program; its output (logs and the start banner) is in `process.output`.
    public let process: PeerProcess

    /// `http://127.0.0.1:httpPort`.
    public var baseURL: String { "http://127.0.0.1:\(httpPort)" }

    /// Starts `atrium serve --data DATA` with `arguments` added, and returns once both listeners accept connections.
    public static func start(data: String, arguments: [String] = [], environment: [String: String] = [:]) async throws
        -> AtriumServeProcess
    {
        let httpPort = try LoopbackPort.free()
        let dicomPort = try LoopbackPort.free()
        let hl7Port = try LoopbackPort.free()
        let process = try PeerProcess(
            try AtriumExecutable.path(),
            [
                "serve", "--data", data, "--host", "127.0.0.1", "--http-port", "\(httpPort)", "--dicom-port", "\(dicomPort)", "--hl7-port",
                "\(hl7Port)",
            ] + arguments,
            environment: environment)
        let server = AtriumServeProcess(httpPort: httpPort, dicomPort: dicomPort, hl7Port: hl7Port, process: process)
        do {
            try await LoopbackPort.waitForListener(dicomPort, seconds: 60)
            try await LoopbackPort.waitForListener(httpPort, seconds: 60)
        } catch {
            throw PeerError("atrium serve did not start: \(error)\n\(process.output)")
        }
        return server
    }

    private init(httpPort: Int, dicomPort: Int, hl7Port: Int, process: PeerProcess) {
        self.httpPort = httpPort
        self.dicomPort = dicomPort
        self.hl7Port = hl7Port
        self.process = process
    }
}
