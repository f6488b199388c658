import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Platform
import Teaching
import Training

/// Practice on published library cases: the student reads a case with its answers hidden, writes findings and an
/// impression, and on submitting sees the reference report and which key findings the report found, negated or
/// missed; teachers set each case's key findings and comment on the reports.
extension TrainingRoutes {
    func registerPractice(on router: Router<AtriumRequestContext>) {
        router.get("/api/training/practice/cases") { request, context in try await self.practiceCasesJSON(request, context) }
        router.get("/api/training/practice/cases/:case/findings") { request, context in try await self.findingsJSON(request, context) }
        router.put("/api/training/practice/cases/:case/findings") { request, context in try await self.setFindingsJSON(request, context) }
        router.post("/api/training/practice/cases/:case/reports") { request, context in try await self.submitPracticeJSON(request, context)
        }
        router.get("/api/training/practice/reports") { request, context in try await self.practiceReportsJSON(request, context) }
        router.get("/api/training/practice/reports/:id") { request, context in try await self.practiceReportJSON(request, context) }
        router.put("/api/training/practice/reports/:id/comment") { request, context in try await self.commentJSON(request, context) }
        router.get("/training/practice") { request, context in try await self.practiceHomePage(request, context) }
        router.get("/training/practice/cases/:case") { request, context in try await self.practiceCasePage(request, context) }
        router.post("/training/practice/cases/:case") { request, context in try await self.practiceForm(request, context) }
        router.post("/training/practice/cases/:case/findings") { request, context in try await self.findingsForm(request, context) }
        router.get("/training/practice/reports/:id") { request, context in try await self.practiceReportPage(request, context) }
        router.post("/training/practice/reports/:id/comment") { request, context in try await self.commentForm(request, context) }
        router.get("/api/training/logbook") { request, context in try await self.logbookJSON(request, context) }
        router.get("/training/logbook") { request, context in try await self.logbookPage(request, context) }
    }

    // MARK: - Logbook

    /// The logbook of `?trainee=` (teachers and supervisors) or of the caller, counted from practice and exams.
    func logbook(_ request: Request, _ context: AtriumRequestContext) async throws -> (String, Logbook, [Int64: String]) {
        let principal = try Self.principal(context)
        let asked = request.uri.queryParameters["trainee"].map(String.init)
        let trainee = asked ?? principal.username
        if trainee != principal.username {
            guard TrainingAccess.allows(principal.roles, .readLogbooks) else {
                throw HTTPError(.forbidden, message: "only teachers and supervisors read another trainee's logbook")
            }
        } else {
            _ = try Self.require(context, .practise)
        }
        let entries = try await mapped { try await store.logbookEntries(student: trainee) }
        var facts: [Int64: Logbook.CaseFacts] = [:]
        var titles: [Int64: String] = [:]
        for id in Set(entries.map(\.caseID)) {
            guard let content = try await mapped({ try await library.published(id) })?.content else { continue }
            facts[id] = Logbook.CaseFacts(
                modalities: content.tags.modalities, bodyRegion: content.tags.bodyRegion, diagnosis: content.diagnosis)
            titles[id] = content.title
        }
        if trainee != principal.username { await record(.read, context, "logbook of \(trainee) read") }
        return (trainee, Logbook.count(entries, facts: facts), titles)
    }

