import Foundation

/// A reference interval of one analyte for a sex and an age band, with its critical limits, in the analyte's canonical
/// unit (``UCUM``), editable in the store.
public struct ReferenceRange: Sendable, Equatable, Codable {
    public var id: Int64
    public var loinc: String
    public var name: String
    /// nil: both sexes.
    public var sex: AdministrativeSex?
    /// Age band in whole years: `minimumAge` ≤ age < `maximumAge`.
    public var minimumAge: Int
    public var maximumAge: Int
    public var low: Double?
    public var high: Double?
    public var criticalLow: Double?
    public var criticalHigh: Double?
    /// UCUM.
    public var unit: String
    /// Where the interval comes from (a standard's number, or "alliance").
    public var source: String

    public init(
        id: Int64 = 0, loinc: String, name: String, sex: AdministrativeSex? = nil, minimumAge: Int = 18, maximumAge: Int = 150,
        low: Double?, high: Double?, criticalLow: Double? = nil, criticalHigh: Double? = nil, unit: String, source: String
    ) {
        self.id = id
        self.loinc = loinc
        self.name = name
        self.sex = sex
        self.minimumAge = minimumAge
        self.maximumAge = maximumAge
        self.low = low
        self.high = high
        self.criticalLow = criticalLow
        self.criticalHigh = criticalHigh
        self.unit = unit
        self.source = source
    }

    /// Whether the interval applies to a patient of this sex and age (an unknown age matches the adult band only).
    public func applies(sex patientSex: AdministrativeSex, age: Int?) -> Bool {
        if let sex, sex != patientSex { return false }
        let age = age ?? 30
        return minimumAge <= age && age < maximumAge
    }

    /// "low–high unit" as printed.
    public var text: String {
        func f(_ v: Double) -> String { ReferenceRanges.format(v) }
        switch (low, high) {
        case (let l?, let h?): return "\(f(l))–\(f(h))"
        case (let l?, nil): return "≥\(f(l))"
        case (nil, let h?): return "≤\(f(h))"
        default: return ""
        }
    }
}

/// The flag of a value against its interval (HL7 table 0078 codes).
public enum ResultFlag: String, Sendable, Equatable, Codable {
    case normal = "N"
    case low = "L"
    case high = "H"
    case criticalLow = "LL"
    case criticalHigh = "HH"

    public var isCritical: Bool { self == .criticalLow || self == .criticalHigh }
    public var isAbnormal: Bool { self != .normal }
}

/// A delta-check rule for one analyte: the change from the patient's previous result that deserves attention.
public struct DeltaRule: Sendable, Equatable, Codable {
    public var loinc: String
    /// Absolute change in the canonical unit (nil: not checked).
    public var absolute: Double?
    /// Change in per cent of the previous value (nil: not checked).
    public var percent: Double?

    public init(loinc: String, absolute: Double? = nil, percent: Double? = nil) {
        self.loinc = loinc
        self.absolute = absolute
        self.percent = percent
    }

    /// Whether the change from `previous` to `current` exceeds either threshold.
    public func fires(previous: Double, current: Double) -> Bool {
        let change = abs(current - previous)
        if let absolute, change > absolute { return true }
        if let percent, previous != 0, change / abs(previous) * 100 > percent { return true }
        return false
    }
}

/// The default reference intervals and rules, and the evaluation of a value against them.
public enum ReferenceRanges {
    /// A number as printed: no trailing zeros, at most three decimals.
    public static func format(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e9 { return String(Int(v)) }
        var s = String(format: "%.3f", v)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }

