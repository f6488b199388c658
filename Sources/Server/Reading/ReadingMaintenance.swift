import Archive
import Foundation
import Logging
import Reading
import ServiceLifecycle

/// The workflow's clock-driven steps, about once a second: locks whose lease has passed go back to the worklist,
/// unacknowledged critical results are escalated, signed versions' documents still pending are stored, and studies
/// that arrived for requests waiting on an accession number are linked (every tenth round), and the mail outbox is sent.
struct ReadingMaintenance: Service {
    let store: ReadingStore
    let archive: Archive
    let logger: Logger
    /// Sends the mail outbox when SMTP is configured.
    var mailer: ReadingMailer? = nil

    func run() async throws {
        let documents = ReportDocuments(store: store, archive: archive, logger: logger)
        let linker = ReadingLinker(store: store, archive: archive, logger: logger)
        await cancelWhenGracefulShutdown {
            var round = 0
            while !Task.isCancelled {
                await once(documents: documents, linker: linker, linking: round % 10 == 0)
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
