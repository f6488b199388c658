import ArgumentParser
import DICOM
import DICOMNetwork
import Foundation
import Logging

struct StoreSCP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storescp",
        abstract: "Receive instances with C-STORE into a folder, as dcmtk's storescp; optionally serve the folder by FIND, MOVE and GET.",
        discussion: """
            Each instance is written as <StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm under --out; a UID that is \
            not digits and dots is never used in a path (unknown-study, unknown-series; an unsafe SOP Instance UID is refused \
            with status C000). The data set is written byte for byte as received, straight to its final name as dcmtk's \
            storescp does; with --durable it goes to a temporary name, is fsync'd and then renamed, so a reader never sees \
            half a file.
            With --tls (DICOM TLS, PS3.15 B.9) the port speaks only TLS: --tls-cert and --tls-key are this end's certificate \
            and key; with --tls-ca, clients must present a certificate signed by one of those CAs.
            Accepts verification and every storage SOP class of the dictionary; with --query-retrieve also Patient Root and \
            Study Root FIND, MOVE and GET over the files under --out. Move destinations are given with --peer AE=host:port.
            Runs until interrupted; exit status 2 when the port cannot be bound.
            """)

    @Option(name: .long, help: "Folder the instances are written to (created if missing).")
    var out: String

    @Option(name: .long, help: "TCP port to listen on.")
    var port: Int = 104

    @Option(name: .long, help: "Address to listen on.")
    var host: String = "0.0.0.0"

    @Option(name: .customLong("aet"), help: "This AE title.")
    var aeTitle: String = "ATRIUM"

    @Flag(name: .long, help: "Reject associations whose called AE title is not --aet.")
    var checkCalledAET = false

    @Flag(name: .long, help: "Also answer C-FIND, C-MOVE and C-GET over the files under --out.")
    var queryRetrieve = false

    @Option(name: .long, help: "A known peer, AE=host:port: a C-MOVE destination (repeatable).")
    var peer: [String] = []

    @Option(name: .customLong("max-pdu"), help: "The largest P-DATA-TF this end receives, in bytes.")
    var maximumPDULength: UInt32 = 65_536

    @Option(name: .long, help: "Most associations served at once; more are rejected (transient, local limit exceeded).")
    var maxAssociations: Int = 32

    @Option(name: .long, help: "Seconds without any PDU before an association is aborted.")
    var idleTimeout: Int = 300

    @Option(
        name: .long,
        help:
            "Transfer syntax UIDs in order of preference, comma-separated (default: explicit VR LE, implicit VR LE, then any other as sent)."
    )
    var transferSyntaxes: String?

    @Flag(name: .long, help: "fsync each file before answering success.")
    var durable = false

    @Flag(name: [.short, .long], help: "Log associations and operations (UIDs only, never patient data).")
    var verbose = false

    @OptionGroup(title: "DICOM TLS (PS3.15 B.9)") var tls: TLSOptions

    func validate() throws {
        if let problem = AAssociateRQ.aeTitleProblem(aeTitle) { throw ValidationError("--aet: \(problem)") }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0–65535") }
        _ = try peers()
        _ = try tls.acceptor()
    }

    private func peers() throws -> [RemoteApplicationEntity] {
        try peer.map { text in
            let parts = text.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let colon = parts[1].lastIndex(of: ":"), let port = Int(parts[1][parts[1].index(after: colon)...])
            else { throw ValidationError("--peer is AE=host:port, not \(text)") }
            return RemoteApplicationEntity(aeTitle: String(parts[0]), host: String(parts[1][..<colon]), port: port)
        }
    }

    func run() async throws {
        var logger = Logger(label: "atrium.storescp")
        logger.logLevel = verbose ? .info : .warning
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let upperLayer = UpperLayerConfiguration(
            timeouts: .init(idle: .seconds(Int64(idleTimeout))), maximumReceivedPDULength: Int(max(maximumPDULength, 16_384)) + 6,
            maximumAssociations: maxAssociations, logger: logger, tls: try tls.acceptor())
        let folder = FolderQueryRetrieveProvider(directory: out)
        let configuration = DIMSEServiceProvider.Configuration(
            aeTitle: aeTitle, storage: FileStorageProvider(directory: out, durable: durable, logger: logger),
            query: queryRetrieve ? folder : nil, retrieve: queryRetrieve ? folder : nil,
            peers: StaticPeerRegistry(try peers()), upperLayer: upperLayer, logger: logger)
        let preference =
            transferSyntaxes.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            ?? DIMSEServiceProvider.defaultTransferSyntaxPreference
        let policy = DIMSEServiceProvider.acceptorPolicy(
            for: configuration, checksCalledAETitle: checkCalledAET, transferSyntaxPreference: preference,
            maximumPDULength: maximumPDULength)
        let acceptor: AssociationAcceptor
        do {
            acceptor = try await AssociationAcceptor.bind(host: host, port: port, policy: policy, configuration: upperLayer)
        } catch {
            writeStandardError("atrium storescp: cannot listen on \(host):\(port): \(error)\n")
            throw ExitCode(NetworkExit.associationFailed)
        }
        writeStandardError(
            "atrium storescp: \(aeTitle) listening on \(host):\(acceptor.localPort ?? port)\(tls.tls ? " (TLS)" : ""), writing to \(out)\n")
        try await acceptor.run(handler: DIMSEServiceProvider(configuration: configuration))
    }
}
