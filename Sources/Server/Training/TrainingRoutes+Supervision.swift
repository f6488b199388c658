import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Platform
import Training

/// Supervision of training across partners over HTTP: supervisors, hand-logged placements and procedures with their
/// countersignatures, competencies, logbook targets, cohorts with their gradebook and logbook, and inspections. Each
/// action is decided by ``TrainingAccess`` with the caller's relation to the trainee or inspection.
extension TrainingRoutes {
    func registerSupervision(on router: Router<AtriumRequestContext>) {
        router.get("/api/training/partners") { request, context in try await self.partnersJSON(request, context) }
        router.get("/api/training/supervisors") { request, context in try await self.assignmentsJSON(request, context) }
        router.put("/api/training/supervisors/:trainee") { request, context in try await self.assignJSON(request, context) }
        router.get("/api/training/entries") { request, context in try await self.entriesJSON(request, context) }
        router.post("/api/training/entries") { request, context in try await self.logEntryJSON(request, context) }
        router.post("/api/training/entries/:id/countersign") { request, context in try await self.reviewJSON(request, context, accept: true)
        }
        router.post("/api/training/entries/:id/return") { request, context in try await self.reviewJSON(request, context, accept: false) }
        router.get("/api/training/competencies") { request, context in try await self.competenciesJSON(request, context) }
        router.put("/api/training/competencies") { request, context in try await self.setCompetenciesJSON(request, context) }
        router.get("/api/training/trainees/:trainee/competencies") { request, context in try await self.signOffsJSON(request, context) }
        router.post("/api/training/trainees/:trainee/competencies") { request, context in try await self.signOffJSON(request, context) }
        router.get("/api/training/targets") { request, context in try await self.targetsJSON(request, context) }
        router.put("/api/training/targets") { request, context in try await self.setTargetsJSON(request, context) }
        router.get("/api/training/progress") { request, context in try await self.progressOfTraineeJSON(request, context) }
        router.get("/api/training/cohorts") { request, context in try await self.cohortsJSON(request, context) }
        router.post("/api/training/cohorts") { request, context in try await self.createCohortJSON(request, context) }
        router.get("/api/training/cohorts/:id") { request, context in try await self.cohortJSON(request, context) }
        router.post("/api/training/cohorts/:id/members") { request, context in try await self.enrolJSON(request, context) }
        router.delete("/api/training/cohorts/:id/members/:trainee") { request, context in try await self.withdrawJSON(request, context) }
        router.get("/api/training/cohorts/:id/export.xlsx") { request, context in try await self.cohortExport(request, context, sheet: nil)
        }
        router.get("/api/training/cohorts/:id/gradebook.csv") { request, context in
            try await self.cohortExport(request, context, sheet: "gradebook")
        }
        router.get("/api/training/cohorts/:id/logbook.csv") { request, context in
            try await self.cohortExport(request, context, sheet: "logbook")
        }
        router.get("/api/training/inspections") { request, context in try await self.inspectionsJSON(request, context) }
        router.post("/api/training/inspections") { request, context in try await self.recordInspectionJSON(request, context) }
        router.get("/api/training/inspections/:id") { request, context in try await self.inspectionJSON(request, context) }
        router.post("/api/training/inspections/:id/actions") { request, context in try await self.addActionJSON(request, context) }
        router.post("/api/training/inspections/:id/close") { request, context in try await self.closeInspectionJSON(request, context) }
        router.post("/api/training/inspections/:id/publish") { request, context in try await self.publishInspectionJSON(request, context) }
        registerMilestones(on: router)
    }

    // MARK: - Relations

    /// Whether the person belongs to a partner institution (one that is not a college).
    func isExternal(_ principal: Principal) async throws -> Bool {
        guard let id = principal.institutionID else { return false }
        guard let institution = try await identity.institution(id: id) else { return false }
        return institution.kind != .college
    }

    /// How `principal` stands to `trainee`: owner, named academic or practice supervisor.
    func relation(_ principal: Principal, trainee: String) async throws -> (owner: Bool, SupervisionRelation, SupervisorAssignment) {
        let assignment = try await mapped { try await store.supervisors(of: trainee) }
        var relation: SupervisionRelation = []
        if assignment.academicSupervisor == principal.username { relation.insert(.academicSupervisor) }
        if assignment.practiceSupervisor == principal.username { relation.insert(.practiceSupervisor) }
        return (trainee == principal.username, relation, assignment)
    }

