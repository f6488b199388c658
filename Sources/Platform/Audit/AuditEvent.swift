import Foundation

/// A coded value of an audit message: a code, its scheme (`DCM` for PS3.16 codes) and its meaning (PS3.15 A.5.1).
public struct AuditCode: Sendable, Equatable, Codable, Hashable {
    public var code: String
    public var scheme: String
    public var meaning: String

    public init(_ code: String, _ meaning: String, scheme: String = "DCM") {
        self.code = code
        self.scheme = scheme
        self.meaning = meaning
    }

    // Event IDs (PS3.15 A.5.3; PS3.16 CID 400 Audit Event ID).
    public static let applicationActivity = AuditCode("110100", "Application Activity")
    public static let auditLogUsed = AuditCode("110101", "Audit Log Used")
    public static let instancesAccessed = AuditCode("110103", "DICOM Instances Accessed")
    public static let instancesTransferred = AuditCode("110104", "DICOM Instances Transferred")
    public static let studyDeleted = AuditCode("110105", "DICOM Study Deleted")
    public static let query = AuditCode("110112", "Query")
    public static let securityAlert = AuditCode("110113", "Security Alert")
    public static let userAuthentication = AuditCode("110114", "User Authentication")

    // Event type codes (PS3.16 CID 401 Audit Event Type Code, CID 403 Security Alert Type Code).
    public static let login = AuditCode("110122", "Login")
    public static let logout = AuditCode("110123", "Logout")
    public static let securityConfiguration = AuditCode("110129", "Security Configuration")
    public static let useOfRestrictedFunction = AuditCode("110132", "Use of Restricted Function")
    public static let securityRolesChanged = AuditCode("110136", "Security Roles Changed")
    public static let userSecurityAttributesChanged = AuditCode("110137", "User security Attributes Changed")

    // Participant object ID types (PS3.16 CID 404; RFC 3881 codes for the patient).
    public static let studyInstanceUID = AuditCode("110180", "Study Instance UID")
    public static let sopClassUID = AuditCode("110181", "SOP Class UID")
    public static let patientNumber = AuditCode("2", "Patient Number", scheme: "RFC-3881")
    public static let userIdentifier = AuditCode("11", "User Identifier", scheme: "RFC-3881")
    public static let searchCriteria = AuditCode("12", "URI", scheme: "RFC-3881")
}

/// Event Action Code (PS3.15 A.5.1: Create, Read, Update, Delete, Execute).
public enum AuditAction: String, Sendable, Codable, CaseIterable {
    case create = "C"
    case read = "R"
    case update = "U"
    case delete = "D"
    case execute = "E"
}

/// Event Outcome Indicator (PS3.15 A.5.1).
public enum AuditOutcome: Int, Sendable, Codable, CaseIterable {
    case success = 0
    case minorFailure = 4
    case seriousFailure = 8
    case majorFailure = 12
}

/// Participant Object Identification (PS3.15 A.5.1): what the event touched, a study, a patient, a user, a query.
public struct AuditParticipant: Sendable, Equatable, Codable {
    /// The kind of identifier (Study Instance UID, Patient Number…).
    public var idType: AuditCode
    /// The identifier itself.
    public var id: String
    /// Participant Object Type Code: 1 person, 2 system object, 3 organization.
    public var typeCode: Int
    /// Participant Object Type Code Role: 1 patient, 3 report, 6 user, 11 security resource, 13 query…
    public var role: Int

    public init(idType: AuditCode, id: String, typeCode: Int, role: Int) {
        self.idType = idType
        self.id = id
        self.typeCode = typeCode
        self.role = role
    }

    /// A study (system object, role report).
    public static func study(_ uid: String) -> AuditParticipant { .init(idType: .studyInstanceUID, id: uid, typeCode: 2, role: 3) }
    /// A patient (person, role patient).
    public static func patient(_ id: String) -> AuditParticipant { .init(idType: .patientNumber, id: id, typeCode: 1, role: 1) }
    /// A user account (person, role security user entity).
    public static func user(_ username: String) -> AuditParticipant {
        .init(idType: .userIdentifier, id: username, typeCode: 1, role: 11)
    }
    /// A query (system object, role query), with its parameters as the id.
    public static func query(_ text: String) -> AuditParticipant {
        .init(idType: .searchCriteria, id: text, typeCode: 2, role: 24)
    }
}

/// One entry of the audit trail, with the fields of a DICOM audit message (PS3.15 A.5.1, A.5.3).
public struct AuditEvent: Sendable, Equatable, Codable {
    /// Row id, assigned when recorded (0 before).
    public var id: Int64
    /// EventDateTime.
    public var time: Date
    /// EventID.
    public var eventID: AuditCode
    /// EventTypeCode, when the event has one.
    public var eventType: AuditCode?
    /// EventActionCode.
    public var action: AuditAction
    /// EventOutcomeIndicator.
    public var outcome: AuditOutcome
    /// ActiveParticipant UserID of the requestor: a username, `ae:TITLE` for a DICOM peer, or empty when anonymous.
    public var user: String
    /// ActiveParticipant NetworkAccessPointID of the requestor.
    public var sourceAddress: String
    /// How the request came: `http`, `dimse`, `cli`.
    public var transport: String
    /// ParticipantObjectIdentification entries.
    public var participants: [AuditParticipant]
    /// A short free-text description (EventOutcomeDescription); never patient names.
    public var detail: String

    public init(
        id: Int64 = 0, time: Date = Date(), eventID: AuditCode, eventType: AuditCode? = nil, action: AuditAction,
        outcome: AuditOutcome = .success, user: String, sourceAddress: String = "", transport: String = "http",
        participants: [AuditParticipant] = [], detail: String = ""
    ) {
        self.id = id
        self.time = time
        self.eventID = eventID
        self.eventType = eventType
        self.action = action
        self.outcome = outcome
        self.user = user
        self.sourceAddress = sourceAddress
        self.transport = transport
        self.participants = participants
        self.detail = detail
    }
}

/// A search of the audit trail; nil fields do not restrict.
public struct AuditSearch: Sendable, Equatable {
    public var from: Date?
    public var to: Date?
    public var user: String?
    public var eventCode: String?
    public var outcome: AuditOutcome?
    /// A participant object id, e.g. a Study Instance UID.
    public var participant: String?
    public var limit: Int = 1000
    public var offset: Int = 0

    public init(
        from: Date? = nil, to: Date? = nil, user: String? = nil, eventCode: String? = nil, outcome: AuditOutcome? = nil,
        participant: String? = nil, limit: Int = 1000, offset: Int = 0
    ) {
        self.from = from
        self.to = to
        self.user = user
        self.eventCode = eventCode
        self.outcome = outcome
        self.participant = participant
        self.limit = limit
        self.offset = offset
    }
}
