/// Why a DICOM stream or value could not be read or written.
public enum DICOMError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A file system operation failed.
    case io(path: String, reason: String)
    /// The stream ends before a header or value that it announces.
    case truncated(offset: Int, tag: Tag?, needed: Int, available: Int)
    /// The bytes at `offset` cannot be a data element.
    case malformed(offset: Int, tag: Tag?, reason: String)
    /// The stream is not DICOM at all.
    case notDICOM(reason: String)
    /// A value does not have the form its VR or the caller requires.
    case invalidValue(tag: Tag, vr: VR, reason: String)
    /// The transfer syntax cannot be read or written by this code.
    case unsupportedTransferSyntax(uid: String)
    /// A limit set by the caller was exceeded.
    case limitExceeded(offset: Int, reason: String)

    public var description: String {
        switch self {
        case .io(let path, let reason): "\(path): \(reason)"
        case .truncated(let offset, let tag, let needed, let available):
            "truncated at byte \(offset)\(tag.map { " in \($0)" } ?? ""): needs \(needed) bytes, \(available) left"
        case .malformed(let offset, let tag, let reason):
            "malformed at byte \(offset)\(tag.map { " in \($0)" } ?? ""): \(reason)"
        case .notDICOM(let reason): "not a DICOM stream: \(reason)"
        case .invalidValue(let tag, let vr, let reason): "invalid \(vr) value in \(tag): \(reason)"
        case .unsupportedTransferSyntax(let uid): "unsupported transfer syntax \(uid)"
        case .limitExceeded(let offset, let reason): "limit exceeded at byte \(offset): \(reason)"
        }
    }
}

/// A deviation from the standard that the reader tolerated, as pydicom and dcmtk do.
public struct DICOMWarning: Sendable, Equatable, CustomStringConvertible {
    /// What kind of deviation this is.
    public enum Kind: String, Sendable {
        case noPreamble
        case noMetaHeader
        case missingTransferSyntax
        case transferSyntaxMismatch
        case invalidVR
        case vrMismatch
        case oddLength
        case undefinedLengthUN
        case trailingBytes
        case unknownCharacterSet
        case invalidCharacters
        case groupLengthMismatch
        case malformedEncapsulation
        case outOfOrder
        case duplicateTag
        case undefinedLengthNonSequence
        case truncatedValue
    }

    public let kind: Kind
    /// Byte offset in the stream where the deviation was seen.
    public let offset: Int
    /// The element, when the deviation belongs to one.
    public let tag: Tag?
    /// Details for a person.
    public let message: String

    public init(_ kind: Kind, offset: Int, tag: Tag? = nil, _ message: String) {
        self.kind = kind
        self.offset = offset
        self.tag = tag
        self.message = message
    }

    public var description: String {
        "warning at byte \(offset)\(tag.map { " \($0)" } ?? ""): \(message)"
    }
}
