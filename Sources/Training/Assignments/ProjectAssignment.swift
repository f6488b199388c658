import Foundation

/// Who evaluates a project-based assignment's submission.
public enum EvaluatorKind: String, Sendable, Equatable, Codable, CaseIterable {
    /// A teacher (curator or administrator).
    case teacher
    /// The practice supervisor (from a partner) of one of the submission's authors.
    case supervisor
    /// A student of another group (or, individually, another student) whom the teacher assigned.
    case peer
}

/// Whether students work alone or in the groups the teacher formed.
public enum AssignmentMode: String, Sendable, Equatable, Codable, CaseIterable {
    case individual
    case group
}

/// A material of the task: a title and a link (a document, a protocol, a web page).
public struct AssignmentMaterial: Sendable, Equatable, Codable {
    public var title: String
    public var link: String

    public init(title: String, link: String) {
        self.title = title
        self.link = link
    }
}

/// The weight of each evaluator kind in the final score, in percent (they add up to 100).
public struct EvaluatorWeights: Sendable, Equatable, Codable {
    public var teacher: Double
    public var supervisor: Double
    public var peer: Double

    public init(teacher: Double, supervisor: Double, peer: Double) {
        self.teacher = teacher
        self.supervisor = supervisor
        self.peer = peer
    }

    public func weight(_ kind: EvaluatorKind) -> Double {
        switch kind {
        case .teacher: teacher
        case .supervisor: supervisor
        case .peer: peer
        }
    }
}

/// What submits one piece of work: a group (or, in individual mode, one student), numbered from 1, with the students
/// of other groups the teacher assigned to evaluate it.
public struct AssignmentUnit: Sendable, Equatable, Codable {
    public var number: Int
    public var name: String
    public var members: [String]
    public var peers: [String]

    public init(number: Int, name: String, members: [String], peers: [String]) {
        self.number = number
        self.name = name
        self.members = members
        self.peers = peers
    }

    enum CodingKeys: String, CodingKey { case number, name, members, peers }

    /// `number` may be left out (the store numbers units in order); `peers` too.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        number = try c.decodeIfPresent(Int.self, forKey: .number) ?? 0
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
        members = try c.decode([String].self, forKey: .members)
        peers = try c.decodeIfPresent([String].self, forKey: .peers) ?? []
    }
}

/// A project-based assignment as the teacher designs it: the task built on a typical piece of work, its library cases
/// and materials, the rubric, who works on it (alone or in groups), how the evaluator kinds are weighted, and the due
/// day (`yyyy-MM-dd`, the alliance's calendar).
public struct AssignmentDraft: Sendable, Equatable, Codable {
    public var title: String
    public var description: String
    public var caseIDs: [Int64]
    public var materials: [AssignmentMaterial]
    public var rubric: [RubricCriterion]
    public var mode: AssignmentMode
    /// The cohort the units were formed from, if any.
    public var cohort: Int64?
    public var units: [AssignmentUnit]
    public var weights: EvaluatorWeights
    public var due: String

    public init(
        title: String, description: String, caseIDs: [Int64] = [], materials: [AssignmentMaterial] = [], rubric: [RubricCriterion],
        mode: AssignmentMode, cohort: Int64? = nil, units: [AssignmentUnit], weights: EvaluatorWeights, due: String
    ) {
        self.title = title
        self.description = description
        self.caseIDs = caseIDs
        self.materials = materials
        self.rubric = rubric
        self.mode = mode
        self.cohort = cohort
        self.units = units
        self.weights = weights
        self.due = due
    }

    enum CodingKeys: String, CodingKey { case title, description, caseIDs, materials, rubric, mode, cohort, units, weights, due }

