/// The DICOM upper layer state machine of PS3.8 Table 9-10, as a pure value: events in, actions out (PS3.8 9.2).
///
/// The ARTIM timer appears as `startARTIMTimer`/`stopARTIMTimer` actions; the owner feeds `artimTimerExpired` back.
public struct AssociationStateMachine: Sendable {
    /// The states Sta1–Sta13 (PS3.8 Table 9-1).
    public enum State: Int, Hashable, Sendable {
        /// Idle.
        case sta1 = 1
        /// Transport connection open, awaiting A-ASSOCIATE-RQ PDU.
        case sta2
        /// Awaiting local A-ASSOCIATE response primitive.
        case sta3
        /// Awaiting transport connection opening to complete.
        case sta4
        /// Awaiting A-ASSOCIATE-AC or A-ASSOCIATE-RJ PDU.
        case sta5
        /// Association established and ready for data transfer.
        case sta6
        /// Awaiting A-RELEASE-RP PDU.
        case sta7
        /// Awaiting local A-RELEASE response primitive.
        case sta8
        /// Release collision, requestor side: awaiting A-RELEASE response primitive.
        case sta9
        /// Release collision, acceptor side: awaiting A-RELEASE-RP PDU.
        case sta10
        /// Release collision, requestor side: awaiting A-RELEASE-RP PDU.
        case sta11
        /// Release collision, acceptor side: awaiting A-RELEASE response primitive.
        case sta12
        /// Awaiting transport connection close indication; the association no longer exists.
        case sta13
    }

    /// The events Evt1–Evt19 (PS3.8 Table 9-2).
    public enum Event: Hashable, Sendable {
        /// Evt1: A-ASSOCIATE request primitive from the local user.
        case associateRequest(AAssociateRQ)
        /// Evt2: transport connection confirmation.
        case transportConnectConfirm
        /// Evt3, Evt4, Evt6, Evt10, Evt12, Evt13 or Evt16: a valid PDU arrived.
        case pduReceived(PDU)
        /// Evt5: transport connection indication (a peer connected).
        case transportConnectIndication
        /// Evt7: A-ASSOCIATE response primitive, accept.
        case associateResponseAccept(AAssociateAC)
        /// Evt8: A-ASSOCIATE response primitive, reject.
        case associateResponseReject(AAssociateRJ)
        /// Evt9: P-DATA request primitive.
        case pDataRequest(PDataTF)
        /// Evt11: A-RELEASE request primitive.
        case releaseRequest
        /// Evt14: A-RELEASE response primitive.
        case releaseResponse
        /// Evt15: A-ABORT request primitive.
        case abortRequest
        /// Evt17: transport connection closed indication.
        case transportConnectionClosed
        /// Evt18: ARTIM timer expired.
        case artimTimerExpired
        /// Evt19: unrecognized or invalid PDU received.
        case invalidPDUReceived(UpperLayerError)

        /// The event number of PS3.8 Table 9-2.
        public var number: Int {
            switch self {
            case .associateRequest: return 1
            case .transportConnectConfirm: return 2
            case .pduReceived(let pdu):
                switch pdu {
                case .associateAC: return 3
                case .associateRJ: return 4
                case .associateRQ: return 6
                case .dataTF: return 10
                case .releaseRQ: return 12
                case .releaseRP: return 13
                case .abort: return 16
                }
            case .transportConnectIndication: return 5
            case .associateResponseAccept: return 7
            case .associateResponseReject: return 8
            case .pDataRequest: return 9
            case .releaseRequest: return 11
            case .releaseResponse: return 14
            case .abortRequest: return 15
            case .transportConnectionClosed: return 17
            case .artimTimerExpired: return 18
            case .invalidPDUReceived: return 19
            }
        }
    }

