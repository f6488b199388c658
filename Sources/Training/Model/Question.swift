import Foundation

/// The kinds of question the bank holds (issue 18).
public enum QuestionKind: String, Sendable, Codable, CaseIterable {
    /// One choice is right.
    case singleChoice = "single-choice"
    /// Any number of choices are right.
    case multipleChoice = "multiple-choice"
    /// "Click on the finding": a region on one slice or over a range of slices, scored by hit.
    case hotspot
    /// A free report, graded against a rubric by one or more graders.
    case report
    /// Rate an image's quality per criterion, against a reference rating.
    case imageQuality = "image-quality"
    /// Pair each left item with a right item.
    case matching
    /// Put items in order.
    case ordering
    /// A technologist's positioning task: choose the projection, the central ray and the exposure factors, each checked
    /// against the reference (a choice exactly, a number within its tolerance).
    case positioning

    /// Scored by the machine as soon as the answer is in (every kind but the report).
    public var isObjective: Bool { self != .report }
}

/// An image of a teaching case that a question shows (the viewer opens the series; `frame` is 1-based).
public struct QuestionImage: Sendable, Equatable, Codable {
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    public var sopInstanceUID: String
    public var frame: Int?

    public init(studyInstanceUID: String, seriesInstanceUID: String, sopInstanceUID: String = "", frame: Int? = nil) {
        self.studyInstanceUID = studyInstanceUID
        self.seriesInstanceUID = seriesInstanceUID
        self.sopInstanceUID = sopInstanceUID
        self.frame = frame
    }

    enum CodingKeys: String, CodingKey { case studyInstanceUID, seriesInstanceUID, sopInstanceUID, frame }

    /// `sopInstanceUID` and `frame` may be left out (the question shows the series).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        studyInstanceUID = try c.decode(String.self, forKey: .studyInstanceUID)
        seriesInstanceUID = try c.decode(String.self, forKey: .seriesInstanceUID)
        sopInstanceUID = try c.decodeIfPresent(String.self, forKey: .sopInstanceUID) ?? ""
        frame = try c.decodeIfPresent(Int.self, forKey: .frame)
    }
}

/// One choice of a single- or multiple-choice question.
public struct Choice: Sendable, Equatable, Codable {
    /// Stable within the question ("a", "b"…): answers name choices by it.
    public var id: String
    public var text: String
    public var correct: Bool
    /// Shown to the student with the results once released.
    public var feedback: String

    public init(id: String, text: String, correct: Bool, feedback: String = "") {
        self.id = id
        self.text = text
        self.correct = correct
        self.feedback = feedback
    }

    enum CodingKeys: String, CodingKey { case id, text, correct, feedback }

    /// `correct` (false) and `feedback` may be left out.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        text = try c.decode(String.self, forKey: .text)
        correct = try c.decodeIfPresent(Bool.self, forKey: .correct) ?? false
        feedback = try c.decodeIfPresent(String.self, forKey: .feedback) ?? ""
    }
}

/// The region of a hotspot question: a rectangle or an ellipse in image pixel coordinates (column `x`, row `y` of the
/// top-left corner, `width`, `height`), on the slices `firstSlice...lastSlice` (1-based positions in the series as the
/// viewer orders it; one slice when both are equal).
public struct HotspotRegion: Sendable, Equatable, Codable {
    public enum Shape: String, Sendable, Codable { case rectangle, ellipse }
    public var shape: Shape
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double
    public var firstSlice: Int
    public var lastSlice: Int

    public init(shape: Shape, x: Double, y: Double, width: Double, height: Double, firstSlice: Int, lastSlice: Int) {
        self.shape = shape
        self.x = x
        self.y = y
        self.width = width
        self.height = height
        self.firstSlice = firstSlice
        self.lastSlice = lastSlice
    }

    /// Whether a click on `slice` at (`x`, `y`) lies inside the region (edges included).
    public func contains(slice: Int, x px: Double, y py: Double) -> Bool {
        guard (firstSlice...lastSlice).contains(slice) else { return false }
        switch shape {
        case .rectangle:
            return px >= x && px <= x + width && py >= y && py <= y + height
        case .ellipse:
            let a = width / 2
            let b = height / 2
            guard a > 0, b > 0 else { return false }
            let dx = (px - (x + a)) / a
            let dy = (py - (y + b)) / b
            return dx * dx + dy * dy <= 1
        }
    }
}

/// One criterion of a report question's rubric: what earns how many points at most.
public struct RubricCriterion: Sendable, Equatable, Codable {
    public var id: String
    public var text: String
    public var points: Double

