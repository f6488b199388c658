import Foundation

/// A follow-up visit of the hypertension (高血压患者随访服务记录表, 附件) or type 2 diabetes (2型糖尿病患者随访服务记录表)
/// form, with the classification each form asks for (此次随访分类) and the next visit's date.
public struct FollowUp: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case hypertension
        case diabetes
    }

    /// 此次随访分类.
    public enum Classification: String, Sendable, Codable, CaseIterable {
        /// 控制满意
        case controlled
        /// 控制不满意
        case uncontrolled
        /// 不良反应
        case adverseReaction = "adverse-reaction"
        /// 并发症
        case complication
    }

    public var id: Int64
    public var residentID: Int64
    public var kind: Kind
    /// yyyy-MM-dd.
    public var date: String
    /// 随访方式: clinic, home, phone.
    public var method: String
    public var symptoms: [String]
    /// 体征: mmHg, kg, target kg, beats/min (hypertension); dorsalis pedis pulse (diabetes).
    public var systolic: Double?
    public var diastolic: Double?
    public var weight: Double?
    public var targetWeight: Double?
    public var heartRate: Double?
    public var dorsalisPedisPulse: String
    /// 生活方式指导: cigarettes a day, liang a day, exercise times a week and minutes, salt (light, moderate, heavy),
    /// staple food g a day (diabetes); with the targets in `targets`.
    public var cigarettesPerDay: Double?
    public var drinkingLiangPerDay: Double?
    public var exerciseTimesPerWeek: Double?
    public var exerciseMinutes: Double?
    public var saltIntake: String
    public var stapleFoodGrams: Double?
    public var targets: [String: String]
    /// 心理调整 and 遵医行为: good, fair, poor.
    public var psychologicalAdjustment: String
    public var compliance: String
    /// 辅助检查 (diabetes): fasting glucose mmol/L, HbA1c %.
    public var fastingGlucose: Double?
    public var hba1c: Double?
    /// 服药依从性: regular, intermittent, none.
    public var medicationAdherence: String
    public var adverseReaction: String
    /// 低血糖反应 (diabetes): none, occasional, frequent.
    public var hypoglycaemia: String
    public var classification: Classification
    public var medications: [String]
    public var referral: String
    /// 下次随访日期, yyyy-MM-dd.
    public var nextDate: String
    public var doctor: String

    public init(
        id: Int64 = 0, residentID: Int64, kind: Kind, date: String, method: String = "clinic", symptoms: [String] = [],
        systolic: Double? = nil, diastolic: Double? = nil, weight: Double? = nil, targetWeight: Double? = nil, heartRate: Double? = nil,
        dorsalisPedisPulse: String = "", cigarettesPerDay: Double? = nil, drinkingLiangPerDay: Double? = nil,
        exerciseTimesPerWeek: Double? = nil, exerciseMinutes: Double? = nil, saltIntake: String = "", stapleFoodGrams: Double? = nil,
        targets: [String: String] = [:], psychologicalAdjustment: String = "", compliance: String = "", fastingGlucose: Double? = nil,
        hba1c: Double? = nil, medicationAdherence: String = "", adverseReaction: String = "", hypoglycaemia: String = "",
        classification: Classification, medications: [String] = [], referral: String = "", nextDate: String, doctor: String = ""
    ) {
        self.id = id
        self.residentID = residentID
        self.kind = kind
        self.date = date
        self.method = method
        self.symptoms = symptoms
        self.systolic = systolic
        self.diastolic = diastolic
        self.weight = weight
        self.targetWeight = targetWeight
        self.heartRate = heartRate
        self.dorsalisPedisPulse = dorsalisPedisPulse
        self.cigarettesPerDay = cigarettesPerDay
        self.drinkingLiangPerDay = drinkingLiangPerDay
        self.exerciseTimesPerWeek = exerciseTimesPerWeek
        self.exerciseMinutes = exerciseMinutes
        self.saltIntake = saltIntake
        self.stapleFoodGrams = stapleFoodGrams
        self.targets = targets
        self.psychologicalAdjustment = psychologicalAdjustment
        self.compliance = compliance
        self.fastingGlucose = fastingGlucose
        self.hba1c = hba1c
        self.medicationAdherence = medicationAdherence
        self.adverseReaction = adverseReaction
        self.hypoglycaemia = hypoglycaemia
        self.classification = classification
        self.medications = medications
        self.referral = referral
        self.nextDate = nextDate
        self.doctor = doctor
    }

    /// What is wrong with the record, or nil: dates that are not days, a next visit not after this one, pressures
    /// the form cannot hold.
    public var problem: String? {
        guard let visit = CivilDate(date) else { return "date \(date) is not yyyy-MM-dd" }
        guard let next = CivilDate(nextDate) else { return "next follow-up date \(nextDate) is not yyyy-MM-dd" }
        guard visit < next else { return "the next follow-up must come after this one" }
        if let systolic, !(50...300).contains(systolic) { return "systolic pressure \(systolic) mmHg is outside 50–300" }
        if let diastolic, !(20...200).contains(diastolic) { return "diastolic pressure \(diastolic) mmHg is outside 20–200" }
        if let fastingGlucose, !(1...40).contains(fastingGlucose) { return "fasting glucose \(fastingGlucose) mmol/L is outside 1–40" }
        return nil
    }
}

/// A management plan: goals, the follow-up dates agreed, and recommendations from the library.
public struct ManagementPlan: Sendable, Equatable, Codable {
    public struct Goal: Sendable, Equatable, Codable {
        /// What is measured (`weight`, `sbp`, `fasting-glucose`, `cigarettes`, `exercise-minutes`, or free text).
        public var item: String
        public var target: String
        /// yyyy-MM-dd by which.
        public var due: String

        public init(item: String, target: String, due: String) {
            self.item = item
            self.target = target
            self.due = due
        }
    }

    public var id: Int64
    public var residentID: Int64
    public var goals: [Goal]
    public var followUpDates: [String]
    public var recommendationIDs: [Int64]
    public var note: String
    public var createdBy: String
    public var createdAt: Date

    public init(
        id: Int64 = 0, residentID: Int64, goals: [Goal], followUpDates: [String], recommendationIDs: [Int64], note: String = "",
        createdBy: String = "", createdAt: Date = Date(timeIntervalSince1970: 0)
    ) {
        self.id = id
        self.residentID = residentID
        self.goals = goals
        self.followUpDates = followUpDates
        self.recommendationIDs = recommendationIDs
        self.note = note
        self.createdBy = createdBy
        self.createdAt = createdAt
    }
}

/// A recommendation of the library health managers edit, in both languages, with the findings it suits.
public struct Recommendation: Sendable, Equatable, Codable {
    public var id: Int64
    /// diet, exercise, smoking, drinking, weight, blood-pressure, glucose, lipids, follow-up, other.
    public var category: String
    public var textChinese: String
    public var textEnglish: String
    /// The assessment findings it is suggested for (`bmi:overweight`, `bp:grade-1`, `china-par:high`, `cdrs:high`,
    /// `smoking:current`…); empty for any.
    public var findings: [String]
    public var active: Bool

    public init(
        id: Int64 = 0, category: String, textChinese: String, textEnglish: String, findings: [String] = [], active: Bool = true
    ) {
        self.id = id
        self.category = category
        self.textChinese = textChinese
        self.textEnglish = textEnglish
        self.findings = findings
        self.active = active
    }
}
