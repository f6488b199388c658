import Foundation

/// The stages of a master's student's training plan, in order.
public enum MilestoneStage: String, Sendable, Equatable, Codable, CaseIterable {
    case proposal
    case midterm = "mid-term"
    case thesis
    case defence
}

/// Where a milestone stands.
public enum MilestoneStatus: String, Sendable, Equatable, Codable, CaseIterable {
    /// Planned: due on a day, with its reviewers; nothing submitted yet.
    case planned
    /// Documents submitted; reviewers score, supervisors approve or return.
    case submitted
    /// Every named supervisor approved.
    case approved
    /// A supervisor returned it with a comment; the trainee submits again.
    case returned
}

/// One document of a milestone (a title and where it is: a file name or a link).
public struct MilestoneDocument: Sendable, Equatable, Codable {
    public var title: String
    public var reference: String

    public init(title: String, reference: String) {
        self.title = title
        self.reference = reference
    }
}

/// A reviewer's score of a submitted milestone, 0–100 (a reviewer's new score replaces their earlier one).
public struct ReviewerScore: Sendable, Equatable, Codable {
    public var reviewer: String
    public var score: Double
    public var comment: String
    public var at: Date
}

/// One milestone of a trainee's training plan.
public struct Milestone: Sendable, Equatable, Codable {
    public var trainee: String
    public var stage: MilestoneStage
    /// `yyyy-MM-dd`.
    public var due: String
    /// The reviewers (or committee members) who score it.
    public var reviewers: [String]
    public var status: MilestoneStatus
    public var documents: [MilestoneDocument]
    public var scores: [ReviewerScore]
    /// The named supervisors who approved the current submission.
    public var approvals: [String]
    public var comment: String
    public var submittedAt: Date?

    /// The mean of the reviewers' scores, or nil before any.
    public var meanScore: Double? { scores.isEmpty ? nil : scores.map(\.score).reduce(0, +) / Double(scores.count) }
}

/// A project of the register: small projects count towards a trainee's and a supervisor's record as large ones do, by
/// their points.
public struct RegisteredProject: Sendable, Equatable, Codable {
    public var id: Int64
    public var title: String
    public var points: Double
    public var trainees: [String]
    public var supervisor: String
    public var year: Int
    public var registeredBy: String
}

/// What a project is registered with.
public struct ProjectDraft: Sendable, Equatable, Codable {
    public var title: String
    public var points: Double
    public var trainees: [String]
    public var supervisor: String
    public var year: Int

    public init(title: String, points: Double, trainees: [String], supervisor: String, year: Int) {
        self.title = title
        self.points = points
        self.trainees = trainees
        self.supervisor = supervisor
        self.year = year
    }

    public func problem() -> String? {
        guard LogbookSubmission.filled(title) != nil, title.count <= 300 else { return "a project has a title" }
        guard points.isFinite, points > 0, points <= 1000 else { return "a project's points are more than 0 and at most 1000" }
        guard !trainees.isEmpty, trainees.allSatisfy({ LogbookSubmission.filled($0) != nil }) else { return "a project has trainees" }
        guard LogbookSubmission.filled(supervisor) != nil else { return "a project has a supervisor" }
        guard (1900...2999).contains(year) else { return "the year is not a year" }
        return nil
    }
}

/// The register's totals.
public enum ProjectRegister {
    /// Points per trainee (each project's points for each of its trainees) and per supervisor.
    public static func totals(_ projects: [RegisteredProject]) -> (trainees: [String: Double], supervisors: [String: Double]) {
        var trainees: [String: Double] = [:]
        var supervisors: [String: Double] = [:]
        for p in projects {
            for t in Set(p.trainees) { trainees[t, default: 0] += p.points }
            supervisors[p.supervisor, default: 0] += p.points
        }
        return (trainees, supervisors)
    }
}
