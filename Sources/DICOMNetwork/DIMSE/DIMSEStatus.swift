/// A DIMSE status code (PS3.7 Annex C, and the service-specific codes of PS3.4).
public struct DIMSEStatus: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The (0000,0900) value.
    public var rawValue: UInt16
    /// Creates a status from its code.
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// Success (PS3.7 C.1.1).
    public static let success = DIMSEStatus(rawValue: 0x0000)
    /// Cancel: the operation was cancelled by C-CANCEL (PS3.7 C.3).
    public static let cancel = DIMSEStatus(rawValue: 0xFE00)
    /// Pending: matches or sub-operations are continuing (PS3.7 C.4, PS3.4 C.4.1.1.4).
    public static let pending = DIMSEStatus(rawValue: 0xFF00)
    /// Pending: some optional keys were not supported as matching or return keys (PS3.4 C.4.1.1.4).
    public static let pendingWarning = DIMSEStatus(rawValue: 0xFF01)
    /// Warning: sub-operations complete, one or more failures or warnings (PS3.4 C.4.2.1.5, C.4.3.1.5).
    public static let subOperationsCompleteWithFailures = DIMSEStatus(rawValue: 0xB000)
    /// Warning (C-STORE): coercion of data elements (PS3.4 B.2.3).
    public static let coercionOfDataElements = DIMSEStatus(rawValue: 0xB000)
    /// Failure: refused, SOP class not supported (PS3.7 C.5.20).
    public static let sopClassNotSupported = DIMSEStatus(rawValue: 0x0122)
    /// Failure: refused, not authorized (PS3.7 C.5.25).
    public static let notAuthorized = DIMSEStatus(rawValue: 0x0124)
    /// Failure: processing failure (PS3.7 C.5.13).
    public static let processingFailure = DIMSEStatus(rawValue: 0x0110)
    /// Failure: duplicate invocation (PS3.7 C.5.6).
    public static let duplicateInvocation = DIMSEStatus(rawValue: 0x0210)
    /// Failure: unrecognized operation (PS3.7 C.5.21).
    public static let unrecognizedOperation = DIMSEStatus(rawValue: 0x0211)
    /// Failure: mistyped argument (PS3.7 C.5.9).
    public static let mistypedArgument = DIMSEStatus(rawValue: 0x0212)
    /// Refused: out of resources (PS3.4 B.2.3, C.4.1.1.4).
    public static let outOfResources = DIMSEStatus(rawValue: 0xA700)
    /// Refused: out of resources, unable to calculate the number of matches (PS3.4 C.4.2.1.5).
    public static let outOfResourcesNumberOfMatches = DIMSEStatus(rawValue: 0xA701)
    /// Refused: out of resources, unable to perform sub-operations (PS3.4 C.4.2.1.5).
    public static let outOfResourcesSubOperations = DIMSEStatus(rawValue: 0xA702)
    /// Refused: move destination unknown (PS3.4 C.4.2.1.5).
    public static let moveDestinationUnknown = DIMSEStatus(rawValue: 0xA801)
    /// Error: data set does not match SOP class, or identifier does not match SOP class (PS3.4 B.2.3, C.4.1.1.4).
    public static let dataSetDoesNotMatchSOPClass = DIMSEStatus(rawValue: 0xA900)
    /// Error: cannot understand / unable to process (PS3.4 B.2.3, C.4.1.1.4).
    public static let unableToProcess = DIMSEStatus(rawValue: 0xC000)

    /// The status type of PS3.7 Annex C.
    public enum Kind: Hashable, Sendable {
        case success
        case warning
        case failure
        case cancel
        case pending
    }

    /// The status type this code belongs to (PS3.7 C.1–C.5, PS3.4).
    public var kind: Kind {
        switch rawValue {
        case 0x0000: return .success
        case 0xFF00, 0xFF01: return .pending
        case 0xFE00: return .cancel
        case 0x0001, 0x0107, 0x0116, 0xB000...0xBFFF: return .warning
        default: return .failure
        }
    }

    /// The code in hexadecimal with its kind, for logs and reports.
    public var description: String {
        let digits = String(rawValue, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: 4 - digits.count) + digits + " (\(kind))"
    }
}
