import NIOCore

/// Priority of a DIMSE-C request (PS3.7 9.1.1.1.9).
public enum DIMSEPriority: UInt16, Hashable, Sendable {
    case medium = 0x0000
    case high = 0x0001
    case low = 0x0002
}

/// Sub-operation counts of C-MOVE and C-GET responses (PS3.7 9.1.3.1, 9.1.4.1).
public struct SubOperationCounts: Hashable, Sendable {
    /// Number of Remaining Sub-operations.
    public var remaining: UInt16?
    /// Number of Completed Sub-operations.
    public var completed: UInt16
    /// Number of Failed Sub-operations.
    public var failed: UInt16
    /// Number of Warning Sub-operations.
    public var warning: UInt16

    /// Creates counts.
    public init(remaining: UInt16? = nil, completed: UInt16 = 0, failed: UInt16 = 0, warning: UInt16 = 0) {
        self.remaining = remaining
        self.completed = completed
        self.failed = failed
        self.warning = warning
    }
}

/// A DIMSE-C message's command, typed by its Command Field (PS3.7 9.3).
public enum DIMSECommand: Hashable, Sendable {
    case cEchoRQ(CEchoRQ)
    case cEchoRSP(CEchoRSP)
    case cStoreRQ(CStoreRQ)
    case cStoreRSP(CStoreRSP)
    case cFindRQ(CFindRQ)
    case cFindRSP(CFindRSP)
    case cMoveRQ(CMoveRQ)
    case cMoveRSP(CMoveRSP)
    case cGetRQ(CGetRQ)
    case cGetRSP(CGetRSP)
    case cCancelRQ(CCancelRQ)

    /// Decodes a command set into its typed message (PS3.7 9.3).
    public init(decoding bytes: ByteBuffer) throws(DIMSEError) {
        try self.init(CommandSet(decoding: bytes))
    }

    /// Types a decoded command set.
    public init(_ command: CommandSet) throws(DIMSEError) {
        guard let field = command.commandField else { throw .malformedCommandSet(offset: 0, reason: "no command field") }
        switch field {
        case .cEchoRQ: self = .cEchoRQ(try CEchoRQ(command))
        case .cEchoRSP: self = .cEchoRSP(try CEchoRSP(command))
        case .cStoreRQ: self = .cStoreRQ(try CStoreRQ(command))
        case .cStoreRSP: self = .cStoreRSP(try CStoreRSP(command))
        case .cFindRQ: self = .cFindRQ(try CFindRQ(command))
        case .cFindRSP: self = .cFindRSP(try CFindRSP(command))
        case .cMoveRQ: self = .cMoveRQ(try CMoveRQ(command))
        case .cMoveRSP: self = .cMoveRSP(try CMoveRSP(command))
        case .cGetRQ: self = .cGetRQ(try CGetRQ(command))
        case .cGetRSP: self = .cGetRSP(try CGetRSP(command))
        case .cCancelRQ: self = .cCancelRQ(try CCancelRQ(command))
        }
    }
}

private func require<T>(_ value: T?, _ field: CommandField, _ element: CommandElement) throws(DIMSEError) -> T {
    guard let value else { throw .missingElement(field, element) }
    return value
}

private func baseCommand(_ field: CommandField, hasDataSet: Bool) -> CommandSet {
    var command = CommandSet()
    command.set(.commandField, uint16: field.rawValue)
    // Any value other than 0101H says a data set follows; 0000H is what most toolkits send (PS3.7 E.1).
    command.set(.commandDataSetType, uint16: hasDataSet ? 0x0000 : CommandSet.noDataSet)
    return command
}

