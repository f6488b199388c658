import Foundation

/// An improvement action (质量改进): opened for an indicator that is off track, owned by a person, due on a date, and
/// closed only with a note saying what was done. The yearly self-assessment report collects them.
public struct ImprovementAction: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable { case open, closed }

    public var id: Int64
    public var year: Int
    public var institution: String?
    public var indicator: String
    public var description: String
    public var owner: String
    public var due: Date
    public var openedBy: String
    public var openedAt: Date
    public var state: State
    public var closingNote: String?
    public var closedBy: String?
    public var closedAt: Date?

    public init(
        id: Int64, year: Int, institution: String?, indicator: String, description: String, owner: String, due: Date,
        openedBy: String, openedAt: Date, state: State = .open, closingNote: String? = nil, closedBy: String? = nil,
        closedAt: Date? = nil
    ) {
        self.id = id
        self.year = year
        self.institution = institution
        self.indicator = indicator
        self.description = description
        self.owner = owner
        self.due = due
        self.openedBy = openedBy
        self.openedAt = openedAt
        self.state = state
        self.closingNote = closingNote
        self.closedBy = closedBy
        self.closedAt = closedAt
    }

    /// Overdue: still open after its due date.
    public func overdue(at now: Date) -> Bool { state == .open && now > due }

    /// The action closed by `person` with `note`; an empty note or a closed action is refused.
    public func closed(by person: String, note: String, at now: Date) throws(ProgrammeError) -> ImprovementAction {
        guard state == .open else { throw .invalidAction("action \(id) is already closed") }
        let note = note.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !note.isEmpty else { throw .invalidAction("closing action \(id) needs a note saying what was done") }
        var copy = self
        copy.state = .closed
        copy.closingNote = note
        copy.closedBy = person
        copy.closedAt = now
        return copy
    }
}

/// Which off-track indicators still need an action: one open action per indicator, year and institution is enough.
public enum ImprovementRules {
    public struct Need: Sendable, Equatable, Hashable {
        public var year: Int
        public var institution: String?
        public var indicator: String
    }

    public static func actionsNeeded(statuses: [Need: IndicatorStatus], actions: [ImprovementAction]) -> [Need] {
        let covered = Set(
            actions.filter { $0.state == .open }.map { Need(year: $0.year, institution: $0.institution, indicator: $0.indicator) })
        return statuses.filter { $0.value == .offTrack && !covered.contains($0.key) }.map(\.key)
            .sorted { ($0.year, $0.institution ?? "", $0.indicator) < ($1.year, $1.institution ?? "", $1.indicator) }
    }
}
