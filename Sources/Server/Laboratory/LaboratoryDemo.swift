import Foundation
import Laboratory
import Logging
import Platform
import Reading
import Teaching

/// The laboratory of `atrium serve --demo`: COUNTY-A's laboratory system (`QINGSHAN-LIS`) mapped to COUNTY-A, result
/// sets received through the same HL7 v2 intake as the MLLP listener (one with a critical potassium, one patient with
/// three results over months for delta checks and history charts, one in conventional units), one open laboratory
/// consultation from `demo-site`, and QC runs of two glucose controls with a 1-3s and a 2-2s violation. Does nothing when
/// result sets exist already.
public enum LaboratoryDemo {
    public static let facility = "QINGSHAN-LIS"

    static func oru(_ control: String, _ time: String, patient: String, _ observations: [String]) -> [UInt8] {
        let segments =
            [
                "MSH|^~\\&|LIS|\(facility)|ATRIUM|ATRIUM|\(time)+0800||ORU^R01^ORU_R01|\(control)|P|2.5|||||CHN|UNICODE UTF-8",
                patient, "OBR|1|\(control)-P|\(control)-F|24323-8^Metabolic panel^LN|||\(time)+0800",
            ]
            + observations.enumerated().map { "OBX|\($0.offset + 1)|NM|\($0.element)|||||F" }
        return Array(segments.joined(separator: "\r").utf8)
    }

    /// Loads the demo data; returns how many result sets were stored.
    @discardableResult
    public static func load(store: LaboratoryStore, reading: ReadingStore, identity: IdentityStore) async throws -> Int {
        guard try await store.resultSets(institution: nil, limit: 1).isEmpty,
            try await identity.institution(code: DemoInstitutions.countyA.code) != nil
        else { return 0 }
        try await store.setFacility(facility, institution: DemoInstitutions.countyA.code, by: "demo")
        let wang = "PID|1||LAB-0001^^^COUNTY-A^MR||王^芳||19680415|F"
        let chen = "PID|1||LAB-0002^^^COUNTY-A^MR||陈^刚||19550902|M"
        let zhao = "PID|1||LAB-0003^^^COUNTY-A^MR||赵^丽||19900120|F"
        func nm(_ code: String, _ name: String, _ value: String, _ unit: String) -> String { "\(code)^\(name)^LN||\(value)|\(unit)" }
        let messages: [[UInt8]] = [
            oru(
                "DEMO-0001", "20260610080000", patient: chen,
                [
                    nm("2160-0", "Creatinine", "95", "umol/L"), nm("718-7", "Hemoglobin", "128", "g/L"),
                    nm("2823-3", "Potassium", "4.3", "mmol/L"),
                ]),
            oru(
                "DEMO-0002", "20260915080000", patient: chen,
                [
                    nm("2160-0", "Creatinine", "132", "umol/L"), nm("718-7", "Hemoglobin", "112", "g/L"),
                    nm("2823-3", "Potassium", "4.8", "mmol/L"),
                ]),
            oru(
                "DEMO-0003", "20261202080000", patient: chen,
                [
                    nm("2160-0", "Creatinine", "214", "umol/L"), nm("718-7", "Hemoglobin", "88", "g/L"),
                    nm("2823-3", "Potassium", "5.6", "mmol/L"),
                ]),
            oru(
                "DEMO-0004", "20261203073000", patient: wang,
                [
                    nm("2823-3", "Potassium", "6.8", "mmol/L"), nm("2951-2", "Sodium", "138", "mmol/L"),
                    nm("2160-0", "Creatinine", "88", "umol/L"), nm("2345-7", "Glucose", "7.9", "mmol/L"),
                ]),
            oru(
                "DEMO-0005", "20261204090000", patient: zhao,
                [
                    nm("2093-3", "Cholesterol", "212", "mg/dL"), nm("2571-8", "Triglycerides", "140", "mg/dL"),
                    nm("2345-7", "Glucose", "92", "mg/dL"), nm("6690-2", "WBC", "6.1", "10*9/L"),
                ]),
        ]
        let intake = HL7Intake(store: store)
        var stored: [String] = []
        for message in messages {
            let outcome = await intake.receive(message)
            guard outcome.code == .applicationAccept else {
                throw LaboratoryError.invalid("demo message refused: \(outcome.error.map { "\($0)" } ?? "")")
            }
            stored += outcome.stored
        }
        // The open consultation: the site asks about the patient whose creatinine keeps rising.
        if let site = try await identity.person(username: DemoPeople.site.username), site.demo, stored.count >= 3,
            let set = try await store.resultSet(id: stored[2])
        {
            let (request, _) = try await reading.file(
                NewConsultationRequest(
                    serviceLine: .laboratory, priority: .urgent, referringPhysician: "Dr Demo",
                    clinicalHistory: "Hypertension for 10 years. 高血压十年。",
                    question: "Rising creatinine and falling haemoglobin: cause? 肌酐升高、血红蛋白下降的原因？",
                    accessionNumber: set.id, modality: "LAB", patientName: set.patient.displayName, patientID: set.patient.id),
                institution: set.institution,
                by: ReadingActor(username: site.username, displayName: site.displayName, transport: "demo"))
            try await store.link(requestID: request.id, resultSet: set.id)
        }
        // The critical potassium goes on the critical-value list (or its patient's open consultation), as on arrival.
        await LaboratoryCriticalPath(store: store, reading: reading, logger: Logger(label: "atrium.demo")).arrived(stored)
        // QC: two glucose controls over 20 days; day 8 breaks 1-3s on level 1, days 14 and 15 break 2-2s on level 2.
        let county = DemoInstitutions.countyA.code
        let level1 = try await store.addMaterial(
            ControlMaterial(
                institution: county, loinc: "2345-7", analyte: "Glucose", name: "Level 1", lot: "GLU-L1-2611", level: "1", mean: 5.5,
                sd: 0.15, unit: "mmol/L"))
        let level2 = try await store.addMaterial(
            ControlMaterial(
                institution: county, loinc: "2345-7", analyte: "Glucose", name: "Level 2", lot: "GLU-L2-2611", level: "2", mean: 16.0,
                sd: 0.4, unit: "mmol/L"))
        let z1: [Double] = [0.2, -0.5, 0.8, -0.3, 0.1, 0.6, -0.9, 3.3, 0.4, -0.2, 0.5, -0.6, 0.3, 0.9, -0.4, 0.2, -0.1, 0.7, -0.8, 0.3]
        let z2: [Double] = [-0.4, 0.3, -0.7, 0.5, -0.2, 0.9, 0.1, -0.3, 0.6, -0.8, 0.2, -0.5, 0.4, 2.4, 2.6, -0.3, 0.5, -0.6, 0.1, -0.2]
        let start = Date(timeIntervalSince1970: 1_794_268_800)  // 2026-11-10 08:00 China Standard Time.
        for day in 0..<20 {
            _ = try await store.addRun(
                QCRun(
                    institution: county, at: start.addingTimeInterval(Double(day) * 86_400),
                    values: [level1.id: 5.5 + z1[day] * 0.15, level2.id: 16.0 + z2[day] * 0.4]), by: "demo")
        }
        return stored.count
    }