private func readCounts(_ command: CommandSet) -> SubOperationCounts? {
    guard command.values[.numberOfCompletedSuboperations] != nil || command.values[.numberOfRemainingSuboperations] != nil else {
        return nil
    }
    return SubOperationCounts(
        remaining: command.uint16(.numberOfRemainingSuboperations), completed: command.uint16(.numberOfCompletedSuboperations) ?? 0,
        failed: command.uint16(.numberOfFailedSuboperations) ?? 0, warning: command.uint16(.numberOfWarningSuboperations) ?? 0)
}

private func write(_ counts: SubOperationCounts?, into command: inout CommandSet) {
    guard let counts else { return }
    if let remaining = counts.remaining { command.set(.numberOfRemainingSuboperations, uint16: remaining) }
    command.set(.numberOfCompletedSuboperations, uint16: counts.completed)
    command.set(.numberOfFailedSuboperations, uint16: counts.failed)
    command.set(.numberOfWarningSuboperations, uint16: counts.warning)
}

/// C-ECHO-RQ (PS3.7 9.3.5.1).
public struct CEchoRQ: Hashable, Sendable {
    /// Message ID.
    public var messageID: UInt16
    /// Affected SOP Class UID, the verification SOP class.
    public var affectedSOPClassUID: String

    /// Creates a request.
    public init(messageID: UInt16, affectedSOPClassUID: String = verificationSOPClassUID) {
        self.messageID = messageID
        self.affectedSOPClassUID = affectedSOPClassUID
    }

    init(_ command: CommandSet) throws(DIMSEError) {
        messageID = try require(command.uint16(.messageID), .cEchoRQ, .messageID)
        affectedSOPClassUID = command.string(.affectedSOPClassUID) ?? verificationSOPClassUID
    }

    /// The command set.
    public var commandSet: CommandSet {
        var command = baseCommand(.cEchoRQ, hasDataSet: false)
        command.set(.affectedSOPClassUID, string: affectedSOPClassUID, isUID: true)
        command.set(.messageID, uint16: messageID)
        return command
    }
}

/// C-ECHO-RSP (PS3.7 9.3.5.2).
public struct CEchoRSP: Hashable, Sendable {
    /// Message ID Being Responded To.
    public var messageIDBeingRespondedTo: UInt16
    /// Affected SOP Class UID.
    public var affectedSOPClassUID: String
    /// Status.
    public var status: DIMSEStatus

    /// Creates a response.
    public init(messageIDBeingRespondedTo: UInt16, affectedSOPClassUID: String = verificationSOPClassUID, status: DIMSEStatus) {
        self.messageIDBeingRespondedTo = messageIDBeingRespondedTo
        self.affectedSOPClassUID = affectedSOPClassUID
        self.status = status
    }

    init(_ command: CommandSet) throws(DIMSEError) {
        messageIDBeingRespondedTo = try require(command.uint16(.messageIDBeingRespondedTo), .cEchoRSP, .messageIDBeingRespondedTo)
        affectedSOPClassUID = command.string(.affectedSOPClassUID) ?? verificationSOPClassUID
        status = DIMSEStatus(rawValue: try require(command.uint16(.status), .cEchoRSP, .status))
    }

    /// The command set.
    public var commandSet: CommandSet {
        var command = baseCommand(.cEchoRSP, hasDataSet: false)
        command.set(.affectedSOPClassUID, string: affectedSOPClassUID, isUID: true)
        command.set(.messageIDBeingRespondedTo, uint16: messageIDBeingRespondedTo)
        command.set(.status, uint16: status.rawValue)
        return command
    }
}

/// C-STORE-RQ (PS3.7 9.3.1.1); the data set follows.
public struct CStoreRQ: Hashable, Sendable {
    /// Message ID.
    public var messageID: UInt16
    /// Affected SOP Class UID.
    public var affectedSOPClassUID: String
    /// Affected SOP Instance UID.
    public var affectedSOPInstanceUID: String
    /// Priority.
    public var priority: DIMSEPriority
    /// Move Originator Application Entity Title, when the store is a C-MOVE sub-operation.
    public var moveOriginatorApplicationEntityTitle: String?
    /// Move Originator Message ID, when the store is a C-MOVE sub-operation.
    public var moveOriginatorMessageID: UInt16?

