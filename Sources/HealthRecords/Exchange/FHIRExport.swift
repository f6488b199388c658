import Foundation

/// A resident's record as a FHIR R4 `Bundle` (type collection): Patient, an Encounter per examination and follow-up,
/// Observations with LOINC codes and UCUM units, Conditions for diagnosed hypertension and diabetes (SNOMED CT), and
/// the management plan as a CarePlan. Values are JSON objects (`[String: Any]`), serialised by the caller.
public enum FHIRExport {
    /// LOINC codes of what the examination and follow-up forms measure, with display and UCUM unit.
    public static let loinc: [String: (code: String, display: String, unit: String)] = [
        "height": ("8302-2", "Body height", "cm"),
        "weight": ("29463-7", "Body weight", "kg"),
        "bmi": ("39156-5", "Body mass index (BMI) [Ratio]", "kg/m2"),
        "waist": ("8280-0", "Waist Circumference at umbilicus by Tape measure", "cm"),
        "temperature": ("8310-5", "Body temperature", "Cel"),
        "pulse": ("8867-4", "Heart rate", "/min"),
        "respiration": ("9279-1", "Respiratory rate", "/min"),
        "bp": ("85354-9", "Blood pressure panel with all children optional", ""),
        "sbp": ("8480-6", "Systolic blood pressure", "mm[Hg]"),
        "dbp": ("8462-4", "Diastolic blood pressure", "mm[Hg]"),
        "fasting-glucose": ("14771-0", "Fasting glucose [Moles/volume] in Serum or Plasma", "mmol/L"),
        "total-cholesterol": ("14647-2", "Cholesterol [Moles/volume] in Serum or Plasma", "mmol/L"),
        "triglycerides": ("14927-8", "Triglyceride [Moles/volume] in Serum or Plasma", "mmol/L"),
        "hdl": ("14646-4", "Cholesterol in HDL [Moles/volume] in Serum or Plasma", "mmol/L"),
        "ldl": ("22748-8", "Cholesterol in LDL [Moles/volume] in Serum or Plasma", "mmol/L"),
        "hba1c": ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%"),
    ]

    /// SNOMED CT codes of the conditions the follow-up forms manage.
    public static let conditions: [String: (code: String, display: String)] = [
        Diagnosis.hypertension: ("38341003", "Hypertensive disorder, systemic arterial"),
        Diagnosis.diabetes: ("44054006", "Diabetes mellitus type 2"),
    ]

    static let identifierSystem = "urn:atrium:health:record-number"

