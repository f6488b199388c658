import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Receives the messages of an established association; the DIMSE layer implements it (PS3.7 over PS3.8).
///
/// Simple handlers implement ``receive(_:association:)``, called once per message in order. Handlers that must read
/// while an operation is in progress (C-CANCEL during C-FIND, C-STORE-RSP during C-GET) implement
/// ``serve(_:messages:)`` and pull the messages themselves.
public protocol AssociationHandler: Sendable {
    /// Handles one complete command set or data set; throwing aborts the association.
    func receive(_ message: PresentationDataMessage, association: AssociationContext) async throws
    /// Serves a whole association: reads `messages` until they end; throwing aborts the association.
    func serve(_ association: AssociationContext, messages: AssociationMessages) async throws
}

extension AssociationHandler {
    /// Ignores the message; handlers that implement ``serve(_:messages:)`` need no per-message entry point.
    public func receive(_ message: PresentationDataMessage, association: AssociationContext) async throws {}

    /// Calls ``receive(_:association:)`` for each message in turn.
    public func serve(_ association: AssociationContext, messages: AssociationMessages) async throws {
        while let message = try await messages.next() {
            try await receive(message, association: association)
        }
    }
}

/// The messages of an established association, in order, as the acceptor receives them (PS3.8 9.3.5).
///
/// A release request is answered here and ends the sequence (PS3.8 7.2); so do aborts and a closed connection. Reading is
/// what lets the peer send more: an application that stops calling ``next()`` stops the peer (back-pressure).
public final class AssociationMessages {
    /// How the sequence ended.
    public enum Ending: Hashable, Sendable {
        /// The peer released the association.
        case released
        /// The peer or the provider aborted, or the connection closed.
        case aborted
    }

    private var events: NIOAsyncChannelInboundStream<AssociationEvent>.AsyncIterator
    private let outbound: AssociationOutbound
    private let negotiated: NegotiatedAssociation
    private let logger: Logger
    /// How the sequence ended, once ``next()`` returned nil.
    public private(set) var ending: Ending?

    init(
        events: NIOAsyncChannelInboundStream<AssociationEvent>.AsyncIterator, outbound: AssociationOutbound,
        negotiated: NegotiatedAssociation, logger: Logger
    ) {
        self.events = events
        self.outbound = outbound
        self.negotiated = negotiated
        self.logger = logger
    }

    /// The next command set or data set, or nil when the association is over.
    public func next() async throws -> PresentationDataMessage? {
        guard ending == nil else { return nil }
        while let event = try await events.next() {
            switch event {
            case .message(let message):
                guard negotiated.acceptedContexts[message.presentationContextID] != nil else {
                    logger.warning(
                        "message on a presentation context that was not accepted, aborting",
                        metadata: ["presentationContextID": "\(message.presentationContextID)"])
                    try await outbound.write(.abort)
                    ending = .aborted
                    return nil
                }
                return message
            case .releaseIndication:
                try await outbound.write(.releaseResponse)
                ending = .released
                return nil
            case .aborted, .providerAborted:
                logger.info("association aborted", metadata: ["event": "\(event)"])
                ending = .aborted
                return nil
            case .associateIndication, .associateAccepted, .associateRejected, .releaseConfirmed:
                continue
            }
        }
        ending = .aborted
        return nil
    }

    /// Reads and drops events until the connection closes.
    func drain() async throws {
        while try await events.next() != nil {}
    }
}

/// The application's view of an established association: what was agreed, and a way to send.
public struct AssociationContext: Sendable {
    /// What both ends agreed.
    public let negotiated: NegotiatedAssociation
    private let outbound: AssociationOutbound

    init(negotiated: NegotiatedAssociation, outbound: AssociationOutbound) {
        self.negotiated = negotiated
        self.outbound = outbound
    }

    /// Sends a command set or data set, fragmented to the peer's maximum PDU length (PS3.8 9.3.5).
    public func send(_ message: PresentationDataMessage) async throws {
        try await outbound.write(.send(message))
    }

    /// Sends messages back to back, with nothing between them: a command and its data set (PS3.7 6.3.1).
    public func send(_ messages: [PresentationDataMessage]) async throws {
        try await outbound.write(.sendMessages(messages))
    }

    /// Queues a small message, a response command, without waiting for it to reach the socket: the task goes back to
    /// reading at once instead of being woken again by the write's completion. A failed write ends the association, which
    /// the next read reports.
    public func sendWithoutWaiting(_ message: PresentationDataMessage) {
        outbound.channel.writeAndFlush(AssociationCommand.send(message), promise: nil)
    }

