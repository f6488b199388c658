import DICOM
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Platform
import Synchronization
import Teaching
import Training

/// Training over HTTP: the JSON API under `/api/training` and the pages under `/training`. Anyone signed in reaches the
/// routes (``AccessPolicy`` files them with `/api/…` and pages); each action is then decided by ``TrainingAccess``
/// (a pure role × action function), so that a student never sees another's answers or a key before release.
struct TrainingRoutes: Sendable {
    let store: TrainingStore
    let library: TeachingStore
    let identity: IdentityStore
    let views: WebViews
    let audit: AuditTrail
    let dicomweb: DICOMwebRoutes
    let slices = SliceOrders()
    let logger: Logger

    func register(on router: Router<AtriumRequestContext>) {
        router.get("/api/training/questions") { request, context in try await self.questionsJSON(request, context) }
        router.post("/api/training/questions") { request, context in try await self.createQuestionJSON(request, context) }
        router.get("/api/training/questions/export") { request, context in try await self.exportJSON(request, context) }
        router.post("/api/training/questions/import") { request, context in try await self.importJSON(request, context) }
        router.get("/api/training/questions/:id") { request, context in try await self.questionJSON(request, context) }
        router.put("/api/training/questions/:id") { request, context in try await self.updateQuestionJSON(request, context) }
        router.get("/api/training/exams") { request, context in try await self.examsJSON(request, context) }
        router.post("/api/training/exams") { request, context in try await self.createExamJSON(request, context) }
        router.get("/api/training/exams/:id") { request, context in try await self.examJSON(request, context) }
        router.post("/api/training/exams/:id/attempts") { request, context in try await self.startJSON(request, context) }
        router.get("/api/training/exams/:id/attempts") { request, context in try await self.examAttemptsJSON(request, context) }
        router.get("/api/training/exams/:id/progress") { request, context in try await self.progressJSON(request, context) }
        router.post("/api/training/exams/:id/release") { request, context in try await self.releaseJSON(request, context) }
        router.get("/api/training/attempts/:id") { request, context in try await self.attemptJSON(request, context) }
        router.put("/api/training/attempts/:id/answers/:question") { request, context in try await self.saveJSON(request, context) }
        router.post("/api/training/attempts/:id/submit") { request, context in try await self.submitJSON(request, context) }
        router.get("/api/training/attempts/:id/result") { request, context in try await self.resultJSON(request, context) }
        router.put("/api/training/attempts/:id/grades/:question") { request, context in try await self.gradeJSON(request, context) }
        router.post("/api/training/attempts/:id/regrade/:question") { request, context in try await self.regradeJSON(request, context) }
        router.put("/api/training/attempts/:id/feedback") { request, context in try await self.feedbackJSON(request, context) }
        router.get("/api/training/attempts/:id/questions/:question/images/:n") { request, context in
            try await self.imageJSON(request, context)
        }
        router.get("/api/training/cases/:case/images/:n") { request, context in try await self.caseImageJSON(request, context) }
        registerAnalysis(on: router)
        registerPractice(on: router)
        registerSupervision(on: router)
        registerSupervisionPages(on: router)
        registerAssignments(on: router)
        registerPages(on: router)
    }

    // MARK: - Who may do what

    static func principal(_ context: AtriumRequestContext) throws -> Principal {
        guard let principal = context.principal else { throw HTTPError(.unauthorized, message: "sign in first") }
        return principal
    }

    static func require(
        _ context: AtriumRequestContext, _ action: TrainingAction, owner: Bool = false, released: Bool = false
    ) throws -> Principal {
        let principal = try principal(context)
        guard TrainingAccess.allows(principal.roles, action, owner: owner, released: released) else {
            throw HTTPError(.forbidden, message: "not allowed: \(action.rawValue)")
        }
        return principal
    }

    static func isTeacher(_ principal: Principal) -> Bool { TrainingAccess.allows(principal.roles, .buildExam) }

