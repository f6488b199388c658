import ArgumentParser
import DICOM
import DICOMNetwork
import Foundation
import Logging

/// Exit statuses of the network commands, for scripts.
enum NetworkExit {
    /// Every operation succeeded.
    static let success: Int32 = 0
    /// The association worked but some operations failed (DIMSE failure status, unreadable files).
    static let operationFailed: Int32 = 1
    /// No association: refused connection, rejection, abort, timeout.
    static let associationFailed: Int32 = 2
}

let networkExitCodes = """
    Exit status: 0 when every operation succeeded; 1 when the association worked but an operation failed \
    (a failure status, an unreadable file); 2 when no association could be made or it was rejected or aborted; \
    64 for a usage error.
    """

/// Options shared by the commands that call a peer.
struct PeerOptions: ParsableArguments {
    @Option(name: .long, help: "The peer's host name or address.")
    var host: String = "127.0.0.1"

    @Option(name: .long, help: "The peer's TCP port.")
    var port: Int = 104

    @Option(name: .customLong("aec"), help: "The called AE title (the peer's).")
    var calledAETitle: String = "ANY-SCP"

    @Option(name: .customLong("aet"), help: "The calling AE title (this end's).")
    var callingAETitle: String = "ATRIUM"

    @Option(name: .customLong("max-pdu"), help: "The largest P-DATA-TF this end receives, in bytes.")
    var maximumPDULength: UInt32 = 65_536

    @Option(name: .long, help: "Username for user identity negotiation (PS3.7 D.3.3.7).")
    var username: String?

    @Option(name: .long, help: "Passcode sent with --username.")
    var password: String?

    @Option(name: .long, help: "Seconds without any PDU before the association is aborted.")
    var timeout: Int = 60

    @Flag(name: [.short, .long], help: "Log the associations and each operation.")
    var verbose = false

    @OptionGroup(title: "DICOM TLS (PS3.15 B.9)") var tls: TLSOptions

    func validate() throws {
        for title in [calledAETitle, callingAETitle] {
            if let problem = AAssociateRQ.aeTitleProblem(title) { throw ValidationError(problem) }
        }
        guard (1...65_535).contains(port) else { throw ValidationError("--port must be 1–65535") }
        _ = try tls.requestor()
    }

    var logger: Logger {
        var logger = Logger(label: "atrium")
        logger.logLevel = verbose ? .info : .error
        return logger
    }

    /// The client these options describe; throws if the TLS files cannot be used.
    var client: DIMSEClient {
        get throws {
            var client = plainClient
            client.upperLayer.tls = try tls.requestor()
            return client
        }
    }

    private var plainClient: DIMSEClient {
        var identity: UserIdentityRQ?
        if let username {
            identity = UserIdentityRQ(
                identity: password.map { .usernameAndPasscode(username: username, passcode: $0) } ?? .username(username),
                positiveResponseRequested: true)
        }
        return DIMSEClient(
            host: host, port: port, callingAETitle: callingAETitle, calledAETitle: calledAETitle, userIdentity: identity,
            maximumPDULength: maximumPDULength,
            upperLayer: UpperLayerConfiguration(
                timeouts: .init(artim: .seconds(Int64(timeout)), idle: .seconds(Int64(timeout))), logger: logger))
    }
}

/// TLS options: a requestor verifies the peer against --tls-ca and may present a certificate; an acceptor presents
/// --tls-cert and, with --tls-ca, requires client certificates signed by those CAs.
struct TLSOptions: ParsableArguments {
    @Flag(name: .long, help: "Use DICOM TLS (TLS 1.2 or 1.3, BCP 195 cipher suites).")
    var tls = false