    /// Cases, materials, the cohort and the units may be left out (units then come from the cohort).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        title = try c.decode(String.self, forKey: .title)
        description = try c.decode(String.self, forKey: .description)
        caseIDs = try c.decodeIfPresent([Int64].self, forKey: .caseIDs) ?? []
        materials = try c.decodeIfPresent([AssignmentMaterial].self, forKey: .materials) ?? []
        rubric = try c.decode([RubricCriterion].self, forKey: .rubric)
        mode = try c.decode(AssignmentMode.self, forKey: .mode)
        cohort = try c.decodeIfPresent(Int64.self, forKey: .cohort)
        units = try c.decodeIfPresent([AssignmentUnit].self, forKey: .units) ?? []
        weights = try c.decode(EvaluatorWeights.self, forKey: .weights)
        due = try c.decode(String.self, forKey: .due)
    }

    /// The draft with its text trimmed and its units numbered 1, 2, … in order.
    public func normalised() -> AssignmentDraft {
        var copy = self
        func trim(_ s: String) -> String { s.trimmingCharacters(in: .whitespacesAndNewlines) }
        copy.title = trim(title)
        copy.description = trim(description)
        copy.due = trim(due)
        copy.rubric = rubric.map { RubricCriterion(id: trim($0.id), text: trim($0.text), points: $0.points) }
        copy.materials = materials.map { AssignmentMaterial(title: trim($0.title), link: trim($0.link)) }
        copy.units = units.enumerated().map { n, unit in
            let members = unit.members.map(trim).filter { !$0.isEmpty }
            let name = trim(unit.name).isEmpty ? members.joined(separator: ", ") : trim(unit.name)
            return AssignmentUnit(number: n + 1, name: name, members: members, peers: unit.peers.map(trim).filter { !$0.isEmpty })
        }
        return copy
    }

    /// Why the (normalised) draft cannot be saved, or nil.
    public func problem() -> String? {
        guard !title.isEmpty, title.count <= 300 else { return "an assignment has a title (at most 300 characters)" }
        guard !description.isEmpty, description.count <= 20_000 else { return "an assignment has a task description" }
        guard caseIDs.count <= 50, materials.count <= 50 else { return "at most 50 cases and 50 materials" }
        for m in materials {
            guard !m.title.isEmpty, m.title.count <= 300, m.link.count <= 2000 else { return "a material has a title and a short link" }
            let lower = m.link.lowercased()
            guard lower.hasPrefix("https://") || lower.hasPrefix("http://") || lower.hasPrefix("/") else {
                return "a material's link starts with https://, http:// or /"
            }
        }
        guard !rubric.isEmpty, rubric.count <= 30 else { return "a rubric has 1 to 30 criteria" }
        for c in rubric {
            guard !c.id.isEmpty, !c.text.isEmpty, c.points.isFinite, c.points > 0, c.points <= 1000 else {
                return "a criterion has an id, a text and more than 0 (at most 1000) points"
            }
        }
        guard Set(rubric.map(\.id)).count == rubric.count else { return "the rubric's criteria have different ids" }
        let w = [weights.teacher, weights.supervisor, weights.peer]
        guard w.allSatisfy({ $0.isFinite && $0 >= 0 }), abs(w.reduce(0, +) - 100) < 1e-9 else {
            return "the weights of teacher, supervisor and peers are at least 0 and add up to 100 %"
        }
        guard CalendarDay.valid(due) else { return "the due date is not a day (yyyy-MM-dd)" }
        guard !units.isEmpty, units.count <= 500 else { return "an assignment has 1 to 500 students or groups" }
        var seen: Set<String> = []
        for unit in units {
            guard !unit.members.isEmpty, unit.members.count <= 50 else { return "\(unit.name): a group has 1 to 50 members" }
            if mode == .individual && unit.members.count != 1 { return "\(unit.name): individual work has one student" }
            for member in unit.members {
                guard seen.insert(member).inserted else { return "\(member) is in two groups" }
            }
            if let own = unit.peers.first(where: { unit.members.contains($0) }) {
                return "\(own) cannot evaluate their own group's work"
            }
        }
        if weights.peer > 0 && units.contains(where: { $0.peers.isEmpty }) {
            return "peers weigh in the score: every group needs peers to evaluate it"
        }
        return nil
    }
}

/// A stored assignment.
public struct ProjectAssignment: Sendable, Equatable, Codable {
    public var id: Int64
    public var draft: AssignmentDraft
    public var createdBy: String
    public var createdAt: Date
    public var releasedAt: Date?

    public var released: Bool { releasedAt != nil }

    public func unit(_ number: Int) -> AssignmentUnit? { draft.units.first { $0.number == number } }
    /// The unit `person` belongs to.
    public func unit(of person: String) -> AssignmentUnit? { draft.units.first { $0.members.contains(person) } }
    /// The units `person` was assigned to evaluate as a peer.
    public func peerUnits(of person: String) -> [AssignmentUnit] {
        draft.units.filter { $0.peers.contains(person) && !$0.members.contains(person) }
    }
    public var maximum: Double { draft.rubric.map(\.points).reduce(0, +) }
}

