import Foundation

/// The risk assessment of one examination: each model's result, or why it could not be computed (an input missing or
/// outside the model's range, in both languages). Findings are the keys recommendations are matched on.
public struct Assessment: Sendable, Equatable, Codable {
    public struct Refusal: Sendable, Equatable, Codable {
        public var model: String
        public var input: String
        public var english: String
        public var chinese: String
    }

    public var id: Int64
    public var residentID: Int64
    public var examinationID: Int64
    /// The examination's day, yyyy-MM-dd.
    public var date: String
    public var age: Int?
    public var bmi: Double?
    public var bmiClass: BMIClass?
    public var waistClass: WaistClass?
    public var bloodPressure: BloodPressureClass.Result?
    public var chinaPAR: ChinaPAR.Result?
    public var diabetesRisk: ChineseDiabetesRiskScore.Result?
    public var refusals: [Refusal]
    public var assessedBy: String
    public var assessedAt: Date

    /// `bmi:overweight`, `waist:central-obesity`, `bp:grade-1`, `china-par:high`, `cdrs:high`, `smoking:current`, …
    public var findings: [String] {
        var findings: [String] = []
        if let bmiClass { findings.append("bmi:\(bmiClass.rawValue)") }
        if let waistClass { findings.append("waist:\(waistClass.rawValue)") }
        if let bloodPressure { findings.append("bp:\(bloodPressure.category.rawValue)") }
        if let chinaPAR { findings.append("china-par:\(chinaPAR.category.rawValue)") }
        if let diabetesRisk { findings.append(diabetesRisk.highRisk ? "cdrs:high" : "cdrs:low") }
        return findings + extraFindings
    }

    /// Findings from the examination itself (smoking, drinking, glucose, lipids).
    public var extraFindings: [String]

    /// Assesses an examination of a resident. Missing inputs and values outside a model's range become refusals; the
    /// other models still run.
    public static func assess(_ examination: Examination, of resident: Resident, by person: String = "", at now: Date = Date())
        -> Assessment
    {
        var refusals: [Refusal] = []
        func refuse(_ error: RiskInputError) {
            refusals.append(Refusal(model: error.model, input: error.input, english: error.english, chinese: error.chinese))
        }
        func missing(_ model: String, _ input: String, _ english: String, _ chinese: String) {
            refusals.append(
                Refusal(
                    model: model, input: input, english: "\(english) is not recorded: the \(model) model needs it",
                    chinese: "未记录\(chinese)，\(model) 模型需要此项"))
        }
        let vitals = examination.vitals
        let age = resident.age(on: examination.date)
        var bmi: Double?
        var bmiClass: BMIClass?
        if let height = vitals.height, let weight = vitals.weight {
            do {
                let value = try BMIClass.bmi(heightCentimetres: height, weightKilograms: weight)
                bmi = value
                bmiClass = BMIClass(bmi: value)
            } catch { refuse(error) }
        } else {
            missing(BMIClass.key, "height", "Height or weight", "身高或体重")
        }
        var waistClass: WaistClass?
        if let waist = vitals.waist {
            do { waistClass = try WaistClass.classify(waist: waist, sex: resident.sex) } catch { refuse(error) }
        } else {
            missing("waist", "waist", "Waist", "腰围")
        }
        var pressure: BloodPressureClass.Result?
        if let reading = vitals.pressure {
            do { pressure = try BloodPressureClass.classify(systolic: reading.systolic, diastolic: reading.diastolic) } catch {
                refuse(error)
            }
        } else {
            missing("blood-pressure", "sbp", "Blood pressure", "血压")
        }
        let diabetes =
            resident.information.diagnosed(Diagnosis.diabetes) || (examination.auxiliary.fastingGlucose.map { $0 >= 7.0 } ?? false)
        var chinaPAR: ChinaPAR.Result?
        if let age, let reading = vitals.pressure, let tc = examination.auxiliary.totalCholesterol,
            let hdl = examination.auxiliary.hdlCholesterol, let waist = vitals.waist
        {
            do {
                chinaPAR = try ChinaPAR.evaluate(
                    ChinaPAR.Input(
                        sex: resident.sex, age: Double(age), systolic: reading.systolic, treated: examination.antihypertensiveTreatment,
                        totalCholesterol: tc, hdlCholesterol: hdl, waist: waist, currentSmoker: examination.lifestyle.currentSmoker,
                        diabetes: diabetes, north: resident.north, urban: resident.urban,
                        familyHistory: resident.information.familyHistoryASCVD))
            } catch { refuse(error) }
        } else {
            missing(ChinaPAR.key, "tc", "Age, blood pressure, total or HDL cholesterol, or waist", "年龄、血压、总胆固醇、高密度脂蛋白胆固醇或腰围")
        }
        var diabetesRisk: ChineseDiabetesRiskScore.Result?
        if resident.information.diagnosed(Diagnosis.diabetes) {
            // The score screens for undiagnosed diabetes; a diagnosed resident is followed up instead.
        } else if let age, let bmi, let waist = vitals.waist, let reading = vitals.pressure {
            do {
                diabetesRisk = try ChineseDiabetesRiskScore.evaluate(
                    ChineseDiabetesRiskScore.Input(
                        sex: resident.sex, age: Double(age), bmi: bmi, waist: waist, systolic: reading.systolic,
                        familyHistory: resident.information.familyHistoryDiabetes))
            } catch { refuse(error) }
        } else {
            missing(ChineseDiabetesRiskScore.key, "bmi", "Age, BMI, waist or blood pressure", "年龄、体质指数、腰围或血压")
        }
        var extra: [String] = []
        if examination.lifestyle.currentSmoker { extra.append("smoking:current") }
        if ["often", "daily"].contains(examination.lifestyle.drinkingFrequency) { extra.append("drinking:frequent") }
        if ["none", "occasional", ""].contains(examination.lifestyle.exerciseFrequency) { extra.append("exercise:insufficient") }
        if let glucose = examination.auxiliary.fastingGlucose {
            if glucose >= 7.0 { extra.append("glucose:diabetic") } else if glucose >= 6.1 { extra.append("glucose:impaired") }
        }
        if let tc = examination.auxiliary.totalCholesterol, tc >= 6.2 { extra.append("lipids:high-tc") }
        if let ldl = examination.auxiliary.ldlCholesterol, ldl >= 4.1 { extra.append("lipids:high-ldl") }
        if let hdl = examination.auxiliary.hdlCholesterol, hdl < 1.0 { extra.append("lipids:low-hdl") }
        if let tg = examination.auxiliary.triglycerides, tg >= 2.3 { extra.append("lipids:high-tg") }
        return Assessment(
            id: 0, residentID: resident.id, examinationID: examination.id, date: examination.date, age: age, bmi: bmi,
            bmiClass: bmiClass, waistClass: waistClass, bloodPressure: pressure, chinaPAR: chinaPAR, diabetesRisk: diabetesRisk,
            refusals: refusals, assessedBy: person, assessedAt: now, extraFindings: extra)
    }

    /// The library's active recommendations that suit these findings (those with no findings suit everyone).
    public func recommendations(from library: [Recommendation]) -> [Recommendation] {
        let mine = Set(findings)
        return library.filter { $0.active && ($0.findings.isEmpty || !mine.isDisjoint(with: $0.findings)) }
    }
}
