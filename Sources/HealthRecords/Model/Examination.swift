import Foundation

/// The health examination form (健康体检表, 国家基本公共卫生服务规范 第三版 附件2). What risk assessment reads is typed
/// with its unit; the form's other items are kept as their option codes and text. Laboratory results are linked by
/// the laboratory path's result identifiers and imaging by study instance UIDs, never copied.
public struct Examination: Sendable, Equatable, Codable {
    public var id: Int64
    public var residentID: Int64
    /// yyyy-MM-dd.
    public var date: String
    public var doctor: String
    /// 症状: the form's symptom codes (none, headache, dizziness, palpitation, chest-tightness, chest-pain, chronic-cough,
    /// expectoration, dyspnoea, polydipsia, polyuria, weight-loss, fatigue, joint-pain, blurred-vision, numbness, …).
    public var symptoms: [String]
    public var vitals: Vitals
    public var lifestyle: Lifestyle
    /// 脏器功能: lips, dentition, pharynx, vision (left/right), hearing, motor function, as the form's codes.
    public var organFunction: [String: String]
    /// 查体: skin, sclera, lymph nodes, lungs, heart, abdomen, oedema, dorsalis pedis pulse, … as codes or text.
    public var physicalExamination: [String: String]
    public var auxiliary: Auxiliary
    /// 现存主要健康问题: the conditions the form lists (cerebrovascular, renal, cardiac, vascular, ocular, neurological,
    /// other) as codes.
    public var healthProblems: [String]
    /// 主要用药情况: the medicines, as text.
    public var medications: [String]
    /// Taking antihypertensive drugs (for China-PAR's treated pressure).
    public var antihypertensiveTreatment: Bool
    /// 健康评价: normal, or the abnormalities found.
    public var abnormalities: [String]
    /// 健康指导 and 危险因素控制: the form's codes (include-in-chronic-disease-management, recheck, referral; quit-smoking,
    /// limit-drinking, diet, exercise, lose-weight to a target, vaccination, …).
    public var guidance: [String]

    public init(
        id: Int64 = 0, residentID: Int64, date: String, doctor: String = "", symptoms: [String] = [], vitals: Vitals = Vitals(),
        lifestyle: Lifestyle = Lifestyle(), organFunction: [String: String] = [:], physicalExamination: [String: String] = [:],
        auxiliary: Auxiliary = Auxiliary(), healthProblems: [String] = [], medications: [String] = [],
        antihypertensiveTreatment: Bool = false, abnormalities: [String] = [], guidance: [String] = []
    ) {
        self.id = id
        self.residentID = residentID
        self.date = date
        self.doctor = doctor
        self.symptoms = symptoms
        self.vitals = vitals
        self.lifestyle = lifestyle
        self.organFunction = organFunction
        self.physicalExamination = physicalExamination
        self.auxiliary = auxiliary
        self.healthProblems = healthProblems
        self.medications = medications
        self.antihypertensiveTreatment = antihypertensiveTreatment
        self.abnormalities = abnormalities
        self.guidance = guidance
    }

    /// 一般状况.
    public struct Vitals: Sendable, Equatable, Codable {
        /// °C, beats/min, breaths/min.
        public var temperature: Double?
        public var pulse: Double?
        public var respiration: Double?
        /// 血压 左侧 / 右侧, mmHg.
        public var leftSystolic: Double?
        public var leftDiastolic: Double?
        public var rightSystolic: Double?
        public var rightDiastolic: Double?
        /// cm, kg, cm.
        public var height: Double?
        public var weight: Double?
        public var waist: Double?

        public init(
            temperature: Double? = nil, pulse: Double? = nil, respiration: Double? = nil, leftSystolic: Double? = nil,
            leftDiastolic: Double? = nil, rightSystolic: Double? = nil, rightDiastolic: Double? = nil, height: Double? = nil,
            weight: Double? = nil, waist: Double? = nil
        ) {
            self.temperature = temperature
            self.pulse = pulse
            self.respiration = respiration
            self.leftSystolic = leftSystolic
            self.leftDiastolic = leftDiastolic
            self.rightSystolic = rightSystolic
            self.rightDiastolic = rightDiastolic
            self.height = height
            self.weight = weight
            self.waist = waist
        }

        /// The arm read for assessment: the higher systolic of the two (the guideline measures both arms at the first
        /// visit and follows the higher one).
        public var pressure: (systolic: Double, diastolic: Double)? {
            let left = leftSystolic.flatMap { s in leftDiastolic.map { (s, $0) } }
            let right = rightSystolic.flatMap { s in rightDiastolic.map { (s, $0) } }
            switch (left, right) {
            case let (l?, r?): return r.0 > l.0 ? (r.0, r.1) : (l.0, l.1)
            case let (l?, nil): return (l.0, l.1)
            case let (nil, r?): return (r.0, r.1)
            default: return nil
            }
        }

