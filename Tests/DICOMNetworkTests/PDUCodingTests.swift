import AtriumTesting
import Foundation
import NIOCore
import Testing

@testable import DICOMNetwork

private let verification = "1.2.840.10008.1.1"
private let ctImageStorage = "1.2.840.10008.5.1.4.1.1.2"
private let implicitLE = "1.2.840.10008.1.2"
private let explicitLE = "1.2.840.10008.1.2.1"
private let dcmtkClassUID = "1.2.276.0.7230010.3.0.3.6.7"

@Suite("PDU encoding and decoding (PS3.8 9.3)")
struct PDUCodingTests {
    @Test("dcmtk echoscu's A-ASSOCIATE-RQ decodes to the fields it sent")
    func decodesDcmtkAssociateRQ() throws {
        let pdu = try PDU(decoding: buffer(hex: CapturedPDUs.dcmtkEchoSCUAssociateRQ))
        guard case .associateRQ(let rq) = pdu else {
            Issue.record("expected A-ASSOCIATE-RQ, got \(pdu)")
            return
        }
        #expect(rq.protocolVersion == 1)
        #expect(rq.calledAETitle == "STORESCP")
        #expect(rq.callingAETitle == "ECHOSCU")
        #expect(rq.applicationContextName == "1.2.840.10008.3.1.1.1")
        #expect(rq.presentationContexts == [PresentationContext(id: 1, abstractSyntax: verification, transferSyntaxes: [implicitLE])])
        #expect(rq.userInformation.maximumLength == 16_384)
        #expect(rq.userInformation.implementationClassUID == dcmtkClassUID)
        #expect(rq.userInformation.implementationVersionName == "OFFIS_DCMTK_367")
    }

    @Test("dcmtk storescp's A-ASSOCIATE-AC is reproduced byte for byte from its values")
    func encodesDcmtkAssociateAC() throws {
        let ac = AAssociateAC(
            calledAETitle: "STORESCP", callingAETitle: "ECHOSCU",
            presentationContexts: [PresentationContextResult(id: 1, result: .acceptance, transferSyntax: implicitLE)],
            userInformation: UserInformation(
                maximumLength: 16_384, implementationClassUID: dcmtkClassUID, implementationVersionName: "OFFIS_DCMTK_367"))
        #expect(hex(PDU.associateAC(ac).encoded()) == CapturedPDUs.dcmtkStoreSCPAssociateAC)
        #expect(try PDU(decoding: buffer(hex: CapturedPDUs.dcmtkStoreSCPAssociateAC)) == .associateAC(ac))
    }

    @Test("pynetdicom's A-ASSOCIATE-RQ with role selection, window and user identity is reproduced byte for byte")
    func encodesPynetdicomAssociateRQ() throws {
        let rq = AAssociateRQ(
            calledAETitle: "STORESCP", callingAETitle: "PYSCU",
            presentationContexts: [
                PresentationContext(
                    id: 1, abstractSyntax: verification,
                    transferSyntaxes: [implicitLE, explicitLE, "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2"]),
                PresentationContext(id: 3, abstractSyntax: ctImageStorage, transferSyntaxes: [explicitLE, implicitLE]),
            ],
            userInformation: UserInformation(
                maximumLength: 16_382, implementationClassUID: "1.2.826.0.1.3680043.9.3811.3.0.4",
                implementationVersionName: "PYNETDICOM_304",
                asynchronousOperationsWindow: AsynchronousOperationsWindow(
                    maximumNumberOperationsInvoked: 5, maximumNumberOperationsPerformed: 5),
                roleSelections: [RoleSelection(sopClassUID: ctImageStorage, scuRole: true, scpRole: true)],
                userIdentity: UserIdentityRQ(
                    identity: .usernameAndPasscode(username: "alice", passcode: "secret"), positiveResponseRequested: true)))
        #expect(hex(PDU.associateRQ(rq).encoded()) == CapturedPDUs.pynetdicomAssociateRQ)
        #expect(try PDU(decoding: buffer(hex: CapturedPDUs.pynetdicomAssociateRQ)) == .associateRQ(rq))
    }

