import NIOCore
import Testing

@testable import DICOMNetwork

private typealias Machine = AssociationStateMachine
private typealias State = AssociationStateMachine.State
private typealias Event = AssociationStateMachine.Event

private let rq = AAssociateRQ(
    calledAETitle: "SCP", callingAETitle: "SCU",
    presentationContexts: [PresentationContext(id: 1, abstractSyntax: "1.2.840.10008.1.1", transferSyntaxes: ["1.2.840.10008.1.2"])],
    userInformation: UserInformation(maximumLength: 16_384))
private let ac = AAssociateAC(
    calledAETitle: "SCP", callingAETitle: "SCU",
    presentationContexts: [PresentationContextResult(id: 1, result: .acceptance, transferSyntax: "1.2.840.10008.1.2")],
    userInformation: UserInformation(maximumLength: 16_384))
private let rj = AAssociateRJ(result: .rejectedPermanent, source: .serviceUser, reason: .calledAETitleNotRecognized)
private let data = PDataTF(values: [
    PresentationDataValue(presentationContextID: 1, isCommand: true, isLastFragment: true, data: ByteBuffer(bytes: [1, 2]))
])
private let userAbort = AAbort(source: .serviceUser)
private let invalid = UpperLayerError.malformedPDU(pduType: 4, offset: 6, reason: "test")

/// The events that bring a fresh machine to each state, for both roles where the state exists for both.
private func machine(in state: State, role: Machine.Role = .requestor) -> Machine {
    var machine = Machine()
    let requestorPrefix: [Event] = [.associateRequest(rq), .transportConnectConfirm, .pduReceived(.associateAC(ac))]
    let acceptorPrefix: [Event] = [.transportConnectIndication, .pduReceived(.associateRQ(rq)), .associateResponseAccept(ac)]
    let established = role == .requestor ? requestorPrefix : acceptorPrefix
    let path: [Event]
    switch state {
    case .sta1: path = []
    case .sta2: path = [.transportConnectIndication]
    case .sta3: path = [.transportConnectIndication, .pduReceived(.associateRQ(rq))]
    case .sta4: path = [.associateRequest(rq)]
    case .sta5: path = [.associateRequest(rq), .transportConnectConfirm]
    case .sta6: path = established
    case .sta7: path = established + [.releaseRequest]
    case .sta8: path = established + [.pduReceived(.releaseRQ)]
    case .sta9: path = requestorPrefix + [.releaseRequest, .pduReceived(.releaseRQ)]
    case .sta10: path = acceptorPrefix + [.releaseRequest, .pduReceived(.releaseRQ)]
    case .sta11: path = requestorPrefix + [.releaseRequest, .pduReceived(.releaseRQ), .releaseResponse]
    case .sta12: path = acceptorPrefix + [.releaseRequest, .pduReceived(.releaseRQ), .pduReceived(.releaseRP)]
    case .sta13: path = [.transportConnectIndication, .pduReceived(.associateRQ(rq)), .associateResponseReject(rj)]
    }
    for event in path { _ = machine.handle(event) }
    return machine
}

/// Names the Table 9-6…9-9 action that `actions` and the next state amount to, ARTIM stops aside.
private func actionName(from before: State, _ actions: [Machine.Action], to after: State) -> String {
    let steps = actions.filter { $0 != .stopARTIMTimer }.map(\.kind)
    switch (steps, after) {
    case (["openTransportConnection"], .sta4): return "AE-1"
    case (["send associateRQ"], .sta5): return "AE-2"
    case (["associateConfirmAccepted"], .sta6): return "AE-3"
    case (["associateConfirmRejected", "closeTransportConnection"], .sta1): return "AE-4"
    case (["startARTIMTimer"], .sta2): return "AE-5"
    case (["associateIndication"], .sta3): return "AE-6"
    case (["send associateAC"], .sta6): return "AE-7"
    case (["send associateRJ", "startARTIMTimer"], .sta13): return before == .sta2 ? "AE-6" : "AE-8"
    case (["send dataTF"], .sta6): return "DT-1"
    case (["pDataIndication"], .sta6): return "DT-2"
    case (["send releaseRQ"], .sta7): return "AR-1"
    case (["releaseIndication false"], .sta8): return "AR-2"
    case (["releaseConfirm", "closeTransportConnection"], .sta1): return "AR-3"
    case (["send releaseRP", "startARTIMTimer"], .sta13): return "AR-4"
    case ([], .sta1): return before == .sta13 ? "AR-5" : "AA-5"
    case (["pDataIndication"], .sta7): return "AR-6"
    case (["send dataTF"], .sta8): return "AR-7"
    case (["releaseIndication true"], .sta9), (["releaseIndication true"], .sta10): return "AR-8"
    case (["send releaseRP"], .sta11): return "AR-9"
    case (["releaseConfirm"], .sta12): return "AR-10"
    case (["send abort", "startARTIMTimer"], .sta13): return "AA-1"
    case (["closeTransportConnection"], .sta1): return "AA-2"
    case (["abortIndication", "closeTransportConnection"], .sta1), (["providerAbortIndication", "closeTransportConnection"], .sta1):
        return "AA-3"
    case (["providerAbortIndication"], .sta1): return "AA-4"
    case ([], .sta13): return "AA-6"
    case (["send abort"], .sta13): return "AA-7"
    case (["send abort", "providerAbortIndication", "startARTIMTimer"], .sta13): return "AA-8"
    case (["rejectLocalRequest"], before): return "-"
    default: return "unexpected \(steps) → \(after)"
    }
}

