import Foundation
import Hummingbird
import Platform
import Training

/// Master's training plans and the project register over HTTP: teachers or the academic supervisor plan the
/// milestones (proposal, mid-term review, thesis, defence) with their reviewers, the trainee submits the documents, the
/// reviewers score and the named supervisors approve or return; projects are registered with their points.
extension TrainingRoutes {
    func registerMilestones(on router: Router<AtriumRequestContext>) {
        router.get("/api/training/trainees/:trainee/milestones") { request, context in try await self.milestonesJSON(request, context) }
        router.put("/api/training/trainees/:trainee/milestones/:stage") { request, context in try await self.planJSON(request, context) }
        router.post("/api/training/trainees/:trainee/milestones/:stage/submit") { request, context in
            try await self.submitMilestoneJSON(request, context)
        }
        router.post("/api/training/trainees/:trainee/milestones/:stage/scores") { request, context in
            try await self.scoreMilestoneJSON(request, context)
        }
        router.post("/api/training/trainees/:trainee/milestones/:stage/approve") { request, context in
            try await self.decideMilestoneJSON(request, context, approve: true)
        }
        router.post("/api/training/trainees/:trainee/milestones/:stage/return") { request, context in
            try await self.decideMilestoneJSON(request, context, approve: false)
        }
        router.get("/api/training/projects") { request, context in try await self.projectsJSON(request, context) }
        router.post("/api/training/projects") { request, context in try await self.registerProjectJSON(request, context) }
        router.post("/training/supervision/milestones/plan") { request, context in try await self.milestoneForm(request, context, .plan) }
        router.post("/training/supervision/milestones/submit") { request, context in
            try await self.milestoneForm(request, context, .submit)
        }
        router.post("/training/supervision/milestones/score") { request, context in
            try await self.milestoneForm(request, context, .score)
        }
        router.post("/training/supervision/milestones/decide") { request, context in
            try await self.milestoneForm(request, context, .decide)
        }
        router.post("/training/supervision/projects") { request, context in try await self.projectForm(request, context) }
    }

    // MARK: - The supervision page's forms

    enum MilestoneStep {
        case plan, submit, score, decide

        var action: TrainingAction {
            switch self {
            case .plan: .planMilestones
            case .submit: .submitMilestone
            case .score: .scoreMilestone
            case .decide: .approveMilestone
            }
        }
    }

    /// The forms of a trainee's training plan on `/training/supervision?trainee=`: plan a milestone (teachers, the
    /// academic supervisor), submit its documents as lines `title | reference` (the trainee), score it (a listed
    /// reviewer), approve or return it (the named supervisors). Each is decided as its JSON counterpart is.
    func milestoneForm(_ request: Request, _ context: AtriumRequestContext, _ step: MilestoneStep) async throws -> Response {
        let principal = try Self.principal(context)
        let form = try await FormBody.read(request, limitBytes: 256 << 10)
        let trainee = (form["trainee"] ?? "").trimmingCharacters(in: .whitespaces)
        guard let stage = MilestoneStage(rawValue: form["stage"] ?? "") else {
            throw HTTPError(.badRequest, message: "stages are proposal, mid-term, thesis, defence")
        }
        let (owner, base, assignment) = try await self.relation(principal, trainee: trainee)
        var relation = base
        if let m = try? await store.milestone(trainee: trainee, stage: stage), m.reviewers.contains(principal.username) {
            relation.insert(.reviewer)
        }
        guard TrainingAccess.allows(principal.roles, step.action, owner: owner, relation: relation) else {
            throw HTTPError(.forbidden, message: "not allowed: \(step.action.rawValue)")
        }
        return try await formAction(back: "/training/supervision?" + Self.query("trainee", trainee)) {
            switch step {
            case .plan:
                guard let person = try await identity.person(username: trainee), person.roles.contains(.student) else {
                    throw HTTPError(.badRequest, message: "\(trainee) is not a trainee")
                }
                let reviewers = (form["reviewers"] ?? "").split(whereSeparator: { $0 == "," || $0 == "，" || $0.isWhitespace }).map(
                    String.init)
                _ = try await mapped {
                    try await store.planMilestone(trainee: trainee, stage: stage, due: form["due"] ?? "", reviewers: reviewers)
                }
                await record(.update, context, "\(stage.rawValue) milestone of \(trainee) planned")
            case .submit:
                let documents = (form["documents"] ?? "").split(whereSeparator: \.isNewline).map { line -> MilestoneDocument in
                    let parts = line.split(separator: "|", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    return MilestoneDocument(title: parts.first ?? "", reference: parts.count > 1 ? parts[1] : "")
                }
                _ = try await mapped { try await store.submitMilestone(trainee: trainee, stage: stage, documents: documents) }
                await record(.update, context, "\(stage.rawValue) milestone of \(trainee) submitted")
            case .score:
                guard let score = Double((form["score"] ?? "").trimmingCharacters(in: .whitespaces)) else {
                    throw HTTPError(.badRequest, message: "a score is a number from 0 to 100")
                }
                _ = try await mapped {
                    try await store.scoreMilestone(
                        trainee: trainee, stage: stage, reviewer: principal.username, score: score, comment: form["comment"] ?? "")
                }
                await record(.update, context, "\(stage.rawValue) milestone of \(trainee) scored")
            case .decide:
                let approve = form["decision"] != "return"
                _ = try await mapped {
                    try await store.decideMilestone(
                        trainee: trainee, stage: stage, supervisor: principal.username, approve: approve, comment: form["comment"] ?? "",
                        required: [assignment.academicSupervisor, assignment.practiceSupervisor].compactMap { $0 })
                }
                await record(.update, context, "\(stage.rawValue) milestone of \(trainee) \(approve ? "approved" : "returned")")
            }
        }
    }

    /// The project register's form (teachers and supervisors): trainees separated by commas.
    func projectForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.require(context, .registerProjects)
        let form = try await FormBody.read(request)
        let back = (form["trainee"]).map { "/training/supervision?" + Self.query("trainee", $0) } ?? "/training/supervision"
        return try await formAction(back: back) {
            guard let points = Double((form["points"] ?? "").trimmingCharacters(in: .whitespaces)),
                let year = Int((form["year"] ?? "").trimmingCharacters(in: .whitespaces))
            else { throw HTTPError(.badRequest, message: "points and year are numbers") }
            let draft = ProjectDraft(
                title: form["title"] ?? "", points: points,
                trainees: (form["trainees"] ?? "").split(whereSeparator: { $0 == "," || $0 == "，" || $0.isWhitespace }).map(String.init),
                supervisor: form["supervisor"] ?? "", year: year)
            let project = try await mapped { try await store.registerProject(draft, by: principal.username) }
            await record(.create, context, "project \(project.id) registered")
        }
    }

