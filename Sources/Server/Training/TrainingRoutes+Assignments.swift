import Foundation
import Hummingbird
import Platform
import Training

/// Project-based assignments over HTTP and as pages: a teacher designs the task (cases, materials, rubric, groups,
/// evaluator weights, due day); members submit their group's work; teachers, the practice supervisor of a member and the
/// assigned peers evaluate it per criterion; the teacher releases the weighted scores. A student reaches only their own
/// group's work and the groups they were assigned to evaluate (others answer 404).
extension TrainingRoutes {
    func registerAssignments(on router: Router<AtriumRequestContext>) {
        router.get("/api/training/assignments") { request, context in try await self.projectAssignmentsJSON(request, context) }
        router.post("/api/training/assignments") { request, context in try await self.createAssignmentJSON(request, context) }
        router.get("/api/training/assignments/:id") { request, context in try await self.assignmentJSON(request, context) }
        router.post("/api/training/assignments/:id/release") { request, context in try await self.releaseAssignmentJSON(request, context) }
        router.get("/api/training/assignments/:id/units/:unit") { request, context in try await self.unitJSON(request, context) }
        router.put("/api/training/assignments/:id/units/:unit/submission") { request, context in
            try await self.submitAssignmentJSON(request, context)
        }
        router.put("/api/training/assignments/:id/units/:unit/evaluation") { request, context in
            try await self.evaluateAssignmentJSON(request, context)
        }
        router.get("/training/assignments") { request, context in try await self.assignmentsPage(request, context) }
        router.post("/training/assignments") { request, context in try await self.createAssignmentForm(request, context) }
        router.get("/training/assignments/:id") { request, context in try await self.assignmentPage(request, context) }
        router.post("/training/assignments/:id/release") { request, context in try await self.releaseAssignmentForm(request, context) }
        router.post("/training/assignments/:id/units/:unit/submit") { request, context in
            try await self.submitAssignmentForm(request, context)
        }
        router.post("/training/assignments/:id/units/:unit/evaluate") { request, context in
            try await self.evaluateAssignmentForm(request, context)
        }
    }

    // MARK: - Who stands how to a unit

    /// The trainees `principal` supervises in practice: one query, read once per request (empty for anyone who is not
    /// a supervisor), not once per member of every unit.
    func practiceTrainees(_ principal: Principal) async throws -> Set<String> {
        guard principal.roles.contains(.supervisor) else { return [] }
        let assignments = try await mapped { try await store.assignments(supervisor: principal.username) }
        return Set(assignments.filter { $0.practiceSupervisor == principal.username }.map(\.trainee))
    }

    /// How `principal` stands to `unit`: a member, an assigned peer, the practice supervisor of a member (one of
    /// `practiceTrainees`).
    func relation(_ principal: Principal, unit: AssignmentUnit, practiceTrainees: Set<String>) -> SupervisionRelation {
        var relation: SupervisionRelation = []
        if unit.members.contains(principal.username) { relation.insert(.member) }
        if unit.peers.contains(principal.username) { relation.insert(.peerReviewer) }
        if unit.members.contains(where: practiceTrainees.contains) { relation.insert(.practiceSupervisor) }
        return relation
    }

    /// The units `principal` may see (read the submission of): all for teachers.
    func visibleUnits(_ principal: Principal, _ assignment: ProjectAssignment, practiceTrainees: Set<String>? = nil) async throws
        -> [(AssignmentUnit, SupervisionRelation)]
    {
        let trainees: Set<String>
        if let practiceTrainees { trainees = practiceTrainees } else { trainees = try await self.practiceTrainees(principal) }
        var out: [(AssignmentUnit, SupervisionRelation)] = []
        for unit in assignment.draft.units {
            let relation = relation(principal, unit: unit, practiceTrainees: trainees)
            if TrainingAccess.allows(principal.roles, .readSubmission, released: assignment.released, relation: relation) {
                out.append((unit, relation))
            }
        }
        return out
    }