    /// `GET /api/training/logbook[?trainee=]`.
    func logbookJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (trainee, book, _) = try await logbook(request, context)
        return AuthRoutes.json([
            "trainee": trainee, "cases": book.cases,
            "events": Dictionary(uniqueKeysWithValues: Logbook.Kind.allCases.map { ($0.rawValue, book.events[$0] ?? 0) }),
            "byModality": book.byModality, "byRegion": book.byRegion, "byDiagnosis": book.byDiagnosis,
            "entries": book.entries.map { e -> [String: Any] in
                ["date": ISO8601DateFormatter().string(from: e.date), "case": e.caseID, "kind": e.kind.rawValue, "source": e.source]
            },
        ])
    }

    /// `GET /training/logbook[?trainee=]`: the counts and the events, newest first.
    func logbookPage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        guard signedIn(request, context) != nil else { return signInRedirect(request) }
        let (trainee, book, titles) = try await logbook(request, context)
        func rows(_ counts: [String: Int]) -> [[String: Any]] {
            counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { ["name": $0.key, "count": $0.value] }
        }
        return page(
            "training-logbook", "training.logbook.title",
            [
                "trainee": trainee, "cases": book.cases, "reported": book.events[.reported] ?? 0,
                "examined": book.events[.examined] ?? 0,
                "assigned": book.events[.assigned] ?? 0, "byModality": rows(book.byModality), "byRegion": rows(book.byRegion),
                "byDiagnosis": rows(book.byDiagnosis),
                "entries": book.entries.prefix(200).map { e -> [String: Any] in
                    [
                        "date": Self.dateText(e.date), "case": titles[e.caseID] ?? "#\(e.caseID)", "kind": e.kind.rawValue,
                        "label": text("training.logbook.kind.\(e.kind.rawValue)", request, context),
                        "href": e.kind == .reported ? "/training/practice/reports/\(e.source)" : "/training/attempts/\(e.source)/result",
                    ]
                }, "hasEntries": !book.entries.isEmpty,
            ], request, context)
    }

    // MARK: - Plumbing

    /// A published, not retired library case, or 404.
    func practiceCase(_ context: AtriumRequestContext) async throws -> (Int64, CaseContent) {
        let id = try Self.id(context, "case")
        guard let version = try await mapped({ try await library.published(id) }) else {
            throw HTTPError(.notFound, message: "case \(id) is not a published teaching case")
        }
        return (id, version.content)
    }

    /// A practice report its reader may see: their own, or any for a teacher; another student's is 404.
    func readablePractice(_ context: AtriumRequestContext) async throws -> (Principal, PracticeAttempt) {
        let principal = try Self.principal(context)
        let report = try await mapped { try await store.practice(try Self.id(context)) }
        let reviewer = TrainingAccess.allows(principal.roles, .reviewPractice)
        guard reviewer || (report.student == principal.username && TrainingAccess.allows(principal.roles, .practise)) else {
            throw HTTPError(.notFound, message: "practice report \(report.id) does not exist")
        }
        return (principal, report)
    }

    struct ReferenceBody: Encodable {
        var title: String
        var findings: String
        var diagnosis: String
        var discussion: String
        var learningPoints: [String]
        init(_ c: CaseContent) {
            title = c.title
            findings = c.findings
            diagnosis = c.diagnosis
            discussion = c.discussion
            learningPoints = c.learningPoints
        }
    }

    struct PracticeBody: Encodable {
        var id: Int64
        var caseID: Int64
        var student: String
        var findings: String
        var impression: String
        var matches: [FindingMatch]
        var keyFindings: [KeyFinding]
        var submittedAt: Date
        var comment: String
        var commentedBy: String?
        var commentedAt: Date?
        var reference: ReferenceBody?
    }

    func practiceBody(_ report: PracticeAttempt, content: CaseContent?) async throws -> PracticeBody {
        let findings = try await mapped { try await store.keyFindings(case: report.caseID) }
        return PracticeBody(
            id: report.id, caseID: report.caseID, student: report.student, findings: report.submission.findings,
            impression: report.submission.impression, matches: report.matches, keyFindings: findings, submittedAt: report.submittedAt,
            comment: report.comment, commentedBy: report.commentedBy, commentedAt: report.commentedAt,
            reference: content.map(ReferenceBody.init))
    }

    // MARK: - JSON API

    /// `GET /api/training/practice/cases`: the published cases with key findings set.
    func practiceCasesJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.require(context, .practise)
        let counts = try await mapped { try await store.practiceCases() }
        var list: [[String: Any]] = []
        for (id, count) in counts.sorted(by: { $0.key < $1.key }) {
            guard let version = try await mapped({ try await library.published(id) }) else { continue }
            list.append(["case": id, "title": version.content.title, "keyFindings": count])
        }
        return AuthRoutes.json(["cases": list])
    }

    func findingsJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.require(context, .reviewPractice)
        let (id, _) = try await practiceCase(context)
        return try Self.encoded(["findings": try await mapped { try await store.keyFindings(case: id) }])
    }

    /// `PUT /api/training/practice/cases/{case}/findings` with `{"findings": [{"id", "terms": [...]}]}`.
    func setFindingsJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.require(context, .reviewPractice)
        let (id, _) = try await practiceCase(context)
        struct Body: Decodable { var findings: [KeyFinding] }
        let body = try await Self.decodeBody(Body.self, request)
        try await mapped { try await store.setKeyFindings(case: id, body.findings, by: principal.username) }
        await record(.update, context, "key findings of case \(id) set: \(body.findings.count)")
        return try Self.encoded(["findings": try await mapped { try await store.keyFindings(case: id) }])
    }

    /// `POST /api/training/practice/cases/{case}/reports` with `{"findings", "impression"}`: the check and the reference.
    func submitPracticeJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.require(context, .practise)
        let (id, content) = try await practiceCase(context)
        let submission = try await Self.decodeBody(PracticeSubmission.self, request, limit: 256 << 10)
        let report = try await mapped { try await store.submitPractice(case: id, student: principal.username, submission) }
        await record(.create, context, "practice report \(report.id) on case \(id) submitted")
        return try Self.encoded(try await practiceBody(report, content: content), status: .created)
    }

    /// `GET /api/training/practice/reports[?case=]`: a student's own reports; every report for a teacher.
    func practiceReportsJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.require(context, .practise)
        let reviewer = TrainingAccess.allows(principal.roles, .reviewPractice)
        let caseID = request.uri.queryParameters["case"].flatMap { Int64(String($0)) }
        let list = try await mapped {
            try await store.practices(student: reviewer ? nil : principal.username, caseID: caseID)
        }
        return AuthRoutes.json([
            "reports": list.map { r -> [String: Any] in
                [
                    "id": r.id, "case": r.caseID, "student": r.student, "submittedAt": ISO8601DateFormatter().string(from: r.submittedAt),
                    "found": r.matches.filter { $0.outcome == .found }.count, "keyFindings": r.matches.count,
                    "commented": !r.comment.isEmpty,
                ]
            }
        ])
    }

    func practiceReportJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (_, report) = try await readablePractice(context)
        let content = try await mapped { try await library.published(report.caseID) }?.content
        await record(.read, context, "practice report \(report.id) read")
        return try Self.encoded(try await practiceBody(report, content: content))
    }

    func commentJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.require(context, .reviewPractice)
        let id = try Self.id(context)
        struct Body: Decodable { var comment: String }
        let body = try await Self.decodeBody(Body.self, request)
        let report = try await mapped { try await store.commentPractice(id, body.comment, by: principal.username) }
        await record(.update, context, "practice report \(id) commented")
        return try Self.encoded(try await practiceBody(report, content: nil))
    }

    // MARK: - Pages

    /// `GET /training/practice`: the cases to practise on and one's reports; for teachers every published case (to set
    /// key findings) and the latest reports to comment on.
    func practiceHomePage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        guard let principal = signedIn(request, context) else { return signInRedirect(request) }
        _ = try Self.require(context, .practise)
        let reviewer = TrainingAccess.allows(principal.roles, .reviewPractice)
        let counts = try await mapped { try await store.practiceCases() }
        var cases: [[String: Any]] = []
        let published = try await libraryCases()
        for entry in published {
            guard let id = entry["id"] as? Int64 else { continue }
            let count = counts[id] ?? 0
            if count == 0 && !reviewer { continue }
            cases.append(["id": id, "title": entry["title"] as? String ?? "", "keyFindings": count, "ready": count > 0])
        }
        let titles = Dictionary(published.compactMap { c in (c["id"] as? Int64).map { ($0, c["title"] as? String ?? "") } }) { a, _ in a }
        let reports = try await mapped { try await store.practices(student: reviewer ? nil : principal.username, limit: 50) }
        return page(
            "training-practice", "training.practice.title",
            [
                "reviewer": reviewer, "cases": cases, "hasCases": !cases.isEmpty,
                "reports": reports.map { r -> [String: Any] in
                    [
                        "id": r.id, "case": titles[r.caseID] ?? "#\(r.caseID)", "student": r.student, "date": Self.dateText(r.submittedAt),
                        "found": r.matches.filter { $0.outcome == .found }.count, "total": r.matches.count, "commented": !r.comment.isEmpty,
                    ]
                }, "hasReports": !reports.isEmpty,
            ], request, context)
    }

    /// `GET /training/practice/cases/{case}`: the history and key images, the report form; for teachers the key findings.
    func practiceCasePage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        guard let principal = signedIn(request, context) else { return signInRedirect(request) }
        _ = try Self.require(context, .practise)
        let (id, content) = try await practiceCase(context)
        let reviewer = TrainingAccess.allows(principal.roles, .reviewPractice)
        let images = try await mapped { try await library.images(of: id) }
        let findings = try await mapped { try await store.keyFindings(case: id) }
        let problem = request.uri.queryParameters["problem"].map(String.init)
        await record(.read, context, "practice case \(id) opened")
        return page(
            "training-practice-case", "training.practice.title",
            [
                "id": id, "history": content.clinicalHistory, "hasHistory": !content.clinicalHistory.isEmpty,
                "modalities": content.tags.modalities.joined(separator: ", "),
                "images": images.map { ["src": "/library/cases/\(id)/images/\($0.sopInstanceUID)/rendered", "uid": $0.sopInstanceUID] },
                "hasImages": !images.isEmpty, "reviewer": reviewer, "findingsText": Practice.lines(findings),
                "keyFindings": findings.count, "problem": problem ?? "", "hasProblem": problem != nil,
            ], request, context)
    }

    func practiceForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.require(context, .practise)
        let (id, _) = try await practiceCase(context)
        let form = try await FormBody.read(request, limitBytes: 256 << 10)
        let submission = PracticeSubmission(findings: form["findings"] ?? "", impression: form["impression"] ?? "")
        do {
            let report = try await store.submitPractice(case: id, student: principal.username, submission)
            await record(.create, context, "practice report \(report.id) on case \(id) submitted")
            return Response.redirect(to: "/training/practice/reports/\(report.id)", type: .normal)
        } catch {
            let problem = error.description.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            return Response.redirect(to: "/training/practice/cases/\(id)?problem=\(problem)", type: .normal)
        }
    }

    func findingsForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.require(context, .reviewPractice)
        let (id, _) = try await practiceCase(context)
        let form = try await FormBody.read(request)
        let findings = Practice.findings(fromLines: form["findings"] ?? "")
        do {
            try await store.setKeyFindings(case: id, findings, by: principal.username)
            await record(.update, context, "key findings of case \(id) set: \(findings.count)")
            return Response.redirect(to: "/training/practice/cases/\(id)", type: .normal)
        } catch {
            let problem = error.description.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            return Response.redirect(to: "/training/practice/cases/\(id)?problem=\(problem)", type: .normal)
        }
    }

    /// `GET /training/practice/reports/{id}`: the student's report beside the reference, each key finding's outcome,
    /// the teacher's comment; for teachers the comment form.
    func practiceReportPage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        guard signedIn(request, context) != nil else { return signInRedirect(request) }
        let (principal, report) = try await readablePractice(context)
        let content = try await mapped { try await library.published(report.caseID) }?.content
        let findings = try await mapped { try await store.keyFindings(case: report.caseID) }
        let names = Dictionary(findings.map { ($0.id, $0.terms.first ?? $0.id) }) { a, _ in a }
        await record(.read, context, "practice report \(report.id) read")
        return page(
            "training-practice-report", "training.practice.reportTitle",
            [
                "id": report.id, "caseID": report.caseID, "student": report.student, "date": Self.dateText(report.submittedAt),
                "findings": report.submission.findings, "impression": report.submission.impression,
                "reference": content.map { c -> [String: Any] in
                    ["title": c.title, "findings": c.findings, "diagnosis": c.diagnosis, "discussion": c.discussion]
                } ?? [:], "hasReference": content != nil,
                "matches": report.matches.map { m -> [String: Any] in
                    [
                        "finding": m.finding, "name": names[m.finding] ?? m.finding, "outcome": m.outcome.rawValue,
                        "label": text("training.practice.outcome.\(m.outcome.rawValue)", request, context), "term": m.term ?? "",
                        "clause": m.clause ?? "", "hasClause": !(m.clause ?? "").isEmpty,
                    ]
                },
                "found": report.matches.filter { $0.outcome == .found }.count, "total": report.matches.count,
                "comment": report.comment, "hasComment": !report.comment.isEmpty, "commentedBy": report.commentedBy ?? "",
                "reviewer": TrainingAccess.allows(principal.roles, .reviewPractice),
            ], request, context)
    }

    func commentForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.require(context, .reviewPractice)
        let id = try Self.id(context)
        let form = try await FormBody.read(request, limitBytes: 256 << 10)
        _ = try await mapped { try await store.commentPractice(id, form["comment"] ?? "", by: principal.username) }
        await record(.update, context, "practice report \(id) commented")
        return Response.redirect(to: "/training/practice/reports/\(id)", type: .normal)
    }
}
