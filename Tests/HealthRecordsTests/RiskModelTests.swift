import AtriumTesting
import Foundation
import Testing

@testable import HealthRecords

/// SplitMix64: a small seeded generator, so the population is the same on every run.
struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    /// Normal by Box–Muller, clipped to a range.
    mutating func normal(_ mean: Double, _ sd: Double, _ range: ClosedRange<Double>) -> Double {
        let u = max(unit(), 1e-12)
        let v = unit()
        let z = (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
        return min(max(mean + sd * z, range.lowerBound), range.upperBound)
    }
    mutating func chance(_ p: Double) -> Bool { unit() < p }
}

@Suite("Health risk models")
struct RiskModelTests {
    /// The worked example of China-PAR's Supplemental Table 1 and Table 2: 60 years, untreated SBP 130 mmHg, TC 210
    /// mg/dL, HDL-C 55 mg/dL, waist 80 cm, non-smoker, diabetes, urban northern China, no family history.
    static func example(_ sex: ChinaPAR.Sex, age: Double) -> ChinaPAR.Input {
        ChinaPAR.Input(
            sex: sex, age: age, systolic: 130, treated: false, totalCholesterol: 210 * 0.0259, hdlCholesterol: 55 * 0.0259, waist: 80,
            currentSmoker: false, diabetes: true, north: true, urban: true, familyHistory: false)
    }

    @Test("China-PAR reproduces the paper's worked example: individual sums 142.04 (men) and 119.22 (women)")
    func chinaPARWorkedExampleSums() throws {
        #expect(abs(try ChinaPAR.evaluate(Self.example(.male, age: 60)).sum - 142.04) < 0.02)
        #expect(abs(try ChinaPAR.evaluate(Self.example(.female, age: 60)).sum - 119.22) < 0.02)
    }

    @Test(
        "China-PAR reproduces Table 2 of the paper: the example's 10-year risk at 40, 50, 60 and 70 years",
        arguments: [
            (ChinaPAR.Sex.male, 40.0, 2.2), (.male, 50, 5.4), (.male, 60, 11.0), (.male, 70, 19.6),
            (.female, 40, 2.4), (.female, 50, 5.4), (.female, 60, 10.1), (.female, 70, 17.1),
        ])
    func chinaPARTable2(sex: ChinaPAR.Sex, age: Double, printed: Double) throws {
        let risk = try ChinaPAR.evaluate(Self.example(sex, age: age)).risk
        // Table 2 prints one decimal; the coefficients are known to about four significant digits (docs/health.md).
        #expect(abs(risk - printed) <= 0.1, "\(sex) \(age): \(risk) vs \(printed)")
    }

    @Test("China-PAR: the 2019 guideline's example man (40 years, 145/80 untreated, family history) is low risk, near its 4.7 %")
    func chinaPARGuidelineExample() throws {
        let result = try ChinaPAR.evaluate(
            ChinaPAR.Input(
                sex: .male, age: 40, systolic: 145, treated: false, totalCholesterol: 5.2, hdlCholesterol: 1.3, waist: 80,
                currentSmoker: false, diabetes: false, north: true, urban: true, familyHistory: true))
        #expect(result.category == .low)
        #expect(abs(result.risk - 4.7) < 0.25, "\(result.risk)")
    }

    @Test("China-PAR refuses an age outside 35–74 with a message in both languages naming the input, value and range")
    func chinaPARRefusesAge() {
        var input = Self.example(.male, age: 30)
        #expect(throws: RiskInputError.self) { try ChinaPAR.evaluate(input) }
        do {
            _ = try ChinaPAR.evaluate(input)
        } catch {
            #expect(error.input == "age")
            #expect(error.english.contains("Age 30 years") && error.english.contains("35–74"))
            #expect(error.chinese.contains("年龄") && error.chinese.contains("35–74"))
        }
        input = Self.example(.female, age: 50)
        input.hdlCholesterol = .nan
        #expect(throws: RiskInputError.self) { try ChinaPAR.evaluate(input) }
        input.hdlCholesterol = 1.2
        input.systolic = 400
        #expect(throws: RiskInputError.self) { try ChinaPAR.evaluate(input) }
    }

