/// Atrium's implementation class UID and version name, sent in every association (PS3.7 D.3.3.2).
public enum AtriumImplementation {
    /// Implementation class UID (52H).
    public static let classUID = "2.25.35174718519883127394764202484731691245"
    /// Implementation version name (55H), at most 16 characters.
    public static let versionName = "ATRIUM_0_1"
}

/// The verification SOP class, always useful to accept (PS3.4 A.4).
public let verificationSOPClassUID = "1.2.840.10008.1.1"

/// Decides whether a user identity presented in an A-ASSOCIATE-RQ is accepted (PS3.7 D.3.3.7).
public protocol UserIdentityAuthenticator: Sendable {
    /// Checks `identity` offered by `callingAETitle`.
    func authenticate(_ identity: UserIdentityRQ, callingAETitle: String) async -> UserIdentityDecision
}

/// An authenticator's answer (PS3.7 D.3.3.7.2).
public enum UserIdentityDecision: Hashable, Sendable {
    /// Accept; `serverResponse` is sent in 59H when a positive response was requested (empty for username types).
    case accept(serverResponse: [UInt8])
    /// Reject the association.
    case reject
}

/// How the acceptor answers SCP/SCU role selection proposals (PS3.7 D.3.3.4).
public enum RoleSelectionRule: Sendable {
    /// Accept the roles as proposed.
    case acceptProposed
    /// Answer with the default roles only (requestor SCU, acceptor SCP).
    case defaultRolesOnly
    /// Accept only for these SOP classes, default roles for the others.
    case acceptProposedFor(sopClasses: Set<String>)
}

/// The acceptor's negotiation policy (PS3.8 7.1.1, PS3.7 Annex D).
public struct AcceptorPolicy: Sendable {
    /// This application entity's title.
    public var aeTitle: String
    /// Reject requests whose called AE title differs from `aeTitle`.
    public var checksCalledAETitle: Bool
    /// If set, reject requests from calling AE titles not in it.
    public var knownCallingAETitles: Set<String>?
    /// Abstract syntaxes (SOP classes) accepted.
    public var acceptedAbstractSyntaxes: Set<String>
    /// Transfer syntaxes accepted, most preferred first; the first one the requestor proposed wins.
    public var transferSyntaxPreference: [String]
    /// Overrides of `transferSyntaxPreference` for some abstract syntaxes.
    public var transferSyntaxPreferenceByAbstractSyntax: [String: [String]]
    /// Checks user identities; nil ignores them (PS3.7 D.3.3.7 allows acceptors not to support them).
    public var authenticator: (any UserIdentityAuthenticator)?
    /// Reject requests that present no user identity, or one the authenticator rejects.
    public var requiresUserIdentity: Bool
    /// Syntaxes accepted whenever the requestor proposes them first, ahead of `transferSyntaxPreference` (compressed
    /// syntaxes, so that compressed instances are stored as they were sent).
    public var acceptedAsSent: Set<String> = []
    /// Role selection answers.
    public var roleSelection: RoleSelectionRule
    /// The largest P-DATA-TF variable field this end receives, sent in 51H (PS3.8 D.1).
    public var maximumPDULength: UInt32

    /// Creates a policy.
    public init(
        aeTitle: String, checksCalledAETitle: Bool = false, knownCallingAETitles: Set<String>? = nil,
        acceptedAbstractSyntaxes: Set<String>,
        transferSyntaxPreference: [String] = [explicitVRLittleEndianUID, implicitVRLittleEndianUID],
        transferSyntaxPreferenceByAbstractSyntax: [String: [String]] = [:], authenticator: (any UserIdentityAuthenticator)? = nil,
        requiresUserIdentity: Bool = false, roleSelection: RoleSelectionRule = .acceptProposed, maximumPDULength: UInt32 = 65_536
    ) {
        self.aeTitle = aeTitle
        self.checksCalledAETitle = checksCalledAETitle
        self.knownCallingAETitles = knownCallingAETitles
        self.acceptedAbstractSyntaxes = acceptedAbstractSyntaxes
        self.transferSyntaxPreference = transferSyntaxPreference
        self.transferSyntaxPreferenceByAbstractSyntax = transferSyntaxPreferenceByAbstractSyntax
        self.authenticator = authenticator
        self.requiresUserIdentity = requiresUserIdentity
        self.roleSelection = roleSelection
        self.maximumPDULength = maximumPDULength
    }
}

/// Implicit VR Little Endian, the default transfer syntax (PS3.5 10.1).
public let implicitVRLittleEndianUID = "1.2.840.10008.1.2"
/// Explicit VR Little Endian (PS3.5 A.2).
public let explicitVRLittleEndianUID = "1.2.840.10008.1.2.1"

