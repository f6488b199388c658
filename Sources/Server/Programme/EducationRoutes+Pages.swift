import Foundation
import Hummingbird
import Platform
import Programme
import Teaching

extension EducationRoutes {
    func text(_ key: String, _ request: Request, _ context: AtriumRequestContext) -> String {
        views.locales.text(key, WebViews.language(request: request, context: context))
    }

    func title(_ course: Course, _ request: Request, _ context: AtriumRequestContext) -> String {
        WebViews.language(request: request, context: context) == .chinese ? course.titleChinese : course.titleEnglish
    }

    static func hours(_ value: Double) -> String { value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value) }

    /// `GET /ce`: the published courses with the learner's progress; for the office also drafts and the course form.
    func cataloguePage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.learner(context)
        let courses = try await mapped { try await store.courses(publishedOnly: !Self.isTeacher(principal)) }
        let mine = try await mapped { try await store.enrolments(person: principal.username) }
        var entries: [[String: Any]] = []
        for course in courses {
            var enrolment = mine.first { $0.course == course.id }
            var progress = CourseCompletion.progress(
                course, studied: enrolment?.studied ?? [], examPassed: false, watched: enrolment?.watched ?? [])
            if enrolment != nil, course.examID != nil || course.practiceRequired {
                (enrolment, progress) = try await learnerState(course, principal)
            }
            entries.append([
                "id": course.id, "title": title(course, request, context), "summary": course.summary,
                "hours": Self.hours(course.creditHours), "cases": course.cases.count, "published": course.published,
                "enrolled": enrolment != nil, "percent": Int((progress.fraction * 100).rounded()),
                "completed": enrolment?.completedAt != nil, "certificate": enrolment?.certificate ?? "",
            ])
        }
        let data: [String: Any] = [
            "courses": entries, "empty": entries.isEmpty, "office": principal.has(.admin), "teacher": Self.isTeacher(principal),
        ]
        return views.page(
            "ce", title: text("education.title", request, context), section: .education, data: data, request: request, context: context)
    }

    static func caseIDs(_ text: String) throws -> [Int64] {
        let parts = text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "，" || $0.isNewline }).map(String.init)
        return try parts.map {
            guard let id = Int64($0) else { throw HTTPError(.badRequest, message: "\($0) is not a case number") }
            return id
        }
    }

    func createCourseForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.teacher(context)
        let form = try await FormBody.read(request)
        guard let hours = Double(form["creditHours"] ?? "") else { throw HTTPError(.badRequest, message: "credit hours are a number") }
        let course = try await create(
            principal, titleChinese: form["titleChinese"] ?? "", titleEnglish: form["titleEnglish"] ?? "", summary: form["summary"] ?? "",
            creditHours: hours, cases: try Self.caseIDs(form["cases"] ?? ""), examID: Int64(form["exam"] ?? ""),
            practiceRequired: form["practice"] == "1", videosRequired: form["videos"] == "1", published: form["published"] == "1")
        await record(context, "continuing-education course \(course.id) created")
        return .redirect(to: "/ce/courses/\(course.id)", type: .found)
    }

    /// `GET /ce/courses/{id}`: the course's cases (links to the library) with "studied" buttons, the learner's
    /// progress and certificate; for the office the enrolments and the form to enrol people.
    func coursePage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.learner(context)
        let course = try await visibleCourse(try Self.id(context), principal)
        let (enrolment, progress) = try await learnerState(course, principal)
        let practised = Set(try await mapped { try await store.practisedCases(course, person: principal.username) })
        var cases: [[String: Any]] = []
        for id in course.cases {
            let version = try? await teaching.published(id)
            cases.append([
                "id": id, "title": version?.content.title ?? "#\(id)", "studied": enrolment?.studied.contains(id) ?? false,
                "practiceRequired": course.practiceRequired, "practisedCase": practised.contains(id),
                "enrolled": enrolment != nil,
            ])
        }
        var data: [String: Any] = [
            "id": course.id, "courseID": course.id, "title": title(course, request, context), "summary": course.summary,
            "hours": Self.hours(course.creditHours), "cases": cases, "enrolled": enrolment != nil, "published": course.published,
            "percent": Int((progress.fraction * 100).rounded()), "studied": progress.studied, "required": progress.required,
            "completed": enrolment?.completedAt != nil, "certificate": enrolment?.certificate ?? "", "office": principal.has(.admin),
            "examRequired": progress.examRequired, "examPassed": progress.examPassed, "exam": course.examID ?? 0,
            "practiceRequired": course.practiceRequired, "practised": progress.practised,
            "teacher": Self.isTeacher(principal),
            "modules": try await moduleEntries(course, enrolment: enrolment, principal, request, context),
            "hasModules": !course.modules.isEmpty, "videosRequired": course.videosRequired, "watched": progress.watched,
            "videos": progress.videos,
        ]
        if principal.has(.admin) {
            let enrolments = try await mapped { try await store.enrolments(course: course.id) }
            data["enrolments"] = enrolments.map {
                [
                    "person": $0.person, "institution": $0.institution, "studied": $0.studied.count, "required": course.cases.count,
                    "completed": $0.completedAt != nil, "certificate": $0.certificate ?? "",
                ] as [String: Any]
            }
            data["enrolledCount"] = enrolments.count
            data["completedCount"] = enrolments.filter { $0.completedAt != nil }.count
        }
        // Form values are words the server reads back, not text for readers: they come from here, not the template.
        data["courseFormValues"] = [
            "up": "up", "down": "down", "text": "text", "case": "case", "link": "link", "courseware": "courseware", "video": "video",
        ]
        return views.page(
            "ce-course", title: title(course, request, context), section: .education, data: data, request: request, context: context)
    }

    /// The course's modules as the page shows them: text, a case (with its "studied" button), a link, courseware to
    /// open, a video with its poster, subtitle tracks and how far the learner got.
    func moduleEntries(
        _ course: Course, enrolment: Enrolment?, _ principal: Principal, _ request: Request, _ context: AtriumRequestContext
    ) async throws -> [[String: Any]] {
        let positions = try await mapped { try await store.viewingPositions(course: course.id, person: principal.username) }
        let language = WebViews.language(request: request, context: context)
        var entries: [[String: Any]] = []
        for module in course.modules {
            var entry: [String: Any] = [
                "id": module.id, "courseID": course.id, "kind": module.kind.rawValue, "title": module.title, "body": module.body,
                "isText": module.kind == .text, "isCase": module.kind == .teachingCase, "isLink": module.kind == .link,
                "isCourseware": module.kind == .courseware, "isVideo": module.kind == .video, "enrolled": enrolment != nil,
                "teacher": Self.isTeacher(principal),
            ]
            if let caseID = module.caseID {
                entry["caseID"] = caseID
                entry["studied"] = enrolment?.studied.contains(caseID) ?? false
            }
            if let file = module.file {
                entry["href"] = "/ce/modules/\(module.id)/file"
                entry["contentType"] = file.contentType
                entry["size"] = ByteCountFormatter.string(fromByteCount: Int64(file.sizeBytes), countStyle: .file)
                entry["filename"] = file.filename
            }
            if module.poster != nil { entry["poster"] = "/ce/modules/\(module.id)/poster" }
            if module.kind == .video {
                entry["watched"] = enrolment?.watched.contains(module.id) ?? false
                entry["position"] = positions[module.id] ?? 0
                let preferred = language == .chinese ? "zh-CN" : "en"
                let chosen = module.subtitles[preferred] != nil ? preferred : module.subtitles.keys.sorted().first
                entry["tracks"] = module.subtitles.keys.sorted().map { tag -> [String: Any] in
                    [
                        "language": tag, "href": "/ce/modules/\(module.id)/subtitles/\(tag)",
                        "label": text("courseware.subtitles.\(tag == "zh-CN" ? "chinese" : "english")", request, context),
                        "default": tag == chosen,
                    ]
                }
            }
            entries.append(entry)
        }
        return entries
    }

    func enrolForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.learner(context)
        let id = try Self.id(context)
        let form = try await FormBody.read(request)
        let usernames = (form["usernames"] ?? "").split(whereSeparator: { $0 == "," || $0 == " " || $0.isNewline }).map(String.init)
        let enrolled = try await enrol(principal, course: id, usernames: usernames.isEmpty ? nil : usernames)
        await record(context, "continuing-education course \(id): \(enrolled.count) enrolled")
        return .redirect(to: "/ce/courses/\(id)", type: .found)
    }

    func studiedForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.learner(context)
        let id = try Self.id(context)
        let form = try await FormBody.read(request)
        guard let caseID = Int64(form["case"] ?? "") else { throw HTTPError(.badRequest, message: "which case?") }
        let enrolment = try await studied(principal, course: id, caseID: caseID)
        if let code = enrolment.certificate { await record(context, "continuing-education course \(id) completed, certificate \(code)") }
        return .redirect(to: "/ce/courses/\(id)", type: .found)
    }

    func certificateData(_ certificate: Certificate, _ request: Request) -> [String: Any] {
        let link = address.baseURL(hostHeader: request.head.authority) + "/verify/\(certificate.code)"
        return [
            "code": certificate.code, "personName": certificate.personName, "institution": certificate.institution,
            "courseChinese": certificate.courseTitleChinese, "courseEnglish": certificate.courseTitleEnglish,
            "hours": Self.hours(certificate.creditHours), "issued": ProgrammeRoutes.dayText(certificate.issuedAt),
            "valid": certificate.valid, "revoked": ProgrammeRoutes.dayText(certificate.revokedAt ?? .distantPast),
            "reason": certificate.revocationReason ?? "", "link": link, "qr": QRCode(link)?.svg(pixels: 160, label: link) ?? "",
        ]
    }

    /// `GET /ce/certificates/{code}`: the bilingual printable certificate with its verification QR code.
    func certificatePage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.learner(context)
        let certificate = try await ownCertificate(context)
        var data = certificateData(certificate, request)
        data["office"] = principal.has(.admin)
        return views.page(
            "ce-certificate", title: text("education.certificate.title", request, context), section: .education, data: data,
            request: request, context: context)
    }

    func revokeForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.office(context)
        let code = try context.parameters.require("code")
        let form = try await FormBody.read(request)
        let revoked = try await mapped { try await store.revoke(code, reason: form["reason"] ?? "", by: principal.username) }
        await record(context, "certificate \(revoked.code) revoked")
        return .redirect(to: "/ce/certificates/\(revoked.code)", type: .found)
    }

    /// `GET /verify/{code}` (public; `?format=json` for machines): valid, revoked (with the date) or unknown. Shows only
    /// what the certificate itself shows: the holder's name, the course, the hours and the date.
    func verifyPage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let code = try context.parameters.require("code")
        let certificate = try await mapped { try await store.certificate(code) }
        let state =
            certificate.map { $0.valid ? "valid" : "revoked" } ?? (CertificateCode.normalized(code) == nil ? "malformed" : "unknown")
        if request.uri.queryParameters["format"].map(String.init) == "json" {
            var object: [String: Any] = ["code": code, "state": state]
            if let certificate {
                object["personName"] = certificate.personName
                object["courseTitleChinese"] = certificate.courseTitleChinese
                object["courseTitleEnglish"] = certificate.courseTitleEnglish
                object["creditHours"] = certificate.creditHours
                object["issuedAt"] = Self.iso(certificate.issuedAt)
                object["revokedAt"] = Self.iso(certificate.revokedAt)
            }
            return AuthRoutes.json(object, status: certificate == nil ? .notFound : .ok)
        }
        var data: [String: Any] = ["state": state, "stateLabel": text("education.verify.\(state)", request, context), "code": code]
        if let certificate { data.merge(certificateData(certificate, request)) { _, new in new } }
        data["found"] = certificate != nil
        return views.page(
            "ce-verify", title: text("education.verify.title", request, context), section: .home, data: data, request: request,
            context: context, status: certificate == nil ? .notFound : .ok)
    }
}