    /// Creates a request.
    public init(
        messageID: UInt16, affectedSOPClassUID: String, affectedSOPInstanceUID: String, priority: DIMSEPriority = .medium,
        moveOriginatorApplicationEntityTitle: String? = nil, moveOriginatorMessageID: UInt16? = nil
    ) {
        self.messageID = messageID
        self.affectedSOPClassUID = affectedSOPClassUID
        self.affectedSOPInstanceUID = affectedSOPInstanceUID
        self.priority = priority
        self.moveOriginatorApplicationEntityTitle = moveOriginatorApplicationEntityTitle
        self.moveOriginatorMessageID = moveOriginatorMessageID
    }

    init(_ command: CommandSet) throws(DIMSEError) {
        messageID = try require(command.uint16(.messageID), .cStoreRQ, .messageID)
        affectedSOPClassUID = try require(command.string(.affectedSOPClassUID), .cStoreRQ, .affectedSOPClassUID)
        affectedSOPInstanceUID = try require(command.string(.affectedSOPInstanceUID), .cStoreRQ, .affectedSOPInstanceUID)
        priority = command.uint16(.priority).flatMap(DIMSEPriority.init(rawValue:)) ?? .medium
        moveOriginatorApplicationEntityTitle = command.string(.moveOriginatorApplicationEntityTitle)
        moveOriginatorMessageID = command.uint16(.moveOriginatorMessageID)
    }

    /// The command set.
    public var commandSet: CommandSet {
        var command = baseCommand(.cStoreRQ, hasDataSet: true)
        command.set(.affectedSOPClassUID, string: affectedSOPClassUID, isUID: true)
        command.set(.messageID, uint16: messageID)
        command.set(.priority, uint16: priority.rawValue)
        command.set(.affectedSOPInstanceUID, string: affectedSOPInstanceUID, isUID: true)
        if let moveOriginatorApplicationEntityTitle {
            command.set(.moveOriginatorApplicationEntityTitle, string: moveOriginatorApplicationEntityTitle)
        }
        if let moveOriginatorMessageID { command.set(.moveOriginatorMessageID, uint16: moveOriginatorMessageID) }
        return command
    }
}

/// C-STORE-RSP (PS3.7 9.3.1.2).
public struct CStoreRSP: Hashable, Sendable {
    /// Message ID Being Responded To.
    public var messageIDBeingRespondedTo: UInt16
    /// Affected SOP Class UID.
    public var affectedSOPClassUID: String?
    /// Affected SOP Instance UID.
    public var affectedSOPInstanceUID: String?
    /// Status.
    public var status: DIMSEStatus
    /// Error Comment, for failures.
    public var errorComment: String?

    /// Creates a response.
    public init(
        messageIDBeingRespondedTo: UInt16, affectedSOPClassUID: String?, affectedSOPInstanceUID: String?, status: DIMSEStatus,
        errorComment: String? = nil
    ) {
        self.messageIDBeingRespondedTo = messageIDBeingRespondedTo
        self.affectedSOPClassUID = affectedSOPClassUID
        self.affectedSOPInstanceUID = affectedSOPInstanceUID
        self.status = status
        self.errorComment = errorComment
    }

    init(_ command: CommandSet) throws(DIMSEError) {
        messageIDBeingRespondedTo = try require(command.uint16(.messageIDBeingRespondedTo), .cStoreRSP, .messageIDBeingRespondedTo)
        affectedSOPClassUID = command.string(.affectedSOPClassUID)
        affectedSOPInstanceUID = command.string(.affectedSOPInstanceUID)
        status = DIMSEStatus(rawValue: try require(command.uint16(.status), .cStoreRSP, .status))
        errorComment = command.string(.errorComment)
    }