    /// Aborts the association (PS3.8 7.3).
    public func abort() async throws {
        try await outbound.write(.abort)
    }
}

/// Settings shared by acceptors and requestors.
public struct UpperLayerConfiguration: Sendable {
    /// Timer limits.
    public var timeouts: UpperLayerChannelHandler.Timeouts
    /// The largest PDU length field accepted from a peer before reading its body.
    public var maximumReceivedPDULength: Int
    /// The largest reassembled command or data set, in bytes.
    public var maximumMessageBytes: Int
    /// Acceptors: the most associations served at once; more are rejected as a local limit exceeded (PS3.8 9.3.4).
    public var maximumAssociations: Int?
    /// Where logs go.
    public var logger: Logger
    /// TLS (PS3.15 B.9): an acceptor's settings apply to the connections it accepts, a requestor's to those it makes;
    /// nil for plain TCP. Sub-operation associations an acceptor opens (C-MOVE) are plain TCP.
    public var tls: DICOMTLS?
    /// Acceptors: counters of associations and DIMSE requests; nil counts nothing.
    public var metrics: DIMSEMetrics?

    /// Creates a configuration.
    public init(
        timeouts: UpperLayerChannelHandler.Timeouts = .init(), maximumReceivedPDULength: Int = 1 << 20,
        maximumMessageBytes: Int = 1 << 30, maximumAssociations: Int? = nil,
        logger: Logger = Logger(label: "atrium.dicom.upper-layer"), tls: DICOMTLS? = nil, metrics: DIMSEMetrics? = nil
    ) {
        self.timeouts = timeouts
        self.maximumReceivedPDULength = maximumReceivedPDULength
        self.maximumMessageBytes = maximumMessageBytes
        self.maximumAssociations = maximumAssociations
        self.logger = logger
        self.tls = tls
        self.metrics = metrics
    }

    /// The TLS settings for connections made in `role`, if any.
    func tls(for role: DICOMTLS.Role) -> DICOMTLS? {
        tls.flatMap { $0.role == role ? $0 : nil }
    }
}

/// Counts the associations an acceptor is serving.
private final class ActiveAssociations: Sendable {
    let value = Atomic<Int>(0)
}

typealias AssociationChannel = NIOAsyncChannel<AssociationEvent, AssociationCommand>

/// Writes commands straight into the channel and waits until their bytes reach the socket.
///
/// `NIOAsyncChannelOutboundWriter` returns as soon as a write is queued, so a fast loop of sends could queue without
/// bound before the channel reports that it is not writable; waiting for each write's promise bounds what is in flight.
struct AssociationOutbound: Sendable {
    let channel: any Channel

    func write(_ command: AssociationCommand) async throws {
        try await channel.writeAndFlush(command)
    }
}

extension Channel {
    /// Installs the PDU codec and the upper layer handler, and wraps the channel for async use with back-pressure.
    fileprivate func makeAssociationChannel(
        role: UpperLayerChannelHandler.Role, configuration: UpperLayerConfiguration,
        tls: TLSSetup? = nil
    ) -> EventLoopFuture<AssociationChannel> {
        eventLoop.makeCompletedFuture {
            if let tls {
                try tls.settings.install(
                    on: self, serverHostname: tls.serverHostname, failure: tls.failure, logger: configuration.logger)
            }
            let pipeline = self.pipeline.syncOperations
            try pipeline.addHandler(ByteToMessageHandler(PDUFrameDecoder(maximumLength: configuration.maximumReceivedPDULength)))
            try pipeline.addHandler(PDUWriter())
            try pipeline.addHandler(
                UpperLayerChannelHandler(
                    role: role, timeouts: configuration.timeouts, maximumMessageBytes: configuration.maximumMessageBytes,
                    logger: configuration.logger))
            // At most two events buffered: the peer is not read again until the application has taken them (reads resume
            // when the buffer drops below the low watermark, so it must be at least 1).
            return try AssociationChannel(
                wrappingChannelSynchronously: self,
                configuration: .init(backPressureStrategy: .init(lowWatermark: 1, highWatermark: 2), isOutboundHalfClosureEnabled: false))
        }
    }
}

/// Accepts associations on a TCP port and hands their messages to an ``AssociationHandler`` (PS3.8 7.1, 9.2).
public struct AssociationAcceptor: Sendable {
    private let server: NIOAsyncChannel<AssociationChannel, Never>
    private let policy: AcceptorPolicy
    private let configuration: UpperLayerConfiguration