    @Test("dcmtk storescp's A-ASSOCIATE-AC to pynetdicom accepts two contexts")
    func decodesTwoContextAC() throws {
        guard case .associateAC(let ac) = try PDU(decoding: buffer(hex: CapturedPDUs.dcmtkStoreSCPAssociateACForPynetdicom)) else {
            Issue.record("expected A-ASSOCIATE-AC")
            return
        }
        #expect(ac.callingAETitle == "PYSCU")
        #expect(
            ac.presentationContexts == [
                PresentationContextResult(id: 1, result: .acceptance, transferSyntax: explicitLE),
                PresentationContextResult(id: 3, result: .acceptance, transferSyntax: explicitLE),
            ])
        #expect(ac.userInformation.userIdentityResponse == nil)
    }

    @Test("A C-ECHO-RQ P-DATA-TF from echoscu has one last command fragment on context 1 and re-encodes identically")
    func pDataRoundTrip() throws {
        let bytes = buffer(hex: CapturedPDUs.dcmtkEchoSCUCEchoRQ)
        guard case .dataTF(let data) = try PDU(decoding: bytes) else {
            Issue.record("expected P-DATA-TF")
            return
        }
        #expect(data.values.count == 1)
        #expect(data.values[0].presentationContextID == 1)
        #expect(data.values[0].isCommand)
        #expect(data.values[0].isLastFragment)
        // PDU length 0x4A = 4 (PDV length) + 0x46; the PDV holds context ID, control header and 68 command bytes.
        #expect(data.values[0].data.readableBytes == 0x46 - 2)
        #expect(PDU.dataTF(data).encoded() == bytes)
    }

    @Test("Fixed-size PDUs match PS3.8 Tables 9-21, 9-24, 9-25 and 9-26 and dcmtk's bytes")
    func fixedSizePDUs() throws {
        #expect(hex(PDU.releaseRQ.encoded()) == CapturedPDUs.dcmtkEchoSCUReleaseRQ)
        #expect(hex(PDU.releaseRP.encoded()) == CapturedPDUs.dcmtkStoreSCPReleaseRP)
        #expect(hex(PDU.abort(AAbort(source: .serviceUser)).encoded()) == CapturedPDUs.dcmtkEchoSCUAbort)
        let rj = AAssociateRJ(result: .rejectedPermanent, source: .serviceUser, reason: .noReasonGiven)
        #expect(hex(PDU.associateRJ(rj).encoded()) == CapturedPDUs.dcmtkStoreSCPAssociateRJ)
        #expect(try PDU(decoding: buffer(hex: CapturedPDUs.dcmtkStoreSCPAssociateRJ)) == .associateRJ(rj))
        #expect(
            try PDU(decoding: buffer(hex: "07000000000400000206"))
                == .abort(AAbort(source: .serviceProvider, reason: .invalidPDUParameterValue)))
        #expect(try PDU(decoding: buffer(hex: "05000000000400000000")) == .releaseRQ)
    }

    @Test("Every user identity type and the 59H response survive a round trip")
    func userIdentityTypes() throws {
        let identities: [UserIdentityRQ.Identity] = [
            .username("bob"), .usernameAndPasscode(username: "bob", passcode: "pw"), .kerberos([1, 2, 3]), .saml(Array("<saml/>".utf8)),
            .jwt(Array("a.b.c".utf8)),
        ]
        for identity in identities {
            let ac = AAssociateAC(
                calledAETitle: "A", callingAETitle: "B", presentationContexts: [],
                userInformation: UserInformation(maximumLength: 0, userIdentityResponse: UserIdentityAC(serverResponse: [9, 9])))
            let rq = AAssociateRQ(
                calledAETitle: "A", callingAETitle: "B",
                presentationContexts: [PresentationContext(id: 1, abstractSyntax: verification, transferSyntaxes: [implicitLE])],
                userInformation: UserInformation(userIdentity: UserIdentityRQ(identity: identity, positiveResponseRequested: false)))
            #expect(try PDU(decoding: PDU.associateRQ(rq).encoded()) == .associateRQ(rq))
            #expect(try PDU(decoding: PDU.associateAC(ac).encoded()) == .associateAC(ac))
        }
        // Type 2 laid out by hand from PS3.7 Table D.3-14: type, response requested, lengths and fields.
        let item = buffer(hex: "58 00 000d 02 01 0003 626f62 0004 70617373")
        var rq = AAssociateRQ(
            calledAETitle: "A", callingAETitle: "B",
            presentationContexts: [PresentationContext(id: 1, abstractSyntax: verification, transferSyntaxes: [implicitLE])],
            userInformation: UserInformation())
        var encoded = PDU.associateRQ(rq).encoded()
        // Append the 58H item inside the user information item and fix both lengths.
        var item2 = item
        encoded.writeBuffer(&item2)
        let userInformationLengthIndex = encoded.writerIndex - item.readableBytes - 2
        encoded.setInteger(UInt16(item.readableBytes), at: userInformationLengthIndex)
        encoded.setInteger(UInt32(encoded.readableBytes - 6), at: 2)
        rq.userInformation.userIdentity = UserIdentityRQ(
            identity: .usernameAndPasscode(username: "bob", passcode: "pass"), positiveResponseRequested: true)
        #expect(try PDU(decoding: encoded) == .associateRQ(rq))
    }

    @Test("SOP class extended, common extended and unknown sub-items are kept opaque")
    func opaqueItems() throws {
        let rq = AAssociateRQ(
            calledAETitle: "A", callingAETitle: "B",
            presentationContexts: [PresentationContext(id: 1, abstractSyntax: ctImageStorage, transferSyntaxes: [implicitLE])],
            userInformation: UserInformation(
                sopClassExtendedNegotiations: [
                    SOPClassExtendedNegotiation(sopClassUID: ctImageStorage, serviceClassApplicationInformation: [1, 0, 1])
                ],
                sopClassCommonExtendedNegotiations: [[0x00, 0x01, 0x31, 0x00, 0x01, 0x32, 0x00, 0x00]],
                unknownItems: [UnknownItem(itemType: 0x7F, value: [0xAB])]))
        #expect(try PDU(decoding: PDU.associateRQ(rq).encoded()) == .associateRQ(rq))
    }

    @Test("UIDs and AE titles padded with NUL or spaces decode without the padding")
    func toleratesPadding() throws {
        // Application context name padded with a NUL, abstract syntax with a space (odd lengths made even).
        let body =
            "0001 0000" + "2020414e592d53435020202020202020" + "2045434820202020202020202020202020".prefix(32)
            + String(repeating: "00", count: 32) + "10000016" + "312e322e3834302e31303030382e332e312e312e3100"
            + "2000003001000000" + "30000012" + "312e322e3834302e31303030382e312e3120" + "40000012" + "312e322e3834302e31303030382e312e3200"
        var bytes = buffer(hex: "01 00 00000000" + body)
        bytes.setInteger(UInt32(bytes.readableBytes - 6), at: 2)
        guard case .associateRQ(let rq) = try PDU(decoding: bytes) else {
            Issue.record("expected A-ASSOCIATE-RQ")
            return
        }
        #expect(rq.calledAETitle == "ANY-SCP")
        #expect(rq.callingAETitle == "ECH")
        #expect(rq.applicationContextName == "1.2.840.10008.3.1.1.1")
        #expect(rq.presentationContexts[0].abstractSyntax == verification)
        #expect(rq.presentationContexts[0].transferSyntaxes == [implicitLE])
    }

    @Test(
        "AE titles outside the default repertoire, with a backslash or a control character, fail at the offending byte",
        arguments: [(Array("ANY\\SCP".utf8), 3), ([0x41, 0x0A, 0x42], 1), ([0x41, 0xC3, 0xA9], 1), ([0x7F], 0)])
    func invalidAETitle(bytes: [UInt8], badIndex: Int) throws {
        var encoded = PDU.associateRQ(
            AAssociateRQ(
                calledAETitle: "X", callingAETitle: "ECHOSCU",
                presentationContexts: [PresentationContext(id: 1, abstractSyntax: verification, transferSyntaxes: [implicitLE])],
                userInformation: UserInformation())
        ).encoded()
        // The called AE title occupies bytes 10–25 of an A-ASSOCIATE-RQ (PS3.8 Table 9-11).
        encoded.setBytes(bytes, at: 10)
        do {
            _ = try PDU(decoding: encoded)
            Issue.record("an AE title with byte \(bytes[badIndex]) decoded")
        } catch {
            guard case .malformedPDU(let type, let offset, let reason) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(type == 1)
            #expect(offset == 10 + badIndex)
            #expect(reason.hasPrefix("called AE title has byte"))
        }
    }

    @Test("The fuzzer's regression input (an A-ASSOCIATE-AC whose calling AE title is not ASCII) is refused, not replaced")
    func fuzzRegressionAETitle() throws {
        let path = Corpus.repositoryRoot + "/Fuzz/regressions/pdu/associate-ac-non-ascii-ae-title"
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        var stream = ByteBuffer(bytes: bytes)
        do {
            _ = try PDU.decode(from: &stream, maximumLength: 1 << 20)
            Issue.record("the regression input decoded")
        } catch {
            guard case .malformedPDU(let type, let offset, _) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(type == 2)
            // The calling AE title starts at byte 26; its first byte that is not ASCII is the offset reported.
            #expect(offset == bytes[26..<42].firstIndex { $0 >= 0x7F })
        }
    }

    @Test("Spaces inside an AE title are kept; leading and trailing spaces are not significant")
    func aeTitleSpaces() throws {
        let rq = AAssociateRQ(
            calledAETitle: "MY SCP", callingAETitle: "ECHOSCU",
            presentationContexts: [PresentationContext(id: 1, abstractSyntax: verification, transferSyntaxes: [implicitLE])],
            userInformation: UserInformation())
        var encoded = PDU.associateRQ(rq).encoded()
        encoded.setBytes(Array("  MY SCP".utf8), at: 10)
        guard case .associateRQ(let decoded) = try PDU(decoding: encoded) else {
            Issue.record("expected A-ASSOCIATE-RQ")
            return
        }
        #expect(decoded.calledAETitle == "MY SCP")
        #expect(AAssociateRQ.aeTitleProblem("MY SCP") == nil)
        #expect(AAssociateRQ.aeTitleProblem("A\\B") != nil)
        #expect(AAssociateRQ.aeTitleProblem("    ") != nil)
        #expect(AAssociateRQ.aeTitleProblem("ÉCHO") != nil)
        #expect(AAssociateRQ.aeTitleProblem(String(repeating: "A", count: 17)) != nil)
    }

    @Test("A length field over the caller's limit fails from the header alone, before the body arrives")
    func lengthLimit() throws {
        var header = buffer(hex: "04 00 7fffffff")
        #expect(throws: UpperLayerError.pduLengthExceedsLimit(pduType: 4, length: 0x7FFF_FFFF, limit: 65_536)) {
            _ = try PDU.decode(from: &header, maximumLength: 65_536)
        }
        var partial = buffer(hex: "04 00 00000010 0000")
        #expect(try PDU.decode(from: &partial, maximumLength: 65_536) == nil)
        #expect(partial.readableBytes == 8)
    }

    @Test(
        "Malformed PDUs fail with a typed error naming the byte offset",
        arguments: [
            ("08 00 00000004 00000000", UpperLayerError.unrecognizedPDUType(0x08)),
            ("05 00 00000005 0000000000", .malformedPDU(pduType: 5, offset: 2, reason: "length is 5, expected 4")),
            ("04 00 00000006 00000001 01 03", .malformedPDU(pduType: 4, offset: 6, reason: "PDV item length 1 is below 2")),
            ("04 00 00000006 00000009 01 03", .malformedPDU(pduType: 4, offset: 6, reason: "PDV item length 9 exceeds the PDU")),
            ("04 00 00000000", .malformedPDU(pduType: 4, offset: 6, reason: "P-DATA-TF without a presentation data value")),
            ("03 00 00000004 00 05 01 01", .malformedPDU(pduType: 3, offset: 7, reason: "invalid A-ASSOCIATE-RJ result")),
            ("07 00 00000004 0000 09 00", .malformedPDU(pduType: 7, offset: 8, reason: "invalid A-ABORT source")),
            ("01 00 00000004 00010000", .malformedPDU(pduType: 1, offset: 6, reason: "A-ASSOCIATE header is shorter than 68 bytes")),
        ])
    func malformed(hexBytes: String, expected: UpperLayerError) {
        #expect(throws: expected) { _ = try PDU(decoding: buffer(hex: hexBytes)) }
    }

    @Test("An item whose length runs past its PDU is reported at the item's value offset")
    func itemOverrun() throws {
        var bytes = PDU.associateRQ(
            AAssociateRQ(
                calledAETitle: "A", callingAETitle: "B",
                presentationContexts: [PresentationContext(id: 1, abstractSyntax: verification, transferSyntaxes: [implicitLE])],
                userInformation: UserInformation())
        ).encoded()
        // The application context item starts at offset 74; make it claim 0x0100 bytes.
        bytes.setInteger(UInt16(0x0100), at: 76)
        #expect(throws: UpperLayerError.malformedPDU(pduType: 1, offset: 78, reason: "field of 256 bytes runs past its container")) {
            _ = try PDU(decoding: bytes)
        }
    }
}
