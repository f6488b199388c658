import Archive
import Foundation
import Platform

/// The files of courses (PDF courseware, videos, posters) in a blob store of their own beside the archive's: the
/// archive's orphan sweep only knows DICOM instances and would take them. Every file's kind is read from its bytes, its
/// size is capped, and its SHA-256 is kept.
public struct CoursewareFiles: Sendable {
    public let blobs: any BlobStore
    public let maximumBytes: Int

    /// 512 MiB: a micro-lecture of some minutes at a teaching bit rate fits many times over.
    public static let defaultMaximumBytes = 512 << 20

    public init(blobs: any BlobStore, maximumBytes: Int = CoursewareFiles.defaultMaximumBytes) {
        self.blobs = blobs
        self.maximumBytes = maximumBytes
    }

    /// Checks `bytes` against the types `allowed` and the size cap, then stores them durably.
    public func keep(_ bytes: [UInt8], filename: String, allowed: Set<CoursewareType>) async throws(ProgrammeError) -> CourseFile {
        guard !bytes.isEmpty else { throw .invalidCourse("the file \(filename) is empty") }
        guard bytes.count <= maximumBytes else {
            throw .fileTooLarge("\(filename) has \(bytes.count) bytes, more than the cap of \(maximumBytes)")
        }
        guard let type = CoursewareType.sniff(bytes), allowed.contains(type) else {
            let names = allowed.map(\.rawValue).sorted().joined(separator: ", ")
            throw .unsupportedFile("the content of \(filename) is not one of \(names)")
        }
        let key: BlobKey
        do {
            key = try await blobs.put(bytes)
        } catch {
            throw .database("the file \(filename) could not be stored: \(error)")
        }
        let name = String(filename.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last ?? "file").prefix(200)
        return CourseFile(
            key: key.rawValue, contentType: type.rawValue, sizeBytes: bytes.count, sha256: SignatureV4.hexSHA256(bytes),
            filename: String(name))
    }

    /// Removes a stored file (a module deleted); a missing file is not an error.
    public func remove(_ file: CourseFile?) async {
        guard let file else { return }
        try? await blobs.delete(BlobKey(file.key))
    }
}

/// What a teacher gives for a new module; files already kept by ``CoursewareFiles``.
public struct NewCourseModule: Sendable {
    public var kind: CourseModuleKind
    public var title: String
    public var body: String
    public var caseID: Int64?
    public var file: CourseFile?
    public var poster: CourseFile?
    public var subtitles: [String: String]

    public init(
        kind: CourseModuleKind, title: String, body: String = "", caseID: Int64? = nil, file: CourseFile? = nil,
        poster: CourseFile? = nil, subtitles: [String: String] = [:]
    ) {
        self.kind = kind
        self.title = title
        self.body = body
        self.caseID = caseID
        self.file = file
        self.poster = poster
        self.subtitles = subtitles
    }

    /// Why the module cannot be kept as given, or nil.
    public var problem: ProgrammeError? {
        if title.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return .invalidCourse("a module needs a title") }
        if title.count > 300 { return .invalidCourse("a module's title has at most 300 characters") }
        switch kind {
        case .text:
            if body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return .invalidCourse("a text module needs its text") }
            if body.count > 100_000 { return .invalidCourse("a text module has at most 100,000 characters") }
        case .teachingCase:
            if caseID == nil { return .invalidCourse("a case module needs its case") }
        case .link:
            guard let url = URL(string: body.trimmingCharacters(in: .whitespaces)), let scheme = url.scheme?.lowercased(),
                scheme == "https" || scheme == "http", url.host?.isEmpty == false
            else { return .invalidCourse("a link is an http or https address") }
        case .courseware:
            if file?.contentType != CoursewareType.pdf.rawValue { return .invalidCourse("courseware is a PDF file") }
        case .video:
            guard let type = file.flatMap({ CoursewareType(rawValue: $0.contentType) }), type.fits(.video) else {
                return .invalidCourse("a video is an MP4 (H.264) or WebM file")
            }
        }
        if kind != .video && (poster != nil || !subtitles.isEmpty) { return .invalidCourse("only videos have posters and subtitles") }
        for (language, text) in subtitles {
            guard CourseModule.subtitleLanguages.contains(language) else { return .invalidCourse("subtitles are zh-CN or en") }
            do {
                _ = try WebVTT.cues(Array(text.utf8))
            } catch {
                return .invalidSubtitles("\(language): \(error)")
            }
        }
        if let poster, ![CoursewareType.png.rawValue, CoursewareType.jpeg.rawValue].contains(poster.contentType) {
            return .invalidCourse("a poster is a PNG or JPEG image")
        }
        return nil
    }
}

