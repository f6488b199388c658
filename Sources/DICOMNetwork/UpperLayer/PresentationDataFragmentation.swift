import NIOCore

/// A complete command set or data set carried on one presentation context (PS3.8 9.3.5, PS3.7 6.3.1).
public struct PresentationDataMessage: Hashable, Sendable {
    /// Whether the bytes are a command set or a data set.
    public enum Kind: Hashable, Sendable {
        case command
        case dataSet
    }

    /// The presentation context the message travels on.
    public var presentationContextID: UInt8
    /// Command or data set.
    public var kind: Kind
    /// The reassembled bytes.
    public var bytes: ByteBuffer

    /// Creates a message.
    public init(presentationContextID: UInt8, kind: Kind, bytes: ByteBuffer) {
        self.presentationContextID = presentationContextID
        self.kind = kind
        self.bytes = bytes
    }
}

/// Splits command and data set bytes into P-DATA-TF PDUs that fit the peer's maximum PDU length (PS3.8 9.3.5, Annex D.1).
public enum PresentationDataFragmenter {
    /// Fragment size used when the peer declares no limit (maximum length 0).
    public static let unlimitedFragmentBytes = 1 << 20

    /// The PDUs for `bytes`, one PDV each, sharing `bytes`' storage; `maximumPDULength` is the peer's 51H value.
    ///
    /// The limit counts the PDU's variable field (PS3.8 D.1): each PDV costs 6 bytes of item header and message control header.
    public static func fragments(
        of bytes: ByteBuffer, kind: PresentationDataMessage.Kind, presentationContextID: UInt8, maximumPDULength: UInt32
    ) -> [PDataTF] {
        let fragmentBytes = maximumPDULength == 0 ? unlimitedFragmentBytes : max(1, Int(maximumPDULength) - 6)
        var remaining = bytes
        var result: [PDataTF] = []
        result.reserveCapacity(remaining.readableBytes / fragmentBytes + 1)
        repeat {
            let length = min(fragmentBytes, remaining.readableBytes)
            let slice = remaining.readSlice(length: length) ?? ByteBuffer()
            let value = PresentationDataValue(
                presentationContextID: presentationContextID, isCommand: kind == .command,
                isLastFragment: remaining.readableBytes == 0, data: slice)
            result.append(PDataTF(values: [value]))
        } while remaining.readableBytes > 0
        return result
    }
}

/// Reassembles PDV fragments into complete command sets and data sets, per presentation context (PS3.8 9.3.5.1, Annex E).
public struct PresentationDataAssembler: Sendable {
    /// A message received in part: its bytes are copied out of the received PDUs at once, so the decoder's buffer is
    /// not shared and never copied on its next read.
    private struct Partial: Sendable {
        var isCommand: Bool
        var bytes: ByteBuffer
    }

    /// The largest command or data set accepted, in bytes.
    public let maximumMessageBytes: Int
    private var partials: [UInt8: Partial] = [:]

    /// Creates an assembler with a limit on reassembled size.
    public init(maximumMessageBytes: Int = 1 << 30) {
        self.maximumMessageBytes = maximumMessageBytes
    }

    /// Whether a command or data set is partly received.
    public var hasPartialMessage: Bool { !partials.isEmpty }

    /// Adds the PDVs of one P-DATA-TF and returns the messages it completes, in order.
    public mutating func append(_ pdu: PDataTF) throws(UpperLayerError) -> [PresentationDataMessage] {
        var complete: [PresentationDataMessage] = []
        for value in pdu.values {
            let id = value.presentationContextID
            let data = value.data
            if var partial = partials[id] {
                guard partial.isCommand == value.isCommand else {
                    let reason =
                        value.isCommand
                        ? "command fragment before the data set's last fragment" : "data set fragment before the command's last fragment"
                    throw .invalidFragmentSequence(presentationContextID: id, reason: reason)
                }
                guard partial.bytes.readableBytes + data.readableBytes <= maximumMessageBytes else {
                    throw .messageTooLarge(presentationContextID: id, limitBytes: maximumMessageBytes)
                }
                partials[id] = nil
                partial.bytes.writeImmutableBuffer(data)
                if value.isLastFragment {
                    complete.append(message(id, partial.isCommand, partial.bytes))
                } else {
                    partials[id] = partial
                }
            } else {
                guard data.readableBytes <= maximumMessageBytes else {
                    throw .messageTooLarge(presentationContextID: id, limitBytes: maximumMessageBytes)
                }
                if value.isLastFragment {
                    complete.append(message(id, value.isCommand, data))
                } else {
                    // Room for 16 fragments at first (a CT slice in 64 KiB PDUs), so the buffer rarely has to grow.
                    var bytes = ByteBufferAllocator().buffer(
                        capacity: min(maximumMessageBytes, max(16 * data.readableBytes, 64 * 1024)))
                    bytes.writeImmutableBuffer(data)
                    partials[id] = Partial(isCommand: value.isCommand, bytes: bytes)
                }
            }
        }
        return complete
    }

    private func message(_ id: UInt8, _ isCommand: Bool, _ bytes: ByteBuffer) -> PresentationDataMessage {
        PresentationDataMessage(presentationContextID: id, kind: isCommand ? .command : .dataSet, bytes: bytes)
    }
}
