import Archive
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

    /// Records a DIMSE operation.
    func record(
        _ event: AuditCode, action: AuditAction, aeTitle: String, studies: [String], outcome: AuditOutcome = .success,
        detail: String = ""
    ) async {
        guard let identity else { return }
        await identity.audit.record(
            AuditEvent(
                eventID: event, action: action, outcome: outcome, user: "ae:" + aeTitle, sourceAddress: aeTitle, transport: "dimse",
                participants: studies.map(AuditParticipant.study), detail: detail))
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
