import Foundation
import Laboratory
import Logging
import Reading

/// Carries laboratory critical values onto the consultation workflow's critical-result path: a result set that arrives
/// (over MLLP or FHIR) with a value beyond a critical limit is recorded on the laboratory's critical list, and when the
/// patient has an open laboratory consultation of the same institution, each such consultation gets a critical result
/// (the site is notified at once, must acknowledge it, is escalated to when it does not, and the audit trail records
/// each step, as for imaging). A consultation filed later on a result set with critical values still open gets them
/// the same way. Log lines carry result-set and request ids only.
struct LaboratoryCriticalPath: Sendable {
    let store: LaboratoryStore
    let reading: ReadingStore
    let logger: Logger

    static let actor = ReadingActor(username: "lab-critical-limits", displayName: "Laboratory critical limits", transport: "internal")

    /// After result sets were stored: finds their critical values and routes them. Failures are logged, never thrown (the
    /// results are stored and acknowledged already; the values stay on the laboratory's list).
    func arrived(_ ids: [String]) async {
        for id in ids {
            do {
                guard let set = try await store.resultSet(id: id) else { continue }
                let values = try await store.recordCriticalValues(of: set)
                guard !values.isEmpty else { continue }
                let open = try await reading.openRequests(serviceLine: .laboratory, institution: set.institution, patientID: set.patient.id)
                for request in open { try await route(values, to: request.id) }
                logger.notice(
                    "laboratory critical values", metadata: ["resultSet": "\(id)", "count": "\(values.count)", "routed": "\(open.count)"])
            } catch {
                logger.error("laboratory critical values not routed", metadata: ["resultSet": "\(id)", "error": "\(error)"])
            }
        }
    }

    /// After a laboratory consultation was filed on a result set: its critical values not yet acknowledged or routed
    /// follow the new consultation's critical-result path.
    func consultationFiled(requestID: Int64, resultSet: String) async {
        do {
            guard let set = try await store.resultSet(id: resultSet) else { return }
            let values = try await store.recordCriticalValues(of: set).filter { $0.requestID == nil && $0.acknowledgedAt == nil }
            guard !values.isEmpty else { return }
            try await route(values, to: requestID)
        } catch {
            logger.error("laboratory critical values not routed", metadata: ["request": "\(requestID)", "error": "\(error)"])
        }
    }

    func route(_ values: [CriticalValue], to requestID: Int64) async throws {
        let finding = values.map(\.finding).joined(separator: "; ")
        let result = try await reading.flagCritical(requestID: requestID, finding: String(finding.prefix(2000)), by: Self.actor)
        try await store.route(values.map(\.id), requestID: requestID, criticalResultID: result.id)
    }
}
