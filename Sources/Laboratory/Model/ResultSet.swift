import Foundation
import Platform

/// Administrative sex (HL7 table 0001; FHIR administrative-gender maps onto it).
public enum AdministrativeSex: String, Sendable, Equatable, Codable, CaseIterable {
    case female = "F"
    case male = "M"
    case other = "O"
    case unknown = "U"

    public init(hl7 code: String) { self = AdministrativeSex(rawValue: code.uppercased()) ?? .unknown }

    /// The FHIR administrative-gender code.
    public var fhir: String {
        switch self {
        case .female: "female"
        case .male: "male"
        case .other: "other"
        case .unknown: "unknown"
        }
    }

    public init(fhir: String) {
        switch fhir {
        case "female": self = .female
        case "male": self = .male
        case "other": self = .other
        default: self = .unknown
        }
    }
}

/// The patient of a result set, as the sending laboratory identifies them (PID-3, PID-5, PID-7, PID-8).
public struct LabPatient: Sendable, Equatable, Codable {
    /// PID-3.1.
    public var id: String
    /// PID-3.4 (the assigning authority's namespace ID).
    public var assigningAuthority: String
    /// PID-5.1 and PID-5.2.
    public var familyName: String
    public var givenName: String
    /// `YYYY-MM-DD` (PID-7), when known.
    public var birthDate: String?
    public var sex: AdministrativeSex

    public init(
        id: String, assigningAuthority: String = "", familyName: String = "", givenName: String = "", birthDate: String? = nil,
        sex: AdministrativeSex = .unknown
    ) {
        self.id = id
        self.assigningAuthority = assigningAuthority
        self.familyName = familyName
        self.givenName = givenName
        self.birthDate = birthDate
        self.sex = sex
    }

    /// The name as shown: Chinese names without a space (family name first), others "Family Given".
    public var displayName: String {
        let han = (familyName + givenName).unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) }
        return han ? familyName + givenName : [familyName, givenName].filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// Age in whole years at `date`, when the birth date is known.
    public func ageYears(at date: Date) -> Int? {
        guard let birthDate else { return nil }
        let parts = birthDate.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        let calendar = AllianceTime.calendar
        guard let born = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2])) else { return nil }
        return calendar.dateComponents([.year], from: born, to: date).year
    }
}

/// The order a result set answers (OBR-2, OBR-3, OBR-4, OBR-7).
public struct LabOrder: Sendable, Equatable, Codable {
    public var placerNumber: String
    public var fillerNumber: String
    public var serviceCode: String
    public var serviceText: String
    public var serviceSystem: String
    /// OBR-7: when the specimen was collected (the observation date/time).
    public var observedAt: Date?

    public init(
        placerNumber: String = "", fillerNumber: String = "", serviceCode: String = "", serviceText: String = "",
        serviceSystem: String = "",
        observedAt: Date? = nil
    ) {
        self.placerNumber = placerNumber
        self.fillerNumber = fillerNumber
        self.serviceCode = serviceCode
        self.serviceText = serviceText
        self.serviceSystem = serviceSystem
        self.observedAt = observedAt
    }
}

/// OBX-2 value types this receiver reads (HL7 table 0125).
public enum ObservationValueType: String, Sendable, Equatable, Codable, CaseIterable {
    case numeric = "NM"
    case string = "ST"
    case text = "TX"
    case formattedText = "FT"
    case codedEntry = "CE"
    case codedWithExceptions = "CWE"
    case structuredNumeric = "SN"
}

/// One observation (OBX, or a FHIR Observation).
public struct LabObservation: Sendable, Equatable, Codable {
    public var valueType: ObservationValueType
    /// OBX-3: identifier, text, coding system.
    public var code: String
    public var codeText: String
    public var codeSystem: String
    /// OBX-5 as sent (text; for coded values their text or code).
    public var value: String
    /// The number, for NM and SN values.
    public var numeric: Double?
    /// The comparator of an SN value (`<`, `>`, `<=`, `>=`), or "".
    public var comparator: String
    /// OBX-6 as sent.
    public var units: String
    /// OBX-7 as sent.
    public var referenceRange: String
    /// OBX-8 as sent (repetitions).
    public var abnormalFlags: [String]
    /// OBX-11 (F final, P preliminary, C corrected…).
    public var status: String
    /// OBX-14.
    public var observedAt: Date?

    public init(
        valueType: ObservationValueType, code: String, codeText: String = "", codeSystem: String = "", value: String,
        numeric: Double? = nil,
        comparator: String = "", units: String = "", referenceRange: String = "", abnormalFlags: [String] = [], status: String = "F",
        observedAt: Date? = nil
    ) {
        self.valueType = valueType
        self.code = code
        self.codeText = codeText
        self.codeSystem = codeSystem
        self.value = value
        self.numeric = numeric
        self.comparator = comparator
        self.units = units
        self.referenceRange = referenceRange
        self.abnormalFlags = abnormalFlags
        self.status = status
        self.observedAt = observedAt
    }

    /// The LOINC code, when OBX-3's coding system is LN (or FHIR's `http://loinc.org`).
    public var loinc: String? {
        let system = codeSystem.uppercased()
        return system == "LN" || system == "LOINC" || codeSystem == "http://loinc.org" ? code : nil
    }

    /// The unit as UCUM and, where the analyte has one, the value in the alliance's canonical unit.
    public var normalised: UnitNormalisation { UCUM.normalise(value: numeric, units: units, loinc: loinc) }
}

/// Where a result set came from.
public enum ResultSource: String, Sendable, Equatable, Codable {
    case hl7v2, fhir, demo
}

/// One order's results for one patient: the unit a consultation asks about.
public struct ResultSet: Sendable, Equatable, Codable {
    /// A generated id (`lab-…`), never derived from the message.
    public var id: String
    /// The partner institution's code (from the sending facility's mapping, or the uploader's institution).
    public var institution: String
    public var source: ResultSource
    /// MSH-4 (or the FHIR bundle's meta source), and MSH-10 (or the bundle's id).
    public var sendingFacility: String
    public var messageControlID: String
    public var patient: LabPatient
    public var order: LabOrder
    public var observations: [LabObservation]
    public var receivedAt: Date

    public init(
        id: String = "", institution: String = "", source: ResultSource, sendingFacility: String = "", messageControlID: String = "",
        patient: LabPatient, order: LabOrder, observations: [LabObservation], receivedAt: Date = Date()
    ) {
        self.id = id
        self.institution = institution
        self.source = source
        self.sendingFacility = sendingFacility
        self.messageControlID = messageControlID
        self.patient = patient
        self.order = order
        self.observations = observations
        self.receivedAt = receivedAt
    }

    /// When the results were observed: the order's time, else the first observation's, else reception.
    public var observedAt: Date { order.observedAt ?? observations.compactMap(\.observedAt).first ?? receivedAt }

    /// A fresh id for a new result set.
    public static func newID() -> String { "lab-" + UUID().uuidString.lowercased() }
}

/// The laboratory domain's errors.
public enum LaboratoryError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalid(String)
    case notFound(String)
    case conflict(String)
    case database(String)

    public var description: String {
        switch self {
        case .invalid(let m): "invalid: \(m)"
        case .notFound(let m): "not found: \(m)"
        case .conflict(let m): "conflict: \(m)"
        case .database(let m): "database: \(m)"
        }
    }
}