extension AssociationStateMachine.Action {
    /// The action's case name, with the PDU type for sends and the collision flag for release indications.
    fileprivate var kind: String {
        switch self {
        case .send(let pdu): return "send \(pdu.pduType)"
        case .releaseIndication(let collision): return "releaseIndication \(collision)"
        default: return String(String(describing: self).prefix { $0 != "(" })
        }
    }
}

/// PS3.8 Table 9-10, copied from the standard: for each event, the action in states Sta1…Sta13 ("-" for an empty cell).
private let table: [(name: String, event: Event, cells: [String])] = [
    ("Evt1", .associateRequest(rq), ["AE-1", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"]),
    ("Evt2", .transportConnectConfirm, ["-", "-", "-", "AE-2", "-", "-", "-", "-", "-", "-", "-", "-", "-"]),
    (
        "Evt3", .pduReceived(.associateAC(ac)),
        ["-", "AA-1", "AA-8", "-", "AE-3", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-6"]
    ),
    (
        "Evt4", .pduReceived(.associateRJ(rj)),
        ["-", "AA-1", "AA-8", "-", "AE-4", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-6"]
    ),
    ("Evt5", .transportConnectIndication, ["AE-5", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"]),
    (
        "Evt6", .pduReceived(.associateRQ(rq)),
        ["-", "AE-6", "AA-8", "-", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-7"]
    ),
    ("Evt7", .associateResponseAccept(ac), ["-", "-", "AE-7", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"]),
    ("Evt8", .associateResponseReject(rj), ["-", "-", "AE-8", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"]),
    ("Evt9", .pDataRequest(data), ["-", "-", "-", "-", "-", "DT-1", "-", "AR-7", "-", "-", "-", "-", "-"]),
    (
        "Evt10", .pduReceived(.dataTF(data)),
        ["-", "AA-1", "AA-8", "-", "AA-8", "DT-2", "AR-6", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-6"]
    ),
    ("Evt11", .releaseRequest, ["-", "-", "-", "-", "-", "AR-1", "-", "-", "-", "-", "-", "-", "-"]),
    (
        "Evt12", .pduReceived(.releaseRQ),
        ["-", "AA-1", "AA-8", "-", "AA-8", "AR-2", "AR-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-6"]
    ),
    (
        "Evt13", .pduReceived(.releaseRP),
        ["-", "AA-1", "AA-8", "-", "AA-8", "AA-8", "AR-3", "AA-8", "AA-8", "AR-10", "AR-3", "AA-8", "AA-6"]
    ),
    ("Evt14", .releaseResponse, ["-", "-", "-", "-", "-", "-", "-", "AR-4", "AR-9", "-", "-", "AR-4", "-"]),
    ("Evt15", .abortRequest, ["-", "-", "AA-1", "AA-2", "AA-1", "AA-1", "AA-1", "AA-1", "AA-1", "AA-1", "AA-1", "AA-1", "-"]),
    (
        "Evt16", .pduReceived(.abort(userAbort)),
        ["-", "AA-2", "AA-3", "-", "AA-3", "AA-3", "AA-3", "AA-3", "AA-3", "AA-3", "AA-3", "AA-3", "AA-2"]
    ),
    (
        "Evt17", .transportConnectionClosed,
        ["-", "AA-5", "AA-4", "AA-4", "AA-4", "AA-4", "AA-4", "AA-4", "AA-4", "AA-4", "AA-4", "AA-4", "AR-5"]
    ),
    ("Evt18", .artimTimerExpired, ["-", "AA-2", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "AA-2"]),
    (
        "Evt19", .invalidPDUReceived(invalid),
        ["-", "AA-1", "AA-8", "-", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-8", "AA-7"]
    ),
]

private let allStates: [AssociationStateMachine.State] = (1...13).compactMap { State(rawValue: $0) }

@Suite("Association state machine (PS3.8 Table 9-10)")
struct AssociationStateMachineTests {
    @Test("The fixtures reach every state", arguments: allStates)
    func reachesStates(state: AssociationStateMachine.State) {
        #expect(machine(in: state).state == state)
        #expect(machine(in: state, role: .acceptor).state == state)
    }

    @Test("Every cell of Table 9-10 performs its action, for the requestor and the acceptor", arguments: table.map(\.name))
    func tableRow(name: String) throws {
        let row = try #require(table.first { $0.name == name })
        for state in allStates {
            for role in [Machine.Role.requestor, .acceptor] {
                var subject = machine(in: state, role: role)
                let actions = subject.handle(row.event)
                let expected = row.cells[state.rawValue - 1]
                let got = actionName(from: state, actions, to: subject.state)
                #expect(got == expected, "\(name) in \(state) as \(role): \(actions) → \(subject.state)")
            }
        }
    }

    @Test("A release collision takes the requestor through Sta9 and Sta11 and the acceptor through Sta10 and Sta12")
    func releaseCollision() {
        var requestor = machine(in: .sta6, role: .requestor)
        var acceptor = machine(in: .sta6, role: .acceptor)
        #expect(requestor.handle(.releaseRequest) == [.send(.releaseRQ)])
        #expect(acceptor.handle(.releaseRequest) == [.send(.releaseRQ)])
        #expect(requestor.handle(.pduReceived(.releaseRQ)) == [.releaseIndication(collision: true)])
        #expect(acceptor.handle(.pduReceived(.releaseRQ)) == [.releaseIndication(collision: true)])
        #expect((requestor.state, acceptor.state) == (.sta9, .sta10))
        #expect(requestor.handle(.releaseResponse) == [.send(.releaseRP)])
        #expect(requestor.state == .sta11)
        #expect(acceptor.handle(.pduReceived(.releaseRP)) == [.releaseConfirm])
        #expect(acceptor.state == .sta12)
        #expect(acceptor.handle(.releaseResponse) == [.send(.releaseRP), .startARTIMTimer])
        #expect(requestor.handle(.pduReceived(.releaseRP)) == [.releaseConfirm, .closeTransportConnection])
        #expect(requestor.state == .sta1)
        #expect(acceptor.handle(.transportConnectionClosed) == [.stopARTIMTimer])
        #expect(acceptor.state == .sta1)
    }

    @Test("ARTIM runs while awaiting the A-ASSOCIATE-RQ and stops when it arrives")
    func artimOnAccept() {
        var subject = Machine()
        #expect(subject.handle(.transportConnectIndication) == [.startARTIMTimer])
        #expect(subject.handle(.pduReceived(.associateRQ(rq))) == [.stopARTIMTimer, .associateIndication(rq)])
        #expect(!subject.artimRunning)
    }

    @Test("An invalid PDU while associated sends a provider A-ABORT with reason invalid parameter value")
    func invalidPDUAborts() {
        var subject = machine(in: .sta6)
        let abort = AAbort(source: .serviceProvider, reason: .invalidPDUParameterValue)
        #expect(
            subject.handle(.invalidPDUReceived(invalid)) == [
                .send(.abort(abort)), .providerAbortIndication(.invalidPDUParameterValue), .startARTIMTimer,
            ])
        #expect(subject.handle(.artimTimerExpired) == [.closeTransportConnection])
        #expect(subject.state == .sta1)
    }

    @Test("An unrecognized PDU type aborts with reason unrecognized PDU")
    func unrecognizedPDU() {
        var subject = machine(in: .sta2)
        #expect(
            subject.handle(.invalidPDUReceived(.unrecognizedPDUType(9)))
                == [.stopARTIMTimer, .send(.abort(AAbort(source: .serviceProvider, reason: .unrecognizedPDU))), .startARTIMTimer].filter {
                    $0 != .stopARTIMTimer
                })
    }

    @Test("An A-ASSOCIATE-RQ for another protocol version is rejected by the ACSE provider")
    func protocolVersion() {
        var subject = machine(in: .sta2)
        var other = rq
        other.protocolVersion = 2
        let expected = AAssociateRJ(result: .rejectedPermanent, source: .serviceProviderACSE, reason: .protocolVersionNotSupported)
        #expect(subject.handle(.pduReceived(.associateRQ(other))) == [.stopARTIMTimer, .send(.associateRJ(expected)), .startARTIMTimer])
        #expect(subject.state == .sta13)
    }

    @Test("A peer's A-ABORT from its service provider is reported as an A-P-ABORT")
    func providerAbortFromPeer() {
        var subject = machine(in: .sta6)
        let abort = AAbort(source: .serviceProvider, reason: .unexpectedPDU)
        #expect(subject.handle(.pduReceived(.abort(abort))) == [.providerAbortIndication(.unexpectedPDU), .closeTransportConnection])
    }
}
