import Foundation
import Platform
import Testing

@testable import Training

@Suite("Exam logic: scoring, shuffles, forms and who may do what")
struct ExamLogicTests {
    static let choices = [
        Choice(id: "a", text: "A", correct: true), Choice(id: "b", text: "B", correct: true), Choice(id: "c", text: "C", correct: false),
        Choice(id: "d", text: "D", correct: false),
    ]

    @Test(
        "Multiple choice scores points × max(0, (right − wrong) / rights)",
        arguments: [
            // (chosen, expected of 4 points) worked out by hand: 2 rights, 2 wrongs.
            ([String](), 0.0), (["a"], 2.0), (["a", "b"], 4.0), (["a", "c"], 0.0), (["a", "b", "c"], 2.0), (["c", "d"], 0.0),
            (["a", "b", "c", "d"], 0.0),
        ])
    func multipleChoice(chosen: [String], expected: Double) {
        let q = QuestionContent(kind: .multipleChoice, stem: "?", choices: Self.choices, points: 4)
        #expect(Scoring.score(q, Answer(choices: chosen)) == expected)
    }

    @Test("Single choice: exactly the right one; two chosen or none scores 0")
    func singleChoice() {
        let q = QuestionContent(
            kind: .singleChoice, stem: "?",
            choices: [Choice(id: "a", text: "A", correct: true), Choice(id: "b", text: "B", correct: false)],
            points: 2)
        #expect(Scoring.score(q, Answer(choices: ["a"])) == 2)
        #expect(Scoring.score(q, Answer(choices: ["b"])) == 0)
        #expect(Scoring.score(q, Answer(choices: ["a", "b"])) == 0)
        #expect(Scoring.score(q, nil) == 0)
    }

    @Test(
        "A hotspot click scores only inside the ellipse and on its slices",
        arguments: [
            // Ellipse centred (120, 110), semi-axes 20 and 10, slices 10–12. ((x−120)/20)² + ((y−110)/10)² ≤ 1.
            (11, 120.0, 110.0, true), (10, 139.9, 110.0, true), (12, 120.0, 100.0, true), (11, 135.0, 117.0, false),
            (11, 141.0, 110.0, false), (9, 120.0, 110.0, false), (13, 120.0, 110.0, false), (11, 134.0, 117.0, true),
        ])
    func hotspot(slice: Int, x: Double, y: Double, hit: Bool) {
        let region = HotspotRegion(shape: .ellipse, x: 100, y: 100, width: 40, height: 20, firstSlice: 10, lastSlice: 12)
        let q = QuestionContent(kind: .hotspot, stem: "?", images: [TrainingSuite.image], region: region, points: 1)
        // Independent: the ellipse equation written out here.
        let inside = pow((x - 120) / 20, 2) + pow((y - 110) / 10, 2) <= 1 && (10...12).contains(slice)
        #expect(inside == hit)
        #expect(Scoring.score(q, Answer(click: .init(slice: slice, x: x, y: y))) == (hit ? 1 : 0))
    }

    @Test("Image quality, matching and ordering score the share of right parts")
    func partial() {
        let quality = TrainingSuite.bank[4]
        #expect(Scoring.score(quality, Answer(ratings: ["positioning": 4, "exposure": 3, "markers": 1])) == 2)
        #expect(Scoring.score(quality, Answer(ratings: [:])) == 0)
        let matching = TrainingSuite.bank[5]
        #expect(Scoring.score(matching, Answer(matches: ["p1": "cancer", "p2": "cancer"])) == 1)
        let ordering = TrainingSuite.bank[6]
        #expect(Scoring.score(ordering, Answer(order: ["ct", "mr", "cta"])) == 1)
        #expect(Scoring.score(ordering, Answer(order: ["ct", "cta", "mr"])) == 3)
        #expect(Scoring.score(TrainingSuite.bank[3], Answer(text: "x")) == nil)
        // Rubric: 4 points maximum, rubric total 4; graders 4 and 1 → mean 2.5.
        #expect(Scoring.rubricScore(TrainingSuite.bank[3], grades: [["finding": 3, "impression": 1], ["impression": 1]]) == 2.5)
    }

