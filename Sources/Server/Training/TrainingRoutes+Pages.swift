import Foundation
import Hummingbird
import Platform
import Teaching
import Training

extension TrainingRoutes {
    func registerPages(on router: Router<AtriumRequestContext>) {
        router.get("/training") { request, context in try await self.homePage(request, context) }
        router.get("/training/questions") { request, context in try await self.bankPage(request, context) }
        router.post("/training/questions") { request, context in try await self.questionForm(request, context) }
        router.get("/training/exams/new") { request, context in try await self.newExamPage(request, context) }
        router.post("/training/exams/new") { request, context in try await self.examForm(request, context) }
        router.post("/training/exams/:id/start") { request, context in try await self.startForm(request, context) }
        router.post("/training/exams/:id/release") { request, context in try await self.releaseForm(request, context) }
        router.get("/training/exams/:id/proctor") { request, context in try await self.proctorPage(request, context) }
        router.get("/training/exams/:id/grade") { request, context in try await self.gradePage(request, context) }
        router.get("/training/attempts/:id") { request, context in try await self.takePage(request, context) }
        router.get("/training/attempts/:id/result") { request, context in try await self.resultPage(request, context) }
    }

    func text(_ key: String, _ request: Request, _ context: AtriumRequestContext) -> String {
        views.locales.text(key, WebViews.language(request: request, context: context))
    }

    /// The `training.*` strings of the page's language as JSON, for the scripts.
    func stringsJSON(_ request: Request, _ context: AtriumRequestContext) -> String {
        let language = WebViews.language(request: request, context: context)
        guard case .group(let groups) = views.locales.tables[language], let training = groups["training"] else { return "{}" }
        let data = (try? JSONSerialization.data(withJSONObject: training.flattened(), options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "</", with: "<\\/")
    }

    /// Pages need someone signed in: others go to the sign-in page and come back.
    func signedIn(_ request: Request, _ context: AtriumRequestContext) -> Principal? { context.principal }

    func signInRedirect(_ request: Request) -> Response {
        let target = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
        return Response.redirect(
            to: "/login?return=\(target.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/")", type: .found)
    }

    func page(_ template: String, _ titleKey: String, _ data: [String: Any], _ request: Request, _ context: AtriumRequestContext)
        -> Response
    {
        var data = data
        data["stringsJSON"] = stringsJSON(request, context)
        return views.page(
            template, title: text(titleKey, request, context), section: .training, data: data, request: request, context: context)
    }

    static func dateText(_ date: Date?) -> String {
        guard let date, date != .distantFuture else { return "—" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = AllianceTime.zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }

    // MARK: - Pages

    /// `GET /training`: a student's exams (start, resume, results); a teacher's exams with their proctor and grading
    /// pages, the question bank and a new exam; a supervisor's exams to proctor.
    func homePage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        guard let principal = signedIn(request, context) else { return signInRedirect(request) }
        let teacher = Self.isTeacher(principal)
        let proctor = TrainingAccess.allows(principal.roles, .proctor)
        let now = Date()
        var rows: [[String: Any]] = []
        if teacher || proctor {
            for exam in try await mapped({ try await store.exams() }) {
                rows.append([
                    "id": exam.id, "title": exam.settings.title, "questions": exam.settings.forms.first?.count ?? 0,
                    "forms": exam.settings.forms.count, "released": exam.released, "teacher": teacher,
                    "limit": exam.settings.timeLimitSeconds / 60,
                ])
            }
        }
        var mine: [[String: Any]] = []
        if principal.has(.student) {
            let attempts = try await mapped { try await store.attempts(student: principal.username) }
            for exam in try await mapped({ try await store.exams(for: principal.username) }) {
                let own = attempts.filter { $0.examID == exam.id }
                let running = own.last { !$0.finished(at: now) }
                let last = own.last
                let open = (exam.settings.opensAt.map { now >= $0 } ?? true) && (exam.settings.closesAt.map { now < $0 } ?? true)
                mine.append([
                    "id": exam.id, "title": exam.settings.title, "questions": exam.settings.forms.first?.count ?? 0,
                    "limit": exam.settings.timeLimitSeconds / 60, "closes": Self.dateText(exam.settings.closesAt),
                    "resume": running != nil, "attempt": running?.id ?? last?.id ?? 0,
                    "canStart": running == nil && open && !exam.released && own.count < exam.settings.attemptsAllowed,
                    "submitted": running == nil && last != nil, "released": exam.released && last != nil,
                ])
            }
        }
        return page(
            "training", "training.title",
            [
                "teacher": teacher, "proctor": proctor, "exams": rows, "hasExams": !rows.isEmpty, "student": principal.has(.student),
                "mine": mine, "hasMine": !mine.isEmpty,
            ], request, context)
    }

    /// The published library cases, for the forms that tie questions to cases.
    func libraryCases() async throws -> [[String: Any]] {
        let result = try await mapped { try await library.search(CaseQuery(scope: .published, order: .newest, limit: 200)) }
        return result.hits.map { ["id": $0.id, "title": $0.title] }
    }

    /// `GET /training/questions`: the bank, and a form for a choice question on a library case.
    func bankPage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        guard let principal = signedIn(request, context) else { return signInRedirect(request) }
        guard TrainingAccess.allows(principal.roles, .manageBank) else { throw HTTPError(.forbidden, message: "teachers only") }
        let cases = try await libraryCases()
        let titles = Dictionary(cases.compactMap { c in (c["id"] as? Int64).map { ($0, c["title"] as? String ?? "") } }) { a, _ in a }
        let questions = try await mapped { try await store.questions() }
        let message = request.uri.queryParameters["problem"].map(String.init)
        return page(
            "training-questions", "training.bank.title",
            [
                "cases": cases, "hasCases": !cases.isEmpty, "problem": message ?? "", "hasProblem": message != nil,
                "questions": questions.map { q -> [String: Any] in
                    [
                        "id": q.id, "kind": text("training.kinds.\(q.content.kind.rawValue)", request, context), "stem": q.content.stem,
                        "case": q.content.caseID.flatMap { titles[$0] } ?? "", "tags": q.content.tags.joined(separator: ", "),
                        "difficulty": q.content.difficulty, "points": q.content.maximum,
                    ]
                },
                "difficulties": (1...5).map { ["value": $0, "selected": $0 == 3] },
                "singleKind": QuestionKind.singleChoice.rawValue, "multipleKind": QuestionKind.multipleChoice.rawValue,
                "hotspotKind": QuestionKind.hotspot.rawValue, "shapes": ["rectangle": "rectangle", "ellipse": "ellipse"],
            ], request, context)
    }

