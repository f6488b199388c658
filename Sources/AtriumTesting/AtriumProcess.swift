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

    /// The data folder, the added arguments and environment it was started with.
    public let data: String
    public let arguments: [String]
    public let environment: [String: String]

    /// Starts `atrium serve --data DATA` with `arguments` added, and returns once both listeners accept connections.
    public static func start(data: String, arguments: [String] = [], environment: [String: String] = [:]) async throws
        -> AtriumServeProcess
    {
        try await start(
            data: data, arguments: arguments, environment: environment,
            ports: (try LoopbackPort.free(), try LoopbackPort.free(), try LoopbackPort.free()))
    }

    /// Starts the server again on the same data, ports, arguments and environment (after it was killed): clients that
    /// retry find it where it was.
    public func restart() async throws -> AtriumServeProcess {
        process.stop()
        return try await Self.start(data: data, arguments: arguments, environment: environment, ports: (httpPort, dicomPort, hl7Port))
    }

    private static func start(
        data: String, arguments: [String], environment: [String: String], ports: (http: Int, dicom: Int, hl7: Int)
    ) async throws -> AtriumServeProcess {
        let process = try PeerProcess(
            try AtriumExecutable.path(),
            [
                "serve", "--data", data, "--host", "127.0.0.1", "--http-port", "\(ports.http)", "--dicom-port", "\(ports.dicom)",
                "--hl7-port", "\(ports.hl7)",
            ] + arguments,
            environment: environment)
        let server = AtriumServeProcess(
            httpPort: ports.http, dicomPort: ports.dicom, hl7Port: ports.hl7, process: process, data: data, arguments: arguments,
            environment: environment)
        do {
            try await LoopbackPort.waitForListener(ports.dicom, seconds: 60)
            try await LoopbackPort.waitForListener(ports.http, seconds: 60)
        } catch {
            throw PeerError("atrium serve did not start: \(error)\n\(process.output)")
        }
        return server
    }

    private init(
        httpPort: Int, dicomPort: Int, hl7Port: Int, process: PeerProcess, data: String, arguments: [String],
        environment: [String: String]
    ) {
        self.httpPort = httpPort
        self.dicomPort = dicomPort
        self.hl7Port = hl7Port
        self.process = process
        self.data = data
        self.arguments = arguments
        self.environment = environment
    }
}
