import NIOCore

/// A protocol data unit of the DICOM upper layer (PS3.8 9.3).
public enum PDU: Hashable, Sendable {
    /// A-ASSOCIATE-RQ, type 01H (PS3.8 9.3.2).
    case associateRQ(AAssociateRQ)
    /// A-ASSOCIATE-AC, type 02H (PS3.8 9.3.3).
    case associateAC(AAssociateAC)
    /// A-ASSOCIATE-RJ, type 03H (PS3.8 9.3.4).
    case associateRJ(AAssociateRJ)
    /// P-DATA-TF, type 04H (PS3.8 9.3.5).
    case dataTF(PDataTF)
    /// A-RELEASE-RQ, type 05H (PS3.8 9.3.6).
    case releaseRQ
    /// A-RELEASE-RP, type 06H (PS3.8 9.3.7).
    case releaseRP
    /// A-ABORT, type 07H (PS3.8 9.3.8).
    case abort(AAbort)

    /// The PDU type byte (PS3.8 Table 9-11).
    public var pduType: PDUType {
        switch self {
        case .associateRQ: return .associateRQ
        case .associateAC: return .associateAC
        case .associateRJ: return .associateRJ
        case .dataTF: return .dataTF
        case .releaseRQ: return .releaseRQ
        case .releaseRP: return .releaseRP
        case .abort: return .abort
        }
    }
}

/// PDU types (PS3.8 9.3.1).
public enum PDUType: UInt8, Hashable, Sendable {
    case associateRQ = 0x01
    case associateAC = 0x02
    case associateRJ = 0x03
    case dataTF = 0x04
    case releaseRQ = 0x05
    case releaseRP = 0x06
    case abort = 0x07
}

/// The application context name every DICOM association uses (PS3.7 Annex A.2.1).
public let dicomApplicationContextName = "1.2.840.10008.3.1.1.1"

/// A-ASSOCIATE-RQ PDU (PS3.8 9.3.2).
public struct AAssociateRQ: Hashable, Sendable {
    /// Protocol version bit field; bit 0 set means version 1 (PS3.8 9.3.2).
    public var protocolVersion: UInt16
    /// Called AE title, without padding (PS3.8 9.3.2, 16 bytes on the wire).
    public var calledAETitle: String
    /// Calling AE title, without padding (PS3.8 9.3.2).
    public var callingAETitle: String
    /// Application context name (PS3.8 9.3.2.1).
    public var applicationContextName: String
    /// Proposed presentation contexts (PS3.8 9.3.2.2).
    public var presentationContexts: [PresentationContext]
    /// User information item (PS3.8 9.3.2.3).
    public var userInformation: UserInformation

    /// Creates an A-ASSOCIATE-RQ.
    public init(
        protocolVersion: UInt16 = 1, calledAETitle: String, callingAETitle: String,
        applicationContextName: String = dicomApplicationContextName,
        presentationContexts: [PresentationContext], userInformation: UserInformation
    ) {
        self.protocolVersion = protocolVersion
        self.calledAETitle = calledAETitle
        self.callingAETitle = callingAETitle
        self.applicationContextName = applicationContextName
        self.presentationContexts = presentationContexts
        self.userInformation = userInformation
    }
}

/// A-ASSOCIATE-AC PDU (PS3.8 9.3.3).
public struct AAssociateAC: Hashable, Sendable {
    /// Protocol version bit field (PS3.8 9.3.3).
    public var protocolVersion: UInt16
    /// Called AE title echoed from the request; not tested on receipt (PS3.8 9.3.3).
    public var calledAETitle: String
    /// Calling AE title echoed from the request; not tested on receipt (PS3.8 9.3.3).
    public var callingAETitle: String
    /// Application context name (PS3.8 9.3.3.1).
    public var applicationContextName: String
    /// Per-context results (PS3.8 9.3.3.2).
    public var presentationContexts: [PresentationContextResult]
    /// User information item (PS3.8 9.3.3.3).
    public var userInformation: UserInformation

    /// Creates an A-ASSOCIATE-AC.
    public init(
        protocolVersion: UInt16 = 1, calledAETitle: String, callingAETitle: String,
        applicationContextName: String = dicomApplicationContextName,
        presentationContexts: [PresentationContextResult], userInformation: UserInformation
    ) {
        self.protocolVersion = protocolVersion
        self.calledAETitle = calledAETitle
        self.callingAETitle = callingAETitle
        self.applicationContextName = applicationContextName
        self.presentationContexts = presentationContexts
        self.userInformation = userInformation
    }
}

/// A proposed presentation context item, type 20H (PS3.8 9.3.2.2).
public struct PresentationContext: Hashable, Sendable {
    /// Odd integer 1–255 identifying the context (PS3.8 9.3.2.2).
    public var id: UInt8
    /// Abstract syntax name, an SOP class UID (PS3.8 9.3.2.2.1).
    public var abstractSyntax: String
    /// Proposed transfer syntax UIDs (PS3.8 9.3.2.2.2).
    public var transferSyntaxes: [String]

    /// Creates a proposed presentation context.
    public init(id: UInt8, abstractSyntax: String, transferSyntaxes: [String]) {
        self.id = id
        self.abstractSyntax = abstractSyntax
        self.transferSyntaxes = transferSyntaxes
    }
}