    /// The command set.
    public var commandSet: CommandSet {
        var command = baseCommand(.cStoreRSP, hasDataSet: false)
        if let affectedSOPClassUID { command.set(.affectedSOPClassUID, string: affectedSOPClassUID, isUID: true) }
        command.set(.messageIDBeingRespondedTo, uint16: messageIDBeingRespondedTo)
        command.set(.status, uint16: status.rawValue)
        if let affectedSOPInstanceUID { command.set(.affectedSOPInstanceUID, string: affectedSOPInstanceUID, isUID: true) }
        if let errorComment { command.set(.errorComment, string: String(errorComment.prefix(64))) }
        return command
    }
}

/// C-FIND-RQ (PS3.7 9.3.2.1); the identifier follows.
public struct CFindRQ: Hashable, Sendable {
    /// Message ID.
    public var messageID: UInt16
    /// Affected SOP Class UID, the information model's FIND class.
    public var affectedSOPClassUID: String
    /// Priority.
    public var priority: DIMSEPriority

    /// Creates a request.
    public init(messageID: UInt16, affectedSOPClassUID: String, priority: DIMSEPriority = .medium) {
        self.messageID = messageID
        self.affectedSOPClassUID = affectedSOPClassUID
        self.priority = priority
    }

    init(_ command: CommandSet) throws(DIMSEError) {
        messageID = try require(command.uint16(.messageID), .cFindRQ, .messageID)
        affectedSOPClassUID = try require(command.string(.affectedSOPClassUID), .cFindRQ, .affectedSOPClassUID)
        priority = command.uint16(.priority).flatMap(DIMSEPriority.init(rawValue:)) ?? .medium
    }

    /// The command set.
    public var commandSet: CommandSet {
        var command = baseCommand(.cFindRQ, hasDataSet: true)
        command.set(.affectedSOPClassUID, string: affectedSOPClassUID, isUID: true)
        command.set(.messageID, uint16: messageID)
        command.set(.priority, uint16: priority.rawValue)
        return command
    }
}

/// C-FIND-RSP (PS3.7 9.3.2.2); pending responses carry a matching identifier.
public struct CFindRSP: Hashable, Sendable {
    /// Message ID Being Responded To.
    public var messageIDBeingRespondedTo: UInt16
    /// Affected SOP Class UID.
    public var affectedSOPClassUID: String?
    /// Status.
    public var status: DIMSEStatus
    /// Whether an identifier follows.
    public var hasDataSet: Bool

    /// Creates a response.
    public init(messageIDBeingRespondedTo: UInt16, affectedSOPClassUID: String?, status: DIMSEStatus, hasDataSet: Bool) {
        self.messageIDBeingRespondedTo = messageIDBeingRespondedTo
        self.affectedSOPClassUID = affectedSOPClassUID
        self.status = status
        self.hasDataSet = hasDataSet
    }

    init(_ command: CommandSet) throws(DIMSEError) {
        messageIDBeingRespondedTo = try require(command.uint16(.messageIDBeingRespondedTo), .cFindRSP, .messageIDBeingRespondedTo)
        affectedSOPClassUID = command.string(.affectedSOPClassUID)
        status = DIMSEStatus(rawValue: try require(command.uint16(.status), .cFindRSP, .status))
        hasDataSet = command.hasDataSet
    }

    /// The command set.
    public var commandSet: CommandSet {
        var command = baseCommand(.cFindRSP, hasDataSet: hasDataSet)
        if let affectedSOPClassUID { command.set(.affectedSOPClassUID, string: affectedSOPClassUID, isUID: true) }
        command.set(.messageIDBeingRespondedTo, uint16: messageIDBeingRespondedTo)
        command.set(.status, uint16: status.rawValue)
        return command
    }
}

