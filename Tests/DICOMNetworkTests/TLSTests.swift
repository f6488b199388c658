import AtriumTesting
import Foundation
import Logging
import Testing

@testable import DICOMNetwork

/// A CA, a server and a client certificate signed by it, and a second CA that signed nothing here, made by `openssl`.
private struct TestCertificates {
    let directory: String
    var ca: String { directory + "/ca.pem" }
    var otherCA: String { directory + "/other-ca.pem" }
    var serverCertificate: String { directory + "/server.pem" }
    var serverKey: String { directory + "/server.key" }
    var clientCertificate: String { directory + "/client.pem" }
    var clientKey: String { directory + "/client.key" }

    static func make() async throws -> TestCertificates {
        let directory = try Corpus.temporaryDirectory("atrium-tls")
        func openssl(_ arguments: [String]) async throws {
            let result = try await Subprocess.runDetached("openssl", arguments)
            guard result.status == 0 else { throw PeerError("openssl \(arguments.first ?? "") failed: \(result.errorOutput)") }
        }
        for ca in ["ca", "other-ca"] {
            try await openssl([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Atrium test \(ca)",
                "-keyout", "\(directory)/\(ca).key", "-out", "\(directory)/\(ca).pem",
            ])
        }
        for (name, names) in [("server", "DNS:localhost,IP:127.0.0.1"), ("client", "DNS:client.invalid")] {
            try await openssl([
                "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=\(name)", "-keyout", "\(directory)/\(name).key",
                "-out", "\(directory)/\(name).csr",
            ])
            try "subjectAltName=\(names)\n".write(toFile: "\(directory)/\(name).ext", atomically: true, encoding: .utf8)
            try await openssl([
                "x509", "-req", "-in", "\(directory)/\(name).csr", "-CA", "\(directory)/ca.pem", "-CAkey", "\(directory)/ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", "\(directory)/\(name).ext", "-out", "\(directory)/\(name).pem",
            ])
        }
        return TestCertificates(directory: directory)
    }
}

/// Runs Atrium's storage SCP with TLS on a free loopback port while `body` runs.
private func withTLSAtriumSCP(
    _ tls: DICOMTLS, out: String, _ body: @Sendable @escaping (Int) async throws -> Void
) async throws {
    let upperLayer = UpperLayerConfiguration(logger: Logger(label: "atrium.test.tls"), tls: tls)
    let configuration = DIMSEServiceProvider.Configuration(
        aeTitle: "ATRIUM", storage: FileStorageProvider(directory: out), upperLayer: upperLayer)
    let policy = DIMSEServiceProvider.acceptorPolicy(for: configuration)
    let acceptor = try await AssociationAcceptor.bind(host: "127.0.0.1", port: 0, policy: policy, configuration: upperLayer)
    let port = try #require(acceptor.localPort)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await acceptor.run(handler: DIMSEServiceProvider(configuration: configuration)) }
        defer { group.cancelAll() }
        try await body(port)
    }
}

/// Every regular file under `directory`.
private func storedFiles(_ directory: String) -> [String] {
    let enumerator = FileManager.default.enumerator(atPath: directory)
    var found: [String] = []
    while let path = enumerator?.nextObject() as? String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue {
            found.append(path)
        }
    }
    return found
}

private func sampleFiles() throws -> [String] {
    let root = try Corpus.pydicomDataDirectory() + "/test_files/"
    return [root + "CT_small.dcm", root + "MR_small.dcm"]
}

private func isTransportSecurityFailure(_ error: any Error) -> Bool {
    if case AssociationError.transportSecurity = error { return true }
    return false
}

@Suite("DICOM TLS (PS3.15 B.9) against dcmtk built with OpenSSL", .serialized)
struct TLSTests {
    @Test("dcmtk echoscu and storescu with +tls and a client certificate reach Atrium's TLS acceptor")
    func dcmtkToAtrium() async throws {
        let certificates = try await TestCertificates.make()
        let tls = try DICOMTLS.acceptor(
            certificateChain: certificates.serverCertificate, privateKey: certificates.serverKey,
            clientCertificateAuthorities: certificates.ca)
        let out = try Corpus.temporaryDirectory("atrium-tls-store")
        let sent = try sampleFiles()
        try await withTLSAtriumSCP(tls, out: out) { port in
            let tlsArguments = ["+tls", certificates.clientKey, certificates.clientCertificate, "+cf", certificates.ca]
            let echo = try PeerProcess(
                "/usr/bin/echoscu", tlsArguments + ["-aec", "ATRIUM", "127.0.0.1", String(port)], environment: ["TCP_NODELAY": "1"])
            #expect(await echo.exitStatus(within: 20) == 0, "\(echo.output)")
            let store = try PeerProcess(
                "/usr/bin/storescu", tlsArguments + ["-aec", "ATRIUM", "127.0.0.1", String(port)] + sent,
                environment: ["TCP_NODELAY": "1"])
            #expect(await store.exitStatus(within: 30) == 0, "\(store.output)")
        }
        #expect(storedFiles(out).count == sent.count)
    }

    @Test("Atrium's SCU echoes and stores over TLS into dcmtk storescp +tls, which requires its client certificate")
    func atriumToDcmtk() async throws {
        let certificates = try await TestCertificates.make()
        let port = try LoopbackPort.free()
        let received = try Corpus.temporaryDirectory("atrium-tls-to-storescp")
        let storescp = try PeerProcess(
            "/usr/bin/storescp",
            [
                "+tls", certificates.serverKey, certificates.serverCertificate, "+cf", certificates.ca, "--aetitle", "STORESCP",
                "-od", received, String(port),
            ], environment: ["TCP_NODELAY": "1"])
        defer { storescp.stop() }
        try await LoopbackPort.waitForListener(port)
        var client = DIMSEClient(host: "127.0.0.1", port: port, callingAETitle: "ATRIUM", calledAETitle: "STORESCP")
        client.upperLayer.tls = try DICOMTLS.requestor(
            certificateAuthorities: certificates.ca, certificateChain: certificates.clientCertificate,
            privateKey: certificates.clientKey)
        #expect(try await client.echo() == .success)
        let sent = try sampleFiles()
        var statuses: [DIMSEStatus?] = []
        try await client.store(paths: sent) { statuses.append($0.status) }
        #expect(statuses == sent.map { _ in .success }, "\(storescp.output)")
        #expect(storedFiles(received).count == sent.count)
    }

