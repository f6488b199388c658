import AtriumTesting
import Foundation
import Testing

@testable import HealthRecords

@Suite("Health records exchange")
struct ExchangeTests {
    static let resident = Resident(
        id: 7, institution: "CHC-EAST", recordNumber: "E-007", name: "张伟", sex: .male, birthDate: "1961-09-03", phone: "13900000000",
        address: "7 East Road",
        information: PersonalInformation(diagnoses: [
            Diagnosis(code: Diagnosis.hypertension, diagnosed: "2018-03"), Diagnosis(code: Diagnosis.diabetes),
        ]))
    static let examination = Examination(
        id: 11, residentID: 7, date: "2026-03-10",
        vitals: .init(
            temperature: 36.6, pulse: 76, respiration: 16, leftSystolic: 148, leftDiastolic: 92, rightSystolic: 152, rightDiastolic: 90,
            height: 170, weight: 78, waist: 93),
        auxiliary: .init(
            fastingGlucose: 7.4, totalCholesterol: 5.6, triglycerides: 2.1, ldlCholesterol: 3.4, hdlCholesterol: 1.1, hba1c: 7.2))

    @Test("The FHIR bundle validates with fhir.resources (R4B) and carries LOINC-coded vitals, lipids and glucose")
    func fhirExportValidates() throws {
        let followUp = FollowUp(
            id: 3, residentID: 7, kind: .diabetes, date: "2026-04-10", systolic: 138, diastolic: 86, weight: 77, fastingGlucose: 6.9,
            classification: .uncontrolled, nextDate: "2026-05-10")
        let plan = ManagementPlan(
            id: 2, residentID: 7, goals: [.init(item: "fasting-glucose", target: "<7.0 mmol/L", due: "2026-06-30")],
            followUpDates: ["2026-05-10"],
            recommendationIDs: [1], createdAt: Date(timeIntervalSince1970: 1_780_000_000))
        let bundle = FHIRExport.bundle(
            resident: Self.resident, examinations: [Self.examination], followUps: [followUp], plan: plan,
            recommendations: [Recommendation(id: 1, category: "diet", textChinese: "控制主食", textEnglish: "Limit staple food")])
        let path = try Corpus.temporaryDirectory("atrium-health-fhir") + "/bundle.json"
        try JSONSerialization.data(withJSONObject: bundle).write(to: URL(fileURLWithPath: path))
        let run = try Subprocess.run("python3", [Corpus.script("HealthRecordsTests", "fhir_validate.py"), path])
        try #require(run.status == 0, "fhir_validate.py: \(run.errorOutput)")
        let summary = try #require(try JSONSerialization.jsonObject(with: run.standardOutput) as? [String: Any])
        let resources = try #require(summary["resources"] as? [String: Int])
        #expect(resources["Patient"] == 1)
        #expect(resources["Encounter"] == 2)
        #expect(resources["Condition"] == 2)
        #expect(resources["CarePlan"] == 1)
        let loinc = Set(summary["loinc"] as? [String] ?? [])
        // Body height, weight, BMI, waist, BP panel with systolic and diastolic, fasting glucose, TC, TG, HDL, LDL, HbA1c.
        #expect(
            loinc.isSuperset(of: [
                "8302-2", "29463-7", "39156-5", "8280-0", "85354-9", "8480-6", "8462-4", "14771-0", "14647-2", "14927-8", "14646-4",
                "22748-8",
                "4548-4",
            ]))
        let units = summary["units"] as? [String: String] ?? [:]
        #expect(units["8480-6"] == "mm[Hg]" && units["14771-0"] == "mmol/L" && units["39156-5"] == "kg/m2")
        #expect(Set(summary["conditions"] as? [String] ?? []) == ["38341003", "44054006"])
        #expect((summary["patient"] as? [String: Any])?["birthDate"] as? String == "1961-09-03")
        #expect(summary["carePlanActivities"] as? Int == 3)
    }

    @Test("A FHIR Patient with Observations imports as a resident and one examination per day")
    func fhirImportRoundTrip() throws {
        let bundle = FHIRExport.bundle(resident: Self.resident, examinations: [Self.examination], followUps: [], plan: nil)
        let imported = try FHIRImport.read(bundle, institution: "CHC-NORTH")
        #expect(imported.resident.name == "张伟")
        #expect(imported.resident.recordNumber == "E-007")
        #expect(imported.resident.institution == "CHC-NORTH")
        #expect(imported.resident.birthDate == "1961-09-03")
        let examination = try #require(imported.examinations.first)
        #expect(imported.examinations.count == 1)
        #expect(examination.vitals == Self.examination.vitals)
        #expect(examination.auxiliary.hdlCholesterol == 1.1 && examination.auxiliary.hba1c == 7.2)
        #expect(throws: HealthError.self) { try FHIRImport.read(["resourceType": "Bundle", "entry": []], institution: "X") }
    }

    @Test("A FHIR Bundle with problems is refused whole, each problem naming its entry, element and reason")
    func fhirImportProblems() throws {
        var bundle = FHIRExport.bundle(resident: Self.resident, examinations: [Self.examination], followUps: [], plan: nil)
        var entries = bundle["entry"] as? [[String: Any]] ?? []
        // The first Observation after the Encounter (entry 3): its value out of range and in the wrong unit.
        var observation = entries[2]["resource"] as? [String: Any] ?? [:]
        observation["valueQuantity"] = ["value": 900, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"]
        entries[2]["resource"] = observation
        entries.append(["fullUrl": "urn:uuid:x", "resource": ["resourceType": "MedicationStatement"]])
        bundle["entry"] = entries
        do {
            _ = try FHIRImport.read(bundle, institution: "CHC-NORTH")
            Issue.record("a Bundle with problems was read")
        } catch {
            guard case .importRejected(let problems) = error else { throw error }
            #expect(problems.filter { $0.row == 3 }.count == 2)
            #expect(problems.contains { $0.row == entries.count && $0.column == "MedicationStatement" })
        }
        // Conditions become diagnoses; an Observation without a day takes its Encounter's.
        var withEncounter = FHIRExport.bundle(resident: Self.resident, examinations: [Self.examination], followUps: [], plan: nil)
        var list = withEncounter["entry"] as? [[String: Any]] ?? []
        var first = list[2]["resource"] as? [String: Any] ?? [:]
        first["effectiveDateTime"] = nil
        list[2]["resource"] = first
        withEncounter["entry"] = list
        let imported = try FHIRImport.read(withEncounter, institution: "CHC-NORTH")
        #expect(imported.examinations.map(\.date) == [Self.examination.date])
        #expect(imported.resident.information.diagnoses.map(\.code) == [Diagnosis.hypertension, Diagnosis.diabetes])
        #expect(imported.encounters == 1)
    }

    @Test("The CSV parser reports the header's problems on row 1 and quoted cells keep their commas")
    func csvHeader() throws {
        #expect(
            throws: ExaminationImportError.problems([
                ExaminationCSV.Problem(row: 1, column: "shoe_size", reason: "unknown column (docs/health.md lists the columns)"),
                ExaminationCSV.Problem(row: 1, column: "date", reason: "required column is missing"),
            ])
        ) {
            try ExaminationCSV.parse("record_number,shoe_size\nE-1,42\n")
        }
        let rows = try ExaminationCSV.parse("\u{FEFF}record_number,date,doctor\r\n\"E-1\",2026-01-02,\"Dr. Wu, \"\"senior\"\"\"\r\n")
        #expect(rows.first?.examination.doctor == "Dr. Wu, \"senior\"")
        #expect(rows.first?.recordNumber == "E-1")
    }

    @Test("An assessment refuses out-of-range inputs model by model and still classifies what it can")
    func assessmentRefusals() {
        var resident = Self.resident
        resident.birthDate = "1996-01-01"
        let assessment = Assessment.assess(Self.examination, of: resident)
        #expect(assessment.chinaPAR == nil)
        #expect(assessment.refusals.contains { $0.model == ChinaPAR.key && $0.input == "age" && $0.chinese.contains("35–74") })
        #expect(assessment.bloodPressure?.category == .grade1)
        // A diagnosed diabetic is followed up, not screened.
        #expect(assessment.diabetesRisk == nil)
    }
}
