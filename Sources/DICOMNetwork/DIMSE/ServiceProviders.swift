import DICOM
import NIOCore

/// The query/retrieve information models Atrium serves (PS3.4 C.6).
public enum QueryRetrieveInformationModel: String, Hashable, Sendable, CaseIterable {
    /// Patient Root (PS3.4 C.6.1).
    case patientRoot = "patient"
    /// Study Root (PS3.4 C.6.2).
    case studyRoot = "study"

    /// The C-FIND SOP class (PS3.4 C.6.1.2.1, C.6.2.2.1).
    public var findSOPClassUID: String {
        self == .patientRoot ? "1.2.840.10008.5.1.4.1.2.1.1" : "1.2.840.10008.5.1.4.1.2.2.1"
    }
    /// The C-MOVE SOP class (PS3.4 C.6.1.2.2, C.6.2.2.2).
    public var moveSOPClassUID: String {
        self == .patientRoot ? "1.2.840.10008.5.1.4.1.2.1.2" : "1.2.840.10008.5.1.4.1.2.2.2"
    }
    /// The C-GET SOP class (PS3.4 C.6.1.2.3, C.6.2.2.3).
    public var getSOPClassUID: String {
        self == .patientRoot ? "1.2.840.10008.5.1.4.1.2.1.3" : "1.2.840.10008.5.1.4.1.2.2.3"
    }

    /// Every FIND, MOVE and GET SOP class of both models.
    public static let allSOPClassUIDs: [String] = allCases.flatMap { [$0.findSOPClassUID, $0.moveSOPClassUID, $0.getSOPClassUID] }

    /// The model a FIND, MOVE or GET SOP class belongs to.
    public init?(sopClassUID: String) {
        guard let model = Self.allCases.first(where: { [$0.findSOPClassUID, $0.moveSOPClassUID, $0.getSOPClassUID].contains(sopClassUID) })
        else { return nil }
        self = model
    }
}

/// Query/Retrieve Level (0008,0052) (PS3.4 C.6.1.1, C.6.2.1).
public enum QueryRetrieveLevel: String, Hashable, Sendable, CaseIterable {
    case patient = "PATIENT"
    case study = "STUDY"
    case series = "SERIES"
    case image = "IMAGE"

    /// Whether the level exists in `model` (the Study Root has no patient level, PS3.4 C.6.2.1).
    public func exists(in model: QueryRetrieveInformationModel) -> Bool { model == .patientRoot || self != .patient }
}

/// One instance offered for storage (PS3.4 B.2.2, PS3.7 9.1.1).
public struct StoreRequest: Sendable {
    /// Affected SOP Class UID.
    public var sopClassUID: String
    /// Affected SOP Instance UID.
    public var sopInstanceUID: String
    /// The transfer syntax of `dataSet`, the presentation context's.
    public var transferSyntaxUID: String
    /// The data set bytes as received.
    public var dataSet: ByteBuffer
    /// The sender's AE title.
    public var callingAETitle: String
    /// The AE title the sender called.
    public var calledAETitle: String
    /// The AE title of the C-MOVE requestor when this store is a move sub-operation.
    public var moveOriginatorAETitle: String?

    /// Creates a request.
    public init(
        sopClassUID: String, sopInstanceUID: String, transferSyntaxUID: String, dataSet: ByteBuffer, callingAETitle: String,
        calledAETitle: String, moveOriginatorAETitle: String? = nil
    ) {
        self.sopClassUID = sopClassUID
        self.sopInstanceUID = sopInstanceUID
        self.transferSyntaxUID = transferSyntaxUID
        self.dataSet = dataSet
        self.callingAETitle = callingAETitle
        self.calledAETitle = calledAETitle
        self.moveOriginatorAETitle = moveOriginatorAETitle
    }
}

/// Stores instances received by C-STORE (PS3.4 B); the archive implements it, `FileStorageProvider` writes a folder.
public protocol StorageProvider: Sendable {
    /// Stores one instance and answers with the C-STORE status (PS3.4 B.2.3).
    func store(_ request: StoreRequest) async -> DIMSEStatus
}

/// A C-FIND request as the provider sees it (PS3.4 C.4.1).
public struct QueryRequest: Sendable {
    /// The identifier: matching keys with values, return keys empty (PS3.4 C.2.2.1).
    public var identifier: DataSet
    /// Query/Retrieve Level.
    public var level: QueryRetrieveLevel
    /// Information model.
    public var model: QueryRetrieveInformationModel
    /// The requestor's AE title.
    public var callingAETitle: String