/// A presentation context both ends agreed on (PS3.8 7.1.1.13).
public struct AcceptedPresentationContext: Hashable, Sendable {
    /// Presentation context ID.
    public var id: UInt8
    /// Abstract syntax (SOP class UID).
    public var abstractSyntax: String
    /// The single transfer syntax in use.
    public var transferSyntax: String
    /// Whether the requestor may act as SCU for this SOP class (PS3.7 D.3.3.4).
    public var requestorIsSCU: Bool
    /// Whether the requestor may act as SCP for this SOP class (PS3.7 D.3.3.4).
    public var requestorIsSCP: Bool
}

/// What an established association agreed (PS3.8 7.1.1).
public struct NegotiatedAssociation: Hashable, Sendable {
    /// The requestor's AE title.
    public var callingAETitle: String
    /// The acceptor's AE title as called.
    public var calledAETitle: String
    /// Accepted contexts by ID.
    public var acceptedContexts: [UInt8: AcceptedPresentationContext]
    /// The largest P-DATA-TF variable field the peer receives; 0 means unlimited (PS3.8 D.1).
    public var peerMaximumPDULength: UInt32
    /// The largest P-DATA-TF variable field this end receives.
    public var localMaximumPDULength: UInt32
    /// The peer's implementation class UID.
    public var peerImplementationClassUID: String?
    /// The peer's implementation version name.
    public var peerImplementationVersionName: String?
    /// The authenticated username, when a user identity of type 1 or 2 was accepted (never the passcode).
    public var username: String?

    /// The accepted context for `abstractSyntax`, preferring the lowest ID.
    public func context(for abstractSyntax: String) -> AcceptedPresentationContext? {
        acceptedContexts.values.filter { $0.abstractSyntax == abstractSyntax }.min { $0.id < $1.id }
    }
}

/// The acceptor's answer to an A-ASSOCIATE-RQ (PS3.8 7.1.1.7).
public enum NegotiationOutcome: Hashable, Sendable {
    /// Send this A-ASSOCIATE-AC; the association will be as described.
    case accept(AAssociateAC, NegotiatedAssociation)
    /// Send this A-ASSOCIATE-RJ.
    case reject(AAssociateRJ)
}