extension ProgrammeStore {
    // MARK: - Modules

    /// Appends a module to a course. A case module also adds its case to the course's cases (studied like the others).
    public func addModule(course id: Int64, _ module: NewCourseModule, by person: String) async throws(ProgrammeError) -> CourseModule {
        if let problem = module.problem { throw problem }
        let course = try await course(id)
        let position = (course.modules.map(\.position).max() ?? 0) + 1
        let body = module.kind == .link ? module.body.trimmingCharacters(in: .whitespaces) : module.body
        var steps = [
            SQLStep(
                """
                INSERT INTO programme_course_modules (course_id, position, kind, title, body, case_id, file_key, file_type, file_size,
                    file_sha256, file_name, poster_key, poster_type, poster_size, poster_sha256, subtitles_zh, subtitles_en, created_by,
                    created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .integer(id), .integer(Int64(position)), .text(module.kind.rawValue), .text(module.title), .text(body),
                    module.caseID.map { .integer($0) } ?? .null, Self.optional(module.file?.key), Self.optional(module.file?.contentType),
                    module.file.map { .integer(Int64($0.sizeBytes)) } ?? .null, Self.optional(module.file?.sha256),
                    Self.optional(module.file?.filename), Self.optional(module.poster?.key), Self.optional(module.poster?.contentType),
                    module.poster.map { .integer(Int64($0.sizeBytes)) } ?? .null, Self.optional(module.poster?.sha256),
                    Self.optional(module.subtitles["zh-CN"]), Self.optional(module.subtitles["en"]), .text(person), .integer(Self.now()),
                ])
        ]
        if module.kind == .teachingCase, let caseID = module.caseID, !course.cases.contains(caseID) {
            steps.append(
                SQLStep(
                    "UPDATE programme_courses SET cases = ? WHERE id = ?",
                    [.text((course.cases + [caseID]).map(String.init).joined(separator: ",")), .integer(id)]))
        }
        do {
            _ = try await database.transaction(guarded: steps)
        } catch {
            throw .database("\(error)")
        }
        guard let added = try await modules(course: id).last else { throw .database("the new module vanished") }
        return added
    }

    static func optional(_ text: String?) -> SQLValue { text.map { .text($0) } ?? .null }

    static let moduleColumns = """
        id, course_id, position, kind, title, body, case_id, file_key, file_type, file_size, file_sha256, file_name, poster_key, \
        poster_type, poster_size, poster_sha256, subtitles_zh, subtitles_en, created_by, created_at
        """

    public func modules(course: Int64) async throws(ProgrammeError) -> [CourseModule] {
        try await query(
            "SELECT \(Self.moduleColumns) FROM programme_course_modules WHERE course_id = ? ORDER BY position, id", [.integer(course)]
        ).map(Self.module)
    }

    public func module(_ id: Int64) async throws(ProgrammeError) -> CourseModule {
        guard let row = try await query("SELECT \(Self.moduleColumns) FROM programme_course_modules WHERE id = ?", [.integer(id)]).first
        else { throw .notFound("module \(id)") }
        return Self.module(row)
    }

    static func module(_ row: [SQLValue]) -> CourseModule {
        func file(_ at: Int) -> CourseFile? {
            guard let key = row[at].text else { return nil }
            return CourseFile(
                key: key, contentType: row[at + 1].text ?? "application/octet-stream", sizeBytes: Int(row[at + 2].integer ?? 0),
                sha256: row[at + 3].text ?? "", filename: at == 7 ? (row[11].text ?? "") : "poster")
        }
        var subtitles: [String: String] = [:]
        if let text = row[16].text { subtitles["zh-CN"] = text }
        if let text = row[17].text { subtitles["en"] = text }
        return CourseModule(
            id: row[0].integer ?? 0, course: row[1].integer ?? 0, position: Int(row[2].integer ?? 0),
            kind: CourseModuleKind(rawValue: row[3].text ?? "") ?? .text, title: row[4].text ?? "", body: row[5].text ?? "",
            caseID: row[6].integer, file: file(7), poster: file(12), subtitles: subtitles, createdBy: row[18].text ?? "",
            createdAt: Date(timeIntervalSince1970: TimeInterval(row[19].integer ?? 0)))
    }

    /// Removes a module (its files are the caller's to remove from the blob store); a case module's case stays in the
    /// course's cases unless another call removes it.
    public func deleteModule(_ id: Int64) async throws(ProgrammeError) -> CourseModule {
        let module = try await module(id)
        try await query("DELETE FROM programme_course_modules WHERE id = ?", [.integer(id)])
        try await query("DELETE FROM programme_watched WHERE module_id = ?", [.integer(id)])
        return module
    }

    /// Moves a module one place up or down in its course (the first stays first, the last last); the course's modules
    /// are numbered 1… again in one transaction. Returns them in their new order.
    public func moveModule(_ id: Int64, up: Bool) async throws(ProgrammeError) -> [CourseModule] {
        let module = try await module(id)
        var order = try await modules(course: module.course)
        guard let index = order.firstIndex(where: { $0.id == id }) else { throw .notFound("module \(id)") }
        let other = up ? index - 1 : index + 1
        guard order.indices.contains(other) else { return order }
        order.swapAt(index, other)
        let steps = order.enumerated().map { position, module in
            SQLStep(
                "UPDATE programme_course_modules SET position = ? WHERE id = ?", [.integer(Int64(position + 1)), .integer(module.id)])
        }
        do {
            _ = try await database.transaction(guarded: steps)
        } catch {
            throw .database("\(error)")
        }
        return try await modules(course: module.course)
    }

    // MARK: - Videos watched

    /// Records how far the learner has watched a video module (reported by the page as it plays); at its end (within
    /// a second of the duration, or the player's `ended` event) the video counts as watched, and the course completes
    /// when that was the last step.
    public func recordViewing(
        course id: Int64, module moduleID: Int64, person: String, personName: String, position: Double, duration: Double, ended: Bool
    ) async throws(ProgrammeError) -> Enrolment {
        let course = try await course(id)
        guard let module = course.modules.first(where: { $0.id == moduleID }), module.kind == .video else {
            throw .invalidCourse("module \(moduleID) is not a video of course \(id)")
        }
        guard position.isFinite, position >= 0, duration.isFinite, duration >= 0 else {
            throw .invalidCourse("a position and a duration are seconds")
        }
        guard try await enrolment(course: id, person: person) != nil else { throw .notEnrolled("\(person) in course \(id)") }
        let atEnd = ended || (duration > 0 && position >= duration - 1)
        let now = Self.now()
        let upsert = """
            INSERT INTO programme_watched (course_id, person, module_id, position, updated_at, watched_at) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (course_id, person, module_id) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at,
                watched_at = COALESCE(programme_watched.watched_at, excluded.watched_at)
            """
        try await query(
            upsert,
            [.integer(id), .text(person), .integer(moduleID), .text(String(position)), .integer(now), atEnd ? .integer(now) : .null])
        return try await complete(
            course: course, person: person, personName: personName, examPassed: try await examPassed(course, person: person))
    }

    /// How far the learner got in each video of a course (seconds), by module.
    public func viewingPositions(course: Int64, person: String) async throws(ProgrammeError) -> [Int64: Double] {
        var result: [Int64: Double] = [:]
        for row in try await query(
            "SELECT module_id, position FROM programme_watched WHERE course_id = ? AND person = ?", [.integer(course), .text(person)])
        {
            if let id = row[0].integer { result[id] = Self.double(row[1]) }
        }
        return result
    }

    /// When each course was first published and by which institution, for the "online courses published" indicator.
    func coursePublications() async throws(ProgrammeError) -> [ProgrammeFacts.CoursePublication] {
        try await query("SELECT institution, published_at FROM programme_courses WHERE published_at IS NOT NULL", []).map {
            ProgrammeFacts.CoursePublication(
                institution: $0[0].text ?? "", published: Date(timeIntervalSince1970: TimeInterval($0[1].integer ?? 0)))
        }
    }
}