    public init(id: String, text: String, points: Double) {
        self.id = id
        self.text = text
        self.points = points
    }
}

/// One criterion of an image-quality rating (positioning, collimation, exposure…) with the reference rating on a scale
/// of 1 to `scale`.
public struct QualityCriterion: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var reference: Int
    public var scale: Int

    public init(id: String, name: String, reference: Int, scale: Int = 5) {
        self.id = id
        self.name = name
        self.reference = reference
        self.scale = scale
    }

    enum CodingKeys: String, CodingKey { case id, name, reference, scale }

    /// `scale` may be left out (5).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        name = try c.decode(String.self, forKey: .name)
        reference = try c.decode(Int.self, forKey: .reference)
        scale = try c.decodeIfPresent(Int.self, forKey: .scale) ?? 5
    }
}

/// One setting of a positioning task. With `options`, the student chooses one and `reference` is the right option;
/// without, the student gives a number and it counts when it lies within `tolerance` of `reference` (same `unit`).
public struct PositioningSetting: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var options: [String]
    public var reference: String
    public var unit: String
    public var tolerance: Double

    public init(id: String, name: String, options: [String] = [], reference: String, unit: String = "", tolerance: Double = 0) {
        self.id = id
        self.name = name
        self.options = options
        self.reference = reference
        self.unit = unit
        self.tolerance = tolerance
    }

    enum CodingKeys: String, CodingKey { case id, name, options, reference, unit, tolerance }

    /// `options`, `unit` and `tolerance` may be left out; a numeric `reference` may be given as a JSON number.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        name = try c.decode(String.self, forKey: .name)
        options = try c.decodeIfPresent([String].self, forKey: .options) ?? []
        if let number = try? c.decode(Double.self, forKey: .reference) {
            reference = PositioningSetting.text(number)
        } else {
            reference = try c.decode(String.self, forKey: .reference)
        }
        unit = try c.decodeIfPresent(String.self, forKey: .unit) ?? ""
        tolerance = try c.decodeIfPresent(Double.self, forKey: .tolerance) ?? 0
    }

    public var isNumeric: Bool { options.isEmpty }

    /// A number as people write it: no trailing ".0".
    static func text(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }

    /// A number a student typed: digits with a point or a comma as the decimal mark, spaces around ignored.
    static func number(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: ".")
        guard !trimmed.isEmpty, trimmed.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "." || $0 == "-" || $0 == "+") }),
            let value = Double(trimmed), value.isFinite
        else { return nil }
        return value
    }

    /// Whether `given` is right.
    public func accepts(_ given: String?) -> Bool {
        guard let given else { return false }
        if !isNumeric { return given == reference }
        guard let value = Self.number(given), let target = Self.number(reference) else { return false }
        return abs(value - target) <= tolerance + 1e-9 * max(1, abs(target))
    }

    /// Why the setting cannot be used, or nil.
    func problem() -> String? {
        if name.trimmingCharacters(in: .whitespaces).isEmpty { return "each positioning setting needs a name" }
        if isNumeric {
            if Self.number(reference) == nil { return "the setting \(name) needs a numeric reference or options to choose from" }
            if tolerance < 0 || !tolerance.isFinite { return "the tolerance of \(name) is zero or more" }
        } else {
            if options.count < 2 { return "the setting \(name) needs at least two options" }
            if Set(options).count != options.count { return "the setting \(name) lists an option twice" }
            if !options.contains(reference) { return "the reference of \(name) is one of its options" }
        }
        return nil
    }
}

/// A pair of a matching question: `left` is shown, `right` is to be matched to it.
public struct MatchPair: Sendable, Equatable, Codable {
    public var id: String
    public var left: String
    public var right: String

    public init(id: String, left: String, right: String) {
        self.id = id
        self.left = left
        self.right = right
    }
}

/// One item of an ordering question.
public struct OrderItem: Sendable, Equatable, Codable {
    public var id: String
    public var text: String

    public init(id: String, text: String) {
        self.id = id
        self.text = text
    }
}

