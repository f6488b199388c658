import Foundation

/// Reads a FHIR R4 Bundle (or a Patient alone) from a partner: the Patient, its Conditions (the two the follow-up
/// forms manage, by SNOMED CT), its Encounters and its Observations (by the LOINC codes ``FHIRExport/loinc`` lists, in
/// their UCUM units), into a resident with its diagnoses and one examination per day. Everything is checked before
/// anything is kept: any problem refuses the whole Bundle (``HealthError/importRejected(_:)``, each problem naming the
/// entry — 1 is the first, 0 the Bundle itself —, the resource and element, and the reason). A CarePlan is left (plans
/// are written here, by the health managers); any other resource type is a problem.
public enum FHIRImport {
    public struct Imported: Sendable, Equatable {
        /// The resident as the Patient describes it, its diagnoses from the Conditions.
        public var resident: Resident
        public var examinations: [Examination]
        /// The diagnoses the Conditions named (also in `resident.information.diagnoses`).
        public var conditions: [Diagnosis]
        public var encounters: Int
        /// Resource types read but not kept (CarePlan), with their count.
        public var ignored: [String: Int]
        /// The Patient's entry number, for problems found later against the stored record.
        public var patientEntry: Int
    }

    /// The accepted range of each measurement, as the CSV import's (docs/health.md).
    public static let ranges: [String: ClosedRange<Double>] = [
        "height": 50...250, "weight": 10...300, "waist": 40...200, "temperature": 30...45, "pulse": 20...250, "respiration": 4...80,
        "sbp": 50...300, "dbp": 20...200, "fasting-glucose": 1...40, "total-cholesterol": 1...20, "triglycerides": 0.1...50,
        "ldl": 0.1...15, "hdl": 0.1...5, "hba1c": 2...20, "bmi": 5...100,
    ]

    static let statuses: Set<String> = ["final", "amended", "corrected", "preliminary"]
    static let ucum = "http://unitsofmeasure.org"
    static let rightArm = "368209003"

