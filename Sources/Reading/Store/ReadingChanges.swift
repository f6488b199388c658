import Foundation
import Synchronization

/// A change the worklists and the sites' pages should see at once (server push).
public struct ReadingChange: Sendable, Equatable {
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

/// Fans each ``ReadingChange`` out to every open subscriber (one per open worklist or page, in this process).
public final class ReadingChanges: Sendable {
    private let subscribers = Mutex<[UUID: AsyncStream<ReadingChange>.Continuation]>([:])

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
        for continuation in subscribers.withLock({ Array($0.values) }) { continuation.yield(change) }
    }

    /// How many are listening (for tests and metrics).
    public var subscriberCount: Int { subscribers.withLock { $0.count } }
}
