import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import DICOMNetwork

private func makeChannel(role: UpperLayerChannelHandler.Role, maximumLength: Int = 65_536) throws -> EmbeddedChannel {
    let channel = EmbeddedChannel()
    let pipeline = channel.pipeline.syncOperations
    try pipeline.addHandler(ByteToMessageHandler(PDUFrameDecoder(maximumLength: maximumLength)))
    try pipeline.addHandler(PDUWriter())
    try pipeline.addHandler(
        UpperLayerChannelHandler(
            role: role, timeouts: .init(artim: .seconds(10), idle: .seconds(60)), logger: Logger(label: "test")))
    return channel
}

/// All bytes written so far, concatenated.
private func written(_ channel: EmbeddedChannel) throws -> String {
    var all = ByteBuffer()
    while var next = try channel.readOutbound(as: ByteBuffer.self) { all.writeBuffer(&next) }
    return hex(all)
}

private let acForEchoSCU = AAssociateAC(
    calledAETitle: "STORESCP", callingAETitle: "ECHOSCU",
    presentationContexts: [PresentationContextResult(id: 1, result: .acceptance, transferSyntax: "1.2.840.10008.1.2")],
    userInformation: UserInformation(
        maximumLength: 16_384, implementationClassUID: "1.2.276.0.7230010.3.0.3.6.7", implementationVersionName: "OFFIS_DCMTK_367"))

@Suite("Upper layer channel handler over EmbeddedChannel")
struct ChannelHandlerTests {
    @Test("Acceptor: echoscu's bytes, fed one at a time, give an indication, a command message and a release")
    func acceptorConversation() throws {
        let channel = try makeChannel(role: .acceptor)
        try channel.connect(to: .init(ipAddress: "127.0.0.1", port: 104)).wait()
        let rqBytes = buffer(hex: CapturedPDUs.dcmtkEchoSCUAssociateRQ)
        for byte in rqBytes.readableBytesView { try channel.writeInbound(ByteBuffer(bytes: [byte])) }
        guard case .associateIndication(let rq) = try channel.readInbound(as: AssociationEvent.self) else {
            Issue.record("expected an A-ASSOCIATE indication")
            return
        }
        #expect(rq.callingAETitle == "ECHOSCU")
        try channel.writeOutbound(AssociationCommand.accept(acForEchoSCU))
        #expect(try written(channel) == CapturedPDUs.dcmtkStoreSCPAssociateAC)

        var echo = buffer(hex: CapturedPDUs.dcmtkEchoSCUCEchoRQ)
        try channel.writeInbound(echo)
        guard case .message(let message) = try channel.readInbound(as: AssociationEvent.self) else {
            Issue.record("expected a message")
            return
        }
        #expect(message.kind == .command)
        #expect(message.presentationContextID == 1)
        echo.moveReaderIndex(forwardBy: 12)
        #expect(message.bytes == echo)

        // The test fixture answers with dcmtk storescp's own C-ECHO-RSP bytes; DIMSE will build them later.
        var response = buffer(hex: CapturedPDUs.dcmtkStoreSCPCEchoRSP)
        response.moveReaderIndex(forwardBy: 12)
        try channel.writeOutbound(
            AssociationCommand.send(PresentationDataMessage(presentationContextID: 1, kind: .command, bytes: response)))
        #expect(try written(channel) == CapturedPDUs.dcmtkStoreSCPCEchoRSP)

        try channel.writeInbound(buffer(hex: CapturedPDUs.dcmtkEchoSCUReleaseRQ))
        #expect(try channel.readInbound(as: AssociationEvent.self) == .releaseIndication)
        try channel.writeOutbound(AssociationCommand.releaseResponse)
        #expect(try written(channel) == CapturedPDUs.dcmtkStoreSCPReleaseRP)
        #expect(channel.isActive)
        // ARTIM (10 s here) closes the connection if the requestor does not.
        channel.embeddedEventLoop.advanceTime(by: .seconds(11))
        #expect(!channel.isActive)
    }

