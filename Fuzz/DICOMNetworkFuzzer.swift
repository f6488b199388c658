// libFuzzer entry point for the DICOM upper layer and DIMSE decoders, compiled with the pure sources of DICOMNetwork
// (PDUs, state machine, fragmentation, command sets) by scripts/fuzz; NIOCore is linked uninstrumented.
// The input is a byte stream from a peer: PDUs are framed and decoded, fed to an acceptor's state machine, P-DATA values
// are reassembled and each command decoded; a decoded PDU, re-encoded, must decode and re-encode stably.

import NIOCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDICOMNetwork(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size))
    _ = try? DIMSECommand(decoding: input)
    _ = Part10Header(input)

    var stream = input
    var machine = AssociationStateMachine()
    _ = machine.handle(.transportConnectIndication)
    var assembler = PresentationDataAssembler(maximumMessageBytes: 1 << 20)
    while true {
        let pdu: PDU
        do {
            guard let next = try PDU.decode(from: &stream, maximumLength: 1 << 20) else { break }
            pdu = next
        } catch {
            _ = machine.handle(.invalidPDUReceived(error))
            break
        }
        // Decoding replaces bytes outside UTF-8 (in AE titles, UIDs), so the first re-encoding may differ from the input;
        // after that, encoding and decoding must be stable.
        var encoded = ByteBuffer()
        pdu.encode(into: &encoded)
        if let again = try? PDU(decoding: encoded) {
            var reencoded = ByteBuffer()
            again.encode(into: &reencoded)
            if let third = try? PDU(decoding: reencoded), third != again {
                fatalError("PDU encoding is not stable: \(again)")
            }
        }
        for action in machine.handle(.pduReceived(pdu)) {
            switch action {
            case .associateIndication(let request):
                _ = machine.handle(
                    .associateResponseAccept(
                        AAssociateAC(
                            calledAETitle: request.calledAETitle, callingAETitle: request.callingAETitle, presentationContexts: [],
                            userInformation: UserInformation())))
            case .pDataIndication(let data):
                guard let messages = try? assembler.append(data) else { continue }
                for message in messages where message.kind == .command {
                    if let command = try? DIMSECommand(decoding: message.bytes) { _ = command }
                }
            default:
                continue
            }
        }
    }
    return 0
}
