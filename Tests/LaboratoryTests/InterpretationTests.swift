import Archive
import AtriumTesting
import Foundation
import Testing

@testable import Laboratory

@Suite("UCUM units, reference intervals, flags and delta checks")
struct InterpretationTests {
    @Test(
        "Spellings laboratories send map to their UCUM codes; unknown units stay as sent, not normalised",
        arguments: [
            ("mmol/l", "mmol/L"), ("MMOL/L", "mmol/L"), ("umol/L", "umol/L"), ("µmol/L", "umol/L"), ("μmol/l", "umol/L"), ("g/L", "g/L"),
            ("mg/dl", "mg/dL"), ("10^9/L", "10*9/L"), ("10*9/L", "10*9/L"), ("x10E9/L", "10*9/L"), ("10^12/L", "10*12/L"), ("U/L", "U/L"),
            ("IU/L", "[IU]/L"), ("%", "%"), ("fL", "fL"), ("pg", "pg"), ("mIU/mL", "m[IU]/mL"), ("uIU/mL", "u[IU]/mL"),
        ])
    func spellings(_ sent: String, _ ucum: String) {
        #expect(UCUM.code(for: sent) == ucum)
        #expect(UCUM.normalise(value: 1, units: sent, loinc: nil).normalised)
    }

    @Test("A unit not in the table is kept as sent and flagged not normalised")
    func unknown() {
        let n = UCUM.normalise(value: 3, units: "furlongs/fortnight", loinc: "2823-3")
        #expect(!n.normalised)
        #expect(n.unit == "furlongs/fortnight")
        #expect(n.value == 3)
    }

    /// Textbook conversions (Tietz, SI conversion tables): conventional → SI, to 0.5 %.
    @Test(
        "Conventional units convert to the canonical SI unit for glucose, lipids, creatinine, urea and uric acid",
        arguments: [
            ("2345-7", 100.0, "mg/dL", 5.551, "mmol/L"), ("2093-3", 200.0, "mg/dL", 5.172, "mmol/L"),
            ("2571-8", 150.0, "mg/dL", 1.694, "mmol/L"), ("2160-0", 1.0, "mg/dL", 88.40, "umol/L"),
            ("3094-0", 14.0, "mg/dL", 4.998, "mmol/L"), ("3084-1", 6.0, "mg/dL", 356.9, "umol/L"),
            ("2085-9", 40.0, "mg/dL", 1.034, "mmol/L"), ("2345-7", 1.0, "g/L", 5.551, "mmol/L"),
        ])
    func conversions(_ loinc: String, _ value: Double, _ unit: String, _ expected: Double, _ canonical: String) {
        let n = UCUM.normalise(value: value, units: unit, loinc: loinc)
        #expect(n.converted)
        #expect(n.unit == canonical)
        #expect(abs((n.value ?? 0) - expected) / expected < 0.005, "\(loinc): \(n.value ?? 0) vs \(expected)")
        let same = UCUM.normalise(value: value, units: canonical, loinc: loinc)
        #expect(!same.converted && same.value == value)
    }

    static let ranges = ReferenceRanges.defaults

    @Test(
        "Flags against WS/T 404/405 intervals by sex and age band, with critical limits",
        arguments: [
            ("2823-3", AdministrativeSex.female, 40, 6.8, ResultFlag.criticalHigh),
            ("2823-3", .male, 40, 2.5, .criticalLow),
            ("2823-3", .male, 40, 5.4, .high),
            ("2823-3", .male, 40, 4.2, .normal),
            ("2160-0", .female, 30, 78.0, .high),
            ("2160-0", .female, 65, 78.0, .normal),
            ("2160-0", .male, 30, 78.0, .normal),
            ("718-7", .female, 30, 120.0, .normal),
            ("718-7", .male, 30, 120.0, .low),
            ("718-7", .male, 30, 45.0, .criticalLow),
            ("1742-6", .male, 30, 45.0, .normal),
            ("1742-6", .female, 30, 45.0, .high),
        ])
    func flags(_ loinc: String, _ sex: AdministrativeSex, _ age: Int, _ value: Double, _ flag: ResultFlag) throws {
        let range = try #require(ReferenceRanges.range(for: loinc, sex: sex, age: age, in: Self.ranges))
        #expect(ReferenceRanges.flag(value, range) == flag)
    }

