import Foundation

/// FHIR R4 for laboratory results: a Bundle (transaction or collection) of Patient, DiagnosticReport and Observation
/// resources read into result sets, and a stored result set written back as a collection Bundle.
public enum FHIRLab {
    public static let loincSystem = "http://loinc.org"
    public static let ucumSystem = "http://unitsofmeasure.org"

    /// A problem in a bundle, with the entry and element it is about.
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public var location: String
        public var reason: String
        public var description: String { "\(location): \(reason)" }
    }

    /// Reads a Bundle's JSON into result sets: one per DiagnosticReport (its `result` references), and one more for
    /// Observations no report references. Each Observation's subject (or the bundle's only Patient) is its patient.
    public static func resultSets(_ json: [UInt8], receivedAt: Date = Date()) throws(Problem) -> [ResultSet] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json)), let bundle = object as? [String: Any] else {
            throw Problem(location: "Bundle", reason: "the body is not a JSON object")
        }
        guard bundle["resourceType"] as? String == "Bundle" else { throw Problem(location: "resourceType", reason: "must be Bundle") }
        let type = bundle["type"] as? String ?? ""
        guard ["transaction", "collection", "batch", "message"].contains(type) else {
            throw Problem(location: "Bundle.type", reason: "must be transaction, collection, batch or message")
        }
        let entries = bundle["entry"] as? [[String: Any]] ?? []
        var byReference: [String: [String: Any]] = [:]
        var patients: [(key: String, resource: [String: Any])] = []
        var reports: [[String: Any]] = []
        var observations: [(key: String, resource: [String: Any], index: Int)] = []
        for (index, entry) in entries.enumerated() {
            guard let resource = entry["resource"] as? [String: Any], let kind = resource["resourceType"] as? String else {
                throw Problem(location: "Bundle.entry[\(index)]", reason: "has no resource")
            }
            var keys: [String] = []
            if let full = entry["fullUrl"] as? String { keys.append(full) }
            if let id = resource["id"] as? String { keys.append("\(kind)/\(id)") }
            for key in keys { byReference[key] = resource }
            let key = keys.first ?? "\(kind)#\(index)"
            switch kind {
            case "Patient": patients.append((key, resource))
            case "DiagnosticReport": reports.append(resource)
            case "Observation": observations.append((key, resource, index))
            default: continue
            }
        }
        guard !observations.isEmpty else { throw Problem(location: "Bundle.entry", reason: "holds no Observation") }
        func patient(_ reference: [String: Any]?, location: String) throws(Problem) -> LabPatient {
            var resource: [String: Any]?
            if let ref = reference?["reference"] as? String { resource = byReference[ref] }
            if resource == nil && patients.count == 1 { resource = patients[0].resource }
            guard let resource, resource["resourceType"] as? String == "Patient" else {
                throw Problem(location: location, reason: "the subject is not a Patient of the bundle")
            }
            return try readPatient(resource, location: location)
        }
        var referenced = Set<String>()
        var sets: [ResultSet] = []
        for (index, report) in reports.enumerated() {
            let location = "DiagnosticReport[\(index)]"
            let subject = try patient(report["subject"] as? [String: Any], location: location + ".subject")
            var order = LabOrder()
            for identifier in report["identifier"] as? [[String: Any]] ?? [] {
                let value = identifier["value"] as? String ?? ""
                let code = ((identifier["type"] as? [String: Any])?["coding"] as? [[String: Any]])?.first?["code"] as? String
                if code == "PLAC" { order.placerNumber = value } else if order.fillerNumber.isEmpty { order.fillerNumber = value }
            }
            if order.placerNumber.isEmpty && order.fillerNumber.isEmpty {
                order.fillerNumber = report["id"] as? String ?? ""
            }
            let coding = ((report["code"] as? [String: Any])?["coding"] as? [[String: Any]])?.first
            order.serviceCode = coding?["code"] as? String ?? ""
            order.serviceText = coding?["display"] as? String ?? ((report["code"] as? [String: Any])?["text"] as? String ?? "")
            order.serviceSystem = coding?["system"] as? String ?? ""
            order.observedAt = (report["effectiveDateTime"] as? String).flatMap(parseDateTime)
            var results: [LabObservation] = []
            for (n, reference) in (report["result"] as? [[String: Any]] ?? []).enumerated() {
                guard let ref = reference["reference"] as? String, let resource = byReference[ref],
                    resource["resourceType"] as? String == "Observation"
                else { throw Problem(location: "\(location).result[\(n)]", reason: "does not reference an Observation of the bundle") }
                referenced.insert(ref)
                results.append(try readObservation(resource, location: "\(location).result[\(n)]"))
            }
            guard !results.isEmpty else { throw Problem(location: location + ".result", reason: "is empty") }
            sets.append(
                ResultSet(
                    source: .fhir, messageControlID: bundle["id"] as? String ?? "", patient: subject, order: order, observations: results,
                    receivedAt: receivedAt))
        }
        let loose = observations.filter { candidate in
            !referenced.contains(candidate.key) && !referenced.contains("Observation/\(candidate.resource["id"] as? String ?? "")")
        }
        if !loose.isEmpty {
            let subject = try patient(loose[0].resource["subject"] as? [String: Any], location: "Observation[\(loose[0].index)].subject")
            var results: [LabObservation] = []
            for candidate in loose {
                results.append(try readObservation(candidate.resource, location: "Bundle.entry[\(candidate.index)]"))
            }
            sets.append(
                ResultSet(
                    source: .fhir, messageControlID: bundle["id"] as? String ?? "", patient: subject,
                    order: LabOrder(fillerNumber: bundle["id"] as? String ?? "", observedAt: results.compactMap(\.observedAt).first),
                    observations: results, receivedAt: receivedAt))
        }
        return sets
    }

    static func readPatient(_ resource: [String: Any], location: String) throws(Problem) -> LabPatient {
        let identifier = (resource["identifier"] as? [[String: Any]])?.first
        let id = identifier?["value"] as? String ?? resource["id"] as? String ?? ""
        guard !id.isEmpty else { throw Problem(location: location, reason: "the Patient has no identifier") }
        let name = (resource["name"] as? [[String: Any]])?.first
        let family = name?["family"] as? String ?? ""
        let given = (name?["given"] as? [String] ?? []).joined(separator: " ")
        var birth = resource["birthDate"] as? String
        if let b = birth, b.count != 10 { birth = nil }
        return LabPatient(
            id: id, assigningAuthority: identifier?["system"] as? String ?? "",
            familyName: family.isEmpty ? (name?["text"] as? String ?? "") : family, givenName: given, birthDate: birth,
            sex: AdministrativeSex(fhir: resource["gender"] as? String ?? "unknown"))
    }

    static func readObservation(_ resource: [String: Any], location: String) throws(Problem) -> LabObservation {
        let code = resource["code"] as? [String: Any]
        let codings = code?["coding"] as? [[String: Any]] ?? []
        let coding = codings.first { $0["system"] as? String == loincSystem } ?? codings.first
        guard let codeValue = coding?["code"] as? String, !codeValue.isEmpty else {
            throw Problem(location: location + ".code", reason: "has no coding")
        }
        let system = coding?["system"] as? String == loincSystem ? "LN" : coding?["system"] as? String ?? ""
        var observation = LabObservation(
            valueType: .string, code: codeValue, codeText: coding?["display"] as? String ?? code?["text"] as? String ?? "",
            codeSystem: system, value: "", status: fhirStatusToHL7(resource["status"] as? String ?? "final"))
        if let quantity = resource["valueQuantity"] as? [String: Any] {
            guard let number = quantity["value"] as? NSNumber else {
                throw Problem(location: location + ".valueQuantity.value", reason: "is not a number")
            }
            observation.valueType = .numeric
            observation.numeric = number.doubleValue
            observation.value = ReferenceRanges.format(number.doubleValue)
            observation.units = quantity["code"] as? String ?? quantity["unit"] as? String ?? ""
            if let comparator = quantity["comparator"] as? String {
                observation.valueType = .structuredNumeric
                observation.comparator = comparator
                observation.value = comparator + observation.value
            }
        } else if let text = resource["valueString"] as? String {
            observation.value = text
        } else if let concept = resource["valueCodeableConcept"] as? [String: Any] {
            observation.valueType = .codedWithExceptions
            let c = (concept["coding"] as? [[String: Any]])?.first
            observation.value = concept["text"] as? String ?? c?["display"] as? String ?? c?["code"] as? String ?? ""
        } else {
            throw Problem(location: location, reason: "has no valueQuantity, valueString or valueCodeableConcept")
        }
        if let range = (resource["referenceRange"] as? [[String: Any]])?.first {
            if let text = range["text"] as? String {
                observation.referenceRange = text
            } else {
                let low = ((range["low"] as? [String: Any])?["value"] as? NSNumber).map { ReferenceRanges.format($0.doubleValue) } ?? ""
                let high = ((range["high"] as? [String: Any])?["value"] as? NSNumber).map { ReferenceRanges.format($0.doubleValue) } ?? ""
                observation.referenceRange = low.isEmpty && high.isEmpty ? "" : "\(low)-\(high)"
            }
        }
        for interpretation in resource["interpretation"] as? [[String: Any]] ?? [] {
            for c in interpretation["coding"] as? [[String: Any]] ?? [] {
                if let flag = c["code"] as? String { observation.abnormalFlags.append(flag) }
            }
        }
        observation.observedAt = (resource["effectiveDateTime"] as? String).flatMap(parseDateTime)
        return observation
    }

    static func fhirStatusToHL7(_ status: String) -> String {
        switch status {
        case "preliminary": "P"
        case "corrected", "amended": "C"
        case "cancelled": "X"
        case "entered-in-error": "W"
        case "registered": "I"
        default: "F"
        }
    }

    static func hl7StatusToFHIR(_ status: String) -> String {
        switch status {
        case "P", "R", "S": "preliminary"
        case "C": "corrected"
        case "X", "D": "cancelled"
        case "W": "entered-in-error"
        case "I", "O": "registered"
        default: "final"
        }
    }

    /// A FHIR dateTime (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`, or with time and zone).
    static func parseDateTime(_ text: String) -> Date? {
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime]
        if let d = iso.date(from: text) { return d }
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = iso.date(from: text) { return d }
        let digits = text.replacingOccurrences(of: "-", with: "")
        return HL7DateTime.parse(digits)
    }

    static func iso(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    /// A stored result set as a FHIR R4 collection Bundle: the Patient, a DiagnosticReport and one Observation per result
    /// (LOINC coding kept; the value in UCUM where normalised; the interval and flag computed for the patient).
    public static func bundle(_ set: ResultSet, interpreted: [InterpretedObservation], base: String = "urn:atrium") -> [UInt8] {
        let patientURL = "urn:uuid:\(uuid(set.id + "/patient"))"
        let reportURL = "urn:uuid:\(uuid(set.id + "/report"))"
        var patient: [String: Any] = [
            "resourceType": "Patient",
            "identifier": [
                [
                    "system": set.patient.assigningAuthority.isEmpty ? "\(base)/patients" : set.patient.assigningAuthority,
                    "value": set.patient.id,
                ]
            ],
            "gender": set.patient.sex.fhir,
        ]
        var name: [String: Any] = [:]
        if !set.patient.familyName.isEmpty { name["family"] = set.patient.familyName }
        if !set.patient.givenName.isEmpty { name["given"] = [set.patient.givenName] }
        if !name.isEmpty { patient["name"] = [name] }
        if let birth = set.patient.birthDate { patient["birthDate"] = birth }
        var entries: [[String: Any]] = [["fullUrl": patientURL, "resource": patient]]
        var resultRefs: [[String: Any]] = []
        for (index, item) in interpreted.enumerated() {
            let o = item.observation
            let url = "urn:uuid:\(uuid(set.id + "/obs/\(index)"))"
            var coding: [String: Any] = ["code": o.code]
            if o.loinc != nil {
                coding["system"] = loincSystem
            } else if !o.codeSystem.isEmpty {
                coding["system"] = "\(base)/codes/\(o.codeSystem)"
            }
            if !o.codeText.isEmpty { coding["display"] = o.codeText }
            var observation: [String: Any] = [
                "resourceType": "Observation", "status": hl7StatusToFHIR(o.status),
                "category": [
                    [
                        "coding": [
                            ["system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"]
                        ]
                    ]
                ],
                "code": ["coding": [coding], "text": o.codeText.isEmpty ? o.code : o.codeText],
                "subject": ["reference": patientURL],
            ]
            if let at = o.observedAt ?? set.order.observedAt { observation["effectiveDateTime"] = iso(at) }
            if let number = o.numeric {
                var quantity: [String: Any] = ["value": number]
                if !o.units.isEmpty { quantity["unit"] = o.units }
                if let ucum = item.normalisation.ucum {
                    quantity["system"] = ucumSystem
                    quantity["code"] = ucum
                }
                if ["<", ">", "<=", ">="].contains(o.comparator) { quantity["comparator"] = o.comparator }
                observation["valueQuantity"] = quantity
            } else if !o.value.isEmpty {
                observation["valueString"] = o.value
            }
            if let range = item.range {
                var r: [String: Any] = ["text": range.text + " " + range.unit]
                if let low = range.low { r["low"] = ["value": low, "unit": range.unit, "system": ucumSystem, "code": range.unit] }
                if let high = range.high { r["high"] = ["value": high, "unit": range.unit, "system": ucumSystem, "code": range.unit] }
                observation["referenceRange"] = [r]
            } else if !o.referenceRange.isEmpty {
                observation["referenceRange"] = [["text": o.referenceRange]]
            }
            if let flag = item.flag {
                observation["interpretation"] = [
                    [
                        "coding": [
                            ["system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": flag.rawValue]
                        ]
                    ]
                ]
            }
            entries.append(["fullUrl": url, "resource": observation])
            resultRefs.append(["reference": url])
        }
        var identifiers: [[String: Any]] = []
        if !set.order.placerNumber.isEmpty {
            identifiers.append([
                "type": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "PLAC"]]],
                "value": set.order.placerNumber,
            ])
        }
        if !set.order.fillerNumber.isEmpty {
            identifiers.append([
                "type": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "FILL"]]],
                "value": set.order.fillerNumber,
            ])
        }
        var serviceCoding: [String: Any] = ["code": set.order.serviceCode.isEmpty ? "lab" : set.order.serviceCode]
        if set.order.serviceSystem == "LN" { serviceCoding["system"] = loincSystem }
        if !set.order.serviceText.isEmpty { serviceCoding["display"] = set.order.serviceText }
        var report: [String: Any] = [
            "resourceType": "DiagnosticReport", "status": "final",
            "category": [["coding": [["system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB"]]]],
            "code": ["coding": [serviceCoding]], "subject": ["reference": patientURL], "result": resultRefs,
            "issued": iso(set.receivedAt),
        ]
        if !identifiers.isEmpty { report["identifier"] = identifiers }
        report["effectiveDateTime"] = iso(set.observedAt)
        entries.insert(["fullUrl": reportURL, "resource": report], at: 1)
        let bundle: [String: Any] = [
            "resourceType": "Bundle", "id": set.id, "type": "collection", "timestamp": iso(set.receivedAt), "entry": entries,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: bundle, options: [.withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Array(data)
    }

    /// A stable UUID (version 4 layout) from a name, so that the same result set exports the same fullUrls.
    static func uuid(_ name: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var hash2: UInt64 = 0x8422_2325_cbf2_9ce4
        for byte in name.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            hash2 = (hash2 &* 31) ^ UInt64(byte) ^ (hash >> 17)
        }
        let hex = String(format: "%016llx%016llx", hash, hash2)
        let chars = Array(hex)
        var out = String(chars[0..<8]) + "-" + String(chars[8..<12]) + "-4" + String(chars[13..<16]) + "-"
        out += "8" + String(chars[17..<20]) + "-" + String(chars[20..<32])
        return out
    }
}
