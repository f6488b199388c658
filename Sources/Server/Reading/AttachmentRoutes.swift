import Archive
import DICOM
import Foundation
import Hummingbird
import NIOCore
import Platform
import Reading

/// Files attached to a consultation request (an earlier report, the paper request form as PDF or photo):
/// `POST /api/consultations/{id}/attachments` (multipart/form-data, or the bare file with its own Content-Type),
/// `GET /api/consultations/{id}/attachments`, `GET /api/attachments/{id}` (the bytes as sent). A file's kind is read
/// from its bytes, never from what the client says; a refused file stores nothing. Stored as DICOM in the request's
/// study too when asked (`storeAs=dicom`, the default when the study is in the archive): PDF as Encapsulated PDF, JPEG
/// as Secondary Capture. See docs/api.md and docs/conformance.md.
extension ReadingRoutes {
    /// How an upload asks to be kept.
    enum StoreAs: String {
        case dicom, file
    }

    /// One file to attach, as read from a request body.
    struct Upload {
        var filename: String
        var bytes: [UInt8]
        var storeAs: StoreAs?
    }

    func registerAttachments(on router: Router<AtriumRequestContext>) {
        router.post("/api/consultations/:id/attachments") { request, context in
            let (principal, consultation) = try await self.visibleRequest(context, action: .attach)
            let uploads = try await Self.uploads(request)
            guard !uploads.isEmpty else { throw HTTPError(.badRequest, message: "no file in the body (a part named file)") }
            for upload in uploads { try Self.check(upload) }
            var added: [[String: Any]] = []
            for upload in uploads {
                added.append(Self.describe(try await self.attach(upload, to: consultation, principal: principal, context: context)))
            }
            return Self.json(added.count == 1 ? added[0] : added, status: .created)
        }
        router.get("/api/consultations/:id/attachments") { _, context in
            let (principal, consultation) = try await self.visibleRequest(context, action: .viewRequest)
            try await self.requireAttachmentAccess(principal, consultation)
            let list = try await Self.mapped { try await self.store.attachments(requestID: consultation.id) }
            return Self.json(list.map(Self.describe))
        }
        router.get("/api/attachments/:id") { _, context in
            let principal = try Self.signedIn(context)
            let id = try Self.id(context)
            guard let attachment = try await Self.mapped({ try await self.store.attachment(id: id) }),
                let consultation = try await Self.mapped({ try await self.store.request(id: attachment.requestID) }),
                ReadingAccess.decide(.viewRequest, principal: principal, requestInstitution: consultation.institutionCode).allowed
            else { throw HTTPError(.notFound, message: "no such attachment") }
            try await self.requireAttachmentAccess(principal, consultation)
            guard let found = try await Self.mapped({ try await self.store.attachmentContent(id: id, by: self.actor(principal, context)) })
            else { throw HTTPError(.notFound, message: "no such attachment") }
            let (stored, bytes) = found
            // The sniffed type, never rendered as anything else; the name as a download, RFC 6266 / RFC 8187.
            let encoded =
                stored.filename.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: ".-_")))
                ?? "attachment"
            let ascii = String(stored.filename.unicodeScalars.map { $0.isASCII && $0 != "\\" ? Character($0) : "_" })
            return Response(
                status: .ok,
                headers: [
                    .contentType: stored.type.rawValue, .cacheControl: "no-store", .init("X-Content-Type-Options")!: "nosniff",
                    .contentDisposition: "attachment; filename=\"\(ascii)\"; filename*=UTF-8''\(encoded)",
                ],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }

    /// A request's attachments are for its site, its assigned readers and administrators (``ReadingAccess``).
    func requireAttachmentAccess(_ principal: Principal, _ consultation: ConsultationRequest) async throws {
        try await Self.requireAttachmentAccess(store, principal, consultation)
    }

    static func requireAttachmentAccess(_ store: ReadingStore, _ principal: Principal, _ consultation: ConsultationRequest) async throws {
        let assigned =
            principal.has(.reader)
            ? try await mapped { try await store.isAssigned(username: principal.username, requestID: consultation.id) } : false
        try require(.viewAttachments, principal, institution: consultation.institutionCode, assigned: assigned)
    }

    /// `consultation`'s attachments for a page, or nil when `principal` may not see them.
    static func visibleAttachments(_ store: ReadingStore, _ principal: Principal, _ consultation: ConsultationRequest) async
        -> [[String: Any]]?
    {
        guard (try? await requireAttachmentAccess(store, principal, consultation)) != nil,
            let list = try? await store.attachments(requestID: consultation.id)
        else { return nil }
        return list.map { attachment in
            [
                "id": attachment.id, "filename": attachment.filename, "contentType": attachment.type.rawValue,
                "size": ByteCountFormatter.string(fromByteCount: Int64(attachment.sizeBytes), countStyle: .file),
                "dicom": attachment.sopInstanceUID != nil, "href": "/api/attachments/\(attachment.id)",
                "time": ReadingFormat.local(attachment.createdAt),
            ]
        }
    }

    /// The files of a body: multipart/form-data (parts with a file name; a part named `storeAs` applies to all) or one
    /// bare file (`?filename=…&storeAs=…`).
    static func uploads(_ request: Request) async throws -> [Upload] {
        let limit = RequestAttachment.maximumBytes * 4 + (1 << 20)
        let collected: ByteBuffer
        do {
            collected = try await request.body.collect(upTo: limit)
        } catch {
            throw HTTPError(.contentTooLarge, message: "attachments have at most \(RequestAttachment.maximumBytes >> 20) MB each")
        }
        let body = Array(collected.readableBytesView)
        let contentType = request.headers[.contentType] ?? ""
        func query(_ name: String) -> String? {
            request.uri.queryParameters[Substring(name)].map { String($0).removingPercentEncoding ?? String($0) }
        }
        if contentType.lowercased().hasPrefix("multipart/form-data") {
            let parts = try Self.formDataParts(body, contentType: contentType)
            var storeAs: StoreAs? = try query("storeAs").map(Self.storeAs)
            var files: [Upload] = []
            for part in parts {
                let disposition = Self.disposition(part.headers["content-disposition"] ?? "")
                if disposition["name"] == "storeAs" {
                    storeAs = try Self.storeAs(String(decoding: part.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
                } else if let filename = disposition["filename"] {
                    // A browser sends an empty part for a file input left empty.
                    if filename.isEmpty && part.body.isEmpty { continue }
                    files.append(Upload(filename: filename, bytes: part.body, storeAs: nil))
                }
            }
            return files.map {
                var upload = $0; upload.storeAs = storeAs; return upload
            }
        }
        if body.isEmpty { return [] }
        return [Upload(filename: query("filename") ?? "attachment", bytes: body, storeAs: try query("storeAs").map(Self.storeAs))]
    }

    static func storeAs(_ text: String) throws -> StoreAs {
        guard let value = StoreAs(rawValue: text) else { throw HTTPError(.badRequest, message: "storeAs is dicom or file") }
        return value
    }

    /// The parts of a multipart/form-data body; 400 without a boundary or when the body does not parse.
    static func formDataParts(_ body: [UInt8], contentType: String) throws -> [MultipartPart] {
        guard let media = MediaTypeValue(contentType), let boundary = media.parameters["boundary"] else {
            throw HTTPError(.badRequest, message: "multipart/form-data needs a boundary")
        }
        do {
            return try Multipart.parse(body, boundary: boundary)
        } catch {
            throw HTTPError(.badRequest, message: "\(error)")
        }
    }

    /// The parameters of a Content-Disposition header (`form-data; name="file"; filename="form.pdf"`), names lower-cased.
    static func disposition(_ header: String) -> [String: String] {
        var result: [String: String] = [:]
        for piece in header.split(separator: ";").dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            let name = piece[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var value = piece[piece.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            result[name] = value
        }
        return result
    }

    /// The checks that refuse a file before anything is stored, with the HTTP status that says why.
    static func check(_ upload: Upload) throws {
        if upload.bytes.count > RequestAttachment.maximumBytes {
            throw HTTPError(.contentTooLarge, message: "an attachment has at most \(RequestAttachment.maximumBytes >> 20) MB")
        }
        guard !upload.bytes.isEmpty else { throw HTTPError(.badRequest, message: "the attached file \(upload.filename) is empty") }
        guard AttachmentType.sniff(upload.bytes) != nil else {
            throw HTTPError(
                .unsupportedMediaType, message: "only PDF and JPEG files can be attached; the content of \(upload.filename) is neither")
        }
        if upload.storeAs == .dicom, AttachmentType.sniff(upload.bytes) == .jpeg {
            guard let frame = JPEGFrameHeader.parse(upload.bytes) else {
                throw HTTPError(.unprocessableContent, message: AttachmentDocuments.Refusal.unreadableJPEG.description)
            }
            guard frame.isBaseline else {
                throw HTTPError(.unprocessableContent, message: AttachmentDocuments.Refusal.notBaselineJPEG.description)
            }
        }
    }

    /// Attaches one checked file: as DICOM in the request's study when asked (or by default when the study is held), and
    /// always as the bytes sent.
    func attach(
        _ upload: Upload, to consultation: ConsultationRequest, principal: Principal, context: AtriumRequestContext
    ) async throws -> RequestAttachment {
        guard let type = AttachmentType.sniff(upload.bytes) else { throw HTTPError(.unsupportedMediaType, message: "not PDF or JPEG") }
        var dicom: (sopInstanceUID: String, seriesInstanceUID: String)?
        if upload.storeAs != .file {
            let study: ReportDocument.Study?
            if let uid = consultation.studies.first {
                study = try await ReportDocument.Study.fromArchive(archive, studyInstanceUID: uid)
            } else {
                study = nil
            }
            if let study {
                let sopInstanceUID = UID.generate()
                let seriesInstanceUID = UID.generate()
                let title = type == .pdf ? "Attached document" : "Photo of a paper document"
                do {
                    let file = try AttachmentDocuments.file(
                        upload.bytes, type: type, title: title, study: study, institution: consultation.institutionCode, created: store.now,
                        seriesInstanceUID: seriesInstanceUID, sopInstanceUID: sopInstanceUID)
                    _ = try await archive.store(
                        try file.encoded(),
                        source: SourceInfo(
                            applicationEntityTitle: "ATRIUM", institution: consultation.institutionCode, transport: .importer),
                        name: "attachment to consultation \(consultation.id)")
                    dicom = (sopInstanceUID, seriesInstanceUID)
                } catch let refusal as AttachmentDocuments.Refusal {
                    if upload.storeAs == .dicom { throw HTTPError(.unprocessableContent, message: refusal.description) }
                }
            } else if upload.storeAs == .dicom {
                throw HTTPError(.conflict, message: "the request's study is not in the archive yet: attach the file as storeAs=file")
            }
        }
        return try await Self.mapped {
            try await self.store.addAttachment(
                requestID: consultation.id, filename: upload.filename, bytes: upload.bytes, dicom: dicom,
                by: self.actor(principal, context))
        }
    }

    static func describe(_ attachment: RequestAttachment) -> [String: Any] {
        [
            "id": attachment.id, "requestID": attachment.requestID, "filename": attachment.filename,
            "contentType": attachment.type.rawValue, "sizeBytes": attachment.sizeBytes, "sha256": attachment.sha256,
            "storedAs": attachment.sopInstanceUID == nil ? "file" : "dicom",
            "sopInstanceUID": attachment.sopInstanceUID ?? NSNull(), "seriesInstanceUID": attachment.seriesInstanceUID ?? NSNull(),
            "uploadedBy": attachment.uploadedBy, "createdAt": ReadingFormat.iso(attachment.createdAt),
            "href": "/api/attachments/\(attachment.id)",
        ]
    }
}
