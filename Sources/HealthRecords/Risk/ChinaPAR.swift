import Foundation

/// The China-PAR 10-year risk of atherosclerotic cardiovascular disease (Yang X, Li J, Hu D, et al. Predicting the
/// 10-year risks of atherosclerotic cardiovascular disease in Chinese population: the China-PAR project (prediction for
/// ASCVD risk in China). Circulation 2016;134:1430–1440, doi:10.1161/CIRCULATIONAHA.116.022367, Data Supplement
/// Tables 1 and 2).
///
/// Sex-specific Cox equations: risk = 1 − S10 ^ exp(Σβx − mean). Continuous terms are natural logarithms; cholesterol
/// in mg/dL (the paper converts with mg/dL × 0.0259 = mmol/L), systolic pressure in mmHg, waist in cm. Provenance of
/// each constant is in docs/health.md: the printed two-decimal coefficients of Supplemental Table 1, except the six
/// continuous coefficients of the men's equation (recovered from the table's own "coefficient × value" column of the
/// worked example, which the authors computed unrounded; each rounds to the printed value) and the women's baseline
/// survival (printed as 0.99, solved from the women's worked example). Derived in adults aged 35–74 free of ASCVD.
public enum ChinaPAR {
    public static let key = "china-par"

    public enum Sex: String, Sendable, Codable, CaseIterable {
        case male
        case female
    }

    public struct Input: Sendable, Equatable, Codable {
        public var sex: Sex
        public var age: Double
        /// Office systolic pressure, mmHg (mean of three seated readings in the cohort).
        public var systolic: Double
        /// Taking antihypertensive drugs (the treated-pressure coefficients apply).
        public var treated: Bool
        /// Total cholesterol, mmol/L.
        public var totalCholesterol: Double
        /// HDL cholesterol, mmol/L.
        public var hdlCholesterol: Double
        /// Waist circumference, cm.
        public var waist: Double
        public var currentSmoker: Bool
        public var diabetes: Bool
        /// Lives in northern China (north of the Yangtze River).
        public var north: Bool
        /// Lives in a city (men's equation only).
        public var urban: Bool
        /// A parent or sibling had ASCVD (men's equation only).
        public var familyHistory: Bool

        public init(
            sex: Sex, age: Double, systolic: Double, treated: Bool, totalCholesterol: Double, hdlCholesterol: Double, waist: Double,
            currentSmoker: Bool, diabetes: Bool, north: Bool, urban: Bool, familyHistory: Bool
        ) {
            self.sex = sex
            self.age = age
            self.systolic = systolic
            self.treated = treated
            self.totalCholesterol = totalCholesterol
            self.hdlCholesterol = hdlCholesterol
            self.waist = waist
            self.currentSmoker = currentSmoker
            self.diabetes = diabetes
            self.north = north
            self.urban = urban
            self.familyHistory = familyHistory
        }
    }

    /// The 2019 Chinese guideline's categories of the 10-year risk: below 5 %, 5–9.9 %, 10 % and above.
    public enum Category: String, Sendable, Codable, CaseIterable {
        case low
        case intermediate
        case high

        public init(risk percent: Double) {
            self = percent < 5 ? .low : percent < 10 ? .intermediate : .high
        }
    }

    public struct Result: Sendable, Equatable, Codable {
        /// The individual sum Σβx.
        public var sum: Double
        /// 10-year risk in percent.
        public var risk: Double
        public var category: Category
    }

    /// The inputs, their units and the ranges accepted. Age is the derivation cohort's; the others are the plausible
    /// physiological ranges of a community examination (a value outside is a typing error more often than a person).
    public static let inputs: [RiskModelInput] = [
        RiskModelInput(key: "age", unit: "years", minimum: 35, maximum: 74, nameEnglish: "Age", nameChinese: "年龄"),
        RiskModelInput(key: "sbp", unit: "mmHg", minimum: 70, maximum: 260, nameEnglish: "Systolic pressure", nameChinese: "收缩压"),
        RiskModelInput(key: "tc", unit: "mmol/L", minimum: 1.0, maximum: 20.0, nameEnglish: "Total cholesterol", nameChinese: "总胆固醇"),
        RiskModelInput(key: "hdl", unit: "mmol/L", minimum: 0.2, maximum: 5.0, nameEnglish: "HDL cholesterol", nameChinese: "高密度脂蛋白胆固醇"),
        RiskModelInput(key: "waist", unit: "cm", minimum: 40, maximum: 200, nameEnglish: "Waist", nameChinese: "腰围"),
    ]

