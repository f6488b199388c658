import DICOM
import NIOCore
import Testing

@testable import DICOMNetwork

@Suite("DIMSE command sets (PS3.7 6.3.1, 9.3, E.1)")
struct DIMSECodingTests {
    @Test("echoscu's C-ECHO-RQ decodes, and Atrium's encoding of the same values is the same bytes")
    func echoRequestFromDCMTK() throws {
        var bytes = buffer(hex: CapturedPDUs.dcmtkEchoSCUCEchoRQ)
        bytes.moveReaderIndex(forwardBy: 12)  // PDU header, PDV length, context ID and message control header
        guard case .cEchoRQ(let request) = try DIMSECommand(decoding: bytes) else {
            Issue.record("not a C-ECHO-RQ")
            return
        }
        #expect(request.affectedSOPClassUID == "1.2.840.10008.1.1")
        #expect(hex(request.commandSet.encoded()) == hex(bytes))
    }

    @Test("The command group length counts every element after it, and elements ascend")
    func groupLength() throws {
        let request = CStoreRQ(messageID: 7, affectedSOPClassUID: "1.2.840.10008.5.1.4.1.1.2", affectedSOPInstanceUID: "1.2.3.4.5")
        let encoded = request.commandSet.encoded()
        let length = try #require(encoded.getInteger(at: 8, endianness: .little, as: UInt32.self))
        #expect(Int(length) == encoded.readableBytes - 12)
        var elements: [UInt16] = []
        var reader = encoded
        while let _ = reader.readInteger(endianness: .little, as: UInt16.self),
            let element = reader.readInteger(endianness: .little, as: UInt16.self),
            let valueLength = reader.readInteger(endianness: .little, as: UInt32.self)
        {
            elements.append(element)
            reader.moveReaderIndex(forwardBy: Int(valueLength))
        }
        #expect(elements == elements.sorted())
        // UIDs are padded with NUL to even length (PS3.5 6.2): "1.2.3.4.5" has 9 characters.
        guard case .cStoreRQ(let decoded) = try DIMSECommand(decoding: encoded) else {
            Issue.record("not a C-STORE-RQ")
            return
        }
        #expect(decoded == request)
    }

    @Test("C-MOVE-RSP counts and C-FIND-RSP data set flags survive a round trip")
    func responsesRoundTrip() throws {
        let move = CMoveRSP(
            messageIDBeingRespondedTo: 3, affectedSOPClassUID: "1.2.840.10008.5.1.4.1.2.2.2", status: .pending,
            counts: SubOperationCounts(remaining: 5, completed: 2, failed: 1, warning: 0))
        #expect(try DIMSECommand(decoding: move.commandSet.encoded()) == .cMoveRSP(move))
        let find = CFindRSP(messageIDBeingRespondedTo: 3, affectedSOPClassUID: nil, status: .pending, hasDataSet: true)
        #expect(try DIMSECommand(decoding: find.commandSet.encoded()) == .cFindRSP(find))
        #expect(DIMSEStatus.moveDestinationUnknown.rawValue == 0xA801)
        #expect(DIMSEStatus(rawValue: 0xB000).kind == .warning)
        #expect(DIMSEStatus(rawValue: 0xA702).kind == .failure)
    }

    @Test(
        "Truncated, foreign-group, over-long and field-less command sets fail with a typed error",
        arguments: [
            "0000000004000000", "08000000040000000000", "000000010200000030", "0000100102000000",
            "00000001ffffffff",
        ])
    func malformed(_ text: String) {
        #expect(throws: DIMSEError.self) { try DIMSECommand(decoding: buffer(hex: text)) }
    }

    @Test("A C-STORE-RQ without its SOP Instance UID names the missing element")
    func missingElement() {
        var command = CommandSet()
        command.set(.commandField, uint16: CommandField.cStoreRQ.rawValue)
        command.set(.messageID, uint16: 1)
        command.set(.affectedSOPClassUID, string: "1.2.3", isUID: true)
        #expect(throws: DIMSEError.missingElement(.cStoreRQ, .affectedSOPInstanceUID)) { try DIMSECommand(command) }
    }

    @Test("Path components come only from UIDs of digits and single dots")
    func safePaths() {
        #expect(
            FileStorageProvider.relativePath(studyInstanceUID: "1.2", seriesInstanceUID: "1.3", sopInstanceUID: "1.4") == "1.2/1.3/1.4.dcm")
        #expect(
            FileStorageProvider.relativePath(studyInstanceUID: "../../etc", seriesInstanceUID: "1..3", sopInstanceUID: "1.4")
                == "unknown-study/unknown-series/1.4.dcm")
        #expect(FileStorageProvider.relativePath(studyInstanceUID: "1", seriesInstanceUID: "1", sopInstanceUID: "../x") == nil)
        #expect(FileStorageProvider.relativePath(studyInstanceUID: "1", seriesInstanceUID: "1", sopInstanceUID: ".1") == nil)
    }

    @Test("Wildcards, ranges and UID lists match as PS3.4 C.2.2.2 says")
    func matching() {
        #expect(IdentifierMatcher.wildcard("DOE^J*", "DOE^JOHN", caseInsensitive: false))
        #expect(IdentifierMatcher.wildcard("D?E*", "DOE", caseInsensitive: false))
        #expect(!IdentifierMatcher.wildcard("D?E", "DOES", caseInsensitive: false))
        #expect(IdentifierMatcher.match(["20240101-20240131"], vr: .DA, values: ["20240115"]))
        #expect(!IdentifierMatcher.match(["20240101-20240131"], vr: .DA, values: ["20240201"]))
        #expect(IdentifierMatcher.match(["-20240131"], vr: .DA, values: ["19990101"]))
        #expect(IdentifierMatcher.match(["1.2", "1.3"], vr: .UI, values: ["1.3"]))
        #expect(!IdentifierMatcher.match(["1.2"], vr: .UI, values: ["1.3"]))
    }
}