    /// The trainee, the stage, and the caller allowed `action` on it (reviewers of the milestone included).
    func milestoneCall(_ context: AtriumRequestContext, _ action: TrainingAction) async throws -> (
        Principal, String, MilestoneStage, SupervisorAssignment
    ) {
        let principal = try Self.principal(context)
        let trainee = try context.parameters.require("trainee")
        guard let stage = MilestoneStage(rawValue: try context.parameters.require("stage")) else {
            throw HTTPError(.notFound, message: "stages are proposal, mid-term, thesis, defence")
        }
        let (owner, base, assignment) = try await self.relation(principal, trainee: trainee)
        var relation = base
        if let m = try? await store.milestone(trainee: trainee, stage: stage), m.reviewers.contains(principal.username) {
            relation.insert(.reviewer)
        }
        guard TrainingAccess.allows(principal.roles, action, owner: owner, relation: relation) else {
            if !owner && TrainingAccess.allows(principal.roles, .logEntries, owner: true) && relation.isEmpty {
                throw HTTPError(.notFound, message: "no training plan of \(trainee) for you")
            }
            throw HTTPError(.forbidden, message: "not allowed: \(action.rawValue)")
        }
        return (principal, trainee, stage, assignment)
    }

    struct MilestonesBody: Encodable {
        var trainee: String
        var milestones: [Milestone]
        var projects: [RegisteredProject]
        var points: Double
    }

