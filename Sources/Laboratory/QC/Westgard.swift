import Foundation

/// A control material of one analyte at one level, with the target mean and SD its runs are judged against.
public struct ControlMaterial: Sendable, Equatable, Codable {
    public var id: Int64
    public var institution: String
    public var loinc: String
    public var analyte: String
    public var name: String
    public var lot: String
    public var level: String
    public var mean: Double
    public var sd: Double
    public var unit: String

    public init(
        id: Int64 = 0, institution: String, loinc: String, analyte: String, name: String, lot: String = "", level: String = "",
        mean: Double,
        sd: Double, unit: String
    ) {
        self.id = id
        self.institution = institution
        self.loinc = loinc
        self.analyte = analyte
        self.name = name
        self.lot = lot
        self.level = level
        self.mean = mean
        self.sd = sd
        self.unit = unit
    }
}

/// One QC run: the values measured on each control material (by material id).
public struct QCRun: Sendable, Equatable, Codable {
    public var id: Int64
    public var institution: String
    public var at: Date
    public var values: [Int64: Double]

    public init(id: Int64 = 0, institution: String, at: Date, values: [Int64: Double]) {
        self.id = id
        self.institution = institution
        self.at = at
        self.values = values
    }
}

/// The Westgard multirules (Westgard JO et al., Clin Chem 1981;27:493–501).
public enum WestgardRule: String, Sendable, Equatable, Codable, CaseIterable, Comparable {
    /// One result beyond ±2 SD: a warning that starts inspection with the other rules.
    case oneTwoS = "1-2s"
    /// One result beyond ±3 SD: random error.
    case oneThreeS = "1-3s"
    /// Two consecutive results beyond 2 SD on the same side: within a run across materials, or across runs for one material.
    case twoTwoS = "2-2s"
    /// In one run, one material beyond +2 SD and another beyond −2 SD.
    case rFourS = "R-4s"
    /// Four consecutive results beyond 1 SD on the same side (one material across runs, or across materials).
    case fourOneS = "4-1s"
    /// Ten consecutive results on the same side of the mean (one material across runs, or across materials).
    case tenX = "10x"

    public var isWarning: Bool { self == .oneTwoS }

    public static func < (a: WestgardRule, b: WestgardRule) -> Bool {
        allCases.firstIndex(of: a) ?? 0 < allCases.firstIndex(of: b) ?? 0
    }
}

/// A rule that fired in a run, with the materials whose results made it fire.
public struct WestgardViolation: Sendable, Equatable, Codable {
    public var rule: WestgardRule
    public var runID: Int64
    public var materials: [Int64]
    /// "within-run", "across-runs" or "across-materials".
    public var scope: String
}

/// Evaluates the Westgard rules on a series of runs.
///
/// Definitions (the same ones the test's independent Python computation uses): z = (value − mean) / SD. For a run r:
/// - 1-2s: some |z| > 2; 1-3s: some |z| > 3.
/// - 2-2s within run: two materials of r both z > 2 or both z < −2; across runs: a material's result in r and its
///   previous result both z > 2 or both z < −2.
/// - R-4s: in r, one material z > 2 and another z < −2.
/// - 4-1s and 10x: the last n results (n = 4, |z| > 1 on one side; n = 10, z > 0 or z < 0) ending at a result of r, either of
///   one material across runs ("across-runs") or of the series of all results ordered by run time then material id
///   ("across-materials").
public enum Westgard {
    public static func z(_ value: Double, _ material: ControlMaterial) -> Double {
        material.sd > 0 ? (value - material.mean) / material.sd : 0
    }

    /// The violations of every run, in run order (runs sorted by time, then id).
    public static func evaluate(runs: [QCRun], materials: [ControlMaterial]) -> [WestgardViolation] {
        let byID = Dictionary(materials.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let ordered = runs.sorted { ($0.at, $0.id) < ($1.at, $1.id) }
        // Per material: (run index, z) in run order. Flattened: (run index, material, z).
        var perMaterial: [Int64: [(run: Int, z: Double)]] = [:]
        var flattened: [(run: Int, material: Int64, z: Double)] = []
        for (index, run) in ordered.enumerated() {
            for id in run.values.keys.sorted() {
                guard let material = byID[id], let value = run.values[id] else { continue }
                let z = z(value, material)
                perMaterial[id, default: []].append((index, z))
                flattened.append((index, id, z))
            }
        }
        var violations: [WestgardViolation] = []
        for (index, run) in ordered.enumerated() {
            let here = flattened.filter { $0.run == index }
            func add(_ rule: WestgardRule, _ materials: [Int64], _ scope: String) {
                let sorted = Array(Set(materials)).sorted()
                if !violations.contains(where: { $0.rule == rule && $0.runID == run.id && $0.scope == scope }) {
                    violations.append(WestgardViolation(rule: rule, runID: run.id, materials: sorted, scope: scope))
                }
            }
            let beyond2 = here.filter { abs($0.z) > 2 }
            if !beyond2.isEmpty { add(.oneTwoS, beyond2.map(\.material), "within-run") }
            let beyond3 = here.filter { abs($0.z) > 3 }
            if !beyond3.isEmpty { add(.oneThreeS, beyond3.map(\.material), "within-run") }
            let high = here.filter { $0.z > 2 }
            let low = here.filter { $0.z < -2 }
            if high.count >= 2 { add(.twoTwoS, high.map(\.material), "within-run") }
            if low.count >= 2 { add(.twoTwoS, low.map(\.material), "within-run") }
            if !high.isEmpty && !low.isEmpty { add(.rFourS, (high + low).map(\.material), "within-run") }
            for (material, series) in perMaterial.sorted(by: { $0.key < $1.key }) {
                guard let position = series.lastIndex(where: { $0.run == index }) else { continue }
                let upTo = Array(series[...position])
                if upTo.count >= 2 {
                    let pair = upTo.suffix(2)
                    if pair.allSatisfy({ $0.z > 2 }) || pair.allSatisfy({ $0.z < -2 }) { add(.twoTwoS, [material], "across-runs") }
                }
                if sameSide(upTo.map(\.z), count: 4, beyond: 1) { add(.fourOneS, [material], "across-runs") }
                if sameSide(upTo.map(\.z), count: 10, beyond: 0) { add(.tenX, [material], "across-runs") }
            }
            // Across materials: windows ending at each result of this run.
            for end in flattened.indices where flattened[end].run == index {
                let upTo = Array(flattened[...end])
                for (rule, count, beyond) in [(WestgardRule.fourOneS, 4, 1.0), (.tenX, 10, 0.0)] {
                    let window = upTo.suffix(count)
                    if sameSide(window.map(\.z), count: count, beyond: beyond), Set(window.map(\.material)).count > 1 {
                        add(rule, window.map(\.material), "across-materials")
                    }
                }
            }
        }
        return violations.sorted { a, b in
            let ia = ordered.firstIndex { $0.id == a.runID } ?? 0
            let ib = ordered.firstIndex { $0.id == b.runID } ?? 0
            return (ia, a.rule, a.scope) < (ib, b.rule, b.scope)
        }
    }

    /// Whether the last `count` values are all > `beyond` or all < −`beyond`.
    static func sameSide(_ values: [Double], count: Int, beyond: Double) -> Bool {
        guard values.count >= count else { return false }
        let window = values.suffix(count)
        return window.allSatisfy { $0 > beyond } || window.allSatisfy { $0 < -beyond }
    }
}