/// Pure association negotiation for both ends (PS3.8 7.1, PS3.7 Annex D).
public enum AssociationNegotiator {
    /// Answers `request` under `policy`: an A-ASSOCIATE-AC with per-context results, or an A-ASSOCIATE-RJ.
    public static func negotiate(_ request: AAssociateRQ, policy: AcceptorPolicy) async -> NegotiationOutcome {
        let userRejection = { (reason: AAssociateRJ.Reason) in
            NegotiationOutcome.reject(AAssociateRJ(result: .rejectedPermanent, source: .serviceUser, reason: reason))
        }
        guard request.applicationContextName == dicomApplicationContextName else {
            return userRejection(.applicationContextNameNotSupported)
        }
        if policy.checksCalledAETitle, request.calledAETitle != policy.aeTitle {
            return userRejection(.calledAETitleNotRecognized)
        }
        if let known = policy.knownCallingAETitles, !known.contains(request.callingAETitle) {
            return userRejection(.callingAETitleNotRecognized)
        }

        var identityResponse: UserIdentityAC?
        var username: String?
        if let identity = request.userInformation.userIdentity, let authenticator = policy.authenticator {
            switch await authenticator.authenticate(identity, callingAETitle: request.callingAETitle) {
            case .accept(let serverResponse):
                if identity.positiveResponseRequested { identityResponse = UserIdentityAC(serverResponse: serverResponse) }
                switch identity.identity {
                case .username(let name), .usernameAndPasscode(let name, _): username = name
                default: break
                }
            case .reject:
                return userRejection(.noReasonGiven)
            }
        } else if policy.requiresUserIdentity {
            return userRejection(.noReasonGiven)
        }

        let proposedRoles = Dictionary(
            request.userInformation.roleSelections.map { ($0.sopClassUID, $0) }, uniquingKeysWith: { first, _ in first })
        var answeredRoles: [String: RoleSelection] = [:]
        var seenIDs: Set<UInt8> = []
        var results: [PresentationContextResult] = []
        var accepted: [UInt8: AcceptedPresentationContext] = [:]
        for context in request.presentationContexts {
            let fallbackSyntax = context.transferSyntaxes.first
            // Even or repeated IDs break PS3.8 9.3.2.2; reject that context alone rather than the association.
            guard context.id % 2 == 1, seenIDs.insert(context.id).inserted else {
                results.append(PresentationContextResult(id: context.id, result: .noReason, transferSyntax: fallbackSyntax))
                continue
            }
            guard policy.acceptedAbstractSyntaxes.contains(context.abstractSyntax) else {
                results.append(
                    PresentationContextResult(id: context.id, result: .abstractSyntaxNotSupported, transferSyntax: fallbackSyntax))
                continue
            }
            let preference = policy.transferSyntaxPreferenceByAbstractSyntax[context.abstractSyntax] ?? policy.transferSyntaxPreference
            // A syntax accepted as sent wins when the requestor lists it first: the data is already in it.
            let asSent = context.transferSyntaxes.first.flatMap { policy.acceptedAsSent.contains($0) ? $0 : nil }
            guard let chosen = asSent ?? preference.first(where: context.transferSyntaxes.contains) else {
                results.append(
                    PresentationContextResult(id: context.id, result: .transferSyntaxesNotSupported, transferSyntax: fallbackSyntax))
                continue
            }
            results.append(PresentationContextResult(id: context.id, result: .acceptance, transferSyntax: chosen))
            var requestorIsSCU = true
            var requestorIsSCP = false
            if let proposal = proposedRoles[context.abstractSyntax] {
                let answer = answerRole(proposal, rule: policy.roleSelection)
                answeredRoles[context.abstractSyntax] = answer
                requestorIsSCU = answer.scuRole
                requestorIsSCP = answer.scpRole
            }
            accepted[context.id] = AcceptedPresentationContext(
                id: context.id, abstractSyntax: context.abstractSyntax, transferSyntax: chosen, requestorIsSCU: requestorIsSCU,
                requestorIsSCP: requestorIsSCP)
        }

        let roleAnswers = request.userInformation.roleSelections.compactMap { answeredRoles[$0.sopClassUID] }
        var seenRoleClasses: Set<String> = []
        let information = UserInformation(
            maximumLength: policy.maximumPDULength, implementationClassUID: AtriumImplementation.classUID,
            implementationVersionName: AtriumImplementation.versionName,
            // Atrium performs one operation at a time (PS3.7 D.3.3.3).
            asynchronousOperationsWindow: request.userInformation.asynchronousOperationsWindow.map { _ in
                AsynchronousOperationsWindow(maximumNumberOperationsInvoked: 1, maximumNumberOperationsPerformed: 1)
            },
            roleSelections: roleAnswers.filter { seenRoleClasses.insert($0.sopClassUID).inserted },
            userIdentityResponse: identityResponse)
        let ac = AAssociateAC(
            protocolVersion: 1, calledAETitle: request.calledAETitle, callingAETitle: request.callingAETitle,
            presentationContexts: results, userInformation: information)
        let association = NegotiatedAssociation(
            callingAETitle: request.callingAETitle, calledAETitle: request.calledAETitle, acceptedContexts: accepted,
            peerMaximumPDULength: request.userInformation.maximumLength ?? 0, localMaximumPDULength: policy.maximumPDULength,
            peerImplementationClassUID: request.userInformation.implementationClassUID,
            peerImplementationVersionName: request.userInformation.implementationVersionName, username: username)
        return .accept(ac, association)
    }

    private static func answerRole(_ proposal: RoleSelection, rule: RoleSelectionRule) -> RoleSelection {
        switch rule {
        case .acceptProposed:
            return proposal
        case .defaultRolesOnly:
            return RoleSelection(sopClassUID: proposal.sopClassUID, scuRole: true, scpRole: false)
        case .acceptProposedFor(let classes):
            return classes.contains(proposal.sopClassUID)
                ? proposal : RoleSelection(sopClassUID: proposal.sopClassUID, scuRole: true, scpRole: false)
        }
    }
}

/// A presentation context the requestor wants (PS3.8 7.1.1.13).
public struct ProposedPresentationContext: Hashable, Sendable {
    /// Abstract syntax (SOP class UID).
    public var abstractSyntax: String
    /// Transfer syntaxes, most preferred first.
    public var transferSyntaxes: [String]

    /// Creates a proposal.
    public init(abstractSyntax: String, transferSyntaxes: [String] = [explicitVRLittleEndianUID, implicitVRLittleEndianUID]) {
        self.abstractSyntax = abstractSyntax
        self.transferSyntaxes = transferSyntaxes
    }
}

/// Everything the requestor proposes (PS3.8 7.1.1).
public struct AssociationProposal: Hashable, Sendable {
    /// This application entity's title.
    public var callingAETitle: String
    /// The peer's title.
    public var calledAETitle: String
    /// Wanted contexts; IDs 1, 3, 5… are assigned in this order.
    public var contexts: [ProposedPresentationContext]
    /// SCP/SCU role proposals (for example SCP role for storage classes under C-GET).
    public var roleSelections: [RoleSelection]
    /// User identity to present.
    public var userIdentity: UserIdentityRQ?
    /// The largest P-DATA-TF variable field this end receives.
    public var maximumPDULength: UInt32