    /// `GET /api/training/trainees/{trainee}/milestones`: the plan and the trainee's projects with their points — for the
    /// trainee, their supervisors, teachers, and the reviewers of any of its milestones.
    func milestonesJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        let trainee = try context.parameters.require("trainee")
        let plan = try await mapped { try await store.milestones(trainee: trainee) }
        let (owner, relation, _) = try await self.relation(principal, trainee: trainee)
        let reviewer = plan.contains { $0.reviewers.contains(principal.username) }
        guard TrainingAccess.allows(principal.roles, .readEntries, owner: owner, relation: relation) || reviewer else {
            _ = try await requireTrainee(context, trainee, .readEntries)
            throw HTTPError(.forbidden, message: "not allowed: milestones")
        }
        let projects = try await mapped { try await store.projects(trainee: trainee) }
        return try Self.encoded(
            MilestonesBody(
                trainee: trainee, milestones: plan, projects: projects, points: ProjectRegister.totals(projects).trainees[trainee] ?? 0))
    }

    /// `PUT /api/training/trainees/{trainee}/milestones/{stage}` with `{"due", "reviewers"}`.
    func planJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        struct Body: Decodable {
            var due: String
            var reviewers: [String]
        }
        let (_, trainee, stage, _) = try await milestoneCall(context, .planMilestones)
        let body = try await Self.decodeBody(Body.self, request, limit: 64 << 10)
        guard let person = try await identity.person(username: trainee), person.roles.contains(.student) else {
            throw HTTPError(.badRequest, message: "\(trainee) is not a trainee")
        }
        let milestone = try await mapped {
            try await store.planMilestone(trainee: trainee, stage: stage, due: body.due, reviewers: body.reviewers)
        }
        await record(.update, context, "\(stage.rawValue) milestone of \(trainee) planned")
        return try Self.encoded(milestone)
    }

    /// `POST …/milestones/{stage}/submit` with `{"documents": [{"title", "reference"}]}` (the trainee).
    func submitMilestoneJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        struct Body: Decodable { var documents: [MilestoneDocument] }
        let (_, trainee, stage, _) = try await milestoneCall(context, .submitMilestone)
        let body = try await Self.decodeBody(Body.self, request, limit: 256 << 10)
        let milestone = try await mapped { try await store.submitMilestone(trainee: trainee, stage: stage, documents: body.documents) }
        await record(.update, context, "\(stage.rawValue) milestone of \(trainee) submitted")
        return try Self.encoded(milestone)
    }

    /// `POST …/milestones/{stage}/scores` with `{"score", "comment"}` (a listed reviewer).
    func scoreMilestoneJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        struct Body: Decodable {
            var score: Double
            var comment: String?
        }
        let (principal, trainee, stage, _) = try await milestoneCall(context, .scoreMilestone)
        let body = try await Self.decodeBody(Body.self, request, limit: 64 << 10)
        let milestone = try await mapped {
            try await store.scoreMilestone(
                trainee: trainee, stage: stage, reviewer: principal.username, score: body.score, comment: body.comment ?? "")
        }
        await record(.update, context, "\(stage.rawValue) milestone of \(trainee) scored")
        return try Self.encoded(milestone)
    }

    /// `POST …/milestones/{stage}/approve|return` with `{"comment"}` (the trainee's named supervisors; approved once all
    /// of them have).
    func decideMilestoneJSON(_ request: Request, _ context: AtriumRequestContext, approve: Bool) async throws -> Response {
        struct Body: Decodable { var comment: String? }
        let (principal, trainee, stage, assignment) = try await milestoneCall(context, .approveMilestone)
        let body = try await Self.decodeBody(Body.self, request, limit: 64 << 10)
        let required = [assignment.academicSupervisor, assignment.practiceSupervisor].compactMap { $0 }
        let milestone = try await mapped {
            try await store.decideMilestone(
                trainee: trainee, stage: stage, supervisor: principal.username, approve: approve, comment: body.comment ?? "",
                required: required)
        }
        await record(.update, context, "\(stage.rawValue) milestone of \(trainee) \(approve ? "approved" : "returned")")
        return try Self.encoded(milestone)
    }

    struct ProjectsBody: Encodable {
        var projects: [RegisteredProject]
        var trainees: [String: Double]
        var supervisors: [String: Double]
    }

    /// `GET /api/training/projects[?trainee=][&supervisor=]`: the register with the points per trainee and per
    /// supervisor. A trainee sees only their own projects.
    func projectsJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        let parameters = request.uri.queryParameters
        var trainee = parameters["trainee"].map(String.init)
        if !TrainingAccess.allows(principal.roles, .registerProjects) {
            guard TrainingAccess.allows(principal.roles, .logEntries, owner: true) else {
                throw HTTPError(.forbidden, message: "not allowed: projects")
            }
            trainee = principal.username
        }
        let projects = try await mapped {
            try await store.projects(trainee: trainee, supervisor: parameters["supervisor"].map(String.init))
        }
        let totals = ProjectRegister.totals(projects)
        return try Self.encoded(ProjectsBody(projects: projects, trainees: totals.trainees, supervisors: totals.supervisors))
    }

    /// `POST /api/training/projects` with a ``ProjectDraft`` (teachers and supervisors).
    func registerProjectJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.require(context, .registerProjects)
        let draft = try await Self.decodeBody(ProjectDraft.self, request, limit: 64 << 10)
        let project = try await mapped { try await store.registerProject(draft, by: principal.username) }
        await record(.create, context, "project \(project.id) registered")
        return try Self.encoded(project, status: .created)
    }
}
