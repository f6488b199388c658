import Logging
import NIOCore
import NIOSSL
import Synchronization

/// TLS for DICOM associations: the Non-downgrading BCP 195 TLS Secure Transport Connection Profile (PS3.15 B.9).
///
/// TLS 1.2 or 1.3 only, with the ECDHE/AEAD cipher suites BCP 195 recommends for TLS 1.2 (TLS 1.3 suites are
/// BoringSSL's, all AEAD). Certificates and keys are PEM files. An acceptor presents its certificate and, given a CA
/// bundle, requires and verifies a client certificate; a requestor verifies the acceptor's certificate chain against
/// its CA bundle and, for a host name or an IP address, that the certificate names that host (subject alternative
/// names).
public struct DICOMTLS: Sendable {
    /// Which end of the connection the context is for.
    public enum Role: Sendable, Hashable {
        /// The association acceptor: the TLS server.
        case acceptor
        /// The association requestor: the TLS client.
        case requestor
    }

    /// The end this configuration is for.
    public let role: Role
    /// Whether an acceptor requires and verifies a client certificate.
    public let verifiesPeerCertificate: Bool
    let context: NIOSSLContext

    /// TLS 1.2 cipher suites of BCP 195 (RFC 9325 4.2) that BoringSSL offers: ECDHE key exchange with AES-GCM or
    /// ChaCha20-Poly1305, for RSA and ECDSA certificates.
    static let cipherSuites: [NIOTLSCipher] = [
        .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]

    /// An acceptor's TLS: its certificate chain and private key, and optionally the CAs whose client certificates it
    /// accepts (then a client without a valid certificate is refused during the handshake).
    public static func acceptor(
        certificateChain: String, privateKey: String, clientCertificateAuthorities: String? = nil
    ) throws(DICOMTLSError) -> DICOMTLS {
        let chain = try certificates(certificateChain)
        let key = try loadKey(privateKey)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.cipherSuiteValues = cipherSuites
        if let clientCertificateAuthorities {
            configuration.trustRoots = .certificates(try certificates(clientCertificateAuthorities))
            configuration.certificateVerification = .noHostnameVerification
        } else {
            configuration.certificateVerification = .none
        }
        return DICOMTLS(
            role: .acceptor, verifiesPeerCertificate: clientCertificateAuthorities != nil,
            context: try makeContext(configuration))
    }

    /// A requestor's TLS: the CAs that sign acceptors' certificates, and optionally a client certificate and key.
    public static func requestor(
        certificateAuthorities: String, certificateChain: String? = nil, privateKey: String? = nil
    ) throws(DICOMTLSError) -> DICOMTLS {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.cipherSuiteValues = cipherSuites
        configuration.trustRoots = .certificates(try certificates(certificateAuthorities))
        configuration.certificateVerification = .fullVerification
        switch (certificateChain, privateKey) {
        case (let chain?, let key?):
            configuration.certificateChain = try certificates(chain).map { .certificate($0) }
            configuration.privateKey = .privateKey(try loadKey(key))
        case (nil, nil):
            break
        default:
            throw .incompleteIdentity
        }
        return DICOMTLS(role: .requestor, verifiesPeerCertificate: true, context: try makeContext(configuration))
    }

    private static func certificates(_ path: String) throws(DICOMTLSError) -> [NIOSSLCertificate] {
        let loaded: [NIOSSLCertificate]
        do {
            loaded = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw .unreadableFile(path: path, reason: "not a readable PEM certificate file (\(error))")
        }
        guard !loaded.isEmpty else { throw .unreadableFile(path: path, reason: "no certificate in the file") }
        return loaded
    }

    private static func loadKey(_ path: String) throws(DICOMTLSError) -> NIOSSLPrivateKey {
        do {
            return try NIOSSLPrivateKey(file: path, format: .pem)
        } catch {
            throw .unreadableFile(path: path, reason: "not a readable, unencrypted PEM private key (\(error))")
        }
    }

    private static func makeContext(_ configuration: TLSConfiguration) throws(DICOMTLSError) -> NIOSSLContext {
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw .invalidConfiguration("\(error)")
        }
    }

    /// Adds the TLS handler for `role` at the front of the pipeline, and a handler after it that turns TLS failures
    /// into a log line and a recorded reason, then closes the connection.
    func install(
        on channel: any Channel, serverHostname: String?, failure: TLSFailure, logger: Logger
    ) throws {
        let pipeline = channel.pipeline.syncOperations
        switch role {
        case .acceptor:
            try pipeline.addHandler(NIOSSLServerHandler(context: context))
        case .requestor:
            try pipeline.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverHostname))
        }
        try pipeline.addHandler(TLSFailureHandler(failure: failure, role: role, logger: logger))
    }
}

/// What one connection's pipeline needs for TLS: the settings, the name to send and check, where failures go.
struct TLSSetup: Sendable {
    let settings: DICOMTLS
    let serverHostname: String?
    let failure: TLSFailure
}

/// Errors setting up DICOM TLS, and TLS failures of a connection.
public enum DICOMTLSError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A certificate, CA bundle or key file cannot be used.
    case unreadableFile(path: String, reason: String)
    /// A client certificate was given without its key, or the reverse.
    case incompleteIdentity
    /// The TLS library refused the settings.
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .unreadableFile(let path, let reason): return "\(path): \(reason)"
        case .incompleteIdentity: return "a TLS client certificate needs its private key, and a key its certificate"
        case .invalidConfiguration(let reason): return "TLS configuration refused: \(reason)"
        }
    }
}

/// The first TLS failure of one connection, shared between its pipeline and the task that reads it.
final class TLSFailure: Sendable {
    private let reason = Mutex<String?>(nil)

    var recorded: String? { reason.withLock { $0 } }

    func record(_ text: String) {
        reason.withLock { if $0 == nil { $0 = text } }
    }
}

/// Sits behind the TLS handler: a TLS error (handshake refused, certificate not trusted, plain bytes on a TLS port)
/// is logged once with the peer's address, recorded for the requestor, and closes the connection.
private final class TLSFailureHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let failure: TLSFailure
    let role: DICOMTLS.Role
    let logger: Logger

    init(failure: TLSFailure, role: DICOMTLS.Role, logger: Logger) {
        self.failure = failure
        self.role = role
        self.logger = logger
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError else {
            context.fireErrorCaught(error)
            return
        }
        // A peer that closes without close_notify after its release is not a failure worth a warning.
        if case NIOSSLError.uncleanShutdown = error {
            logger.debug("TLS connection closed without close_notify")
            failure.record("the peer closed the TLS connection without close_notify (a client certificate refused?)")
            context.close(promise: nil)
            return
        }
        let text = describeTLSFailure(error)
        failure.record(text)
        logger.warning(
            "TLS failure, closing the connection",
            metadata: ["peer": "\(context.remoteAddress.map { "\($0)" } ?? "unknown")", "error": "\(text)"])
        context.close(promise: nil)
    }
}

/// A readable account of a TLS error: BoringSSL's reason strings (for example CERTIFICATE_VERIFY_FAILED,
/// WRONG_VERSION_NUMBER, PEER_DID_NOT_RETURN_A_CERTIFICATE) name the cause.
func describeTLSFailure(_ error: any Error) -> String {
    switch error {
    case NIOSSLError.handshakeFailed(let boring): return "TLS handshake failed: \(boring)"
    default: return "TLS error: \(error)"
    }
}
