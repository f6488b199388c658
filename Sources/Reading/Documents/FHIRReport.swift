import DICOM
import Foundation

/// A report as FHIR R4 resources: a `collection` Bundle of the DiagnosticReport, the request as ServiceRequest, the
/// study as ImagingStudy and the patient, with references between them relative to `base` (the server's FHIR base).
public enum FHIRReport {
    /// The Bundle as JSON (UTF-8, keys sorted so the same report gives the same bytes).
    public static func bundle(for report: ReportDocument, base: String) -> [UInt8] {
        let object = bundleObject(for: report, base: base)
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Array(data)
    }

    /// The resource ids the bundle uses (FHIR ids: `[A-Za-z0-9.-]{1,64}`); none carries a patient identifier.
    public struct IDs: Sendable, Equatable {
        public var patient: String
        public var imagingStudy: String
        public var serviceRequest: String
        public var diagnosticReport: String
    }

    public static func ids(for report: ReportDocument) -> IDs {
        IDs(
            patient: "patient-" + digest(report.study.patientID + "\u{0}" + report.study.patientName),
            imagingStudy: "study-" + digest(report.study.studyInstanceUID),
            serviceRequest: "request-" + fhirID(report.request.id),
            diagnosticReport: "report-" + fhirID(report.reportID))
    }

    static func bundleObject(for report: ReportDocument, base: String) -> [String: Any] {
        let ids = ids(for: report)
        let base = base.hasSuffix("/") ? String(base.dropLast()) : base
        func entry(_ type: String, _ id: String, _ resource: [String: Any]) -> [String: Any] {
            var resource = resource
            resource["resourceType"] = type
            resource["id"] = id
            return ["fullUrl": "\(base)/\(type)/\(id)", "resource": resource]
        }
        let subject = ["reference": "Patient/\(ids.patient)"]
        return [
            "resourceType": "Bundle",
            "type": "collection",
            "timestamp": instant(report.verifiedAt ?? report.createdAt),
            "entry": [
                entry("DiagnosticReport", ids.diagnosticReport, diagnosticReport(report, ids: ids, subject: subject)),
                entry("ServiceRequest", ids.serviceRequest, serviceRequest(report, subject: subject)),
                entry("ImagingStudy", ids.imagingStudy, imagingStudy(report.study, subject: subject)),
                entry("Patient", ids.patient, patient(report.study)),
            ],
        ]
    }

    static func diagnosticReport(_ report: ReportDocument, ids: IDs, subject: [String: String]) -> [String: Any] {
        var resource: [String: Any] = [
            "identifier": [["system": "urn:atrium:report", "value": report.reportID]],
            "status": report.status.rawValue,
            "category": [
                [
                    "coding": [
                        ["system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD", "display": "Radiology"]
                    ]
                ]
            ],
            "code": ["coding": [["system": "http://loinc.org", "code": "18748-4", "display": "Diagnostic imaging study"]]],
            "subject": subject,
            "basedOn": [["reference": "ServiceRequest/\(ids.serviceRequest)"]],
            "imagingStudy": [["reference": "ImagingStudy/\(ids.imagingStudy)"]],
            "issued": instant(report.verifiedAt ?? report.createdAt),
            "performer": [["display": report.readingInstitution]],
            "presentedForm": [
                [
                    "contentType": "text/plain; charset=utf-8",
                    "data": Data(plainText(report).utf8).base64EncodedString(),
                    "title": "Report \(report.reportID) v\(report.version)",
                ]
            ],
        ]
        if let effective = dateTime(date: report.study.studyDate, time: report.study.studyTime) {
            resource["effectiveDateTime"] = effective
        }
        var interpreters = [["display": report.author]]
        if let verifier = report.verifier, verifier != report.author { interpreters.append(["display": verifier]) }
        resource["resultsInterpreter"] = interpreters
        let conclusion = report.sections.filter { $0.kind == "impression" }.map(\.text).joined(separator: "\n")
        if !conclusion.isEmpty { resource["conclusion"] = conclusion }
        return resource
    }

    static func serviceRequest(_ report: ReportDocument, subject: [String: String]) -> [String: Any] {
        var resource: [String: Any] = [
            "identifier": [["system": "urn:atrium:consultation", "value": report.request.id]],
            "status": report.status == .preliminary ? "active" : "completed",
            "intent": "order",
            "priority": report.request.priority,
            "subject": subject,
            "authoredOn": instant(report.request.requestedAt),
            "code": ["text": "Remote reading consultation"],
        ]
        if !report.request.referringPhysician.isEmpty { resource["requester"] = ["display": report.request.referringPhysician] }
        if !report.request.question.isEmpty { resource["reasonCode"] = [["text": report.request.question]] }
        var notes: [[String: String]] = []
        if !report.request.clinicalHistory.isEmpty { notes.append(["text": report.request.clinicalHistory]) }
        if !report.request.requestingInstitution.isEmpty {
            notes.append(["text": "Requesting institution: \(report.request.requestingInstitution)"])
        }
        if !notes.isEmpty { resource["note"] = notes }
        return resource
    }