    public static func bundle(
        resident: Resident, examinations: [Examination], followUps: [FollowUp], plan: ManagementPlan?,
        recommendations: [Recommendation] = []
    ) -> [String: Any] {
        let patientReference = "urn:uuid:\(uuid("patient", resident.id))"
        var entries: [[String: Any]] = [entry(patientReference, patient(resident))]
        for examination in examinations {
            let encounterReference = "urn:uuid:\(uuid("examination", examination.id))"
            entries.append(
                entry(
                    encounterReference,
                    encounter(patientReference, date: examination.date, text: "健康体检 Health examination", code: "AMB")))
            for (index, observation) in observations(examination, patient: patientReference, encounter: encounterReference).enumerated() {
                entries.append(entry("urn:uuid:\(uuid("observation-\(examination.id)", Int64(index)))", observation))
            }
        }
        for followUp in followUps {
            let encounterReference = "urn:uuid:\(uuid("follow-up", followUp.id))"
            let text = followUp.kind == .hypertension ? "高血压患者随访 Hypertension follow-up" : "2型糖尿病患者随访 Type 2 diabetes follow-up"
            entries.append(
                entry(
                    encounterReference,
                    encounter(patientReference, date: followUp.date, text: text, code: followUp.method == "home" ? "HH" : "AMB")))
            var values: [(String, Double)] = []
            if let weight = followUp.weight { values.append(("weight", weight)) }
            if let heartRate = followUp.heartRate { values.append(("pulse", heartRate)) }
            if let glucose = followUp.fastingGlucose { values.append(("fasting-glucose", glucose)) }
            if let hba1c = followUp.hba1c { values.append(("hba1c", hba1c)) }
            var index: Int64 = 0
            for (key, value) in values {
                entries.append(
                    entry(
                        "urn:uuid:\(uuid("fu-observation-\(followUp.id)", index))",
                        quantity(key, value, patient: patientReference, encounter: encounterReference, date: followUp.date)))
                index += 1
            }
            if let s = followUp.systolic, let d = followUp.diastolic {
                entries.append(
                    entry(
                        "urn:uuid:\(uuid("fu-observation-\(followUp.id)", index))",
                        bloodPressure(s, d, patient: patientReference, encounter: encounterReference, date: followUp.date)))
            }
        }
        for (index, diagnosis) in resident.information.diagnoses.enumerated() {
            guard let coding = conditions[diagnosis.code] else { continue }
            var condition: [String: Any] = [
                "resourceType": "Condition",
                "clinicalStatus": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"]]],
                "verificationStatus": [
                    "coding": [["system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"]]
                ],
                "code": ["coding": [["system": "http://snomed.info/sct", "code": coding.code, "display": coding.display]]],
                "subject": ["reference": patientReference],
            ]
            if diagnosis.diagnosed.count == 7 { condition["onsetDateTime"] = diagnosis.diagnosed }
            entries.append(entry("urn:uuid:\(uuid("condition", Int64(index)))", condition))
        }
        if let plan {
            var activities: [[String: Any]] = plan.goals.map { goal in
                ["detail": ["status": "scheduled", "description": "\(goal.item): \(goal.target)", "scheduledString": goal.due]]
            }
            activities += plan.followUpDates.map { day in
                ["detail": ["status": "scheduled", "description": "随访 Follow-up", "scheduledString": day]]
            }
            activities += recommendations.filter { plan.recommendationIDs.contains($0.id) }.map { recommendation in
                ["detail": ["status": "not-started", "description": "\(recommendation.textChinese) / \(recommendation.textEnglish)"]]
            }
            var carePlan: [String: Any] = [
                "resourceType": "CarePlan", "status": "active", "intent": "plan", "subject": ["reference": patientReference],
                "title": "健康管理计划 Health management plan", "created": iso(plan.createdAt),
            ]
            if !activities.isEmpty { carePlan["activity"] = activities }
            if !plan.note.isEmpty { carePlan["description"] = plan.note }
            entries.append(entry("urn:uuid:\(uuid("care-plan", plan.id))", carePlan))
        }
        return ["resourceType": "Bundle", "type": "collection", "entry": entries]
    }

    static func patient(_ resident: Resident) -> [String: Any] {
        var patient: [String: Any] = [
            "resourceType": "Patient",
            "identifier": [["system": identifierSystem, "value": "\(resident.institution)/\(resident.recordNumber)"]],
            "name": [["text": resident.name]],
            "gender": resident.sex.rawValue,
        ]
        if CivilDate(resident.birthDate) != nil { patient["birthDate"] = resident.birthDate }
        if !resident.phone.isEmpty { patient["telecom"] = [["system": "phone", "value": resident.phone]] }
        if !resident.address.isEmpty { patient["address"] = [["text": resident.address]] }
        return patient
    }

    static func encounter(_ patient: String, date: String, text: String, code: String) -> [String: Any] {
        [
            "resourceType": "Encounter", "status": "finished",
            "class": ["system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": code],
            "type": [["text": text]], "subject": ["reference": patient], "period": ["start": date, "end": date],
        ]
    }

