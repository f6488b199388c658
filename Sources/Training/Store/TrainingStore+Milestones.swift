import Archive
import Foundation
import Platform

extension TrainingStore {
    // MARK: - Training plans

    /// Plans (or re-plans) a milestone of a trainee's training plan: its due day and reviewers. What was submitted,
    /// scored and approved stays.
    public func planMilestone(trainee: String, stage: MilestoneStage, due: String, reviewers: [String]) async throws(TrainingError)
        -> Milestone
    {
        guard CalendarDay.valid(due) else { throw .invalid("the due date is not a day (yyyy-MM-dd)") }
        let names = reviewers.compactMap { LogbookSubmission.filled($0) }
        guard !names.isEmpty, names.count <= 20 else { throw .invalid("a milestone has 1 to 20 reviewers") }
        guard !names.contains(trainee) else { throw .invalid("a trainee does not review their own milestone") }
        _ = try await run(
            [
                SQLStep(
                    """
                    INSERT INTO training_milestones (trainee, stage, due, reviewers, status, documents, scores, approvals)
                    VALUES (?, ?, ?, ?, ?, '[]', '[]', '[]')
                    ON CONFLICT (trainee, stage) DO UPDATE SET due = excluded.due, reviewers = excluded.reviewers
                    """,
                    [
                        .text(trainee), .text(stage.rawValue), .text(due), .text(try Self.json(names)),
                        .text(MilestoneStatus.planned.rawValue),
                    ])
            ], what: "the milestone")
        return try await milestone(trainee: trainee, stage: stage)
    }

    public func milestone(trainee: String, stage: MilestoneStage) async throws(TrainingError) -> Milestone {
        guard
            let row = try await query(
                "SELECT \(Self.milestoneColumns) FROM training_milestones WHERE trainee = ? AND stage = ?",
                [.text(trainee), .text(stage.rawValue)]
            ).first
        else { throw .notFound("the \(stage.rawValue) milestone of \(trainee)") }
        return try Self.milestoneRow(row)
    }

    /// The trainee's plan, in the stages' order.
    public func milestones(trainee: String) async throws(TrainingError) -> [Milestone] {
        let list = try await query("SELECT \(Self.milestoneColumns) FROM training_milestones WHERE trainee = ?", [.text(trainee)]).map {
            row throws(TrainingError) in try Self.milestoneRow(row)
        }
        let order = MilestoneStage.allCases
        return list.sorted { (order.firstIndex(of: $0.stage) ?? 0) < (order.firstIndex(of: $1.stage) ?? 0) }
    }

