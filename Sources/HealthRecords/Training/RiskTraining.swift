import Foundation

/// The risk-assessment training room: synthetic residents drawn from distributions like those of Chinese community
/// adults, a student's answers graded item by item against the models, with what was wrong per input. A resident is
/// a function of its seed, so a room can hand out the same case again and grade it later without storing it.
public enum RiskTraining {
    /// A synthetic resident: what a student sees and computes from.
    public struct Case: Sendable, Equatable, Codable {
        public var seed: UInt64
        public var sex: ChinaPAR.Sex
        public var age: Int
        public var height: Double
        public var weight: Double
        public var waist: Double
        public var systolic: Double
        public var diastolic: Double
        public var treated: Bool
        public var totalCholesterol: Double
        public var hdlCholesterol: Double
        public var currentSmoker: Bool
        public var diabetes: Bool
        public var north: Bool
        public var urban: Bool
        public var familyHistoryASCVD: Bool
        public var familyHistoryDiabetes: Bool
    }

    /// SplitMix64, so every platform draws the same case from a seed.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func unit() -> Double { Double(next() >> 11) / Double(UInt64(1) << 53) }
        mutating func chance(_ p: Double) -> Bool { unit() < p }
        mutating func normal(_ mean: Double, _ sd: Double, _ range: ClosedRange<Double>) -> Double {
            let u = max(unit(), 1e-12)
            let z = (-2 * log(u)).squareRoot() * cos(2 * Double.pi * unit())
            return min(max(mean + sd * z, range.lowerBound), range.upperBound)
        }
    }

    /// A case inside every model's range (35–74 years), with pressure rising with age, sex-specific height, waist
    /// and HDL, about a quarter smokers overall (half of men), one in ten with diabetes.
    public static func generate(seed: UInt64) -> Case {
        var random = Generator(state: seed)
        let male = random.chance(0.5)
        let age = 35 + Int(random.unit() * 40)
        let systolic = random.normal(112 + Double(age - 35) * 0.6, 16, 90...210).rounded()
        let height = random.normal(male ? 168 : 157, 6, 145...190).rounded()
        let bmi = random.normal(24.2, 3.2, 17...38)
        return Case(
            seed: seed, sex: male ? .male : .female, age: age, height: height, weight: (bmi * height * height / 1_000).rounded() / 10,
            waist: random.normal(male ? 87 : 81, 9, 62...125).rounded(), systolic: systolic,
            diastolic: random.normal(systolic * 0.6, 7, 55...125).rounded(), treated: systolic >= 140 && random.chance(0.5),
            totalCholesterol: (random.normal(4.9, 0.9, 2.8...8.5) * 10).rounded() / 10,
            hdlCholesterol: (random.normal(male ? 1.2 : 1.4, 0.25, 0.6...2.6) * 100).rounded() / 100,
            currentSmoker: male ? random.chance(0.5) : random.chance(0.03), diabetes: random.chance(0.1), north: random.chance(0.5),
            urban: random.chance(0.6), familyHistoryASCVD: random.chance(0.1), familyHistoryDiabetes: random.chance(0.15))
    }

    /// What a student answers; an item left out is not graded.
    public struct Answer: Sendable, Equatable, Codable {
        public var bmi: Double?
        public var bmiClass: BMIClass?
        public var waistClass: WaistClass?
        public var bloodPressureClass: BloodPressureClass?
        /// China-PAR 10-year risk in percent, and its category.
        public var chinaPAR: Double?
        public var chinaPARCategory: ChinaPAR.Category?
        /// The diabetes score's points per item and total.
        public var cdrsAge: Int?
        public var cdrsSex: Int?
        public var cdrsBMI: Int?
        public var cdrsWaist: Int?
        public var cdrsSystolic: Int?
        public var cdrsFamilyHistory: Int?
        public var cdrsTotal: Int?

        public init(
            bmi: Double? = nil, bmiClass: BMIClass? = nil, waistClass: WaistClass? = nil, bloodPressureClass: BloodPressureClass? = nil,
            chinaPAR: Double? = nil, chinaPARCategory: ChinaPAR.Category? = nil, cdrsAge: Int? = nil, cdrsSex: Int? = nil,
            cdrsBMI: Int? = nil, cdrsWaist: Int? = nil, cdrsSystolic: Int? = nil, cdrsFamilyHistory: Int? = nil, cdrsTotal: Int? = nil
        ) {
            self.bmi = bmi
            self.bmiClass = bmiClass
            self.waistClass = waistClass
            self.bloodPressureClass = bloodPressureClass
            self.chinaPAR = chinaPAR
            self.chinaPARCategory = chinaPARCategory
            self.cdrsAge = cdrsAge
            self.cdrsSex = cdrsSex
            self.cdrsBMI = cdrsBMI
            self.cdrsWaist = cdrsWaist
            self.cdrsSystolic = cdrsSystolic
            self.cdrsFamilyHistory = cdrsFamilyHistory
            self.cdrsTotal = cdrsTotal
        }
    }

    /// One graded item: the expected value, the student's, and the inputs it depends on (shown when it is wrong).
    public struct Item: Sendable, Equatable, Codable {
        public var item: String
        public var expected: String
        public var given: String
        public var correct: Bool
        public var inputs: [String]
    }

    public struct Feedback: Sendable, Equatable, Codable {
        public var items: [Item]
        public var correct: Int
        public var graded: Int
    }

    /// Tolerances: BMI within 0.1 kg/m² (one decimal as the forms write it); China-PAR within 0.5 percentage point
    /// (a hand computation rounds the logarithms); points and classes exactly.
    public static let bmiTolerance = 0.1
    public static let chinaPARTolerance = 0.5

    public static func grade(_ answer: Answer, for resident: Case) throws(RiskInputError) -> Feedback {
        let bmi = try BMIClass.bmi(heightCentimetres: resident.height, weightKilograms: resident.weight)
        let waist = try WaistClass.classify(waist: resident.waist, sex: resident.sex)
        let pressure = try BloodPressureClass.classify(systolic: resident.systolic, diastolic: resident.diastolic)
        let par = try ChinaPAR.evaluate(
            ChinaPAR.Input(
                sex: resident.sex, age: Double(resident.age), systolic: resident.systolic, treated: resident.treated,
                totalCholesterol: resident.totalCholesterol, hdlCholesterol: resident.hdlCholesterol, waist: resident.waist,
                currentSmoker: resident.currentSmoker, diabetes: resident.diabetes, north: resident.north, urban: resident.urban,
                familyHistory: resident.familyHistoryASCVD))
        let cdrs = try ChineseDiabetesRiskScore.evaluate(
            .init(
                sex: resident.sex, age: Double(resident.age), bmi: bmi, waist: resident.waist, systolic: resident.systolic,
                familyHistory: resident.familyHistoryDiabetes))
        var items: [Item] = []
        func add(_ name: String, _ expected: String, _ given: String?, _ correct: Bool?, _ inputs: [String]) {
            guard let given, let correct else { return }
            items.append(Item(item: name, expected: expected, given: given, correct: correct, inputs: inputs))
        }
        func one(_ value: Double) -> String { String(format: "%.1f", value) }
        add("bmi", one(bmi), answer.bmi.map(one), answer.bmi.map { abs($0 - bmi) <= bmiTolerance + 1e-9 }, ["height", "weight"])
        add("bmi-class", BMIClass(bmi: bmi).rawValue, answer.bmiClass?.rawValue, answer.bmiClass.map { $0 == BMIClass(bmi: bmi) }, ["bmi"])
        add("waist-class", waist.rawValue, answer.waistClass?.rawValue, answer.waistClass.map { $0 == waist }, ["waist", "sex"])
        add(
            "bp-class", pressure.category.rawValue, answer.bloodPressureClass?.rawValue,
            answer.bloodPressureClass.map { $0 == pressure.category }, ["sbp", "dbp"])
        add(
            "china-par", one(par.risk), answer.chinaPAR.map(one), answer.chinaPAR.map { abs($0 - par.risk) <= chinaPARTolerance },
            ["sex", "age", "sbp", "treated", "tc", "hdl", "waist", "smoker", "diabetes", "north", "urban", "family-ascvd"])
        add(
            "china-par-category", par.category.rawValue, answer.chinaPARCategory?.rawValue,
            answer.chinaPARCategory.map { $0 == par.category }, ["china-par"])
        for (name, expected, given, input) in [
            ("cdrs-age", cdrs.age, answer.cdrsAge, "age"), ("cdrs-sex", cdrs.sex, answer.cdrsSex, "sex"),
            ("cdrs-bmi", cdrs.bmi, answer.cdrsBMI, "bmi"), ("cdrs-waist", cdrs.waist, answer.cdrsWaist, "waist"),
            ("cdrs-sbp", cdrs.systolic, answer.cdrsSystolic, "sbp"),
            ("cdrs-family", cdrs.familyHistory, answer.cdrsFamilyHistory, "family-diabetes"),
            ("cdrs-total", cdrs.total, answer.cdrsTotal, "cdrs-items"),
        ] {
            add(name, String(expected), given.map(String.init), given.map { $0 == expected }, [input])
        }
        return Feedback(items: items, correct: items.filter(\.correct).count, graded: items.count)
    }
}
