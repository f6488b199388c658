import Logging
import NIOCore

/// What the upper layer tells the application about an association (PS3.8 7, the indications and confirmations).
public enum AssociationEvent: Hashable, Sendable {
    /// Acceptor: a peer asks to associate; answer with `AssociationCommand.accept` or `.reject`.
    case associateIndication(AAssociateRQ)
    /// Requestor: the peer accepted.
    case associateAccepted(AAssociateAC)
    /// Requestor: the peer rejected; the connection closes.
    case associateRejected(AAssociateRJ)
    /// A complete command set or data set arrived.
    case message(PresentationDataMessage)
    /// The peer asks to release; answer with `AssociationCommand.releaseResponse`.
    case releaseIndication
    /// The release this end asked for is confirmed.
    case releaseConfirmed
    /// The peer's user aborted.
    case aborted(AAbort)
    /// The service provider aborted: a protocol error, a timeout, or the connection dropped.
    case providerAborted(AAbort.Reason)
}

/// What the application asks of the upper layer (PS3.8 7, the requests and responses).
public enum AssociationCommand: Hashable, Sendable {
    /// Acceptor: accept with this A-ASSOCIATE-AC.
    case accept(AAssociateAC)
    /// Acceptor: reject with this A-ASSOCIATE-RJ.
    case reject(AAssociateRJ)
    /// Send a command set or data set, fragmented to the peer's maximum PDU length.
    case send(PresentationDataMessage)
    /// Send several messages back to back, with nothing written between them (a command and its data set, PS3.7 6.3.1).
    case sendMessages([PresentationDataMessage])
    /// Ask to release the association.
    case release
    /// Answer the peer's release request.
    case releaseResponse
    /// Abort the association.
    case abort
}

/// Runs the association state machine over a channel of PDUs: I/O only, every decision in ``AssociationStateMachine`` (PS3.8 9.2).
public final class UpperLayerChannelHandler: ChannelDuplexHandler {
    public typealias InboundIn = PDU
    public typealias InboundOut = AssociationEvent
    public typealias OutboundIn = AssociationCommand
    public typealias OutboundOut = PDU

    /// Which end this handler plays.
    public enum Role: Sendable {
        /// Accept associations from peers.
        case acceptor
        /// Request an association with this A-ASSOCIATE-RQ once the connection is active.
        case requestor(AAssociateRQ)
    }

    /// Timer limits (PS3.8 9.1.5).
    public struct Timeouts: Sendable {
        /// ARTIM: how long to wait for an A-ASSOCIATE-RQ, and for the peer to close after RJ, RP or ABORT.
        public var artim: TimeAmount
        /// Abort when nothing arrives for this long while associating or associated; nil waits forever.
        public var idle: TimeAmount?

        /// Creates timeouts.
        public init(artim: TimeAmount = .seconds(30), idle: TimeAmount? = .seconds(300)) {
            self.artim = artim
            self.idle = idle
        }
    }

    private let role: Role
    private let timeouts: Timeouts
    private let logger: Logger
    private var machine = AssociationStateMachine()
    private var assembler: PresentationDataAssembler
    private var peerMaximumPDULength: UInt32 = 0
    /// What this end announced in 51H; P-DATA-TF PDUs above it are invalid (PS3.8 D.1). 0 means no limit.
    private var localMaximumPDULength: UInt32 = 0
    private var artimTimer: Scheduled<Void>?
    private var idleTimer: Scheduled<Void>?
    private var started = false

    /// Creates the handler.
    public init(role: Role, timeouts: Timeouts = Timeouts(), maximumMessageBytes: Int = 1 << 30, logger: Logger) {
        self.role = role
        self.timeouts = timeouts
        self.logger = logger
        self.assembler = PresentationDataAssembler(maximumMessageBytes: maximumMessageBytes)
    }

    /// The association state, for tests and diagnostics.
    public var state: AssociationStateMachine.State { machine.state }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    private func start(context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        switch role {
        case .acceptor:
            apply(machine.handle(.transportConnectIndication), context: context)
        case .requestor(let rq):
            localMaximumPDULength = rq.userInformation.maximumLength ?? 0
            // The channel is already connected, so AE-1's TRANSPORT CONNECT completes at once (Evt2).
            apply(machine.handle(.associateRequest(rq)), context: context)
            apply(machine.handle(.transportConnectConfirm), context: context)
        }
        resetIdleTimer(context: context)
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let pdu = unwrapInboundIn(data)
        resetIdleTimer(context: context)
        if case .dataTF(let data) = pdu, localMaximumPDULength > 0 {
            let length = data.values.reduce(0) { $0 + 6 + $1.data.readableBytes }
            if length > Int(localMaximumPDULength) {
                let error = UpperLayerError.pduLengthExceedsLimit(
                    pduType: PDUType.dataTF.rawValue, length: length, limit: Int(localMaximumPDULength))
                logger.warning("P-DATA-TF over the negotiated maximum length", metadata: ["error": "\(error)"])
                apply(machine.handle(.invalidPDUReceived(error)), context: context)
                return
            }
        }
        apply(machine.handle(.pduReceived(pdu)), context: context)
    }