    @Test("Delta checks fire beyond the absolute or percent threshold, not within it")
    func delta() {
        #expect(DeltaRule(loinc: "2823-3", absolute: 1.0).fires(previous: 4.0, current: 5.2))
        #expect(!DeltaRule(loinc: "2823-3", absolute: 1.0).fires(previous: 4.0, current: 4.9))
        #expect(DeltaRule(loinc: "2160-0", percent: 50).fires(previous: 80, current: 130))
        #expect(!DeltaRule(loinc: "2160-0", percent: 50).fires(previous: 80, current: 110))
    }

    @Test("An interpreted observation uses the patient's sex and age at the time of the result, and the canonical unit")
    func interpreted() {
        let patient = LabPatient(id: "P", familyName: "李", givenName: "红", birthDate: "1960-01-01", sex: .female)
        let when = HL7DateTime.parse("20261201080000") ?? Date()
        let creatinine = LabObservation(valueType: .numeric, code: "2160-0", codeSystem: "LN", value: "0.9", numeric: 0.9, units: "mg/dL")
        let result = InterpretedObservation.interpret(
            creatinine, patient: patient, at: when, ranges: Self.ranges, deltaRules: ReferenceRanges.deltaDefaults, previous: (50, when))
        // 0.9 mg/dL is 79.6 µmol/L: normal for a woman of 66 (41–81), high for one under 60 (41–73).
        #expect(result.range?.minimumAge == 60)
        #expect(result.flag == .normal)
        #expect(result.deltaFlag)
        let young = LabPatient(id: "Q", birthDate: "2000-01-01", sex: .female)
        #expect(
            InterpretedObservation.interpret(creatinine, patient: young, at: when, ranges: Self.ranges, deltaRules: [], previous: nil).flag
                == .high)
    }
}

@Suite("Westgard rules and the Levey-Jennings chart")
struct WestgardTests {
    /// A seeded series of two materials over 40 runs: noise from a fixed linear congruential generator, with injected
    /// shifts that make each rule fire somewhere.
    static func series() -> ([ControlMaterial], [QCRun]) {
        let materials = [
            ControlMaterial(
                id: 1, institution: "X", loinc: "2345-7", analyte: "Glucose", name: "Level 1", mean: 5.0, sd: 0.2, unit: "mmol/L"),
            ControlMaterial(
                id: 2, institution: "X", loinc: "2345-7", analyte: "Glucose", name: "Level 2", mean: 15.0, sd: 0.5, unit: "mmol/L"),
        ]
        var state: UInt64 = 20_261_206
        func noise() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 33) / Double(1 << 31) * 1.6 - 0.8
        }
        var z: [[Double]] = (0..<40).map { _ in [noise(), noise()] }
        z[4][0] = 3.4
        z[8] = [2.4, 2.3]
        z[12][0] = 2.2
        z[13][0] = 2.5
        z[16] = [2.5, -2.6]
        z[19] = [-1.5, -1.2]
        z[20] = [-1.3, -1.6]
        for run in 24..<36 { z[run] = [0.3 + 0.02 * Double(run - 24), 0.4] }
        let start = Date(timeIntervalSince1970: 1_790_000_000)
        let runs = z.enumerated().map { index, pair in
            QCRun(
                id: Int64(100 + index), institution: "X", at: start.addingTimeInterval(Double(index) * 86_400),
                values: [1: 5.0 + pair[0] * 0.2, 2: 15.0 + pair[1] * 0.5])
        }
        return (materials, runs)
    }

    @Test("Every rule agrees with an independent Python evaluation of the same seeded series, and each rule fires")
    func againstPython() async throws {
        let (materials, runs) = Self.series()
        let directory = try Corpus.temporaryDirectory("atrium-westgard")
        let json: [String: Any] = [
            "materials": materials.map { ["id": $0.id, "mean": $0.mean, "sd": $0.sd] },
            "runs": runs.map {
                [
                    "id": $0.id, "at": $0.at.timeIntervalSince1970,
                    "values": Dictionary(uniqueKeysWithValues: $0.values.map { (String($0.key), $0.value) }),
                ] as [String: Any]
            },
        ]
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: directory + "/series.json"))
        let output = try await python("westgard_reference.py", [directory + "/series.json"])
        let reference = try #require(try JSONSerialization.jsonObject(with: output) as? [[Any]])
        let expected = Set(reference.map { "\($0[0]) \($0[1]) \($0[2])" })
        let violations = Westgard.evaluate(runs: runs, materials: materials)
        let found = Set(violations.map { "\($0.rule.rawValue) \($0.runID) \($0.scope)" })
        #expect(
            found == expected, "only Atrium: \(found.subtracting(expected).sorted()); only Python: \(expected.subtracting(found).sorted())")
        for rule in WestgardRule.allCases {
            #expect(violations.contains { $0.rule == rule }, "\(rule.rawValue) never fired in the seeded series")
        }
        // The injected shifts, named: 1-3s in run 104, 2-2s within run 108, 2-2s across runs 112–113, R-4s in 116.
        #expect(expected.contains("1-3s 104 within-run"))
        #expect(expected.contains("2-2s 108 within-run"))
        #expect(expected.contains("2-2s 113 across-runs"))
        #expect(expected.contains("R-4s 116 within-run"))
    }

    @Test("The Levey-Jennings chart draws one point per run, the SD lines, and marks rejected runs")
    func chart() {
        let (materials, runs) = Self.series()
        let violations = Westgard.evaluate(runs: runs, materials: materials)
        let svg = LabCharts.leveyJennings(material: materials[0], runs: runs, violations: violations)
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>"))
        #expect(svg.components(separatedBy: "<circle").count - 1 == runs.count)
        #expect(svg.contains("data-run=\"104\" data-rules=\"1-2s 1-3s\""))
        #expect(svg.components(separatedBy: "lj-3sd").count - 1 == 2)
        #expect(!svg.contains("<script"))
    }
}

