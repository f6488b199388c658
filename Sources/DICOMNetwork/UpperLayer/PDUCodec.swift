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

/// Writes PDUs onto the wire without copying presentation data: a P-DATA-TF goes out as its headers followed by the PDV
/// values' own buffers (a gathering write), other PDUs are encoded into one buffer (PS3.8 9.3).
public final class PDUWriter: ChannelOutboundHandler, Sendable {
    public typealias OutboundIn = PDU
    public typealias OutboundOut = ByteBuffer

    /// Creates a writer.
    public init() {}

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let pdu = unwrapOutboundIn(data)
        guard case .dataTF(let pData) = pdu, !pData.values.isEmpty else {
            var buffer = context.channel.allocator.buffer(capacity: 256)
            pdu.encode(into: &buffer)
            context.write(wrapOutboundOut(buffer), promise: promise)
            return
        }
        let bodyLength = pData.values.reduce(0) { $0 + 6 + $1.data.readableBytes }
        for (index, value) in pData.values.enumerated() {
            var header = context.channel.allocator.buffer(capacity: 12)
            if index == 0 {
                header.writeInteger(PDUType.dataTF.rawValue)
                header.writeInteger(UInt8(0))
                header.writeInteger(UInt32(truncatingIfNeeded: bodyLength))
            }
            header.writeInteger(UInt32(truncatingIfNeeded: 2 + value.data.readableBytes))
            header.writeInteger(value.presentationContextID)
            header.writeInteger(value.messageControlHeader)
            let isLast = index == pData.values.count - 1
            if value.data.readableBytes == 0 {
                context.write(wrapOutboundOut(header), promise: isLast ? promise : nil)
            } else {
                context.write(wrapOutboundOut(header), promise: nil)
                context.write(wrapOutboundOut(value.data), promise: isLast ? promise : nil)
            }
        }
    }
}
