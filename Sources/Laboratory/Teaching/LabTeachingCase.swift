import Archive
import Foundation
import Platform

/// A read laboratory case made into a teaching case: the result set's values, units, intervals and flags under the
/// patient's pseudonym, with the sex and age kept (PS3.15's Retain Patient Characteristics, as for imaging) and the dates
/// shifted by the same days the imaging de-identifier shifts this patient's studies by (one pseudonymous identity per
/// patient ID and issuer, from the server's de-identification secret). Removed: names, the patient ID and assigning
/// authority, the birth date, order and message numbers, the sending facility, free-text observations (ST, TX, FT).
/// The reader's interpretation goes through only when it names none of the identifying values. A safety net searches
/// everything the case shows for each identifying value of the source and refuses the case when one is found.
public struct LabTeachingCase: Sendable, Equatable {
    public struct Row: Sendable, Equatable {
        public var analyte: String
        public var loinc: String
        public var value: String
        public var unit: String
        public var range: String
        public var flag: String
        public var previous: String
    }

    public var pseudonym: String
    public var sex: AdministrativeSex
    public var age: Int?
    /// The observation's day and time in China Standard Time after the shift (`YYYY-MM-DD HH:MM`).
    public var observedOn: String
    public var dateShiftDays: Int
    public var service: String
    public var rows: [Row]
    public var interpretation: String

    /// Makes the case; refuses (`.conflict`) when an identifying value of the source would still be shown.
    public static func make(
        _ set: ResultSet, interpreted: [InterpretedObservation], identity: PseudonymousPatient, interpretation: String = ""
    ) throws(LaboratoryError) -> LabTeachingCase {
        let calendar = AllianceTime.calendar
        let shifted = calendar.date(byAdding: .day, value: identity.dateShiftDays, to: set.observedAt) ?? set.observedAt
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: shifted)
        let observedOn = String(
            format: "%04d-%02d-%02d %02d:%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0, parts.minute ?? 0)
        let freeText: Set<ObservationValueType> = [.string, .text, .formattedText]
        let rows = interpreted.filter { !freeText.contains($0.observation.valueType) }.map { item -> Row in
            let o = item.observation
            let canonical = item.normalisation.value != nil && item.normalisation.converted
            func number(_ v: Double) -> String { ReferenceRanges.format((v * 100).rounded() / 100) }
            return Row(
                analyte: o.codeText.isEmpty ? o.code : o.codeText, loinc: o.loinc ?? "",
                value: canonical ? item.normalisation.value.map(number) ?? o.value : o.value,
                unit: canonical ? item.normalisation.unit : o.units,
                range: item.range.map { "\($0.text) \($0.unit)" } ?? o.referenceRange, flag: item.flag?.rawValue ?? "",
                previous: item.previous.map(number) ?? "")
        }
        let made = LabTeachingCase(
            pseudonym: identity.id, sex: set.patient.sex, age: set.patient.ageYears(at: set.observedAt), observedOn: observedOn,
            dateShiftDays: identity.dateShiftDays, service: set.order.serviceText.isEmpty ? set.order.serviceCode : set.order.serviceText,
            rows: rows, interpretation: interpretation.trimmingCharacters(in: .whitespacesAndNewlines))
        let shown = made.findings + "\n" + made.history + "\n" + made.interpretation
        for value in identifyingValues(of: set) where shown.localizedCaseInsensitiveContains(value) {
            throw .conflict("the case would still show an identifying value of the result set (\(value.count) characters): remove it")
        }
        return made
    }

    /// Every identifying value of the source, in the forms text may hold it: names (each part, and written together),
    /// the patient ID, the assigning authority, the birth date (with and without separators), order and message numbers,
    /// and the original observation day (with and without separators).
    public static func identifyingValues(of set: ResultSet) -> [String] {
        var values = [set.patient.id, set.patient.familyName + set.patient.givenName, set.patient.displayName]
        values += [set.patient.givenName, set.order.placerNumber, set.order.fillerNumber, set.messageControlID]
        // A family name of one character (王, 李) is too common to search for alone; it is checked as part of the full name.
        if set.patient.familyName.count >= 2 { values.append(set.patient.familyName) }
        if set.patient.assigningAuthority.count >= 3 { values.append(set.patient.assigningAuthority) }
        if let birth = set.patient.birthDate { values += [birth, birth.replacingOccurrences(of: "-", with: "")] }
        let day = AllianceTime.calendar.dateComponents([.year, .month, .day], from: set.observedAt)
        let original = String(format: "%04d-%02d-%02d", day.year ?? 0, day.month ?? 0, day.day ?? 0)
        values += [original, original.replacingOccurrences(of: "-", with: "")]
        return Array(Set(values.filter { $0.count >= 2 })).sorted()
    }

    /// The clinical history line: pseudonym, sex, age, the test and when (shifted).
    public var history: String {
        let sexChinese = sex == .male ? "男" : sex == .female ? "女" : "性别未知"
        let sexEnglish = sex == .male ? "Man" : sex == .female ? "Woman" : "Patient of unknown sex"
        let ageChinese = age.map { "\($0)岁" } ?? "年龄未知"
        let ageEnglish = age.map { ", \($0)" } ?? ""
        return "\(pseudonym)：\(sexChinese)，\(ageChinese)。\(service)，\(observedOn)（日期已平移）。\n"
            + "\(pseudonym): \(sexEnglish)\(ageEnglish). \(service), \(observedOn) (dates shifted)."
    }

    /// The results as a text table (the library shows findings as preformatted text).
    public var findings: String {
        let header = ["Analyte 项目", "LOINC", "Result 结果", "Unit 单位", "Interval 参考区间", "Flag 标志", "Previous 前次"]
        let lines = [header] + rows.map { [$0.analyte, $0.loinc, $0.value, $0.unit, $0.range, $0.flag, $0.previous] }
        return lines.map { $0.joined(separator: " | ") }.joined(separator: "\n")
    }
}
