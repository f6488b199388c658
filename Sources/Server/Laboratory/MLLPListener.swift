import Laboratory
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The HL7 v2 listener of `atrium serve` (on `hl7Port`, off by default): MLLP framing (HL7 v2.5 Appendix C.4) over TCP
/// with TCP_NODELAY, one ACK per message, messages bounded by `hl7MaximumMessageBytes`. What a message means is
/// ``HL7Intake``'s business; this handler only reads frames and writes the answers. Log lines carry the outcome, the
/// message control ID and the reason of a NAK, never patient data.
public struct MLLPListener: Service {
    let host: String
    let port: Int
    let maximumMessageBytes: Int
    /// A connection that sends nothing for this long is closed (a sender keeps its connection open between messages, but
    /// one that has gone away must not hold a socket forever).
    let idleTimeout: Duration
    /// When the port is taken: run without listening (a warning) instead of failing the server.
    let optional: Bool
    let intake: HL7Intake
    let logger: Logger
    let onListening: @Sendable (Int) async -> Void
    /// Called with the ids of the result sets a message stored, before its ACK is written (the critical-value path).
    let onStored: @Sendable ([String]) async -> Void

    public init(
        host: String, port: Int, maximumMessageBytes: Int, idleTimeout: Duration = .seconds(300), optional: Bool = false,
        store: LaboratoryStore, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in },
        onStored: @escaping @Sendable ([String]) async -> Void = { _ in }
    ) {
        self.host = host
        self.port = port
        self.maximumMessageBytes = maximumMessageBytes
        self.idleTimeout = idleTimeout
        self.optional = optional
        self.intake = HL7Intake(store: store)
        var logger = logger
        logger[metadataKey: "listener"] = "mllp"
        self.logger = logger
        self.onListening = onListening
        self.onStored = onStored
    }

    public func run() async throws {
        let server: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
        do {
            server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .bind(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            guard optional else { throw ConfigurationError("cannot listen for HL7 (MLLP) on \(host):\(port): \(error)") }
            logger.warning("MLLP port taken: running without the HL7 listener", metadata: ["port": "\(port)", "error": "\(error)"])
            try await gracefulShutdown()
            return
        }
        let bound = server.channel.localAddress?.port ?? port
        logger.info("MLLP listener started", metadata: ["port": "\(bound)"])
        await onListening(bound)
        try await withGracefulShutdownHandler {
            try await server.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in connections {
                        group.addTask { await self.serve(connection) }
                    }
                }
            }
        } onGracefulShutdown: {
            server.channel.close(promise: nil)
        }
        logger.info("MLLP listener stopped")
    }

    func answer(_ event: MLLPFramer.Event) async -> HL7IntakeOutcome {
        switch event {
        case .message(let bytes): await intake.receive(bytes)
        case .oversized(let bytes, let head): intake.oversized(head: head, bytes: bytes, limit: maximumMessageBytes)
        }
    }

    func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let peer = connection.channel.remoteAddress?.ipAddress ?? ""
        let lastActivity = LastActivity()
        do {
            try await connection.executeThenClose { inbound, outbound in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        var framer = MLLPFramer(maximumMessageBytes: maximumMessageBytes)
                        for try await buffer in inbound {
                            lastActivity.touch()
                            for event in framer.feed(buffer.readableBytesView) {
                                let outcome = await answer(event)
                                if !outcome.stored.isEmpty { await onStored(outcome.stored) }
                                var metadata: Logger.Metadata = [
                                    "ack": "\(outcome.code.rawValue)", "controlID": "\(outcome.controlID)", "peer": "\(peer)",
                                    "resultSets": "\(outcome.stored.count)",
                                ]
                                if let error = outcome.error { metadata["reason"] = "\(error)" }
                                logger.info("HL7 message", metadata: metadata)
                                try await outbound.write(ByteBuffer(bytes: MLLPFramer.frame(outcome.ack)))
                                lastActivity.touch()
                            }
                        }
                    }
                    // The idle watch: closing the channel ends the reading task above.
                    group.addTask {
                        while true {
                            try await Task.sleep(for: .seconds(1))
                            if lastActivity.idle > idleTimeout {
                                logger.info("MLLP connection idle, closed", metadata: ["peer": "\(peer)"])
                                try? await connection.channel.close()
                                return
                            }
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
        } catch {
            logger.debug("MLLP connection ended", metadata: ["peer": "\(peer)", "error": "\(error)"])
        }
    }
}

/// When a connection last sent or was answered, shared by its reading task and its idle watch.
private final class LastActivity: Sendable {
    private let instant = Mutex(ContinuousClock.now)

    func touch() { instant.withLock { $0 = .now } }

    var idle: Duration { ContinuousClock.now - instant.withLock { $0 } }
}