    /// What the owner must do, in order (the actions of PS3.8 Table 9-6 to 9-9, split into their steps).
    public enum Action: Hashable, Sendable {
        /// AE-1: issue a TRANSPORT CONNECT request.
        case openTransportConnection
        /// Send a PDU to the peer.
        case send(PDU)
        /// Start, or restart, the ARTIM timer.
        case startARTIMTimer
        /// Stop the ARTIM timer.
        case stopARTIMTimer
        /// Close the transport connection.
        case closeTransportConnection
        /// AE-3: A-ASSOCIATE confirmation, accepted.
        case associateConfirmAccepted(AAssociateAC)
        /// AE-4: A-ASSOCIATE confirmation, rejected.
        case associateConfirmRejected(AAssociateRJ)
        /// AE-6: A-ASSOCIATE indication; the local user answers with Evt7 or Evt8.
        case associateIndication(AAssociateRQ)
        /// DT-2 / AR-6: P-DATA indication.
        case pDataIndication(PDataTF)
        /// AR-2 / AR-8: A-RELEASE indication; the local user answers with Evt14.
        case releaseIndication(collision: Bool)
        /// AR-3 / AR-10: A-RELEASE confirmation.
        case releaseConfirm
        /// AA-3: A-ABORT indication (the peer's service user aborted).
        case abortIndication(AAbort)
        /// AA-3, AA-4, AA-8: A-P-ABORT indication (the service provider aborted).
        case providerAbortIndication(AAbort.Reason)
        /// The local request is not allowed in the current state (an empty cell of Table 9-10).
        case rejectLocalRequest(event: Int, state: State)
    }

    /// Which end of the association this is, needed for release collisions (AR-8).
    public enum Role: Hashable, Sendable {
        case requestor
        case acceptor
    }

    /// The current state.
    public private(set) var state: State = .sta1
    /// Which end this is, known once Evt1 or Evt5 happened.
    public private(set) var role: Role?
    /// Whether the ARTIM timer is running.
    public private(set) var artimRunning = false
    private var pendingRequest: AAssociateRQ?

    /// Creates a machine in Sta1.
    public init() {}

    /// Applies one event and returns the actions to perform (PS3.8 Table 9-10).
    public mutating func handle(_ event: Event) -> [Action] {
        switch (event, state) {
        case (.associateRequest(let rq), .sta1):
            role = .requestor
            pendingRequest = rq
            return transition(.sta4, [.openTransportConnection])  // AE-1
        case (.transportConnectConfirm, .sta4):
            guard let rq = pendingRequest else { return transition(.sta13, aa8()) }
            pendingRequest = nil
            return transition(.sta5, [.send(.associateRQ(rq))])  // AE-2
        case (.transportConnectIndication, .sta1):
            role = .acceptor
            return transition(.sta2, startARTIM())  // AE-5
        case (.associateResponseAccept(let ac), .sta3):
            return transition(.sta6, [.send(.associateAC(ac))])  // AE-7
        case (.associateResponseReject(let rj), .sta3):
            return transition(.sta13, [.send(.associateRJ(rj))] + startARTIM())  // AE-8
        case (.pDataRequest(let data), .sta6):
            return transition(.sta6, [.send(.dataTF(data))])  // DT-1
        case (.pDataRequest(let data), .sta8):
            return transition(.sta8, [.send(.dataTF(data))])  // AR-7
        case (.releaseRequest, .sta6):
            return transition(.sta7, [.send(.releaseRQ)])  // AR-1
        case (.releaseResponse, .sta8), (.releaseResponse, .sta12):
            return transition(.sta13, [.send(.releaseRP)] + startARTIM())  // AR-4
        case (.releaseResponse, .sta9):
            return transition(.sta11, [.send(.releaseRP)])  // AR-9
        case (.abortRequest, .sta4):
            return transition(.sta1, [.closeTransportConnection])  // AA-2
        case (.abortRequest, let state) where (3...12).contains(state.rawValue):
            return aa1(AAbort(source: .serviceUser))
        case (.pduReceived(let pdu), _):
            return handlePDU(pdu)
        case (.transportConnectionClosed, .sta2):
            return transition(.sta1, stopARTIM())  // AA-5
        case (.transportConnectionClosed, .sta13):
            return transition(.sta1, stopARTIM())  // AR-5
        case (.transportConnectionClosed, let state) where (3...12).contains(state.rawValue):
            return transition(.sta1, stopARTIM() + [.providerAbortIndication(.notSpecified)])  // AA-4
        case (.artimTimerExpired, .sta2), (.artimTimerExpired, .sta13):
            artimRunning = false
            return transition(.sta1, [.closeTransportConnection])  // AA-2
        case (.invalidPDUReceived, .sta2):
            return aa1(AAbort(source: .serviceProvider, reason: abortReason(for: event)))
        case (.invalidPDUReceived, let state) where (3...12).contains(state.rawValue) && state != .sta4:
            return aa8(abortReason(for: event))
        case (.invalidPDUReceived, .sta13):
            return transition(.sta13, [.send(.abort(AAbort(source: .serviceProvider, reason: abortReason(for: event))))])  // AA-7
        default:
            return [.rejectLocalRequest(event: event.number, state: state)]
        }
    }

