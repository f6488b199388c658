import Archive
import Foundation
import Hummingbird
import NIOCore
import Platform
import Programme
import Teaching

/// A `Range` request header judged against a representation of `length` bytes (RFC 9110 14.2, 14.4, 15.3.7, 15.5.17).
/// One range is served as 206; several, or a header that does not parse, are ignored (the whole file as 200), which the
/// RFC allows; a range that starts at or past the end is unsatisfiable (416).
enum ByteRangeRequest: Equatable {
    case whole
    case partial(Range<Int>)
    case unsatisfiable

    static func evaluate(_ header: String?, length: Int) -> ByteRangeRequest {
        guard let header = header?.trimmingCharacters(in: .whitespaces), !header.isEmpty else { return .whole }
        guard header.lowercased().hasPrefix("bytes=") else { return .whole }
        let specs = header.dropFirst(6).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard specs.count == 1, let spec = specs.first, let dash = spec.firstIndex(of: "-") else { return .whole }
        let first = String(spec[..<dash])
        let last = String(spec[spec.index(after: dash)...])
        func number(_ text: String) -> Int? {
            guard !text.isEmpty, text.count <= 18, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return Int(text)
        }
        if first.isEmpty {
            // A suffix: the last n bytes.
            guard let count = number(last) else { return .whole }
            guard count > 0, length > 0 else { return .unsatisfiable }
            return .partial(max(0, length - count)..<length)
        }
        guard let start = number(first) else { return .whole }
        var end = length - 1
        if !last.isEmpty {
            guard let value = number(last) else { return .whole }
            guard value >= start else { return .whole }
            end = min(value, length - 1)
        }
        guard start < length else { return .unsatisfiable }
        return .partial(start..<end + 1)
    }
}

extension EducationRoutes {
    func registerCourseware(on router: Router<AtriumRequestContext>) {
        router.post("/api/ce/courses/:id/modules") { request, context in try await self.addModuleJSON(request, context) }
        router.delete("/api/ce/modules/:module") { request, context in try await self.deleteModuleJSON(request, context) }
        router.post("/api/ce/courses/:id/publish") { request, context in try await self.publishJSON(request, context) }
        router.post("/api/ce/courses/:id/modules/:module/viewing") { request, context in try await self.viewingJSON(request, context) }
        router.get("/ce/modules/:module/file") { request, context in try await self.moduleFile(request, context) }
        router.get("/ce/modules/:module/poster") { request, context in try await self.modulePoster(request, context) }
        router.get("/ce/modules/:module/subtitles/:language") { request, context in try await self.subtitles(request, context) }
        router.post("/ce/courses/:id/publish") { request, context in try await self.publishForm(request, context) }
        router.post("/ce/modules/:module/delete") { request, context in try await self.deleteModuleForm(request, context) }
        router.post("/api/ce/modules/:module/move") { request, context in try await self.moveModuleJSON(request, context) }
        router.post("/ce/modules/:module/move") { request, context in try await self.moveModuleForm(request, context) }
    }

    /// Teachers (curators) and the programme office build courses and upload their files.
    static func teacher(_ context: AtriumRequestContext) throws -> Principal {
        let principal = try learner(context)
        guard isTeacher(principal) else {
            throw HTTPError(.forbidden, message: "only teachers (curators) and the programme office build courses")
        }
        return principal
    }

    static func isTeacher(_ principal: Principal) -> Bool { principal.has(.curator) || principal.has(.admin) }

    /// A module, when its course is visible to `principal` (published, or to teachers).
    func visibleModule(_ context: AtriumRequestContext) async throws -> (Principal, Course, CourseModule) {
        let principal = try Self.learner(context)
        let module = try await mapped { try await store.module(try Self.id(context, "module")) }
        let course = try await visibleCourse(module.course, principal)
        return (principal, course, module)
    }

    // MARK: - Building

    /// What a request for a new module carried: fields and files (multipart/form-data) or fields alone (JSON).
    struct ModuleRequest {
        var fields: [String: String] = [:]
        var files: [String: (filename: String, bytes: [UInt8])] = [:]
    }