    static func id(_ context: AtriumRequestContext, _ name: String = "id") throws -> Int64 {
        guard let id = Int64(try context.parameters.require(name)) else { throw HTTPError(.notFound) }
        return id
    }

    /// Runs a store call, turning its errors into HTTP answers.
    func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as TrainingError {
            switch error {
            case .notFound: throw HTTPError(.notFound, message: error.description)
            case .invalid: throw HTTPError(.badRequest, message: error.description)
            case .notAllowed: throw HTTPError(.forbidden, message: error.description)
            case .conflict, .closed: throw HTTPError(.conflict, message: error.description)
            case .database:
                logger.error("training store", metadata: ["error": "\(error)"])
                throw HTTPError(.internalServerError, message: "training is not available")
            }
        } catch let error as TeachingError {
            if case .notFound = error { throw HTTPError(.notFound, message: error.description) }
            throw HTTPError(.badRequest, message: error.description)
        }
    }

    func record(_ action: AuditAction, _ context: AtriumRequestContext, _ detail: String, participants: [AuditParticipant] = []) async {
        await audit.record(
            AuditEvent(
                eventID: .applicationActivity, action: action, user: context.principal?.username ?? "",
                sourceAddress: context.remoteAddress?.ipAddress ?? "", participants: participants, detail: detail))
    }

    /// The attempt and whether `principal` owns it; 404 (not 403) for another student's, so ids reveal nothing.
    func loadAttempt(_ context: AtriumRequestContext, _ action: TrainingAction) async throws -> (Principal, Attempt, Exam) {
        let principal = try Self.principal(context)
        let attempt = try await mapped { try await store.attempt(try Self.id(context)) }
        let exam = try await mapped { try await store.exam(attempt.examID) }
        let owner = attempt.student == principal.username
        guard TrainingAccess.allows(principal.roles, action, owner: owner, released: exam.released) else {
            if !owner && !Self.isTeacher(principal) { throw HTTPError(.notFound, message: "attempt \(attempt.id) does not exist") }
            throw HTTPError(.forbidden, message: "not allowed: \(action.rawValue)")
        }
        return (principal, attempt, exam)
    }

    // MARK: - Question bank

    struct QuestionBody: Encodable {
        var id: Int64
        var revision: Int64
        var retired: Bool
        var createdBy: String
        var content: QuestionContent
        var maximum: Double
        init(_ q: Question) {
            id = q.id
            revision = q.revision
            retired = q.retired
            createdBy = q.createdBy
            content = q.content
            maximum = q.content.maximum
        }
    }

    func questionsJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.require(context, .manageBank)
        let parameters = request.uri.queryParameters
        let list = try await mapped {
            try await store.questions(
                tag: parameters["tag"].map(String.init), caseID: parameters["case"].flatMap { Int64(String($0)) },
                includeRetired: parameters["retired"] == "1")
        }
        return try Self.encoded(["questions": list.map(QuestionBody.init)])
    }

    func createQuestionJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.require(context, .manageBank)
        let content = try await Self.decodeBody(QuestionContent.self, request)
        let q = try await mapped { try await store.createQuestion(content, by: principal.username) }
        await record(.create, context, "question \(q.id) created")
        return try Self.encoded(QuestionBody(q), status: .created)
    }

    func questionJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.require(context, .manageBank)
        let id = try Self.id(context)
        let q = try await mapped { try await store.question(id) }
        let usage = try await mapped { try await store.usage(id) }
        struct Body: Encodable {
            var question: QuestionBody
            var uses: [Use]
            var answers: Int
            struct Use: Encodable {
                var exam: Int64
                var form: Int
                var usedAt: Date
            }
        }
        return try Self.encoded(
            Body(
                question: QuestionBody(q), uses: usage.exams.map { .init(exam: $0.exam, form: $0.form, usedAt: $0.usedAt) },
                answers: usage.answers))
    }

    func updateQuestionJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.require(context, .manageBank)
        let id = try Self.id(context)
        struct Body: Decodable {
            var content: QuestionContent
            var revision: Int64
            var retired: Bool?
        }
        let body = try await Self.decodeBody(Body.self, request)
        let q = try await mapped {
            try await store.updateQuestion(id, content: body.content, revision: body.revision, retired: body.retired ?? false)
        }
        await record(.update, context, "question \(id) revision \(q.revision) saved")
        return try Self.encoded(QuestionBody(q))
    }

    /// `GET /api/training/questions/export[?tag=…]`: the bank in its JSON format (docs/api.md).
    func exportJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.require(context, .manageBank)
        let tag = request.uri.queryParameters["tag"].map(String.init)
        let list = try await mapped { try await store.questions(tag: tag) }.sorted { $0.id < $1.id }
        let data = try await mapped { try QuestionJSON.export(list.map(\.content)) }
        await record(.read, context, "question bank exported: \(list.count) questions")
        return Response(
            status: .ok,
            headers: [.contentType: "application/json", .contentDisposition: "attachment; filename=\"atrium-questions.json\""],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// `POST /api/training/questions/import` with a file of the bank's JSON format: all questions or none.
    func importJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.require(context, .manageBank)
        var request = request
        let buffer = try await request.collectBody(upTo: 16 << 20)
        let contents = try await mapped { try QuestionJSON.parse(Data(buffer.readableBytesView)) }
        let ids = try await mapped { try await store.createQuestions(contents, by: principal.username) }
        await record(.create, context, "question bank imported: \(ids.count) questions")
        return try Self.encoded(["ids": ids], status: .created)
    }

    // MARK: - Exams

    struct ExamBody: Encodable {
        var id: Int64
        var title: String
        var instructions: String
        var timeLimitSeconds: Int
        var opensAt: Date?
        var closesAt: Date?
        var attemptsAllowed: Int
        var released: Bool
        var questions: Int
        /// Teachers only: the whole settings, forms included.
        var settings: ExamSettings?
        /// Students only: their attempts.
        var attempts: [AttemptSummary]?

        init(_ e: Exam, teacher: Bool, attempts: [Attempt]? = nil, now: Date = Date()) {
            id = e.id
            title = e.settings.title
            instructions = e.settings.instructions
            timeLimitSeconds = e.settings.timeLimitSeconds
            opensAt = e.settings.opensAt
            closesAt = e.settings.closesAt
            attemptsAllowed = e.settings.attemptsAllowed
            released = e.released
            questions = e.settings.forms.first?.count ?? 0
            settings = teacher ? e.settings : nil
            self.attempts = attempts?.map { AttemptSummary($0, now: now) }
        }
    }

    struct AttemptSummary: Encodable {
        var id: Int64
        var student: String
        var number: Int
        var startedAt: Date
        var deadline: Date
        var submittedAt: Date?
        var finished: Bool
        init(_ a: Attempt, now: Date) {
            id = a.id
            student = a.student
            number = a.number
            startedAt = a.startedAt
            deadline = a.deadline
            submittedAt = a.submittedAt
            finished = a.finished(at: now)
        }
    }

    func examsJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        if Self.isTeacher(principal) {
            let exams = try await mapped { try await store.exams() }
            return try Self.encoded(["exams": exams.map { ExamBody($0, teacher: true) }])
        }
        guard principal.has(.student) || principal.has(.supervisor) else { throw HTTPError(.forbidden, message: "no exams for this role") }
        let exams = try await mapped { try await store.exams(for: principal.username) }
        let mine = try await mapped { try await store.attempts(student: principal.username) }
        return try Self.encoded([
            "exams": exams.map { exam in ExamBody(exam, teacher: false, attempts: mine.filter { $0.examID == exam.id }) }
        ])
    }

    /// `POST /api/training/exams` with `{"settings": {…}}` (fixed forms) or `{"settings": {…}, "draw": {"rules": […],
    /// "forms": 2, "seed": 1}}` (forms drawn from the bank by tag and difficulty).
    func createExamJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.require(context, .buildExam)
        struct Body: Decodable {
            var settings: ExamSettings
            var draw: Draw?
            struct Draw: Decodable {
                var rules: [ExamForms.Rule]
                var forms: Int?
                var seed: UInt64?
            }
        }
        let body = try await Self.decodeBody(Body.self, request)
        let exam = try await mapped {
            if let draw = body.draw {
                return try await store.createDrawnExam(
                    body.settings, rules: draw.rules, forms: draw.forms ?? 1, seed: draw.seed ?? UInt64.random(in: 0...UInt64.max),
                    by: principal.username)
            }
            return try await store.createExam(body.settings, by: principal.username)
        }
        await record(.create, context, "exam \(exam.id) created with \(exam.settings.forms.count) form(s)")
        return try Self.encoded(ExamBody(exam, teacher: true), status: .created)
    }

    func examJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        let exam = try await mapped { try await store.exam(try Self.id(context)) }
        if Self.isTeacher(principal) { return try Self.encoded(ExamBody(exam, teacher: true)) }
        guard exam.settings.students.isEmpty || exam.settings.students.contains(principal.username),
            principal.has(.student) || principal.has(.supervisor)
        else { throw HTTPError(.notFound, message: "exam \(exam.id) does not exist") }
        let mine = try await mapped { try await store.attempts(exam: exam.id, student: principal.username) }
        return try Self.encoded(ExamBody(exam, teacher: false, attempts: mine))
    }

    /// `POST /api/training/exams/{id}/attempts`: starts the student's attempt, or returns the running one.
    func startJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.require(context, .takeExam, owner: true)
        let id = try Self.id(context)
        let attempt = try await mapped { try await store.start(exam: id, student: principal.username) }
        await record(.execute, context, "attempt \(attempt.id) of exam \(id) started or resumed")
        return try Self.encoded(AttemptSummary(attempt, now: Date()), status: .created)
    }

    func examAttemptsJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.require(context, .grade)
        let id = try Self.id(context)
        let attempts = try await mapped { try await store.attempts(exam: id) }
        var list: [[String: Any]] = []
        for attempt in attempts {
            let result = try await mapped { try await store.result(attempt: attempt.id) }
            list.append([
                "id": attempt.id, "student": attempt.student, "number": attempt.number, "finished": attempt.finished(at: Date()),
                "score": result.score, "maximum": result.maximum, "complete": result.complete,
            ])
        }
        return AuthRoutes.json(["attempts": list])
    }

    func progressJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.require(context, .proctor)
        let id = try Self.id(context)
        let progress = try await mapped { try await store.progress(exam: id) }
        let now = Date()
        return AuthRoutes.json([
            "now": ISO8601DateFormatter().string(from: now),
            "attempts": progress.map { p -> [String: Any] in
                [
                    "attempt": p.attemptID, "student": p.student, "answered": p.answered, "questions": p.questions,
                    "startedAt": ISO8601DateFormatter().string(from: p.startedAt),
                    "remainingSeconds": max(0, Int(p.deadline.timeIntervalSince(now))),
                    "lastSavedAt": p.lastSavedAt.map { ISO8601DateFormatter().string(from: $0) } ?? "",
                    "submitted": p.submitted, "finished": p.submitted || now >= p.deadline,
                ]
            },
        ])
    }

    func releaseJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.require(context, .release)
        let id = try Self.id(context)
        let exam = try await mapped { try await store.release(id) }
        await record(.update, context, "exam \(id) results released")
        return try Self.encoded(ExamBody(exam, teacher: true))
    }

    // MARK: - Attempts

    /// `GET /api/training/attempts/{id}`: what the student needs to take or resume it: the questions in the attempt's
    /// order without their keys, the saved answers, and the time left on the server's clock.
    func attemptJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (_, attempt, exam) = try await loadAttempt(context, .readAttempt)
        let questions = try await mapped { try await store.questions(ids: attempt.order) }
        let saved = try await mapped { try await store.answers(attempt: attempt.id) }
        let now = Date()
        struct Item: Encodable {
            var id: Int64
            var position: Int
            var content: QuestionContent
            var maximum: Double
        }
        struct Saved: Encodable {
            var answer: Answer
            var sequence: Int64
        }
        struct Body: Encodable {
            var id: Int64
            var exam: Int64
            var title: String
            var instructions: String
            var student: String
            var deadline: Date
            var remainingMilliseconds: Int64
            var finished: Bool
            var submitted: Bool
            var released: Bool
            var questions: [Item]
            var answers: [String: Saved]
        }
        let items = attempt.order.enumerated().compactMap { position, id -> Item? in
            guard let q = questions[id] else { return nil }
            return Item(
                id: id, position: position + 1, content: q.content.hidingKey(seed: attempt.seed &+ UInt64(bitPattern: id)),
                maximum: q.content.maximum)
        }
        var answers: [String: Saved] = [:]
        for s in saved { answers[String(s.questionID)] = Saved(answer: s.answer, sequence: s.sequence) }
        return try Self.encoded(
            Body(
                id: attempt.id, exam: exam.id, title: exam.settings.title, instructions: exam.settings.instructions,
                student: attempt.student,
                deadline: attempt.deadline, remainingMilliseconds: max(0, Int64(attempt.deadline.timeIntervalSince(now) * 1000)),
                finished: attempt.finished(at: now), submitted: attempt.submittedAt != nil, released: exam.released, questions: items,
                answers: answers))
    }

    /// `PUT /api/training/attempts/{id}/answers/{question}` with `{"answer": {…}, "sequence": n}`: saved as given
    /// (idempotent; the highest sequence wins); 409 once the attempt is submitted or its time is over.
    func saveJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.require(context, .takeExam, owner: true)
        let id = try Self.id(context)
        let question = try Self.id(context, "question")
        struct Body: Decodable {
            var answer: Answer
            var sequence: Int64
        }
        let body = try await Self.decodeBody(Body.self, request, limit: 256 << 10)
        let outcome = try await mapped {
            try await store.saveAnswer(
                attempt: id, question: question, student: principal.username, answer: body.answer, sequence: body.sequence)
        }
        return AuthRoutes.json([
            "stored": outcome.stored, "sequence": outcome.sequence, "savedAt": ISO8601DateFormatter().string(from: outcome.savedAt),
        ])
    }

    func submitJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.require(context, .takeExam, owner: true)
        let id = try Self.id(context)
        let attempt = try await mapped { try await store.submit(attempt: id, student: principal.username) }
        await record(.update, context, "attempt \(id) submitted")
        return try Self.encoded(AttemptSummary(attempt, now: Date()))
    }

    struct ResultBody: Encodable {
        var attempt: Int64
        var exam: Int64
        var title: String
        var student: String
        var score: Double
        var maximum: Double
        var complete: Bool
        var released: Bool
        var feedback: String
        var items: [Item]
        struct Item: Encodable {
            var question: Int64
            var position: Int
            var score: Double?
            var computed: Double?
            var overridden: Bool
            var maximum: Double
            var content: QuestionContent
            var answer: Answer?
            var clicks: [Answer.Click]?
            var grades: [Grade]
        }
        struct Grade: Encodable {
            var grader: String?
            var awards: [String: Double]
            var comment: String
        }
    }

    func result(_ attempt: Attempt, exam: Exam, teacher: Bool) async throws -> ResultBody {
        let result = try await mapped { try await store.result(attempt: attempt.id) }
        let questions = try await mapped { try await store.questions(ids: attempt.order) }
        let saved = try await mapped { try await store.answers(attempt: attempt.id) }
        let grades = try await mapped { try await store.grades(attempt: attempt.id) }
        var items: [ResultBody.Item] = []
        for (position, item) in result.items.enumerated() {
            guard let q = questions[item.questionID] else { continue }
            let clicks =
                q.content.kind == .hotspot
                ? try await mapped { try await store.clicks(attempt: attempt.id, question: item.questionID) } : nil
            items.append(
                .init(
                    question: item.questionID, position: position + 1, score: item.score, computed: item.computed,
                    overridden: item.overridden,
                    maximum: item.maximum, content: q.content, answer: saved.first { $0.questionID == item.questionID }?.answer,
                    clicks: clicks,
                    grades: grades.filter { $0.questionID == item.questionID }.map {
                        // Students see what graders wrote, not who they are.
                        .init(grader: teacher ? $0.grader : nil, awards: $0.awards, comment: $0.comment)
                    }))
        }
        return ResultBody(
            attempt: attempt.id, exam: exam.id, title: exam.settings.title, student: attempt.student, score: result.score,
            maximum: result.maximum, complete: result.complete, released: exam.released, feedback: attempt.feedback, items: items)
    }

    /// `GET /api/training/attempts/{id}/result`: scores, the key and the feedback; a student sees their own once the
    /// exam is released.
    func resultJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, attempt, exam) = try await loadAttempt(context, .readResult)
        return try Self.encoded(try await result(attempt, exam: exam, teacher: Self.isTeacher(principal)))
    }

    func gradeJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, attempt, exam) = try await loadAttempt(context, .grade)
        let question = try Self.id(context, "question")
        struct Body: Decodable {
            var awards: [String: Double]
            var comment: String?
        }
        let body = try await Self.decodeBody(Body.self, request)
        // After release, changing a grade is a regrade: the audit trail says so.
        try await mapped {
            try await store.grade(
                attempt: attempt.id, question: question, grader: principal.username, awards: body.awards, comment: body.comment ?? "")
        }
        await record(
            .update, context, "attempt \(attempt.id) question \(question) graded\(exam.released ? " after release (regrade)" : "")",
            participants: [.user(attempt.student)])
        return try Self.encoded(try await result(attempt, exam: exam, teacher: true))
    }

    func regradeJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, attempt, exam) = try await loadAttempt(context, .regrade)
        let question = try Self.id(context, "question")
        struct Body: Decodable {
            var points: Double
            var reason: String
        }
        let body = try await Self.decodeBody(Body.self, request)
        let before = try await mapped {
            try await store.regrade(
                attempt: attempt.id, question: question, points: body.points, reason: body.reason, by: principal.username)
        }
        await record(
            .update, context,
            "regrade: attempt \(attempt.id) question \(question) from \(before.map { "\($0)" } ?? "ungraded") to \(body.points): \(body.reason)",
            participants: [.user(attempt.student)])
        return try Self.encoded(try await result(attempt, exam: exam, teacher: true))
    }

    func feedbackJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (_, attempt, _) = try await loadAttempt(context, .grade)
        struct Body: Decodable { var feedback: String }
        let body = try await Self.decodeBody(Body.self, request)
        try await mapped { try await store.setFeedback(attempt: attempt.id, body.feedback) }
        await record(.update, context, "attempt \(attempt.id) feedback written")
        return AuthRoutes.json(["feedback": body.feedback])
    }

    /// `GET /api/training/attempts/{id}/questions/{question}/images/{n}[?slice=k]`: the n-th image of a question in the
    /// attempt (0-based), rendered by the server's rendered-image pipeline; for a series, slice k (1-based) in the order
    /// of Instance Number. Students see images only through their own attempt (DICOMweb stays closed to them); the
    /// response's `X-Atrium-Slices` header holds the series' slice count.
    func imageJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (_, attempt, _) = try await loadAttempt(context, .readAttempt)
        let question = try Self.id(context, "question")
        guard attempt.order.contains(question), let n = Int(try context.parameters.require("n")) else { throw HTTPError(.notFound) }
        let q = try await mapped { try await store.question(question) }
        guard n >= 0, n < q.content.images.count else { throw HTTPError(.notFound, message: "no image \(n)") }
        return try await renderedSlice(request, q.content.images[n])
    }

    /// `GET /api/training/cases/{case}/images/{n}[?slice=k]`: the n-th key image of a published library case, as the
    /// attempt's images are served (headers included), for the bank's editor where the teacher draws a hotspot region.
    func caseImageJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.require(context, .manageBank)
        let caseID = try Self.id(context, "case")
        guard let n = Int(try context.parameters.require("n")) else { throw HTTPError(.notFound) }
        guard let published = try await mapped({ try await library.published(caseID) }) else {
            throw HTTPError(.notFound, message: "case \(caseID) is not published")
        }
        let keys = published.content.keyImages
        guard n >= 0, n < keys.count else { throw HTTPError(.notFound, message: "no key image \(n)") }
        return try await renderedSlice(
            request,
            QuestionImage(
                studyInstanceUID: keys[n].studyInstanceUID, seriesInstanceUID: keys[n].seriesInstanceUID,
                sopInstanceUID: keys[n].sopInstanceUID))
    }

    /// A question image rendered by the server's pipeline: slice `?slice=k` (1-based, Instance Number order) of its
    /// series, or its own instance (the middle slice when it names none).
    func renderedSlice(_ request: Request, _ image: QuestionImage) async throws -> Response {
        let order = try await slices.order(study: image.studyInstanceUID, series: image.seriesInstanceUID, routes: dicomweb)
        guard !order.isEmpty else { throw HTTPError(.notFound, message: "the series has no images") }
        let requested = request.uri.queryParameters["slice"].flatMap { Int(String($0)) }
        let instance: String
        if let requested {
            guard (1...order.count).contains(requested) else { throw HTTPError(.notFound, message: "slice 1 to \(order.count)") }
            instance = order[requested - 1]
        } else {
            instance = image.sopInstanceUID.isEmpty ? order[order.count / 2] : image.sopInstanceUID
        }
        var parameters = Parameters()
        parameters["study"] = Substring(image.studyInstanceUID)
        parameters["series"] = Substring(image.seriesInstanceUID)
        parameters["instance"] = Substring(instance)
        var response = try await dicomweb.rendered(request, parameters, frame: image.frame ?? 1, thumbnail: false)
        response.headers[Self.slicesHeader] = String(order.count)
        response.headers[Self.sliceHeader] = String((order.firstIndex(of: instance) ?? 0) + 1)
        return response
    }

    static let slicesHeader = HTTPField.Name("X-Atrium-Slices")!
    static let sliceHeader = HTTPField.Name("X-Atrium-Slice")!

    // MARK: - Plumbing

    static func decodeBody<T: Decodable>(_ type: T.Type, _ request: Request, limit: Int = 4 << 20) async throws -> T {
        var request = request
        let buffer = try await request.collectBody(upTo: limit)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return try decoder.decode(T.self, from: Data(buffer.readableBytesView))
        } catch {
            throw HTTPError(.badRequest, message: "the body is not a valid \(T.self): \(error)")
        }
    }

    static func encoded<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}

/// The slice order of series (SOP Instance UIDs by Instance Number, then UID), computed once per series.
final class SliceOrders: Sendable {
    private let cache = Mutex<[String: [String]]>([:])

    func order(study: String, series: String, routes: DICOMwebRoutes) async throws -> [String] {
        if let known = cache.withLock({ $0[series] }) { return known }
        let found = try await routes.instances(study: study, series: series, instance: nil)
        var numbered: [(Int, String)] = []
        for item in found {
            let file = try await routes.read(item, options: ReadOptions(stopBefore: .pixelData))
            numbered.append((file.dataSet.int(.instanceNumber) ?? Int.max, item.sopInstanceUID))
        }
        let order = numbered.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }.map(\.1)
        cache.withLock { $0[series] = order }
        return order
    }
}
