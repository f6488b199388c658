import DICOMNetwork

/// The peer registry of `atrium serve`, built from the configuration's `peers` and `allowUnknownPeers`.
///
/// A listed peer may do what its `permissions` say. A calling AE title that is not listed may store, query and retrieve
/// only when `allowUnknownPeers` is set, and is never a C-MOVE destination (the server could not know its address).
public struct ConfiguredPeers: PeerRegistry {
    private let registry: StaticPeerRegistry
    private let institutions: [String: String]

    /// Builds the registry; the configuration has been validated.
    public init(configuration: ServerConfiguration) {
        let entities = configuration.peers.map { peer in
            RemoteApplicationEntity(
                aeTitle: peer.aeTitle, host: peer.host, port: peer.port, permissions: PeerPermissions(names: peer.permissions))
        }
        registry = StaticPeerRegistry(
            entities, unknownCallerPermissions: configuration.allowUnknownPeers ? [.store, .query, .retrieve] : [])
        var institutions: [String: String] = [:]
        for peer in configuration.peers { if let institution = peer.institution { institutions[peer.aeTitle] = institution } }
        self.institutions = institutions
    }

    /// The configured peer with this AE title.
    public func peer(aeTitle: String) async -> RemoteApplicationEntity? { await registry.peer(aeTitle: aeTitle) }

    /// A listed peer's permissions, or those of unknown callers.
    public func permissions(callingAETitle: String) async -> PeerPermissions {
        await registry.permissions(callingAETitle: callingAETitle)
    }

    /// The institution of a listed peer, recorded as the source of what it stores.
    public func institution(aeTitle: String) -> String? { institutions[aeTitle] }
}

extension PeerPermissions {
    /// The permission names of the configuration file.
    static let names: [String: PeerPermissions] = [
        "store": .store, "query": .query, "retrieve": .retrieve, "moveDestination": .moveDestination,
    ]

    /// Permissions from their names; unknown names were refused by ``ServerConfiguration/validate()``.
    init(names: [String]) {
        self = names.reduce(into: []) { result, name in result.formUnion(Self.names[name] ?? []) }
    }
}