        public var bmi: Double? {
            guard let height, let weight, height > 0 else { return nil }
            return weight / ((height / 100) * (height / 100))
        }
    }

    /// 生活方式.
    public struct Lifestyle: Sendable, Equatable, Codable {
        /// 体育锻炼: daily, weekly, occasional, none; minutes a session; years kept up; kind.
        public var exerciseFrequency: String
        public var exerciseMinutes: Double?
        public var exerciseYears: Double?
        public var exerciseKind: String
        /// 饮食习惯: balanced, meat, vegetarian, salty, oily, sweet.
        public var diet: [String]
        /// 吸烟情况: never, former, current; cigarettes a day; age started; age quit.
        public var smoking: String
        public var cigarettesPerDay: Double?
        public var smokingStartAge: Double?
        public var smokingQuitAge: Double?
        /// 饮酒情况: never, occasional, often, daily; liang (50 g) a day; abstinent; age started; drunk in the past year;
        /// kinds (liquor, beer, wine, rice wine, other).
        public var drinkingFrequency: String
        public var drinkingLiangPerDay: Double?
        public var abstinent: Bool
        public var drinkingStartAge: Double?
        public var drunkLastYear: Bool
        public var drinkKinds: [String]
        /// 职业病危害因素接触史: the hazards (dust, radiation, physical, chemical, other) with the job and years.
        public var occupationalExposures: [String]
        public var occupationalYears: Double?

        public init(
            exerciseFrequency: String = "", exerciseMinutes: Double? = nil, exerciseYears: Double? = nil, exerciseKind: String = "",
            diet: [String] = [], smoking: String = "never", cigarettesPerDay: Double? = nil, smokingStartAge: Double? = nil,
            smokingQuitAge: Double? = nil, drinkingFrequency: String = "never", drinkingLiangPerDay: Double? = nil,
            abstinent: Bool = false, drinkingStartAge: Double? = nil, drunkLastYear: Bool = false, drinkKinds: [String] = [],
            occupationalExposures: [String] = [], occupationalYears: Double? = nil
        ) {
            self.exerciseFrequency = exerciseFrequency
            self.exerciseMinutes = exerciseMinutes
            self.exerciseYears = exerciseYears
            self.exerciseKind = exerciseKind
            self.diet = diet
            self.smoking = smoking
            self.cigarettesPerDay = cigarettesPerDay
            self.smokingStartAge = smokingStartAge
            self.smokingQuitAge = smokingQuitAge
            self.drinkingFrequency = drinkingFrequency
            self.drinkingLiangPerDay = drinkingLiangPerDay
            self.abstinent = abstinent
            self.drinkingStartAge = drinkingStartAge
            self.drunkLastYear = drunkLastYear
            self.drinkKinds = drinkKinds
            self.occupationalExposures = occupationalExposures
            self.occupationalYears = occupationalYears
        }

        public var currentSmoker: Bool { smoking == "current" }
    }

    /// 辅助检查. Concentrations in mmol/L, HbA1c in %.
    public struct Auxiliary: Sendable, Equatable, Codable {
        public var fastingGlucose: Double?
        public var totalCholesterol: Double?
        public var triglycerides: Double?
        public var ldlCholesterol: Double?
        public var hdlCholesterol: Double?
        public var hba1c: Double?
        /// 尿常规, 心电图, 腹部B超 and the rest: codes or text by item.
        public var other: [String: String]
        /// Results of the laboratory path, by its identifiers.
        public var laboratoryResultIDs: [String]
        /// Imaging reports in the archive: study instance UIDs.
        public var imagingStudyUIDs: [String]

        public init(
            fastingGlucose: Double? = nil, totalCholesterol: Double? = nil, triglycerides: Double? = nil, ldlCholesterol: Double? = nil,
            hdlCholesterol: Double? = nil, hba1c: Double? = nil, other: [String: String] = [:], laboratoryResultIDs: [String] = [],
            imagingStudyUIDs: [String] = []
        ) {
            self.fastingGlucose = fastingGlucose
            self.totalCholesterol = totalCholesterol
            self.triglycerides = triglycerides
            self.ldlCholesterol = ldlCholesterol
            self.hdlCholesterol = hdlCholesterol
            self.hba1c = hba1c
            self.other = other
            self.laboratoryResultIDs = laboratoryResultIDs
            self.imagingStudyUIDs = imagingStudyUIDs
        }
    }
}
