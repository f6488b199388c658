import Foundation

/// A yearly target an administrator sets for an indicator, for the whole alliance (institution nil) or for one
/// institution: the value to reach, the threshold below which (or above which, for a lower-is-better indicator) the
/// indicator is off track, and the person who owns it.
public struct ProgrammeTarget: Sendable, Equatable, Codable, Hashable {
    public var year: Int
    public var institution: String?
    public var indicator: String
    public var target: Double
    public var warning: Double
    public var owner: String

    public init(year: Int, institution: String?, indicator: String, target: Double, warning: Double, owner: String) {
        self.year = year
        self.institution = institution
        self.indicator = indicator
        self.target = target
        self.warning = warning
        self.owner = owner
    }

    /// Why a target cannot be kept as given, or nil when it can.
    public func problem(for definition: IndicatorDefinition) -> ProgrammeError? {
        guard target.isFinite, warning.isFinite, target >= 0, warning >= 0 else {
            return .invalidTarget("target and warning threshold must be finite and not negative")
        }
        switch definition.direction {
        case .higherIsBetter where warning > target:
            return .invalidTarget("the warning threshold of \(definition.key) must not exceed its target (more is better)")
        case .lowerIsBetter where warning < target:
            return .invalidTarget("the warning threshold of \(definition.key) must not be below its target (less is better)")
        default:
            return nil
        }
    }
}

/// Where an indicator stands against its target.
public enum IndicatorStatus: String, Sendable, Codable, CaseIterable {
    case onTrack = "on-track"
    case warning
    case offTrack = "off-track"
    /// No target is set for the indicator and period.
    case noTarget = "no-target"
    /// The figure is undefined so far (no data).
    case noData = "no-data"
}

/// Errors of the programme domain, each with what was wrong.
public enum ProgrammeError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidTarget(String)
    case invalidIndicator(String)
    case unknownIndicator(String)
    case invalidAction(String)
    case invalidFigure(String)
    case invalidCourse(String)
    case notEnrolled(String)
    case notFound(String)
    case conflict(String)
    case database(String)
    /// An uploaded course file is larger than the cap.
    case fileTooLarge(String)
    /// An uploaded course file is not of a type the module takes (read from its bytes).
    case unsupportedFile(String)
    /// Subtitles that are not WebVTT.
    case invalidSubtitles(String)

    public var description: String {
        switch self {
        case .invalidTarget(let why): "invalid target: \(why)"
        case .invalidIndicator(let why): "invalid indicator: \(why)"
        case .unknownIndicator(let key): "unknown indicator \(key)"
        case .invalidAction(let why): "invalid improvement action: \(why)"
        case .invalidFigure(let why): "invalid figure: \(why)"
        case .invalidCourse(let why): "invalid course: \(why)"
        case .notEnrolled(let why): "not enrolled: \(why)"
        case .notFound(let what): "\(what) not found"
        case .conflict(let what): "\(what) was changed by someone else; reload and try again"
        case .database(let why): "programme database: \(why)"
        case .fileTooLarge(let why): "file too large: \(why)"
        case .unsupportedFile(let why): "unsupported file: \(why)"
        case .invalidSubtitles(let why): "invalid subtitles: \(why)"
        }
    }
}

/// Status rules (quality diagnosis): a cumulative indicator is compared with the part of its yearly target that is
/// due by now (pro rata over the year), a level with the target itself.
public enum IndicatorEvaluation {
    public static func status(
        value: Double?, target: ProgrammeTarget?, definition: IndicatorDefinition, elapsedFraction: Double
    ) -> IndicatorStatus {
        guard let target else { return .noTarget }
        guard let value else { return .noData }
        let share = definition.accumulation == .cumulative ? min(max(elapsedFraction, 0), 1) : 1
        let due = target.target * share, threshold = target.warning * share
        switch definition.direction {
        case .higherIsBetter:
            if value >= due { return .onTrack }
            return value >= threshold ? .warning : .offTrack
        case .lowerIsBetter:
            if value <= due { return .onTrack }
            return value <= threshold ? .warning : .offTrack
        }
    }

    /// The direction of the last change between months that have a figure: +1 better, -1 worse, 0 the same or
    /// fewer than two figures.
    public static func trend(monthly: [Double?], definition: IndicatorDefinition, throughMonth: Int) -> Int {
        let figures = monthly.prefix(max(0, min(throughMonth, monthly.count))).compactMap { $0 }
        guard figures.count >= 2 else { return 0 }
        let change = figures[figures.count - 1] - figures[figures.count - 2]
        if change == 0 { return 0 }
        return (change > 0) == (definition.direction == .higherIsBetter) ? 1 : -1
    }
}
