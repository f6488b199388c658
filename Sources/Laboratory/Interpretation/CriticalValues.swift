import Foundation

/// A result beyond a critical limit of its reference interval (CLSI GP47, "critical risk results"): it must reach a
/// responsible clinician at once, so it follows the consultation workflow's critical-result path when the patient has an
/// open laboratory consultation, and waits on the laboratory staff's list otherwise.
public struct CriticalValue: Sendable, Equatable {
    public var id: String
    public var resultSet: String
    /// The observation's position in the result set (OBX order).
    public var seq: Int
    public var institution: String
    public var patientID: String
    public var analyte: String
    public var loinc: String?
    /// The value and unit as the reviewer sees them (canonical unit when the units were understood).
    public var value: String
    public var unit: String
    public var flag: ResultFlag
    /// The limit crossed, as printed ("> 6.2 mmol/L").
    public var limit: String
    public var raisedAt: Date
    /// The consultation request whose critical-result path carries it, and that path's critical result, once routed.
    public var requestID: Int64?
    public var criticalResultID: Int64?
    /// Who acknowledged it on the laboratory list (a routed value is acknowledged through its consultation instead).
    public var acknowledgedBy: String?
    public var acknowledgedAt: Date?

    public init(
        id: String, resultSet: String, seq: Int, institution: String, patientID: String, analyte: String, loinc: String?, value: String,
        unit: String, flag: ResultFlag, limit: String, raisedAt: Date, requestID: Int64? = nil, criticalResultID: Int64? = nil,
        acknowledgedBy: String? = nil, acknowledgedAt: Date? = nil
    ) {
        self.id = id
        self.resultSet = resultSet
        self.seq = seq
        self.institution = institution
        self.patientID = patientID
        self.analyte = analyte
        self.loinc = loinc
        self.value = value
        self.unit = unit
        self.flag = flag
        self.limit = limit
        self.raisedAt = raisedAt
        self.requestID = requestID
        self.criticalResultID = criticalResultID
        self.acknowledgedBy = acknowledgedBy
        self.acknowledgedAt = acknowledgedAt
    }

    /// The line a consultation's critical result carries: analyte, value, flag and the limit (no patient data).
    public var finding: String { "Critical laboratory value: \(analyte) \(value) \(unit) (\(flag.rawValue), limit \(limit))" }

    /// The critical values of a result set: each interpreted observation whose computed flag is LL or HH.
    public static func detect(in set: ResultSet, interpreted: [InterpretedObservation], at now: Date) -> [CriticalValue] {
        interpreted.enumerated().compactMap { index, item in
            guard let flag = item.flag, flag.isCritical, let range = item.range else { return nil }
            let limitValue = flag == .criticalHigh ? range.criticalHigh : range.criticalLow
            guard let limitValue else { return nil }
            let value = item.normalisation.value.map(ReferenceRanges.format) ?? item.observation.value
            let unit = item.normalisation.value == nil ? item.observation.units : item.normalisation.unit
            let name = item.observation.codeText.isEmpty ? range.name : item.observation.codeText
            return CriticalValue(
                id: "lcv-" + UUID().uuidString.lowercased(), resultSet: set.id, seq: index + 1, institution: set.institution,
                patientID: set.patient.id, analyte: name, loinc: item.observation.loinc, value: value, unit: unit, flag: flag,
                limit: (flag == .criticalHigh ? "> " : "< ") + ReferenceRanges.format(limitValue) + " " + range.unit, raisedAt: now)
        }
    }
}
