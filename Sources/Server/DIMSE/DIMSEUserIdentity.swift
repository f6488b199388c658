import DICOMNetwork
import Platform

/// Checks the user identity a DIMSE peer presents in its A-ASSOCIATE-RQ (PS3.7 D.3.3.7) against the people of the
/// identity store: type 2 (username and passcode), where the passcode is the person's password or one of their API
/// tokens (`atr_…`). A password check counts towards the account's lock-out like a web sign-in, and every outcome is a
/// User Authentication audit event (PS3.15 A.5.3.17) with transport `dimse`. Students, who never see clinical studies,
/// are refused. When ``ServerConfiguration/dicomRequireUserIdentity`` is set, an association without an identity is
/// rejected; otherwise a presented identity is still checked, and a wrong one rejects the association.
struct DIMSEUserIdentity: UserIdentityAuthenticator {
    let identity: IdentityStore

    func authenticate(_ request: UserIdentityRQ, callingAETitle: String) async -> UserIdentityDecision {
        guard case .usernameAndPasscode(let username, let passcode) = request.identity else {
            await refuse(user: "", aeTitle: callingAETitle, "only user identity type 2 (username and passcode) is accepted")
            return .reject
        }
        var principal: Principal?
        if passcode.hasPrefix("atr_") {
            if let owner = try? await identity.principal(bearerToken: passcode), owner.username == username { principal = owner }
            if principal == nil { await refuse(user: username, aeTitle: callingAETitle, "unknown, expired or revoked token") }
        } else if case .success(let person)? = try? await identity.authenticate(
            username: username, password: passcode, source: "ae:" + callingAETitle, transport: "dimse")
        {
            principal = person
        }
        guard let principal else { return .reject }
        if principal.roles.isDisjoint(with: [.site, .reader, .curator, .supervisor, .admin]) {
            await refuse(user: username, aeTitle: callingAETitle, "this role may not use DICOM services")
            return .reject
        }
        return .accept(serverResponse: [])
    }

    private func refuse(user: String, aeTitle: String, _ reason: String) async {
        await identity.audit.record(
            AuditEvent(
                eventID: .userAuthentication, eventType: .login, action: .execute, outcome: .minorFailure, user: user,
                sourceAddress: "ae:" + aeTitle, transport: "dimse", participants: user.isEmpty ? [] : [.user(user)],
                detail: "user identity negotiation refused: \(reason)"))
    }
}