    public func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let error = error as? UpperLayerError {
            logger.warning("invalid PDU", metadata: ["error": "\(error)"])
            apply(machine.handle(.invalidPDUReceived(error)), context: context)
        } else {
            logger.debug("transport error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        apply(machine.handle(.transportConnectionClosed), context: context)
        context.fireChannelInactive()
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let command = unwrapOutboundIn(data)
        let events: [AssociationStateMachine.Event]
        switch command {
        case .accept(let ac):
            localMaximumPDULength = ac.userInformation.maximumLength ?? 0
            events = [.associateResponseAccept(ac)]
        case .reject(let rj): events = [.associateResponseReject(rj)]
        case .send(let message):
            events = PresentationDataFragmenter.fragments(
                of: message.bytes, kind: message.kind, presentationContextID: message.presentationContextID,
                maximumPDULength: peerMaximumPDULength
            ).map { .pDataRequest($0) }
        case .sendMessages(let messages):
            events = messages.flatMap { message in
                PresentationDataFragmenter.fragments(
                    of: message.bytes, kind: message.kind, presentationContextID: message.presentationContextID,
                    maximumPDULength: peerMaximumPDULength
                ).map { AssociationStateMachine.Event.pDataRequest($0) }
            }
        case .release: events = [.releaseRequest]
        case .releaseResponse: events = [.releaseResponse]
        case .abort: events = [.abortRequest]
        }
        for (index, event) in events.enumerated() {
            let actions = machine.handle(event)
            if case .rejectLocalRequest(let number, let state)? = actions.first {
                promise?.fail(AssociationError.invalidState("event \(number) is not allowed in state \(state)"))
                return
            }
            // The promise completes with the last PDU's write, so an awaiting sender feels the socket's back-pressure.
            let isLast = index == events.count - 1
            apply(actions, context: context, flush: false, writePromise: isLast ? promise : nil)
        }
        context.flush()
    }

    private func apply(
        _ actions: [AssociationStateMachine.Action], context: ChannelHandlerContext, flush: Bool = true,
        writePromise: EventLoopPromise<Void>? = nil
    ) {
        var wrote = false
        var writePromise = writePromise
        let lastSend = actions.lastIndex { if case .send = $0 { return true } else { return false } }
        defer { writePromise?.succeed() }
        for (index, action) in actions.enumerated() {
            switch action {
            case .openTransportConnection:
                break
            case .send(let pdu):
                context.write(wrapOutboundOut(pdu), promise: index == lastSend ? writePromise : nil)
                if index == lastSend { writePromise = nil }
                wrote = true
            case .startARTIMTimer:
                artimTimer?.cancel()
                artimTimer = context.eventLoop.assumeIsolated().scheduleTask(in: timeouts.artim) { [self] in
                    artimTimer = nil
                    logger.debug("ARTIM timer expired", metadata: ["state": "\(machine.state)"])
                    apply(machine.handle(.artimTimerExpired), context: context)
                }
            case .stopARTIMTimer:
                artimTimer?.cancel()
                artimTimer = nil
            case .closeTransportConnection:
                if wrote { context.flush() }
                wrote = false
                cancelTimers()
                context.close(promise: nil)
            case .associateConfirmAccepted(let ac):
                peerMaximumPDULength = ac.userInformation.maximumLength ?? 0
                context.fireChannelRead(wrapInboundOut(.associateAccepted(ac)))
            case .associateConfirmRejected(let rj):
                context.fireChannelRead(wrapInboundOut(.associateRejected(rj)))
            case .associateIndication(let rq):
                peerMaximumPDULength = rq.userInformation.maximumLength ?? 0
                context.fireChannelRead(wrapInboundOut(.associateIndication(rq)))
            case .pDataIndication(let data):
                do {
                    for message in try assembler.append(data) {
                        context.fireChannelRead(wrapInboundOut(.message(message)))
                    }
                } catch {
                    logger.warning("invalid PDV sequence", metadata: ["error": "\(error)"])
                    apply(machine.handle(.invalidPDUReceived(error)), context: context)
                    return
                }
            case .releaseIndication:
                context.fireChannelRead(wrapInboundOut(.releaseIndication))
            case .releaseConfirm:
                context.fireChannelRead(wrapInboundOut(.releaseConfirmed))
            case .abortIndication(let abort):
                context.fireChannelRead(wrapInboundOut(.aborted(abort)))
            case .providerAbortIndication(let reason):
                context.fireChannelRead(wrapInboundOut(.providerAborted(reason)))
            case .rejectLocalRequest(let event, let state):
                logger.debug("event ignored", metadata: ["event": "\(event)", "state": "\(state)"])
            }
        }
        if wrote && flush { context.flush() }
        if machine.state == .sta13 || machine.state == .sta1 { idleTimer?.cancel() }
    }

    private func resetIdleTimer(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        guard let idle = timeouts.idle else { return }
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(in: idle) { [self] in
            idleTimer = nil
            guard (3...12).contains(machine.state.rawValue) else { return }
            logger.info("association idle, aborting", metadata: ["state": "\(machine.state)"])
            apply(machine.handle(.abortRequest), context: context)
            context.fireChannelRead(wrapInboundOut(.providerAborted(.notSpecified)))
        }
    }

    private func cancelTimers() {
        artimTimer?.cancel()
        artimTimer = nil
        idleTimer?.cancel()
        idleTimer = nil
    }
}

@available(*, unavailable)
extension UpperLayerChannelHandler: Sendable {}