    @Option(
        name: .customLong("tls-ca"),
        help: ArgumentHelp(
            "PEM file of trusted CA certificates: the peer's certificate must chain to one (for storescp: client certificates are then required).",
            valueName: "file"))
    var certificateAuthorities: String?

    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("PEM certificate (chain) this end presents.", valueName: "file"))
    var certificate: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("PEM private key of --tls-cert, unencrypted.", valueName: "file"))
    var privateKey: String?

    private func checkUnused() throws {
        if !tls, certificateAuthorities != nil || certificate != nil || privateKey != nil {
            throw ValidationError("--tls-ca, --tls-cert and --tls-key need --tls")
        }
    }

    /// The requestor's TLS settings, or nil without --tls.
    func requestor() throws -> DICOMTLS? {
        try checkUnused()
        guard tls else { return nil }
        guard let certificateAuthorities else {
            throw ValidationError("--tls needs --tls-ca, the CA certificates that sign the peer's certificate")
        }
        do {
            return try DICOMTLS.requestor(
                certificateAuthorities: certificateAuthorities, certificateChain: certificate, privateKey: privateKey)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// The acceptor's TLS settings, or nil without --tls.
    func acceptor() throws -> DICOMTLS? {
        try checkUnused()
        guard tls else { return nil }
        guard let certificate, let privateKey else { throw ValidationError("--tls needs --tls-cert and --tls-key") }
        do {
            return try DICOMTLS.acceptor(
                certificateChain: certificate, privateKey: privateKey, clientCertificateAuthorities: certificateAuthorities)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

/// Options of the query and retrieve commands: keys and level.
struct QueryOptions: ParsableArguments {
    @Option(
        name: .customShort("k"),
        help: ArgumentHelp(
            "A key: Tag=Value or Keyword=Value; without a value the attribute is returned (repeatable).",
            valueName: "key"))
    var keys: [String] = []

    @Option(name: .long, help: "Query/Retrieve Level: PATIENT, STUDY, SERIES or IMAGE.")
    var level: String = "STUDY"

    @Option(name: .long, help: "Information model: patient or study (root).")
    var model: String = "study"

    func validate() throws {
        _ = try identifier()
        _ = try informationModel()
    }

    func informationModel() throws -> QueryRetrieveInformationModel {
        guard let model = QueryRetrieveInformationModel(rawValue: model.lowercased()) else {
            throw ValidationError("--model is patient or study")
        }
        return model
    }

    /// The identifier: the keys, with the level (PS3.4 C.4.1.1.3).
    func identifier() throws -> DataSet {
        guard let level = QueryRetrieveLevel(rawValue: level.uppercased()) else {
            throw ValidationError("--level is PATIENT, STUDY, SERIES or IMAGE")
        }
        var dataSet = DataSet()
        dataSet.set(.queryRetrieveLevel, .CS, level.rawValue)
        for key in keys {
            let parts = key.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = parts[0].trimmingCharacters(in: .whitespaces)
            let value = parts.count > 1 ? String(parts[1]) : ""
            guard let tag = parseTag(name) else { throw ValidationError("unknown tag or keyword \"\(name)\" in -k \(key)") }
            let vr = DataDictionary.entry(for: tag)?.vr ?? .LO
            if vr == .SQ {
                dataSet.set(tag, items: [])
            } else {
                dataSet.set(tag, vr, value.split(separator: "\\", omittingEmptySubsequences: false).map(String.init))
            }
        }
        return dataSet
    }
}

/// A tag from `gggg,eeee`, `(gggg,eeee)`, `ggggeeee` or a keyword.
func parseTag(_ text: String) -> Tag? {
    let cleaned = text.filter { !"() ".contains($0) }
    let hex = cleaned.replacingOccurrences(of: ",", with: "")
    if hex.count == 8, hex.allSatisfy(\.isHexDigit) { return Tag(hexString: hex) }
    return DataDictionary.tag(forKeyword: cleaned)
}

/// The exit status for an error that ended an association.
func associationFailure(_ command: String, _ error: any Error) -> ExitCode {
    writeStandardError("atrium \(command): \(describe(error))\n")
    return ExitCode(NetworkExit.associationFailed)
}

/// A person-readable account of an association or DIMSE error.
func describe(_ error: any Error) -> String {
    switch error {
    case AssociationError.rejected(let rj):
        return "association rejected (result \(rj.result.rawValue), source \(rj.source.rawValue), reason \(rj.reason.rawValue))"
    case AssociationError.aborted(let abort): return "association aborted by the peer (source \(abort.source.rawValue))"
    case AssociationError.providerAborted(let reason): return "association aborted by the service provider (reason \(reason.rawValue))"
    case AssociationError.connectionClosed: return "the peer closed the connection"
    case AssociationError.transportSecurity(let reason): return reason
    default: return "\(error)"
    }
}