    @Test("A server certificate from another CA is refused with a TLS error, both by Atrium and by dcmtk")
    func wrongCA() async throws {
        let certificates = try await TestCertificates.make()
        let tls = try DICOMTLS.acceptor(certificateChain: certificates.serverCertificate, privateKey: certificates.serverKey)
        let out = try Corpus.temporaryDirectory("atrium-tls-wrong-ca")
        try await withTLSAtriumSCP(tls, out: out) { port in
            var client = DIMSEClient(host: "127.0.0.1", port: port, callingAETitle: "ATRIUM", calledAETitle: "ATRIUM")
            client.upperLayer.tls = try DICOMTLS.requestor(certificateAuthorities: certificates.otherCA)
            do {
                _ = try await client.echo()
                Issue.record("the echo to a server signed by an untrusted CA succeeded")
            } catch {
                #expect(isTransportSecurityFailure(error), "\(error)")
                #expect("\(error)".contains("CERTIFICATE_VERIFY_FAILED"), "\(error)")
            }
            let echo = try PeerProcess(
                "/usr/bin/echoscu",
                ["+tls", certificates.clientKey, certificates.clientCertificate, "+cf", certificates.otherCA, "127.0.0.1", String(port)],
                environment: ["TCP_NODELAY": "1"])
            let status = await echo.exitStatus(within: 20)
            #expect(status != nil && status != 0, "\(echo.output)")
            // The acceptor still serves a client that trusts the right CA.
            client.upperLayer.tls = try DICOMTLS.requestor(certificateAuthorities: certificates.ca)
            #expect(try await client.echo() == .success)
        }
    }

    @Test("A plain DICOM client on a TLS port fails cleanly and the port keeps serving TLS clients")
    func plainClientOnTLSPort() async throws {
        let certificates = try await TestCertificates.make()
        let tls = try DICOMTLS.acceptor(certificateChain: certificates.serverCertificate, privateKey: certificates.serverKey)
        let out = try Corpus.temporaryDirectory("atrium-tls-plain")
        try await withTLSAtriumSCP(tls, out: out) { port in
            let plain = DIMSEClient(host: "127.0.0.1", port: port, callingAETitle: "ATRIUM", calledAETitle: "ATRIUM")
            await #expect(throws: (any Error).self) { _ = try await plain.echo() }
            let echo = try PeerProcess("/usr/bin/echoscu", ["127.0.0.1", String(port)], environment: ["TCP_NODELAY": "1"])
            let status = await echo.exitStatus(within: 20)
            #expect(status != nil && status != 0, "\(echo.output)")
            var secure = plain
            secure.upperLayer.tls = try DICOMTLS.requestor(certificateAuthorities: certificates.ca)
            #expect(try await secure.echo() == .success)
        }
    }

    @Test("An acceptor that requires client certificates refuses a client without one, Atrium's and dcmtk's")
    func clientCertificateRequired() async throws {
        let certificates = try await TestCertificates.make()
        let tls = try DICOMTLS.acceptor(
            certificateChain: certificates.serverCertificate, privateKey: certificates.serverKey,
            clientCertificateAuthorities: certificates.ca)
        let out = try Corpus.temporaryDirectory("atrium-tls-client-cert")
        try await withTLSAtriumSCP(tls, out: out) { port in
            var client = DIMSEClient(host: "127.0.0.1", port: port, callingAETitle: "ATRIUM", calledAETitle: "ATRIUM")
            client.upperLayer.tls = try DICOMTLS.requestor(certificateAuthorities: certificates.ca)
            do {
                _ = try await client.echo()
                Issue.record("the echo without a client certificate succeeded")
            } catch {
                #expect(isTransportSecurityFailure(error), "\(error)")
            }
            let anonymous = try PeerProcess(
                "/usr/bin/echoscu", ["+tla", "+cf", certificates.ca, "127.0.0.1", String(port)], environment: ["TCP_NODELAY": "1"])
            let status = await anonymous.exitStatus(within: 20)
            #expect(status != nil && status != 0, "\(anonymous.output)")
            client.upperLayer.tls = try DICOMTLS.requestor(
                certificateAuthorities: certificates.ca, certificateChain: certificates.clientCertificate,
                privateKey: certificates.clientKey)
            #expect(try await client.echo() == .success)
        }
        #expect(storedFiles(out).isEmpty)
    }

    @Test("Unusable TLS files fail when the settings are made, naming the file")
    func unusableFiles() async throws {
        let certificates = try await TestCertificates.make()
        #expect(throws: DICOMTLSError.self) {
            _ = try DICOMTLS.acceptor(certificateChain: certificates.serverKey, privateKey: certificates.serverKey)
        }
        #expect(throws: DICOMTLSError.incompleteIdentity) {
            _ = try DICOMTLS.requestor(certificateAuthorities: certificates.ca, certificateChain: certificates.clientCertificate)
        }
        do {
            _ = try DICOMTLS.requestor(certificateAuthorities: certificates.directory + "/missing.pem")
            Issue.record("a missing CA file was accepted")
        } catch {
            #expect(error.description.contains("missing.pem"))
        }
    }
}