/// A presentation context result item, type 21H (PS3.8 9.3.3.2).
public struct PresentationContextResult: Hashable, Sendable {
    /// Result/reason field values (PS3.8 Table 9-18).
    public enum Result: UInt8, Hashable, Sendable {
        case acceptance = 0
        case userRejection = 1
        case noReason = 2
        case abstractSyntaxNotSupported = 3
        case transferSyntaxesNotSupported = 4
    }

    /// The presentation context ID of the matching proposal.
    public var id: UInt8
    /// Acceptance or the reason for rejection.
    public var result: Result
    /// The accepted transfer syntax; meaningful only on acceptance (PS3.8 9.3.3.2.1).
    public var transferSyntax: String?

    /// Creates a presentation context result.
    public init(id: UInt8, result: Result, transferSyntax: String?) {
        self.id = id
        self.result = result
        self.transferSyntax = transferSyntax
    }
}

/// A-ASSOCIATE-RJ PDU (PS3.8 9.3.4).
public struct AAssociateRJ: Hashable, Sendable {
    /// Rejected permanently or transiently (PS3.8 Table 9-21).
    public enum Result: UInt8, Hashable, Sendable {
        case rejectedPermanent = 1
        case rejectedTransient = 2
    }

    /// Who rejected (PS3.8 Table 9-21).
    public enum Source: UInt8, Hashable, Sendable {
        case serviceUser = 1
        case serviceProviderACSE = 2
        case serviceProviderPresentation = 3
    }

    /// Reason/diagnosis byte, whose meaning depends on the source (PS3.8 Table 9-21).
    public struct Reason: RawRepresentable, Hashable, Sendable {
        /// The reason/diag. byte.
        public var rawValue: UInt8
        /// Creates a reason from its byte.
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// Source 1 or 2: no reason given.
        public static let noReasonGiven = Reason(rawValue: 1)
        /// Source 1: application context name not supported.
        public static let applicationContextNameNotSupported = Reason(rawValue: 2)
        /// Source 1: calling AE title not recognized.
        public static let callingAETitleNotRecognized = Reason(rawValue: 3)
        /// Source 1: called AE title not recognized.
        public static let calledAETitleNotRecognized = Reason(rawValue: 7)
        /// Source 2: protocol version not supported.
        public static let protocolVersionNotSupported = Reason(rawValue: 2)
        /// Source 3: temporary congestion.
        public static let temporaryCongestion = Reason(rawValue: 1)
        /// Source 3: local limit exceeded.
        public static let localLimitExceeded = Reason(rawValue: 2)
    }

    /// Permanent or transient.
    public var result: Result
    /// Who rejected.
    public var source: Source
    /// Why, in the source's terms.
    public var reason: Reason

    /// Creates an A-ASSOCIATE-RJ.
    public init(result: Result, source: Source, reason: Reason) {
        self.result = result
        self.source = source
        self.reason = reason
    }
}

/// P-DATA-TF PDU: one or more presentation data values (PS3.8 9.3.5).
public struct PDataTF: Hashable, Sendable {
    /// The PDV items in order.
    public var values: [PresentationDataValue]

    /// Creates a P-DATA-TF.
    public init(values: [PresentationDataValue]) { self.values = values }
}

/// A presentation data value item with its message control header (PS3.8 9.3.5.1, Annex E.2).
public struct PresentationDataValue: Hashable, Sendable {
    /// Presentation context ID the fragment belongs to.
    public var presentationContextID: UInt8
    /// Bit 0 of the message control header: command (true) or data set (false) fragment.
    public var isCommand: Bool
    /// Bit 1 of the message control header: last fragment of the command or data set.
    public var isLastFragment: Bool
    /// The fragment bytes.
    public var data: ByteBuffer

    /// Creates a PDV.
    public init(presentationContextID: UInt8, isCommand: Bool, isLastFragment: Bool, data: ByteBuffer) {
        self.presentationContextID = presentationContextID
        self.isCommand = isCommand
        self.isLastFragment = isLastFragment
        self.data = data
    }

    /// The message control header byte (PS3.8 Annex E.2).
    public var messageControlHeader: UInt8 {
        (isCommand ? 0x01 : 0x00) | (isLastFragment ? 0x02 : 0x00)
    }
}

/// A-ABORT PDU (PS3.8 9.3.8).
public struct AAbort: Hashable, Sendable {
    /// Who aborted (PS3.8 Table 9-26).
    public enum Source: UInt8, Hashable, Sendable {
        case serviceUser = 0
        case reserved = 1
        case serviceProvider = 2
    }

    /// Reason/diagnosis when the source is the service provider (PS3.8 Table 9-26).
    public enum Reason: UInt8, Hashable, Sendable {
        case notSpecified = 0
        case unrecognizedPDU = 1
        case unexpectedPDU = 2
        case reserved = 3
        case unrecognizedPDUParameter = 4
        case unexpectedPDUParameter = 5
        case invalidPDUParameterValue = 6
    }

    /// Who aborted.
    public var source: Source
    /// Why; significant only when the service provider aborted.
    public var reason: Reason

    /// Creates an A-ABORT.
    public init(source: Source, reason: Reason = .notSpecified) {
        self.source = source
        self.reason = reason
    }
}
