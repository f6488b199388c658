import Archive
import DICOM
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The Atrium server: the archive, DICOMweb and (as they arrive) the web application and the DIMSE listener, in
/// one process.
public struct AtriumServer: Sendable {
    public let configuration: ServerConfiguration
    public let archive: Archive
    let logger: Logger

    /// Opens the archive in the configured data directory, creating it when needed.
    public init(configuration: ServerConfiguration, logger: Logger = Logger(label: "atrium")) throws {
        try configuration.validate()
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        var archive = try Archive.open(directory: configuration.dataDirectory)
        archive.duplicatePolicy = DuplicatePolicy(rawValue: configuration.duplicatePolicy) ?? .ignore
        self.configuration = configuration
        self.archive = archive
        self.logger = logger
    }

    /// The HTTP application. `onServerRunning` receives the bound port (useful with port 0).
    public func makeApplication(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router()
        router.get("/health") { _, _ in "ok\n" }
        let address = PublicAddress(configured: configuration.publicURL)
        DICOMwebRoutes(archive: archive, maximumUploadBytes: configuration.maximumUploadBytes, address: address).register(on: router)
        let host = configuration.host
        return Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.httpPort), serverName: "Atrium"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                address.setBound(host: host, port: port)
                await onServerRunning(port)
            },
            logger: logger)
    }

    /// Loads the demonstration studies when asked and the archive is empty, then serves until SIGINT or SIGTERM.
    public func run(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        _ = try? await archive.sweepOrphans()
        if configuration.demo {
            let counts = try await archive.index.counts()
            if counts.instances == 0 {
                let stored = try await DemoData.load(into: archive)
                logger.info("demo data loaded", metadata: ["instances": "\(stored)"])
            }
        }
        let app = makeApplication(onServerRunning: onServerRunning)
        try await app.runService()
    }
}
