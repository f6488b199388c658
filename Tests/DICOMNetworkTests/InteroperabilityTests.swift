import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing

@testable import DICOMNetwork

private let verification = "1.2.840.10008.1.1"
private let ctImageStorage = "1.2.840.10008.5.1.4.1.1.2"

// MARK: - Test fixtures standing in for DIMSE until it exists

/// Elements of an implicit VR little endian command set, by (group, element) (PS3.5 7.1.3, PS3.7 E.1).
private func commandElements(_ bytes: ByteBuffer) -> [UInt32: ByteBuffer] {
    var buffer = bytes
    var elements: [UInt32: ByteBuffer] = [:]
    while let group = buffer.readInteger(endianness: .little, as: UInt16.self),
        let element = buffer.readInteger(endianness: .little, as: UInt16.self),
        let length = buffer.readInteger(endianness: .little, as: UInt32.self),
        let value = buffer.readSlice(length: Int(length))
    {
        elements[UInt32(group) << 16 | UInt32(element)] = value
    }
    return elements
}

private func uint16(_ value: ByteBuffer?) -> UInt16? {
    value?.getInteger(at: value?.readerIndex ?? 0, endianness: .little, as: UInt16.self)
}

/// A C-ECHO-RSP command set built by hand (PS3.7 9.3.5.2) — a test fixture until the DIMSE layer arrives.
private func cEchoResponse(to request: ByteBuffer) -> ByteBuffer {
    let messageID = uint16(commandElements(request)[0x0000_0110]) ?? 0
    var body = ByteBuffer()
    func element(_ tag: UInt16, _ value: [UInt8]) {
        body.writeInteger(UInt16(0), endianness: .little)
        body.writeInteger(tag, endianness: .little)
        body.writeInteger(UInt32(value.count), endianness: .little)
        body.writeBytes(value)
    }
    func us(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
    element(0x0002, Array("1.2.840.10008.1.1\0".utf8))  // Affected SOP Class UID, padded to even length
    element(0x0100, us(0x8030))  // Command Field: C-ECHO-RSP
    element(0x0120, us(messageID))  // Message ID Being Responded To
    element(0x0800, us(0x0101))  // Command Data Set Type: none
    element(0x0900, us(0x0000))  // Status: success
    var command = ByteBuffer()
    command.writeBytes([0, 0, 0, 0, 4, 0, 0, 0])  // (0000,0000) UL group length
    command.writeInteger(UInt32(body.readableBytes), endianness: .little)
    command.writeBuffer(&body)
    return command
}

/// Answers every C-ECHO-RQ with success, counting them.
private final class EchoFixture: AssociationHandler {
    let echoes = Counter()

    func receive(_ message: PresentationDataMessage, association: AssociationContext) async throws {
        guard message.kind == .command, uint16(commandElements(message.bytes)[0x0000_0100]) == 0x0030 else { return }
        await echoes.increment()
        try await association.send(
            PresentationDataMessage(
                presentationContextID: message.presentationContextID, kind: .command, bytes: cEchoResponse(to: message.bytes)))
    }
}

/// Takes one message and then never returns until cancelled: a stand-in for a stuck storage back end.
private struct StuckHandler: AssociationHandler {
    let received = Counter()

    func receive(_ message: PresentationDataMessage, association: AssociationContext) async throws {
        await received.increment()
        try await Task.sleep(for: .seconds(3_600))
    }
}

private actor Counter {
    var value = 0
    func increment() { value += 1 }
}

private struct PasswordAuthenticator: UserIdentityAuthenticator {
    func authenticate(_ identity: UserIdentityRQ, callingAETitle: String) async -> UserIdentityDecision {
        if case .usernameAndPasscode("alice", "secret") = identity.identity { return .accept(serverResponse: []) }
        return .reject
    }
}

// MARK: - Peer processes

/// A peer program, killed when the test ends.
private final class Peer: @unchecked Sendable {
    let process = Process()
    let output = Pipe()

    init(_ executable: String, _ arguments: [String]) throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw PeerMissing(message: "\(executable) is missing: install it with `apt-get install dcmtk` or `pip install pynetdicom`")
        }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["TCP_NODELAY"] = "1"
        process.environment = environment
        process.standardOutput = output
        process.standardError = output
        try process.run()
    }

    /// Waits up to `seconds` for the process to exit and returns its status, or kills it and returns nil.
    func exitStatus(within seconds: Double) async -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning {
            stop()
            return nil
        }
        return process.terminationStatus
    }

    var text: String {
        String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
    }

    func stop() {
        // storescp ignores SIGTERM, so the peer is killed outright.
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}