    public static func read(_ json: [String: Any], institution: String) throws(HealthError) -> Imported {
        var problems: [ExaminationCSV.Problem] = []
        func problem(_ entry: Int, _ element: String, _ reason: String) {
            problems.append(ExaminationCSV.Problem(row: entry, column: element, reason: reason))
        }
        // (entry number, fullUrl, resource)
        var resources: [(Int, String, [String: Any])] = []
        switch json["resourceType"] as? String {
        case "Bundle":
            let type = json["type"] as? String ?? ""
            if !["collection", "transaction", "batch", "document", "message"].contains(type) {
                problem(0, "Bundle.type", "\(type.isEmpty ? "missing" : type): a collection or transaction Bundle is expected")
            }
            guard let entries = json["entry"] as? [Any], !entries.isEmpty else {
                throw .importRejected([ExaminationCSV.Problem(row: 0, column: "Bundle.entry", reason: "the Bundle has no entries")])
            }
            for (index, raw) in entries.enumerated() {
                guard let entry = raw as? [String: Any], let resource = entry["resource"] as? [String: Any] else {
                    problem(index + 1, "Bundle.entry", "an entry without a resource")
                    continue
                }
                resources.append((index + 1, entry["fullUrl"] as? String ?? "", resource))
            }
        case "Patient":
            resources = [(1, "", json)]
        default:
            throw .importRejected([
                ExaminationCSV.Problem(row: 0, column: "resourceType", reason: "a FHIR Bundle or Patient is expected")
            ])
        }
        let patients = resources.filter { $0.2["resourceType"] as? String == "Patient" }
        guard patients.count == 1, let first = patients.first else {
            throw .importRejected(
                problems + [
                    ExaminationCSV.Problem(
                        row: 0, column: "Patient", reason: "one Patient is expected, the Bundle has \(patients.count)")
                ])
        }
        let (patientEntry, patientURL, patient) = first
        // The references that name the Patient: its fullUrl and Patient/{id}.
        var patientReferences: Set<String> = []
        if !patientURL.isEmpty { patientReferences.insert(patientURL) }
        if let id = patient["id"] as? String { patientReferences.insert("Patient/\(id)") }
        func checkSubject(_ entry: Int, _ resource: [String: Any], _ type: String) {
            let reference = (resource["subject"] as? [String: Any])?["reference"] as? String ?? ""
            if reference.isEmpty {
                problem(entry, "\(type).subject", "no subject: it must refer to the Patient")
            } else if !patientReferences.contains(reference) {
                problem(entry, "\(type).subject", "\(reference) is not the Patient of this Bundle")
            }
        }

        // The Patient.
        let name =
            (patient["name"] as? [[String: Any]])?.first.map { name -> String in
                if let text = name["text"] as? String, !text.isEmpty { return text }
                let family = name["family"] as? String ?? ""
                let given = (name["given"] as? [String] ?? []).joined()
                return family + given
            } ?? ""
        if name.trimmingCharacters(in: .whitespaces).isEmpty { problem(patientEntry, "Patient.name", "the Patient has no name") }
        let gender = patient["gender"] as? String ?? ""
        let sex = ChinaPAR.Sex(rawValue: gender)
        if sex == nil {
            problem(patientEntry, "Patient.gender", "\(gender.isEmpty ? "missing" : gender): male or female, as the risk models need")
        }
        let birthDate = patient["birthDate"] as? String ?? ""
        let birth = CivilDate(birthDate)
        if birth == nil { problem(patientEntry, "Patient.birthDate", "\(birthDate.isEmpty ? "missing" : birthDate): yyyy-MM-dd") }
        let identifiers = patient["identifier"] as? [[String: Any]] ?? []
        let number =
            identifiers.compactMap { $0["value"] as? String }.first.map { value in
                value.split(separator: "/").last.map(String.init) ?? value
            } ?? ""
        if number.trimmingCharacters(in: .whitespaces).isEmpty {
            problem(patientEntry, "Patient.identifier", "no identifier to serve as the record number")
        }
        var resident = Resident(
            institution: institution, recordNumber: number, name: name, sex: sex ?? .female, birthDate: birthDate,
            phone: ((patient["telecom"] as? [[String: Any]])?.first?["value"] as? String) ?? "",
            address: ((patient["address"] as? [[String: Any]])?.first?["text"] as? String) ?? "")

        // Encounters first: an Observation may take its day from its Encounter.
        var encounterDays: [String: String] = [:]
        var encounters = 0
        for (entry, url, resource) in resources where resource["resourceType"] as? String == "Encounter" {
            checkSubject(entry, resource, "Encounter")
            let start = ((resource["period"] as? [String: Any])?["start"] as? String).map { String($0.prefix(10)) } ?? ""
            if (resource["status"] as? String ?? "").isEmpty { problem(entry, "Encounter.status", "missing") }
            guard CivilDate(start) != nil else {
                problem(entry, "Encounter.period.start", "\(start.isEmpty ? "missing" : start): the day of the visit, yyyy-MM-dd")
                continue
            }
            if !url.isEmpty { encounterDays[url] = start }
            if let id = resource["id"] as? String { encounterDays["Encounter/\(id)"] = start }
            encounters += 1
        }

        var conditions: [Diagnosis] = []
        var ignored: [String: Int] = [:]
        var byDay: [String: Examination] = [:]
        var seen: [String: (entry: Int, value: Double)] = [:]
        let codes = Dictionary(uniqueKeysWithValues: FHIRExport.loinc.map { ($0.value.code, $0.key) })
        func coding(_ concept: Any?, _ system: String) -> String? {
            ((concept as? [String: Any])?["coding"] as? [[String: Any]])?.first(where: { $0["system"] as? String == system })?["code"]
                as? String
        }
        func measure(_ entry: Int, _ element: String, _ key: String, _ quantity: Any?, day: String) -> Double? {
            guard let quantity = quantity as? [String: Any], let value = (quantity["value"] as? NSNumber)?.doubleValue else {
                problem(entry, element, "no valueQuantity.value")
                return nil
            }
            let unit = FHIRExport.loinc[key]?.unit ?? ""
            if let system = quantity["system"] as? String, system != ucum {
                problem(entry, element, "unit system \(system): UCUM (\(ucum)) is expected")
            }
            let given = quantity["code"] as? String ?? quantity["unit"] as? String ?? ""
            if !unit.isEmpty, given != unit { problem(entry, element, "unit \(given.isEmpty ? "missing" : given): \(unit) is expected") }
            if let range = ranges[key], !(value.isFinite && range.contains(value)) {
                problem(entry, element, "\(value) \(unit) is outside \(range.lowerBound)–\(range.upperBound)")
            }
            let slot = "\(day) \(key)\(element.hasSuffix("right") ? " right" : "")"
            if let earlier = seen[slot], earlier.value != value {
                problem(entry, element, "a second value on \(day) (entry \(earlier.entry) gave \(earlier.value))")
            }
            seen[slot] = (entry, value)
            return value
        }

        for (entry, _, resource) in resources {
            let type = resource["resourceType"] as? String ?? ""
            switch type {
            case "Patient", "Encounter": continue
            case "CarePlan": ignored[type, default: 0] += 1
            case "Condition":
                checkSubject(entry, resource, "Condition")
                let verification = coding(resource["verificationStatus"], "http://terminology.hl7.org/CodeSystem/condition-ver-status")
                if ["refuted", "entered-in-error"].contains(verification ?? "") { continue }
                guard let code = coding(resource["code"], "http://snomed.info/sct"),
                    let diagnosis = FHIRExport.conditions.first(where: { $0.value.code == code })?.key
                else {
                    problem(
                        entry, "Condition.code",
                        "not a condition the follow-up forms manage: SNOMED CT 38341003 (hypertension) or 44054006 (type 2 diabetes)")
                    continue
                }
                let onset = (resource["onsetDateTime"] as? String).map { String($0.prefix(7)) } ?? ""
                if !conditions.contains(where: { $0.code == diagnosis }) {
                    conditions.append(Diagnosis(code: diagnosis, diagnosed: CivilDate(onset + "-01") != nil ? onset : ""))
                }
            case "Observation":
                checkSubject(entry, resource, "Observation")
                let status = resource["status"] as? String ?? ""
                if !statuses.contains(status) {
                    problem(entry, "Observation.status", "\(status.isEmpty ? "missing" : status): final, amended, corrected or preliminary")
                }
                var day = (resource["effectiveDateTime"] as? String).map { String($0.prefix(10)) } ?? ""
                if day.isEmpty, let reference = (resource["encounter"] as? [String: Any])?["reference"] as? String {
                    day = encounterDays[reference] ?? ""
                }
                guard let date = CivilDate(day) else {
                    problem(entry, "Observation.effectiveDateTime", "no day: effectiveDateTime or an Encounter with its period")
                    continue
                }
                if let birth, date < birth { problem(entry, "Observation.effectiveDateTime", "\(day) is before the birth date") }
                guard let loinc = coding(resource["code"], "http://loinc.org"), let key = codes[loinc] else {
                    problem(entry, "Observation.code", "no LOINC code of the examination form (docs/health.md lists them)")
                    continue
                }
                var examination = byDay[day] ?? Examination(residentID: 0, date: day)
                if key == "bp" {
                    let site = coding(resource["bodySite"], "http://snomed.info/sct")
                    var pair: [String: Double] = [:]
                    for component in resource["component"] as? [[String: Any]] ?? [] {
                        guard let which = coding(component["code"], "http://loinc.org").flatMap({ codes[$0] }),
                            ["sbp", "dbp"].contains(which)
                        else { continue }
                        let arm = site == rightArm ? " right" : ""
                        pair[which] = measure(entry, "Observation.component.\(which)\(arm)", which, component["valueQuantity"], day: day)
                    }
                    guard let systolic = pair["sbp"], let diastolic = pair["dbp"] else {
                        problem(entry, "Observation.component", "a blood pressure panel needs its systolic and diastolic components")
                        continue
                    }
                    if systolic <= diastolic {
                        problem(entry, "Observation.component", "systolic \(systolic) is not above diastolic \(diastolic)")
                    }
                    if site == rightArm {
                        examination.vitals.rightSystolic = systolic
                        examination.vitals.rightDiastolic = diastolic
                    } else {
                        examination.vitals.leftSystolic = systolic
                        examination.vitals.leftDiastolic = diastolic
                    }
                } else {
                    guard let number = measure(entry, "Observation.valueQuantity", key, resource["valueQuantity"], day: day) else {
                        continue
                    }
                    switch key {
                    case "height": examination.vitals.height = number
                    case "weight": examination.vitals.weight = number
                    case "waist": examination.vitals.waist = number
                    case "temperature": examination.vitals.temperature = number
                    case "pulse": examination.vitals.pulse = number
                    case "respiration": examination.vitals.respiration = number
                    case "fasting-glucose": examination.auxiliary.fastingGlucose = number
                    case "total-cholesterol": examination.auxiliary.totalCholesterol = number
                    case "triglycerides": examination.auxiliary.triglycerides = number
                    case "hdl": examination.auxiliary.hdlCholesterol = number
                    case "ldl": examination.auxiliary.ldlCholesterol = number
                    case "hba1c": examination.auxiliary.hba1c = number
                    default: break  // BMI is derived from height and weight
                    }
                }
                byDay[day] = examination
            default:
                problem(
                    entry, type.isEmpty ? "resourceType" : type,
                    "not read here: Patient, Observation, Condition, Encounter (CarePlan is left)")
            }
        }
        guard problems.isEmpty else { throw .importRejected(problems) }
        resident.information.diagnoses = conditions
        return Imported(
            resident: resident, examinations: byDay.keys.sorted().compactMap { byDay[$0] }, conditions: conditions, encounters: encounters,
            ignored: ignored, patientEntry: patientEntry)
    }
}
