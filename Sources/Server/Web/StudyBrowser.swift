import Archive
import DICOM
import Foundation
import Platform

/// The study browser's search form, read from the page's query string and turned into a query of the archive's
/// query engine (the one QIDO-RS and C-FIND use).
struct StudySearch: Equatable {
    var patientName = ""
    var patientID = ""
    var accessionNumber = ""
    /// ISO dates from `<input type=date>` (YYYY-MM-DD).
    var fromDate = ""
    var toDate = ""
    var modality = ""
    var institution = ""
    /// One-based.
    var page = 1

    static let pageSize = 25

    enum Problem: Error, Equatable {
        case invalidDate
        case invalidRange
    }

    init() {}

    init(query: [String: String]) {
        patientName = query["name", default: ""].trimmingCharacters(in: .whitespaces)
        patientID = query["id", default: ""].trimmingCharacters(in: .whitespaces)
        accessionNumber = query["accession", default: ""].trimmingCharacters(in: .whitespaces)
        fromDate = query["from", default: ""].trimmingCharacters(in: .whitespaces)
        toDate = query["to", default: ""].trimmingCharacters(in: .whitespaces)
        modality = query["modality", default: ""].trimmingCharacters(in: .whitespaces).uppercased()
        institution = query["institution", default: ""].trimmingCharacters(in: .whitespaces)
        page = max(1, Int(query["page", default: "1"]) ?? 1)
    }

    /// QIDO-style parameters for the study level (one more result than a page, to know whether another follows).
    /// A name or institution without wildcards matches as a prefix; `*` and `?` may be typed as in C-FIND.
    func studyParameters(studyUIDs: [String]? = nil) throws(Problem) -> [(name: String, value: String)] {
        var out: [(String, String)] = [("limit", String(Self.pageSize + 1)), ("offset", String((page - 1) * Self.pageSize))]
        if !patientName.isEmpty { out.append(("PatientName", Self.prefixPattern(patientName))) }
        if !patientID.isEmpty { out.append(("PatientID", patientID)) }
        if !accessionNumber.isEmpty { out.append(("AccessionNumber", accessionNumber)) }
        if !modality.isEmpty { out.append(("ModalitiesInStudy", modality)) }
        let from = try Self.dicomDate(fromDate)
        let to = try Self.dicomDate(toDate)
        if let from, let to, from > to { throw .invalidRange }
        if from != nil || to != nil { out.append(("StudyDate", (from ?? "") + "-" + (to ?? ""))) }
        if let studyUIDs { out.append(("StudyInstanceUID", studyUIDs.joined(separator: ","))) }
        return out
    }

    /// The institution is a series-level attribute (Institution Name, (0008,0080)): its studies are found first.
    var institutionParameters: [(name: String, value: String)]? {
        institution.isEmpty ? nil : [("InstitutionName", Self.prefixPattern(institution)), ("includefield", "StudyInstanceUID")]
    }

    static func prefixPattern(_ text: String) -> String {
        text.contains("*") || text.contains("?") ? text : text + "*"
    }

    /// `2024-01-31` or `20240131` as a DA value; empty is nil.
    static func dicomDate(_ text: String) throws(Problem) -> String? {
        if text.isEmpty { return nil }
        let digits = text.replacingOccurrences(of: "-", with: "")
        guard digits.count == 8, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { throw .invalidDate }
        return digits
    }

    /// The query string of this search on another page.
    func queryString(page: Int) -> String {
        let pairs: [(String, String)] = [
            ("name", patientName), ("id", patientID), ("accession", accessionNumber), ("from", fromDate), ("to", toDate),
            ("modality", modality), ("institution", institution), ("page", String(page)),
        ]
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return pairs.filter { !$0.1.isEmpty }.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }
            .joined(separator: "&")
    }

    var isEmpty: Bool {
        patientName.isEmpty && patientID.isEmpty && accessionNumber.isEmpty && fromDate.isEmpty && toDate.isEmpty && modality.isEmpty
            && institution.isEmpty
    }
}

/// How values look on the pages.
enum DisplayFormat {
    /// A Person Name as people read it in `language` (``PersonName/displayed(in:)``): `张伟` in Chinese, `Zhang, Wei` in
    /// English, for `Zhang^Wei=张^伟`.
    static func personName(_ value: String?, _ language: InterfaceLanguage) -> String {
        guard let value, !value.isEmpty else { return "" }
        return PersonName(value).displayed(in: language.personNameLanguage)
    }

    /// A DA value as YYYY-MM-DD.
    static func date(_ value: String?) -> String {
        guard let value, value.count == 8, value.allSatisfy(\.isNumber) else { return value ?? "" }
        let characters = Array(value)
        return String(characters[0..<4]) + "-" + String(characters[4..<6]) + "-" + String(characters[6..<8])
    }

    /// A TM value as HH:MM.
    static func time(_ value: String?) -> String {
        guard let value, value.count >= 4, value.prefix(4).allSatisfy(\.isNumber) else { return value ?? "" }
        let characters = Array(value)
        return String(characters[0..<2]) + ":" + String(characters[2..<4])
    }

    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }
}

extension InterfaceLanguage {
    /// Which component group of a Person Name readers of this language read first.
    var personNameLanguage: PersonName.DisplayLanguage {
        switch self {
        case .chinese: .chinese
        case .english: .english
        }
    }
}