/// C-MOVE-RQ (PS3.7 9.3.4.1); the identifier follows.
public struct CMoveRQ: Hashable, Sendable {
    /// Message ID.
    public var messageID: UInt16
    /// Affected SOP Class UID, the information model's MOVE class.
    public var affectedSOPClassUID: String
    /// Priority.
    public var priority: DIMSEPriority
    /// Move Destination: the AE title the instances go to.
    public var moveDestination: String

    /// Creates a request.
    public init(messageID: UInt16, affectedSOPClassUID: String, moveDestination: String, priority: DIMSEPriority = .medium) {
        self.messageID = messageID
        self.affectedSOPClassUID = affectedSOPClassUID
        self.moveDestination = moveDestination
        self.priority = priority
    }

    init(_ command: CommandSet) throws(DIMSEError) {
        messageID = try require(command.uint16(.messageID), .cMoveRQ, .messageID)
        affectedSOPClassUID = try require(command.string(.affectedSOPClassUID), .cMoveRQ, .affectedSOPClassUID)
        moveDestination = try require(command.string(.moveDestination), .cMoveRQ, .moveDestination)
        priority = command.uint16(.priority).flatMap(DIMSEPriority.init(rawValue:)) ?? .medium
    }

    /// The command set.
    public var commandSet: CommandSet {
        var command = baseCommand(.cMoveRQ, hasDataSet: true)
        command.set(.affectedSOPClassUID, string: affectedSOPClassUID, isUID: true)
        command.set(.messageID, uint16: messageID)
        command.set(.moveDestination, string: moveDestination)
        command.set(.priority, uint16: priority.rawValue)
        return command
    }
}

/// C-MOVE-RSP (PS3.7 9.3.4.2); a failure or warning may carry an identifier with the Failed SOP Instance UID List.
public struct CMoveRSP: Hashable, Sendable {
    /// Message ID Being Responded To.
    public var messageIDBeingRespondedTo: UInt16
    /// Affected SOP Class UID.
    public var affectedSOPClassUID: String?
    /// Status.
    public var status: DIMSEStatus
    /// Sub-operation counts.
    public var counts: SubOperationCounts?
    /// Whether an identifier follows.
    public var hasDataSet: Bool

    /// Creates a response.
    public init(
        messageIDBeingRespondedTo: UInt16, affectedSOPClassUID: String?, status: DIMSEStatus, counts: SubOperationCounts?,
        hasDataSet: Bool = false
    ) {
        self.messageIDBeingRespondedTo = messageIDBeingRespondedTo
        self.affectedSOPClassUID = affectedSOPClassUID
        self.status = status
        self.counts = counts
        self.hasDataSet = hasDataSet
    }

    init(_ command: CommandSet) throws(DIMSEError) {
        messageIDBeingRespondedTo = try require(command.uint16(.messageIDBeingRespondedTo), .cMoveRSP, .messageIDBeingRespondedTo)
        affectedSOPClassUID = command.string(.affectedSOPClassUID)
        status = DIMSEStatus(rawValue: try require(command.uint16(.status), .cMoveRSP, .status))
        counts = readCounts(command)
        hasDataSet = command.hasDataSet
    }

    /// The command set.
    public var commandSet: CommandSet {
        var command = baseCommand(.cMoveRSP, hasDataSet: hasDataSet)
        if let affectedSOPClassUID { command.set(.affectedSOPClassUID, string: affectedSOPClassUID, isUID: true) }
        command.set(.messageIDBeingRespondedTo, uint16: messageIDBeingRespondedTo)
        command.set(.status, uint16: status.rawValue)
        write(counts, into: &command)
        return command
    }
}

/// C-GET-RQ (PS3.7 9.3.3.1); the identifier follows.
public struct CGetRQ: Hashable, Sendable {
    /// Message ID.
    public var messageID: UInt16
    /// Affected SOP Class UID, the information model's GET class.
    public var affectedSOPClassUID: String
    /// Priority.
    public var priority: DIMSEPriority