private struct PeerMissing: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// A loopback port that was free a moment ago.
private func freePort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
    let port = channel.localAddress?.port ?? 0
    try await channel.close()
    return port
}

/// Waits until something listens on `port`.
private func waitForListener(port: Int) async throws {
    for _ in 0..<100 {
        if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port)
            .get()
        {
            try? await channel.close()
            return
        }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw PeerMissing(message: "nothing listens on 127.0.0.1:\(port)")
}

private let python = "/usr/bin/env"

/// A pynetdicom requestor script: echo with optional user identity; prints ACCEPTED/REJECTED and the echo status.
private let pynetdicomEcho = """
    import sys
    from pynetdicom import AE
    from pynetdicom.pdu_primitives import UserIdentityNegotiation, AsynchronousOperationsWindowNegotiation
    port, password = int(sys.argv[1]), sys.argv[2]
    ae = AE(ae_title='PYSCU')
    ae.add_requested_context('1.2.840.10008.1.1')
    ext = []
    if password:
        ui = UserIdentityNegotiation(); ui.user_identity_type = 2; ui.primary_field = b'alice'
        ui.secondary_field = password.encode(); ui.positive_response_requested = True; ext.append(ui)
    aw = AsynchronousOperationsWindowNegotiation(); aw.maximum_number_operations_invoked = 4
    aw.maximum_number_operations_performed = 4; ext.append(aw)
    assoc = ae.associate('127.0.0.1', port, ae_title='ATRIUM', ext_neg=ext)
    if assoc.is_rejected:
        print('REJECTED'); sys.exit(0)
    if not assoc.is_established:
        print('FAILED'); sys.exit(1)
    print('ACCEPTED')
    print('IDENTITY', assoc.acceptor.user_identity is not None or not password)
    status = assoc.send_c_echo()
    print('STATUS', status.Status if status else None)
    assoc.release()
    """

/// A pynetdicom verification SCP on the port given as the first argument.
private let pynetdicomVerificationSCP = """
    import sys
    from pynetdicom import AE
    ae = AE(ae_title='PYSCP')
    ae.add_supported_context('1.2.840.10008.1.1')
    ae.start_server(('127.0.0.1', int(sys.argv[1])), block=True)
    """

// MARK: - Tests

