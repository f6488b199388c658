import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Platform
import Training

/// An exam's statistics for its teachers: item analysis per form, grader agreement, the originality check of report
/// answers, the gradebook as CSV and XLSX; and the Moodle XML import of the bank.
extension TrainingRoutes {
    func registerAnalysis(on router: Router<AtriumRequestContext>) {
        router.get("/api/training/exams/:id/analysis") { request, context in try await self.analysisJSON(request, context) }
        router.get("/api/training/exams/:id/gradebook.csv") { request, context in try await self.gradebook(request, context, xlsx: false) }
        router.get("/api/training/exams/:id/gradebook.xlsx") { request, context in try await self.gradebook(request, context, xlsx: true) }
        router.post("/api/training/questions/import/moodle") { request, context in try await self.importMoodle(request, context) }
        router.get("/training/exams/:id/analysis") { request, context in try await self.analysisPage(request, context) }
    }

    struct AnalysisBody: Encodable {
        struct Form: Encodable {
            var form: Int
            var questions: [Int64]
            var ungraded: Int
            var problem: String?
            var report: ItemAnalysisReport?
        }
        struct Agreement: Encodable {
            var question: Int64
            var firstGrader: String
            var secondGrader: String
            var attempts: Int
            var kappa: Double?
            var weightedKappa: Double?
        }
        struct Similar: Encodable {
            var question: Int64
            var firstAttempt: Int64
            var secondAttempt: Int64
            var firstStudent: String
            var secondStudent: String
            var jaccard: Double
            var passages: [String]
        }
        var exam: Int64
        var title: String
        var attempts: Int
        var forms: [Form]
        var agreement: [Agreement]
        var similar: [Similar]
    }

    /// Everything the analysis shows, computed from the store's inputs.
    func analysis(_ id: Int64) async throws -> (AnalysisBody, [Int64: QuestionContent]) {
        let inputs = try await mapped { try await store.analysisInputs(exam: id) }
        let forms = ExamAnalysis.forms(exam: inputs.exam.settings, questions: inputs.questions, attempts: inputs.attempts)
        let agreement = ExamAnalysis.agreement(questions: inputs.questions, attempts: inputs.attempts)
        let students = Dictionary(inputs.attempts.map { (String($0.attemptID), $0.student) }) { a, _ in a }
        var similar: [AnalysisBody.Similar] = []
        for (question, documents) in ExamAnalysis.reportDocuments(questions: inputs.questions, attempts: inputs.attempts).sorted(by: {
            $0.key < $1.key
        }) {
            for flag in OriginalityCheck.flags(documents) {
                similar.append(
                    AnalysisBody.Similar(
                        question: question, firstAttempt: Int64(flag.first) ?? 0, secondAttempt: Int64(flag.second) ?? 0,
                        firstStudent: students[flag.first] ?? "", secondStudent: students[flag.second] ?? "", jaccard: flag.jaccard,
                        passages: flag.passages.map(\.text)))
            }
        }
        let body = AnalysisBody(
            exam: id, title: inputs.exam.settings.title, attempts: inputs.attempts.count,
            forms: forms.map {
                .init(form: $0.form, questions: $0.questions, ungraded: $0.ungraded, problem: $0.problem, report: $0.report)
            },
            agreement: agreement.map {
                .init(
                    question: $0.question, firstGrader: $0.firstGrader, secondGrader: $0.secondGrader, attempts: $0.attempts,
                    kappa: $0.kappa, weightedKappa: $0.weightedKappa)
            }, similar: similar)
        return (body, inputs.questions)
    }

