import Archive
import Foundation
import Platform

/// The mail outbox: e-mails are written in the same transaction as the change they tell of (so a change is never lost
/// for want of a mail, nor a mail for want of a change), then sent by the server's mailer, retried with backoff.
extension ReadingStore {
    /// The steps that put `kind`'s e-mail about `request` in the outbox for each recipient that has an address, in the
    /// recipient's language: readers on duty (new requests), or the requesting institution's site users. Nothing when
    /// e-mail is off. `requestUID` names a request written in the same transaction (its id is not known yet).
    func mailSteps(_ kind: ReadingMail.Kind, request: ConsultationRequest, requestUID: String? = nil, at now: Date) -> [SQLStep] {
        guard settings.mail else { return [] }
        let english = ReadingMail.text(kind, request: request, english: true, link: settings.mailLinkBase)
        let chinese = ReadingMail.text(kind, request: request, english: false, link: settings.mailLinkBase)
        // A new request's texts say "#0" until its id is known; the step after the insert puts the id in.
        let texts: [SQLValue] = [
            .text(InterfaceLanguage.english.rawValue), .text(english.subject), .text(chinese.subject),
            .text(InterfaceLanguage.english.rawValue), .text(english.body), .text(chinese.body),
        ]
        let requestID: String
        var bindings: [SQLValue] = [.text(kind.rawValue)]
        if let requestUID {
            requestID = "(SELECT id FROM consultation_requests WHERE uid = ?)"
            bindings.append(.text(requestUID))
        } else {
            requestID = "?"
            bindings.append(.integer(request.id))
        }
        bindings += texts + [Self.ms(now), Self.ms(now)]
        let recipients: String
        switch kind {
        case .newRequest:
            recipients =
                "(',' || p.roles || ',') LIKE '%,reader,%' AND NOT EXISTS "
                + "(SELECT 1 FROM reader_profiles rp WHERE rp.username = p.username AND rp.on_duty = 0)"
        case .critical, .reportFinal:
            recipients = "(',' || p.roles || ',') LIKE '%,site,%' AND p.institution_id = (SELECT i.id FROM institutions i WHERE i.code = ?)"
            bindings.append(.text(request.institutionCode))
        }
        var steps = [
            SQLStep(
                "INSERT INTO mail_outbox (recipient, kind, request_id, subject, body, attempts, next_attempt_at, created_at) "
                    + "SELECT p.email, ?, \(requestID), CASE WHEN p.language = ? THEN ? ELSE ? END, CASE WHEN p.language = ? THEN ? ELSE ? END, "
                    + "0, ?, ? FROM people p WHERE p.email <> '' AND p.disabled = 0 AND \(recipients)",
                bindings)
        ]
        if requestUID != nil {
            // A new request's number is known only once written: put it in the texts of its mails.
            steps.append(
                SQLStep(
                    "UPDATE mail_outbox SET subject = REPLACE(subject, '#0', '#' || CAST(request_id AS TEXT)), "
                        + "body = REPLACE(REPLACE(body, '#0', '#' || CAST(request_id AS TEXT)), '/consultations/0', "
                        + "'/consultations/' || CAST(request_id AS TEXT)) WHERE sent_at IS NULL AND request_id = "
                        + "(SELECT id FROM consultation_requests WHERE uid = ?)",
                    [.text(requestUID ?? "")]))
        }
        return steps
    }

    /// E-mails due to be sent (not sent, not given up, their next attempt due), oldest first.
    public func dueMail(limit: Int = 20) async throws(ReadingError) -> [OutboxMail] {
        try await query(
            "SELECT id, recipient, kind, request_id, subject, body, attempts FROM mail_outbox "
                + "WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?",
            [Self.ms(clock()), .integer(Int64(max(1, limit)))]
        ).map { row in
            OutboxMail(
                id: row[0].integer ?? 0, recipient: row[1].text ?? "", kind: row[2].text ?? "", requestID: row[3].integer ?? 0,
                subject: row[4].text ?? "", body: row[5].text ?? "", attempts: Int(row[6].integer ?? 0))
        }
    }

    /// Every e-mail of a request (for tests and the audit of who was told).
    public func mail(requestID: Int64) async throws(ReadingError) -> [(mail: OutboxMail, sent: Bool)] {
        try await query(
            "SELECT id, recipient, kind, request_id, subject, body, attempts, sent_at FROM mail_outbox WHERE request_id = ? ORDER BY id",
            [.integer(requestID)]
        ).map { row in
            (
                OutboxMail(
                    id: row[0].integer ?? 0, recipient: row[1].text ?? "", kind: row[2].text ?? "", requestID: row[3].integer ?? 0,
                    subject: row[4].text ?? "", body: row[5].text ?? "", attempts: Int(row[6].integer ?? 0)),
                row[7].integer != nil
            )
        }
    }

    public func markMailSent(id: Int64) async throws(ReadingError) {
        try await query(
            "UPDATE mail_outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?", [Self.ms(clock()), .integer(id)])
    }

    /// A failed attempt: the next one after `retrySeconds` × 2^attempts (at most an hour); after `maximumAttempts`
    /// the mail is given up (failed_at), still in the table for the record.
    public func markMailFailed(id: Int64, attempts: Int, error: String, retrySeconds: Double, maximumAttempts: Int = 12)
        async throws(ReadingError)
    {
        let now = clock()
        let delay = min(retrySeconds * pow(2, Double(attempts)), 3600)
        let giveUp = attempts + 1 >= maximumAttempts
        try await query(
            "UPDATE mail_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, failed_at = ? WHERE id = ?",
            [.text(String(error.prefix(500))), Self.ms(now.addingTimeInterval(delay)), giveUp ? Self.ms(now) : .null, .integer(id)])
    }
}
