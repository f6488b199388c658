import Archive
import Foundation
import Logging
import Platform
import Reading
import ServiceLifecycle

/// The workflow's clock-driven steps, about once a second: locks whose lease has passed go back to the worklist,
/// unacknowledged critical results are escalated, signed versions' documents still pending are stored, and studies
/// that arrived for requests waiting on an accession number are linked (every tenth round), and the mail outbox is sent.
///
/// With several processes on one PostgreSQL (``cluster``), a round runs in one process at a time: it holds a
/// transaction-scoped advisory lock while it runs, and a process that finds the lock taken skips its round. So two
/// processes never send the same mail or store the same report document at once; the lock goes with the holder's
/// connection should that process die, and the next round elsewhere takes the work up from the rows.
struct ReadingMaintenance: Service {
    let store: ReadingStore
    let archive: Archive
    let logger: Logger
    /// Sends the mail outbox when SMTP is configured.
    var mailer: ReadingMailer? = nil
    /// The other processes on the same PostgreSQL, when there are any.
    var cluster: ProcessCluster? = nil
    /// The advisory lock key of a round.
    static let roundLock: Int64 = 0x4154_5244_4D4E

    func run() async throws {
        let documents = ReportDocuments(store: store, archive: archive, logger: logger)
        let linker = ReadingLinker(store: store, archive: archive, logger: logger)
        await cancelWhenGracefulShutdown {
            var round = 0
            while !Task.isCancelled {
                let linking = round % 10 == 0
                if let cluster {
                    do {
                        _ = try await cluster.exclusively(key: Self.roundLock) {
                            await once(documents: documents, linker: linker, linking: linking)
                        }
                    } catch {
                        logger.error("consultation maintenance could not take its lock", metadata: ["error": "\(error)"])
                    }
                } else {
                    await once(documents: documents, linker: linker, linking: linking)
                }
                round += 1
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    func once(documents: ReportDocuments, linker: ReadingLinker, linking: Bool) async {
        do {
            let released = try await store.expireLeases()
            if !released.isEmpty { logger.info("locks released after their lease", metadata: ["count": "\(released.count)"]) }
            let escalated = try await store.escalateCriticalResults()
            if !escalated.isEmpty { logger.notice("critical results escalated", metadata: ["count": "\(escalated.count)"]) }
        } catch {
            logger.error("consultation maintenance failed", metadata: ["error": "\(error)"])
        }
        await documents.storePending()
        await mailer?.sendDue()
        if linking {
            do {
                try await linker.linkWaitingStudies(institution: nil)
            } catch {
                logger.error("linking studies to requests failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
