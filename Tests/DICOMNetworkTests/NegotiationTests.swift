import NIOCore
import Testing

@testable import DICOMNetwork

private let verification = "1.2.840.10008.1.1"
private let ctImageStorage = "1.2.840.10008.5.1.4.1.1.2"
private let mrImageStorage = "1.2.840.10008.5.1.4.1.1.4"
private let implicitLE = "1.2.840.10008.1.2"
private let explicitLE = "1.2.840.10008.1.2.1"
private let jpegBaseline = "1.2.840.10008.1.2.4.50"

private struct PasswordAuthenticator: UserIdentityAuthenticator {
    func authenticate(_ identity: UserIdentityRQ, callingAETitle: String) async -> UserIdentityDecision {
        if case .usernameAndPasscode("alice", "secret") = identity.identity { return .accept(serverResponse: []) }
        return .reject
    }
}

private func request(
    called: String = "ATRIUM", contexts: [PresentationContext], userInformation: UserInformation = UserInformation(maximumLength: 16_384)
) -> AAssociateRQ {
    AAssociateRQ(calledAETitle: called, callingAETitle: "MODALITY", presentationContexts: contexts, userInformation: userInformation)
}

private let policy = AcceptorPolicy(
    aeTitle: "ATRIUM", checksCalledAETitle: true, acceptedAbstractSyntaxes: [verification, ctImageStorage],
    transferSyntaxPreference: [explicitLE, implicitLE], maximumPDULength: 32_768)