    /// The trainee submits a milestone's documents: when it is planned or returned, and the stage before it (if
    /// planned) is approved.
    public func submitMilestone(trainee: String, stage: MilestoneStage, documents: [MilestoneDocument], at now: Date = Date())
        async throws(TrainingError) -> Milestone
    {
        let cleaned = documents.compactMap { d -> MilestoneDocument? in
            guard let title = LogbookSubmission.filled(d.title) else { return nil }
            return MilestoneDocument(title: title, reference: d.reference.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        guard !cleaned.isEmpty, cleaned.count <= 50 else { throw .invalid("a submission has 1 to 50 documents with titles") }
        guard cleaned.allSatisfy({ $0.title.count <= 300 && $0.reference.count <= 2000 }) else {
            throw .invalid("a document's text is too long")
        }
        let current = try await milestone(trainee: trainee, stage: stage)
        guard current.status == .planned || current.status == .returned else {
            throw .closed("the \(stage.rawValue) milestone is \(current.status.rawValue)")
        }
        let plan = try await milestones(trainee: trainee)
        if let index = MilestoneStage.allCases.firstIndex(of: stage), index > 0 {
            let before = MilestoneStage.allCases[index - 1]
            if let previous = plan.first(where: { $0.stage == before }), previous.status != .approved {
                throw .closed("the \(before.rawValue) milestone is not approved yet")
            }
        }
        try await update(
            trainee: trainee, stage: stage, from: current.status,
            ["status = ?", "documents = ?", "approvals = '[]'", "comment = ''", "submitted_at = ?"],
            [.text(MilestoneStatus.submitted.rawValue), .text(try Self.json(cleaned)), .integer(Self.milliseconds(now))])
        return try await milestone(trainee: trainee, stage: stage)
    }

    /// A listed reviewer scores a submitted milestone (0–100).
    public func scoreMilestone(
        trainee: String, stage: MilestoneStage, reviewer: String, score: Double, comment: String, at now: Date = Date()
    ) async throws(TrainingError) -> Milestone {
        guard score.isFinite, (0...100).contains(score) else { throw .invalid("a score is 0 to 100") }
        guard comment.count <= 4000 else { throw .invalid("the comment is too long") }
        let current = try await milestone(trainee: trainee, stage: stage)
        guard current.reviewers.contains(reviewer) else { throw .notAllowed("\(reviewer) does not review this milestone") }
        guard current.status == .submitted else { throw .closed("the \(stage.rawValue) milestone is \(current.status.rawValue)") }
        var scores = current.scores.filter { $0.reviewer != reviewer }
        scores.append(
            ReviewerScore(
                reviewer: reviewer, score: score, comment: comment.trimmingCharacters(in: .whitespacesAndNewlines),
                at: Self.date(milliseconds: Self.milliseconds(now))))
        try await update(trainee: trainee, stage: stage, from: .submitted, ["scores = ?"], [.text(try Self.json(scores))])
        return try await milestone(trainee: trainee, stage: stage)
    }

    /// One of the trainee's named supervisors (`required`) approves a submitted milestone — approved once all of them
    /// have — or returns it with a comment (approvals start over).
    public func decideMilestone(
        trainee: String, stage: MilestoneStage, supervisor: String, approve: Bool, comment: String, required: [String]
    ) async throws(TrainingError) -> Milestone {
        guard required.contains(supervisor) else { throw .notAllowed("only \(trainee)'s named supervisors approve their milestones") }
        let note = comment.trimmingCharacters(in: .whitespacesAndNewlines)
        if !approve && note.isEmpty { throw .invalid("a returned milestone needs a comment") }
        let current = try await milestone(trainee: trainee, stage: stage)
        guard current.status == .submitted else { throw .closed("the \(stage.rawValue) milestone is \(current.status.rawValue)") }
        if approve {
            let approvals = Array(Set(current.approvals + [supervisor])).sorted()
            let status: MilestoneStatus = Set(required).isSubset(of: approvals) ? .approved : .submitted
            try await update(
                trainee: trainee, stage: stage, from: .submitted, ["approvals = ?", "status = ?", "comment = ?"],
                [.text(try Self.json(approvals)), .text(status.rawValue), .text(note)])
        } else {
            try await update(
                trainee: trainee, stage: stage, from: .submitted, ["approvals = '[]'", "status = ?", "comment = ?"],
                [.text(MilestoneStatus.returned.rawValue), .text(note)])
        }
        return try await milestone(trainee: trainee, stage: stage)
    }

    private func update(trainee: String, stage: MilestoneStage, from status: MilestoneStatus, _ sets: [String], _ values: [SQLValue])
        async throws(TrainingError)
    {
        _ = try await run(
            [
                SQLStep(
                    "UPDATE training_milestones SET \(sets.joined(separator: ", ")) WHERE trainee = ? AND stage = ? AND status = ? RETURNING trainee",
                    values + [.text(trainee), .text(stage.rawValue), .text(status.rawValue)], guarded: true)
            ], what: "the \(stage.rawValue) milestone of \(trainee)")
    }

    static let milestoneColumns = "trainee, stage, due, reviewers, status, documents, scores, approvals, comment, submitted_at"

    static func milestoneRow(_ row: [SQLValue]) throws(TrainingError) -> Milestone {
        Milestone(
            trainee: row[0].text ?? "", stage: MilestoneStage(rawValue: row[1].text ?? "") ?? .proposal, due: row[2].text ?? "",
            reviewers: try decode([String].self, row[3].text ?? "[]"), status: MilestoneStatus(rawValue: row[4].text ?? "") ?? .planned,
            documents: try decode([MilestoneDocument].self, row[5].text ?? "[]"),
            scores: try decode([ReviewerScore].self, row[6].text ?? "[]"),
            approvals: try decode([String].self, row[7].text ?? "[]"), comment: row[8].text ?? "",
            submittedAt: row[9].integer.map(date(milliseconds:)))
    }

    // MARK: - Project register

    public func registerProject(_ draft: ProjectDraft, by person: String, at now: Date = Date()) async throws(TrainingError)
        -> RegisteredProject
    {
        if let problem = draft.problem() { throw .invalid(problem) }
        let trainees = Array(Set(draft.trainees.compactMap { LogbookSubmission.filled($0) })).sorted()
        let rows = try await run(
            [
                SQLStep(
                    """
                    INSERT INTO training_projects (title, points, trainees, supervisor, year, registered_by, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id
                    """,
                    [
                        .text(draft.title.trimmingCharacters(in: .whitespacesAndNewlines)), .text("\(draft.points)"),
                        .text(try Self.json(trainees)), .text(draft.supervisor.trimmingCharacters(in: .whitespaces)),
                        .integer(Int64(draft.year)), .text(person), .integer(Int64(now.timeIntervalSince1970)),
                    ], guarded: true)
            ], what: "the project")
        guard let id = rows.first?.first?.first?.integer else { throw .database("no id for a project") }
        return try await projects().first { $0.id == id }
            ?? RegisteredProject(
                id: id, title: draft.title, points: draft.points, trainees: trainees, supervisor: draft.supervisor, year: draft.year,
                registeredBy: person)
    }

    /// The register, by id: with `trainee`, the projects they are in; with `supervisor`, those they supervise.
    public func projects(trainee: String? = nil, supervisor: String? = nil) async throws(TrainingError) -> [RegisteredProject] {
        try await query("SELECT id, title, points, trainees, supervisor, year, registered_by FROM training_projects ORDER BY id", []).map {
            row throws(TrainingError) in
            RegisteredProject(
                id: row[0].integer ?? 0, title: row[1].text ?? "", points: Double(row[2].text ?? "") ?? 0,
                trainees: try Self.decode([String].self, row[3].text ?? "[]"), supervisor: row[4].text ?? "",
                year: Int(row[5].integer ?? 0),
                registeredBy: row[6].text ?? "")
        }.filter { p in (trainee.map { p.trainees.contains($0) } ?? true) && (supervisor.map { p.supervisor == $0 } ?? true) }
    }
}
