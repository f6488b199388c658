// libFuzzer entry point for the DICOM upper layer and DIMSE decoders, compiled with the pure sources of DICOMNetwork
// (PDUs, state machine, fragmentation, command sets) by scripts/fuzz; NIOCore is linked uninstrumented.
// The input is a byte stream from a peer: PDUs are framed and decoded, fed to an acceptor's state machine, P-DATA values
// are reassembled and each command decoded; a decoded PDU, re-encoded, must decode to the same PDU.

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
        // A decoded PDU, re-encoded, must decode to the same PDU: AE titles and UIDs outside their repertoire are refused
        // by the decoder rather than replaced, so nothing is lost between the wire and the values.
        var encoded = ByteBuffer()
        pdu.encode(into: &encoded)
        guard let again = try? PDU(decoding: encoded), again == pdu else {
            fatalError("PDU does not survive encoding and decoding: \(pdu)")
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