    func moduleRequest(_ request: Request) async throws -> ModuleRequest {
        let contentType = request.headers[.contentType] ?? ""
        let limit = courseware.maximumBytes * 2 + (1 << 20)
        let collected: ByteBuffer
        do {
            collected = try await request.body.collect(upTo: limit)
        } catch {
            throw HTTPError(.contentTooLarge, message: "a course file has at most \(courseware.maximumBytes >> 20) MB")
        }
        let body = Array(collected.readableBytesView)
        var result = ModuleRequest()
        if contentType.lowercased().hasPrefix("multipart/form-data") {
            for part in try ReadingRoutes.formDataParts(body, contentType: contentType) {
                let disposition = ReadingRoutes.disposition(part.headers["content-disposition"] ?? "")
                guard let name = disposition["name"] else { continue }
                if let filename = disposition["filename"] {
                    // A browser sends an empty part for a file input left empty.
                    if part.body.isEmpty { continue }
                    result.files[name] = (filename.isEmpty ? name : filename, part.body)
                } else {
                    result.fields[name] = String(decoding: part.body, as: UTF8.self)
                }
            }
            return result
        }
        guard !body.isEmpty else { throw HTTPError(.badRequest, message: "the module is missing from the body") }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw HTTPError(.badRequest, message: "the body is a JSON object or multipart/form-data")
        }
        for (key, value) in object {
            switch value {
            case let text as String: result.fields[key] = text
            case let number as NSNumber: result.fields[key] = number.stringValue
            default: continue
            }
        }
        return result
    }

    /// `POST /api/ce/courses/{id}/modules`: `kind` (text, case, link, courseware, video), `title`, and by kind `body`
    /// (text, or a link's address), `caseID`, a `file` (PDF; MP4 or WebM), a `poster` (PNG or JPEG) and subtitles
    /// `subtitles_zh` / `subtitles_en` (WebVTT). A video without a poster gets one from ffmpeg when it is installed.
    func addModuleJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.teacher(context)
        let id = try Self.id(context)
        _ = try await visibleCourse(id, principal)
        let input = try await moduleRequest(request)
        guard let kind = CourseModuleKind(rawValue: input.fields["kind"] ?? "") else {
            throw HTTPError(.badRequest, message: "kind is one of text, case, link, courseware, video")
        }
        var module = NewCourseModule(kind: kind, title: input.fields["title"] ?? "", body: input.fields["body"] ?? "")
        if kind == .teachingCase {
            guard let caseID = Int64(input.fields["caseID"] ?? input.fields["case"] ?? "") else {
                throw HTTPError(.badRequest, message: "a case module needs caseID")
            }
            guard (try? await teaching.published(caseID)) != nil else {
                throw HTTPError(.badRequest, message: "case \(caseID) is not a published teaching case")
            }
            module.caseID = caseID
        }
        for (field, language) in [("subtitles_zh", "zh-CN"), ("subtitles_en", "en")] {
            if let file = input.files[field] {
                do {
                    _ = try WebVTT.cues(file.bytes)
                } catch {
                    throw HTTPError(.unprocessableContent, message: "subtitles \(language) (\(file.filename)): \(error)")
                }
                module.subtitles[language] = String(
                    decoding: file.bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(file.bytes.dropFirst(3)) : file.bytes, as: UTF8.self)
            }
        }
        // Everything that can be refused without storing is checked first; then the files are kept.
        if let problem = Self.withoutFiles(module, hasFile: input.files["file"] != nil) {
            throw HTTPError(.badRequest, message: problem.description)
        }
        var kept: [CourseFile] = []
        do {
            if let file = input.files["file"] {
                let allowed: Set<CoursewareType> = kind == .video ? [.mp4, .webm] : kind == .courseware ? [.pdf] : []
                let stored = try await courseware.keep(file.bytes, filename: file.filename, allowed: allowed)
                kept.append(stored)
                module.file = stored
            }
            if let poster = input.files["poster"] {
                let stored = try await courseware.keep(poster.bytes, filename: poster.filename, allowed: [.png, .jpeg])
                kept.append(stored)
                module.poster = stored
            } else if kind == .video, let video = input.files["file"], let frame = await PosterFrame.extract(video.bytes) {
                let stored = try await courseware.keep(frame, filename: "poster.jpg", allowed: [.jpeg, .png])
                kept.append(stored)
                module.poster = stored
            }
            let added = try await store.addModule(course: id, module, by: principal.username)
            await record(
                context,
                "course \(id): \(kind.rawValue) module \(added.id) added"
                    + (added.file.map { ", \($0.contentType) \($0.sizeBytes) bytes sha256 \($0.sha256)" } ?? ""))
            return AuthRoutes.json(moduleObject(added), status: .created)
        } catch {
            for file in kept { await courseware.remove(file) }
            throw httpError(error)
        }
    }

    /// The HTTP error of a failure to keep a module: the upload refusals with their own statuses, the rest as
    /// ``mapped(_:)`` says.
    func httpError(_ error: any Error) -> any Error {
        guard let error = error as? ProgrammeError else { return error }
        switch error {
        case .fileTooLarge: return HTTPError(.contentTooLarge, message: error.description)
        case .unsupportedFile: return HTTPError(.unsupportedMediaType, message: error.description)
        case .invalidSubtitles: return HTTPError(.unprocessableContent, message: error.description)
        case .notFound: return HTTPError(.notFound, message: error.description)
        case .conflict: return HTTPError(.conflict, message: error.description)
        case .notEnrolled: return HTTPError(.forbidden, message: error.description)
        case .database:
            logger.error("programme store", metadata: ["error": "\(error)"])
            return HTTPError(.internalServerError, message: "continuing education is not available")
        default: return HTTPError(.badRequest, message: error.description)
        }
    }

    /// The module's problem before its files are stored (a placeholder file of the right kind stands in for them).
    static func withoutFiles(_ module: NewCourseModule, hasFile: Bool) -> ProgrammeError? {
        var probe = module
        if hasFile, module.kind == .video || module.kind == .courseware {
            probe.file = CourseFile(
                key: "", contentType: module.kind == .video ? CoursewareType.mp4.rawValue : CoursewareType.pdf.rawValue, sizeBytes: 0,
                sha256: "", filename: "")
        }
        return probe.problem
    }

    func deleteModuleJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.teacher(context)
        let module = try await deleteModule(principal, context)
        return AuthRoutes.json(["deleted": module.id])
    }

    func deleteModuleForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.teacher(context)
        let module = try await deleteModule(principal, context)
        return .redirect(to: "/ce/courses/\(module.course)", type: .found)
    }

    func deleteModule(_ principal: Principal, _ context: AtriumRequestContext) async throws -> CourseModule {
        let id = try Self.id(context, "module")
        let module = try await mapped { try await store.deleteModule(id) }
        await courseware.remove(module.file)
        await courseware.remove(module.poster)
        await record(context, "course \(module.course): module \(id) deleted")
        return module
    }

    struct MoveBody: Decodable { var direction: String }

    /// `POST /api/ce/modules/{module}/move` with `{"direction": "up"|"down"}`: the course's modules in their new order.
    func moveModuleJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.teacher(context)
        let body = try await LibraryRoutes.decodeBody(MoveBody.self, request)
        let modules = try await move(context, direction: body.direction)
        return AuthRoutes.json(["modules": modules.map(moduleObject)])
    }

    func moveModuleForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.teacher(context)
        let form = try await FormBody.read(request)
        let modules = try await move(context, direction: form["direction"] ?? "")
        return .redirect(to: "/ce/courses/\(modules.first?.course ?? 0)", type: .found)
    }

    func move(_ context: AtriumRequestContext, direction: String) async throws -> [CourseModule] {
        guard direction == "up" || direction == "down" else { throw HTTPError(.badRequest, message: "direction is up or down") }
        let id = try Self.id(context, "module")
        let modules = try await mapped { try await store.moveModule(id, up: direction == "up") }
        await record(context, "course \(modules.first?.course ?? 0): module \(id) moved \(direction)")
        return modules
    }

    struct PublishBody: Decodable { var published: Bool }

    func publishJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.teacher(context)
        let body = try await LibraryRoutes.decodeBody(PublishBody.self, request)
        let course = try await publish(principal, context, body.published)
        return AuthRoutes.json(courseObject(course, enrolment: nil))
    }

    func publishForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.teacher(context)
        let form = try await FormBody.read(request)
        let course = try await publish(principal, context, form["published"] == "1")
        return .redirect(to: "/ce/courses/\(course.id)", type: .found)
    }

    func publish(_ principal: Principal, _ context: AtriumRequestContext, _ published: Bool) async throws -> Course {
        let id = try Self.id(context)
        let course = try await mapped { try await store.setPublished(id, published) }
        await record(context, "course \(id) \(published ? "published" : "withdrawn")")
        return course
    }

    func moduleObject(_ module: CourseModule) -> [String: Any] {
        var object: [String: Any] = [
            "id": module.id, "course": module.course, "position": module.position, "kind": module.kind.rawValue, "title": module.title,
            "body": module.body, "caseID": module.caseID.map { $0 as Any } ?? NSNull(),
            "subtitles": module.subtitles.keys.sorted().map { ["language": $0, "href": "/ce/modules/\(module.id)/subtitles/\($0)"] },
        ]
        if let file = module.file {
            object["file"] = [
                "contentType": file.contentType, "sizeBytes": file.sizeBytes, "sha256": file.sha256, "filename": file.filename,
                "href": "/ce/modules/\(module.id)/file",
            ]
        }
        if let poster = module.poster {
            object["poster"] = [
                "contentType": poster.contentType, "sizeBytes": poster.sizeBytes, "href": "/ce/modules/\(module.id)/poster",
            ]
        }
        return object
    }

    // MARK: - Watching

    struct ViewingBody: Decodable {
        var position: Double
        var duration: Double
        var ended: Bool?
    }

    /// `POST /api/ce/courses/{id}/modules/{module}/viewing`: the page reports how far the learner watched
    /// (`{"position": s, "duration": s, "ended": bool}`); at the end the video counts as watched.
    func viewingJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.learner(context)
        let course = try await visibleCourse(try Self.id(context), principal)
        let moduleID = try Self.id(context, "module")
        let body = try await LibraryRoutes.decodeBody(ViewingBody.self, request)
        let before = try await mapped { try await store.enrolment(course: course.id, person: principal.username) }
        let enrolment = try await mapped {
            try await store.recordViewing(
                course: course.id, module: moduleID, person: principal.username, personName: Self.displayName(principal),
                position: body.position, duration: body.duration, ended: body.ended ?? false)
        }
        if before?.watched.contains(moduleID) == false, enrolment.watched.contains(moduleID) {
            await record(context, "course \(course.id): video module \(moduleID) watched")
        }
        if before?.completedAt == nil, let code = enrolment.certificate {
            await record(context, "continuing-education course \(course.id) completed, certificate \(code)")
        }
        let fresh = try await mapped { try await store.course(course.id) }
        let progress = try await mapped { try await store.progress(fresh, enrolment: enrolment, person: principal.username) }
        var object = courseObject(fresh, enrolment: enrolment, progress: progress)
        object["watched"] = enrolment.watched
        return AuthRoutes.json(object)
    }

    // MARK: - Serving files

    func moduleFile(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (_, _, module) = try await visibleModule(context)
        guard let file = module.file else { throw HTTPError(.notFound, message: "module \(module.id) has no file") }
        let disposition = file.contentType == CoursewareType.pdf.rawValue ? "inline" : nil
        return try await serve(file, request, disposition: disposition)
    }

    func modulePoster(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (_, _, module) = try await visibleModule(context)
        guard let poster = module.poster else { throw HTTPError(.notFound, message: "module \(module.id) has no poster") }
        return try await serve(poster, request, disposition: nil)
    }

    /// `GET /ce/modules/{module}/subtitles/{zh-CN|en}`: the WebVTT text as `text/vtt`.
    func subtitles(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (_, _, module) = try await visibleModule(context)
        var language = try context.parameters.require("language")
        if language.hasSuffix(".vtt") { language = String(language.dropLast(4)) }
        guard let text = module.subtitles[language] else { throw HTTPError(.notFound, message: "no \(language) subtitles") }
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/vtt; charset=utf-8", .cacheControl: "private, no-cache", .init("X-Content-Type-Options")!: "nosniff",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// A stored file with range requests (RFC 9110 14): `Accept-Ranges: bytes`, a strong ETag from its SHA-256, one
    /// range as 206 with `Content-Range`, 416 with `Content-Range: bytes */length` when unsatisfiable, `If-Range` that
    /// falls back to the whole file when the validator does not match, and 304 for a matching `If-None-Match`.
    func serve(_ file: CourseFile, _ request: Request, disposition: String?) async throws -> Response {
        let etag = "\"\(file.sha256.prefix(32))\""
        var headers: HTTPFields = [
            .contentType: file.contentType, .acceptRanges: "bytes", .eTag: etag, .cacheControl: "private, no-cache",
            .init("X-Content-Type-Options")!: "nosniff",
        ]
        if let disposition {
            let ascii = String(file.filename.unicodeScalars.map { $0.isASCII && $0 != "\\" && $0 != "\"" ? Character($0) : "_" })
            headers[.contentDisposition] = "\(disposition); filename=\"\(ascii)\""
        }
        if let match = request.headers[.ifNoneMatch],
            match.split(separator: ",").contains(where: {
                $0.trimmingCharacters(in: .whitespaces) == etag || $0.trimmingCharacters(in: .whitespaces) == "*"
            })
        {
            return Response(status: .notModified, headers: headers)
        }
        var rangeHeader = request.headers[.range]
        if let condition = request.headers[.ifRange], condition.trimmingCharacters(in: .whitespaces) != etag {
            // A representation other than the one the client holds: it gets the whole file (RFC 9110 13.1.5).
            rangeHeader = nil
        }
        let length = file.sizeBytes
        let range: Range<Int>?
        switch ByteRangeRequest.evaluate(rangeHeader, length: length) {
        case .whole: range = nil
        case .partial(let part): range = part
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(length)"
            return Response(status: .rangeNotSatisfiable, headers: headers)
        }
        if let range {
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(length)"
        }
        headers[.contentLength] = String(range?.count ?? length)
        let chunks: BlobChunks
        do {
            chunks = try await courseware.blobs.read(BlobKey(file.key), range: range)
        } catch {
            logger.error("course file unreadable", metadata: ["key": "\(file.key)", "error": "\(error)"])
            throw HTTPError(.internalServerError, message: "the file is not readable")
        }
        let body = ResponseBody { writer in
            for try await chunk in chunks { try await writer.write(ByteBuffer(bytes: chunk)) }
            try await writer.finish(nil)
        }
        return Response(status: range == nil ? .ok : .partialContent, headers: headers, body: body)
    }
}

