import NIOCore

/// Frames a byte stream into PDUs: reads the 6-byte header, checks the length against a limit, then waits for the body (PS3.8 9.3.1).
public struct PDUFrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = PDU

    /// The largest PDU length field accepted; larger headers fail before their bodies are buffered.
    public let maximumLength: Int

    /// Creates a decoder with a limit on the PDU length field.
    public init(maximumLength: Int) {
        self.maximumLength = maximumLength
    }

    /// Decodes the next PDU, or nil when more bytes are needed.
    public mutating func decode(buffer: inout ByteBuffer) throws -> PDU? {
        try PDU.decode(from: &buffer, maximumLength: maximumLength)
    }

    /// Decodes what is left when the connection closes; a partial PDU is dropped (the state machine sees Evt17).
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> PDU? {
        try decode(buffer: &buffer)
    }
}

/// Encodes PDUs onto the wire (PS3.8 9.3).
public struct PDUEncoder: MessageToByteEncoder {
    public typealias OutboundIn = PDU

    /// Creates an encoder.
    public init() {}

    /// Appends `data` to `out`.
    public func encode(data: PDU, out: inout ByteBuffer) {
        data.encode(into: &out)
    }
}