    @Test("Acceptor: no A-ASSOCIATE-RQ within ARTIM closes the connection without a PDU")
    func artimExpiry() throws {
        let channel = try makeChannel(role: .acceptor)
        try channel.connect(to: .init(ipAddress: "127.0.0.1", port: 104)).wait()
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
        #expect(try written(channel) == "")
    }

    @Test("A PDU whose length exceeds the limit is answered with A-ABORT (provider, invalid parameter value)")
    func oversizedPDU() throws {
        let channel = try makeChannel(role: .acceptor, maximumLength: 1_024)
        try channel.connect(to: .init(ipAddress: "127.0.0.1", port: 104)).wait()
        try channel.writeInbound(buffer(hex: CapturedPDUs.dcmtkEchoSCUAssociateRQ))
        _ = try channel.readInbound(as: AssociationEvent.self)
        try channel.writeOutbound(AssociationCommand.accept(acForEchoSCU))
        _ = try written(channel)
        _ = try? channel.writeInbound(buffer(hex: "04 00 00100000 0000"))
        #expect(try channel.readInbound(as: AssociationEvent.self) == .providerAborted(.invalidPDUParameterValue))
        #expect(try written(channel) == "07000000000400000206")
    }

    @Test("Garbage instead of an A-ASSOCIATE-RQ is answered with A-ABORT (provider, unrecognized PDU)")
    func garbage() throws {
        let channel = try makeChannel(role: .acceptor)
        try channel.connect(to: .init(ipAddress: "127.0.0.1", port: 104)).wait()
        _ = try? channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"))
        #expect(try written(channel) == "07000000000400000201")
    }

    @Test("An A-ASSOCIATE-RQ whose calling AE title has a control character is answered with A-ABORT (invalid parameter)")
    func invalidAETitle() throws {
        let channel = try makeChannel(role: .acceptor)
        try channel.connect(to: .init(ipAddress: "127.0.0.1", port: 104)).wait()
        var request = buffer(hex: CapturedPDUs.dcmtkEchoSCUAssociateRQ)
        // The calling AE title occupies bytes 26–41 (PS3.8 Table 9-11).
        request.setInteger(UInt8(0x07), at: 27)
        _ = try? channel.writeInbound(request)
        #expect(try written(channel) == "07000000000400000206")
    }

    @Test("Requestor: sends the A-ASSOCIATE-RQ on activation and reports acceptance, then releases")
    func requestorConversation() throws {
        let rq = try AssociationProposal(
            callingAETitle: "ECHOSCU", calledAETitle: "STORESCP",
            contexts: [ProposedPresentationContext(abstractSyntax: "1.2.840.10008.1.1")]
        ).makeRequest()
        let channel = try makeChannel(role: .requestor(rq))
        try channel.connect(to: .init(ipAddress: "127.0.0.1", port: 104)).wait()
        #expect(try written(channel) == hex(PDU.associateRQ(rq).encoded()))
        try channel.writeInbound(buffer(hex: CapturedPDUs.dcmtkStoreSCPAssociateAC))
        #expect(try channel.readInbound(as: AssociationEvent.self) == .associateAccepted(acForEchoSCU))
        try channel.writeOutbound(AssociationCommand.release)
        #expect(try written(channel) == CapturedPDUs.dcmtkEchoSCUReleaseRQ)
        try channel.writeInbound(buffer(hex: CapturedPDUs.dcmtkStoreSCPReleaseRP))
        #expect(try channel.readInbound(as: AssociationEvent.self) == .releaseConfirmed)
        #expect(!channel.isActive)
    }