/// What a question says, shows and expects: the part the bank's JSON format carries (docs/api.md).
public struct QuestionContent: Sendable, Equatable, Codable {
    public var kind: QuestionKind
    /// What is asked.
    public var stem: String
    /// The teaching case the question is about (its images, history); nil for a question without a case.
    public var caseID: Int64?
    public var images: [QuestionImage]
    /// Single and multiple choice.
    public var choices: [Choice]
    /// Hotspot.
    public var region: HotspotRegion?
    /// Report: the rubric; the most a grader may award is the sum of the criteria's points.
    public var rubric: [RubricCriterion]
    /// Image quality.
    public var criteria: [QualityCriterion]
    /// Matching.
    public var pairs: [MatchPair]
    /// Ordering, in the right order.
    public var items: [OrderItem]
    /// Positioning.
    public var settings: [PositioningSetting]
    public var tags: [String]
    /// 1 (easy) to 5 (hard).
    public var difficulty: Int
    /// The most the question scores (for a report, the rubric's sum when zero).
    public var points: Double
    /// Shown with the results once released.
    public var feedback: String

    public init(
        kind: QuestionKind, stem: String, caseID: Int64? = nil, images: [QuestionImage] = [], choices: [Choice] = [],
        region: HotspotRegion? = nil, rubric: [RubricCriterion] = [], criteria: [QualityCriterion] = [], pairs: [MatchPair] = [],
        items: [OrderItem] = [], settings: [PositioningSetting] = [], tags: [String] = [], difficulty: Int = 3, points: Double = 1,
        feedback: String = ""
    ) {
        self.kind = kind
        self.stem = stem
        self.caseID = caseID
        self.images = images
        self.choices = choices
        self.region = region
        self.rubric = rubric
        self.criteria = criteria
        self.pairs = pairs
        self.items = items
        self.settings = settings
        self.tags = tags
        self.difficulty = difficulty
        self.points = points
        self.feedback = feedback
    }

    enum CodingKeys: String, CodingKey {
        case kind, stem, caseID, images, choices, region, rubric, criteria, pairs, items, settings, tags, difficulty, points, feedback
    }

    /// Every field but `kind` and `stem` may be left out of the JSON.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decode(QuestionKind.self, forKey: .kind)
        stem = try c.decode(String.self, forKey: .stem)
        caseID = try c.decodeIfPresent(Int64.self, forKey: .caseID)
        images = try c.decodeIfPresent([QuestionImage].self, forKey: .images) ?? []
        choices = try c.decodeIfPresent([Choice].self, forKey: .choices) ?? []
        region = try c.decodeIfPresent(HotspotRegion.self, forKey: .region)
        rubric = try c.decodeIfPresent([RubricCriterion].self, forKey: .rubric) ?? []
        criteria = try c.decodeIfPresent([QualityCriterion].self, forKey: .criteria) ?? []
        pairs = try c.decodeIfPresent([MatchPair].self, forKey: .pairs) ?? []
        items = try c.decodeIfPresent([OrderItem].self, forKey: .items) ?? []
        settings = try c.decodeIfPresent([PositioningSetting].self, forKey: .settings) ?? []
        tags = try c.decodeIfPresent([String].self, forKey: .tags) ?? []
        difficulty = try c.decodeIfPresent(Int.self, forKey: .difficulty) ?? 3
        points = try c.decodeIfPresent(Double.self, forKey: .points) ?? 1
        feedback = try c.decodeIfPresent(String.self, forKey: .feedback) ?? ""
    }

    /// The most the question scores.
    public var maximum: Double {
        kind == .report && points == 0 ? rubric.reduce(0) { $0 + $1.points } : points
    }

    /// Why the question cannot be used as it stands, or nil.
    public func problem() -> String? {
        if stem.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return "a question needs a stem" }
        if !(1...5).contains(difficulty) { return "difficulty is 1 to 5" }
        if points < 0 || !points.isFinite { return "points must be zero or more" }
        if let duplicate = Self.duplicate(
            choices.map(\.id) + rubric.map(\.id) + criteria.map(\.id) + pairs.map(\.id) + items.map(\.id) + settings.map(\.id))
        {
            return "the id \(duplicate) is used twice in the question"
        }
        switch kind {
        case .singleChoice:
            if choices.count < 2 { return "a single-choice question needs at least two choices" }
            if choices.filter(\.correct).count != 1 { return "a single-choice question has exactly one right choice" }
        case .multipleChoice:
            if choices.count < 2 { return "a multiple-choice question needs at least two choices" }
            if !choices.contains(where: \.correct) { return "a multiple-choice question needs at least one right choice" }
        case .hotspot:
            guard let region else { return "a hotspot question needs a region" }
            if ![region.x, region.y, region.width, region.height].allSatisfy(\.isFinite) {
                return "the hotspot region's position and size are numbers"
            }
            if region.width <= 0 || region.height <= 0 { return "the hotspot region needs a width and a height" }
            if region.firstSlice < 1 || region.lastSlice < region.firstSlice { return "the hotspot slices run from 1 upwards" }
            if images.isEmpty { return "a hotspot question needs the series it is drawn on" }
        case .report:
            if rubric.isEmpty { return "a report question needs a rubric" }
            if rubric.contains(where: { $0.points <= 0 }) { return "every rubric criterion is worth more than zero" }
        case .imageQuality:
            if criteria.isEmpty { return "an image-quality question needs criteria" }
            if criteria.contains(where: { $0.scale < 2 || !(1...$0.scale).contains($0.reference) }) {
                return "each criterion's reference rating lies on its scale (1 to scale, scale at least 2)"
            }
        case .matching:
            if pairs.count < 2 { return "a matching question needs at least two pairs" }
        case .ordering:
            if items.count < 2 { return "an ordering question needs at least two items" }
        case .positioning:
            if settings.isEmpty { return "a positioning question needs settings (projection, central ray, exposure…)" }
            if let problem = settings.lazy.compactMap({ $0.problem() }).first { return problem }
        }
        return nil
    }

    private static func duplicate(_ ids: [String]) -> String? {
        var seen = Set<String>()
        return ids.first { !seen.insert($0).inserted }
    }

    /// The question as a student taking it sees it: no right answers, reference ratings, rubric or feedback; matching's
    /// right-hand items and ordering's items in an order given by `seed` (the same for the same attempt).
    public func hidingKey(seed: UInt64) -> QuestionContent {
        var copy = self
        copy.choices = choices.map { Choice(id: $0.id, text: $0.text, correct: false) }
        copy.region = nil
        copy.rubric = []
        copy.criteria = criteria.map { QualityCriterion(id: $0.id, name: $0.name, reference: 0, scale: $0.scale) }
        var generator = SplitMix64(seed: seed)
        let rights = pairs.map(\.right).deterministicallyShuffled(using: &generator)
        copy.pairs = zip(pairs, rights).map { MatchPair(id: $0.id, left: $0.left, right: $1) }
        copy.items = items.deterministicallyShuffled(using: &generator)
        copy.settings = settings.map { PositioningSetting(id: $0.id, name: $0.name, options: $0.options, reference: "", unit: $0.unit) }
        copy.feedback = ""
        return copy
    }
}

