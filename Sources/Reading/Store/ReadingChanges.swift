import Foundation
import Platform
import Synchronization

/// A change the worklists and the sites' pages should see at once (server push).
public struct ReadingChange: Sendable, Equatable, Codable {
    /// `requested`, `claimed`, `released`, `lock-broken`, `lease-expired`, `preliminary`, `signed`, `addendum`, `withdrawn`,
    /// `study-linked`, `critical-flagged`, `critical-acknowledged`, `critical-escalated`, `draft-saved`.
    public var kind: String
    public var requestID: Int64
    public var workItemID: Int64?
    /// The requesting institution: a site user's stream carries only its own institution's changes.
    public var institutionCode: String
    public var actor: String
    /// What a listener needs beyond the kind (a cancellation request's reason); never patient data.
    public var detail: String

    public init(kind: String, requestID: Int64, workItemID: Int64?, institutionCode: String, actor: String, detail: String = "") {
        self.kind = kind
        self.requestID = requestID
        self.workItemID = workItemID
        self.institutionCode = institutionCode
        self.actor = actor
        self.detail = detail
    }
}

/// Fans each ``ReadingChange`` out to every open subscriber (one per open worklist or page, in this process), and,
/// when connected to the other processes of a PostgreSQL deployment (``connect(_:onRemote:)``), sends each change to
/// them too (`pg_notify`, in the order published) and fans theirs out here.
public final class ReadingChanges: Sendable {
    /// The topic of reading changes between processes.
    public static let topic = "reading"
    private let subscribers = Mutex<[UUID: AsyncStream<ReadingChange>.Continuation]>([:])
    private let outgoing = Mutex<AsyncStream<ReadingChange>.Continuation?>(nil)

    public init() {}

    /// A stream of the changes from now on; it ends when the consumer stops iterating.
    public func subscribe() -> AsyncStream<ReadingChange> {
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(of: ReadingChange.self, bufferingPolicy: .bufferingNewest(256))
        continuation.onTermination = { [weak self] _ in _ = self?.subscribers.withLock { $0.removeValue(forKey: id) } }
        subscribers.withLock { $0[id] = continuation }
        return stream
    }

    public func publish(_ change: ReadingChange) {
        fanOut(change)
        _ = outgoing.withLock { $0?.yield(change) }
    }

    private func fanOut(_ change: ReadingChange) {
        for continuation in subscribers.withLock({ Array($0.values) }) { continuation.yield(change) }
    }

    /// Sends this process's changes to the other processes on `cluster` and fans theirs out here; `onRemote` runs
    /// before each of theirs is fanned out (the store forgets what it cached). Once per process.
    public func connect(_ cluster: ProcessCluster, onRemote: @escaping @Sendable () -> Void) {
        let (stream, continuation) = AsyncStream.makeStream(of: ReadingChange.self, bufferingPolicy: .bufferingNewest(4096))
        let connected = outgoing.withLock { current -> Bool in
            guard current == nil else { return false }
            current = continuation
            return true
        }
        guard connected else { return }
        Task {
            let encoder = JSONEncoder()
            for await change in stream {
                guard let body = try? encoder.encode(change) else { continue }
                await cluster.publish(topic: Self.topic, body: String(decoding: body, as: UTF8.self))
            }
        }
        let incoming = cluster.subscribe(topic: Self.topic)
        Task { [weak self] in
            let decoder = JSONDecoder()
            for await body in incoming {
                guard let change = try? decoder.decode(ReadingChange.self, from: Data(body.utf8)) else { continue }
                onRemote()
                self?.fanOut(change)
            }
        }
    }

    /// How many are listening (for tests and metrics).
    public var subscriberCount: Int { subscribers.withLock { $0.count } }
}