    /// Creates a request.
    public init(messageID: UInt16, affectedSOPClassUID: String, priority: DIMSEPriority = .medium) {
        self.messageID = messageID
        self.affectedSOPClassUID = affectedSOPClassUID
        self.priority = priority
    }

    init(_ command: CommandSet) throws(DIMSEError) {
        messageID = try require(command.uint16(.messageID), .cGetRQ, .messageID)
        affectedSOPClassUID = try require(command.string(.affectedSOPClassUID), .cGetRQ, .affectedSOPClassUID)
        priority = command.uint16(.priority).flatMap(DIMSEPriority.init(rawValue:)) ?? .medium
    }

    /// The command set.
    public var commandSet: CommandSet {
        var command = baseCommand(.cGetRQ, hasDataSet: true)
        command.set(.affectedSOPClassUID, string: affectedSOPClassUID, isUID: true)
        command.set(.messageID, uint16: messageID)
        command.set(.priority, uint16: priority.rawValue)
        return command
    }
}

/// C-GET-RSP (PS3.7 9.3.3.2), shaped like C-MOVE-RSP.
public struct CGetRSP: Hashable, Sendable {
    /// Message ID Being Responded To.
    public var messageIDBeingRespondedTo: UInt16
    /// Affected SOP Class UID.
    public var affectedSOPClassUID: String?
    /// Status.
    public var status: DIMSEStatus
    /// Sub-operation counts.
    public var counts: SubOperationCounts?
    /// Whether an identifier follows.
    public var hasDataSet: Bool

    /// Creates a response.
    public init(
        messageIDBeingRespondedTo: UInt16, affectedSOPClassUID: String?, status: DIMSEStatus, counts: SubOperationCounts?,
        hasDataSet: Bool = false
    ) {
        self.messageIDBeingRespondedTo = messageIDBeingRespondedTo
        self.affectedSOPClassUID = affectedSOPClassUID
        self.status = status
        self.counts = counts
        self.hasDataSet = hasDataSet
    }

    init(_ command: CommandSet) throws(DIMSEError) {
        messageIDBeingRespondedTo = try require(command.uint16(.messageIDBeingRespondedTo), .cGetRSP, .messageIDBeingRespondedTo)
        affectedSOPClassUID = command.string(.affectedSOPClassUID)
        status = DIMSEStatus(rawValue: try require(command.uint16(.status), .cGetRSP, .status))
        counts = readCounts(command)
        hasDataSet = command.hasDataSet
    }

    /// The command set.
    public var commandSet: CommandSet {
        var command = baseCommand(.cGetRSP, hasDataSet: hasDataSet)
        if let affectedSOPClassUID { command.set(.affectedSOPClassUID, string: affectedSOPClassUID, isUID: true) }
        command.set(.messageIDBeingRespondedTo, uint16: messageIDBeingRespondedTo)
        command.set(.status, uint16: status.rawValue)
        write(counts, into: &command)
        return command
    }
}

/// C-CANCEL-RQ (PS3.7 9.3.2.3, 9.3.3.3, 9.3.4.3): cancels the FIND, GET or MOVE with that message ID.
public struct CCancelRQ: Hashable, Sendable {
    /// Message ID Being Responded To: the operation to cancel.
    public var messageIDBeingRespondedTo: UInt16

    /// Creates a cancel request.
    public init(messageIDBeingRespondedTo: UInt16) { self.messageIDBeingRespondedTo = messageIDBeingRespondedTo }

    init(_ command: CommandSet) throws(DIMSEError) {
        messageIDBeingRespondedTo = try require(command.uint16(.messageIDBeingRespondedTo), .cCancelRQ, .messageIDBeingRespondedTo)
    }

    /// The command set.
    public var commandSet: CommandSet {
        var command = baseCommand(.cCancelRQ, hasDataSet: false)
        command.set(.messageIDBeingRespondedTo, uint16: messageIDBeingRespondedTo)
        return command
    }
}
