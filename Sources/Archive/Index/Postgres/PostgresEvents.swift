import Foundation
import Logging
import PostgresNIO
import Synchronization

/// Events between the `atrium serve` processes that share one PostgreSQL database, through the server itself:
/// ``publish(topic:body:)`` sends `pg_notify('atrium_events', …)` on a pooled connection, and each process keeps one
/// connection of its own that `LISTEN`s on that channel (reconnecting after it loses the server) and hands what others
/// sent to this process's subscribers of the topic. A notification carries this process's ``origin``, so a process
/// skips its own (it fanned them out locally already). Payloads are small (PostgreSQL refuses 8000 bytes and more):
/// ids and kinds, never patient data.
///
/// Delivery is as PostgreSQL's: to the processes listening when the sender commits; a process that was disconnected
/// meanwhile misses those events (its pages reload their lists on reconnecting, as after any lost stream).
public final class PostgresEvents: Sendable {
    /// The channel every process listens on.
    public static let channel = "atrium_events"
    /// PostgreSQL's limit on a payload, less a margin.
    public static let maximumPayloadBytes = 7900

    /// This process's id in every payload it sends.
    public let origin = UUID().uuidString
    private let configuration: PostgresConnection.Configuration
    private let send: @Sendable (String) async throws(ArchiveError) -> Void
    private let logger: Logger
    private let state = Mutex<State>(State())

    private struct State {
        var subscribers: [String: [UUID: AsyncStream<String>.Continuation]] = [:]
        var listener: Task<Void, Never>?
        var listening = false
        var connections = 0
    }

    init(
        configuration: PostgresConnection.Configuration, logger: Logger,
        send: @escaping @Sendable (String) async throws(ArchiveError) -> Void
    ) {
        self.configuration = configuration
        self.logger = logger
        self.send = send
    }

    deinit { stop() }

    /// Closes the `LISTEN` connection (the index's deinit does).
    func stop() {
        state.withLock { state in
            state.listener?.cancel()
            for continuation in state.subscribers.values.flatMap(\.values) { continuation.finish() }
        }
    }

    /// Whether the `LISTEN` connection is up now.
    public var isListening: Bool { state.withLock { $0.listening } }

    /// How many times the `LISTEN` connection was opened (1 until the server was lost once).
    public var listenConnections: Int { state.withLock { $0.connections } }

    /// Sends `body` under `topic` to the other processes; false when it is too large or the server refused it (the
    /// reason is logged; local subscribers have it anyway).
    @discardableResult
    public func publish(topic: String, body: String) async -> Bool {
        let payload = Self.encode(Envelope(origin: origin, topic: topic, body: body))
        guard payload.utf8.count <= Self.maximumPayloadBytes else {
            logger.error("event too large for pg_notify; not sent to other processes", metadata: ["topic": "\(topic)"])
            return false
        }
        do {
            try await send(payload)
            return true
        } catch {
            logger.error("pg_notify failed; other processes miss this event", metadata: ["topic": "\(topic)", "error": "\(error)"])
            return false
        }
    }

    /// The bodies other processes publish under `topic` from now on; the stream ends when its consumer stops. The first
    /// subscriber starts the `LISTEN` connection.
    public func subscribe(topic: String) -> AsyncStream<String> {
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(1024))
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers[topic]?.removeValue(forKey: id) }
        }
        let start = state.withLock { state -> Bool in
            state.subscribers[topic, default: [:]][id] = continuation
            return state.listener == nil
        }
        if start { launchListener() }
        return stream
    }

    /// Starts the `LISTEN` connection now (else the first subscriber does); waits until it listens or `timeout` passes.
    public func startListening(timeout: Duration = .seconds(5)) async {
        launchListener()
        let deadline = ContinuousClock.now + timeout
        while !isListening && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
    }

    private func launchListener() {
        state.withLock { state in
            guard state.listener == nil else { return }
            state.listener = Task { [weak self] in await self?.listen() }
        }
    }

    /// Connects, listens and delivers until cancelled; after losing the server, connects again (0.2 s, doubling to 5 s).
    private func listen() async {
        var delay = Duration.milliseconds(200)
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: configuration, id: Int.random(in: 1_000...Int(Int32.max)), logger: logger)
                defer { Task { try? await connection.close() } }
                try await connection.listen(on: Self.channel) { notifications in
                    state.withLock {
                        $0.listening = true
                        $0.connections += 1
                    }
                    delay = .milliseconds(200)
                    logger.info("listening for other processes' events", metadata: ["channel": "\(Self.channel)"])
                    for try await notification in notifications { deliver(notification.payload) }
                }
            } catch {
                if Task.isCancelled { break }
                logger.warning("event connection lost; connecting again", metadata: ["error": "\(postgresError("listen", error))"])
            }
            state.withLock { $0.listening = false }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(5))
        }
        state.withLock { $0.listening = false }
    }

    private func deliver(_ payload: String) {
        guard let envelope = Self.decode(payload), envelope.origin != origin else { return }
        for continuation in state.withLock({ Array(($0.subscribers[envelope.topic] ?? [:]).values) }) {
            continuation.yield(envelope.body)
        }
    }

    struct Envelope: Codable, Equatable {
        var origin: String
        var topic: String
        var body: String
    }

    static func encode(_ envelope: Envelope) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(envelope)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func decode(_ payload: String) -> Envelope? { try? JSONDecoder().decode(Envelope.self, from: Data(payload.utf8)) }
}

extension PostgresIndex {
    /// Runs `body` only when no other process (or task) runs a body under `key` now: a transaction-scoped advisory lock
    /// (`pg_try_advisory_xact_lock`) on a pooled connection, held while `body` runs and released by its commit, or by
    /// the server when this process dies. Returns whether `body` ran.
    public func exclusively(key: Int64, _ body: @Sendable () async -> Void) async throws(ArchiveError) -> Bool {
        try await withSession { session throws(ArchiveError) in
            try await session.transaction { () async throws(ArchiveError) -> Bool in
                let rows = try await session.query(
                    "SELECT CASE WHEN pg_try_advisory_xact_lock($1) THEN 1 ELSE 0 END", [.integer(key)])
                guard rows.first?.first?.integer == 1 else { return false }
                await body()
                return true
            }
        }
    }
}