    /// The caller, allowed `action` on `trainee`'s logbook; a trainee asking for another's gets 404.
    func requireTrainee(_ context: AtriumRequestContext, _ trainee: String, _ action: TrainingAction) async throws -> (
        Principal, SupervisionRelation, SupervisorAssignment
    ) {
        let principal = try Self.principal(context)
        let (owner, relation, assignment) = try await self.relation(principal, trainee: trainee)
        guard TrainingAccess.allows(principal.roles, action, owner: owner, relation: relation) else {
            if !owner && TrainingAccess.allows(principal.roles, .logEntries, owner: true) && relation.isEmpty {
                throw HTTPError(.notFound, message: "no logbook of \(trainee) for you")
            }
            throw HTTPError(.forbidden, message: "not allowed: \(action.rawValue)")
        }
        return (principal, relation, assignment)
    }

    /// How `principal` stands to an inspection.
    func relation(_ principal: Principal, inspection: Inspection) async throws -> SupervisionRelation {
        var relation: SupervisionRelation = []
        if try await isExternal(principal) { relation.insert(.external) }
        if inspection.published { relation.insert(.published) }
        if principal.institutionCode == inspection.institution || (!inspection.party.isEmpty && inspection.party == principal.username) {
            relation.insert(.inspectedParty)
        }
        return relation
    }

    func inspectionFor(_ context: AtriumRequestContext, _ action: TrainingAction) async throws -> (Principal, Inspection) {
        let principal = try Self.principal(context)
        let inspection = try await mapped { try await store.inspection(try Self.id(context)) }
        let relation = try await self.relation(principal, inspection: inspection)
        guard TrainingAccess.allows(principal.roles, action, relation: relation) else {
            if !TrainingAccess.allows(principal.roles, .readInspection, relation: relation) {
                throw HTTPError(.notFound, message: "inspection \(inspection.id) does not exist")
            }
            throw HTTPError(.forbidden, message: "not allowed: \(action.rawValue)")
        }
        return (principal, inspection)
    }

    func requireInspector(_ context: AtriumRequestContext) async throws -> Principal {
        let principal = try Self.principal(context)
        let relation: SupervisionRelation = try await isExternal(principal) ? [.external] : []
        guard TrainingAccess.allows(principal.roles, .inspect, relation: relation) else {
            throw HTTPError(.forbidden, message: "only the programme office and partners' supervisors record inspections")
        }
        return principal
    }

    // MARK: - Partners and supervisors

