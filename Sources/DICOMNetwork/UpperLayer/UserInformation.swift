/// The user information item, type 50H, and its sub-items (PS3.8 9.3.2.3, Annex D.3.3).
public struct UserInformation: Hashable, Sendable {
    /// Maximum length of P-DATA-TF variable fields the sender can receive; 0 means unlimited (sub-item 51H, PS3.8 D.1).
    public var maximumLength: UInt32?
    /// Implementation class UID (sub-item 52H, PS3.7 D.3.3.2).
    public var implementationClassUID: String?
    /// Implementation version name, 1–16 characters (sub-item 55H, PS3.7 D.3.3.2).
    public var implementationVersionName: String?
    /// Asynchronous operations window (sub-item 53H, PS3.7 D.3.3.3).
    public var asynchronousOperationsWindow: AsynchronousOperationsWindow?
    /// SCP/SCU role selections (sub-item 54H, PS3.7 D.3.3.4).
    public var roleSelections: [RoleSelection]
    /// SOP class extended negotiation, kept opaque (sub-item 56H, PS3.7 D.3.3.5).
    public var sopClassExtendedNegotiations: [SOPClassExtendedNegotiation]
    /// SOP class common extended negotiation, kept as the raw item value (sub-item 57H, PS3.7 D.3.3.6).
    public var sopClassCommonExtendedNegotiations: [[UInt8]]
    /// User identity negotiation request (sub-item 58H, PS3.7 D.3.3.7.1).
    public var userIdentity: UserIdentityRQ?
    /// User identity negotiation response (sub-item 59H, PS3.7 D.3.3.7.2).
    public var userIdentityResponse: UserIdentityAC?
    /// Sub-items with types this implementation does not know, kept in order.
    public var unknownItems: [UnknownItem]

    /// Creates user information.
    public init(
        maximumLength: UInt32? = nil, implementationClassUID: String? = nil, implementationVersionName: String? = nil,
        asynchronousOperationsWindow: AsynchronousOperationsWindow? = nil, roleSelections: [RoleSelection] = [],
        sopClassExtendedNegotiations: [SOPClassExtendedNegotiation] = [], sopClassCommonExtendedNegotiations: [[UInt8]] = [],
        userIdentity: UserIdentityRQ? = nil, userIdentityResponse: UserIdentityAC? = nil, unknownItems: [UnknownItem] = []
    ) {
        self.maximumLength = maximumLength
        self.implementationClassUID = implementationClassUID
        self.implementationVersionName = implementationVersionName
        self.asynchronousOperationsWindow = asynchronousOperationsWindow
        self.roleSelections = roleSelections
        self.sopClassExtendedNegotiations = sopClassExtendedNegotiations
        self.sopClassCommonExtendedNegotiations = sopClassCommonExtendedNegotiations
        self.userIdentity = userIdentity
        self.userIdentityResponse = userIdentityResponse
        self.unknownItems = unknownItems
    }
}

/// Asynchronous operations window sub-item, 53H (PS3.7 D.3.3.3).
public struct AsynchronousOperationsWindow: Hashable, Sendable {
    /// Maximum number of operations invoked; 0 means unlimited.
    public var maximumNumberOperationsInvoked: UInt16
    /// Maximum number of operations performed; 0 means unlimited.
    public var maximumNumberOperationsPerformed: UInt16

    /// Creates a window.
    public init(maximumNumberOperationsInvoked: UInt16, maximumNumberOperationsPerformed: UInt16) {
        self.maximumNumberOperationsInvoked = maximumNumberOperationsInvoked
        self.maximumNumberOperationsPerformed = maximumNumberOperationsPerformed
    }
}

/// SCP/SCU role selection sub-item, 54H (PS3.7 D.3.3.4).
public struct RoleSelection: Hashable, Sendable {
    /// The SOP class UID the roles apply to.
    public var sopClassUID: String
    /// SCU role: proposed (RQ) or accepted (AC).
    public var scuRole: Bool
    /// SCP role: proposed (RQ) or accepted (AC).
    public var scpRole: Bool

    /// Creates a role selection.
    public init(sopClassUID: String, scuRole: Bool, scpRole: Bool) {
        self.sopClassUID = sopClassUID
        self.scuRole = scuRole
        self.scpRole = scpRole
    }
}

/// SOP class extended negotiation sub-item, 56H, with its service-class application information kept opaque (PS3.7 D.3.3.5).
public struct SOPClassExtendedNegotiation: Hashable, Sendable {
    /// The SOP class UID.
    public var sopClassUID: String
    /// Service-class application information bytes.
    public var serviceClassApplicationInformation: [UInt8]

    /// Creates the item.
    public init(sopClassUID: String, serviceClassApplicationInformation: [UInt8]) {
        self.sopClassUID = sopClassUID
        self.serviceClassApplicationInformation = serviceClassApplicationInformation
    }
}

/// User identity negotiation request, sub-item 58H (PS3.7 D.3.3.7.1).
public struct UserIdentityRQ: Hashable, Sendable {
    /// The identity and its credentials by user-identity-type (PS3.7 Table D.3-14).
    public enum Identity: Hashable, Sendable {
        /// Type 1: username (UTF-8).
        case username(String)
        /// Type 2: username and passcode (UTF-8).
        case usernameAndPasscode(username: String, passcode: String)
        /// Type 3: Kerberos service ticket.
        case kerberos([UInt8])
        /// Type 4: SAML assertion.
        case saml([UInt8])
        /// Type 5: JSON Web Token.
        case jwt([UInt8])
        /// A type this implementation does not know, kept as sent.
        case other(type: UInt8, primaryField: [UInt8], secondaryField: [UInt8])
    }

    /// The identity and its credentials.
    public var identity: Identity
    /// Whether the requestor asks for a 59H response on acceptance.
    public var positiveResponseRequested: Bool

    /// Creates a user identity request.
    public init(identity: Identity, positiveResponseRequested: Bool) {
        self.identity = identity
        self.positiveResponseRequested = positiveResponseRequested
    }
}

/// User identity negotiation response, sub-item 59H (PS3.7 D.3.3.7.2).
public struct UserIdentityAC: Hashable, Sendable {
    /// Server response: empty for username types, the Kerberos server ticket, SAML response or JWT otherwise.
    public var serverResponse: [UInt8]

    /// Creates a user identity response.
    public init(serverResponse: [UInt8]) { self.serverResponse = serverResponse }
}

/// A user information sub-item of an unknown type, kept as sent (PS3.8 D.3.3).
public struct UnknownItem: Hashable, Sendable {
    /// The item type byte.
    public var itemType: UInt8
    /// The item value.
    public var value: [UInt8]

    /// Creates the item.
    public init(itemType: UInt8, value: [UInt8]) {
        self.itemType = itemType
        self.value = value
    }
}
