import Archive
import Platform

/// Authorization and audit for DIMSE: a calling AE title mapped to an institution (in the database by an administrator,
/// else by the configuration's `peers[].institution`) stores into that institution and queries and retrieves only its
/// studies; every C-STORE, C-FIND, C-MOVE and C-GET is recorded in the audit trail (PS3.15 A.5.3).
public struct DIMSEAccess: Sendable {
    let peers: ConfiguredPeers
    let identity: IdentityStore?

    public init(peers: ConfiguredPeers, identity: IdentityStore?) {
        self.peers = peers
        self.identity = identity
    }

    /// The institution code of a calling AE title, or nil when it is mapped to none (then it is not limited).
    public func institution(aeTitle: String) async -> String? {
        if let identity, let mapped = try? await identity.peerInstitutions()[aeTitle] { return mapped }
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