    /// The port the acceptor listens on.
    public var localPort: Int? { server.channel.localAddress?.port }

    /// Binds a listening socket with TCP_NODELAY on every accepted connection.
    public static func bind(
        host: String, port: Int, policy: AcceptorPolicy, configuration: UpperLayerConfiguration = .init(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> AssociationAcceptor {
        let tls = configuration.tls(for: .acceptor)
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { channel in
                channel.makeAssociationChannel(
                    role: .acceptor, configuration: configuration,
                    tls: tls.map { TLSSetup(settings: $0, serverHostname: nil, failure: TLSFailure()) })
            }
        return AssociationAcceptor(server: server, policy: policy, configuration: configuration)
    }

    private init(server: NIOAsyncChannel<AssociationChannel, Never>, policy: AcceptorPolicy, configuration: UpperLayerConfiguration) {
        self.server = server
        self.policy = policy
        self.configuration = configuration
    }

    /// Stops accepting connections: ``run(handler:)`` returns once the associations already accepted have ended. For a graceful
    /// shutdown, where cancelling would cut off the stores in flight.
    public func stopAccepting() {
        server.channel.close(promise: nil)
    }

    /// Serves associations until the task is cancelled or the listener closes.
    public func run(handler: some AssociationHandler) async throws {
        let active = ActiveAssociations()
        try await server.executeThenClose { connections in
            try await withThrowingDiscardingTaskGroup { group in
                for try await connection in connections {
                    group.addTask {
                        let count = active.value.wrappingAdd(1, ordering: .relaxed).newValue
                        defer { active.value.subtract(1, ordering: .relaxed) }
                        let overLimit = configuration.maximumAssociations.map { count > $0 } ?? false
                        await serve(connection, handler: handler, overLimit: overLimit)
                    }
                }
            }
        }
    }

    private func serve(_ connection: AssociationChannel, handler: some AssociationHandler, overLimit: Bool) async {
        let logger = configuration.logger
        do {
            try await connection.executeThenClose { inbound, _ in
                let outbound = AssociationOutbound(channel: connection.channel)
                var events = inbound.makeAsyncIterator()
                guard case .associateIndication(let request)? = try await events.next() else { return }
                let context: AssociationContext
                let outcome: NegotiationOutcome
                if overLimit {
                    outcome = .reject(
                        AAssociateRJ(result: .rejectedTransient, source: .serviceProviderPresentation, reason: .localLimitExceeded))
                } else {
                    outcome = await AssociationNegotiator.negotiate(request, policy: policy)
                }
                switch outcome {
                case .reject(let rj):
                    configuration.metrics?.rejected.increment()
                    logger.info(
                        "association rejected",
                        metadata: ["calling": "\(request.callingAETitle)", "reason": "\(rj.reason.rawValue)"])
                    try await outbound.write(.reject(rj))
                    while try await events.next() != nil {}
                    return
                case .accept(let ac, let negotiated):
                    try await outbound.write(.accept(ac))
                    configuration.metrics?.accepted.increment()
                    configuration.metrics?.open.increment()
                    context = AssociationContext(negotiated: negotiated, outbound: outbound)
                    logger.info(
                        "association accepted",
                        metadata: ["calling": "\(request.callingAETitle)", "contexts": "\(negotiated.acceptedContexts.count)"])
                }
                defer { configuration.metrics?.open.decrement() }
                let messages = AssociationMessages(events: events, outbound: outbound, negotiated: context.negotiated, logger: logger)
                do {
                    try await handler.serve(context, messages: messages)
                } catch {
                    logger.warning("association handler failed, aborting", metadata: ["error": "\(error)"])
                    try await outbound.write(.abort)
                }
                try await messages.drain()
            }
        } catch {
            logger.debug("association ended with an error", metadata: ["error": "\(error)"])
        }
    }
}

/// Requests associations: connect, negotiate, exchange messages, release (PS3.8 7.1–7.3).
public enum AssociationRequestor {
    /// Connects to `host`:`port`, associates with `proposal`, runs `body`, then releases (or aborts if `body` throws).
    public static func withAssociation<Result: Sendable>(
        host: String, port: Int, proposal: AssociationProposal, configuration: UpperLayerConfiguration = .init(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        _ body: (RequestorAssociation) async throws -> Result
    ) async throws -> Result {
        let request = try proposal.makeRequest()
        let failure = TLSFailure()
        // Server Name Indication carries host names only; for an IP address the certificate is checked against it.
        let serverHostname = (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
        let tls = configuration.tls(for: .requestor).map { TLSSetup(settings: $0, serverHostname: serverHostname, failure: failure) }
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port) { channel in
                channel.makeAssociationChannel(role: .requestor(request), configuration: configuration, tls: tls)
            }
        return try await channel.executeThenClose { inbound, _ in
            let outbound = AssociationOutbound(channel: channel.channel)
            var events = inbound.makeAsyncIterator()
            let negotiated: NegotiatedAssociation
            switch try await events.next() {
            case .associateAccepted(let ac):
                negotiated = try AssociationProposal.interpret(ac, request: request)
            case .associateRejected(let rj):
                throw AssociationError.rejected(rj)
            case .aborted(let abort):
                throw AssociationError.aborted(abort)
            case .providerAborted(let reason):
                // A TLS failure closes the connection, which the upper layer reports as a provider abort.
                if let reason = failure.recorded { throw AssociationError.transportSecurity(reason) }
                throw AssociationError.providerAborted(reason)
            default:
                if let reason = failure.recorded { throw AssociationError.transportSecurity(reason) }
                if tls != nil {
                    throw AssociationError.transportSecurity(
                        "the TLS connection closed before the association was accepted (a client certificate required?)")
                }
                throw AssociationError.connectionClosed
            }
            let association = RequestorAssociation(negotiated: negotiated, events: events, outbound: outbound)
            do {
                let result = try await body(association)
                try await association.release()
                return result
            } catch {
                if !association.isFinished { try? await outbound.write(.abort) }
                throw error
            }
        }
    }
}

/// The requestor's handle on an established association, valid inside ``AssociationRequestor/withAssociation``.
public final class RequestorAssociation {
    /// What both ends agreed.
    public let negotiated: NegotiatedAssociation
    private var events: NIOAsyncChannelInboundStream<AssociationEvent>.AsyncIterator
    private let outbound: AssociationOutbound
    /// Whether the association was released or aborted.
    public private(set) var isFinished = false

    init(
        negotiated: NegotiatedAssociation, events: NIOAsyncChannelInboundStream<AssociationEvent>.AsyncIterator,
        outbound: AssociationOutbound
    ) {
        self.negotiated = negotiated
        self.events = events
        self.outbound = outbound
    }

    /// Sends a command set or data set (PS3.8 9.3.5).
    public func send(_ message: PresentationDataMessage) async throws {
        guard !isFinished else { throw AssociationError.invalidState("the association has ended") }
        try await outbound.write(.send(message))
    }

    /// Sends messages back to back, with nothing between them: a command and its data set (PS3.7 6.3.1).
    public func send(_ messages: [PresentationDataMessage]) async throws {
        guard !isFinished else { throw AssociationError.invalidState("the association has ended") }
        try await outbound.write(.sendMessages(messages))
    }

    /// Waits for the next complete command set or data set from the peer.
    public func receive() async throws -> PresentationDataMessage {
        while !isFinished {
            switch try await events.next() {
            case .message(let message):
                return message
            case .releaseIndication:
                // The acceptor may not ask to release (PS3.7 D.3.3.1 leaves release to the requestor); answer it anyway.
                try await outbound.write(.releaseResponse)
            case .aborted(let abort):
                isFinished = true
                throw AssociationError.aborted(abort)
            case .providerAborted(let reason):
                isFinished = true
                throw AssociationError.providerAborted(reason)
            case nil:
                isFinished = true
            default:
                continue
            }
        }
        throw AssociationError.connectionClosed
    }

    /// Releases the association and waits for the A-RELEASE-RP (PS3.8 7.2); messages arriving meanwhile are dropped.
    public func release() async throws {
        guard !isFinished else { return }
        try await outbound.write(.release)
        while let event = try await events.next() {
            switch event {
            case .releaseConfirmed:
                isFinished = true
                return
            case .releaseIndication:
                try await outbound.write(.releaseResponse)
            case .aborted(let abort):
                isFinished = true
                throw AssociationError.aborted(abort)
            case .providerAborted(let reason):
                isFinished = true
                throw AssociationError.providerAborted(reason)
            default:
                continue
            }
        }
        isFinished = true
        throw AssociationError.connectionClosed
    }

    /// Aborts the association (PS3.8 7.3).
    public func abort() async throws {
        guard !isFinished else { return }
        isFinished = true
        try await outbound.write(.abort)
    }
}