    /// `GET /api/training/partners`: every partner institution with its kind and counts.
    func partnersJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        let relation: SupervisionRelation = try await isExternal(principal) ? [.external] : []
        guard
            TrainingAccess.allows(principal.roles, .readCohorts) || TrainingAccess.allows(principal.roles, .inspect, relation: relation)
        else { throw HTTPError(.forbidden, message: "not allowed: partners") }
        let activity = try await mapped { try await store.partnerActivity(identity: identity) }
        return try Self.encoded(["partners": activity])
    }

    /// `GET /api/training/supervisors`: the assignments the caller may see (all for teachers, their trainees for a
    /// supervisor, their own for a trainee).
    func assignmentsJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        let list: [SupervisorAssignment]
        if TrainingAccess.allows(principal.roles, .assignSupervisors) {
            list = try await mapped { try await store.assignments() }
        } else if principal.roles.contains(.supervisor) {
            list = try await mapped { try await store.assignments(supervisor: principal.username) }
        } else if TrainingAccess.allows(principal.roles, .logEntries, owner: true) {
            list = [try await mapped { try await store.supervisors(of: principal.username) }]
        } else {
            throw HTTPError(.forbidden, message: "not allowed: supervisors")
        }
        return try Self.encoded(["supervisors": list])
    }

    struct AssignmentBody: Decodable {
        var academicSupervisor: String?
        var practiceSupervisor: String?
        var partner: String?
    }

    /// Checks and saves an assignment: the trainee is a student; the academic supervisor a supervisor or teacher; the
    /// practice supervisor a supervisor of the partner institution named, which is not a college.
    func assign(trainee: String, _ body: AssignmentBody, principal: Principal) async throws -> SupervisorAssignment {
        guard let person = try await identity.person(username: trainee), person.roles.contains(.student) else {
            throw HTTPError(.badRequest, message: "\(trainee) is not a trainee")
        }
        if let name = LogbookSubmission.filledText(body.academicSupervisor) {
            guard let p = try await identity.person(username: name), !p.roles.isDisjoint(with: [.supervisor, .curator]) else {
                throw HTTPError(.badRequest, message: "\(name) is not a supervisor")
            }
        }
        if let name = LogbookSubmission.filledText(body.practiceSupervisor) {
            guard let code = LogbookSubmission.filledText(body.partner), let partner = try await identity.institution(code: code),
                partner.kind != .college
            else { throw HTTPError(.badRequest, message: "a practice supervisor comes from a partner institution") }
            guard let p = try await identity.person(username: name), p.roles.contains(.supervisor), p.institutionID == partner.id else {
                throw HTTPError(.badRequest, message: "\(name) is not a supervisor of \(partner.code)")
            }
        }
        return try await mapped {
            try await store.assignSupervisors(
                SupervisorAssignment(
                    trainee: trainee, academicSupervisor: body.academicSupervisor, practiceSupervisor: body.practiceSupervisor,
                    partner: body.partner), by: principal.username)
        }
    }

    /// `PUT /api/training/supervisors/{trainee}`.
    func assignJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.require(context, .assignSupervisors)
        let trainee = try context.parameters.require("trainee")
        let saved = try await assign(trainee: trainee, try await Self.decodeBody(AssignmentBody.self, request), principal: principal)
        await record(.update, context, "supervisors of \(trainee) named")
        return try Self.encoded(saved)
    }

    // MARK: - Entries

    struct EntriesBody: Encodable {
        var trainee: String
        var supervisors: SupervisorAssignment
        var entries: [LogbookEntry]
    }

    /// `GET /api/training/entries[?trainee=]`: the trainee's placements and procedures (the caller's own by default).
    func entriesJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        let trainee = request.uri.queryParameters["trainee"].map(String.init) ?? principal.username
        let (_, _, assignment) = try await requireTrainee(context, trainee, .readEntries)
        let entries = try await mapped { try await store.entries(trainee: trainee) }
        if trainee != principal.username { await record(.read, context, "logbook entries of \(trainee) read") }
        return try Self.encoded(EntriesBody(trainee: trainee, supervisors: assignment, entries: entries))
    }

    /// Logs the caller's entry after checking a placement's partner is a hospital of the alliance.
    func logEntry(_ submission: LogbookSubmission, _ context: AtriumRequestContext) async throws -> LogbookEntry {
        let principal = try Self.principal(context)
        guard TrainingAccess.allows(principal.roles, .logEntries, owner: true) else {
            throw HTTPError(.forbidden, message: "only trainees log placements and procedures")
        }
        if submission.kind == .placement, let code = LogbookSubmission.filledText(submission.partner) {
            guard let partner = try await identity.institution(code: code),
                partner.kind == .affiliatedHospital || partner.kind == .grassrootsHospital
            else { throw HTTPError(.badRequest, message: "\(code) is not a partner hospital") }
        }
        let entry = try await mapped { try await store.logEntry(submission, trainee: principal.username) }
        await record(.create, context, "logbook entry \(entry.id) logged")
        return entry
    }

    /// `POST /api/training/entries` with a ``LogbookSubmission``.
    func logEntryJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let submission = try await Self.decodeBody(LogbookSubmission.self, request, limit: 64 << 10)
        return try Self.encoded(try await logEntry(submission, context), status: .created)
    }

    /// Countersigns or returns an entry: only the trainee's named practice supervisor (others get 403, trainees 404).
    func review(_ id: Int64, accept: Bool, comment: String, _ context: AtriumRequestContext) async throws -> LogbookEntry {
        let entry = try await mapped { try await store.entry(id) }
        let (principal, _, _) = try await requireTrainee(context, entry.trainee, .countersign)
        let reviewed = try await mapped { try await store.review(entry: id, by: principal.username, accept: accept, comment: comment) }
        await record(.update, context, "logbook entry \(id) \(reviewed.state.rawValue)")
        return reviewed
    }

    /// `POST /api/training/entries/{id}/countersign|return` with `{"comment": …}` (a return needs one).
    func reviewJSON(_ request: Request, _ context: AtriumRequestContext, accept: Bool) async throws -> Response {
        struct Body: Decodable { var comment: String? }
        let body = try await Self.decodeBody(Body.self, request, limit: 64 << 10)
        return try Self.encoded(try await review(try Self.id(context), accept: accept, comment: body.comment ?? "", context))
    }

    // MARK: - Competencies and targets

    func competenciesJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.principal(context)
        return try Self.encoded(["competencies": try await mapped { try await store.competencies() }])
    }

    /// `PUT /api/training/competencies` with `{"competencies": [{"id", "name", "levels"}]}`.
    func setCompetenciesJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.require(context, .defineCurriculum)
        struct Body: Decodable { var competencies: [Competency] }
        let body = try await Self.decodeBody(Body.self, request, limit: 256 << 10)
        try await mapped { try await store.setCompetencies(body.competencies) }
        await record(.update, context, "competencies set: \(body.competencies.count)")
        return try Self.encoded(["competencies": try await mapped { try await store.competencies() }])
    }

    struct SignOffsBody: Encodable {
        var trainee: String
        var competencies: [Competency]
        var signOffs: [CompetencySignOff]
    }

    func signOffs(_ trainee: String) async throws -> SignOffsBody {
        let list = try await mapped { try await store.competencies() }
        let signed = try await mapped { try await store.signOffs(trainee: trainee) }
        return SignOffsBody(trainee: trainee, competencies: list, signOffs: list.compactMap { signed[$0.id] })
    }

    /// `GET /api/training/trainees/{trainee}/competencies`.
    func signOffsJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let trainee = try context.parameters.require("trainee")
        _ = try await requireTrainee(context, trainee, .readEntries)
        return try Self.encoded(try await signOffs(trainee))
    }

    func signOff(trainee: String, competency: String, level: Int, note: String, _ context: AtriumRequestContext) async throws
        -> CompetencySignOff
    {
        let (principal, _, _) = try await requireTrainee(context, trainee, .signOffCompetency)
        let signed = try await mapped {
            try await store.signOff(trainee: trainee, competency: competency, level: level, note: note, by: principal.username)
        }
        await record(.update, context, "competency \(competency) of \(trainee) signed off at level \(level)")
        return signed
    }

    /// `POST /api/training/trainees/{trainee}/competencies` with `{"competency", "level", "note"}`.
    func signOffJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        struct Body: Decodable {
            var competency: String
            var level: Int
            var note: String?
        }
        let trainee = try context.parameters.require("trainee")
        let body = try await Self.decodeBody(Body.self, request, limit: 64 << 10)
        return try Self.encoded(
            try await signOff(trainee: trainee, competency: body.competency, level: body.level, note: body.note ?? "", context),
            status: .created)
    }

    struct TargetsBody: Encodable {
        var programme: String
        var targets: [LogbookTarget]
    }

    /// `GET /api/training/targets?programme=`.
    func targetsJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.principal(context)
        let programme = request.uri.queryParameters["programme"].map(String.init) ?? ""
        return try Self.encoded(
            TargetsBody(programme: programme, targets: try await mapped { try await store.targets(programme: programme) }))
    }

    /// `PUT /api/training/targets` with `{"programme", "targets": [{"dimension", "value", "count"}]}`.
    func setTargetsJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.require(context, .defineCurriculum)
        struct Body: Decodable {
            var programme: String
            var targets: [LogbookTarget]
        }
        let body = try await Self.decodeBody(Body.self, request, limit: 256 << 10)
        try await mapped { try await store.setTargets(programme: body.programme, body.targets) }
        await record(.update, context, "logbook targets of programme \(body.programme) set: \(body.targets.count)")
        return try Self.encoded(
            TargetsBody(programme: body.programme, targets: try await mapped { try await store.targets(programme: body.programme) }))
    }

    struct ProgressBody: Encodable {
        struct Row: Encodable {
            var dimension: String
            var value: String
            var target: Int
            var done: Int
            var met: Bool
        }
        var trainee: String
        var programme: String
        var placements: Int
        var procedures: Int
        var targets: [Row]
    }

    func progressBody(_ trainee: String) async throws -> ProgressBody {
        let (programme, progress) = try await mapped { try await store.progress(trainee: trainee) }
        let entries = try await mapped { try await store.entries(trainee: trainee) }
        return ProgressBody(
            trainee: trainee, programme: programme, placements: LogbookProgress.countersigned(entries, .placement),
            procedures: LogbookProgress.countersigned(entries, .procedure),
            targets: progress.map {
                .init(dimension: $0.target.dimension.rawValue, value: $0.target.value, target: $0.target.count, done: $0.done, met: $0.met)
            })
    }

    /// `GET /api/training/progress[?trainee=]`: countersigned placements and procedures, and the progress towards each
    /// target of the trainee's programme.
    func progressOfTraineeJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        let trainee = request.uri.queryParameters["trainee"].map(String.init) ?? principal.username
        _ = try await requireTrainee(context, trainee, .readEntries)
        return try Self.encoded(try await progressBody(trainee))
    }

    // MARK: - Cohorts

    func cohortsJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.require(context, .readCohorts)
        return try Self.encoded(["cohorts": try await mapped { try await store.cohorts() }])
    }

    /// `POST /api/training/cohorts` with `{"name", "programme"}`.
    func createCohortJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.require(context, .manageCohorts)
        struct Body: Decodable {
            var name: String
            var programme: String?
        }
        let body = try await Self.decodeBody(Body.self, request, limit: 64 << 10)
        let cohort = try await mapped {
            try await store.createCohort(name: body.name, programme: body.programme ?? "", by: principal.username)
        }
        await record(.create, context, "cohort \(cohort.id) created")
        return try Self.encoded(cohort, status: .created)
    }

    func cohortJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.require(context, .readCohorts)
        return try Self.encoded(try await mapped { try await store.cohort(try Self.id(context)) })
    }

    /// Enrols a trainee (who must be a student) in a cohort.
    func enrol(_ trainee: String, cohort id: Int64, _ context: AtriumRequestContext) async throws -> Cohort {
        let principal = try Self.require(context, .manageCohorts)
        guard let person = try await identity.person(username: trainee), person.roles.contains(.student) else {
            throw HTTPError(.badRequest, message: "\(trainee) is not a trainee")
        }
        let cohort = try await mapped { try await store.enrol(trainee, cohort: id, by: principal.username) }
        await record(.update, context, "\(trainee) enrolled in cohort \(id)")
        return cohort
    }

    /// `POST /api/training/cohorts/{id}/members` with `{"trainee"}`.
    func enrolJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        struct Body: Decodable { var trainee: String }
        let body = try await Self.decodeBody(Body.self, request, limit: 64 << 10)
        return try Self.encoded(try await enrol(body.trainee, cohort: try Self.id(context), context))
    }

    func withdrawJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.require(context, .manageCohorts)
        let id = try Self.id(context)
        let trainee = try context.parameters.require("trainee")
        let cohort = try await mapped { try await store.withdraw(trainee, cohort: id) }
        await record(.update, context, "\(trainee) withdrawn from cohort \(id)")
        return try Self.encoded(cohort)
    }

    /// The cohort's gradebook and logbook sheets.
    func cohortSheets(_ cohort: Cohort) async throws -> (SpreadsheetSheet, SpreadsheetSheet) {
        let members = Set(cohort.members)
        let records = try await mapped { try await store.indicatorRecords() }.filter { members.contains($0.student) }
        let exams = try await mapped { try await store.exams() }.map { CohortReport.ExamColumn(id: $0.id, title: $0.settings.title) }
        var entries: [String: [LogbookEntry]] = [:]
        var signed: [String: Int] = [:]
        let listed = Set(try await mapped { try await store.competencies() }.map(\.id))
        for member in cohort.members {
            entries[member] = try await mapped { try await store.entries(trainee: member) }
            signed[member] = try await mapped { try await store.signOffs(trainee: member) }.keys.filter { listed.contains($0) }.count
        }
        let targets = try await mapped { try await store.targets(programme: cohort.programme) }
        return (
            CohortReport.gradebook(members: cohort.members, exams: exams, records: records),
            CohortReport.logbook(members: cohort.members, targets: targets, entries: entries, signOffs: signed)
        )
    }

    /// `GET /api/training/cohorts/{id}/export.xlsx` (two sheets), `gradebook.csv`, `logbook.csv`.
    func cohortExport(_ request: Request, _ context: AtriumRequestContext, sheet: String?) async throws -> Response {
        _ = try Self.require(context, .readCohorts)
        let cohort = try await mapped { try await store.cohort(try Self.id(context)) }
        let (gradebook, logbook) = try await cohortSheets(cohort)
        await record(.read, context, "cohort \(cohort.id) exported: \(cohort.members.count) trainees")
        let name = "atrium-cohort-\(cohort.id)"
        guard let sheet else { return try workbook([gradebook, logbook], name: name) }
        return Self.csv(sheet == "gradebook" ? gradebook : logbook, name: "\(name)-\(sheet)")
    }

    // MARK: - Inspections

    /// `GET /api/training/inspections`: every inspection for inspectors; the published ones of one's institution (or
    /// naming one as the answerable person) for others.
    func inspectionsJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        return try Self.encoded(["inspections": try await readableInspections(principal)])
    }

    func readableInspections(_ principal: Principal) async throws -> [Inspection] {
        var out: [Inspection] = []
        for inspection in try await mapped({ try await store.inspections() }) {
            let relation = try await self.relation(principal, inspection: inspection)
            if TrainingAccess.allows(principal.roles, .readInspection, relation: relation) { out.append(inspection) }
        }
        return out
    }

    /// `POST /api/training/inspections` with an ``InspectionDraft``; the inspected institution must exist.
    func recordInspectionJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let draft = try await Self.decodeBody(InspectionDraft.self, request, limit: 256 << 10)
        return try Self.encoded(try await recordInspection(draft, context), status: .created)
    }

    func recordInspection(_ draft: InspectionDraft, _ context: AtriumRequestContext) async throws -> Inspection {
        let principal = try await requireInspector(context)
        guard try await identity.institution(code: draft.institution.trimmingCharacters(in: .whitespaces)) != nil else {
            throw HTTPError(.badRequest, message: "institution \(draft.institution) does not exist")
        }
        let inspection = try await mapped { try await store.recordInspection(draft, by: principal.username) }
        await record(.create, context, "inspection \(inspection.id) recorded")
        return inspection
    }

    func inspectionJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (_, inspection) = try await inspectionFor(context, .readInspection)
        return try Self.encoded(inspection)
    }

    /// `POST /api/training/inspections/{id}/actions` with `{"action", "owner", "due"}`.
    func addActionJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        struct Body: Decodable {
            var action: String
            var owner: String
            var due: String
        }
        let (_, inspection) = try await inspectionFor(context, .inspect)
        let body = try await Self.decodeBody(Body.self, request, limit: 64 << 10)
        let updated = try await mapped {
            try await store.addAction(inspection: inspection.id, action: body.action, owner: body.owner, due: body.due)
        }
        await record(.update, context, "inspection \(inspection.id): follow-up action added")
        return try Self.encoded(updated)
    }

    /// `POST /api/training/inspections/{id}/close` with `{"note"}`.
    func closeInspectionJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        struct Body: Decodable { var note: String }
        let (_, inspection) = try await inspectionFor(context, .inspect)
        let body = try await Self.decodeBody(Body.self, request, limit: 64 << 10)
        let updated = try await mapped { try await store.closeInspection(inspection.id, note: body.note) }
        await record(.update, context, "inspection \(inspection.id) closed")
        return try Self.encoded(updated)
    }

    /// `POST /api/training/inspections/{id}/publish`.
    func publishInspectionJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (_, inspection) = try await inspectionFor(context, .inspect)
        let updated = try await mapped { try await store.publishInspection(inspection.id) }
        await record(.update, context, "inspection \(inspection.id) published")
        return try Self.encoded(updated)
    }
}

extension LogbookSubmission {
    /// The trimmed text, or nil when empty.
    static func filledText(_ text: String?) -> String? {
        guard let value = text?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }
}
