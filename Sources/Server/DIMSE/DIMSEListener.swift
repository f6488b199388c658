import Archive
import DICOMNetwork
import Logging
import Platform
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
    /// Whether this is the DICOM TLS listener on `dicomTLSPort` rather than the plain one on `dicomPort`.
    let secure: Bool
    /// Counters of associations and DIMSE requests.
    let metrics: DIMSEMetrics?
    /// The identity store: peer-to-institution mappings made by administrators, and the audit trail.
    let identity: IdentityStore?

    /// Creates the listener; `onListening` receives the bound port (useful with port 0).
    public init(
        configuration: ServerConfiguration, archive: Archive, logger: Logger, secure: Bool = false, metrics: DIMSEMetrics? = nil,
        identity: IdentityStore? = nil, onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.identity = identity
        self.configuration = configuration
        self.archive = archive
        self.logger = logger
        self.secure = secure
        self.metrics = metrics
        self.onListening = onListening
    }

    /// The service provider configuration: archive-backed storage, query and retrieve, and the configured peers.
    public var providerConfiguration: DIMSEServiceProvider.Configuration {
        let peers = ConfiguredPeers(configuration: configuration)
        let access = DIMSEAccess(peers: peers, identity: identity)
        var dimseLogger = logger
        dimseLogger[metadataKey: "listener"] = "dimse"
        return DIMSEServiceProvider.Configuration(
            aeTitle: configuration.aeTitle,
            storage: ArchiveStorageProvider(archive: archive, peers: peers, logger: dimseLogger, access: access),
            query: ArchiveQueryProvider(archive: archive, aeTitle: configuration.aeTitle, access: access),
            retrieve: ArchiveRetrieveProvider(archive: archive, access: access),
            peers: peers, upperLayer: UpperLayerConfiguration(maximumAssociations: 64, logger: dimseLogger, metrics: metrics),
            logger: dimseLogger)
    }

    /// Binds `host:dicomPort` and serves until graceful shutdown or cancellation.
    public func run() async throws {
        var provider = providerConfiguration
        let requestedPort = secure ? configuration.dicomTLSPort ?? 0 : configuration.dicomPort
        if secure {
            guard let certificate = configuration.dicomTLSCertificate, let key = configuration.dicomTLSKey else {
                throw ConfigurationError("dicomTLSPort needs dicomTLSCertificate and dicomTLSKey")
            }
            do {
                provider.upperLayer.tls = try DICOMTLS.acceptor(
                    certificateChain: certificate, privateKey: key, clientCertificateAuthorities: configuration.dicomTLSClientCA)
            } catch {
                throw ConfigurationError("DICOM TLS: \(error)")
            }
        }
        // User identity negotiation (PS3.7 D.3.3.7): checked against the identity store whenever presented, required
        // when configured.
        var policy = DIMSEServiceProvider.acceptorPolicy(
            for: provider, authenticator: identity.map { DIMSEUserIdentity(identity: $0) },
            requiresUserIdentity: configuration.dicomRequireUserIdentity)
        // With allowUnknownPeers off, an AE title not among the configured peers is rejected at association time
        // (A-ASSOCIATE-RJ, calling AE title not recognized): it can neither store, query, retrieve nor echo.
        if !configuration.allowUnknownPeers { policy.knownCallingAETitles = Set(configuration.peers.map(\.aeTitle)) }
        let acceptor: AssociationAcceptor
        do {
            acceptor = try await AssociationAcceptor.bind(
                host: configuration.host, port: requestedPort, policy: policy, configuration: provider.upperLayer)
        } catch {
            throw ConfigurationError("cannot listen for DICOM on \(configuration.host):\(requestedPort): \(error)")
        }
        let port = acceptor.localPort ?? requestedPort
        logger.info(
            "DIMSE listener started", metadata: ["aeTitle": "\(configuration.aeTitle)", "port": "\(port)", "tls": "\(secure)"])
        await onListening(port)
        try await withGracefulShutdownHandler {
            // One audit event per association for its C-STOREs (``AuditedAssociations``).
            try await acceptor.run(
                handler: AuditedAssociations(
                    inner: DIMSEServiceProvider(configuration: provider),
                    access: DIMSEAccess(peers: ConfiguredPeers(configuration: configuration), identity: identity)))
        } onGracefulShutdown: {
            acceptor.stopAccepting()
        }
        logger.info("DIMSE listener stopped")
    }
}
