import DICOM
import Foundation
import HummingbirdWebSocket
import Logging
import Platform
import Reading
import Synchronization

/// The UPS event channels of this process (PS3.18 11.x, PS3.4 CC.2.4): each open WebSocket of an AE title receives the
/// event reports of the work items that AE is subscribed to, as DICOM JSON text messages. Changes come from the
/// consultation store's change feed, so a claim made on the web worklist reaches UPS subscribers as well as one made
/// over UPS-RS; with several processes on one PostgreSQL, that feed carries the other processes' changes too
/// (``ReadingChanges``), and the initial State Reports of a subscription taken on one process reach the AE's channels
/// open on the others (``sendInitial(aeTitle:uids:)``: the work items' UIDs go between processes, each rebuilds the
/// reports from the rows).
public final class UPSEventChannel: Sendable {
    /// The topic of initial State Reports between processes.
    static let initialTopic = "ups-initial"
    let store: ReadingStore
    let logger: Logger
    let cluster: ProcessCluster?
    private let connections = Mutex<[String: [UUID: AsyncStream<String>.Continuation]]>([:])

    public init(store: ReadingStore, logger: Logger, cluster: ProcessCluster? = nil) {
        self.store = store
        self.logger = logger
        self.cluster = cluster
        if let cluster {
            let incoming = cluster.subscribe(topic: Self.initialTopic)
            Task { [weak self] in
                for await body in incoming {
                    guard let self, let message = try? JSONDecoder().decode(Initial.self, from: Data(body.utf8)),
                        self.openChannels(aeTitle: message.ae) > 0
                    else { continue }
                    for uid in message.uids {
                        guard let entry = try? await self.store.upsEntry(uid: uid) else { continue }
                        self.send(aeTitle: message.ae, UPS.eventReport(.stateReport, item: entry.dataSet))
                    }
                }
            }
        }
    }

    private struct Initial: Codable {
        var ae: String
        var uids: [String]
    }

    /// How many channels are open for `aeTitle`.
    public func openChannels(aeTitle: String) -> Int { connections.withLock { $0[aeTitle]?.count ?? 0 } }

    /// Sends one event report to every open channel of `aeTitle` in this process.
    public func send(aeTitle: String, _ report: DataSet) {
        let text = String(decoding: DICOMJSONEncoder().encode(report), as: UTF8.self)
        for continuation in connections.withLock({ Array(($0[aeTitle] ?? [:]).values) }) { continuation.yield(text) }
    }

    /// The initial State Reports of a new subscription (PS3.4 CC.2.4.2): to the AE's channels here, and, through the
    /// other processes on the same database, to its channels there (100 UIDs a notification, well under its limit).
    func sendInitial(aeTitle: String, entries: [UPSEntry]) async {
        for entry in entries { send(aeTitle: aeTitle, UPS.eventReport(.stateReport, item: entry.dataSet)) }
        guard let cluster, !entries.isEmpty else { return }
        let uids = entries.map(\.item.uid)
        for start in stride(from: 0, to: uids.count, by: 100) {
            let chunk = Initial(ae: aeTitle, uids: Array(uids[start..<min(start + 100, uids.count)]))
            guard let body = try? JSONEncoder().encode(chunk) else { continue }
            await cluster.publish(topic: Self.initialTopic, body: String(decoding: body, as: UTF8.self))
        }
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