    /// The assignment and the unit of the path, with the caller allowed `action` on it; 404 for a unit the caller has
    /// nothing to do with (so that a student learns nothing of other groups).
    func unitCall(_ context: AtriumRequestContext, _ action: TrainingAction) async throws -> (
        Principal, ProjectAssignment, AssignmentUnit, SupervisionRelation
    ) {
        let principal = try Self.principal(context)
        let assignment = try await mapped { try await store.projectAssignment(try Self.id(context)) }
        guard let number = Int(try context.parameters.require("unit")), let unit = assignment.unit(number) else {
            throw HTTPError(.notFound, message: "no such group")
        }
        let relation = relation(principal, unit: unit, practiceTrainees: try await practiceTrainees(principal))
        guard TrainingAccess.allows(principal.roles, action, released: assignment.released, relation: relation) else {
            if !TrainingAccess.allows(principal.roles, .readSubmission, relation: relation) {
                throw HTTPError(.notFound, message: "group \(number) of assignment \(assignment.id) does not exist")
            }
            throw HTTPError(.forbidden, message: "not allowed: \(action.rawValue)")
        }
        return (principal, assignment, unit, relation)
    }

    /// The kind `principal` evaluates `unit` as.
    func evaluatorKind(_ principal: Principal, _ unit: AssignmentUnit, _ relation: SupervisionRelation) -> EvaluatorKind? {
        AssignmentScoring.evaluatorKind(
            person: principal.username, teacher: TrainingAccess.allows(principal.roles, .setAssignments),
            supervisor: principal.roles.contains(.supervisor), practiceSupervisorOfMember: relation.contains(.practiceSupervisor),
            student: principal.roles.contains(.student), unit: unit)
    }

    // MARK: - JSON

    struct AssignmentSummary: Encodable {
        var id: Int64
        var title: String
        var due: String
        var mode: AssignmentMode
        var released: Bool
        var units: Int
        init(_ a: ProjectAssignment) {
            id = a.id
            title = a.draft.title
            due = a.draft.due
            mode = a.draft.mode
            released = a.released
            units = a.draft.units.count
        }
    }

    /// The assignments `principal` has a part in (every one for teachers).
    func visibleAssignments(_ principal: Principal) async throws -> [ProjectAssignment] {
        let all = try await mapped { try await store.projectAssignments() }
        if TrainingAccess.allows(principal.roles, .setAssignments) { return all }
        let trainees = try await practiceTrainees(principal)
        var out: [ProjectAssignment] = []
        for a in all where !(try await visibleUnits(principal, a, practiceTrainees: trainees)).isEmpty { out.append(a) }
        return out
    }