    /// A chest PA positioning task, its reference from a radiography textbook's exposure chart (written here).
    static let positioningJSON = #"""
        {"kind": "positioning", "stem": "Chest PA, adult of average build", "points": 3, "settings": [
          {"id": "projection", "name": "Projection", "options": ["PA erect", "AP supine", "Lateral"], "reference": "PA erect"},
          {"id": "ray", "name": "Central ray", "options": ["T7, perpendicular", "T4, 15° cranial", "C7"], "reference": "T7, perpendicular"},
          {"id": "kvp", "name": "Tube voltage", "reference": 120, "unit": "kV", "tolerance": 5},
          {"id": "mas", "name": "mAs", "reference": "2.5", "unit": "mAs", "tolerance": 0.5}]}
        """#

    @Test(
        "Positioning scores the share of settings right: the reference option, or a number within its tolerance",
        arguments: [
            // (answer, expected of 3 points for 4 settings) worked out by hand.
            (["projection": "PA erect", "ray": "T7, perpendicular", "kvp": "120", "mas": "2.5"], 3.0),
            (["projection": "PA erect", "ray": "T7, perpendicular", "kvp": "125", "mas": "3"], 3.0),
            (["projection": "PA erect", "ray": "C7", "kvp": "126", "mas": "2,2"], 1.5),
            (["projection": "AP supine", "kvp": "114.9", "mas": "abc"], 0.0),
            (["projection": "pa erect", "ray": "T7, perpendicular", "kvp": " 118 ", "mas": "2.0"], 2.25),
            ([:], 0.0),
        ])
    func positioning(given: [String: String], expected: Double) throws {
        let q = try JSONDecoder().decode(QuestionContent.self, from: Data(Self.positioningJSON.utf8))
        #expect(q.problem() == nil)
        #expect(q.settings.map(\.reference) == ["PA erect", "T7, perpendicular", "120", "2.5"])
        #expect(Scoring.score(q, Answer(settings: given)) == expected)
    }

    @Test("A positioning task hides its references from the student and is refused when its settings cannot be checked")
    func positioningKeyAndProblems() throws {
        let q = try JSONDecoder().decode(QuestionContent.self, from: Data(Self.positioningJSON.utf8))
        let shown = q.hidingKey(seed: 7)
        #expect(shown.settings.allSatisfy { $0.reference.isEmpty && $0.tolerance == 0 })
        #expect(shown.settings.map(\.options) == q.settings.map(\.options))
        let encoded = String(decoding: try JSONEncoder().encode(shown), as: UTF8.self)
        #expect(!encoded.contains("PA erect\"") || !encoded.contains("\"reference\":\"PA erect\""))
        #expect(!encoded.contains("120"))
        var bad = q
        bad.settings = []
        #expect(bad.problem() != nil)
        for broken in [
            PositioningSetting(id: "x", name: "Projection", options: ["PA"], reference: "PA"),
            PositioningSetting(id: "x", name: "Projection", options: ["PA", "AP"], reference: "Lateral"),
            PositioningSetting(id: "x", name: "Projection", options: ["PA", "PA"], reference: "PA"),
            PositioningSetting(id: "x", name: "kV", reference: "high"),
            PositioningSetting(id: "x", name: "kV", reference: "120", tolerance: -1),
            PositioningSetting(id: "x", name: " ", reference: "120"),
        ] {
            bad.settings = [broken]
            #expect(bad.problem() != nil, "\(broken)")
        }
    }

    @Test("An attempt's order is a permutation fixed by the exam, the student and the attempt number")
    func shuffle() {
        let settings = ExamSettings(title: "t", forms: [Array(1...20)])
        let first = settings.order(exam: 5, student: "stu.a", number: 1)
        #expect(first.order.sorted() == Array(1...20))
        #expect(settings.order(exam: 5, student: "stu.a", number: 1) == first)
        #expect(settings.order(exam: 5, student: "stu.b", number: 1).order != first.order)
        #expect(settings.order(exam: 5, student: "stu.a", number: 2).order != first.order)
        var unshuffled = settings
        unshuffled.shuffle = false
        #expect(unshuffled.order(exam: 5, student: "stu.a", number: 1).order == Array(1...20))
        // The published SplitMix64 reference values for seed 0 (Vigna's splitmix64.c).
        var generator = SplitMix64(seed: 0)
        #expect(generator.next() == 0xE220_A839_7B1D_CDAF && generator.next() == 0x6E78_9E6A_A1B9_65F4)
        // FNV-1a 64 of "a" (the published test vector).
        #expect(SplitMix64.seed("a") == 0xAF63_DC4C_8601_EC8C)
    }

    @Test("The deadline is the start plus the limit, or the window's end when sooner")
    func deadline() {
        let t0 = Date(timeIntervalSince1970: 1000)
        var s = ExamSettings(title: "t", forms: [[1]], timeLimitSeconds: 600)
        #expect(s.deadline(start: t0) == Date(timeIntervalSince1970: 1600))
        s.closesAt = Date(timeIntervalSince1970: 1300)
        #expect(s.deadline(start: t0) == Date(timeIntervalSince1970: 1300))
        s.timeLimitSeconds = 0
        #expect(s.deadline(start: t0) == Date(timeIntervalSince1970: 1300))
    }

    /// The table of who may do what, written out cell by cell: (roles, action, own attempt, released) → allowed.
    static let matrix: [(Set<Role>, TrainingAction, Bool, Bool, Bool)] = {
        var cells: [(Set<Role>, TrainingAction, Bool, Bool, Bool)] = []
        // The supervision and assignment actions have their own tables (SupervisionTests, AssignmentTests).
        for action in TrainingAction.allCases
        where !SupervisionAccessTable.actions.contains(action) && !AssignmentAccessTable.actions.contains(action) {
            for owner in [false, true] {
                for released in [false, true] {
                    // Teachers: everything but taking an exam.
                    cells.append(([.curator], action, owner, released, action != .takeExam))
                    cells.append(([.admin], action, owner, released, action != .takeExam))
                    // Students: their own attempt; their own results and key only once released.
                    let student: Bool =
                        switch action {
                        case .takeExam, .readAttempt: owner
                        case .readResult: owner && released
                        case .practise: true
                        default: false
                        }
                    cells.append(([.student], action, owner, released, student))
                    // Supervisors proctor, read trainees' logbooks, and read released results.
                    cells.append(
                        (
                            [.supervisor], action, owner, released,
                            action == .proctor || action == .readLogbooks || (action == .readResult && released)
                        ))
                    cells.append(([.reader], action, owner, released, false))
                    cells.append(([.site], action, owner, released, false))
                    cells.append(([], action, owner, released, false))
                }
            }
        }
        return cells
    }()

    @Test("Who may do what in training, cell by cell", arguments: 0..<matrix.count)
    func access(cell: Int) {
        let (roles, action, owner, released, expected) = Self.matrix[cell]
        #expect(
            TrainingAccess.allows(roles, action, owner: owner, released: released) == expected,
            "\(roles.map(\.rawValue).sorted()) \(action.rawValue) owner=\(owner) released=\(released)")
    }

    @Test("A student's view of a question hides every key: right choices, region, rubric, references, feedback")
    func hiddenKey() throws {
        for question in TrainingSuite.bank {
            let hidden = question.hidingKey(seed: 3)
            let text = String(decoding: try JSONEncoder().encode(hidden), as: UTF8.self)
            #expect(!text.contains("\"correct\":true"))
            #expect(hidden.region == nil && hidden.rubric.isEmpty && hidden.feedback.isEmpty)
            #expect(hidden.criteria.allSatisfy { $0.reference == 0 })
            #expect(!text.contains("no air bronchogram"))
            #expect(Set(hidden.pairs.map(\.right)) == Set(question.pairs.map(\.right)))
            #expect(Set(hidden.items.map(\.id)) == Set(question.items.map(\.id)))
        }
    }
}