    static func imagingStudy(_ study: ReportDocument.Study, subject: [String: String]) -> [String: Any] {
        let dcm = "http://dicom.nema.org/resources/ontology/DCM"
        var resource: [String: Any] = [
            "identifier": [["system": "urn:dicom:uid", "value": "urn:oid:" + study.studyInstanceUID]],
            "status": "available",
            "subject": subject,
            "numberOfSeries": study.series.count,
            "numberOfInstances": study.series.reduce(0) { $0 + $1.instances.count },
        ]
        let modalities = study.modalities.isEmpty ? Array(Set(study.series.map(\.modality))).sorted() : study.modalities
        let coded = modalities.filter { !$0.isEmpty }.map { ["system": dcm, "code": $0] }
        if !coded.isEmpty { resource["modality"] = coded }
        if let started = dateTime(date: study.studyDate, time: study.studyTime) { resource["started"] = started }
        if let accession = study.accessionNumber, !accession.isEmpty {
            resource["identifier"] = [
                ["system": "urn:dicom:uid", "value": "urn:oid:" + study.studyInstanceUID],
                [
                    "type": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "ACSN"]]],
                    "value": accession,
                ],
            ]
        }
        if let description = study.studyDescription, !description.isEmpty { resource["description"] = description }
        let series: [[String: Any]] = study.series.map { series in
            var item: [String: Any] = [
                "uid": series.seriesInstanceUID,
                "modality": ["system": dcm, "code": series.modality.isEmpty ? "OT" : series.modality],
                "numberOfInstances": series.instances.count,
            ]
            if let number = series.seriesNumber { item["number"] = number }
            if let description = series.seriesDescription, !description.isEmpty { item["description"] = description }
            let instances: [[String: Any]] = series.instances.map { instance in
                var entry: [String: Any] = [
                    "uid": instance.sopInstanceUID,
                    "sopClass": ["system": "urn:ietf:rfc:3986", "code": "urn:oid:" + instance.sopClassUID],
                ]
                if let number = instance.instanceNumber { entry["number"] = number }
                return entry
            }
            if !instances.isEmpty { item["instance"] = instances }
            return item
        }
        if !series.isEmpty { resource["series"] = series }
        return resource
    }

    static func patient(_ study: ReportDocument.Study) -> [String: Any] {
        var resource: [String: Any] = ["identifier": [["value": study.patientID]]]
        let name = PersonName(study.patientName)
        var names: [[String: Any]] = []
        // Family name first, as Chinese names (and their pinyin) are read: spaces between alphabetic components, none
        // between ideographic ones.
        for (group, use, separator) in [(name.alphabetic, "official", " "), (name.ideographic, "usual", "")] where !group.isEmpty {
            let ordered = [group.familyName, group.givenName, group.middleName]
            var entry: [String: Any] = ["use": use, "text": ordered.filter { !$0.isEmpty }.joined(separator: separator)]
            if !group.familyName.isEmpty { entry["family"] = group.familyName }
            if !group.givenName.isEmpty { entry["given"] = [group.givenName] }
            names.append(entry)
        }
        if names.isEmpty, !study.patientName.isEmpty { names.append(["text": study.patientName]) }
        if !names.isEmpty { resource["name"] = names }
        switch study.patientSex?.uppercased() {
        case "M": resource["gender"] = "male"
        case "F": resource["gender"] = "female"
        case "O": resource["gender"] = "other"
        default: resource["gender"] = "unknown"
        }
        if let birth = study.patientBirthDate, birth.count == 8, birth.allSatisfy(\.isNumber) {
            resource["birthDate"] = "\(birth.prefix(4))-\(birth.dropFirst(4).prefix(2))-\(birth.suffix(2))"
        }
        return resource
    }

    /// The whole report as plain text, for `presentedForm` and the print view's fallback.
    public static func plainText(_ report: ReportDocument) -> String {
        var lines: [String] = []
        for section in report.sections where !section.text.isEmpty {
            lines.append(section.title)
            lines.append(section.text)
            lines.append("")
        }
        for critical in report.criticalResults { lines.append(critical) }
        for addendum in report.addenda {
            lines.append("Addendum (\(addendum.author), \(instant(addendum.signedAt))):")
            lines.append(addendum.text)
        }
        if let verifier = report.verifier, let at = report.verifiedAt { lines.append("Signed: \(verifier), \(instant(at))") }
        return lines.joined(separator: "\n")
    }

    /// A FHIR instant in UTC.
    static func instant(_ date: Date) -> String {
        ISO8601DateFormatter.string(from: date, timeZone: .gmt, formatOptions: [.withInternetDateTime])
    }

    /// A FHIR dateTime from DICOM DA and TM (local time of the study, UTC+8), or nil when the date is not a full DA.
    static func dateTime(date: String?, time: String?) -> String? {
        guard let date, date.count == 8, date.allSatisfy(\.isNumber) else { return nil }
        let day = "\(date.prefix(4))-\(date.dropFirst(4).prefix(2))-\(date.suffix(2))"
        guard let time, time.count >= 6, time.prefix(6).allSatisfy(\.isNumber) else { return day }
        let t = Array(time.prefix(6))
        return "\(day)T\(String(t[0..<2])):\(String(t[2..<4])):\(String(t[4..<6]))+08:00"
    }

    static func fhirID(_ text: String) -> String {
        let cleaned = String(
            text.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == ".") }
                .map(Character.init))
        return cleaned.isEmpty || cleaned.count > 50 ? digest(text) : cleaned
    }

    /// FNV-1a, 64 bits, as 16 hex digits: a stable id that does not show the value it was made from.
    static func digest(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16).leftPadded(to: 16)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