    @Test("Requestor: an A-ASSOCIATE-RJ is reported and the connection closes")
    func requestorRejected() throws {
        let rq = try AssociationProposal(
            callingAETitle: "ECHOSCU", calledAETitle: "STORESCP",
            contexts: [ProposedPresentationContext(abstractSyntax: "1.2.840.10008.1.1")]
        ).makeRequest()
        let channel = try makeChannel(role: .requestor(rq))
        try channel.connect(to: .init(ipAddress: "127.0.0.1", port: 104)).wait()
        _ = try written(channel)
        try channel.writeInbound(buffer(hex: CapturedPDUs.dcmtkStoreSCPAssociateRJ))
        #expect(
            try channel.readInbound(as: AssociationEvent.self)
                == .associateRejected(AAssociateRJ(result: .rejectedPermanent, source: .serviceUser, reason: .noReasonGiven)))
        #expect(!channel.isActive)
    }

    @Test("Messages are fragmented to the peer's maximum PDU length from its A-ASSOCIATE-RQ")
    func outboundFragmentation() throws {
        let channel = try makeChannel(role: .acceptor)
        try channel.connect(to: .init(ipAddress: "127.0.0.1", port: 104)).wait()
        var rq = AAssociateRQ(
            calledAETitle: "A", callingAETitle: "B",
            presentationContexts: [
                PresentationContext(id: 1, abstractSyntax: "1.2.840.10008.1.1", transferSyntaxes: ["1.2.840.10008.1.2"])
            ],
            userInformation: UserInformation(maximumLength: 106))
        rq.userInformation.maximumLength = 106
        try channel.writeInbound(PDU.associateRQ(rq).encoded())
        _ = try channel.readInbound(as: AssociationEvent.self)
        try channel.writeOutbound(
            AssociationCommand.accept(
                AAssociateAC(calledAETitle: "A", callingAETitle: "B", presentationContexts: [], userInformation: UserInformation())))
        _ = try written(channel)
        try channel.writeOutbound(
            AssociationCommand.send(
                PresentationDataMessage(presentationContextID: 1, kind: .dataSet, bytes: ByteBuffer(repeating: 7, count: 250))))
        var pdus: [PDU] = []
        var all = ByteBuffer()
        while var next = try channel.readOutbound(as: ByteBuffer.self) { all.writeBuffer(&next) }
        while let pdu = try PDU.decode(from: &all, maximumLength: 106) { pdus.append(pdu) }
        #expect(pdus.count == 3)  // 100 + 100 + 50 bytes
    }

    @Test("Sending data before the association is established fails the write")
    func writeInWrongState() throws {
        let channel = try makeChannel(role: .acceptor)
        try channel.connect(to: .init(ipAddress: "127.0.0.1", port: 104)).wait()
        #expect(throws: AssociationError.self) {
            try channel.writeOutbound(
                AssociationCommand.send(PresentationDataMessage(presentationContextID: 1, kind: .command, bytes: ByteBuffer())))
        }
    }

    @Test("A P-DATA-TF longer than the maximum length this end announced is answered with A-ABORT")
    func pduOverNegotiatedLength() throws {
        let channel = try makeChannel(role: .acceptor)
        try channel.connect(to: .init(ipAddress: "127.0.0.1", port: 104)).wait()
        try channel.writeInbound(buffer(hex: CapturedPDUs.dcmtkEchoSCUAssociateRQ))
        _ = try channel.readInbound(as: AssociationEvent.self)
        var ac = acForEchoSCU
        ac.userInformation.maximumLength = 64
        try channel.writeOutbound(AssociationCommand.accept(ac))
        _ = try written(channel)
        let fits = PDataTF(values: [
            PresentationDataValue(
                presentationContextID: 1, isCommand: false, isLastFragment: false, data: ByteBuffer(repeating: 1, count: 58))
        ])
        try channel.writeInbound(PDU.dataTF(fits).encoded())
        #expect(try written(channel) == "")
        var tooLong = fits
        tooLong.values[0].data = ByteBuffer(repeating: 1, count: 59)
        try channel.writeInbound(PDU.dataTF(tooLong).encoded())
        #expect(try channel.readInbound(as: AssociationEvent.self) == .providerAborted(.invalidPDUParameterValue))
        #expect(try written(channel) == "07000000000400000206")
    }
}
