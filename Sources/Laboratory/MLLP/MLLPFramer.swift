/// The Minimal Lower Layer Protocol's framing (HL7 v2.5 Appendix C.4): a message is sent as `0x0B` (VT), the message's
/// bytes, then `0x1C 0x0D` (FS CR). A pure state machine: feed it bytes, take out whole messages or a framing error.
public struct MLLPFramer: Sendable {
    public static let startBlock: UInt8 = 0x0B
    public static let endBlock: UInt8 = 0x1C
    public static let carriageReturn: UInt8 = 0x0D

    public enum Event: Sendable, Equatable {
        /// A whole message (without the framing bytes).
        case message([UInt8])
        /// The message grew beyond the limit; its bytes up to the next end block are skipped. `head` is the start of the
        /// message (up to its first segment), so that the NAK can name the message's control ID.
        case oversized(bytes: Int, head: [UInt8])
    }

    public let maximumMessageBytes: Int
    private var buffer: [UInt8] = []
    private var inside = false
    private var skipping = false
    private var skippedBytes = 0
    private var head: [UInt8] = []

    public init(maximumMessageBytes: Int) {
        self.maximumMessageBytes = maximumMessageBytes
    }

    /// Takes the next bytes from the connection; returns the events they complete.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [Event] {
        var events: [Event] = []
        for byte in bytes {
            if !inside {
                // Bytes between frames (stray CR/LF, or noise) are ignored until a start block.
                if byte == Self.startBlock {
                    inside = true
                    buffer.removeAll(keepingCapacity: true)
                    skipping = false
                    skippedBytes = 0
                }
                continue
            }
            if byte == Self.carriageReturn && lastWasEnd {
                inside = false
                lastWasEnd = false
                if skipping {
                    events.append(.oversized(bytes: skippedBytes, head: head))
                } else {
                    events.append(.message(buffer))
                }
                buffer.removeAll(keepingCapacity: true)
                continue
            }
            if lastWasEnd {
                // An FS not followed by CR is data.
                append(Self.endBlock)
                lastWasEnd = false
            }
            if byte == Self.endBlock {
                lastWasEnd = true
                continue
            }
            if byte == Self.startBlock && !skipping {
                // A new start block inside a frame: the sender gave up on the previous message; start over.
                buffer.removeAll(keepingCapacity: true)
                continue
            }
            append(byte)
        }
        return events
    }

    private var lastWasEnd = false

    private mutating func append(_ byte: UInt8) {
        if skipping {
            skippedBytes += 1
            return
        }
        buffer.append(byte)
        if buffer.count > maximumMessageBytes {
            skipping = true
            skippedBytes = buffer.count
            let end = buffer.prefix(4096).firstIndex { $0 == Self.carriageReturn || $0 == 0x0A } ?? min(buffer.count, 4096)
            head = Array(buffer[..<end])
            buffer.removeAll()
        }
    }

    /// Frames `message` for sending.
    public static func frame(_ message: [UInt8]) -> [UInt8] { [startBlock] + message + [endBlock, carriageReturn] }
}