@Suite("Laboratory teaching cases")
struct LabTeachingCaseTests {
    static let set = ResultSet(
        id: "lab-x", institution: "COUNTY-A", source: .hl7v2, sendingFacility: "LIS", messageControlID: "MSG-8841",
        patient: LabPatient(
            id: "PT-31337", assigningAuthority: "COUNTY-A", familyName: "司马", givenName: "懿", birthDate: "1970-01-02", sex: .male),
        order: LabOrder(
            placerNumber: "PL-555", fillerNumber: "FL-666", serviceText: "Panel", observedAt: Date(timeIntervalSince1970: 1_796_000_000)),
        observations: [
            LabObservation(
                valueType: .numeric, code: "2823-3", codeText: "Potassium", codeSystem: "LN", value: "4.1", numeric: 4.1, units: "mmol/L"),
            LabObservation(valueType: .string, code: "X", codeText: "Remark", codeSystem: "L", value: "ask 司马懿"),
        ])

    @Test("The pseudonym and shift are given; identifiers and free text stay out; a note naming the patient is refused")
    func makesAndRefuses() throws {
        let interpreted = Self.set.observations.map {
            InterpretedObservation.interpret(
                $0, patient: Self.set.patient, at: Self.set.observedAt, ranges: [], deltaRules: [], previous: nil)
        }
        let identity = PseudonymousPatient(name: "ANON^ABC", id: "ANON-ABC", dateShiftDays: -10)
        let made = try LabTeachingCase.make(Self.set, interpreted: interpreted, identity: identity, interpretation: "Normal potassium.")
        // 1_796_000_000 s is 2026-11-30 08:53:20 in China Standard Time (Python's datetime); ten days earlier: 2026-11-20.
        #expect(made.history.contains("2026-11-20 08:53"))
        #expect(made.pseudonym == "ANON-ABC")
        #expect(made.rows.map(\.analyte) == ["Potassium"])
        let shown = made.findings + made.history + made.interpretation
        for value in ["PT-31337", "司马懿", "1970-01-02", "19700102", "PL-555", "FL-666", "MSG-8841", "2026-11-30", "ask"] {
            #expect(!shown.contains(value), "\(value)")
        }
        #expect(throws: LaboratoryError.self) {
            try LabTeachingCase.make(Self.set, interpreted: interpreted, identity: identity, interpretation: "Call 司马懿 today.")
        }
    }
}
