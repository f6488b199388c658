import Foundation

/// Body-mass index by the Chinese adult cut-offs (WS/T 428-2013 成人体重判定): under 18.5 underweight, 18.5–23.9
/// normal, 24–27.9 overweight, 28 and above obese.
public enum BMIClass: String, Sendable, Codable, CaseIterable {
    case underweight
    case normal
    case overweight
    case obese

    public static let key = "bmi"
    public static let heightInput = RiskModelInput(
        key: "height", unit: "cm", minimum: 50, maximum: 250, nameEnglish: "Height", nameChinese: "身高")
    public static let weightInput = RiskModelInput(
        key: "weight", unit: "kg", minimum: 10, maximum: 300, nameEnglish: "Weight", nameChinese: "体重")

    /// kg / m², from height in cm and weight in kg.
    public static func bmi(heightCentimetres: Double, weightKilograms: Double) throws(RiskInputError) -> Double {
        let height = try heightInput.checked(heightCentimetres, model: key) / 100
        let weight = try weightInput.checked(weightKilograms, model: key)
        return weight / (height * height)
    }

    /// The class of a BMI rounded to one decimal, as the forms record it (23.96 is written 24.0: overweight).
    public init(bmi: Double) {
        let shown = (bmi * 10).rounded() / 10
        self = shown < 18.5 ? .underweight : shown < 24 ? .normal : shown < 28 ? .overweight : .obese
    }
}

/// Central obesity by waist (WS/T 428-2013): 90 cm or more for men, 85 cm or more for women; 85–89.9 (men) and
/// 80–84.9 (women) are the pre-central-obesity band.
public enum WaistClass: String, Sendable, Codable, CaseIterable {
    case normal
    case preCentralObesity = "pre-central-obesity"
    case centralObesity = "central-obesity"

    public static let input = RiskModelInput(key: "waist", unit: "cm", minimum: 40, maximum: 200, nameEnglish: "Waist", nameChinese: "腰围")

    public static func classify(waist: Double, sex: ChinaPAR.Sex) throws(RiskInputError) -> WaistClass {
        let waist = try input.checked(waist, model: "waist")
        let (pre, central) = sex == .male ? (85.0, 90.0) : (80.0, 85.0)
        return waist >= central ? .centralObesity : waist >= pre ? .preCentralObesity : .normal
    }
}

/// Blood pressure by the Chinese guidelines for the management of hypertension 2018 (中国高血压防治指南 2018年修订版,
/// Table 3): the higher of the systolic and diastolic categories; isolated systolic hypertension is systolic ≥ 140
/// with diastolic < 90 and is graded by the systolic value.
public enum BloodPressureClass: String, Sendable, Codable, CaseIterable {
    case normal
    case highNormal = "high-normal"
    case grade1 = "grade-1"
    case grade2 = "grade-2"
    case grade3 = "grade-3"

    public static let systolicInput = RiskModelInput(
        key: "sbp", unit: "mmHg", minimum: 50, maximum: 300, nameEnglish: "Systolic pressure", nameChinese: "收缩压")
    public static let diastolicInput = RiskModelInput(
        key: "dbp", unit: "mmHg", minimum: 20, maximum: 200, nameEnglish: "Diastolic pressure", nameChinese: "舒张压")

    public struct Result: Sendable, Equatable, Codable {
        public var category: BloodPressureClass
        public var isolatedSystolic: Bool
    }

    public static func classify(systolic: Double, diastolic: Double) throws(RiskInputError) -> Result {
        let sbp = try systolicInput.checked(systolic, model: "blood-pressure")
        let dbp = try diastolicInput.checked(diastolic, model: "blood-pressure")
        func rank(_ value: Double, _ bounds: [Double]) -> Int { bounds.lastIndex(where: { value >= $0 }).map { $0 + 1 } ?? 0 }
        let systolicRank = rank(sbp, [120, 140, 160, 180])
        let diastolicRank = rank(dbp, [80, 90, 100, 110])
        let category = allCases[max(systolicRank, diastolicRank)]
        return Result(category: category, isolatedSystolic: sbp >= 140 && dbp < 90)
    }

    public var isHypertension: Bool { self == .grade1 || self == .grade2 || self == .grade3 }
}
