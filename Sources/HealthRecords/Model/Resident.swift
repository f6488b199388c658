import Foundation
import Platform

/// A household (家庭) served by one partner institution.
public struct Household: Sendable, Equatable, Codable {
    public var id: Int64
    /// The serving institution's code.
    public var institution: String
    /// The household's number in the institution's register (户编号).
    public var number: String
    public var address: String

    public init(id: Int64 = 0, institution: String, number: String, address: String) {
        self.id = id
        self.institution = institution
        self.number = number
        self.address = address
    }
}

/// A resident (居民) and the personal basic information form (个人基本信息表, 国家基本公共卫生服务规范 第三版 附件1).
/// The fields risk assessment reads are typed; the rest of the form is kept as documented codes and text.
public struct Resident: Sendable, Equatable, Codable {
    public var id: Int64
    /// The serving institution's code: only its staff, and the health-service centre's staff assigned to the resident,
    /// see the record.
    public var institution: String
    public var householdID: Int64?
    /// 编号: the record number the institution gives.
    public var recordNumber: String
    public var name: String
    public var sex: ChinaPAR.Sex
    /// yyyy-MM-dd.
    public var birthDate: String
    /// 身份证号 (resident identity card number).
    public var identityNumber: String
    public var phone: String
    public var address: String
    /// 北方 / 南方 (north or south of the Yangtze), for China-PAR.
    public var north: Bool
    /// 城市 / 农村, for China-PAR.
    public var urban: Bool
    public var information: PersonalInformation

    public init(
        id: Int64 = 0, institution: String, householdID: Int64? = nil, recordNumber: String, name: String, sex: ChinaPAR.Sex,
        birthDate: String, identityNumber: String = "", phone: String = "", address: String = "", north: Bool = true,
        urban: Bool = true, information: PersonalInformation = PersonalInformation()
    ) {
        self.id = id
        self.institution = institution
        self.householdID = householdID
        self.recordNumber = recordNumber
        self.name = name
        self.sex = sex
        self.birthDate = birthDate
        self.identityNumber = identityNumber
        self.phone = phone
        self.address = address
        self.north = north
        self.urban = urban
        self.information = information
    }

    /// Age in whole years on a day (yyyy-MM-dd); nil when either date is not a date.
    public func age(on day: String) -> Int? {
        guard let birth = CivilDate(birthDate), let date = CivilDate(day) else { return nil }
        var years = date.year - birth.year
        if (date.month, date.day) < (birth.month, birth.day) { years -= 1 }
        return years
    }
}

/// The rest of the personal basic information form, as the form's items.
public struct PersonalInformation: Sendable, Equatable, Codable {
    /// 民族, 血型 (A/B/O/AB/unknown), Rh, 文化程度, 职业, 婚姻状况: the form's option codes as text.
    public var ethnicity: String
    public var bloodType: String
    public var education: String
    public var occupation: String
    public var maritalStatus: String
    /// 医疗费用支付方式 (payment), 药物过敏史 (allergies), 暴露史 (exposure).
    public var payment: [String]
    public var allergies: [String]
    public var exposures: [String]
    /// 既往史 疾病: diagnosed conditions by the form's codes (hypertension, diabetes, coronary-heart-disease, copd,
    /// cancer, stroke, mental-illness, tuberculosis, hepatitis, occupational, other) with the date of diagnosis.
    public var diagnoses: [Diagnosis]
    /// 既往史 手术 / 外伤 / 输血.
    public var surgeries: [String]
    /// 家族史: a parent or sibling with ASCVD (premature), with diabetes, with hypertension.
    public var familyHistoryASCVD: Bool
    public var familyHistoryDiabetes: Bool
    public var familyHistoryHypertension: Bool
    /// 遗传病史, 残疾情况, 生活环境 (kitchen ventilation, fuel, water, toilet, livestock).
    public var hereditaryDisease: String
    public var disabilities: [String]
    public var environment: [String: String]

    public init(
        ethnicity: String = "", bloodType: String = "", education: String = "", occupation: String = "", maritalStatus: String = "",
        payment: [String] = [], allergies: [String] = [], exposures: [String] = [], diagnoses: [Diagnosis] = [],
        surgeries: [String] = [], familyHistoryASCVD: Bool = false, familyHistoryDiabetes: Bool = false,
        familyHistoryHypertension: Bool = false, hereditaryDisease: String = "", disabilities: [String] = [],
        environment: [String: String] = [:]
    ) {
        self.ethnicity = ethnicity
        self.bloodType = bloodType
        self.education = education
        self.occupation = occupation
        self.maritalStatus = maritalStatus
        self.payment = payment
        self.allergies = allergies
        self.exposures = exposures
        self.diagnoses = diagnoses
        self.surgeries = surgeries
        self.familyHistoryASCVD = familyHistoryASCVD
        self.familyHistoryDiabetes = familyHistoryDiabetes
        self.familyHistoryHypertension = familyHistoryHypertension
        self.hereditaryDisease = hereditaryDisease
        self.disabilities = disabilities
        self.environment = environment
    }

    public func diagnosed(_ code: String) -> Bool { diagnoses.contains { $0.code == code } }
}

/// A diagnosed condition of the personal information form's past history.
public struct Diagnosis: Sendable, Equatable, Codable {
    public var code: String
    /// yyyy-MM (the form asks for the month of diagnosis), may be empty.
    public var diagnosed: String

    public init(code: String, diagnosed: String = "") {
        self.code = code
        self.diagnosed = diagnosed
    }

    public static let hypertension = "hypertension"
    public static let diabetes = "diabetes"
}

/// A calendar day written yyyy-MM-dd (``Platform/CivilDate``, shared with training's logbook and inspections).
public typealias CivilDate = Platform.CivilDate