    /// `GET /api/training/assignments`.
    func projectAssignmentsJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        return try Self.encoded(["assignments": try await visibleAssignments(principal).map(AssignmentSummary.init)])
    }

    /// Checks that the units' members and peers are students (and, with a cohort, its members), and fills individual
    /// units from the cohort when none are given.
    func completedDraft(_ draft: AssignmentDraft) async throws -> AssignmentDraft {
        var draft = draft
        if let cohortID = draft.cohort {
            let cohort = try await mapped { try await store.cohort(cohortID) }
            if draft.units.isEmpty && draft.mode == .individual { draft.units = AssignmentScoring.individualUnits(cohort.members) }
            let people = Set(draft.units.flatMap { $0.members + $0.peers })
            if let outsider = people.sorted().first(where: { !cohort.members.contains($0) }) {
                throw HTTPError(.badRequest, message: "\(outsider) is not in cohort \(cohort.name)")
            }
        }
        for name in Set(draft.units.flatMap { $0.members + $0.peers }).sorted() {
            let person = try await identity.person(username: name.trimmingCharacters(in: .whitespaces))
            guard person?.roles.contains(.student) == true else { throw HTTPError(.badRequest, message: "\(name) is not a student") }
        }
        return draft
    }

    /// `POST /api/training/assignments` with an ``AssignmentDraft`` (teachers).
    func createAssignmentJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.require(context, .setAssignments)
        let draft = try await completedDraft(try await Self.decodeBody(AssignmentDraft.self, request, limit: 1 << 20))
        let assignment = try await mapped { try await store.createAssignment(draft, by: principal.username) }
        await record(.create, context, "assignment \(assignment.id) created with \(assignment.draft.units.count) group(s)")
        return try Self.encoded(try await taskBody(principal, assignment), status: .created)
    }

    struct TaskBody: Encodable {
        var id: Int64
        var title: String
        var description: String
        var caseIDs: [Int64]
        var materials: [AssignmentMaterial]
        var rubric: [RubricCriterion]
        var mode: AssignmentMode
        var weights: EvaluatorWeights
        var due: String
        var released: Bool
        var maximum: Double
        var units: [Unit]
        struct Unit: Encodable {
            var number: Int
            var name: String
            var members: [String]
            /// Teachers only.
            var peers: [String]?
            var submitted: Bool
            /// The kind the caller evaluates it as, if they may.
            var evaluateAs: EvaluatorKind?
            var mine: Bool
        }
    }

    func taskBody(_ principal: Principal, _ a: ProjectAssignment) async throws -> TaskBody {
        let teacher = TrainingAccess.allows(principal.roles, .setAssignments)
        let submitted = Set(try await mapped { try await store.submissions(a.id) }.map(\.unit))
        let units = try await visibleUnits(principal, a).map { unit, relation in
            TaskBody.Unit(
                number: unit.number, name: unit.name, members: unit.members, peers: teacher ? unit.peers : nil,
                submitted: submitted.contains(unit.number),
                evaluateAs: TrainingAccess.allows(principal.roles, .evaluateAssignment, relation: relation)
                    ? evaluatorKind(principal, unit, relation) : nil,
                mine: relation.contains(.member))
        }
        return TaskBody(
            id: a.id, title: a.draft.title, description: a.draft.description, caseIDs: a.draft.caseIDs, materials: a.draft.materials,
            rubric: a.draft.rubric, mode: a.draft.mode, weights: a.draft.weights, due: a.draft.due, released: a.released,
            maximum: a.maximum, units: units)
    }

    /// `GET /api/training/assignments/{id}`: the task and the groups the caller has a part in (404 for none).
    func assignmentJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        let assignment = try await mapped { try await store.projectAssignment(try Self.id(context)) }
        let body = try await taskBody(principal, assignment)
        guard TrainingAccess.allows(principal.roles, .setAssignments) || !body.units.isEmpty else {
            throw HTTPError(.notFound, message: "assignment \(assignment.id) does not exist")
        }
        return try Self.encoded(body)
    }

    struct UnitBody: Encodable {
        var assignment: Int64
        var number: Int
        var name: String
        var members: [String]
        var submission: AssignmentSubmission?
        /// Teachers: every evaluation; an evaluator: their own; members, once released: every one without names.
        var evaluations: [Evaluation]
        var score: AssignmentScore?
        var evaluateAs: EvaluatorKind?
        struct Evaluation: Encodable {
            var evaluator: String?
            var kind: EvaluatorKind
            var marks: [String: Double]
            var total: Double
            var comment: String
        }
    }

    func unitBody(_ principal: Principal, _ a: ProjectAssignment, _ unit: AssignmentUnit, _ relation: SupervisionRelation) async throws
        -> UnitBody
    {
        let teacher = TrainingAccess.allows(principal.roles, .setAssignments)
        let submission = try await mapped { try await store.submissions(a.id) }.first { $0.unit == unit.number }
        let all = try await mapped { try await store.evaluations(a.id) }.filter { $0.unit == unit.number }
        let scoreReadable = TrainingAccess.allows(principal.roles, .readAssignmentScore, released: a.released, relation: relation)
        let shown =
            teacher
            ? all.map { UnitBody.Evaluation(evaluator: $0.evaluator, kind: $0.kind, marks: $0.marks, total: $0.total, comment: $0.comment) }
            : scoreReadable
                ? all.map { UnitBody.Evaluation(evaluator: nil, kind: $0.kind, marks: $0.marks, total: $0.total, comment: $0.comment) }
                : all.filter { $0.evaluator == principal.username }.map {
                    UnitBody.Evaluation(evaluator: $0.evaluator, kind: $0.kind, marks: $0.marks, total: $0.total, comment: $0.comment)
                }
        return UnitBody(
            assignment: a.id, number: unit.number, name: unit.name, members: unit.members, submission: submission, evaluations: shown,
            score: scoreReadable
                ? AssignmentScoring.score(unit: unit.number, rubric: a.draft.rubric, weights: a.draft.weights, evaluations: all) : nil,
            evaluateAs: TrainingAccess.allows(principal.roles, .evaluateAssignment, relation: relation)
                ? evaluatorKind(principal, unit, relation) : nil)
    }

    /// `GET /api/training/assignments/{id}/units/{unit}`: the group's submission, the evaluations the caller may see, and
    /// the score (teachers; members once released).
    func unitJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, assignment, unit, relation) = try await unitCall(context, .readSubmission)
        if !relation.contains(.member) { await record(.read, context, "assignment \(assignment.id) group \(unit.number) read") }
        return try Self.encoded(try await unitBody(principal, assignment, unit, relation))
    }

    /// `PUT …/units/{unit}/submission` with `{"text"}` (a member).
    func submitAssignmentJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        struct Body: Decodable { var text: String }
        let (principal, assignment, unit, _) = try await unitCall(context, .submitAssignment)
        let body = try await Self.decodeBody(Body.self, request, limit: 1 << 20)
        let saved = try await mapped {
            try await store.submitAssignment(assignment.id, unit: unit.number, text: body.text, by: principal.username)
        }
        await record(.update, context, "assignment \(assignment.id) group \(unit.number) submitted")
        return try Self.encoded(saved)
    }

    func evaluateUnit(_ context: AtriumRequestContext, marks: [String: Double], comment: String) async throws -> AssignmentEvaluation {
        let (principal, assignment, unit, relation) = try await unitCall(context, .evaluateAssignment)
        guard let kind = evaluatorKind(principal, unit, relation) else {
            throw HTTPError(.forbidden, message: "not allowed: evaluateAssignment")
        }
        let saved = try await mapped {
            try await store.evaluateAssignment(
                assignment.id, unit: unit.number, evaluator: principal.username, kind: kind, marks: marks, comment: comment)
        }
        await record(.update, context, "assignment \(assignment.id) group \(unit.number) evaluated as \(kind.rawValue)")
        return saved
    }

    /// `PUT …/units/{unit}/evaluation` with `{"marks": {criterion: points}, "comment"}` (teachers, the practice supervisor
    /// of a member, an assigned peer).
    func evaluateAssignmentJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        struct Body: Decodable {
            var marks: [String: Double]
            var comment: String?
        }
        let body = try await Self.decodeBody(Body.self, request, limit: 256 << 10)
        return try Self.encoded(try await evaluateUnit(context, marks: body.marks, comment: body.comment ?? ""))
    }

    /// `POST /api/training/assignments/{id}/release`: the scores to the students (teachers).
    func releaseAssignmentJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.require(context, .setAssignments)
        let id = try Self.id(context)
        let assignment = try await mapped { try await store.releaseAssignment(id) }
        await record(.update, context, "assignment \(id) scores released")
        return try Self.encoded(try await taskBody(principal, assignment))
    }

    // MARK: - Pages

    func assignmentsPage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        guard let principal = signedIn(request, context) else { return signInRedirect(request) }
        let teacher = TrainingAccess.allows(principal.roles, .setAssignments)
        let list = try await visibleAssignments(principal)
        var data: [String: Any] = [
            "assignments": list.map { a -> [String: Any] in
                [
                    "id": a.id, "title": a.draft.title, "due": a.draft.due, "units": a.draft.units.count,
                    "mode": text("assignments.mode.\(a.draft.mode.rawValue)", request, context), "released": a.released,
                ]
            },
            "hasAssignments": !list.isEmpty, "teacher": teacher, "v": Self.assignmentFormValues,
            "problem": request.uri.queryParameters["problem"].map(String.init) ?? "",
            "hasProblem": request.uri.queryParameters["problem"] != nil,
        ]
        if teacher {
            data["cohorts"] = try await mapped { try await store.cohorts() }.map { ["id": $0.id, "name": $0.name] }
        }
        return page("training-assignments", "assignments.title", data, request, context)
    }

    static let assignmentFormValues: [String: String] = Dictionary(
        uniqueKeysWithValues: ["individual", "group"].map { ($0, $0) })

    /// The teacher's form: materials as lines `title | link`, the rubric as lines `id | criterion | points`, groups as
    /// lines `name | member, member | peer, peer` (individual work: one member; left empty with a cohort, every member of
    /// the cohort alone, each evaluated by the next).
    func createAssignmentForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.require(context, .setAssignments)
        let form = try await FormBody.read(request, limitBytes: 512 << 10)
        var id: Int64 = 0
        let response = try await formAction(back: "/training/assignments") {
            func lines(_ name: String) -> [[String]] {
                (form[name] ?? "").split(whereSeparator: \.isNewline).map {
                    $0.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                }.filter { !$0.allSatisfy(\.isEmpty) }
            }
            func names(_ text: String) -> [String] {
                text.split(whereSeparator: { $0 == "," || $0 == "，" || $0.isWhitespace }).map(String.init)
            }
            func number(_ name: String) throws -> Double {
                guard let value = Double((form[name] ?? "").trimmingCharacters(in: .whitespaces)) else {
                    throw HTTPError(.badRequest, message: "the weights are numbers")
                }
                return value
            }
            var cases: [Int64] = []
            for part in names(form["cases"] ?? "") {
                guard let n = Int64(part.trimmingCharacters(in: CharacterSet(charactersIn: "#"))) else {
                    throw HTTPError(.badRequest, message: "cases are numbers separated by commas")
                }
                cases.append(n)
            }
            var materials: [AssignmentMaterial] = []
            for parts in lines("materials") {
                guard parts.count == 2 else { throw HTTPError(.badRequest, message: "a material line is: title | link") }
                materials.append(AssignmentMaterial(title: parts[0], link: parts[1]))
            }
            var rubric: [RubricCriterion] = []
            for parts in lines("rubric") {
                guard parts.count == 3, let points = Double(parts[2]) else {
                    throw HTTPError(.badRequest, message: "a rubric line is: id | criterion | points")
                }
                rubric.append(RubricCriterion(id: parts[0], text: parts[1], points: points))
            }
            var units: [AssignmentUnit] = []
            for parts in lines("units") {
                guard (2...3).contains(parts.count) else {
                    throw HTTPError(.badRequest, message: "a group line is: name | member, member | peer, peer")
                }
                units.append(
                    AssignmentUnit(
                        number: units.count + 1, name: parts[0], members: names(parts[1]), peers: parts.count > 2 ? names(parts[2]) : []))
            }
            let draft = AssignmentDraft(
                title: form["title"] ?? "", description: form["description"] ?? "", caseIDs: cases, materials: materials, rubric: rubric,
                mode: AssignmentMode(rawValue: form["mode"] ?? "") ?? .group, cohort: form["cohort"].flatMap { Int64($0) },
                units: units,
                weights: EvaluatorWeights(teacher: try number("teacher"), supervisor: try number("supervisor"), peer: try number("peer")),
                due: form["due"] ?? "")
            let completed = try await completedDraft(draft)
            let assignment = try await mapped { try await store.createAssignment(completed, by: principal.username) }
            id = assignment.id
            await record(.create, context, "assignment \(assignment.id) created with \(assignment.draft.units.count) group(s)")
        }
        return id > 0 ? Response.redirect(to: "/training/assignments/\(id)", type: .normal) : response
    }

    func assignmentPage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        guard let principal = signedIn(request, context) else { return signInRedirect(request) }
        let assignment = try await mapped { try await store.projectAssignment(try Self.id(context)) }
        let teacher = TrainingAccess.allows(principal.roles, .setAssignments)
        let visible = try await visibleUnits(principal, assignment)
        guard teacher || !visible.isEmpty else { throw HTTPError(.notFound, message: "assignment \(assignment.id) does not exist") }
        let d = assignment.draft
        let submissions = try await mapped { try await store.submissions(assignment.id) }
        let evaluations = try await mapped { try await store.evaluations(assignment.id) }
        func number(_ value: Double?) -> String { value.map { Self.cellText(.number($0)) } ?? "—" }
        var units: [[String: Any]] = []
        for (unit, relation) in visible {
            let submission = submissions.first { $0.unit == unit.number }
            let kind =
                TrainingAccess.allows(principal.roles, .evaluateAssignment, relation: relation)
                ? evaluatorKind(principal, unit, relation) : nil
            let mine = evaluations.first { $0.unit == unit.number && $0.evaluator == principal.username }
            let member = relation.contains(.member)
            let scoreReadable = TrainingAccess.allows(
                principal.roles, .readAssignmentScore, released: assignment.released, relation: relation)
            let score = AssignmentScoring.score(unit: unit.number, rubric: d.rubric, weights: d.weights, evaluations: evaluations)
            let unitEvaluations = evaluations.filter { $0.unit == unit.number }
            units.append([
                "number": unit.number, "name": unit.name, "members": unit.members.joined(separator: ", "),
                "peers": unit.peers.joined(separator: ", "), "teacher": teacher, "mine": member,
                "submitted": submission != nil, "text": submission?.text ?? "", "submittedBy": submission?.submittedBy ?? "",
                "submittedAt": Self.dateText(submission?.submittedAt),
                "canSubmit": member && !assignment.released && unitEvaluations.isEmpty,
                "canEvaluate": kind != nil && submission != nil && !assignment.released,
                "evaluateAs": kind.map { text("assignments.kind.\($0.rawValue)", request, context) } ?? "",
                "criteria": d.rubric.map { c -> [String: Any] in
                    ["id": c.id, "text": c.text, "points": number(c.points), "mark": mine?.marks[c.id].map { number($0) } ?? ""]
                },
                "comment": mine?.comment ?? "",
                "showScore": scoreReadable,
                "kinds": score.kinds.map { k -> [String: Any] in
                    [
                        "kind": k.kind.rawValue, "label": text("assignments.kind.\(k.kind.rawValue)", request, context),
                        "weight": number(k.weight), "count": k.evaluations, "mean": number(k.mean),
                    ]
                },
                "final": score.final.map { String(format: "%.2f", $0) } ?? "—",
                "percent": score.percent.map { String(format: "%.1f", $0) } ?? "—",
                "feedback": scoreReadable
                    ? unitEvaluations.filter { !$0.comment.isEmpty }.map {
                        ["kind": text("assignments.kind.\($0.kind.rawValue)", request, context), "comment": $0.comment]
                    } : [],
            ])
        }
        return page(
            "training-assignment", "assignments.title",
            [
                "id": assignment.id, "title": d.title, "description": d.description, "due": d.due,
                "mode": text("assignments.mode.\(d.mode.rawValue)", request, context),
                "cases": d.caseIDs.map { ["id": $0] }, "hasCases": !d.caseIDs.isEmpty,
                "materials": d.materials.map { ["title": $0.title, "link": $0.link] }, "hasMaterials": !d.materials.isEmpty,
                "rubric": d.rubric.map { ["id": $0.id, "text": $0.text, "points": number($0.points)] },
                "maximum": number(assignment.maximum),
                "weightTeacher": number(d.weights.teacher), "weightSupervisor": number(d.weights.supervisor),
                "weightPeer": number(d.weights.peer),
                "released": assignment.released, "teacher": teacher, "canRelease": teacher && !assignment.released,
                "units": units, "hasUnits": !units.isEmpty,
                "problem": request.uri.queryParameters["problem"].map(String.init) ?? "",
                "hasProblem": request.uri.queryParameters["problem"] != nil,
            ], request, context)
    }

    func submitAssignmentForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, assignment, unit, _) = try await unitCall(context, .submitAssignment)
        let form = try await FormBody.read(request, limitBytes: 1 << 20)
        return try await formAction(back: "/training/assignments/\(assignment.id)") {
            _ = try await mapped {
                try await store.submitAssignment(assignment.id, unit: unit.number, text: form["text"] ?? "", by: principal.username)
            }
            await record(.update, context, "assignment \(assignment.id) group \(unit.number) submitted")
        }
    }

    func evaluateAssignmentForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (_, assignment, _, _) = try await unitCall(context, .evaluateAssignment)
        let form = try await FormBody.read(request, limitBytes: 256 << 10)
        return try await formAction(back: "/training/assignments/\(assignment.id)") {
            var marks: [String: Double] = [:]
            for c in assignment.draft.rubric {
                guard let mark = Double((form["mark-\(c.id)"] ?? "").trimmingCharacters(in: .whitespaces)) else {
                    throw HTTPError(.badRequest, message: "criterion \(c.id) has no mark")
                }
                marks[c.id] = mark
            }
            _ = try await evaluateUnit(context, marks: marks, comment: form["comment"] ?? "")
        }
    }

    func releaseAssignmentForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.require(context, .setAssignments)
        let id = try Self.id(context)
        return try await formAction(back: "/training/assignments/\(id)") {
            _ = try await mapped { try await store.releaseAssignment(id) }
            await record(.update, context, "assignment \(id) scores released")
        }
    }
}