    /// Creates a proposal.
    public init(
        callingAETitle: String, calledAETitle: String, contexts: [ProposedPresentationContext], roleSelections: [RoleSelection] = [],
        userIdentity: UserIdentityRQ? = nil, maximumPDULength: UInt32 = 65_536
    ) {
        self.callingAETitle = callingAETitle
        self.calledAETitle = calledAETitle
        self.contexts = contexts
        self.roleSelections = roleSelections
        self.userIdentity = userIdentity
        self.maximumPDULength = maximumPDULength
    }

    /// The A-ASSOCIATE-RQ for this proposal; at most 128 contexts fit the odd IDs 1–255 (PS3.8 9.3.2.2).
    public func makeRequest() throws(AssociationError) -> AAssociateRQ {
        guard !contexts.isEmpty, contexts.count <= 128 else { throw .invalidProposal("propose between 1 and 128 presentation contexts") }
        for title in [callingAETitle, calledAETitle] {
            guard !title.isEmpty, title.utf8.count <= 16, title.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x5C }) else {
                throw .invalidProposal("AE title \"\(title)\" is not 1–16 characters of the default repertoire")
            }
        }
        let items = contexts.enumerated().map { index, context in
            PresentationContext(
                id: UInt8(2 * index + 1), abstractSyntax: context.abstractSyntax, transferSyntaxes: context.transferSyntaxes)
        }
        return AAssociateRQ(
            calledAETitle: calledAETitle, callingAETitle: callingAETitle, presentationContexts: items,
            userInformation: UserInformation(
                maximumLength: maximumPDULength, implementationClassUID: AtriumImplementation.classUID,
                implementationVersionName: AtriumImplementation.versionName, roleSelections: roleSelections, userIdentity: userIdentity))
    }

    /// Checks `ac` against `request` and describes the agreed association (PS3.8 9.3.3, PS3.7 D.3.3.4).
    public static func interpret(_ ac: AAssociateAC, request: AAssociateRQ) throws(AssociationError) -> NegotiatedAssociation {
        let proposed = Dictionary(request.presentationContexts.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let roles = Dictionary(ac.userInformation.roleSelections.map { ($0.sopClassUID, $0) }, uniquingKeysWith: { first, _ in first })
        var accepted: [UInt8: AcceptedPresentationContext] = [:]
        for result in ac.presentationContexts where result.result == .acceptance {
            guard let context = proposed[result.id] else {
                throw .invalidAcceptance("presentation context \(result.id) was not proposed")
            }
            guard let syntax = result.transferSyntax, context.transferSyntaxes.contains(syntax) else {
                throw .invalidAcceptance("presentation context \(result.id) accepted with a transfer syntax that was not proposed")
            }
            let role = roles[context.abstractSyntax]
            accepted[result.id] = AcceptedPresentationContext(
                id: result.id, abstractSyntax: context.abstractSyntax, transferSyntax: syntax, requestorIsSCU: role?.scuRole ?? true,
                requestorIsSCP: role?.scpRole ?? false)
        }
        return NegotiatedAssociation(
            callingAETitle: request.callingAETitle, calledAETitle: request.calledAETitle, acceptedContexts: accepted,
            peerMaximumPDULength: ac.userInformation.maximumLength ?? 0, localMaximumPDULength: request.userInformation.maximumLength ?? 0,
            peerImplementationClassUID: ac.userInformation.implementationClassUID,
            peerImplementationVersionName: ac.userInformation.implementationVersionName, username: nil)
    }
}

/// Why an association could not be used (PS3.8 7.1–7.3).
public enum AssociationError: Error, Hashable, Sendable {
    /// The proposal cannot be sent as it is.
    case invalidProposal(String)
    /// The acceptor answered with an A-ASSOCIATE-AC that contradicts the request.
    case invalidAcceptance(String)
    /// The acceptor rejected the association.
    case rejected(AAssociateRJ)
    /// The peer's user aborted.
    case aborted(AAbort)
    /// The service provider aborted (A-P-ABORT), locally or at the peer, with a reason.
    case providerAborted(AAbort.Reason)
    /// The operation is not allowed in the association's current state.
    case invalidState(String)
    /// The connection closed without release or abort.
    case connectionClosed
    /// The TLS connection could not be set up: handshake refused, certificate not trusted, or the peer does not speak TLS.
    case transportSecurity(String)
}
