import Archive
import DICOM
import Foundation
import Hummingbird
import NIOCore

/// The resumable upload protocol (docs/api.md): create a session, `PUT` chunks at offsets, ask the offset after an
/// interruption, complete to ingest.
extension WebRoutes {
    struct CreateUpload: Decodable {
        var name: String
        var size: Int
    }

    struct UploadState: Encodable {
        var id: String
        var name: String
        var size: Int
        var offset: Int
    }

    struct UploadProblem: Encodable {
        var error: String
        var offset: Int?
    }

    struct UploadCompletion: Encodable {
        var name: String
        var results: [UploadItemResult]
    }

    func registerUploadEndpoints(on router: Router<AtriumRequestContext>) {
        router.post("/uploads") { request, context in
            try await self.guarded(request, context) { owner in
                let body = try await request.body.collect(upTo: 64 * 1024)
                guard let create = try? JSONDecoder().decode(CreateUpload.self, from: Data(buffer: body)) else {
                    throw UploadSessions.Failure.invalid("the body must be JSON with name and size")
                }
                let session = try await self.uploads.create(name: create.name, sizeBytes: create.size, owner: owner)
                return Self.json(UploadState(id: session.id, name: session.name, size: session.sizeBytes, offset: 0), status: .created)
            }
        }
        router.get("/uploads/:id") { request, context in
            try await self.guarded(request, context, checkCSRF: false) { owner in
                let (session, held) = try await self.uploads.status(id: try context.parameters.require("id"), owner: owner)
                return Self.json(UploadState(id: session.id, name: session.name, size: session.sizeBytes, offset: held))
            }
        }
        router.put("/uploads/:id") { request, context in
            try await self.guarded(request, context) { owner in
                guard let offsetText = request.uri.queryParameters["offset"], let offset = Int(offsetText), offset >= 0 else {
                    throw UploadSessions.Failure.invalid("the offset query parameter is required")
                }
                let chunk = try await request.body.collect(upTo: Self.maximumChunkBytes)
                let id = try context.parameters.require("id")
                let held = try await self.uploads.append(id: id, owner: owner, offset: offset, chunk: chunk)
                let (session, _) = try await self.uploads.status(id: id, owner: owner)
                return Self.json(UploadState(id: id, name: session.name, size: session.sizeBytes, offset: held))
            }
        }
        router.post("/uploads/:id/complete") { request, context in
            try await self.guarded(request, context) { owner in
                let id = try context.parameters.require("id")
                // A scanner's slide file is converted to DICOM WSI with the attributes the page sent ({"slide": {keyword: value}}).
                let sent = try await request.body.collect(upTo: 64 << 10)
                let object = (try? JSONSerialization.jsonObject(with: Data(sent.readableBytesView))) as? [String: Any]
                let slideValues = (object?["slide"] as? [String: Any] ?? [:]).compactMapValues { $0 as? String }
                let attributes = try SlideRoutes.conversionAttributes(slideValues)
                let (session, path) = try await self.uploads.complete(id: id, owner: owner)
                let results: [UploadItemResult]
                if let converted = await SlideUpload.convertIfSlide(
                    path: path, name: session.name, attributes: attributes, store: self.uploadStore(context))
                {
                    results = converted
                } else {
                    results = await UploadIngest.ingest(
                        path: path, name: session.name, limits: self.configuration.intakeLimits,
                        temporaryDirectory: self.temporaryDirectory, store: self.uploadStore(context))
                }
                await self.uploads.remove(id: id)
                self.logger.info(
                    "web upload ingested",
                    metadata: [
                        "upload": "\(id)", "objects": "\(results.count)",
                        "failed": "\(results.filter { $0.status == .failed }.count)",
                    ])
                return Self.json(UploadCompletion(name: session.name, results: results))
            }
        }
        router.delete("/uploads/:id") { request, context in
            try await self.guarded(request, context) { owner in
                let id = try context.parameters.require("id")
                _ = try await self.uploads.status(id: id, owner: owner)
                await self.uploads.remove(id: id)
                return Response(status: .noContent)
            }
        }
    }

    /// How an upload stores an object: recorded as imported by the person; what a site user uploads belongs to its
    /// institution, and it cannot add to another institution's study (as with STOW-RS).
    func uploadStore(_ context: AtriumRequestContext) -> UploadIngest.Store {
        let archive = archive
        let access = DICOMwebAccess.current
        let source = SourceInfo(applicationEntityTitle: context.principal?.username, institution: access?.institution, transport: .importer)
        return { bytes, name in
            try await access?.refuseForeignStudy(bytes, archive: archive, name: name)
            let outcome = try await archive.store(bytes, source: source, name: name)
            access?.touch(study: outcome.studyInstanceUID, patient: outcome.patientID)
            return outcome
        }
    }

    /// Who owns uploads made by this request: the signed-in person, else this browser (its CSRF cookie).
    func uploadOwner(_ request: Request, _ context: AtriumRequestContext) -> String? {
        if let principal = context.principal { return "user:" + principal.username }
        return request.cookies[CSRF.cookieName].map { "browser:" + $0.value }
    }

    /// Runs an upload endpoint: checks the CSRF header and the owner, and turns failures into JSON problems.
    private func guarded(
        _ request: Request, _ context: AtriumRequestContext, checkCSRF: Bool = true, _ body: (String) async throws -> Response
    ) async throws -> Response {
        if checkCSRF, !CSRF.verify(request.headers[CSRF.header], request: request, context: context) {
            return Self.json(UploadProblem(error: "the X-CSRF-Token header is missing or wrong"), status: .forbidden)
        }
        guard let owner = uploadOwner(request, context) else {
            return Self.json(UploadProblem(error: "no session: load the upload page first"), status: .forbidden)
        }
        do {
            return try await body(owner)
        } catch let failure as UploadSessions.Failure {
            switch failure {
            case .notFound: return Self.json(UploadProblem(error: "no such upload"), status: .notFound)
            case .forbidden: return Self.json(UploadProblem(error: "this upload belongs to someone else"), status: .forbidden)
            case .offsetMismatch(let expected):
                return Self.json(UploadProblem(error: "the chunk must start at offset \(expected)", offset: expected), status: .conflict)
            case .tooLarge(let limit):
                return Self.json(UploadProblem(error: "uploads are limited to \(limit) bytes"), status: .contentTooLarge)
            case .incomplete(let held):
                return Self.json(UploadProblem(error: "the upload holds only \(held) bytes", offset: held), status: .conflict)
            case .invalid(let message): return Self.json(UploadProblem(error: message), status: .badRequest)
            case .storage(let message):
                logger.error("upload storage failed", metadata: ["error": "\(message)"])
                return Self.json(UploadProblem(error: "the server could not store the upload"), status: .internalServerError)
            }
        }
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
