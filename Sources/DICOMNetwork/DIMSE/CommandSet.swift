import NIOCore

/// The elements of a DIMSE command set, group 0000, by element number (PS3.7 6.3.1, Table E.1-1).
public struct CommandElement: RawRepresentable, Hashable, Comparable, Sendable {
    /// The element number within group 0000.
    public var rawValue: UInt16
    /// Creates an element from its number.
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// Orders by element number, the order of the encoding (PS3.5 7.1).
    public static func < (a: CommandElement, b: CommandElement) -> Bool { a.rawValue < b.rawValue }

    /// (0000,0000) Command Group Length, UL.
    public static let commandGroupLength = CommandElement(rawValue: 0x0000)
    /// (0000,0002) Affected SOP Class UID, UI.
    public static let affectedSOPClassUID = CommandElement(rawValue: 0x0002)
    /// (0000,0003) Requested SOP Class UID, UI.
    public static let requestedSOPClassUID = CommandElement(rawValue: 0x0003)
    /// (0000,0100) Command Field, US.
    public static let commandField = CommandElement(rawValue: 0x0100)
    /// (0000,0110) Message ID, US.
    public static let messageID = CommandElement(rawValue: 0x0110)
    /// (0000,0120) Message ID Being Responded To, US.
    public static let messageIDBeingRespondedTo = CommandElement(rawValue: 0x0120)
    /// (0000,0600) Move Destination, AE.
    public static let moveDestination = CommandElement(rawValue: 0x0600)
    /// (0000,0700) Priority, US.
    public static let priority = CommandElement(rawValue: 0x0700)
    /// (0000,0800) Command Data Set Type, US; 0101H means no data set follows.
    public static let commandDataSetType = CommandElement(rawValue: 0x0800)
    /// (0000,0900) Status, US.
    public static let status = CommandElement(rawValue: 0x0900)
    /// (0000,0901) Offending Element, AT.
    public static let offendingElement = CommandElement(rawValue: 0x0901)
    /// (0000,0902) Error Comment, LO.
    public static let errorComment = CommandElement(rawValue: 0x0902)
    /// (0000,0903) Error ID, US.
    public static let errorID = CommandElement(rawValue: 0x0903)
    /// (0000,1000) Affected SOP Instance UID, UI.
    public static let affectedSOPInstanceUID = CommandElement(rawValue: 0x1000)
    /// (0000,1001) Requested SOP Instance UID, UI.
    public static let requestedSOPInstanceUID = CommandElement(rawValue: 0x1001)
    /// (0000,1020) Number of Remaining Sub-operations, US.
    public static let numberOfRemainingSuboperations = CommandElement(rawValue: 0x1020)
    /// (0000,1021) Number of Completed Sub-operations, US.
    public static let numberOfCompletedSuboperations = CommandElement(rawValue: 0x1021)
    /// (0000,1022) Number of Failed Sub-operations, US.
    public static let numberOfFailedSuboperations = CommandElement(rawValue: 0x1022)
    /// (0000,1023) Number of Warning Sub-operations, US.
    public static let numberOfWarningSuboperations = CommandElement(rawValue: 0x1023)
    /// (0000,1030) Move Originator Application Entity Title, AE.
    public static let moveOriginatorApplicationEntityTitle = CommandElement(rawValue: 0x1030)
    /// (0000,1031) Move Originator Message ID, US.
    public static let moveOriginatorMessageID = CommandElement(rawValue: 0x1031)
}

/// A DIMSE command set: group 0000 elements, always implicit VR little endian with a group length (PS3.7 6.3.1, 9.3, E.1).
///
/// Values are kept as their bytes; typed accessors read and write them. Decoding never trusts a length beyond the buffer.
public struct CommandSet: Hashable, Sendable {
    /// Element values by element number, without the group length (which is computed on encoding).
    public private(set) var values: [CommandElement: [UInt8]] = [:]

    /// An empty command set.
    public init() {}

    /// Command Data Set Type value meaning that no data set follows (PS3.7 E.1).
    public static let noDataSet: UInt16 = 0x0101

    /// The raw bytes of an element.
    public subscript(element: CommandElement) -> [UInt8]? {
        get { values[element] }
        set { values[element] = newValue }
    }

    /// A US value.
    public func uint16(_ element: CommandElement) -> UInt16? {
        guard let bytes = values[element], bytes.count >= 2 else { return nil }
        return UInt16(bytes[0]) | UInt16(bytes[1]) << 8
    }

    /// Sets a US value.
    public mutating func set(_ element: CommandElement, uint16 value: UInt16) {
        values[element] = [UInt8(value & 0xFF), UInt8(value >> 8)]
    }

