import DICOM
import Foundation
import HummingbirdWebSocket
import Logging
import Reading
import Synchronization

/// The UPS event channels of this process (PS3.18 11.x, PS3.4 CC.2.4): each open WebSocket of an AE title receives the
/// event reports of the work items that AE is subscribed to, as DICOM JSON text messages. Changes come from the
/// consultation store's change feed, so a claim made on the web worklist reaches UPS subscribers as well as one made
/// over UPS-RS. Channels live in memory: several `atrium serve` processes each serve their own connections' events.
public final class UPSEventChannel: Sendable {
    let store: ReadingStore
    let logger: Logger
    private let connections = Mutex<[String: [UUID: AsyncStream<String>.Continuation]]>([:])

    public init(store: ReadingStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// How many channels are open for `aeTitle`.
    public func openChannels(aeTitle: String) -> Int { connections.withLock { $0[aeTitle]?.count ?? 0 } }

    /// Sends one event report to every open channel of `aeTitle` (the initial State Reports of a new subscription).
    public func send(aeTitle: String, _ report: DataSet) {
        let text = String(decoding: DICOMJSONEncoder().encode(report), as: UTF8.self)
        for continuation in connections.withLock({ Array(($0[aeTitle] ?? [:]).values) }) { continuation.yield(text) }
    }

    /// Serves one WebSocket until the client closes it.
    func serve(aeTitle: String, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        let id = UUID()
        let changes = store.changes.subscribe()
        let (messages, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(1024))
        connections.withLock { $0[aeTitle, default: [:]][id] = continuation }
        logger.info("UPS event channel opened", metadata: ["ae": "\(aeTitle)"])
        defer {
            _ = connections.withLock { $0[aeTitle]?.removeValue(forKey: id) }
            logger.info("UPS event channel closed", metadata: ["ae": "\(aeTitle)"])
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                var lastState: [String: WorkItemState] = [:]
                for await change in changes {
                    for report in await self.reports(for: change, aeTitle: aeTitle, lastState: &lastState) {
                        continuation.yield(String(decoding: DICOMJSONEncoder().encode(report), as: UTF8.self))
                    }
                }
            }
            group.addTask {
                for await text in messages {
                    do {
                        try await outbound.write(.text(text))
                    } catch {
                        break
                    }
                }
            }
            group.addTask {
                // The client says nothing on this channel; its close ends the loop.
                do {
                    for try await _ in inbound {}
                } catch {}
                continuation.finish()
            }
            _ = await group.next()
            group.cancelAll()
            continuation.finish()
        }
    }

    /// The event reports one change means for `aeTitle` (PS3.4 CC.2.4.2): a UPS State Report when the item's state
    /// changed (or it was created), UPS Cancel Requested, UPS Assigned when a reader becomes the performer; nothing when
    /// the AE is not subscribed to the item.
    func reports(for change: ReadingChange, aeTitle: String, lastState: inout [String: WorkItemState]) async -> [DataSet] {
        guard let itemID = change.workItemID,
            let item = try? await store.workItem(id: itemID),
            let entry = try? await store.upsEntry(uid: item.uid),
            let subscriptions = try? await store.subscriptions(aeTitle: aeTitle)
        else { return [] }
        let ds = entry.dataSet
        guard subscriptions.contains(where: { $0.covers(uid: item.uid, created: item.createdAt, dataSet: ds) }) else { return [] }
        var out: [DataSet] = []
        switch change.kind {
        case "cancel-requested":
            let parts = change.detail.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            out.append(UPS.eventReport(.cancelRequested, item: ds, reason: parts.first ?? "", contact: parts.count > 1 ? parts[1] : ""))
        case "requested", "second-opinion", "double-reading", "assigned", "claimed", "released", "lock-broken", "lease-expired",
            "ups-completed", "ups-canceled", "signed", "withdrawn":
            if lastState[item.uid] != item.state || change.kind == "requested" {
                out.append(UPS.eventReport(.stateReport, item: ds))
            }
            if ["claimed", "assigned"].contains(change.kind)
                || (["second-opinion", "double-reading"].contains(change.kind) && item.assignee != nil)
            {
                out.append(UPS.eventReport(.assigned, item: ds))
            }
        default:
            break
        }
        lastState[item.uid] = item.state
        return out
    }
}
