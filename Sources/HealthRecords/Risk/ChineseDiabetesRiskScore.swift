import Foundation

/// The Chinese Diabetes Risk Score (Zhou X, Qiao Q, Ji L, et al. Nonlaboratory-based risk assessment algorithm for
/// undiagnosed type 2 diabetes developed on a nation-wide diabetes survey. Diabetes Care 2013;36:3944–3952), the
/// points table reproduced in the Chinese guideline for type 2 diabetes (中国2型糖尿病防治指南 2017 and 2020 editions).
/// A total of 25 or more marks a person for an oral glucose tolerance test. Derived in adults aged 20–74.
public enum ChineseDiabetesRiskScore {
    public static let key = "cdrs"
    /// The total at and above which the score calls the risk high.
    public static let highRiskThreshold = 25

    public struct Input: Sendable, Equatable, Codable {
        public var sex: ChinaPAR.Sex
        public var age: Double
        /// Body-mass index, kg/m².
        public var bmi: Double
        /// Waist circumference, cm.
        public var waist: Double
        /// Systolic pressure, mmHg.
        public var systolic: Double
        /// A parent, sibling or child has diabetes.
        public var familyHistory: Bool

        public init(sex: ChinaPAR.Sex, age: Double, bmi: Double, waist: Double, systolic: Double, familyHistory: Bool) {
            self.sex = sex
            self.age = age
            self.bmi = bmi
            self.waist = waist
            self.systolic = systolic
            self.familyHistory = familyHistory
        }
    }

    public struct Result: Sendable, Equatable, Codable {
        public var age: Int
        public var sex: Int
        public var bmi: Int
        public var waist: Int
        public var systolic: Int
        public var familyHistory: Int
        public var total: Int
        public var highRisk: Bool
    }

    public static let inputs: [RiskModelInput] = [
        RiskModelInput(key: "age", unit: "years", minimum: 20, maximum: 74, nameEnglish: "Age", nameChinese: "年龄"),
        RiskModelInput(key: "bmi", unit: "kg/m²", minimum: 10, maximum: 70, nameEnglish: "Body-mass index", nameChinese: "体质指数"),
        RiskModelInput(key: "waist", unit: "cm", minimum: 40, maximum: 200, nameEnglish: "Waist", nameChinese: "腰围"),
        RiskModelInput(key: "sbp", unit: "mmHg", minimum: 70, maximum: 260, nameEnglish: "Systolic pressure", nameChinese: "收缩压"),
    ]

    /// Points for the first lower bound the value reaches, scanning from the top.
    static func points(_ value: Double, _ bands: [(Double, Int)]) -> Int {
        for (bound, points) in bands where value >= bound { return points }
        return 0
    }

    public static func evaluate(_ input: Input) throws(RiskInputError) -> Result {
        let age = try inputs[0].checked(input.age, model: key)
        let bmi = try inputs[1].checked(input.bmi, model: key)
        let waist = try inputs[2].checked(input.waist, model: key)
        let sbp = try inputs[3].checked(input.systolic, model: key)
        let agePoints = points(age, [(65, 18), (60, 16), (55, 15), (50, 13), (45, 12), (40, 11), (35, 8), (25, 4)])
        let bmiPoints = points(bmi, [(30, 5), (24, 3), (22, 1)])
        let waistBands: [(Double, Int)] =
            input.sex == .male
            ? [(95, 10), (90, 8), (85, 7), (80, 5), (75, 3)] : [(90, 10), (85, 8), (80, 7), (75, 5), (70, 3)]
        let waistPoints = points(waist, waistBands)
        let sbpPoints = points(sbp, [(160, 10), (150, 8), (140, 7), (130, 6), (120, 3), (110, 1)])
        let sexPoints = input.sex == .male ? 2 : 0
        let familyPoints = input.familyHistory ? 6 : 0
        let total = agePoints + bmiPoints + waistPoints + sbpPoints + sexPoints + familyPoints
        return Result(
            age: agePoints, sex: sexPoints, bmi: bmiPoints, waist: waistPoints, systolic: sbpPoints, familyHistory: familyPoints,
            total: total, highRisk: total >= highRiskThreshold)
    }
}