/// A question of the bank.
public struct Question: Sendable, Equatable {
    public var id: Int64
    public var content: QuestionContent
    public var createdBy: String
    public var createdAt: Date
    public var updatedAt: Date
    public var revision: Int64
    public var retired: Bool
}

/// A student's answer to one question; which fields matter depends on the question's kind.
public struct Answer: Sendable, Equatable, Codable {
    /// Single and multiple choice: the chosen choices' ids.
    public var choices: [String]?
    /// Hotspot: where the student clicked.
    public var click: Click?
    /// Report: the text.
    public var text: String?
    /// Image quality: criterion id → rating.
    public var ratings: [String: Int]?
    /// Matching: pair id → the right-hand text chosen for it.
    public var matches: [String: String]?
    /// Ordering: item ids in the student's order.
    public var order: [String]?
    /// Positioning: setting id → the option chosen or the number given (as text).
    public var settings: [String: String]?

    public init(
        choices: [String]? = nil, click: Click? = nil, text: String? = nil, ratings: [String: Int]? = nil,
        matches: [String: String]? = nil, order: [String]? = nil, settings: [String: String]? = nil
    ) {
        self.choices = choices
        self.click = click
        self.text = text
        self.ratings = ratings
        self.matches = matches
        self.order = order
        self.settings = settings
    }

    /// A click of a hotspot question: the slice (1-based) and the image pixel coordinates.
    public struct Click: Sendable, Equatable, Codable {
        public var slice: Int
        public var x: Double
        public var y: Double

        public init(slice: Int, x: Double, y: Double) {
            self.slice = slice
            self.x = x
            self.y = y
        }
    }
}

/// Everything the training domain refuses, with the context a person needs.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
    case notFound(String)
    case invalid(String)
    case notAllowed(String)
    case conflict(String)
    /// The exam is closed, the attempt's time is over, or it was submitted: the answer was not saved.
    case closed(String)
    case database(String)

    public var description: String {
        switch self {
        case .notFound(let what): "\(what) does not exist"
        case .invalid(let why): why
        case .notAllowed(let why): why
        case .conflict(let what): "\(what) changed meanwhile; reload and try again"
        case .closed(let why): why
        case .database(let message): "training store: \(message)"
        }
    }
}