/// A poster frame for a video uploaded without one: Debian's `ffmpeg` (optional at run time) takes the frame at one
/// second (or the first) as JPEG. Without ffmpeg, or when it fails, the video simply has no poster.
enum PosterFrame {
    static func ffmpegPath() -> String? {
        ["/usr/bin/ffmpeg", "/usr/local/bin/ffmpeg"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs ffmpeg quietly (no input, no output, errors only) with `arguments`; its exit status, or -1 when it cannot start.
    static func run(_ ffmpeg: String, _ arguments: [String]) async -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ffmpeg)
        process.arguments = ["-nostdin", "-loglevel", "error", "-y"] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        return await withCheckedContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(returning: -1)
            }
        }
    }

    static func extract(_ video: [UInt8]) async -> [UInt8]? {
        guard let ffmpeg = ffmpegPath() else { return nil }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atrium-poster-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let input = directory.appendingPathComponent("video")
            let output = directory.appendingPathComponent("poster.jpg")
            try Data(video).write(to: input)
            for seek in ["1", "0"] {
                let status = await run(
                    ffmpeg,
                    ["-ss", seek, "-i", input.path, "-frames:v", "1", "-vf", "scale='min(1280,iw)':-2", output.path])
                if status == 0, let data = try? Data(contentsOf: output), !data.isEmpty { return Array(data) }
            }
        } catch {
            return nil
        }
        return nil
    }
}
