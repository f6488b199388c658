import Archive
import Foundation
import Platform

extension ReadingStore {
    static let attachmentColumns =
        "id, request_id, filename, content_type, size_bytes, sha256, sop_instance_uid, series_instance_uid, uploaded_by, created_at"

    static func attachmentRow(_ row: [SQLValue]) -> RequestAttachment? {
        guard let type = AttachmentType(rawValue: row[3].text ?? "") else { return nil }
        return RequestAttachment(
            id: row[0].integer ?? 0, requestID: row[1].integer ?? 0, filename: row[2].text ?? "", type: type,
            sizeBytes: Int(row[4].integer ?? 0), sha256: row[5].text ?? "", sopInstanceUID: row[6].text, seriesInstanceUID: row[7].text,
            uploadedBy: row[8].text ?? "", createdAt: date(row[9]) ?? Date(timeIntervalSince1970: 0))
    }

    /// Checks a file before anything is stored: its kind by magic bytes and its size. The same checks run again in
    /// ``addAttachment(requestID:filename:bytes:dicom:by:)``; callers that make a DICOM object of it first call this.
    public static func checkAttachment(_ bytes: [UInt8]) throws(ReadingError) -> AttachmentType {
        guard !bytes.isEmpty else { throw .invalid("the attached file is empty") }
        guard bytes.count <= RequestAttachment.maximumBytes else {
            throw .invalid("an attachment has at most \(RequestAttachment.maximumBytes >> 20) MB")
        }
        guard let type = AttachmentType.sniff(bytes) else {
            throw .invalid("only PDF and JPEG files can be attached (this file's content is neither)")
        }
        return type
    }

    /// Attaches `bytes` to a request: the row with its SHA-256 and the bytes, an event and an audit record. `dicom` names the
    /// object already stored in the request's study, if one was made of it.
    public func addAttachment(
        requestID: Int64, filename: String, bytes: [UInt8], dicom: (sopInstanceUID: String, seriesInstanceUID: String)? = nil,
        by actor: ReadingActor
    ) async throws(ReadingError) -> RequestAttachment {
        let type = try Self.checkAttachment(bytes)
        let request = try await existingRequest(requestID)
        let now = clock()
        let name = RequestAttachment.cleanFilename(filename, type: type)
        let sha256 = SignatureV4.hexSHA256(bytes)
        guard
            let results = try await transaction([
                SQLStep(
                    "INSERT INTO consultation_attachments (request_id, filename, content_type, size_bytes, sha256, content, sop_instance_uid, "
                        + "series_instance_uid, uploaded_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    [
                        .integer(requestID), .text(name), .text(type.rawValue), .integer(Int64(bytes.count)), .text(sha256), .blob(bytes),
                        Self.text(dicom?.sopInstanceUID), Self.text(dicom?.seriesInstanceUID), .text(actor.username), Self.ms(now),
                    ], guarded: true),
                Self.event(requestID, "attachment-added", actor.username, "\(type.rawValue), \(bytes.count) bytes", at: now),
            ]), let id = results.first?.first?.first?.integer
        else { throw .database("the attachment was not written") }
        await record(.create, actor, request, "consultation \(requestID): attachment \(id) added (\(type.rawValue), \(bytes.count) bytes)")
        publish("attachment-added", request, item: nil, actor: actor)
        return RequestAttachment(
            id: id, requestID: requestID, filename: name, type: type, sizeBytes: bytes.count, sha256: sha256,
            sopInstanceUID: dicom?.sopInstanceUID, seriesInstanceUID: dicom?.seriesInstanceUID, uploadedBy: actor.username, createdAt: now)
    }

    /// A request's attachments, oldest first (without their bytes).
    public func attachments(requestID: Int64) async throws(ReadingError) -> [RequestAttachment] {
        try await query(
            "SELECT \(Self.attachmentColumns) FROM consultation_attachments WHERE request_id = ? ORDER BY id", [.integer(requestID)]
        ).compactMap(Self.attachmentRow)
    }

    /// One attachment with its bytes; the download is audited.
    public func attachmentContent(id: Int64, by actor: ReadingActor) async throws(ReadingError) -> (RequestAttachment, [UInt8])? {
        guard
            let row = try await query(
                "SELECT \(Self.attachmentColumns), content FROM consultation_attachments WHERE id = ?", [.integer(id)]
            ).first,
            let attachment = Self.attachmentRow(row)
        else { return nil }
        let consultation = try await request(id: attachment.requestID)
        await record(.read, actor, consultation, "consultation \(attachment.requestID): attachment \(id) downloaded")
        return (attachment, row[10].bytes ?? [])
    }

    /// The attachment's metadata only (for access checks before the download).
    public func attachment(id: Int64) async throws(ReadingError) -> RequestAttachment? {
        try await query("SELECT \(Self.attachmentColumns) FROM consultation_attachments WHERE id = ?", [.integer(id)]).first.flatMap(
            Self.attachmentRow)
    }

    /// Whether `username` is assigned to the request: holds or held one of its work items, is named on one, or writes
    /// one of its reports (``ReadingAccess``: who of the readers sees its attachments).
    public func isAssigned(username: String, requestID: Int64) async throws(ReadingError) -> Bool {
        let rows = try await query(
            "SELECT 1 FROM work_items WHERE request_id = ? AND (owner = ? OR assignee = ?) "
                + "UNION ALL SELECT 1 FROM reports WHERE request_id = ? AND author = ? "
                + "UNION ALL SELECT 1 FROM consultation_events WHERE request_id = ? AND kind = 'claimed' AND actor = ?",
            [
                .integer(requestID), .text(username), .text(username), .integer(requestID), .text(username), .integer(requestID),
                .text(username),
            ])
        return !rows.isEmpty
    }
}