    /// The demo step (``DemoSeed/steps``).
    static let step = DemoStep(name: "laboratory") { context in
        let store = LaboratoryStore(identity: context.identity)
        let reading = ReadingStore.make(identity: context.identity, settings: context.configuration.reading)
        let made = try await load(store: store, reading: reading, identity: context.identity)
        context.logger.info("demo laboratory", metadata: ["resultSets": "\(made)"])
        try await teachingCase(store: store, teaching: TeachingStore(identity: context.identity))
    }

    /// A draft laboratory case in the teaching library, made from the critical potassium's result set as a read case is:
    /// the table under the patient's pseudonym, the day shifted, no identifier.
    static func teachingCase(store: LaboratoryStore, teaching: TeachingStore) async throws {
        try await teaching.prepare()
        guard
            let set = try await store.resultSets(institution: DemoInstitutions.countyA.code).first(where: {
                $0.messageControlID == "DEMO-0004"
            })
        else { return }
        let secret = try await teaching.deidentificationSecret()
        let made = try LabTeachingCase.make(
            set, interpreted: try await store.interpret(set),
            identity: secret.patientIdentity(patientID: set.patient.id, issuer: set.patient.assigningAuthority),
            interpretation: "Hyperkalaemia beyond the critical limit: repeat without haemolysis, check renal function and ECG. "
                + "高钾血症超过危急界限：复查（避免溶血），查肾功能和心电图。")
        _ = try await teaching.create(
            LaboratoryRoutes.teachingContent(made), author: "demo-reader", institution: set.institution, source: "laboratory",
            sourceKey: "lab-demo:\(set.id)")
    }
}