@Suite("Interoperability with dcmtk and pynetdicom on 127.0.0.1", .serialized)
struct InteroperabilityTests {
    private func withAcceptor(
        policy: AcceptorPolicy, handler: EchoFixture, _ body: @Sendable @escaping (Int) async throws -> Void
    ) async throws {
        let acceptor = try await AssociationAcceptor.bind(host: "127.0.0.1", port: 0, policy: policy)
        let port = try #require(acceptor.localPort)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await acceptor.run(handler: handler) }
            defer { group.cancelAll() }
            try await body(port)
        }
    }

    @Test("dcmtk echoscu associates with Atrium's acceptor, gets its C-ECHO answered and releases")
    func echoscuToAtrium() async throws {
        let fixture = EchoFixture()
        let policy = AcceptorPolicy(aeTitle: "ATRIUM", checksCalledAETitle: true, acceptedAbstractSyntaxes: [verification])
        try await withAcceptor(policy: policy, handler: fixture) { port in
            let peer = try Peer("/usr/bin/echoscu", ["-v", "-aet", "ECHOSCU", "-aec", "ATRIUM", "127.0.0.1", String(port)])
            let status = await peer.exitStatus(within: 20)
            let output = peer.text
            #expect(status == 0, "echoscu: \(output)")
            #expect(output.contains("Association Accepted"), "\(output)")
            #expect(output.contains("Received Echo Response (Success)"), "\(output)")
            #expect(await fixture.echoes.value == 1)
        }
    }

    @Test("dcmtk echoscu calling the wrong AE title is rejected (called AE title not recognized)")
    func echoscuRejected() async throws {
        let policy = AcceptorPolicy(aeTitle: "ATRIUM", checksCalledAETitle: true, acceptedAbstractSyntaxes: [verification])
        try await withAcceptor(policy: policy, handler: EchoFixture()) { port in
            let peer = try Peer("/usr/bin/echoscu", ["-aec", "NOT-ATRIUM", "127.0.0.1", String(port)])
            let status = await peer.exitStatus(within: 20)
            let output = peer.text
            #expect(status != 0)
            #expect(output.contains("Called AE Title Not Recognized"), "\(output)")
        }
    }

    @Test("Atrium's requestor associates with dcmtk storescp, exchanges a C-ECHO and releases")
    func atriumToStorescp() async throws {
        let port = try await freePort()
        let peer = try Peer("/usr/bin/storescp", ["--aetitle", "STORESCP", String(port)])
        defer { peer.stop() }
        try await waitForListener(port: port)
        let proposal = AssociationProposal(
            callingAETitle: "ATRIUM", calledAETitle: "STORESCP",
            contexts: [
                ProposedPresentationContext(abstractSyntax: verification), ProposedPresentationContext(abstractSyntax: ctImageStorage),
            ],
            maximumPDULength: 16_384)
        let status = try await AssociationRequestor.withAssociation(host: "127.0.0.1", port: port, proposal: proposal) { association in
            #expect(association.negotiated.acceptedContexts.count == 2)
            #expect(association.negotiated.peerImplementationVersionName?.hasPrefix("OFFIS_DCMTK") == true)
            let context = try #require(association.negotiated.context(for: verification))
            var request = buffer(hex: CapturedPDUs.dcmtkEchoSCUCEchoRQ)
            request.moveReaderIndex(forwardBy: 12)
            try await association.send(PresentationDataMessage(presentationContextID: context.id, kind: .command, bytes: request))
            let response = try await association.receive()
            #expect(response.kind == .command)
            #expect(uint16(commandElements(response.bytes)[0x0000_0100]) == 0x8030)
            return uint16(commandElements(response.bytes)[0x0000_0900])
        }
        #expect(status == 0x0000)
    }

    @Test("Atrium's requestor sees dcmtk storescp's rejection as a typed error")
    func storescpRefuses() async throws {
        let port = try await freePort()
        let peer = try Peer("/usr/bin/storescp", ["--refuse", String(port)])
        defer { peer.stop() }
        try await waitForListener(port: port)
        let proposal = AssociationProposal(
            callingAETitle: "ATRIUM", calledAETitle: "STORESCP", contexts: [ProposedPresentationContext(abstractSyntax: verification)])
        await #expect(
            throws: AssociationError.rejected(AAssociateRJ(result: .rejectedPermanent, source: .serviceUser, reason: .noReasonGiven))
        ) {
            try await AssociationRequestor.withAssociation(host: "127.0.0.1", port: port, proposal: proposal) { _ in }
        }
    }

    @Test("pynetdicom with username and passcode is accepted with a user identity response; a wrong passcode is rejected")
    func pynetdicomUserIdentity() async throws {
        let policy = AcceptorPolicy(
            aeTitle: "ATRIUM", acceptedAbstractSyntaxes: [verification], authenticator: PasswordAuthenticator(), requiresUserIdentity: true)
        let fixture = EchoFixture()
        try await withAcceptor(policy: policy, handler: fixture) { port in
            let good = try Peer(python, ["python3", "-c", pynetdicomEcho, String(port), "secret"])
            #expect(await good.exitStatus(within: 30) == 0)
            let goodOutput = good.text
            #expect(goodOutput.contains("ACCEPTED"), "\(goodOutput)")
            #expect(goodOutput.contains("IDENTITY True"), "\(goodOutput)")
            #expect(goodOutput.contains("STATUS 0"), "\(goodOutput)")
            let bad = try Peer(python, ["python3", "-c", pynetdicomEcho, String(port), "wrong"])
            #expect(await bad.exitStatus(within: 30) == 0)
            let badOutput = bad.text
            #expect(badOutput.contains("REJECTED"), "\(badOutput)")
        }
    }

    @Test("A stuck association handler stops the acceptor reading, so a fast sender blocks instead of filling memory")
    func backPressure() async throws {
        let handler = StuckHandler()
        let policy = AcceptorPolicy(aeTitle: "ATRIUM", acceptedAbstractSyntaxes: [ctImageStorage], maximumPDULength: 16_384)
        let acceptor = try await AssociationAcceptor.bind(host: "127.0.0.1", port: 0, policy: policy)
        let port = try #require(acceptor.localPort)
        let sent = Counter()
        let proposal = AssociationProposal(
            callingAETitle: "SENDER", calledAETitle: "ATRIUM", contexts: [ProposedPresentationContext(abstractSyntax: ctImageStorage)])
        let dataSet = ByteBuffer(repeating: 0x5A, count: 1 << 20)
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await acceptor.run(handler: handler) }
            group.addTask {
                try await AssociationRequestor.withAssociation(host: "127.0.0.1", port: port, proposal: proposal) { association in
                    for _ in 0..<300 {
                        try await association.send(PresentationDataMessage(presentationContextID: 1, kind: .dataSet, bytes: dataSet))
                        await sent.increment()
                    }
                }
            }
            try? await Task.sleep(for: .seconds(2))
            group.cancelAll()
        }
        // 300 MiB were offered; only what fits the socket buffers and two buffered events may have left the sender.
        #expect(await handler.received.value == 1)
        let sentCount = await sent.value
        #expect(sentCount < 100, "sent \(sentCount)")
    }

    @Test("Atrium's requestor associates with a pynetdicom verification SCP, exchanges a C-ECHO and releases")
    func atriumToPynetdicom() async throws {
        let port = try await freePort()
        let peer = try Peer(python, ["python3", "-c", pynetdicomVerificationSCP, String(port)])
        defer { peer.stop() }
        try await waitForListener(port: port)
        let proposal = AssociationProposal(
            callingAETitle: "ATRIUM", calledAETitle: "PYSCP", contexts: [ProposedPresentationContext(abstractSyntax: verification)])
        let status = try await AssociationRequestor.withAssociation(host: "127.0.0.1", port: port, proposal: proposal) { association in
            #expect(association.negotiated.peerImplementationVersionName?.hasPrefix("PYNETDICOM") == true)
            // pynetdicom keeps its own preference (implicit VR first); any proposed syntax is acceptable.
            let syntax = association.negotiated.context(for: verification)?.transferSyntax ?? ""
            #expect(["1.2.840.10008.1.2", "1.2.840.10008.1.2.1"].contains(syntax))
            var request = buffer(hex: CapturedPDUs.dcmtkEchoSCUCEchoRQ)
            request.moveReaderIndex(forwardBy: 12)
            try await association.send(PresentationDataMessage(presentationContextID: 1, kind: .command, bytes: request))
            let response = try await association.receive()
            return uint16(commandElements(response.bytes)[0x0000_0900])
        }
        #expect(status == 0x0000)
    }
}
