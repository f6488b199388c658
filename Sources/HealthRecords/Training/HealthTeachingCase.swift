import Crypto
import Foundation

/// A resident's examination made into a health-management teaching case: identifiers removed, dates shifted by an
/// offset derived from a secret (the same record always shifts the same way), free text dropped (only coded items and
/// measurements go through), and a safety net that refuses the case when any identifying value of the record is still
/// in its text, as the imaging de-identifier holds back an object that still carries one. The reference answers of
/// the students' tasks (compute the risk, classify, write the plan) are the models' results on the case's values.
public struct HealthTeachingCase: Sendable, Equatable, Codable {
    /// The measured values the tasks are computed from (no identity, seed 0).
    public var values: RiskTraining.Case
    /// The examination's day after the shift, and the follow-ups' days after it with their classification.
    public var examinationDate: String
    public var followUps: [ShiftedFollowUp]
    public var historyChinese: String
    public var historyEnglish: String
    public var findingsText: String
    /// The plan items a complete plan names for these findings (`sbp`, `cigarettes`, `weight`, `fasting-glucose`, `lipids`).
    public var planItems: [String]

    public struct ShiftedFollowUp: Sendable, Equatable, Codable {
        public var date: String
        public var kind: FollowUp.Kind
        public var classification: FollowUp.Classification
        public var systolic: Double?
        public var diastolic: Double?
    }

