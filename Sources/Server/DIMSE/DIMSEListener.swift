import Archive
import DICOMNetwork
import Logging
import ServiceLifecycle

/// The DIMSE listener of `atrium serve` as a service: C-ECHO, C-STORE into the archive, C-FIND, C-MOVE and C-GET from it.
///
/// On graceful shutdown (SIGTERM, SIGINT) it stops accepting associations and returns once those already accepted have
/// ended, so the stores in flight finish and are acknowledged; cancellation cuts them off (nothing unacknowledged is kept
/// half-written: the archive commits the index row only after the blob is durable).
public struct DIMSEListener: Service {
    let configuration: ServerConfiguration
    let archive: Archive
    let logger: Logger
    let onListening: @Sendable (Int) async -> Void

    /// Creates the listener; `onListening` receives the bound port (useful with port 0).
    public init(
        configuration: ServerConfiguration, archive: Archive, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.archive = archive
        self.logger = logger
        self.onListening = onListening
    }

    /// The service provider configuration: archive-backed storage, query and retrieve, and the configured peers.
    public var providerConfiguration: DIMSEServiceProvider.Configuration {
        let peers = ConfiguredPeers(configuration: configuration)
        var dimseLogger = logger
        dimseLogger[metadataKey: "listener"] = "dimse"
        return DIMSEServiceProvider.Configuration(
            aeTitle: configuration.aeTitle, storage: ArchiveStorageProvider(archive: archive, peers: peers, logger: dimseLogger),
            query: ArchiveQueryProvider(archive: archive, aeTitle: configuration.aeTitle),
            retrieve: ArchiveRetrieveProvider(archive: archive),
            peers: peers, upperLayer: UpperLayerConfiguration(maximumAssociations: 64, logger: dimseLogger), logger: dimseLogger)
    }

    /// Binds `host:dicomPort` and serves until graceful shutdown or cancellation.
    public func run() async throws {
        let provider = providerConfiguration
        let policy = DIMSEServiceProvider.acceptorPolicy(for: provider)
        let acceptor: AssociationAcceptor
        do {
            acceptor = try await AssociationAcceptor.bind(
                host: configuration.host, port: configuration.dicomPort, policy: policy, configuration: provider.upperLayer)
        } catch {
            throw ConfigurationError("cannot listen for DICOM on \(configuration.host):\(configuration.dicomPort): \(error)")
        }
        let port = acceptor.localPort ?? configuration.dicomPort
        logger.info("DIMSE listener started", metadata: ["aeTitle": "\(configuration.aeTitle)", "port": "\(port)"])
        await onListening(port)
        try await withGracefulShutdownHandler {
            try await acceptor.run(handler: DIMSEServiceProvider(configuration: provider))
        } onGracefulShutdown: {
            acceptor.stopAccepting()
        }
        logger.info("DIMSE listener stopped")
    }
}
