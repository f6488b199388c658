import AtriumTesting
import Foundation
import Testing

@testable import HealthRecords

@Suite("Health-management teaching cases")
struct HealthTeachingCaseTests {
    static let secret = Array("a test secret of the server".utf8)
    static let resident = Resident(
        id: 7, institution: "CHC-EAST", recordNumber: "E-0707", name: "赵德明", sex: .male, birthDate: "1961-09-03",
        identityNumber: "11010519491231002X", phone: "13912345678", address: "青山县东街 12 号", north: false, urban: false,
        information: PersonalInformation(
            diagnoses: [Diagnosis(code: Diagnosis.hypertension, diagnosed: "2018-03")], familyHistoryASCVD: true))
    static let examination = Examination(
        id: 11, residentID: 7, date: "2026-03-10", doctor: "许文",
        vitals: .init(leftSystolic: 152, leftDiastolic: 94, height: 168, weight: 77, waist: 95),
        lifestyle: .init(smoking: "current", cigarettesPerDay: 15),
        auxiliary: .init(fastingGlucose: 6.3, totalCholesterol: 5.8, hdlCholesterol: 0.98), medications: ["赵德明自购降压药"],
        antihypertensiveTreatment: true, guidance: ["复查：请赵德明下周来"])
    static let followUp = FollowUp(
        residentID: 7, kind: .hypertension, date: "2026-04-12", systolic: 144, diastolic: 90, adverseReaction: "电话 13912345678",
        classification: .uncontrolled, nextDate: "2026-05-12")

    @Test("A record becomes a case without the name, numbers, address or real dates; dates move by the secret's offset")
    func deidentified() throws {
        let made = try HealthTeachingCase.make(
            resident: Self.resident, examination: Self.examination, followUps: [Self.followUp], secret: Self.secret)
        let text = [made.historyChinese, made.historyEnglish, made.findingsText, made.examinationDate].joined(separator: "\n")
        for value in [
            "赵德明", "13912345678", "青山县", "E-0707", "1961-09-03", "19610903", "2026-03-10", "2026-04-12", "2026-05-12", "许文",
            "11010519491231002X",
        ] {
            #expect(!text.contains(value), "\(value) is still in the case")
        }
        // The offset, computed independently: HMAC-SHA256 by Python's hmac, first four bytes big-endian, mod 365, plus 30.
        let run = try Subprocess.run(
            "python3",
            [
                "-c",
                "import hmac,hashlib,sys; m=hmac.new(sys.argv[1].encode(), b'health-resident/7', hashlib.sha256).digest(); print(30 + int.from_bytes(m[:4], 'big') % 365)",
                String(decoding: Self.secret, as: UTF8.self),
            ])
        let days = try #require(Int(run.output.trimmingCharacters(in: .whitespacesAndNewlines)))
        let expected = try #require(CivilDate("2026-03-10")).adding(days: -days).description
        #expect(made.examinationDate == expected)
        #expect(made.followUps.map(\.date) == [try #require(CivilDate("2026-04-12")).adding(days: -days).description])
        #expect(made.values.age == 64 && made.values.systolic == 152 && made.values.currentSmoker)
        #expect(made.historyChinese.contains("高血压") && made.historyChinese.contains("吸烟"))
        #expect(made.planItems == ["sbp", "cigarettes", "weight", "fasting-glucose", "lipids"])
        let plan = made.gradePlan(["sbp", "weight", "lipids"])
        #expect(!plan.correct && plan.missing == ["cigarettes", "fasting-glucose"])
        #expect(made.gradePlan(made.planItems).correct)
    }

    @Test("The safety net holds back a case whose text would still carry an identifying value")
    func safetyNet() {
        // A name that is also a word of the history: the case would carry it, so it is refused, naming the kind only.
        var resident = Self.resident
        resident.name = "高血压"
        #expect(throws: HealthError.invalid("the safety net held the case back: it still holds name")) {
            try HealthTeachingCase.make(resident: resident, examination: Self.examination, followUps: [], secret: Self.secret)
        }
    }
}