@Suite("Association negotiation (PS3.8 7.1, PS3.7 Annex D)")
struct NegotiationTests {
    @Test("Each proposed context gets result 0, 3 or 4 and the preferred transfer syntax the requestor offered")
    func perContextResults() async throws {
        let rq = request(contexts: [
            PresentationContext(id: 1, abstractSyntax: verification, transferSyntaxes: [implicitLE]),
            PresentationContext(id: 3, abstractSyntax: ctImageStorage, transferSyntaxes: [implicitLE, explicitLE]),
            PresentationContext(id: 5, abstractSyntax: mrImageStorage, transferSyntaxes: [implicitLE]),
            PresentationContext(id: 7, abstractSyntax: ctImageStorage, transferSyntaxes: [jpegBaseline]),
        ])
        guard case .accept(let ac, let negotiated) = await AssociationNegotiator.negotiate(rq, policy: policy) else {
            Issue.record("expected acceptance")
            return
        }
        #expect(
            ac.presentationContexts.map(\.result) == [.acceptance, .acceptance, .abstractSyntaxNotSupported, .transferSyntaxesNotSupported])
        #expect(ac.presentationContexts[0].transferSyntax == implicitLE)
        #expect(ac.presentationContexts[1].transferSyntax == explicitLE)
        #expect(ac.userInformation.maximumLength == 32_768)
        #expect(ac.userInformation.implementationClassUID == AtriumImplementation.classUID)
        #expect(ac.userInformation.asynchronousOperationsWindow == nil)
        #expect(Set(negotiated.acceptedContexts.keys) == [1, 3])
        #expect(negotiated.peerMaximumPDULength == 16_384)
        #expect(negotiated.context(for: ctImageStorage)?.transferSyntax == explicitLE)
    }

    @Test("A per-SOP-class preference accepts compressed syntaxes as sent")
    func perClassPreference() async {
        var custom = policy
        custom.transferSyntaxPreferenceByAbstractSyntax[ctImageStorage] = [jpegBaseline, explicitLE]
        let rq = request(contexts: [
            PresentationContext(id: 1, abstractSyntax: ctImageStorage, transferSyntaxes: [implicitLE, jpegBaseline])
        ])
        guard case .accept(let ac, _) = await AssociationNegotiator.negotiate(rq, policy: custom) else {
            Issue.record("expected acceptance")
            return
        }
        #expect(ac.presentationContexts == [PresentationContextResult(id: 1, result: .acceptance, transferSyntax: jpegBaseline)])
    }

    @Test("A wrong called AE title is rejected permanently by the service user with reason 7")
    func calledAETitle() async {
        let rq = request(
            called: "OTHER", contexts: [PresentationContext(id: 1, abstractSyntax: verification, transferSyntaxes: [implicitLE])])
        let outcome = await AssociationNegotiator.negotiate(rq, policy: policy)
        #expect(outcome == .reject(AAssociateRJ(result: .rejectedPermanent, source: .serviceUser, reason: .calledAETitleNotRecognized)))
        #expect(
            hex(
                PDU.associateRJ(AAssociateRJ(result: .rejectedPermanent, source: .serviceUser, reason: .calledAETitleNotRecognized))
                    .encoded()) == "03000000000400010107")
    }

    @Test("An unknown application context name is rejected with reason 2")
    func applicationContext() async {
        var rq = request(contexts: [PresentationContext(id: 1, abstractSyntax: verification, transferSyntaxes: [implicitLE])])
        rq.applicationContextName = "1.2.3"
        #expect(
            await AssociationNegotiator.negotiate(rq, policy: policy)
                == .reject(AAssociateRJ(result: .rejectedPermanent, source: .serviceUser, reason: .applicationContextNameNotSupported)))
    }

    @Test("User identity: a good password is accepted with a 59H response, a bad or missing one is rejected when required")
    func userIdentity() async {
        var secured = policy
        secured.authenticator = PasswordAuthenticator()
        secured.requiresUserIdentity = true
        let contexts = [PresentationContext(id: 1, abstractSyntax: verification, transferSyntaxes: [implicitLE])]
        func identity(_ passcode: String) -> UserInformation {
            UserInformation(
                maximumLength: 0,
                userIdentity: UserIdentityRQ(
                    identity: .usernameAndPasscode(username: "alice", passcode: passcode), positiveResponseRequested: true))
        }
        let good = await AssociationNegotiator.negotiate(request(contexts: contexts, userInformation: identity("secret")), policy: secured)
        guard case .accept(let ac, let negotiated) = good else {
            Issue.record("expected acceptance")
            return
        }
        #expect(ac.userInformation.userIdentityResponse == UserIdentityAC(serverResponse: []))
        #expect(negotiated.username == "alice")
        let rejection = NegotiationOutcome.reject(AAssociateRJ(result: .rejectedPermanent, source: .serviceUser, reason: .noReasonGiven))
        #expect(
            await AssociationNegotiator.negotiate(request(contexts: contexts, userInformation: identity("wrong")), policy: secured)
                == rejection)
        #expect(await AssociationNegotiator.negotiate(request(contexts: contexts), policy: secured) == rejection)
    }

    @Test("The asynchronous operations window is answered with 1/1 and role selection per the rule")
    func windowAndRoles() async {
        let information = UserInformation(
            maximumLength: 0,
            asynchronousOperationsWindow: AsynchronousOperationsWindow(
                maximumNumberOperationsInvoked: 5, maximumNumberOperationsPerformed: 5),
            roleSelections: [RoleSelection(sopClassUID: ctImageStorage, scuRole: false, scpRole: true)])
        let rq = request(
            contexts: [PresentationContext(id: 1, abstractSyntax: ctImageStorage, transferSyntaxes: [implicitLE])],
            userInformation: information)
        guard case .accept(let ac, let negotiated) = await AssociationNegotiator.negotiate(rq, policy: policy) else {
            Issue.record("expected acceptance")
            return
        }
        #expect(
            ac.userInformation.asynchronousOperationsWindow
                == AsynchronousOperationsWindow(maximumNumberOperationsInvoked: 1, maximumNumberOperationsPerformed: 1))
        #expect(ac.userInformation.roleSelections == [RoleSelection(sopClassUID: ctImageStorage, scuRole: false, scpRole: true)])
        #expect(negotiated.acceptedContexts[1]?.requestorIsSCP == true)
        var strict = policy
        strict.roleSelection = .defaultRolesOnly
        guard case .accept(let strictAC, _) = await AssociationNegotiator.negotiate(rq, policy: strict) else {
            Issue.record("expected acceptance")
            return
        }
        #expect(strictAC.userInformation.roleSelections == [RoleSelection(sopClassUID: ctImageStorage, scuRole: true, scpRole: false)])
    }

    @Test("Even or repeated context IDs are rejected with result 2 without rejecting the association")
    func badContextIDs() async {
        let rq = request(contexts: [
            PresentationContext(id: 2, abstractSyntax: verification, transferSyntaxes: [implicitLE]),
            PresentationContext(id: 1, abstractSyntax: verification, transferSyntaxes: [implicitLE]),
            PresentationContext(id: 1, abstractSyntax: verification, transferSyntaxes: [implicitLE]),
        ])
        guard case .accept(let ac, _) = await AssociationNegotiator.negotiate(rq, policy: policy) else {
            Issue.record("expected acceptance")
            return
        }
        #expect(ac.presentationContexts.map(\.result) == [.noReason, .acceptance, .noReason])
    }

    @Test("The requestor numbers contexts 1, 3, 5 and reads the acceptor's answer")
    func requestorSide() throws {
        let proposal = AssociationProposal(
            callingAETitle: "ATRIUM", calledAETitle: "PACS",
            contexts: [
                ProposedPresentationContext(abstractSyntax: verification), ProposedPresentationContext(abstractSyntax: ctImageStorage),
            ],
            roleSelections: [RoleSelection(sopClassUID: ctImageStorage, scuRole: false, scpRole: true)])
        let rq = try proposal.makeRequest()
        #expect(rq.presentationContexts.map(\.id) == [1, 3])
        #expect(rq.presentationContexts[1].transferSyntaxes == [explicitLE, implicitLE])
        let ac = AAssociateAC(
            calledAETitle: "PACS", callingAETitle: "ATRIUM",
            presentationContexts: [
                PresentationContextResult(id: 1, result: .acceptance, transferSyntax: implicitLE),
                PresentationContextResult(id: 3, result: .abstractSyntaxNotSupported, transferSyntax: nil),
            ],
            userInformation: UserInformation(maximumLength: 8_192))
        let negotiated = try AssociationProposal.interpret(ac, request: rq)
        #expect(negotiated.acceptedContexts.keys.sorted() == [1])
        #expect(negotiated.peerMaximumPDULength == 8_192)
        var bad = ac
        bad.presentationContexts[0].transferSyntax = jpegBaseline
        #expect(throws: AssociationError.self) { try AssociationProposal.interpret(bad, request: rq) }
        var tooMany = proposal
        tooMany.contexts = Array(repeating: ProposedPresentationContext(abstractSyntax: verification), count: 129)
        #expect(throws: AssociationError.self) { try tooMany.makeRequest() }
        var badTitle = proposal
        badTitle.calledAETitle = "SEVENTEEN-CHARS-X"
        #expect(throws: AssociationError.self) { try badTitle.makeRequest() }
    }
}
