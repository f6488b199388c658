import Archive
import Foundation
import Platform

extension TrainingStore {
    // MARK: - Supervisors

    /// Names a trainee's academic and practice supervisors (replacing the earlier assignment).
    public func assignSupervisors(_ assignment: SupervisorAssignment, by teacher: String, at now: Date = Date())
        async throws(TrainingError) -> SupervisorAssignment
    {
        let trainee = assignment.trainee.trimmingCharacters(in: .whitespaces)
        guard !trainee.isEmpty else { throw .invalid("the trainee is missing") }
        let academic = LogbookSubmission.filled(assignment.academicSupervisor)
        let practice = LogbookSubmission.filled(assignment.practiceSupervisor)
        let partner = LogbookSubmission.filled(assignment.partner)
        if practice != nil && partner == nil { throw .invalid("a practice supervisor comes from a partner institution") }
        if practice == trainee || academic == trainee { throw .invalid("a trainee does not supervise themselves") }
        _ = try await run(
            [
                SQLStep("DELETE FROM training_supervisors WHERE trainee = ?", [.text(trainee)]),
                SQLStep(
                    "INSERT INTO training_supervisors (trainee, academic, practice, partner, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        .text(trainee), academic.map { .text($0) } ?? .null, practice.map { .text($0) } ?? .null,
                        partner.map { .text($0) } ?? .null, .text(teacher), .integer(Int64(now.timeIntervalSince1970)),
                    ]),
            ], what: "the supervisors of \(trainee)")
        return try await supervisors(of: trainee)
    }

    /// The trainee's supervisors (none named when no assignment was made).
    public func supervisors(of trainee: String) async throws(TrainingError) -> SupervisorAssignment {
        guard
            let row = try await query(
                "SELECT \(Self.assignmentColumns) FROM training_supervisors WHERE trainee = ?", [.text(trainee)]
            ).first
        else { return SupervisorAssignment(trainee: trainee, academicSupervisor: nil, practiceSupervisor: nil, partner: nil) }
        return Self.assignmentRow(row)
    }

    /// Every assignment, by trainee; with `supervisor`, only the trainees they supervise (academic or practice).
    public func assignments(supervisor: String? = nil) async throws(TrainingError) -> [SupervisorAssignment] {
        var sql = "SELECT \(Self.assignmentColumns) FROM training_supervisors"
        var bindings: [SQLValue] = []
        if let supervisor {
            sql += " WHERE academic = ? OR practice = ?"
            bindings = [.text(supervisor), .text(supervisor)]
        }
        return try await query(sql + " ORDER BY trainee", bindings).map(Self.assignmentRow)
    }

    static let assignmentColumns = "trainee, academic, practice, partner, updated_by, updated_at"

    static func assignmentRow(_ row: [SQLValue]) -> SupervisorAssignment {
        SupervisorAssignment(
            trainee: row[0].text ?? "", academicSupervisor: row[1].text, practiceSupervisor: row[2].text, partner: row[3].text,
            updatedBy: row[4].text ?? "", updatedAt: Date(timeIntervalSince1970: Double(row[5].integer ?? 0)))
    }

    // MARK: - Hand-logged entries

    /// Logs a placement or procedure of `trainee`, waiting for the practice supervisor's countersignature. A procedure's
    /// placement must be one of the trainee's own placements.
    public func logEntry(_ submission: LogbookSubmission, trainee: String, at now: Date = Date()) async throws(TrainingError)
        -> LogbookEntry
    {
        if let problem = submission.problem() { throw .invalid(problem) }
        var cleaned = submission
        cleaned.partner = LogbookSubmission.filled(submission.partner)
        cleaned.department = LogbookSubmission.filled(submission.department)
        cleaned.modality = LogbookSubmission.filled(submission.modality)?.uppercased()
        cleaned.bodyRegion = LogbookSubmission.filled(submission.bodyRegion)
        cleaned.description = LogbookSubmission.filled(submission.description)
        if submission.kind == .placement {
            cleaned.modality = nil
            cleaned.bodyRegion = nil
            cleaned.role = nil
            cleaned.placement = nil
        } else {
            cleaned.endDate = nil
            if let placement = submission.placement {
                let owner = try? await entry(placement)
                guard let owner, owner.trainee == trainee, owner.submission.kind == .placement else {
                    throw .invalid("placement \(placement) is not one of \(trainee)'s placements")
                }
                cleaned.partner = owner.submission.partner
            }
        }
        let rows = try await run(
            [
                SQLStep(
                    """
                    INSERT INTO training_logbook_entries (trainee, kind, submission, partner, state, logged_at)
                    VALUES (?, ?, ?, ?, ?, ?) RETURNING id
                    """,
                    [
                        .text(trainee), .text(cleaned.kind.rawValue), .text(try Self.json(cleaned)),
                        cleaned.partner.map { .text($0) } ?? .null, .text(CountersignState.pending.rawValue),
                        .integer(Self.milliseconds(now)),
                    ], guarded: true)
            ], what: "the logbook entry")
        guard let id = rows.first?.first?.first?.integer else { throw .database("no id for a logbook entry") }
        return try await entry(id)
    }

    public func entry(_ id: Int64) async throws(TrainingError) -> LogbookEntry {
        guard let row = try await query("SELECT \(Self.entryColumns) FROM training_logbook_entries WHERE id = ?", [.integer(id)]).first
        else { throw .notFound("logbook entry \(id)") }
        return try Self.entryRow(row)
    }

    /// A trainee's entries (or everyone's), oldest first.
    public func entries(trainee: String? = nil) async throws(TrainingError) -> [LogbookEntry] {
        let filter = trainee == nil ? "" : " WHERE trainee = ?"
        return try await query(
            "SELECT \(Self.entryColumns) FROM training_logbook_entries\(filter) ORDER BY id", trainee.map { [SQLValue.text($0)] } ?? []
        ).map { row throws(TrainingError) in try Self.entryRow(row) }
    }

    /// The practice supervisor countersigns a pending entry (`accept`) or returns it with a comment. Only the trainee's
    /// named practice supervisor may; a decided entry stays as decided.
    public func review(entry id: Int64, by supervisor: String, accept: Bool, comment: String, at now: Date = Date())
        async throws(TrainingError) -> LogbookEntry
    {
        let current = try await entry(id)
        let assignment = try await supervisors(of: current.trainee)
        guard let practice = assignment.practiceSupervisor, practice == supervisor else {
            throw .notAllowed("only \(current.trainee)'s practice supervisor countersigns their logbook")
        }
        let note = comment.trimmingCharacters(in: .whitespacesAndNewlines)
        if !accept && note.isEmpty { throw .invalid("a returned entry needs a comment") }
        guard note.count <= 4000 else { throw .invalid("the comment is too long") }
        guard current.state == .pending else { throw .closed("logbook entry \(id) is already \(current.state.rawValue)") }
        _ = try await run(
            [
                SQLStep(
                    """
                    UPDATE training_logbook_entries SET state = ?, reviewer = ?, reviewed_at = ?, comment = ?
                    WHERE id = ? AND state = ? RETURNING id
                    """,
                    [
                        .text((accept ? CountersignState.countersigned : .returned).rawValue), .text(supervisor),
                        .integer(Self.milliseconds(now)), .text(note), .integer(id), .text(CountersignState.pending.rawValue),
                    ], guarded: true)
            ], what: "logbook entry \(id)")
        return try await entry(id)
    }

    static let entryColumns = "id, trainee, submission, state, reviewer, reviewed_at, comment, logged_at"

    static func entryRow(_ row: [SQLValue]) throws(TrainingError) -> LogbookEntry {
        LogbookEntry(
            id: row[0].integer ?? 0, trainee: row[1].text ?? "", submission: try decode(LogbookSubmission.self, row[2].text ?? ""),
            state: CountersignState(rawValue: row[3].text ?? "") ?? .pending, reviewer: row[4].text,
            reviewedAt: row[5].integer.map(date(milliseconds:)), comment: row[6].text ?? "",
            loggedAt: date(milliseconds: row[7].integer ?? 0))
    }

    // MARK: - Competencies

    /// Replaces the college's list of competencies (sign-offs of competencies no longer listed are kept but not shown).
    public func setCompetencies(_ list: [Competency]) async throws(TrainingError) {
        var seen: Set<String> = []
        for c in list {
            guard !c.id.isEmpty, c.id.count <= 64, !c.name.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw .invalid("a competency has an id and a name")
            }
            guard (1...10).contains(c.levels) else { throw .invalid("competency \(c.id) has 1 to 10 levels") }
            guard seen.insert(c.id).inserted else { throw .invalid("two competencies share the id \(c.id)") }
        }
        var steps = [SQLStep("DELETE FROM training_competencies", [])]
        for (n, c) in list.enumerated() {
            steps.append(
                SQLStep(
                    "INSERT INTO training_competencies (id, name, levels, position) VALUES (?, ?, ?, ?)",
                    [.text(c.id), .text(c.name), .integer(Int64(c.levels)), .integer(Int64(n))]))
        }
        _ = try await run(steps, what: "the competencies")
    }

    public func competencies() async throws(TrainingError) -> [Competency] {
        try await query("SELECT id, name, levels FROM training_competencies ORDER BY position", []).map {
            Competency(id: $0[0].text ?? "", name: $0[1].text ?? "", levels: Int($0[2].integer ?? 1))
        }
    }

    /// Records a supervisor's sign-off of the trainee's level in a listed competency. The caller has checked that the
    /// supervisor supervises the trainee.
    public func signOff(trainee: String, competency: String, level: Int, note: String, by supervisor: String, at now: Date = Date())
        async throws(TrainingError) -> CompetencySignOff
    {
        guard let c = try await competencies().first(where: { $0.id == competency }) else { throw .notFound("competency \(competency)") }
        guard (1...c.levels).contains(level) else { throw .invalid("competency \(competency) has levels 1 to \(c.levels)") }
        guard note.count <= 4000 else { throw .invalid("the note is too long") }
        _ = try await run(
            [
                SQLStep(
                    """
                    INSERT INTO training_competency_signoffs (trainee, competency, level, signed_by, signed_at, note)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .text(trainee), .text(competency), .integer(Int64(level)), .text(supervisor), .integer(Self.milliseconds(now)),
                        .text(note.trimmingCharacters(in: .whitespacesAndNewlines)),
                    ])
            ], what: "the sign-off")
        return CompetencySignOff(
            trainee: trainee, competency: competency, level: level, signedBy: supervisor,
            signedAt: Self.date(milliseconds: Self.milliseconds(now)),
            note: note.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The trainee's standing sign-off per competency (the newest of each).
    public func signOffs(trainee: String) async throws(TrainingError) -> [String: CompetencySignOff] {
        var out: [String: CompetencySignOff] = [:]
        for row in try await query(
            "SELECT trainee, competency, level, signed_by, signed_at, note FROM training_competency_signoffs WHERE trainee = ? ORDER BY id",
            [.text(trainee)])
        {
            let s = CompetencySignOff(
                trainee: row[0].text ?? "", competency: row[1].text ?? "", level: Int(row[2].integer ?? 0), signedBy: row[3].text ?? "",
                signedAt: Self.date(milliseconds: row[4].integer ?? 0), note: row[5].text ?? "")
            out[s.competency] = s
        }
        return out
    }

    // MARK: - Targets

    /// Replaces a programme's logbook targets.
    public func setTargets(programme: String, _ targets: [LogbookTarget]) async throws(TrainingError) {
        var seen: Set<String> = []
        var steps = [SQLStep("DELETE FROM training_logbook_targets WHERE programme = ?", [.text(programme)])]
        for t in targets {
            let value = t.value.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !value.isEmpty, value.count <= 100 else { throw .invalid("a target names its modality or body region") }
            guard t.count >= 1, t.count <= 100_000 else { throw .invalid("a target counts 1 or more") }
            guard seen.insert(t.dimension.rawValue + "/" + LogbookTarget.key(t.dimension, value)).inserted else {
                throw .invalid("two targets for \(t.dimension.rawValue) \(value)")
            }
            steps.append(
                SQLStep(
                    "INSERT INTO training_logbook_targets (programme, dimension, value, count) VALUES (?, ?, ?, ?)",
                    [.text(programme), .text(t.dimension.rawValue), .text(value), .integer(Int64(t.count))]))
        }
        _ = try await run(steps, what: "the targets")
    }

    public func targets(programme: String) async throws(TrainingError) -> [LogbookTarget] {
        try await query(
            "SELECT dimension, value, count FROM training_logbook_targets WHERE programme = ? ORDER BY dimension, value", [.text(programme)]
        ).compactMap { row in
            LogbookTarget.Dimension(rawValue: row[0].text ?? "").map {
                LogbookTarget(dimension: $0, value: row[1].text ?? "", count: Int(row[2].integer ?? 0))
            }
        }
    }

    /// The trainee's programme: that of the newest cohort they are enrolled in ("" when none).
    public func programme(of trainee: String) async throws(TrainingError) -> String {
        try await query(
            """
            SELECT c.programme FROM training_cohorts c JOIN training_cohort_members m ON m.cohort_id = c.id
            WHERE m.trainee = ? ORDER BY c.id DESC LIMIT 1
            """, [.text(trainee)]
        ).first?.first?.text ?? ""
    }

    /// The trainee's progress towards their programme's targets.
    public func progress(trainee: String) async throws(TrainingError) -> (programme: String, progress: [TargetProgress]) {
        let programme = try await programme(of: trainee)
        return (programme, LogbookProgress.against(try await targets(programme: programme), entries: try await entries(trainee: trainee)))
    }

    // MARK: - Cohorts

    public func createCohort(name: String, programme: String, by teacher: String, at now: Date = Date()) async throws(TrainingError)
        -> Cohort
    {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 200, programme.count <= 200 else { throw .invalid("a cohort has a name (up to 200 characters)") }
        let rows = try await run(
            [
                SQLStep(
                    "INSERT INTO training_cohorts (name, programme, created_by, created_at) VALUES (?, ?, ?, ?) RETURNING id",
                    [
                        .text(name), .text(programme.trimmingCharacters(in: .whitespacesAndNewlines)), .text(teacher),
                        .integer(Int64(now.timeIntervalSince1970)),
                    ], guarded: true)
            ], what: "the cohort")
        guard let id = rows.first?.first?.first?.integer else { throw .database("no id for a cohort") }
        return try await cohort(id)
    }

    public func cohort(_ id: Int64) async throws(TrainingError) -> Cohort {
        guard
            let row = try await query(
                "SELECT id, name, programme, created_by, created_at FROM training_cohorts WHERE id = ?", [.integer(id)]
            )
            .first
        else { throw .notFound("cohort \(id)") }
        let members = try await query("SELECT trainee FROM training_cohort_members WHERE cohort_id = ? ORDER BY trainee", [.integer(id)])
            .compactMap { $0[0].text }
        return Cohort(
            id: id, name: row[1].text ?? "", programme: row[2].text ?? "", createdBy: row[3].text ?? "",
            createdAt: Date(timeIntervalSince1970: Double(row[4].integer ?? 0)), members: members)
    }

    public func cohorts() async throws(TrainingError) -> [Cohort] {
        var out: [Cohort] = []
        for row in try await query("SELECT id FROM training_cohorts ORDER BY id", []) { out.append(try await cohort(row[0].integer ?? 0)) }
        return out
    }

    /// Enrols a trainee in the cohort (enrolling twice is the same as once).
    public func enrol(_ trainee: String, cohort id: Int64, by teacher: String, at now: Date = Date()) async throws(TrainingError) -> Cohort
    {
        let trainee = trainee.trimmingCharacters(in: .whitespaces)
        guard !trainee.isEmpty else { throw .invalid("the trainee is missing") }
        _ = try await cohort(id)
        _ = try await run(
            [
                SQLStep(
                    """
                    INSERT INTO training_cohort_members (cohort_id, trainee, enrolled_by, enrolled_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (cohort_id, trainee) DO NOTHING
                    """, [.integer(id), .text(trainee), .text(teacher), .integer(Int64(now.timeIntervalSince1970))])
            ], what: "cohort \(id)")
        return try await cohort(id)
    }

    public func withdraw(_ trainee: String, cohort id: Int64) async throws(TrainingError) -> Cohort {
        _ = try await run(
            [SQLStep("DELETE FROM training_cohort_members WHERE cohort_id = ? AND trainee = ?", [.integer(id), .text(trainee)])],
            what: "cohort \(id)")
        return try await cohort(id)
    }

    // MARK: - Inspections

    public func recordInspection(_ draft: InspectionDraft, by inspector: String, at now: Date = Date()) async throws(TrainingError)
        -> Inspection
    {
        if let problem = draft.problem() { throw .invalid(problem) }
        let rows = try await run(
            [
                SQLStep(
                    """
                    INSERT INTO training_inspections (inspector, institution, subject_kind, subject, party, unannounced, day, findings,
                        created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
                    """,
                    [
                        .text(inspector), .text(draft.institution.trimmingCharacters(in: .whitespaces)), .text(draft.subjectKind.rawValue),
                        .text(draft.subject.trimmingCharacters(in: .whitespacesAndNewlines)),
                        .text(LogbookSubmission.filled(draft.party) ?? ""), .integer(draft.unannounced ? 1 : 0), .text(draft.date),
                        .text(draft.findings.trimmingCharacters(in: .whitespacesAndNewlines)), .integer(Self.milliseconds(now)),
                    ], guarded: true)
            ], what: "the inspection")
        guard let id = rows.first?.first?.first?.integer else { throw .database("no id for an inspection") }
        return try await inspection(id)
    }

    /// Adds a follow-up action to an open inspection.
    public func addAction(inspection id: Int64, action: String, owner: String, due: String) async throws(TrainingError) -> Inspection {
        let text = action.trimmingCharacters(in: .whitespacesAndNewlines)
        let who = owner.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty, text.count <= 2000 else { throw .invalid("a follow-up action is described (up to 2,000 characters)") }
        guard !who.isEmpty, who.count <= 200 else { throw .invalid("a follow-up action has an owner") }
        guard CalendarDay.valid(due) else { throw .invalid("the due date is not a day (yyyy-MM-dd)") }
        let current = try await inspection(id)
        guard !current.closed else { throw .closed("inspection \(id) is closed") }
        _ = try await run(
            [
                SQLStep(
                    "INSERT INTO training_inspection_actions (inspection_id, action, owner, due) VALUES (?, ?, ?, ?)",
                    [.integer(id), .text(text), .text(who), .text(due)])
            ], what: "inspection \(id)")
        return try await inspection(id)
    }

    /// Closes the inspection with a note (closing twice keeps the first note).
    public func closeInspection(_ id: Int64, note: String, at now: Date = Date()) async throws(TrainingError) -> Inspection {
        let text = note.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty, text.count <= 4000 else { throw .invalid("an inspection is closed with a note") }
        _ = try await inspection(id)
        _ = try await query(
            "UPDATE training_inspections SET closed_at = ?, closing_note = ? WHERE id = ? AND closed_at IS NULL",
            [.integer(Self.milliseconds(now)), .text(text), .integer(id)])
        return try await inspection(id)
    }

    /// Publishes the inspection's results to the inspected party.
    public func publishInspection(_ id: Int64, at now: Date = Date()) async throws(TrainingError) -> Inspection {
        _ = try await inspection(id)
        _ = try await query(
            "UPDATE training_inspections SET published_at = ? WHERE id = ? AND published_at IS NULL",
            [.integer(Self.milliseconds(now)), .integer(id)])
        return try await inspection(id)
    }

    public func inspection(_ id: Int64) async throws(TrainingError) -> Inspection {
        guard let row = try await query("SELECT \(Self.inspectionColumns) FROM training_inspections WHERE id = ?", [.integer(id)]).first
        else {
            throw .notFound("inspection \(id)")
        }
        return try await withActions(Self.inspectionRow(row))
    }

    /// Every inspection, newest first.
    public func inspections() async throws(TrainingError) -> [Inspection] {
        var out: [Inspection] = []
        for row in try await query("SELECT \(Self.inspectionColumns) FROM training_inspections ORDER BY id DESC", []) {
            out.append(try await withActions(Self.inspectionRow(row)))
        }
        return out
    }

    private func withActions(_ inspection: Inspection) async throws(TrainingError) -> Inspection {
        var inspection = inspection
        inspection.actions = try await query(
            "SELECT id, action, owner, due FROM training_inspection_actions WHERE inspection_id = ? ORDER BY id", [.integer(inspection.id)]
        ).map { Inspection.Action(id: $0[0].integer ?? 0, action: $0[1].text ?? "", owner: $0[2].text ?? "", due: $0[3].text ?? "") }
        return inspection
    }

    static let inspectionColumns =
        "id, inspector, institution, subject_kind, subject, party, unannounced, day, findings, closed_at, closing_note, published_at, created_at"

    static func inspectionRow(_ row: [SQLValue]) -> Inspection {
        Inspection(
            id: row[0].integer ?? 0, inspector: row[1].text ?? "", institution: row[2].text ?? "",
            subjectKind: Inspection.Subject(rawValue: row[3].text ?? "") ?? .course, subject: row[4].text ?? "", party: row[5].text ?? "",
            unannounced: (row[6].integer ?? 0) != 0, date: row[7].text ?? "", findings: row[8].text ?? "", actions: [],
            closedAt: row[9].integer.map(date(milliseconds:)), closingNote: row[10].text ?? "",
            publishedAt: row[11].integer.map(date(milliseconds:)), createdAt: date(milliseconds: row[12].integer ?? 0))
    }

    // MARK: - Partners

    /// Per partner institution: inspections, trainees hosted (a countersigned placement there) and part-time teachers —
    /// for the programme's partner contribution table. `institutions` and `people` come from the identity store.
    public func partnerActivity(institutions: [Institution], people: [Person]) async throws(TrainingError) -> [PartnerActivity] {
        PartnerActivity.count(
            institutions: institutions, people: people, entries: try await entries(), inspections: try await inspections())
    }

    /// ``partnerActivity(institutions:people:)`` with the identity store's institutions and people.
    public func partnerActivity(identity: IdentityStore) async throws(TrainingError) -> [PartnerActivity] {
        do {
            return try await partnerActivity(institutions: try await identity.institutions(), people: try await identity.people())
        } catch let error as TrainingError {
            throw error
        } catch {
            throw .database("\(error)")
        }
    }
}
