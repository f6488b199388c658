import NIOCore
import Testing

@testable import DICOMNetwork

private func bytes(_ count: Int) -> ByteBuffer {
    ByteBuffer(bytes: (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7) })
}

@Suite("PDV fragmentation and reassembly (PS3.8 9.3.5, Annex E)")
struct FragmentationTests {
    @Test("Fragments fit the peer's maximum length: every P-DATA-TF variable field is at most the limit", arguments: [16, 100, 16_384])
    func respectsLimit(limit: UInt32) {
        let payload = bytes(40_000)
        let pdus = PresentationDataFragmenter.fragments(of: payload, kind: .dataSet, presentationContextID: 3, maximumPDULength: limit)
        for pdu in pdus {
            let encoded = PDU.dataTF(pdu).encoded()
            #expect(encoded.getInteger(at: 2, as: UInt32.self)! <= limit)
        }
        // Independently: each PDU carries limit - 6 bytes of data except the last.
        #expect(pdus.count == (40_000 + Int(limit) - 7) / (Int(limit) - 6))
        #expect(pdus.dropLast().allSatisfy { !$0.values[0].isLastFragment && !$0.values[0].isCommand })
        #expect(pdus.last?.values[0].isLastFragment == true)
        #expect(pdus.allSatisfy { $0.values[0].presentationContextID == 3 })
    }

    @Test("Reassembly restores command and data set exactly, per presentation context")
    func roundTrip() throws {
        let command = bytes(90)
        let dataSet = bytes(10_000)
        var assembler = PresentationDataAssembler()
        var received: [PresentationDataMessage] = []
        let commandPDUs = PresentationDataFragmenter.fragments(of: command, kind: .command, presentationContextID: 1, maximumPDULength: 50)
        let dataPDUs = PresentationDataFragmenter.fragments(of: dataSet, kind: .dataSet, presentationContextID: 1, maximumPDULength: 1_000)
        for pdu in commandPDUs + dataPDUs { received += try assembler.append(pdu) }
        #expect(
            received == [
                PresentationDataMessage(presentationContextID: 1, kind: .command, bytes: command),
                PresentationDataMessage(presentationContextID: 1, kind: .dataSet, bytes: dataSet),
            ])
        #expect(!assembler.hasPartialMessage)
    }

    @Test("Fragments of two contexts interleaved in one P-DATA-TF reassemble separately")
    func interleavedContexts() throws {
        var assembler = PresentationDataAssembler()
        let pdu = PDataTF(values: [
            PresentationDataValue(presentationContextID: 1, isCommand: true, isLastFragment: false, data: ByteBuffer(bytes: [1])),
            PresentationDataValue(presentationContextID: 3, isCommand: true, isLastFragment: true, data: ByteBuffer(bytes: [9])),
            PresentationDataValue(presentationContextID: 1, isCommand: true, isLastFragment: true, data: ByteBuffer(bytes: [2])),
        ])
        #expect(try assembler.append(pdu).map(\.bytes) == [ByteBuffer(bytes: [9]), ByteBuffer(bytes: [1, 2])])
    }

    @Test("A data fragment before the command's last fragment is an invalid sequence")
    func mixedKinds() {
        var assembler = PresentationDataAssembler()
        let pdu = PDataTF(values: [
            PresentationDataValue(presentationContextID: 1, isCommand: true, isLastFragment: false, data: ByteBuffer(bytes: [1])),
            PresentationDataValue(presentationContextID: 1, isCommand: false, isLastFragment: true, data: ByteBuffer(bytes: [2])),
        ])
        #expect(throws: UpperLayerError.self) { _ = try assembler.append(pdu) }
    }

    @Test("A message over the size limit fails as soon as the limit is crossed")
    func sizeLimit() throws {
        var assembler = PresentationDataAssembler(maximumMessageBytes: 100)
        let pdus = PresentationDataFragmenter.fragments(of: bytes(300), kind: .dataSet, presentationContextID: 5, maximumPDULength: 66)
        _ = try assembler.append(pdus[0])
        #expect(throws: UpperLayerError.messageTooLarge(presentationContextID: 5, limitBytes: 100)) { _ = try assembler.append(pdus[1]) }
    }

    @Test("An empty data set still travels as one last fragment")
    func emptyDataSet() {
        let pdus = PresentationDataFragmenter.fragments(of: ByteBuffer(), kind: .dataSet, presentationContextID: 1, maximumPDULength: 0)
        #expect(pdus.count == 1)
        #expect(hex(PDU.dataTF(pdus[0]).encoded()) == "04000000000600000002" + "0102")
    }
}