    /// Creates a request.
    public init(identifier: DataSet, level: QueryRetrieveLevel, model: QueryRetrieveInformationModel, callingAETitle: String) {
        self.identifier = identifier
        self.level = level
        self.model = model
        self.callingAETitle = callingAETitle
    }
}

/// Answers C-FIND (PS3.4 C.4.1): each match is an identifier with the requested return keys filled in.
public protocol QueryProvider: Sendable {
    /// The matches of `request`, produced lazily so that C-CANCEL stops the work.
    func find(_ request: QueryRequest) async throws -> any AsyncSequence<DataSet, any Error>
}

/// A C-MOVE or C-GET request as the provider sees it (PS3.4 C.4.2, C.4.3).
public typealias RetrieveRequest = QueryRequest

/// An instance to send in a C-MOVE or C-GET sub-operation.
public struct RetrievableInstance: Hashable, Sendable {
    /// SOP Class UID.
    public var sopClassUID: String
    /// SOP Instance UID.
    public var sopInstanceUID: String
    /// The transfer syntax the data set is stored in.
    public var transferSyntaxUID: String
    /// Where the provider finds it (a path, a blob key); opaque to the DIMSE layer.
    public var location: String

    /// Creates a reference.
    public init(sopClassUID: String, sopInstanceUID: String, transferSyntaxUID: String, location: String) {
        self.sopClassUID = sopClassUID
        self.sopInstanceUID = sopInstanceUID
        self.transferSyntaxUID = transferSyntaxUID
        self.location = location
    }
}

/// Answers C-MOVE and C-GET (PS3.4 C.4.2, C.4.3): which instances match, and their bytes.
public protocol RetrieveProvider: Sendable {
    /// The instances matching the identifier's unique keys.
    func instances(for request: RetrieveRequest) async throws -> [RetrievableInstance]
    /// The data set of `instance`, encoded in its `transferSyntaxUID`, without the File Meta Information.
    func dataSet(of instance: RetrievableInstance) async throws -> ByteBuffer
}

/// What a known application entity may do.
public struct PeerPermissions: OptionSet, Hashable, Sendable {
    /// The option bits.
    public var rawValue: UInt8
    /// Creates permissions from bits.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// May send C-STORE.
    public static let store = PeerPermissions(rawValue: 1 << 0)
    /// May send C-FIND.
    public static let query = PeerPermissions(rawValue: 1 << 1)
    /// May send C-MOVE and C-GET.
    public static let retrieve = PeerPermissions(rawValue: 1 << 2)
    /// May be named as a C-MOVE destination.
    public static let moveDestination = PeerPermissions(rawValue: 1 << 3)
    /// Everything.
    public static let all: PeerPermissions = [.store, .query, .retrieve, .moveDestination]
}

/// A known application entity: where to reach it and what it may do.
public struct RemoteApplicationEntity: Hashable, Sendable {
    /// AE title.
    public var aeTitle: String
    /// Host name or address.
    public var host: String
    /// TCP port.
    public var port: Int
    /// Permissions.
    public var permissions: PeerPermissions

    /// Creates a peer.
    public init(aeTitle: String, host: String, port: Int, permissions: PeerPermissions = .all) {
        self.aeTitle = aeTitle
        self.host = host
        self.port = port
        self.permissions = permissions
    }
}

/// The application entities Atrium knows; the archive keeps them in its database.
public protocol PeerRegistry: Sendable {
    /// The peer with this AE title, if known.
    func peer(aeTitle: String) async -> RemoteApplicationEntity?
    /// What a calling AE title may do: a known peer's permissions, or the registry's rule for strangers.
    func permissions(callingAETitle: String) async -> PeerPermissions
}

/// A fixed list of peers, with the permissions granted to unknown callers.
public struct StaticPeerRegistry: PeerRegistry {
    /// Peers by AE title.
    public var peers: [String: RemoteApplicationEntity]
    /// Permissions of callers not in `peers`; empty means only known peers may do anything.
    public var unknownCallerPermissions: PeerPermissions

    /// Creates a registry.
    public init(_ peers: [RemoteApplicationEntity] = [], unknownCallerPermissions: PeerPermissions = [.store, .query, .retrieve]) {
        self.peers = Dictionary(peers.map { ($0.aeTitle, $0) }, uniquingKeysWith: { _, last in last })
        self.unknownCallerPermissions = unknownCallerPermissions
    }

    /// The peer with this AE title.
    public func peer(aeTitle: String) async -> RemoteApplicationEntity? { peers[aeTitle] }

    /// The peer's permissions, or those of unknown callers.
    public func permissions(callingAETitle: String) async -> PeerPermissions {
        peers[callingAETitle]?.permissions ?? unknownCallerPermissions
    }
}
