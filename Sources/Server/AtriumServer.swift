import Archive
import DICOM
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The Atrium server: the archive, DICOMweb, the DIMSE listener and (as it arrives) the web application, in one process.
public struct AtriumServer: Sendable {
    public let configuration: ServerConfiguration
    public let archive: Archive
    let logger: Logger

    /// Opens the archive in the configured data directory, creating it when needed.
    public init(configuration: ServerConfiguration, logger: Logger = Logger(label: "atrium")) throws {
        try configuration.validate()
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        var archive = try Archive.open(directory: configuration.dataDirectory, database: configuration.database)
        archive.duplicatePolicy = DuplicatePolicy(rawValue: configuration.duplicatePolicy) ?? .ignore
        self.configuration = configuration
        self.archive = archive
        self.logger = logger
    }

    /// The HTTP application. `onServerRunning` receives the bound port (useful with port 0).
    public func makeApplication(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router(context: AtriumRequestContext.self)
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

    /// The DIMSE listener on `host:dicomPort`. `onListening` receives the bound port (useful with port 0).
    public func makeDIMSEListener(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> DIMSEListener {
        DIMSEListener(configuration: configuration, archive: archive, logger: logger, onListening: onListening)
    }

    /// Loads the demonstration studies when asked and the archive is empty, then serves HTTP and DIMSE until SIGINT or
    /// SIGTERM; on either, both stop accepting and finish what is in flight (at most 30 seconds) before returning.
    public func run(
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in },
        onDICOMListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        if let index = archive.index as? PostgresIndex { try await index.prepare() }
        _ = try? await archive.sweepOrphans()
        if configuration.demo {
            let counts = try await archive.index.counts()
            if counts.instances == 0 {
                let stored = try await DemoData.load(into: archive)
                logger.info("demo data loaded", metadata: ["instances": "\(stored)"])
            }
        }
        let app = makeApplication(onServerRunning: onServerRunning)
        let dimse = makeDIMSEListener(onListening: onDICOMListening)
        var group = ServiceGroupConfiguration(
            services: [.init(service: app), .init(service: dimse)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(30)
        try await ServiceGroup(configuration: group).run()
    }
}