/// A unit's submitted work (a new submission replaces the earlier one until evaluations start).
public struct AssignmentSubmission: Sendable, Equatable, Codable {
    public var unit: Int
    public var text: String
    public var submittedBy: String
    public var submittedAt: Date
}

/// One evaluator's marks of one unit's work, per criterion of the rubric (an evaluator's new marks replace theirs).
public struct AssignmentEvaluation: Sendable, Equatable, Codable {
    public var unit: Int
    public var evaluator: String
    public var kind: EvaluatorKind
    public var marks: [String: Double]
    public var comment: String
    public var at: Date

    public var total: Double { marks.values.reduce(0, +) }
}

/// A unit's score: the mean total of each evaluator kind, and the final score as the weighted mean of those means.
public struct AssignmentScore: Sendable, Equatable, Codable {
    public struct KindScore: Sendable, Equatable, Codable {
        public var kind: EvaluatorKind
        public var weight: Double
        public var evaluations: Int
        /// The mean of this kind's evaluators' totals, or nil before any.
        public var mean: Double?
    }
    public var unit: Int
    public var maximum: Double
    public var kinds: [KindScore]
    /// Σ weightₖ · meanₖ / Σ weightₖ over the kinds with a weight and at least one evaluation; nil before any.
    public var final: Double?
    /// The final score as a percentage of the rubric's maximum.
    public var percent: Double?
    /// Kinds that carry a weight and have not evaluated yet (the final score then rests on the others).
    public var pending: [EvaluatorKind]
}

/// The arithmetic and the checks of evaluating assignments, free of storage and HTTP.
public enum AssignmentScoring {
    /// Checks an evaluator's marks against the rubric: every criterion marked, from 0 to its points, no others.
    public static func problem(marks: [String: Double], rubric: [RubricCriterion]) -> String? {
        for c in rubric {
            guard let mark = marks[c.id] else { return "criterion \(c.id) has no mark" }
            guard mark.isFinite, mark >= 0, mark <= c.points else { return "criterion \(c.id) is marked 0 to \(c.points)" }
        }
        if let other = marks.keys.sorted().first(where: { key in !rubric.contains { $0.id == key } }) {
            return "the rubric has no criterion \(other)"
        }
        return nil
    }

    public static func score(unit: Int, rubric: [RubricCriterion], weights: EvaluatorWeights, evaluations: [AssignmentEvaluation])
        -> AssignmentScore
    {
        let mine = evaluations.filter { $0.unit == unit }
        var kinds: [AssignmentScore.KindScore] = []
        var weighted = 0.0
        var weightSum = 0.0
        var pending: [EvaluatorKind] = []
        for kind in EvaluatorKind.allCases {
            let totals = mine.filter { $0.kind == kind }.map(\.total)
            let mean = totals.isEmpty ? nil : totals.reduce(0, +) / Double(totals.count)
            let weight = weights.weight(kind)
            kinds.append(.init(kind: kind, weight: weight, evaluations: totals.count, mean: mean))
            guard weight > 0 else { continue }
            if let mean {
                weighted += weight * mean
                weightSum += weight
            } else {
                pending.append(kind)
            }
        }
        let maximum = rubric.map(\.points).reduce(0, +)
        let final = weightSum > 0 ? weighted / weightSum : nil
        return AssignmentScore(
            unit: unit, maximum: maximum, kinds: kinds, final: final, percent: final.map { maximum > 0 ? $0 / maximum * 100 : 0 },
            pending: pending)
    }

    /// The kind `person` evaluates `unit` as, or nil when they may not: teachers as teachers; a supervisor who is the
    /// practice supervisor of one of its members as the supervisor; an assigned peer (never a member) as a peer.
    public static func evaluatorKind(
        person: String, teacher: Bool, supervisor: Bool, practiceSupervisorOfMember: Bool, student: Bool, unit: AssignmentUnit
    ) -> EvaluatorKind? {
        if teacher { return .teacher }
        if supervisor && practiceSupervisorOfMember { return .supervisor }
        if student && unit.peers.contains(person) && !unit.members.contains(person) { return .peer }
        return nil
    }

    /// Individual units for the students of a cohort (in the order given), each evaluated by the next student, the last
    /// by the first (no peers for a single student).
    public static func individualUnits(_ students: [String]) -> [AssignmentUnit] {
        students.enumerated().map { n, s in
            let peer = students.count > 1 ? [students[(n + 1) % students.count]] : []
            return AssignmentUnit(number: n + 1, name: s, members: [s], peers: peer)
        }
    }
}