    static func observations(_ examination: Examination, patient: String, encounter: String) -> [[String: Any]] {
        var values: [(String, Double)] = []
        let vitals = examination.vitals
        let auxiliary = examination.auxiliary
        for (key, value) in [
            ("height", vitals.height), ("weight", vitals.weight), ("bmi", vitals.bmi.map { ($0 * 10).rounded() / 10 }),
            ("waist", vitals.waist), ("temperature", vitals.temperature), ("pulse", vitals.pulse), ("respiration", vitals.respiration),
            ("fasting-glucose", auxiliary.fastingGlucose), ("total-cholesterol", auxiliary.totalCholesterol),
            ("triglycerides", auxiliary.triglycerides), ("hdl", auxiliary.hdlCholesterol), ("ldl", auxiliary.ldlCholesterol),
            ("hba1c", auxiliary.hba1c),
        ] {
            if let value { values.append((key, value)) }
        }
        var result = values.map { quantity($0.0, $0.1, patient: patient, encounter: encounter, date: examination.date) }
        if let s = vitals.leftSystolic, let d = vitals.leftDiastolic {
            result.append(
                bloodPressure(
                    s, d, patient: patient, encounter: encounter, date: examination.date, site: ("368208006", "Left upper arm structure")))
        }
        if let s = vitals.rightSystolic, let d = vitals.rightDiastolic {
            result.append(
                bloodPressure(
                    s, d, patient: patient, encounter: encounter, date: examination.date, site: ("368209003", "Right upper arm structure")))
        }
        return result
    }

    static func category(_ key: String) -> String {
        ["fasting-glucose", "total-cholesterol", "triglycerides", "hdl", "ldl", "hba1c"].contains(key) ? "laboratory" : "vital-signs"
    }

    static func quantity(_ key: String, _ value: Double, patient: String, encounter: String, date: String) -> [String: Any] {
        let code = loinc[key] ?? (key, key, "")
        return [
            "resourceType": "Observation", "status": "final",
            "category": [
                ["coding": [["system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": category(key)]]]
            ],
            "code": ["coding": [["system": "http://loinc.org", "code": code.code, "display": code.display]]],
            "subject": ["reference": patient], "encounter": ["reference": encounter], "effectiveDateTime": date,
            "valueQuantity": ["value": value, "unit": code.unit, "system": "http://unitsofmeasure.org", "code": code.unit],
        ]
    }

    static func bloodPressure(
        _ systolic: Double, _ diastolic: Double, patient: String, encounter: String, date: String, site: (String, String)? = nil
    ) -> [String: Any] {
        func component(_ key: String, _ value: Double) -> [String: Any] {
            let code = loinc[key] ?? (key, key, "")
            return [
                "code": ["coding": [["system": "http://loinc.org", "code": code.code, "display": code.display]]],
                "valueQuantity": ["value": value, "unit": "mm[Hg]", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"],
            ]
        }
        let panel = loinc["bp"] ?? ("85354-9", "Blood pressure panel", "")
        var observation: [String: Any] = [
            "resourceType": "Observation", "status": "final",
            "category": [["coding": [["system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"]]]],
            "code": ["coding": [["system": "http://loinc.org", "code": panel.code, "display": panel.display]]],
            "subject": ["reference": patient], "encounter": ["reference": encounter], "effectiveDateTime": date,
            "component": [component("sbp", systolic), component("dbp", diastolic)],
        ]
        if let site {
            observation["bodySite"] = ["coding": [["system": "http://snomed.info/sct", "code": site.0, "display": site.1]]]
        }
        return observation
    }

    static func entry(_ fullURL: String, _ resource: [String: Any]) -> [String: Any] { ["fullUrl": fullURL, "resource": resource] }

    /// A stable UUID (version 8 layout) for a kind of resource and an id, so one record exports the same way twice.
    static func uuid(_ kind: String, _ id: Int64) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var hash2: UInt64 = 0x8422_2325_cbf2_9ce4
        for byte in Array("\(kind)/\(id)".utf8) {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            hash2 = (hash2 &+ UInt64(byte)) &* 0x9E37_79B9_7F4A_7C15
        }
        let a = String(hash, radix: 16).leftPadded(16)
        let b = String(hash2, radix: 16).leftPadded(16)
        let hex = Array(a + b)
        var chars = hex
        chars[12] = "8"
        chars[16] = ["8", "9", "a", "b"][Int(hash2 & 3)]
        let s = String(chars)
        func part(_ from: Int, _ length: Int) -> Substring {
            let start = s.index(s.startIndex, offsetBy: from)
            return s[start..<s.index(start, offsetBy: length)]
        }
        return "\(part(0, 8))-\(part(8, 4))-\(part(12, 4))-\(part(16, 4))-\(part(20, 12))"
    }

    static func iso(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

extension String {
    fileprivate func leftPadded(_ length: Int) -> String { String(repeating: "0", count: max(0, length - count)) + self }
}