    /// A UI, AE, LO or SH value with its padding removed (PS3.5 6.2).
    public func string(_ element: CommandElement) -> String? {
        guard let bytes = values[element] else { return nil }
        var end = bytes.count
        while end > 0, bytes[end - 1] == 0 || bytes[end - 1] == 0x20 { end -= 1 }
        var start = 0
        while start < end, bytes[start] == 0x20 { start += 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// Sets a UI value, padded with NUL to even length, or a text value padded with a space (PS3.5 6.2).
    public mutating func set(_ element: CommandElement, string value: String, isUID: Bool = false) {
        var bytes = Array(value.utf8)
        if bytes.count % 2 == 1 { bytes.append(isUID ? 0 : 0x20) }
        values[element] = bytes
    }

    /// AT values: pairs of group and element (PS3.5 6.2).
    public func attributeTags(_ element: CommandElement) -> [UInt32] {
        guard let bytes = values[element] else { return [] }
        return stride(from: 0, to: bytes.count - bytes.count % 4, by: 4).map { index in
            let group = UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8
            let element = UInt32(bytes[index + 2]) | UInt32(bytes[index + 3]) << 8
            return group << 16 | element
        }
    }

    /// Sets AT values.
    public mutating func set(_ element: CommandElement, attributeTags tags: [UInt32]) {
        values[element] = tags.flatMap { tag in
            let group = UInt16(truncatingIfNeeded: tag >> 16)
            let element = UInt16(truncatingIfNeeded: tag)
            return [UInt8(group & 0xFF), UInt8(group >> 8), UInt8(element & 0xFF), UInt8(element >> 8)]
        }
    }

    /// The Command Field (PS3.7 E.1).
    public var commandField: CommandField? { uint16(.commandField).flatMap(CommandField.init(rawValue:)) }

    /// Whether a data set follows the command (Command Data Set Type other than 0101H, PS3.7 E.1).
    public var hasDataSet: Bool { uint16(.commandDataSetType).map { $0 != CommandSet.noDataSet } ?? false }

    /// Encodes the command set in implicit VR little endian, elements in ascending order, led by the group length.
    public func encoded() -> ByteBuffer {
        let ordered = values.filter { $0.key != .commandGroupLength }.sorted { $0.key < $1.key }
        let bodyLength = ordered.reduce(0) { $0 + 8 + $1.value.count }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(12 + bodyLength)
        writeHeader(&buffer, .commandGroupLength, length: 4)
        buffer.writeInteger(UInt32(bodyLength), endianness: .little)
        for (element, value) in ordered {
            writeHeader(&buffer, element, length: value.count)
            buffer.writeBytes(value)
        }
        return buffer
    }

    private func writeHeader(_ buffer: inout ByteBuffer, _ element: CommandElement, length: Int) {
        buffer.writeInteger(UInt16(0), endianness: .little)
        buffer.writeInteger(element.rawValue, endianness: .little)
        buffer.writeInteger(UInt32(length), endianness: .little)
    }

    /// Decodes a command set (PS3.7 6.3.1): every element must be in group 0000 and fit the buffer.
    public init(decoding bytes: ByteBuffer) throws(DIMSEError) {
        var buffer = bytes
        let start = buffer.readerIndex
        while buffer.readableBytes > 0 {
            let offset = buffer.readerIndex - start
            guard let group = buffer.readInteger(endianness: .little, as: UInt16.self),
                let number = buffer.readInteger(endianness: .little, as: UInt16.self),
                let length = buffer.readInteger(endianness: .little, as: UInt32.self)
            else { throw .malformedCommandSet(offset: offset, reason: "truncated element header") }
            guard group == 0x0000 else {
                throw .malformedCommandSet(offset: offset, reason: "element of group \(group) in a command set")
            }
            guard length != 0xFFFF_FFFF, Int(length) <= buffer.readableBytes,
                let value = buffer.readBytes(length: Int(length))
            else { throw .malformedCommandSet(offset: offset, reason: "value length \(length) runs past the command set") }
            values[CommandElement(rawValue: number)] = value
        }
        values[.commandGroupLength] = nil
        guard commandField != nil else {
            let raw = uint16(.commandField).map { String($0, radix: 16) } ?? "absent"
            throw .malformedCommandSet(offset: 0, reason: "command field \(raw) is not a known DIMSE-C command")
        }
    }
}

/// Command Field values of the DIMSE-C services (PS3.7 E.1, 9.3).
public enum CommandField: UInt16, Hashable, Sendable {
    case cStoreRQ = 0x0001
    case cStoreRSP = 0x8001
    case cGetRQ = 0x0010
    case cGetRSP = 0x8010
    case cFindRQ = 0x0020
    case cFindRSP = 0x8020
    case cMoveRQ = 0x0021
    case cMoveRSP = 0x8021
    case cEchoRQ = 0x0030
    case cEchoRSP = 0x8030
    case cCancelRQ = 0x0FFF

    /// Whether this is a response (bit 15 set).
    public var isResponse: Bool { rawValue & 0x8000 != 0 }
}

/// Errors of the DIMSE layer (PS3.7).
public enum DIMSEError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The command set cannot be decoded.
    case malformedCommandSet(offset: Int, reason: String)
    /// A required command element is missing (PS3.7 9.3, 10.3).
    case missingElement(CommandField, CommandElement)
    /// The peer broke the message exchange: a data set without a command, a response to nothing, a wrong context.
    case unexpectedMessage(String)
    /// The association has no accepted presentation context for what is needed.
    case noPresentationContext(abstractSyntax: String)
    /// A data set could not be decoded or encoded.
    case dataSet(String)
    /// The association ended before the operation finished.
    case associationEnded

    /// A one-line explanation for logs and the command line.
    public var description: String {
        switch self {
        case .malformedCommandSet(let offset, let reason): return "malformed command set at byte \(offset): \(reason)"
        case .missingElement(let field, let element):
            return "\(field) lacks (0000,\(String(element.rawValue, radix: 16, uppercase: true)))"
        case .unexpectedMessage(let reason): return "unexpected message: \(reason)"
        case .noPresentationContext(let syntax): return "no accepted presentation context for \(syntax)"
        case .dataSet(let reason): return "data set: \(reason)"
        case .associationEnded: return "the association ended before the operation finished"
        }
    }
}
