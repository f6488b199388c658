import Platform

/// What someone may do in training. Each action is decided by ``TrainingAccess/allows(_:_:owner:released:)`` alone.
public enum TrainingAction: String, Sendable, CaseIterable {
    /// Write, import or export questions of the bank (with their keys).
    case manageBank
    /// Build, change and list every exam.
    case buildExam
    /// Start or resume an attempt, and save answers in it (one's own only).
    case takeExam
    /// Read an attempt: its questions without the key, and its saved answers.
    case readAttempt
    /// Watch the live progress of every attempt at an exam.
    case proctor
    /// Award rubric points and write feedback.
    case grade
    /// Change a score after grading (audited).
    case regrade
    /// Release results, keys and feedback to the students.
    case release
    /// Read an attempt's scores, the key and the feedback.
    case readResult
    /// Read an exam's statistics (item analysis, grader agreement, similar answers) and export its gradebook.
    case analyse
    /// Write practice reports on published library cases and read one's own.
    case practise
    /// Set a case's key findings for practice, read every practice report and comment on it.
    case reviewPractice
    /// Read another trainee's logbook (one's own needs only `practise`).
    case readLogbooks
    /// Name a trainee's academic and practice supervisors.
    case assignSupervisors
    /// Log one's own placements and procedures (`owner`).
    case logEntries
    /// Read a trainee's hand-logged entries, competencies and progress: one's own, or as their named supervisor.
    case readEntries
    /// Countersign or return a trainee's entry: only their named practice supervisor.
    case countersign
    /// Sign off a trainee's competency level: their named academic or practice supervisor.
    case signOffCompetency
    /// Define the college's competencies and the programme's logbook targets.
    case defineCurriculum
    /// Create cohorts and enrol trainees in them.
    case manageCohorts
    /// Read cohorts with their gradebook and logbook, and export them.
    case readCohorts
    /// Record inspections, their follow-up actions, close and publish them.
    case inspect
    /// Read an inspection.
    case readInspection
    /// Plan a trainee's milestones (due days, reviewers): teachers and the trainee's named academic supervisor.
    case planMilestones
    /// Submit one's own milestone's documents.
    case submitMilestone
    /// Score a submitted milestone: its listed reviewers (supervisors or teachers).
    case scoreMilestone
    /// Approve or return a submitted milestone: the trainee's named supervisors.
    case approveMilestone
    /// Register projects in the project register.
    case registerProjects
    /// Design project-based assignments, form their groups, read every submission and evaluation, release scores.
    case setAssignments
    /// Submit one's own (or one's group's) work: a member of the unit.
    case submitAssignment
    /// Read a unit's submission: its members, its assigned peers, the practice supervisor of a member, teachers.
    case readSubmission
    /// Evaluate a unit's submission with the rubric: teachers, the practice supervisor of a member, assigned peers.
    case evaluateAssignment
    /// Read a unit's final score: teachers; its members once the teacher released the scores.
    case readAssignmentScore
}

/// How the person stands to what the action is on, beyond owning it.
public struct SupervisionRelation: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// The trainee's named academic supervisor.
    public static let academicSupervisor = SupervisionRelation(rawValue: 1 << 0)
    /// The trainee's named practice supervisor.
    public static let practiceSupervisor = SupervisionRelation(rawValue: 1 << 1)
    /// The person belongs to a partner institution (not the college): a partner's external supervisor.
    public static let external = SupervisionRelation(rawValue: 1 << 2)
    /// The inspected party: a person of the inspected institution, or the person answerable for the subject.
    public static let inspectedParty = SupervisionRelation(rawValue: 1 << 3)
    /// The inspection is published.
    public static let published = SupervisionRelation(rawValue: 1 << 4)
    /// A listed reviewer of the milestone.
    public static let reviewer = SupervisionRelation(rawValue: 1 << 5)
    /// A member of the assignment's unit (group or individual) in question.
    public static let member = SupervisionRelation(rawValue: 1 << 6)
    /// A peer the teacher assigned to evaluate the unit.
    public static let peerReviewer = SupervisionRelation(rawValue: 1 << 7)
}

/// Who may do what in training, as one pure function of the person's roles, whether the attempt is their own, and whether
/// the exam's results are released. Curators (the teachers) and administrators do everything with anyone's attempts;
/// supervisors proctor and read released results; a student takes exams and reads their own attempt, and their own
/// results and the key only once released. Nobody else does anything here.
public enum TrainingAccess {
    static let teachers: Set<Role> = [.curator, .admin]

    public static func allows(
        _ roles: Set<Role>, _ action: TrainingAction, owner: Bool = false, released: Bool = false, relation: SupervisionRelation = []
    ) -> Bool {
        if let decided = supervision(roles, action, owner: owner, released: released, relation: relation) { return decided }
        if !roles.isDisjoint(with: teachers) { return action != .takeExam || roles.contains(.student) }
        var allowed = false
        if roles.contains(.supervisor) {
            switch action {
            case .proctor, .readLogbooks: allowed = true
            case .readResult: allowed = allowed || released
            default: break
            }
        }
        if roles.contains(.student) {
            switch action {
            case .takeExam, .readAttempt: allowed = allowed || owner
            case .readResult: allowed = allowed || (owner && released)
            case .practise: allowed = true
            default: break
            }
        }
        return allowed
    }

    /// The supervision actions (nil for the others). Teachers (curators, administrators) run the curriculum, cohorts
    /// and assignments; only a named supervisor countersigns or signs off; inspections are the programme office's
    /// (administrators) and partners' supervisors'; a published inspection is readable by its inspected party.
    static func supervision(_ roles: Set<Role>, _ action: TrainingAction, owner: Bool, released: Bool, relation: SupervisionRelation)
        -> Bool?
    {
        let teacher = !roles.isDisjoint(with: teachers)
        let supervisor = roles.contains(.supervisor)
        let named = !relation.isDisjoint(with: [.academicSupervisor, .practiceSupervisor])
        let inspector = roles.contains(.admin) || (supervisor && relation.contains(.external))
        switch action {
        case .assignSupervisors, .defineCurriculum, .manageCohorts: return teacher
        case .logEntries: return roles.contains(.student) && owner
        case .readEntries: return teacher || (roles.contains(.student) && owner) || (supervisor && named)
        case .countersign: return supervisor && relation.contains(.practiceSupervisor)
        case .signOffCompetency: return supervisor && named
        case .readCohorts: return teacher || supervisor
        case .inspect: return inspector
        case .readInspection: return inspector || relation.isSuperset(of: [.published, .inspectedParty])
        case .planMilestones: return teacher || (supervisor && relation.contains(.academicSupervisor))
        case .submitMilestone: return roles.contains(.student) && owner
        case .scoreMilestone: return relation.contains(.reviewer) && (supervisor || teacher)
        case .approveMilestone: return supervisor && named
        case .registerProjects: return teacher || supervisor
        case .setAssignments: return teacher
        case .submitAssignment: return roles.contains(.student) && relation.contains(.member)
        case .readSubmission, .evaluateAssignment:
            let peer = relation.contains(.peerReviewer) && !relation.contains(.member)
            let member = action == .readSubmission && relation.contains(.member)
            return teacher || (supervisor && relation.contains(.practiceSupervisor)) || (roles.contains(.student) && (peer || member))
        case .readAssignmentScore: return teacher || (roles.contains(.student) && relation.contains(.member) && released)
        default: return nil
        }
    }
}
