import AtriumTesting
import Foundation
import Testing

@testable import HealthRecords

@Suite("Risk-assessment training room")
struct RiskTrainingTests {
    static func reference(_ cases: [RiskTraining.Case]) throws -> [[String: Any]] {
        let people: [[String: Any]] = cases.map {
            [
                "sex": $0.sex.rawValue, "age": $0.age, "sbp": $0.systolic, "dbp": $0.diastolic, "treated": $0.treated,
                "tc": $0.totalCholesterol, "hdl": $0.hdlCholesterol, "waist": $0.waist, "height": $0.height, "weight": $0.weight,
                "smoker": $0.currentSmoker, "diabetes": $0.diabetes, "north": $0.north, "urban": $0.urban,
                "fh_ascvd": $0.familyHistoryASCVD,
                "fh_diabetes": $0.familyHistoryDiabetes,
            ]
        }
        let path = try Corpus.temporaryDirectory("atrium-health-training") + "/cases.json"
        try JSONSerialization.data(withJSONObject: people).write(to: URL(fileURLWithPath: path))
        let run = try Subprocess.run("python3", [Corpus.script("HealthRecordsTests", "risk_reference.py"), path])
        try #require(run.status == 0, "risk_reference.py: \(run.errorOutput)")
        return try #require(try JSONSerialization.jsonObject(with: run.standardOutput) as? [[String: Any]])
    }

    static func answer(_ expected: [String: Any]) throws -> RiskTraining.Answer {
        let items = try #require(expected["cdrs_items"] as? [String: Int])
        return RiskTraining.Answer(
            bmi: (expected["bmi"] as? Double).map { ($0 * 10).rounded() / 10 },
            bmiClass: BMIClass(rawValue: expected["bmi_class"] as? String ?? ""),
            waistClass: WaistClass(rawValue: expected["waist_class"] as? String ?? ""),
            bloodPressureClass: BloodPressureClass(rawValue: expected["bp_class"] as? String ?? ""),
            chinaPAR: (expected["china_par"] as? Double).map { ($0 * 10).rounded() / 10 },
            chinaPARCategory: ChinaPAR.Category(rawValue: expected["china_par_category"] as? String ?? ""), cdrsAge: items["age"],
            cdrsSex: items["sex"], cdrsBMI: items["bmi"], cdrsWaist: items["waist"], cdrsSystolic: items["sbp"],
            cdrsFamilyHistory: items["family"], cdrsTotal: items.values.reduce(0, +))
    }

    @Test("Synthetic residents are the same for a seed, inside every model's range, and vary across seeds")
    func generation() throws {
        #expect(RiskTraining.generate(seed: 42) == RiskTraining.generate(seed: 42))
        let cases = (1...200).map { RiskTraining.generate(seed: UInt64($0)) }
        #expect(Set(cases.map(\.age)).count > 30)
        #expect(cases.contains { $0.sex == .male } && cases.contains { $0.sex == .female })
        for resident in cases { _ = try RiskTraining.grade(RiskTraining.Answer(), for: resident) }
    }

    @Test("Answers computed independently in Python score every item right; wrong items are named with their inputs")
    func grading() throws {
        let cases = (1...60).map { RiskTraining.generate(seed: UInt64(1000 + $0)) }
        let expected = try Self.reference(cases)
        for (resident, reference) in zip(cases, expected) {
            let answer = try Self.answer(reference)
            let feedback = try RiskTraining.grade(answer, for: resident)
            #expect(feedback.graded == 13 && feedback.correct == 13, "seed \(resident.seed): \(feedback.items.filter { !$0.correct })")
            var wrong = answer
            wrong.waistClass = WaistClass.allCases.first { $0 != answer.waistClass }
            wrong.cdrsSystolic = (answer.cdrsSystolic ?? 0) + 1
            wrong.chinaPAR = (answer.chinaPAR ?? 0) + 2
            let marked = try RiskTraining.grade(wrong, for: resident)
            #expect(Set(marked.items.filter { !$0.correct }.map(\.item)) == ["waist-class", "cdrs-sbp", "china-par"])
            #expect(marked.items.first { $0.item == "waist-class" }?.inputs == ["waist", "sex"])
        }
        let partial = try RiskTraining.grade(RiskTraining.Answer(bmiClass: .obese), for: cases[0])
        #expect(partial.graded == 1)
    }
}