    /// The seed set for about twenty common analytes, adults, in canonical units.
    ///
    /// Sources: WS/T 404.1–404.9 (常用临床化学检验项目参考区间, National Health Commission of China, 2012–2018) for ALT and
    /// AST (404.2), total protein and albumin (404.3), urea and creatinine (404.5, enzymatic method), potassium, sodium and
    /// chloride (404.6), calcium (404.7); WS/T 405-2012 (血细胞分析参考区间) for WBC, RBC, haemoglobin, haematocrit, MCV,
    /// MCH, MCHC and platelets. Glucose (fasting 3.9–6.1 mmol/L), uric acid, total bilirubin and HbA1c are the intervals
    /// Chinese laboratories commonly print; the lipid rows are the desirable levels of the Chinese guideline on lipid
    /// management (2016/2023), not reference intervals. Critical limits follow common Chinese hospital critical-value
    /// lists (e.g. K < 2.8 or > 6.2 mmol/L). Every row can be edited in the store.
    public static let defaults: [ReferenceRange] = {
        let ws404 = "WS/T 404"
        let ws405 = "WS/T 405-2012"
        let common = "common Chinese laboratory practice"
        let lipid = "Chinese lipid guideline (desirable level)"
        return [
            ReferenceRange(
                loinc: "2823-3", name: "Potassium", low: 3.5, high: 5.3, criticalLow: 2.8, criticalHigh: 6.2, unit: "mmol/L",
                source: ws404 + ".6-2015"),
            ReferenceRange(
                loinc: "2951-2", name: "Sodium", low: 137, high: 147, criticalLow: 120, criticalHigh: 160, unit: "mmol/L",
                source: ws404 + ".6-2015"),
            ReferenceRange(loinc: "2075-0", name: "Chloride", low: 99, high: 110, unit: "mmol/L", source: ws404 + ".6-2015"),
            ReferenceRange(
                loinc: "17861-6", name: "Calcium", low: 2.11, high: 2.52, criticalLow: 1.75, criticalHigh: 3.5, unit: "mmol/L",
                source: ws404 + ".7-2015"),
            ReferenceRange(
                loinc: "2345-7", name: "Glucose", low: 3.9, high: 6.1, criticalLow: 2.2, criticalHigh: 22.2, unit: "mmol/L", source: common),
            ReferenceRange(loinc: "1742-6", name: "ALT", sex: .male, low: 9, high: 50, unit: "U/L", source: ws404 + ".2-2012"),
            ReferenceRange(loinc: "1742-6", name: "ALT", sex: .female, low: 7, high: 40, unit: "U/L", source: ws404 + ".2-2012"),
            ReferenceRange(loinc: "1920-8", name: "AST", sex: .male, low: 15, high: 40, unit: "U/L", source: ws404 + ".2-2012"),
            ReferenceRange(loinc: "1920-8", name: "AST", sex: .female, low: 13, high: 35, unit: "U/L", source: ws404 + ".2-2012"),
            ReferenceRange(loinc: "2885-2", name: "Total protein", low: 65, high: 85, unit: "g/L", source: ws404 + ".3-2012"),
            ReferenceRange(loinc: "1751-7", name: "Albumin", maximumAge: 60, low: 40, high: 55, unit: "g/L", source: ws404 + ".3-2012"),
            ReferenceRange(loinc: "1751-7", name: "Albumin", minimumAge: 60, low: 38, high: 54, unit: "g/L", source: ws404 + ".3-2012"),
            ReferenceRange(
                loinc: "2160-0", name: "Creatinine", sex: .male, maximumAge: 60, low: 57, high: 97, criticalHigh: 707, unit: "umol/L",
                source: ws404 + ".5-2015"),
            ReferenceRange(
                loinc: "2160-0", name: "Creatinine", sex: .male, minimumAge: 60, low: 57, high: 111, criticalHigh: 707, unit: "umol/L",
                source: ws404 + ".5-2015"),
            ReferenceRange(
                loinc: "2160-0", name: "Creatinine", sex: .female, maximumAge: 60, low: 41, high: 73, criticalHigh: 707, unit: "umol/L",
                source: ws404 + ".5-2015"),
            ReferenceRange(
                loinc: "2160-0", name: "Creatinine", sex: .female, minimumAge: 60, low: 41, high: 81, criticalHigh: 707, unit: "umol/L",
                source: ws404 + ".5-2015"),
            ReferenceRange(
                loinc: "3091-6", name: "Urea", sex: .male, maximumAge: 60, low: 3.1, high: 8.0, unit: "mmol/L", source: ws404 + ".5-2015"),
            ReferenceRange(
                loinc: "3091-6", name: "Urea", sex: .male, minimumAge: 60, low: 3.6, high: 9.5, unit: "mmol/L", source: ws404 + ".5-2015"),
            ReferenceRange(
                loinc: "3091-6", name: "Urea", sex: .female, maximumAge: 60, low: 2.6, high: 7.5, unit: "mmol/L", source: ws404 + ".5-2015"),
            ReferenceRange(
                loinc: "3091-6", name: "Urea", sex: .female, minimumAge: 60, low: 3.1, high: 8.8, unit: "mmol/L", source: ws404 + ".5-2015"),
            ReferenceRange(loinc: "3084-1", name: "Uric acid", sex: .male, low: 208, high: 428, unit: "umol/L", source: common),
            ReferenceRange(loinc: "3084-1", name: "Uric acid", sex: .female, low: 155, high: 357, unit: "umol/L", source: common),
            ReferenceRange(loinc: "1975-2", name: "Total bilirubin", low: 0, high: 23, unit: "umol/L", source: common),
            ReferenceRange(loinc: "2093-3", name: "Cholesterol", low: nil, high: 5.2, unit: "mmol/L", source: lipid),
            ReferenceRange(loinc: "2571-8", name: "Triglycerides", low: nil, high: 1.7, unit: "mmol/L", source: lipid),
            ReferenceRange(loinc: "2085-9", name: "HDL cholesterol", low: 1.0, high: nil, unit: "mmol/L", source: lipid),
            ReferenceRange(loinc: "13457-7", name: "LDL cholesterol", low: nil, high: 3.4, unit: "mmol/L", source: lipid),
            ReferenceRange(loinc: "4548-4", name: "HbA1c", low: 4.0, high: 6.0, unit: "%", source: common),
            ReferenceRange(
                loinc: "6690-2", name: "WBC", low: 3.5, high: 9.5, criticalLow: 1.5, criticalHigh: 30, unit: "10*9/L", source: ws405),
            ReferenceRange(loinc: "789-8", name: "RBC", sex: .male, low: 4.3, high: 5.8, unit: "10*12/L", source: ws405),
            ReferenceRange(loinc: "789-8", name: "RBC", sex: .female, low: 3.8, high: 5.1, unit: "10*12/L", source: ws405),
            ReferenceRange(
                loinc: "718-7", name: "Haemoglobin", sex: .male, low: 130, high: 175, criticalLow: 50, unit: "g/L", source: ws405),
            ReferenceRange(
                loinc: "718-7", name: "Haemoglobin", sex: .female, low: 115, high: 150, criticalLow: 50, unit: "g/L", source: ws405),
            ReferenceRange(loinc: "4544-3", name: "Haematocrit", sex: .male, low: 40, high: 50, unit: "%", source: ws405),
            ReferenceRange(loinc: "4544-3", name: "Haematocrit", sex: .female, low: 35, high: 45, unit: "%", source: ws405),
            ReferenceRange(loinc: "787-2", name: "MCV", low: 82, high: 100, unit: "fL", source: ws405),
            ReferenceRange(loinc: "785-6", name: "MCH", low: 27, high: 34, unit: "pg", source: ws405),
            ReferenceRange(loinc: "786-4", name: "MCHC", low: 316, high: 354, unit: "g/L", source: ws405),
            ReferenceRange(loinc: "777-3", name: "Platelets", low: 125, high: 350, criticalLow: 30, unit: "10*9/L", source: ws405),
        ]
    }()

