import Foundation
import Hummingbird
import Logging
import NIOCore
import Platform
import Programme
import Teaching

/// Continuing education over HTTP (`/ce`, `/api/ce`): everyone signed in sees the published courses, enrols and
/// studies; the programme office (administrators) creates courses, enrols people, follows progress and revokes
/// certificates. `/verify/{code}` is public: it says whether a certificate is valid, revoked or unknown.
struct EducationRoutes: Sendable {
    let store: ProgrammeStore
    let teaching: TeachingStore
    let identity: IdentityStore
    let views: WebViews
    let address: PublicAddress
    let logger: Logger
    let courseware: CoursewareFiles

    func register(on router: Router<AtriumRequestContext>) {
        router.get("/api/ce/courses") { request, context in try await self.coursesJSON(request, context) }
        router.post("/api/ce/courses") { request, context in try await self.createCourseJSON(request, context) }
        router.get("/api/ce/courses/:id") { request, context in try await self.courseJSON(request, context) }
        router.post("/api/ce/courses/:id/enrol") { request, context in try await self.enrolJSON(request, context) }
        router.post("/api/ce/courses/:id/studied/:case") { request, context in try await self.studiedJSON(request, context) }
        router.get("/api/ce/me") { request, context in try await self.meJSON(request, context) }
        router.get("/api/ce/certificates/:code") { request, context in try await self.certificateJSON(request, context) }
        router.post("/api/ce/certificates/:code/revoke") { request, context in try await self.revokeJSON(request, context) }
        router.get("/ce") { request, context in try await self.cataloguePage(request, context) }
        router.post("/ce/courses") { request, context in try await self.createCourseForm(request, context) }
        router.get("/ce/courses/:id") { request, context in try await self.coursePage(request, context) }
        router.post("/ce/courses/:id/enrol") { request, context in try await self.enrolForm(request, context) }
        router.post("/ce/courses/:id/studied") { request, context in try await self.studiedForm(request, context) }
        router.get("/ce/certificates/:code") { request, context in try await self.certificatePage(request, context) }
        router.post("/ce/certificates/:code/revoke") { request, context in try await self.revokeForm(request, context) }
        router.get("/verify/:code") { request, context in try await self.verifyPage(request, context) }
        registerCourseware(on: router)
    }

    // MARK: - Access and plumbing

    static func learner(_ context: AtriumRequestContext) throws -> Principal {
        guard let principal = context.principal else { throw HTTPError(.unauthorized, message: "sign in first") }
        return principal
    }

    static func office(_ context: AtriumRequestContext) throws -> Principal {
        let principal = try learner(context)
        guard principal.has(.admin) else { throw HTTPError(.forbidden, message: "only the programme office manages courses") }
        return principal
    }

    static func id(_ context: AtriumRequestContext, _ name: String = "id") throws -> Int64 {
        guard let id = Int64(try context.parameters.require(name)) else { throw HTTPError(.notFound) }
        return id
    }