    struct Coefficients {
        var lnAge: Double
        var lnTreatedSBP: Double
        var lnUntreatedSBP: Double
        var lnTC: Double
        var lnHDL: Double
        var lnWaist: Double
        var smoker: Double
        var diabetes: Double
        var north: Double
        var urban: Double
        var familyHistory: Double
        var lnAgeTimesLnTreatedSBP: Double
        var lnAgeTimesLnUntreatedSBP: Double
        var lnAgeTimesSmoker: Double
        var lnAgeTimesFamilyHistory: Double
        var mean: Double
        var baselineSurvival: Double
    }

    /// Men: Supplemental Table 1; the six continuous coefficients are the worked example's products divided by its
    /// values (130.88/ln 60, 127.28/ln 130, 3.32/ln 210, −2.78/ln 55, −3.12/ln 80, −114.21/(ln 60·ln 130)), printed
    /// as 31.97, 26.15, 0.62, −0.69, −0.71, −5.73. S10 0.9707 is Supplemental Table 2's worked formula.
    static let men = Coefficients(
        lnAge: 130.88 / log(60.0), lnTreatedSBP: 27.39, lnUntreatedSBP: 127.28 / log(130.0), lnTC: 3.32 / log(210.0),
        lnHDL: -2.78 / log(55.0), lnWaist: -3.12 / log(80.0), smoker: 3.96, diabetes: 0.36, north: 0.48, urban: -0.16,
        familyHistory: 6.22, lnAgeTimesLnTreatedSBP: -6.02, lnAgeTimesLnUntreatedSBP: -114.21 / (log(60.0) * log(130.0)),
        lnAgeTimesSmoker: -0.94, lnAgeTimesFamilyHistory: -1.53, mean: 140.68, baselineSurvival: 0.9707)

    /// Women: Supplemental Table 1 as printed (no urban, family-history or smoking-interaction terms). S10 is printed
    /// as 0.99; 0.9851 solves 1 − S10^exp(119.22 − 117.26) = 10.1 % (the women's worked example).
    static let women = Coefficients(
        lnAge: 24.87, lnTreatedSBP: 20.71, lnUntreatedSBP: 19.98, lnTC: 0.06, lnHDL: -0.22, lnWaist: 1.48, smoker: 0.49,
        diabetes: 0.57, north: 0.54, urban: 0, familyHistory: 0, lnAgeTimesLnTreatedSBP: -4.53, lnAgeTimesLnUntreatedSBP: -4.36,
        lnAgeTimesSmoker: 0, lnAgeTimesFamilyHistory: 0, mean: 117.26, baselineSurvival: 0.9851)

    /// The paper's conversion: mg/dL × 0.0259 = mmol/L.
    public static let millimolesPerMilligramDecilitre = 0.0259

    /// The 10-year risk, or the first input outside its range.
    public static func evaluate(_ input: Input) throws(RiskInputError) -> Result {
        let age = try inputs[0].checked(input.age, model: key)
        let sbp = try inputs[1].checked(input.systolic, model: key)
        let tc = try inputs[2].checked(input.totalCholesterol, model: key) / millimolesPerMilligramDecilitre
        let hdl = try inputs[3].checked(input.hdlCholesterol, model: key) / millimolesPerMilligramDecilitre
        let waist = try inputs[4].checked(input.waist, model: key)
        let c = input.sex == .male ? men : women
        let lnAge = log(age)
        let lnSBP = log(sbp)
        func flag(_ value: Bool) -> Double { value ? 1 : 0 }
        var sum = c.lnAge * lnAge
        sum += (input.treated ? c.lnTreatedSBP : c.lnUntreatedSBP) * lnSBP
        sum += c.lnTC * log(tc) + c.lnHDL * log(hdl) + c.lnWaist * log(waist)
        sum += c.smoker * flag(input.currentSmoker) + c.diabetes * flag(input.diabetes) + c.north * flag(input.north)
        sum += c.urban * flag(input.urban) + c.familyHistory * flag(input.familyHistory)
        sum += (input.treated ? c.lnAgeTimesLnTreatedSBP : c.lnAgeTimesLnUntreatedSBP) * lnAge * lnSBP
        sum += c.lnAgeTimesSmoker * lnAge * flag(input.currentSmoker) + c.lnAgeTimesFamilyHistory * lnAge * flag(input.familyHistory)
        let risk = 100 * (1 - pow(c.baselineSurvival, exp(sum - c.mean)))
        return Result(sum: sum, risk: risk, category: Category(risk: risk))
    }
}