    /// Days to shift a resident's dates back by: 30–394, from HMAC-SHA256 of the resident's id under the secret.
    public static func shift(resident id: Int64, secret: [UInt8]) -> Int {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("health-resident/\(id)".utf8), using: SymmetricKey(data: secret))
        let value = Array(mac).prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return 30 + Int(value % 365)
    }

    public static func make(
        resident: Resident, examination: Examination, followUps: [FollowUp], secret: [UInt8]
    ) throws(HealthError) -> HealthTeachingCase {
        guard let examined = CivilDate(examination.date), let age = resident.age(on: examination.date) else {
            throw .invalid("the examination has no date")
        }
        guard let height = examination.vitals.height, let weight = examination.vitals.weight, let waist = examination.vitals.waist,
            let pressure = examination.vitals.pressure, let tc = examination.auxiliary.totalCholesterol,
            let hdl = examination.auxiliary.hdlCholesterol
        else { throw .invalid("a teaching case needs height, weight, waist, blood pressure, total and HDL cholesterol") }
        let days = shift(resident: resident.id, secret: secret)
        let diabetes =
            resident.information.diagnosed(Diagnosis.diabetes) || (examination.auxiliary.fastingGlucose.map { $0 >= 7.0 } ?? false)
        let values = RiskTraining.Case(
            seed: 0, sex: resident.sex, age: age, height: height, weight: weight, waist: waist, systolic: pressure.systolic,
            diastolic: pressure.diastolic, treated: examination.antihypertensiveTreatment, totalCholesterol: tc, hdlCholesterol: hdl,
            currentSmoker: examination.lifestyle.currentSmoker, diabetes: diabetes, north: resident.north, urban: resident.urban,
            familyHistoryASCVD: resident.information.familyHistoryASCVD, familyHistoryDiabetes: resident.information.familyHistoryDiabetes)
        let shifted = followUps.filter { CivilDate($0.date).map { $0 >= examined } ?? false }.sorted { $0.date < $1.date }.compactMap {
            followUp -> ShiftedFollowUp? in
            guard let day = CivilDate(followUp.date) else { return nil }
            return ShiftedFollowUp(
                date: day.adding(days: -days).description, kind: followUp.kind, classification: followUp.classification,
                systolic: followUp.systolic, diastolic: followUp.diastolic)
        }
        // Only coded items of the forms: diagnoses, smoking, drinking, exercise; no free text.
        let knownDiagnoses = ["hypertension", "diabetes", "coronary-heart-disease", "stroke", "copd", "cancer"]
        let diagnoses = resident.information.diagnoses.map(\.code).filter { knownDiagnoses.contains($0) }
        let sexChinese = resident.sex == .male ? "男" : "女"
        let namesChinese = [
            "hypertension": "高血压", "diabetes": "2型糖尿病", "coronary-heart-disease": "冠心病", "stroke": "脑卒中", "copd": "慢阻肺", "cancer": "恶性肿瘤",
        ]
        var chinese = "\(sexChinese)，\(age)岁，\(resident.north ? "北方" : "南方")\(resident.urban ? "城市" : "农村")居民。"
        chinese += diagnoses.isEmpty ? "无已诊断慢性病。" : "既往：\(diagnoses.compactMap { namesChinese[$0] }.joined(separator: "、"))。"
        chinese += examination.lifestyle.currentSmoker ? "目前吸烟。" : "目前不吸烟。"
        if examination.antihypertensiveTreatment { chinese += "正在服用降压药。" }
        if resident.information.familyHistoryASCVD { chinese += "有心血管病家族史。" }
        if resident.information.familyHistoryDiabetes { chinese += "有糖尿病家族史。" }
        var english = "\(resident.sex == .male ? "Man" : "Woman"), \(age), living in \(resident.north ? "northern" : "southern") China, "
        english += "\(resident.urban ? "urban" : "rural") area. "
        english += diagnoses.isEmpty ? "No diagnosed chronic disease. " : "History: \(diagnoses.joined(separator: ", ")). "
        english += examination.lifestyle.currentSmoker ? "Smokes. " : "Does not smoke. "
        if examination.antihypertensiveTreatment { english += "Takes antihypertensive drugs. " }
        if resident.information.familyHistoryASCVD { english += "Family history of cardiovascular disease. " }
        if resident.information.familyHistoryDiabetes { english += "Family history of diabetes." }
        func number(_ value: Double?) -> String {
            guard let value else { return "—" }
            return value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
        }
        var findings = "身高 height \(number(height)) cm; 体重 weight \(number(weight)) kg; 腰围 waist \(number(waist)) cm; "
        findings += "血压 BP \(number(pressure.systolic))/\(number(pressure.diastolic)) mmHg; "
        findings += "总胆固醇 TC \(number(tc)) mmol/L; HDL-C \(number(hdl)) mmol/L; "
        findings += "空腹血糖 FPG \(number(examination.auxiliary.fastingGlucose)) mmol/L"
        for followUp in shifted {
            findings += "; \(followUp.date) \(followUp.kind.rawValue) \(followUp.classification.rawValue)"
            if let s = followUp.systolic, let d = followUp.diastolic { findings += " \(number(s))/\(number(d))" }
        }
        let assessment = Assessment.assess(examination, of: resident)
        var planItems: [String] = []
        if assessment.bloodPressure?.category.isHypertension == true || resident.information.diagnosed(Diagnosis.hypertension) {
            planItems.append("sbp")
        }
        if examination.lifestyle.currentSmoker { planItems.append("cigarettes") }
        if [.overweight, .obese].contains(assessment.bmiClass) || assessment.waistClass == .centralObesity { planItems.append("weight") }
        if diabetes || assessment.diabetesRisk?.highRisk == true || (examination.auxiliary.fastingGlucose ?? 0) >= 6.1 {
            planItems.append("fasting-glucose")
        }
        if tc >= 6.2 || hdl < 1.0 { planItems.append("lipids") }
        let made = HealthTeachingCase(
            values: values, examinationDate: examined.adding(days: -days).description, followUps: shifted, historyChinese: chinese,
            historyEnglish: english, findingsText: findings, planItems: planItems)
        let leaks = made.leaks(of: resident, examination: examination, followUps: followUps)
        guard leaks.isEmpty else { throw .invalid("the safety net held the case back: it still holds \(leaks.joined(separator: ", "))") }
        return made
    }

    /// Which identifying values of the record (by kind, never the value) the case's text still holds: the name,
    /// identity number, phone, address, record number, birth date and the record's real dates.
    public func leaks(of resident: Resident, examination: Examination, followUps: [FollowUp]) -> [String] {
        let all = ([historyChinese, historyEnglish, findingsText, examinationDate] + self.followUps.map(\.date)).joined(separator: "\n")
        var found: [String] = []
        func check(_ kind: String, _ value: String) {
            let trimmed = value.trimmingCharacters(in: .whitespaces)
            guard trimmed.count >= 2 else { return }
            if all.contains(trimmed) || all.contains(trimmed.replacingOccurrences(of: "-", with: "")) { found.append(kind) }
        }
        check("name", resident.name)
        check("identity number", resident.identityNumber)
        check("phone", resident.phone)
        check("address", resident.address)
        check("record number", resident.recordNumber)
        check("birth date", resident.birthDate)
        check("examination date", examination.date)
        check("doctor", examination.doctor)
        for followUp in followUps {
            check("follow-up date", followUp.date)
            check("next follow-up date", followUp.nextDate)
        }
        return Array(Set(found)).sorted()
    }

    /// A student's answers to the case's tasks: the risk computations (graded as in the training room) and the plan's
    /// items; the plan is right when it names every item the findings call for.
    public struct PlanFeedback: Sendable, Equatable, Codable {
        public var expected: [String]
        public var missing: [String]
        public var correct: Bool
    }

    public func gradePlan(_ items: [String]) -> PlanFeedback {
        let given = Set(items.map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
        let missing = planItems.filter { !given.contains($0) }
        return PlanFeedback(expected: planItems, missing: missing, correct: missing.isEmpty)
    }
}
