/// Errors of the DICOM upper layer: malformed PDUs and protocol violations (PS3.8 9.3, 9.2).
public enum UpperLayerError: Error, Hashable, Sendable {
    /// A PDU length field exceeds the limit the receiver set; detected from the 6-byte header, before allocating (PS3.8 9.3.1).
    case pduLengthExceedsLimit(pduType: UInt8, length: Int, limit: Int)
    /// The first byte is not a PDU type defined in PS3.8 Table 9-11.
    case unrecognizedPDUType(UInt8)
    /// The PDU is malformed at `offset` bytes from its first byte, for `reason` (PS3.8 9.3).
    case malformedPDU(pduType: UInt8, offset: Int, reason: String)
    /// A P-DATA-TF fragment sequence breaks PS3.8 9.3.5.1 / Annex E (for example a data fragment interleaved with a command).
    case invalidFragmentSequence(presentationContextID: UInt8, reason: String)
    /// A reassembled message would exceed the receiver's limit in bytes.
    case messageTooLarge(presentationContextID: UInt8, limitBytes: Int)
}

extension UpperLayerError: CustomStringConvertible {
    /// A one-line explanation for logs.
    public var description: String {
        switch self {
        case .pduLengthExceedsLimit(let type, let length, let limit):
            return "PDU type \(hex(type)) declares \(length) bytes, over the limit of \(limit)"
        case .unrecognizedPDUType(let type):
            return "unrecognized PDU type \(hex(type))"
        case .malformedPDU(let type, let offset, let reason):
            return "malformed PDU type \(hex(type)) at byte \(offset): \(reason)"
        case .invalidFragmentSequence(let id, let reason):
            return "invalid PDV sequence on presentation context \(id): \(reason)"
        case .messageTooLarge(let id, let limit):
            return "message on presentation context \(id) exceeds \(limit) bytes"
        }
    }
}

private func hex(_ byte: UInt8) -> String {
    let digits = String(byte, radix: 16, uppercase: true)
    return (digits.count == 1 ? "0" : "") + digits + "H"
}