    @Test("The diabetes risk score adds the guideline's points and calls 25 or more high; it refuses ages outside 20–74")
    func diabetesScore() throws {
        // 52-year-old man, BMI 25.1, waist 92, SBP 136, diabetic mother: 13 + 3 + 8 + 6 + 2 + 6 = 38.
        let result = try ChineseDiabetesRiskScore.evaluate(
            .init(sex: .male, age: 52, bmi: 25.1, waist: 92, systolic: 136, familyHistory: true))
        #expect(result.total == 38)
        #expect(result.highRisk)
        // 30-year-old woman, BMI 21, waist 68, SBP 108, no family history: 4 points.
        let low = try ChineseDiabetesRiskScore.evaluate(
            .init(sex: .female, age: 30, bmi: 21, waist: 68, systolic: 108, familyHistory: false))
        #expect(low.total == 4)
        #expect(!low.highRisk)
        #expect(throws: RiskInputError.self) {
            try ChineseDiabetesRiskScore.evaluate(.init(sex: .female, age: 80, bmi: 21, waist: 68, systolic: 108, familyHistory: false))
        }
    }

    @Test("BMI, waist and blood pressure follow the Chinese cut-offs at their boundaries")
    func classifications() throws {
        #expect(BMIClass(bmi: 18.49) == .normal)  // written 18.5
        #expect(BMIClass(bmi: 18.44) == .underweight)
        #expect(BMIClass(bmi: 23.9) == .normal)
        #expect(BMIClass(bmi: 24.0) == .overweight)
        #expect(BMIClass(bmi: 27.9) == .overweight)
        #expect(BMIClass(bmi: 28.0) == .obese)
        #expect(try WaistClass.classify(waist: 90, sex: .male) == .centralObesity)
        #expect(try WaistClass.classify(waist: 89.9, sex: .male) == .preCentralObesity)
        #expect(try WaistClass.classify(waist: 85, sex: .female) == .centralObesity)
        #expect(try WaistClass.classify(waist: 79.9, sex: .female) == .normal)
        #expect(try BloodPressureClass.classify(systolic: 119, diastolic: 79).category == .normal)
        #expect(try BloodPressureClass.classify(systolic: 120, diastolic: 70).category == .highNormal)
        #expect(try BloodPressureClass.classify(systolic: 118, diastolic: 90).category == .grade1)
        #expect(try BloodPressureClass.classify(systolic: 165, diastolic: 95).category == .grade2)
        #expect(try BloodPressureClass.classify(systolic: 150, diastolic: 112).category == .grade3)
        let isolated = try BloodPressureClass.classify(systolic: 152, diastolic: 82)
        #expect(isolated.category == .grade1 && isolated.isolatedSystolic)
        #expect(throws: RiskInputError.self) { try BloodPressureClass.classify(systolic: 20, diastolic: 10) }
        #expect(throws: RiskInputError.self) { try BMIClass.bmi(heightCentimetres: 0, weightKilograms: 60) }
    }

    /// A synthetic population drawn from roughly the distributions of Chinese community adults (age 20–80, SBP
    /// around 130 ± 20, TC 4.8 ± 1.0, HDL 1.3 ± 0.3 mmol/L, waist 84 ± 10 cm, BMI about 24 ± 3.5).
    static func population(_ count: Int, seed: UInt64) -> [[String: Any]] {
        var random = SeededRandom(seed: seed)
        return (0..<count).map { _ in
            let male = random.chance(0.5)
            let age = Double(20 + random.below(61))
            let sbp = random.normal(118 + (age - 20) * 0.45, 18, 85...230).rounded()
            let height = random.normal(male ? 169 : 158, 6.5, 140...195).rounded()
            let bmi = random.normal(24, 3.5, 15...42)
            return [
                "sex": male ? "male" : "female", "age": age, "sbp": sbp, "dbp": random.normal(sbp * 0.62, 8, 50...130).rounded(),
                "treated": random.chance(0.2), "tc": (random.normal(4.8, 1.0, 2.0...9.5) * 100).rounded() / 100,
                "hdl": (random.normal(male ? 1.2 : 1.4, 0.3, 0.5...3.0) * 100).rounded() / 100,
                "waist": random.normal(male ? 86 : 80, 10, 55...130).rounded(), "height": height,
                "weight": (bmi * height * height / 10_000 * 10).rounded() / 10, "smoker": male && random.chance(0.45),
                "diabetes": random.chance(0.1), "north": random.chance(0.5), "urban": random.chance(0.6),
                "fh_ascvd": random.chance(0.1), "fh_diabetes": random.chance(0.15),
            ]
        }
    }

    @Test("On 1,000 seeded synthetic residents every model agrees with an independent Python computation")
    func populationAgreesWithPython() throws {
        let people = Self.population(1000, seed: 20_261_206)
        let path = try Corpus.temporaryDirectory("atrium-health-risk") + "/population.json"
        try JSONSerialization.data(withJSONObject: people).write(to: URL(fileURLWithPath: path))
        let run = try Subprocess.run("python3", [Corpus.script("HealthRecordsTests", "risk_reference.py"), path])
        try #require(run.status == 0, "risk_reference.py: \(run.errorOutput)")
        let reference = try #require(try JSONSerialization.jsonObject(with: run.standardOutput) as? [[String: Any]])
        try #require(reference.count == people.count)
        var chinaPARComputed = 0
        var cdrsComputed = 0
        for (person, expected) in zip(people, reference) {
            func number(_ key: String) -> Double { (person[key] as? NSNumber)?.doubleValue ?? .nan }
            func flag(_ key: String) -> Bool { person[key] as? Bool ?? false }
            let sex: ChinaPAR.Sex = person["sex"] as? String == "male" ? .male : .female
            let input = ChinaPAR.Input(
                sex: sex, age: number("age"), systolic: number("sbp"), treated: flag("treated"), totalCholesterol: number("tc"),
                hdlCholesterol: number("hdl"), waist: number("waist"), currentSmoker: flag("smoker"), diabetes: flag("diabetes"),
                north: flag("north"), urban: flag("urban"), familyHistory: flag("fh_ascvd"))
            if let risk = (expected["china_par"] as? NSNumber)?.doubleValue {
                let result = try ChinaPAR.evaluate(input)
                #expect(abs(result.risk - risk) < 1e-9 * max(1, risk), "\(person): \(result.risk) vs \(risk)")
                #expect(result.category.rawValue == expected["china_par_category"] as? String)
                chinaPARComputed += 1
            } else {
                #expect(throws: RiskInputError.self) { try ChinaPAR.evaluate(input) }
            }
            let bmi = try BMIClass.bmi(heightCentimetres: number("height"), weightKilograms: number("weight"))
            #expect(abs(bmi - ((expected["bmi"] as? NSNumber)?.doubleValue ?? 0)) < 1e-9)
            #expect(BMIClass(bmi: bmi).rawValue == expected["bmi_class"] as? String)
            #expect(try WaistClass.classify(waist: number("waist"), sex: sex).rawValue == expected["waist_class"] as? String)
            let pressure = try BloodPressureClass.classify(systolic: number("sbp"), diastolic: number("dbp"))
            #expect(pressure.category.rawValue == expected["bp_class"] as? String)
            #expect(pressure.isolatedSystolic == expected["isolated_systolic"] as? Bool)
            let cdrsInput = ChineseDiabetesRiskScore.Input(
                sex: sex, age: number("age"), bmi: bmi, waist: number("waist"), systolic: number("sbp"), familyHistory: flag("fh_diabetes"))
            if let total = (expected["cdrs"] as? NSNumber)?.intValue {
                let result = try ChineseDiabetesRiskScore.evaluate(cdrsInput)
                #expect(result.total == total, "\(person)")
                #expect(result.highRisk == expected["cdrs_high"] as? Bool)
                cdrsComputed += 1
            } else {
                #expect(throws: RiskInputError.self) { try ChineseDiabetesRiskScore.evaluate(cdrsInput) }
            }
        }
        // The population spans the models' ranges: most inside, some outside (ages 20–34 and 75–80 for China-PAR).
        #expect(chinaPARComputed > 500 && chinaPARComputed < 1000)
        #expect(cdrsComputed > 800 && cdrsComputed < 1000)
    }
}