    private mutating func handlePDU(_ pdu: PDU) -> [Action] {
        switch (pdu, state) {
        case (.associateAC(let ac), .sta5):
            return transition(.sta6, [.associateConfirmAccepted(ac)])  // AE-3
        case (.associateRJ(let rj), .sta5):
            return transition(.sta1, [.associateConfirmRejected(rj), .closeTransportConnection])  // AE-4
        case (.associateRQ(let rq), .sta2):
            // AE-6: only version 1 of the protocol exists; otherwise reject, as PS3.8 9.3.2 allows.
            if rq.protocolVersion & 0x0001 == 0 {
                let rj = AAssociateRJ(result: .rejectedPermanent, source: .serviceProviderACSE, reason: .protocolVersionNotSupported)
                return transition(.sta13, stopARTIM() + [.send(.associateRJ(rj))] + startARTIM())
            }
            return transition(.sta3, stopARTIM() + [.associateIndication(rq)])
        case (.associateRQ, .sta13):
            return transition(.sta13, [.send(.abort(AAbort(source: .serviceProvider, reason: .unexpectedPDU)))])  // AA-7
        case (.dataTF(let data), .sta6):
            return transition(.sta6, [.pDataIndication(data)])  // DT-2
        case (.dataTF(let data), .sta7):
            return transition(.sta7, [.pDataIndication(data)])  // AR-6
        case (.releaseRQ, .sta6):
            return transition(.sta8, [.releaseIndication(collision: false)])  // AR-2
        case (.releaseRQ, .sta7):
            // AR-8: release collision.
            return transition(role == .requestor ? .sta9 : .sta10, [.releaseIndication(collision: true)])
        case (.releaseRP, .sta7), (.releaseRP, .sta11):
            return transition(.sta1, [.releaseConfirm, .closeTransportConnection])  // AR-3
        case (.releaseRP, .sta10):
            return transition(.sta12, [.releaseConfirm])  // AR-10
        case (.abort, .sta2), (.abort, .sta13):
            return transition(.sta1, stopARTIM() + [.closeTransportConnection])  // AA-2
        case (.abort(let abort), let state) where (3...12).contains(state.rawValue) && state != .sta4:
            // AA-3: an A-ABORT from the peer's user, or an A-P-ABORT from its provider.
            let indication: Action =
                abort.source == .serviceProvider ? .providerAbortIndication(abort.reason) : .abortIndication(abort)
            return transition(.sta1, [indication, .closeTransportConnection])
        case (_, .sta2):
            return aa1(AAbort(source: .serviceProvider, reason: .unexpectedPDU))
        case (_, .sta13):
            return []  // AA-6: ignore the PDU.
        case (_, .sta1), (_, .sta4):
            // No connection exists in these states; a PDU here can only come from a confused owner.
            return [.rejectLocalRequest(event: Event.pduReceived(pdu).number, state: state)]
        default:
            return aa8(.unexpectedPDU)
        }
    }

    private mutating func transition(_ next: State, _ actions: [Action]) -> [Action] {
        state = next
        return actions
    }

    private mutating func startARTIM() -> [Action] {
        artimRunning = true
        return [.startARTIMTimer]
    }

    private mutating func stopARTIM() -> [Action] {
        guard artimRunning else { return [] }
        artimRunning = false
        return [.stopARTIMTimer]
    }

    /// AA-1: send A-ABORT, (re)start ARTIM, go to Sta13.
    private mutating func aa1(_ abort: AAbort) -> [Action] {
        transition(.sta13, [.send(.abort(abort))] + startARTIM())
    }

    /// AA-8: send A-ABORT (service-provider source), issue A-P-ABORT indication, start ARTIM, go to Sta13.
    private mutating func aa8(_ reason: AAbort.Reason = .notSpecified) -> [Action] {
        transition(
            .sta13, [.send(.abort(AAbort(source: .serviceProvider, reason: reason))), .providerAbortIndication(reason)] + startARTIM())
    }

    private func abortReason(for event: Event) -> AAbort.Reason {
        guard case .invalidPDUReceived(let error) = event else { return .notSpecified }
        switch error {
        case .unrecognizedPDUType: return .unrecognizedPDU
        case .pduLengthExceedsLimit, .malformedPDU, .invalidFragmentSequence, .messageTooLarge: return .invalidPDUParameterValue
        }
    }
}
