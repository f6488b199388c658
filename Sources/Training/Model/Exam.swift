import Foundation

/// How an exam is set: its questions (one or more equivalent forms), its window, time limit and attempts.
public struct ExamSettings: Sendable, Equatable, Codable {
    public var title: String
    public var instructions: String
    /// The forms: each a list of question ids. A student gets one form (by a stable hash of the exam and the username).
    public var forms: [[Int64]]
    /// Seconds from the start of an attempt; 0 for no limit (the window's end still applies).
    public var timeLimitSeconds: Int
    /// The opening window; nil ends are open.
    public var opensAt: Date?
    public var closesAt: Date?
    /// How many attempts a student may make (1 unless the teacher allows more).
    public var attemptsAllowed: Int
    /// Whether each attempt shows its questions in an order of its own.
    public var shuffle: Bool
    /// Who may take it (usernames); empty: every student.
    public var students: [String]

    public init(
        title: String, instructions: String = "", forms: [[Int64]], timeLimitSeconds: Int = 0, opensAt: Date? = nil,
        closesAt: Date? = nil, attemptsAllowed: Int = 1, shuffle: Bool = true, students: [String] = []
    ) {
        self.title = title
        self.instructions = instructions
        self.forms = forms
        self.timeLimitSeconds = timeLimitSeconds
        self.opensAt = opensAt
        self.closesAt = closesAt
        self.attemptsAllowed = attemptsAllowed
        self.shuffle = shuffle
        self.students = students
    }

    enum CodingKeys: String, CodingKey {
        case title, instructions, forms, timeLimitSeconds, opensAt, closesAt, attemptsAllowed, shuffle, students
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        title = try c.decode(String.self, forKey: .title)
        instructions = try c.decodeIfPresent(String.self, forKey: .instructions) ?? ""
        forms = try c.decodeIfPresent([[Int64]].self, forKey: .forms) ?? []
        timeLimitSeconds = try c.decodeIfPresent(Int.self, forKey: .timeLimitSeconds) ?? 0
        opensAt = try c.decodeIfPresent(Date.self, forKey: .opensAt)
        closesAt = try c.decodeIfPresent(Date.self, forKey: .closesAt)
        attemptsAllowed = try c.decodeIfPresent(Int.self, forKey: .attemptsAllowed) ?? 1
        shuffle = try c.decodeIfPresent(Bool.self, forKey: .shuffle) ?? true
        students = try c.decodeIfPresent([String].self, forKey: .students) ?? []
    }

    /// Why the settings cannot be used, or nil.
    public func problem() -> String? {
        if title.trimmingCharacters(in: .whitespaces).isEmpty { return "an exam needs a title" }
        if forms.isEmpty || forms.contains(where: \.isEmpty) { return "an exam needs at least one form with questions" }
        if forms.contains(where: { Set($0).count != $0.count }) { return "a form holds each question once" }
        if Set(forms.map(\.count)).count != 1 { return "equivalent forms have the same number of questions" }
        if timeLimitSeconds < 0 { return "the time limit is zero (none) or more seconds" }
        if attemptsAllowed < 1 { return "at least one attempt" }
        if let opensAt, let closesAt, closesAt <= opensAt { return "the exam closes after it opens" }
        return nil
    }

    /// The form a student gets.
    public func form(exam: Int64, student: String) -> Int {
        forms.count <= 1 ? 0 : Int(SplitMix64.seed("\(exam)/\(student)") % UInt64(forms.count))
    }

    /// When an attempt started at `start` ends: the time limit or the window's end, whichever comes first.
    public func deadline(start: Date) -> Date {
        var end = timeLimitSeconds > 0 ? start.addingTimeInterval(Double(timeLimitSeconds)) : Date.distantFuture
        if let closesAt { end = min(end, closesAt) }
        return end
    }

    /// The question order of an attempt: the form's order shuffled by a seed of the exam, the student and the attempt's
    /// number (the same attempt always gets the same order; another student or attempt, another).
    public func order(exam: Int64, student: String, number: Int) -> (form: Int, order: [Int64], seed: UInt64) {
        let form = form(exam: exam, student: student)
        let seed = SplitMix64.seed("\(exam)/\(student)/\(number)")
        guard shuffle else { return (form, forms[form], seed) }
        var generator = SplitMix64(seed: seed)
        return (form, forms[form].deterministicallyShuffled(using: &generator), seed)
    }
}

/// An exam as stored.
public struct Exam: Sendable, Equatable {
    public var id: Int64
    public var settings: ExamSettings
    public var createdBy: String
    public var createdAt: Date
    /// When the teacher released results, keys and feedback; nil while hidden.
    public var releasedAt: Date?
    public var revision: Int64

    public var released: Bool { releasedAt != nil }
}

/// One student's attempt at an exam.
public struct Attempt: Sendable, Equatable {
    public var id: Int64
    public var examID: Int64
    public var student: String
    /// 1 for the first attempt.
    public var number: Int
    public var form: Int
    /// The questions in the order this attempt shows them.
    public var order: [Int64]
    public var seed: UInt64
    public var startedAt: Date
    /// Computed on the server when the attempt starts; answers after it are refused.
    public var deadline: Date
    public var submittedAt: Date?
    /// The teacher's overall feedback (shown once released).
    public var feedback: String

    /// Submitted, or its time is over.
    public func finished(at now: Date) -> Bool { submittedAt != nil || now >= deadline }
}

/// An answer as saved: the last write of the attempt's question (by `sequence`, the client's counter).
public struct SavedAnswer: Sendable, Equatable {
    public var questionID: Int64
    public var answer: Answer
    public var sequence: Int64
    public var savedAt: Date
}

/// A grader's rubric grade of one report answer.
public struct RubricGrade: Sendable, Equatable {
    public var questionID: Int64
    public var grader: String
    /// Criterion id → points awarded.
    public var awards: [String: Double]
    public var comment: String
    public var gradedAt: Date
}

/// A teacher's changed score for one question of one attempt (a regrade; the audit trail records who, why and before).
public struct ScoreOverride: Sendable, Equatable {
    public var questionID: Int64
    public var points: Double
    public var reason: String
    public var by: String
    public var at: Date
}
