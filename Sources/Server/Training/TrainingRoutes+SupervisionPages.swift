import Foundation
import Hummingbird
import Platform
import Training

/// The supervision pages: a trainee's supervised logbook (placements, procedures, countersignatures, progress towards
/// targets, competencies), cohorts with their gradebook and logbook, and inspections. Forms post here and come back
/// to the page (with `?problem=` when the store refused).
extension TrainingRoutes {
    func registerSupervisionPages(on router: Router<AtriumRequestContext>) {
        router.get("/training/supervision") { request, context in try await self.supervisionPage(request, context) }
        router.post("/training/supervision/entries") { request, context in try await self.logEntryForm(request, context) }
        router.post("/training/supervision/entries/:id/review") { request, context in try await self.reviewForm(request, context) }
        router.post("/training/supervision/signoff") { request, context in try await self.signOffForm(request, context) }
        router.post("/training/supervision/assign") { request, context in try await self.assignForm(request, context) }
        router.post("/training/supervision/curriculum") { request, context in try await self.curriculumForm(request, context) }
        router.get("/training/cohorts") { request, context in try await self.cohortsPage(request, context) }
        router.post("/training/cohorts") { request, context in try await self.createCohortForm(request, context) }
        router.get("/training/cohorts/:id") { request, context in try await self.cohortPage(request, context) }
        router.post("/training/cohorts/:id/enrol") { request, context in try await self.enrolForm(request, context) }
        router.get("/training/inspections") { request, context in try await self.inspectionsPage(request, context) }
        router.post("/training/inspections") { request, context in try await self.recordInspectionForm(request, context) }
        router.get("/training/inspections/:id") { request, context in try await self.inspectionPage(request, context) }
        router.post("/training/inspections/:id/actions") { request, context in try await self.actionForm(request, context) }
        router.post("/training/inspections/:id/close") { request, context in try await self.closeForm(request, context) }
        router.post("/training/inspections/:id/publish") { request, context in try await self.publishForm(request, context) }
    }

    /// Runs a form's action and redirects to `back` (with the refusal as `problem` when it failed).
    func formAction(back: String, _ body: () async throws -> Void) async throws -> Response {
        do {
            try await body()
            return Response.redirect(to: back, type: .normal)
        } catch let error as HTTPError {
            guard error.status == .badRequest || error.status == .conflict else { throw error }
            let problem = (error.body ?? "\(error.status)").addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            return Response.redirect(to: back + (back.contains("?") ? "&" : "?") + "problem=\(problem)", type: .normal)
        }
    }

    /// The values the forms post (kept out of the templates, whose every word comes from the locale files).
    static let formValues: [String: String] = Dictionary(
        uniqueKeysWithValues: ["placement", "procedure", "observed", "performed", "countersign", "return", "course", "project", "approve"]
            .map {
                ($0, $0)
            })

    static func query(_ name: String, _ value: String) -> String {
        "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
    }

    // MARK: - The supervised logbook