    /// Default delta-check rules (alliance choices, editable).
    public static let deltaDefaults: [DeltaRule] = [
        DeltaRule(loinc: "2823-3", absolute: 1.0),
        DeltaRule(loinc: "2951-2", absolute: 8),
        DeltaRule(loinc: "2160-0", percent: 50),
        DeltaRule(loinc: "718-7", absolute: 20),
        DeltaRule(loinc: "777-3", percent: 50),
        DeltaRule(loinc: "2345-7", percent: 100),
        DeltaRule(loinc: "6690-2", percent: 100),
    ]

    /// The interval for a patient: the most specific applicable row (one for their sex before one for both).
    public static func range(for loinc: String, sex: AdministrativeSex, age: Int?, in ranges: [ReferenceRange]) -> ReferenceRange? {
        ranges.filter { $0.loinc == loinc && $0.applies(sex: sex, age: age) }.min { ($0.sex == nil ? 1 : 0) < ($1.sex == nil ? 1 : 0) }
    }

    /// The flag of `value` against `range`: critical beyond a critical limit (inclusive), high or low outside the
    /// interval, normal inside it.
    public static func flag(_ value: Double, _ range: ReferenceRange) -> ResultFlag {
        if let limit = range.criticalLow, value <= limit { return .criticalLow }
        if let limit = range.criticalHigh, value >= limit { return .criticalHigh }
        if let low = range.low, value < low { return .low }
        if let high = range.high, value > high { return .high }
        return .normal
    }
}

/// An observation as a reviewer sees it: the normalised value, the interval for the patient's sex and age, the flag,
/// and the delta check against the patient's previous result of the same analyte.
public struct InterpretedObservation: Sendable, Equatable {
    public var observation: LabObservation
    public var normalisation: UnitNormalisation
    public var range: ReferenceRange?
    /// Computed from the interval; nil when there is no interval or no number (the sender's OBX-8 flags stay on the observation).
    public var flag: ResultFlag?
    /// The previous value (canonical unit) and whether the change exceeds the analyte's delta rule.
    public var previous: Double?
    public var previousAt: Date?
    public var deltaFlag: Bool

    /// Interprets `observation` for a patient, with the previous value of the analyte (canonical unit) when known.
    public static func interpret(
        _ observation: LabObservation, patient: LabPatient, at date: Date, ranges: [ReferenceRange], deltaRules: [DeltaRule],
        previous: (value: Double, at: Date)?
    ) -> InterpretedObservation {
        let normalisation = observation.normalised
        var range: ReferenceRange?
        var flag: ResultFlag?
        if let loinc = observation.loinc {
            range = ReferenceRanges.range(for: loinc, sex: patient.sex, age: patient.ageYears(at: date), in: ranges)
            if let r = range, let value = normalisation.value, normalisation.unit == r.unit || r.unit.isEmpty {
                flag = ReferenceRanges.flag(value, r)
            }
        }
        var delta = false
        if let previous, let loinc = observation.loinc, let value = normalisation.value,
            let rule = deltaRules.first(where: { $0.loinc == loinc })
        {
            delta = rule.fires(previous: previous.value, current: value)
        }
        return InterpretedObservation(
            observation: observation, normalisation: normalisation, range: range, flag: flag, previous: previous?.value,
            previousAt: previous?.at, deltaFlag: delta)
    }
}
