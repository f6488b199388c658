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
}

/// Who may do what in training, as one pure function of the person's roles, whether the attempt is their own, and whether
/// the exam's results are released. Curators (the teachers) and administrators do everything with anyone's attempts;
/// supervisors proctor and read released results; a student takes exams and reads their own attempt, and their own
/// results and the key only once released. Nobody else does anything here.
public enum TrainingAccess {
    static let teachers: Set<Role> = [.curator, .admin]

    public static func allows(_ roles: Set<Role>, _ action: TrainingAction, owner: Bool = false, released: Bool = false) -> Bool {
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
}