    /// `POST /training/questions`: a single- or multiple-choice question from the form (one choice a line, the right
    /// ones starting with `*`), or a hotspot question with the region the teacher drew on the case's first key image
    /// (`shape`, `x`, `y`, `width`, `height` in image pixels, `firstSlice`…`lastSlice`).
    func questionForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.require(context, .manageBank)
        let form = try await Self.form(request)
        let kind: QuestionKind =
            switch form["kind"] {
            case QuestionKind.multipleChoice.rawValue: .multipleChoice
            case QuestionKind.hotspot.rawValue: .hotspot
            default: .singleChoice
            }
        let lines = (form["choices"] ?? "").split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        let choices = lines.enumerated().map { n, line in
            let right = line.hasPrefix("*")
            let letter = String(UnicodeScalar(UInt8(97 + n % 26)))
            return Choice(id: letter, text: right ? String(line.dropFirst()).trimmingCharacters(in: .whitespaces) : line, correct: right)
        }
        var images: [QuestionImage] = []
        let caseID = form["case"].flatMap { Int64($0) }
        if let caseID, let published = try? await library.published(caseID) {
            images = published.content.keyImages.map {
                QuestionImage(
                    studyInstanceUID: $0.studyInstanceUID, seriesInstanceUID: $0.seriesInstanceUID, sopInstanceUID: $0.sopInstanceUID)
            }
        }
        var region: HotspotRegion?
        if kind == .hotspot {
            images = Array(images.prefix(1))
            func number(_ name: String) -> Double { Double((form[name] ?? "").trimmingCharacters(in: .whitespaces)) ?? .nan }
            let first = Int(form["firstSlice"] ?? "") ?? 1
            region = HotspotRegion(
                shape: HotspotRegion.Shape(rawValue: form["shape"] ?? "") ?? .rectangle, x: number("x"), y: number("y"),
                width: number("width"), height: number("height"), firstSlice: first, lastSlice: Int(form["lastSlice"] ?? "") ?? first)
        }
        let content = QuestionContent(
            kind: kind, stem: form["stem"] ?? "", caseID: caseID, images: images, choices: kind == .hotspot ? [] : choices, region: region,
            tags: (form["tags"] ?? "").split(whereSeparator: { $0 == "," || $0 == "，" }).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty },
            difficulty: Int(form["difficulty"] ?? "") ?? 3, points: Double(form["points"] ?? "") ?? 1,
            feedback: form["feedback"] ?? "")
        do {
            let q = try await store.createQuestion(content, by: principal.username)
            await record(.create, context, "question \(q.id) created")
            return Response.redirect(to: "/training/questions", type: .normal)
        } catch {
            let problem = error.description.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            return Response.redirect(to: "/training/questions?problem=\(problem)", type: .normal)
        }
    }

    /// `GET /training/exams/new`: an exam from the bank's questions, grouped by their library case.
    func newExamPage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        guard let principal = signedIn(request, context) else { return signInRedirect(request) }
        guard TrainingAccess.allows(principal.roles, .buildExam) else { throw HTTPError(.forbidden, message: "teachers only") }
        let cases = try await libraryCases()
        let titles = Dictionary(cases.compactMap { c in (c["id"] as? Int64).map { ($0, c["title"] as? String ?? "") } }) { a, _ in a }
        let questions = try await mapped { try await store.questions() }
        let message = request.uri.queryParameters["problem"].map(String.init)
        return page(
            "training-exam-new", "training.newExam.title",
            [
                "problem": message ?? "", "hasProblem": message != nil, "hasQuestions": !questions.isEmpty,
                "questions": questions.map { q -> [String: Any] in
                    [
                        "id": q.id, "kind": text("training.kinds.\(q.content.kind.rawValue)", request, context), "stem": q.content.stem,
                        "case": q.content.caseID.flatMap { titles[$0] } ?? "", "difficulty": q.content.difficulty,
                    ]
                },
            ], request, context)
    }

    /// `POST /training/exams/new`: the exam with the ticked questions (one form).
    func examForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.require(context, .buildExam)
        var request = request
        let body = String(buffer: try await request.collectBody(upTo: 1 << 20))
        let form = FormBody(body)
        let ids = Self.values(body, "question").compactMap { Int64($0) }
        let hours = Double(form["openHours"] ?? "") ?? 0
        let settings = ExamSettings(
            title: form["title"] ?? "", instructions: form["instructions"] ?? "", forms: [ids],
            timeLimitSeconds: (Int(form["minutes"] ?? "") ?? 0) * 60, closesAt: hours > 0 ? Date().addingTimeInterval(hours * 3600) : nil,
            attemptsAllowed: max(1, Int(form["attempts"] ?? "") ?? 1), shuffle: form["shuffle"] != nil)
        do {
            let exam = try await store.createExam(settings, by: principal.username)
            await record(.create, context, "exam \(exam.id) created")
            return Response.redirect(to: "/training", type: .normal)
        } catch {
            let problem = error.description.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            return Response.redirect(to: "/training/exams/new?problem=\(problem)", type: .normal)
        }
    }

    func startForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.require(context, .takeExam, owner: true)
        let id = try Self.id(context)
        let attempt = try await mapped { try await store.start(exam: id, student: principal.username) }
        await record(.execute, context, "attempt \(attempt.id) of exam \(id) started or resumed")
        return Response.redirect(to: "/training/attempts/\(attempt.id)", type: .normal)
    }

    func releaseForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.require(context, .release)
        let id = try Self.id(context)
        _ = try await mapped { try await store.release(id) }
        await record(.update, context, "exam \(id) results released")
        return Response.redirect(to: "/training/exams/\(id)/grade", type: .normal)
    }

    /// `GET /training/attempts/{id}`: the exam as the student takes it (the script loads and saves through the API).
    func takePage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        guard signedIn(request, context) != nil else { return signInRedirect(request) }
        let (_, attempt, exam) = try await loadAttempt(context, .readAttempt)
        return page("training-attempt", "training.take.title", ["id": attempt.id, "title": exam.settings.title], request, context)
    }

    func proctorPage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        guard signedIn(request, context) != nil else { return signInRedirect(request) }
        _ = try Self.require(context, .proctor)
        let exam = try await mapped { try await store.exam(try Self.id(context)) }
        return page("training-proctor", "training.proctor.title", ["id": exam.id, "title": exam.settings.title], request, context)
    }

    /// `GET /training/exams/{id}/grade`: every attempt with its score, the report answers with their rubric to grade,
    /// feedback, and the release button.
    func gradePage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        guard signedIn(request, context) != nil else { return signInRedirect(request) }
        _ = try Self.require(context, .grade)
        let exam = try await mapped { try await store.exam(try Self.id(context)) }
        var attempts: [[String: Any]] = []
        for attempt in try await mapped({ try await store.attempts(exam: exam.id) }) {
            let body = try await result(attempt, exam: exam, teacher: true)
            let reports = body.items.filter { $0.content.kind == .report }.map { item -> [String: Any] in
                let mine = item.grades.first { $0.grader == context.principal?.username }
                return [
                    "question": item.question, "position": item.position, "stem": item.content.stem, "answer": item.answer?.text ?? "",
                    "score": item.score.map { Self.points($0) } ?? "—", "maximum": Self.points(item.maximum),
                    "graders": item.grades.count, "comment": mine?.comment ?? "",
                    "criteria": item.content.rubric.map { c -> [String: Any] in
                        [
                            "id": c.id, "text": c.text, "points": Self.points(c.points),
                            "value": mine?.awards[c.id].map { Self.points($0) } ?? "",
                        ]
                    },
                ]
            }
            attempts.append([
                "id": attempt.id, "student": attempt.student, "score": Self.points(body.score), "maximum": Self.points(body.maximum),
                "complete": body.complete, "finished": attempt.finished(at: Date()), "reports": reports, "feedback": attempt.feedback,
            ])
        }
        return page(
            "training-grade", "training.grade.title",
            [
                "id": exam.id, "title": exam.settings.title, "released": exam.released, "attempts": attempts,
                "hasAttempts": !attempts.isEmpty,
            ],
            request, context)
    }

    static func points(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }

    /// `GET /training/attempts/{id}/result`: scores, the key and feedback (a student's own, once released).
    func resultPage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        guard signedIn(request, context) != nil else { return signInRedirect(request) }
        let (principal, attempt, exam) = try await loadAttempt(context, .readResult)
        let body = try await result(attempt, exam: exam, teacher: Self.isTeacher(principal))
        let items = body.items.map { item -> [String: Any] in
            let c = item.content
            var key: [String] = []
            var given: [String] = []
            switch c.kind {
            case .singleChoice, .multipleChoice:
                key = c.choices.filter(\.correct).map(\.text)
                given = c.choices.filter { item.answer?.choices?.contains($0.id) == true }.map(\.text)
            case .hotspot:
                if let r = c.region {
                    key = [
                        "\(r.shape.rawValue) x \(Int(r.x))–\(Int(r.x + r.width)), y \(Int(r.y))–\(Int(r.y + r.height)), \(r.firstSlice)–\(r.lastSlice)"
                    ]
                }
                given = (item.clicks ?? []).map { "\($0.slice): (\(Int($0.x)), \(Int($0.y)))" }
            case .report:
                key = c.rubric.map { "\($0.text) (\(Self.points($0.points)))" }
                given = [item.answer?.text ?? ""]
            case .imageQuality:
                key = c.criteria.map { "\($0.name): \($0.reference)" }
                given = c.criteria.map { "\($0.name): \(item.answer?.ratings?[$0.id].map(String.init) ?? "—")" }
            case .matching:
                key = c.pairs.map { "\($0.left) → \($0.right)" }
                given = c.pairs.map { "\($0.left) → \(item.answer?.matches?[$0.id] ?? "—")" }
            case .ordering:
                key = c.items.map(\.text)
                given = (item.answer?.order ?? []).compactMap { id in c.items.first { $0.id == id }?.text }
            case .positioning:
                func shown(_ s: PositioningSetting, _ value: String, key: Bool) -> String {
                    var text = "\(s.name): \(value)"
                    if key && s.isNumeric && s.tolerance > 0 { text += " ± \(Self.points(s.tolerance))" }
                    return s.unit.isEmpty ? text : text + " " + s.unit
                }
                key = c.settings.map { shown($0, $0.reference, key: true) }
                given = c.settings.map { shown($0, item.answer?.settings?[$0.id] ?? "—", key: false) }
            }
            return [
                "position": item.position, "stem": c.stem, "score": item.score.map { Self.points($0) } ?? "—",
                "maximum": Self.points(item.maximum), "key": key, "given": given, "feedback": c.feedback,
                "choiceFeedback": c.choices.filter { item.answer?.choices?.contains($0.id) == true && !$0.feedback.isEmpty }.map(
                    \.feedback),
                "comments": item.grades.map(\.comment).filter { !$0.isEmpty }, "overridden": item.overridden,
            ]
        }
        return page(
            "training-result", "training.result.title",
            [
                "title": exam.settings.title, "student": attempt.student, "score": Self.points(body.score),
                "maximum": Self.points(body.maximum),
                "complete": body.complete, "feedback": attempt.feedback, "hasFeedback": !attempt.feedback.isEmpty, "items": items,
            ], request, context)
    }

    /// Every value of a repeated form field (ticked checkboxes), in order.
    static func values(_ body: String, _ name: String) -> [String] {
        body.split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == name else { return nil }
            let spaced = parts[1].replacingOccurrences(of: "+", with: " ")
            return spaced.removingPercentEncoding ?? spaced
        }
    }

    static func form(_ request: Request) async throws -> FormBody {
        var request = request
        return FormBody(String(buffer: try await request.collectBody(upTo: 1 << 20)))
    }
}