    func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ProgrammeError {
            switch error {
            case .notFound: throw HTTPError(.notFound, message: error.description)
            case .conflict: throw HTTPError(.conflict, message: error.description)
            case .notEnrolled: throw HTTPError(.forbidden, message: error.description)
            case .database:
                logger.error("programme store", metadata: ["error": "\(error)"])
                throw HTTPError(.internalServerError, message: "continuing education is not available")
            default: throw HTTPError(.badRequest, message: error.description)
            }
        }
    }

    func record(_ context: AtriumRequestContext, _ detail: String) async {
        await identity.audit.record(
            AuditEvent(
                eventID: .applicationActivity, action: .update, user: context.principal?.username ?? "",
                sourceAddress: context.remoteAddress?.ipAddress ?? "", detail: detail))
    }

    static func displayName(_ principal: Principal) -> String {
        principal.displayName.isEmpty ? principal.username : principal.displayName
    }

    /// A course may be seen by anyone when published, by teachers and the office always.
    func visibleCourse(_ id: Int64, _ principal: Principal) async throws -> Course {
        let course = try await mapped { try await store.course(id) }
        guard course.published || Self.isTeacher(principal) else { throw HTTPError(.notFound, message: "course \(id) not found") }
        return course
    }

    func create(
        _ principal: Principal, titleChinese: String, titleEnglish: String, summary: String, creditHours: Double, cases: [Int64],
        examID: Int64?, practiceRequired: Bool = false, videosRequired: Bool = false, published: Bool
    ) async throws -> Course {
        for id in cases {
            let published = try? await teaching.published(id)
            guard published != nil else { throw HTTPError(.badRequest, message: "case \(id) is not a published teaching case") }
        }
        return try await mapped {
            try await store.createCourse(
                titleChinese: titleChinese, titleEnglish: titleEnglish, summary: summary, creditHours: creditHours, cases: cases,
                examID: examID, practiceRequired: practiceRequired, videosRequired: videosRequired, published: published,
                institution: principal.institutionCode ?? "", by: principal.username)
        }
    }

    func studied(_ principal: Principal, course id: Int64, caseID: Int64) async throws -> Enrolment {
        let course = try await visibleCourse(id, principal)
        let enrolment = try await mapped {
            // The exam's result, when the course has one, is read from training's attempts by the store.
            try await store.markStudied(
                course: course.id, person: principal.username, personName: Self.displayName(principal), caseID: caseID)
        }
        return enrolment
    }

    /// The learner's enrolment, completed first if every step is now done (an exam passed or a practice report written
    /// since the last look), and their progress with the exam and practice read from training.
    func learnerState(_ course: Course, _ principal: Principal) async throws -> (
        enrolment: Enrolment?, progress: CourseCompletion.Progress
    ) {
        let enrolment = try await mapped {
            try await store.checkCompletion(course: course, person: principal.username, personName: Self.displayName(principal))
        }
        let progress = try await mapped { try await store.progress(course, enrolment: enrolment, person: principal.username) }
        return (enrolment, progress)
    }

    static func iso(_ date: Date?) -> Any { date.map { ISO8601DateFormatter().string(from: $0) as Any } ?? NSNull() }

    func courseObject(_ course: Course, enrolment: Enrolment?, progress: CourseCompletion.Progress? = nil) -> [String: Any] {
        var object: [String: Any] = [
            "id": course.id, "titleChinese": course.titleChinese, "titleEnglish": course.titleEnglish, "summary": course.summary,
            "creditHours": course.creditHours, "cases": course.cases, "examID": course.examID.map { $0 as Any } ?? NSNull(),
            "practiceRequired": course.practiceRequired,
            "published": course.published, "videosRequired": course.videosRequired, "publishedAt": Self.iso(course.publishedAt),
            "modules": course.modules.map(moduleObject),
        ]
        if let enrolment {
            let progress = progress ?? CourseCompletion.progress(course, studied: enrolment.studied, examPassed: false)
            object["enrolment"] = [
                "studied": enrolment.studied, "progress": progress.fraction, "examPassed": progress.examPassed,
                "practised": progress.practised, "watched": enrolment.watched,
                "completedAt": Self.iso(enrolment.completedAt),
                "certificate": enrolment.certificate.map { $0 as Any } ?? NSNull(),
            ]
        }
        return object
    }

    // MARK: - JSON API

    func coursesJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.learner(context)
        let courses = try await mapped { try await store.courses(publishedOnly: !Self.isTeacher(principal)) }
        let mine = try await mapped { try await store.enrolments(person: principal.username) }
        return AuthRoutes.json([
            "courses": courses.map { course in courseObject(course, enrolment: mine.first { $0.course == course.id }) }
        ])
    }

    struct CourseBody: Decodable {
        var titleChinese: String
        var titleEnglish: String
        var summary: String?
        var creditHours: Double
        var cases: [Int64]
        var examID: Int64?
        var practiceRequired: Bool?
        var videosRequired: Bool?
        var published: Bool?
    }

    func createCourseJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.teacher(context)
        let body = try await LibraryRoutes.decodeBody(CourseBody.self, request)
        let course = try await create(
            principal, titleChinese: body.titleChinese, titleEnglish: body.titleEnglish, summary: body.summary ?? "",
            creditHours: body.creditHours, cases: body.cases, examID: body.examID, practiceRequired: body.practiceRequired ?? false,
            videosRequired: body.videosRequired ?? false, published: body.published ?? true)
        await record(context, "continuing-education course \(course.id) created")
        return AuthRoutes.json(courseObject(course, enrolment: nil), status: .created)
    }

    func courseJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.learner(context)
        let course = try await visibleCourse(try Self.id(context), principal)
        let state = try await learnerState(course, principal)
        var object = courseObject(course, enrolment: state.enrolment, progress: state.progress)
        if principal.has(.admin) {
            let enrolments = try await mapped { try await store.enrolments(course: course.id) }
            object["enrolments"] = enrolments.map {
                [
                    "person": $0.person, "institution": $0.institution, "studied": $0.studied.count,
                    "completedAt": Self.iso($0.completedAt), "certificate": $0.certificate.map { $0 as Any } ?? NSNull(),
                ] as [String: Any]
            }
        }
        return AuthRoutes.json(object)
    }

    struct EnrolBody: Decodable { var usernames: [String]? }

    /// `POST /api/ce/courses/{id}/enrol`: oneself, or (the office) `{"usernames": [...]}`.
    func enrolJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.learner(context)
        let id = try Self.id(context)
        var request = request
        let buffer = try await request.collectBody(upTo: 1 << 20)
        let body = buffer.readableBytes == 0 ? EnrolBody() : try JSONDecoder().decode(EnrolBody.self, from: Data(buffer.readableBytesView))
        let enrolled = try await enrol(principal, course: id, usernames: body.usernames)
        await record(context, "continuing-education course \(id): \(enrolled.count) enrolled")
        return AuthRoutes.json(["enrolled": enrolled])
    }

    func enrol(_ principal: Principal, course id: Int64, usernames: [String]?) async throws -> [String] {
        _ = try await visibleCourse(id, principal)
        guard let usernames, !usernames.isEmpty else {
            _ = try await mapped {
                try await store.enrol(
                    course: id, person: principal.username, institution: principal.institutionCode ?? "", by: principal.username)
            }
            return [principal.username]
        }
        guard principal.has(.admin) else { throw HTTPError(.forbidden, message: "only the programme office enrols others") }
        let people = try await identity.people()
        var enrolled: [String] = []
        for username in usernames {
            guard let person = people.first(where: { $0.username == username }), !person.disabled else {
                throw HTTPError(.badRequest, message: "no active person named \(username)")
            }
            let institution = try await identity.institutions().first { $0.id == person.institutionID }?.code ?? ""
            _ = try await mapped { try await store.enrol(course: id, person: username, institution: institution, by: principal.username) }
            enrolled.append(username)
        }
        return enrolled
    }

    func studiedJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.learner(context)
        let enrolment = try await studied(principal, course: try Self.id(context), caseID: try Self.id(context, "case"))
        if let code = enrolment.certificate, enrolment.completedAt.map({ Date().timeIntervalSince($0) < 5 }) == true {
            await record(context, "continuing-education course \(enrolment.course) completed, certificate \(code)")
        }
        let course = try await mapped { try await store.course(enrolment.course) }
        let progress = try await mapped { try await store.progress(course, enrolment: enrolment, person: principal.username) }
        return AuthRoutes.json(courseObject(course, enrolment: enrolment, progress: progress))
    }

    func meJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.learner(context)
        let enrolments = try await mapped { try await store.enrolments(person: principal.username) }
        var list: [[String: Any]] = []
        for enrolment in enrolments {
            let course = try await mapped { try await store.course(enrolment.course) }
            let state = try await learnerState(course, principal)
            list.append(courseObject(course, enrolment: state.enrolment ?? enrolment, progress: state.progress))
        }
        return AuthRoutes.json(["courses": list])
    }

    func certificateObject(_ certificate: Certificate) -> [String: Any] {
        [
            "code": certificate.code, "course": certificate.course, "courseTitleChinese": certificate.courseTitleChinese,
            "courseTitleEnglish": certificate.courseTitleEnglish, "personName": certificate.personName,
            "institution": certificate.institution, "creditHours": certificate.creditHours, "issuedAt": Self.iso(certificate.issuedAt),
            "valid": certificate.valid, "revokedAt": Self.iso(certificate.revokedAt),
        ]
    }

    /// The holder or the office.
    func ownCertificate(_ context: AtriumRequestContext) async throws -> Certificate {
        let principal = try Self.learner(context)
        let code = try context.parameters.require("code")
        guard let certificate = try await mapped({ try await store.certificate(code) }),
            certificate.person == principal.username || principal.has(.admin)
        else { throw HTTPError(.notFound, message: "certificate \(code) not found") }
        return certificate
    }

    func certificateJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        AuthRoutes.json(certificateObject(try await ownCertificate(context)))
    }

    struct RevokeBody: Decodable { var reason: String }

    func revokeJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.office(context)
        let code = try context.parameters.require("code")
        let body = try await LibraryRoutes.decodeBody(RevokeBody.self, request)
        let revoked = try await mapped { try await store.revoke(code, reason: body.reason, by: principal.username) }
        await record(context, "certificate \(revoked.code) revoked")
        return AuthRoutes.json(certificateObject(revoked))
    }
}