    /// `GET /api/training/exams/{id}/analysis`: item analysis (Moodle's quiz statistics) of every form on each student's
    /// earliest finished attempt, grader agreement per report question, and pairs of similar report answers.
    func analysisJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.require(context, .analyse)
        let id = try Self.id(context)
        let (body, _) = try await analysis(id)
        await record(.read, context, "exam \(id) analysis read")
        return try Self.encoded(body)
    }

    /// `GET /api/training/exams/{id}/gradebook.csv|xlsx`: every attempt with its total and each question's score.
    func gradebook(_ request: Request, _ context: AtriumRequestContext, xlsx: Bool) async throws -> Response {
        _ = try Self.require(context, .analyse)
        let id = try Self.id(context)
        let exam = try await mapped { try await store.exam(id) }
        var columns: [Int64] = []
        for form in exam.settings.forms { for q in form where !columns.contains(q) { columns.append(q) } }
        var header = ["student", "attempt", "form", "started", "submitted", "score", "maximum", "percent", "complete"]
        header += columns.map { "Q\($0)" }
        var rows: [[SpreadsheetValue]] = []
        for attempt in try await mapped({ try await store.attempts(exam: id) }) {
            let result = try await mapped { try await store.result(attempt: attempt.id) }
            let scores = Dictionary(result.items.map { ($0.questionID, $0.score) }) { a, _ in a }
            var row: [SpreadsheetValue] = [
                .text(attempt.student), .number(Double(attempt.number)), .number(Double(attempt.form + 1)), .date(attempt.startedAt),
                attempt.submittedAt.map { .date($0) } ?? .empty, .number(result.score), .number(result.maximum),
                result.maximum > 0 ? .number((result.score / result.maximum * 10_000).rounded() / 100) : .empty,
                .text(result.complete ? "yes" : "no"),
            ]
            row += columns.map { q in (scores[q] ?? nil).map { .number($0) } ?? .empty }
            rows.append(row)
        }
        await record(.read, context, "exam \(id) gradebook exported: \(rows.count) attempts")
        let name = "atrium-exam-\(id)-gradebook"
        let sheet = SpreadsheetSheet(name: "Gradebook", header: header, rows: rows)
        return xlsx ? try workbook([sheet], name: name) : Self.csv(sheet, name: name)
    }

    /// A workbook download (`name.xlsx`); a failure to write it is logged and answered 500.
    func workbook(_ sheets: [SpreadsheetSheet], name: String) throws -> Response {
        let bytes: [UInt8]
        do {
            bytes = try XLSXWriter.write(sheets)
        } catch {
            logger.error("workbook export", metadata: ["name": "\(name)", "error": "\(error)"])
            throw HTTPError(.internalServerError, message: "the workbook could not be written: \(error)")
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                .contentDisposition: "attachment; filename=\"\(name).xlsx\"",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// One sheet as a CSV download (`name.csv`).
    static func csv(_ sheet: SpreadsheetSheet, name: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(name).csv\""],
            body: .init(byteBuffer: ByteBuffer(bytes: CSVWriter.write(header: sheet.header, rows: sheet.rows))))
    }

    /// `POST /api/training/questions/import/moodle` with a Moodle XML quiz file: its choice questions enter the bank (all
    /// of them or, when the store refuses one, none); the others are listed with their reasons.
    func importMoodle(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.require(context, .manageBank)
        var request = request
        let buffer = try await request.collectBody(upTo: 16 << 20)
        let file: MoodleImport
        do {
            file = try MoodleXML.parse(Data(buffer.readableBytesView))
        } catch {
            throw HTTPError(.badRequest, message: error.description)
        }
        let (questions, skipped) = MoodleXML.bankQuestions(file)
        let ids = questions.isEmpty ? [] : try await mapped { try await store.createQuestions(questions, by: principal.username) }
        await record(.create, context, "question bank imported from Moodle XML: \(ids.count) questions, \(skipped.count) skipped")
        struct Body: Encodable {
            var ids: [Int64]
            var skipped: [MoodleSkippedQuestion]
        }
        return try Self.encoded(Body(ids: ids, skipped: skipped), status: ids.isEmpty ? .ok : .created)
    }

    /// `GET /training/exams/{id}/analysis`: the same figures as a page.
    func analysisPage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        guard signedIn(request, context) != nil else { return signInRedirect(request) }
        _ = try Self.require(context, .analyse)
        let id = try Self.id(context)
        let (body, questions) = try await analysis(id)
        func percent(_ value: Double?) -> String { value.map { String(format: "%.1f", $0 * 100) } ?? "—" }
        func number(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "—" }
        let forms = body.forms.map { form -> [String: Any] in
            let items = (form.report?.items ?? []).enumerated().map { n, item -> [String: Any] in
                let question = Int64(item.id) ?? 0
                return [
                    "position": n + 1, "question": question, "stem": questions[question]?.stem ?? "",
                    "facility": percent(item.facility), "sd": percent(item.standardDeviation),
                    "guess": percent(item.randomGuessScore), "discrimination": percent(item.discriminationIndex),
                    "efficiency": percent(item.discriminativeEfficiency), "upperLower": number(item.upperLowerDiscrimination),
                    "flags": item.flags.map { text("training.analysis.flags.\($0.rawValue)", request, context) },
                    "flagged": !item.flags.isEmpty,
                    "options": item.options.map { o -> [String: Any] in
                        ["option": o.option, "key": o.isKey, "total": o.total, "upper": o.upper, "lower": o.lower]
                    },
                ]
            }
            return [
                "form": form.form + 1, "problem": form.problem ?? "", "hasProblem": form.problem != nil, "ungraded": form.ungraded,
                "students": form.report?.studentCount ?? 0, "mean": number(form.report?.meanTotal),
                "sd": number(form.report?.standardDeviationTotal), "maximum": number(form.report?.maximumTotal),
                "alpha": number(form.report?.cronbachAlpha), "items": items,
            ]
        }
        return page(
            "training-analysis", "training.analysis.title",
            [
                "id": id, "title": body.title, "attempts": body.attempts, "forms": forms, "hasForms": !forms.isEmpty,
                "agreement": body.agreement.map { a -> [String: Any] in
                    [
                        "question": a.question, "stem": questions[a.question]?.stem ?? "", "graders": "\(a.firstGrader), \(a.secondGrader)",
                        "attempts": a.attempts, "kappa": number(a.kappa), "weighted": number(a.weightedKappa),
                    ]
                }, "hasAgreement": !body.agreement.isEmpty,
                "similar": body.similar.map { s -> [String: Any] in
                    [
                        "question": s.question, "first": s.firstStudent, "second": s.secondStudent, "firstAttempt": s.firstAttempt,
                        "secondAttempt": s.secondAttempt, "jaccard": percent(s.jaccard), "passage": s.passages.first ?? "",
                    ]
                }, "hasSimilar": !body.similar.isEmpty,
            ], request, context)
    }
}
