import Archive
import DICOMNetwork
import Foundation
import Platform
import Synchronization

/// Authorization and audit for DIMSE: a calling AE title mapped to an institution (in the database by an administrator,
/// else by the configuration's `peers[].institution`) stores into that institution and queries and retrieves only its
/// studies; every C-STORE, C-FIND, C-MOVE and C-GET is recorded in the audit trail (PS3.15 A.5.3).
public struct DIMSEAccess: Sendable {
    let peers: ConfiguredPeers
    let identity: IdentityStore?
    /// The database's AE-title-to-institution mapping, read at most once a second (every C-STORE asks for it).
    private let mapping = RecentPeerInstitutions()

    public init(peers: ConfiguredPeers, identity: IdentityStore?) {
        self.peers = peers
        self.identity = identity
    }

    /// The institution code of a calling AE title, or nil when it is mapped to none (then it is not limited).
    public func institution(aeTitle: String) async -> String? {
        if let identity, let mapped = await mapping.current(identity)?[aeTitle] { return mapped }
        return peers.institution(aeTitle: aeTitle)
    }

    /// Records a DIMSE operation; `patient` (a Patient ID) is named as the patient participant when given. C-STOREs
    /// inside an association served by ``AuditedAssociations`` are gathered and recorded when it ends.
    func record(
        _ event: AuditCode, action: AuditAction, aeTitle: String, studies: [String], patient: String? = nil,
        outcome: AuditOutcome = .success, detail: String = ""
    ) async {
        if event == .instancesTransferred, action == .create, let gathering = AssociationAudit.current {
            gathering.add(studies: studies, patient: patient ?? "", outcome: outcome, detail: detail)
            return
        }
        guard let identity else { return }
        let patient = patient?.isEmpty == true ? nil : patient
        await identity.audit.record(
            AuditEvent(
                eventID: event, action: action, outcome: outcome, user: "ae:" + aeTitle, sourceAddress: aeTitle, transport: "dimse",
                participants: (patient.map { [AuditParticipant.patient($0)] } ?? []) + studies.map(AuditParticipant.study),
                detail: detail))
    }
}

/// The peer-to-institution mapping as last read, kept for a second so that a burst of C-STOREs reads it once; an
/// administrator's change takes effect within that second.
private final class RecentPeerInstitutions: Sendable {
    private let state = Mutex<(read: Double, mapping: [String: String])?>(nil)

    func current(_ identity: IdentityStore) async -> [String: String]? {
        let now = Date().timeIntervalSince1970
        if let kept = state.withLock({ $0 }), now - kept.read < 1 { return kept.mapping }
        guard let mapping = try? await identity.peerInstitutions() else { return nil }
        state.withLock { $0 = (now, mapping) }
        return mapping
    }
}

/// The C-STOREs of one association, gathered so that the association is audited once per patient (PS3.15 A.5.3.4
/// DICOM Instances Transferred describes "the completion of transferring DICOM SOP Instances between two Application
/// Entities", not each instance, and names one patient): one success event for each patient whose instances were
/// received, naming that patient and each of their studies, and one failure event if anything was refused.
final class AssociationAudit: Sendable {
    /// The association being served, for the storage provider's C-STOREs (a task-local the provider's child tasks inherit).
    @TaskLocal static var current: AssociationAudit?

    private struct Patient {
        var studies: [String] = []
        var instances = 0
    }

    private struct Gathered {
        var patients: [String: Patient] = [:]
        var order: [String] = []
        var refused = 0
        var firstRefusal = ""
    }

    private let gathered = Mutex(Gathered())

    func add(studies: [String], patient: String, outcome: AuditOutcome, detail: String) {
        gathered.withLock { state in
            guard outcome == .success else {
                if state.refused == 0 { state.firstRefusal = detail }
                state.refused += 1
                return
            }
            if state.patients[patient] == nil { state.order.append(patient) }
            state.patients[patient, default: Patient()].instances += 1
            for study in studies where state.patients[patient]?.studies.contains(study) == false {
                state.patients[patient]?.studies.append(study)
            }
        }
    }

    /// Records what was gathered: nothing when the association stored nothing.
    func flush(access: DIMSEAccess, aeTitle: String) async {
        let state = gathered.withLock { $0 }
        let total = state.patients.values.reduce(0) { $0 + $1.instances }
        for id in state.order {
            guard let patient = state.patients[id] else { continue }
            let count = patient.instances
            let of = state.order.count > 1 ? " of \(total) for \(state.order.count) patients" : ""
            await access.record(
                .instancesTransferred, action: .create, aeTitle: aeTitle, studies: patient.studies, patient: id,
                detail: "\(count) instance\(count == 1 ? "" : "s")\(of) stored in one association")
        }
        if state.refused > 0 {
            await access.record(
                .instancesTransferred, action: .create, aeTitle: aeTitle, studies: [], outcome: .seriousFailure,
                detail: "\(state.refused) C-STORE\(state.refused == 1 ? "" : "s") refused in one association; first: \(state.firstRefusal)")
        }
    }
}

/// Serves each association with `inner` while gathering its C-STOREs into one ``AssociationAudit``, recorded when the
/// association ends, however it ends.
struct AuditedAssociations<Inner: AssociationHandler>: AssociationHandler {
    let inner: Inner
    let access: DIMSEAccess

    func serve(_ association: AssociationContext, messages: AssociationMessages) async throws {
        let gathering = AssociationAudit()
        let aeTitle = association.negotiated.callingAETitle
        do {
            try await AssociationAudit.$current.withValue(gathering) { try await inner.serve(association, messages: messages) }
        } catch {
            await gathering.flush(access: access, aeTitle: aeTitle)
            throw error
        }
        await gathering.flush(access: access, aeTitle: aeTitle)
    }
}