    /// `GET /training/supervision[?trainee=]`: a trainee's own (or, for their supervisors and teachers, the named
    /// trainee's) placements and procedures, progress and competencies; for supervisors and teachers without a trainee,
    /// the trainees they follow; for teachers, the assignment and curriculum forms.
    func supervisionPage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        guard let principal = signedIn(request, context) else { return signInRedirect(request) }
        let teacher = TrainingAccess.allows(principal.roles, .assignSupervisors)
        let ownBook = TrainingAccess.allows(principal.roles, .logEntries, owner: true)
        let asked = request.uri.queryParameters["trainee"].map(String.init)
        var data: [String: Any] = [
            "v": Self.formValues, "teacher": teacher, "problem": request.uri.queryParameters["problem"].map(String.init) ?? "",
            "hasProblem": request.uri.queryParameters["problem"] != nil,
        ]
        let trainee = asked ?? (ownBook ? principal.username : nil)
        if let trainee {
            let (_, relation, assignment) = try await requireTrainee(context, trainee, .readEntries)
            let entries = try await mapped { try await store.entries(trainee: trainee) }
            let own = trainee == principal.username
            let countersigner = TrainingAccess.allows(principal.roles, .countersign, relation: relation)
            let placements = entries.filter { $0.submission.kind == .placement }
            data["trainee"] = trainee
            data["book"] = true
            data["own"] = own
            data["academic"] = assignment.academicSupervisor ?? "—"
            data["practice"] = assignment.practiceSupervisor ?? "—"
            data["partner"] = assignment.partner ?? "—"
            data["placements"] = placements.map { p -> [String: Any] in
                ["id": p.id, "label": "\(p.submission.partner ?? "") · \(p.submission.department ?? "") (\(p.submission.date))"]
            }
            data["hasPlacements"] = !placements.isEmpty
            data["entries"] = entries.reversed().map { entry -> [String: Any] in
                let s = entry.submission
                let details =
                    s.kind == .placement
                    ? "\(s.partner ?? "") · \(s.department ?? "") · \(s.date) – \(s.endDate ?? "")"
                    : "\(s.modality ?? "") · \(s.bodyRegion ?? "") · \(text("supervision.role.\(s.role?.rawValue ?? "observed")", request, context)) · \(s.description ?? "")"
                return [
                    "id": entry.id, "kind": s.kind.rawValue, "kindLabel": text("supervision.kind.\(s.kind.rawValue)", request, context),
                    "date": s.date, "details": details, "state": entry.state.rawValue,
                    "stateLabel": text("supervision.state.\(entry.state.rawValue)", request, context), "comment": entry.comment,
                    "reviewer": entry.reviewer ?? "", "reviewed": entry.reviewer != nil, "hasComment": !entry.comment.isEmpty,
                    "reviewable": countersigner && entry.state == .pending,
                ]
            }
            data["hasEntries"] = !entries.isEmpty
            let progress = try await progressBody(trainee)
            data["programme"] = progress.programme.isEmpty ? "—" : progress.programme
            data["countPlacements"] = progress.placements
            data["countProcedures"] = progress.procedures
            data["targets"] = progress.targets.map { row -> [String: Any] in
                [
                    "dimension": row.dimension, "dimensionLabel": text("supervision.dimension.\(row.dimension)", request, context),
                    "value": row.value, "target": row.target, "done": row.done, "met": row.met,
                    "percent": row.target > 0 ? min(100, row.done * 100 / row.target) : 0,
                ]
            }
            data["hasTargets"] = !progress.targets.isEmpty
            let signOffs = try await signOffs(trainee)
            let standing = Dictionary(signOffs.signOffs.map { ($0.competency, $0) }) { a, _ in a }
            data["competencies"] = signOffs.competencies.map { c -> [String: Any] in
                let s = standing[c.id]
                return [
                    "id": c.id, "name": c.name, "levels": c.levels, "level": s.map { String($0.level) } ?? "—",
                    "signedBy": s?.signedBy ?? "", "signedAt": Self.dateText(s?.signedAt), "signed": s != nil,
                ]
            }
            data["hasCompetencies"] = !signOffs.competencies.isEmpty
            data["canSignOff"] = TrainingAccess.allows(principal.roles, .signOffCompetency, relation: relation)
            data["countersigner"] = countersigner
            let plan = try await mapped { try await store.milestones(trainee: trainee) }
            data["milestones"] = plan.map { m -> [String: Any] in
                [
                    "stage": m.stage.rawValue, "stageLabel": text("supervision.plan.stage.\(m.stage.rawValue)", request, context),
                    "due": m.due,
                    "status": m.status.rawValue, "statusLabel": text("supervision.plan.status.\(m.status.rawValue)", request, context),
                    "score": m.meanScore.map { String(format: "%.1f", $0) } ?? "—", "scores": m.scores.count,
                    "approvals": m.approvals.isEmpty ? "—" : m.approvals.joined(separator: ", "), "documents": m.documents.count,
                    "reviewers": m.reviewers.joined(separator: ", "),
                    "canScore": m.status == .submitted && m.reviewers.contains(principal.username)
                        && TrainingAccess.allows(principal.roles, .scoreMilestone, relation: relation.union(.reviewer)),
                    "canDecide": m.status == .submitted && !m.approvals.contains(principal.username)
                        && TrainingAccess.allows(principal.roles, .approveMilestone, relation: relation),
                ]
            }
            data["hasMilestones"] = !plan.isEmpty
            data["canPlan"] = TrainingAccess.allows(principal.roles, .planMilestones, relation: relation)
            data["stages"] = MilestoneStage.allCases.map {
                ["value": $0.rawValue, "label": text("supervision.plan.stage.\($0.rawValue)", request, context)]
            }
            let open = plan.filter { $0.status == .planned || $0.status == .returned }
            data["openStages"] = open.map {
                ["value": $0.stage.rawValue, "label": text("supervision.plan.stage.\($0.stage.rawValue)", request, context)]
            }
            data["canSubmitMilestone"] = own && !open.isEmpty && TrainingAccess.allows(principal.roles, .submitMilestone, owner: true)
            data["canRegister"] = TrainingAccess.allows(principal.roles, .registerProjects)
            data["year"] = AllianceTime.calendar.component(.year, from: Date())
            let projects = try await mapped { try await store.projects(trainee: trainee) }
            data["projects"] = projects.map { p -> [String: Any] in
                ["title": p.title, "points": Self.cellText(.number(p.points)), "year": p.year, "supervisor": p.supervisor]
            }
            data["hasProjects"] = !projects.isEmpty
            data["projectPoints"] = Self.cellText(.number(ProjectRegister.totals(projects).trainees[trainee] ?? 0))
            if !own { await record(.read, context, "supervised logbook of \(trainee) read") }
        } else {
            guard teacher || principal.roles.contains(.supervisor) else {
                throw HTTPError(.forbidden, message: "not allowed: supervision")
            }
            let list = try await mapped { try await store.assignments(supervisor: teacher ? nil : principal.username) }
            var rows: [[String: Any]] = []
            for a in list {
                let pending = try await mapped { try await store.entries(trainee: a.trainee) }.filter { $0.state == .pending }.count
                rows.append([
                    "trainee": a.trainee, "academic": a.academicSupervisor ?? "—", "practice": a.practiceSupervisor ?? "—",
                    "partner": a.partner ?? "—", "pending": pending,
                    "href": "/training/supervision?" + Self.query("trainee", a.trainee),
                ])
            }
            data["trainees"] = rows
            data["hasTrainees"] = !rows.isEmpty
            data["list"] = true
            if teacher {
                data["competencyLines"] = try await mapped { try await store.competencies() }.map { "\($0.id) | \($0.name) | \($0.levels)" }
                    .joined(separator: "\n")
            }
        }
        return page("training-supervision", "supervision.title", data, request, context)
    }

    /// The trainee's new placement or procedure from the page's forms.
    func logEntryForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let form = try await FormBody.read(request)
        func field(_ name: String) -> String? { LogbookSubmission.filledText(form[name]) }
        let kind = LogbookEntryKind(rawValue: form["kind"] ?? "") ?? .procedure
        let submission = LogbookSubmission(
            kind: kind, partner: field("partner"), department: field("department"), date: form["date"] ?? "", endDate: field("endDate"),
            modality: field("modality"), bodyRegion: field("bodyRegion"), role: field("role").flatMap(ProcedureRole.init(rawValue:)),
            description: field("description"), placement: field("placement").flatMap { Int64($0) })
        return try await formAction(back: "/training/supervision") { _ = try await logEntry(submission, context) }
    }

    func reviewForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let form = try await FormBody.read(request)
        let id = try Self.id(context)
        let entry = try await mapped { try await store.entry(id) }
        return try await formAction(back: "/training/supervision?" + Self.query("trainee", entry.trainee)) {
            _ = try await review(id, accept: form["decision"] != "return", comment: form["comment"] ?? "", context)
        }
    }

    func signOffForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let form = try await FormBody.read(request)
        let trainee = form["trainee"] ?? ""
        return try await formAction(back: "/training/supervision?" + Self.query("trainee", trainee)) {
            guard let level = Int(form["level"] ?? "") else { throw HTTPError(.badRequest, message: "the level is a number") }
            _ = try await signOff(trainee: trainee, competency: form["competency"] ?? "", level: level, note: form["note"] ?? "", context)
        }
    }

    func assignForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.require(context, .assignSupervisors)
        let form = try await FormBody.read(request)
        let trainee = (form["trainee"] ?? "").trimmingCharacters(in: .whitespaces)
        return try await formAction(back: "/training/supervision") {
            _ = try await assign(
                trainee: trainee,
                AssignmentBody(academicSupervisor: form["academic"], practiceSupervisor: form["practice"], partner: form["partner"]),
                principal: principal)
            await record(.update, context, "supervisors of \(trainee) named")
        }
    }

    /// Competencies as lines `id | name | levels`; targets as lines `modality|region | value | count` of a programme.
    func curriculumForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.require(context, .defineCurriculum)
        let form = try await FormBody.read(request, limitBytes: 256 << 10)
        return try await formAction(back: "/training/supervision") {
            func lines(_ name: String) -> [[String]] {
                (form[name] ?? "").split(whereSeparator: \.isNewline).map {
                    $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
                }.filter { !$0.allSatisfy(\.isEmpty) }
            }
            if form["competencies"] != nil {
                var list: [Competency] = []
                for parts in lines("competencies") {
                    guard parts.count == 3, let levels = Int(parts[2]) else {
                        throw HTTPError(.badRequest, message: "a competency line is: id | name | levels")
                    }
                    list.append(Competency(id: parts[0], name: parts[1], levels: levels))
                }
                try await mapped { try await store.setCompetencies(list) }
                await record(.update, context, "competencies set: \(list.count)")
            }
            if form["targets"] != nil {
                var targets: [LogbookTarget] = []
                for parts in lines("targets") {
                    guard parts.count == 3, let dimension = LogbookTarget.Dimension(rawValue: parts[0]), let count = Int(parts[2]) else {
                        throw HTTPError(.badRequest, message: "a target line is: modality|region | value | count")
                    }
                    targets.append(LogbookTarget(dimension: dimension, value: parts[1], count: count))
                }
                let programme = (form["programme"] ?? "").trimmingCharacters(in: .whitespaces)
                try await mapped { try await store.setTargets(programme: programme, targets) }
                await record(.update, context, "logbook targets of programme \(programme) set: \(targets.count)")
            }
        }
    }

    // MARK: - Cohorts

    func cohortsPage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        guard let principal = signedIn(request, context) else { return signInRedirect(request) }
        _ = try Self.require(context, .readCohorts)
        let cohorts = try await mapped { try await store.cohorts() }
        return page(
            "training-cohorts", "supervision.cohorts.title",
            [
                "cohorts": cohorts.map { c -> [String: Any] in
                    ["id": c.id, "name": c.name, "programme": c.programme, "members": c.members.count]
                },
                "hasCohorts": !cohorts.isEmpty, "manage": TrainingAccess.allows(principal.roles, .manageCohorts),
                "problem": request.uri.queryParameters["problem"].map(String.init) ?? "",
                "hasProblem": request.uri.queryParameters["problem"] != nil,
            ], request, context)
    }

    func createCohortForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.require(context, .manageCohorts)
        let form = try await FormBody.read(request)
        var id: Int64 = 0
        let response = try await formAction(back: "/training/cohorts") {
            let cohort = try await mapped {
                try await store.createCohort(name: form["name"] ?? "", programme: form["programme"] ?? "", by: principal.username)
            }
            id = cohort.id
            await record(.create, context, "cohort \(cohort.id) created")
        }
        return id > 0 ? Response.redirect(to: "/training/cohorts/\(id)", type: .normal) : response
    }

    /// `GET /training/cohorts/{id}`: members, the enrolment form, the gradebook and logbook tables and their exports.
    func cohortPage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        guard let principal = signedIn(request, context) else { return signInRedirect(request) }
        _ = try Self.require(context, .readCohorts)
        let cohort = try await mapped { try await store.cohort(try Self.id(context)) }
        let (gradebook, logbook) = try await cohortSheets(cohort)
        func table(_ sheet: SpreadsheetSheet) -> [String: Any] {
            [
                "header": sheet.header.map { ["text": $0] },
                "rows": sheet.rows.map { row -> [String: Any] in
                    [
                        "trainee": row.first.map(Self.cellText) ?? "",
                        "cells": row.map { ["text": Self.cellText($0)] },
                    ]
                },
            ]
        }
        return page(
            "training-cohort", "supervision.cohorts.title",
            [
                "id": cohort.id, "name": cohort.name, "programme": cohort.programme.isEmpty ? "—" : cohort.programme,
                "members": cohort.members.map { ["name": $0, "href": "/training/supervision?" + Self.query("trainee", $0)] },
                "hasMembers": !cohort.members.isEmpty, "manage": TrainingAccess.allows(principal.roles, .manageCohorts),
                "gradebook": table(gradebook), "logbook": table(logbook),
                "problem": request.uri.queryParameters["problem"].map(String.init) ?? "",
                "hasProblem": request.uri.queryParameters["problem"] != nil,
            ], request, context)
    }

    static func cellText(_ value: SpreadsheetValue) -> String {
        switch value {
        case .text(let t): t
        case .number(let n): n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(format: "%.2f", n)
        case .date(let d): dateText(d)
        case .empty: ""
        }
    }

    func enrolForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let id = try Self.id(context)
        let form = try await FormBody.read(request)
        return try await formAction(back: "/training/cohorts/\(id)") {
            for name in (form["trainee"] ?? "").split(whereSeparator: { $0 == "," || $0.isWhitespace }) {
                _ = try await enrol(String(name), cohort: id, context)
            }
        }
    }

    // MARK: - Inspections

    func inspectionsPage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        guard let principal = signedIn(request, context) else { return signInRedirect(request) }
        let list = try await readableInspections(principal)
        let relation: SupervisionRelation = try await isExternal(principal) ? [.external] : []
        let inspector = TrainingAccess.allows(principal.roles, .inspect, relation: relation)
        let institutions = inspector ? try await identity.institutions() : []
        return page(
            "training-inspections", "supervision.inspections.title",
            [
                "inspections": list.map { i -> [String: Any] in
                    [
                        "id": i.id, "date": i.date, "institution": i.institution, "subject": i.subject,
                        "subjectKind": text("supervision.subject.\(i.subjectKind.rawValue)", request, context),
                        "unannounced": i.unannounced, "published": i.published, "closed": i.closed,
                    ]
                }, "hasInspections": !list.isEmpty, "inspector": inspector, "v": Self.formValues,
                "institutions": institutions.map { ["code": $0.code, "name": $0.name] },
                "problem": request.uri.queryParameters["problem"].map(String.init) ?? "",
                "hasProblem": request.uri.queryParameters["problem"] != nil,
            ], request, context)
    }

    func recordInspectionForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let form = try await FormBody.read(request, limitBytes: 256 << 10)
        var id: Int64 = 0
        let draft = InspectionDraft(
            institution: form["institution"] ?? "", subjectKind: Inspection.Subject(rawValue: form["subjectKind"] ?? "") ?? .course,
            subject: form["subject"] ?? "", party: form["party"], unannounced: form["unannounced"] == "1", date: form["date"] ?? "",
            findings: form["findings"] ?? "")
        let response = try await formAction(back: "/training/inspections") { id = try await recordInspection(draft, context).id }
        return id > 0 ? Response.redirect(to: "/training/inspections/\(id)", type: .normal) : response
    }

    func inspectionPage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        guard signedIn(request, context) != nil else { return signInRedirect(request) }
        let (principal, i) = try await inspectionFor(context, .readInspection)
        let relation = try await self.relation(principal, inspection: i)
        return page(
            "training-inspection", "supervision.inspections.title",
            [
                "id": i.id, "date": i.date, "institution": i.institution, "subject": i.subject,
                "subjectKind": text("supervision.subject.\(i.subjectKind.rawValue)", request, context),
                "party": i.party.isEmpty ? "—" : i.party, "inspector": i.inspector, "unannounced": i.unannounced, "findings": i.findings,
                "actions": i.actions.map { ["action": $0.action, "owner": $0.owner, "due": $0.due] }, "hasActions": !i.actions.isEmpty,
                "closed": i.closed, "closingNote": i.closingNote, "published": i.published, "publishedAt": Self.dateText(i.publishedAt),
                "canEdit": TrainingAccess.allows(principal.roles, .inspect, relation: relation),
                "problem": request.uri.queryParameters["problem"].map(String.init) ?? "",
                "hasProblem": request.uri.queryParameters["problem"] != nil,
            ], request, context)
    }

    func actionForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (_, inspection) = try await inspectionFor(context, .inspect)
        let form = try await FormBody.read(request)
        return try await formAction(back: "/training/inspections/\(inspection.id)") {
            _ = try await mapped {
                try await store.addAction(
                    inspection: inspection.id, action: form["action"] ?? "", owner: form["owner"] ?? "", due: form["due"] ?? "")
            }
            await record(.update, context, "inspection \(inspection.id): follow-up action added")
        }
    }

    func closeForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (_, inspection) = try await inspectionFor(context, .inspect)
        let form = try await FormBody.read(request)
        return try await formAction(back: "/training/inspections/\(inspection.id)") {
            _ = try await mapped { try await store.closeInspection(inspection.id, note: form["note"] ?? "") }
            await record(.update, context, "inspection \(inspection.id) closed")
        }
    }

    func publishForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (_, inspection) = try await inspectionFor(context, .inspect)
        return try await formAction(back: "/training/inspections/\(inspection.id)") {
            _ = try await mapped { try await store.publishInspection(inspection.id) }
            await record(.update, context, "inspection \(inspection.id) published")
        }
    }
}
