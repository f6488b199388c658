import Foundation
import Testing

@testable import Training

@Suite("Key-finding matching")
struct FindingMatcherTests {
    static let findings = [
        KeyFinding(id: "pneumothorax", terms: ["气胸", "pneumothorax"]),
        KeyFinding(id: "effusion", terms: ["胸腔积液", "pleural effusion"]),
        KeyFinding(id: "nodule", terms: ["左肺上叶 结节", "left upper lobe nodule"]),
        KeyFinding(id: "fracture", terms: ["肋骨骨折", "rib fracture"]),
    ]

    /// A hand-labelled case: a report, what each finding should come out as, and why.
    struct Case: CustomTestStringConvertible, Sendable {
        var report: String
        var expected: [String: FindingOutcome]
        var reason: String
        var testDescription: String { reason }
    }

    static let cases: [Case] = [
        Case(report: "右侧气胸，肺组织压缩约30%。", expected: ["pneumothorax": .found, "effusion": .missing], reason: "plain Chinese term"),
        Case(report: "未见气胸。", expected: ["pneumothorax": .negated], reason: "未见 before the term negates it"),
        Case(
            report: "双侧无胸腔积液，右侧可见少量气胸。", expected: ["pneumothorax": .found, "effusion": .negated],
            reason: "无 negates only the clause it stands in; the comma ends its reach"),
        Case(
            report: "未见明显胸腔积液及气胸", expected: ["pneumothorax": .negated, "effusion": .negated],
            reason: "one negation covers a list in the same clause"),
        Case(
            report: "No pneumothorax or pleural effusion.", expected: ["pneumothorax": .negated, "effusion": .negated],
            reason: "English pre-negation covers the list"),
        Case(
            report: "Small right PNEUMOTHORAX; no pleural effusion.", expected: ["pneumothorax": .found, "effusion": .negated],
            reason: "case does not matter; the semicolon ends the negation's clause"),
        Case(
            report: "A nodule in the left upper lobe, 8 mm.", expected: ["nodule": .found],
            reason: "the English words of a term may come in any order within one clause"),
        Case(
            report: "Effusion, pleural.", expected: ["effusion": .missing],
            reason: "a term's words split across clauses (by a comma) do not match"),
        Case(
            report: "左肺上叶见一小结节，边缘光整。", expected: ["nodule": .found],
            reason: "space-separated parts of a Chinese term may have words between them"),
        Case(
            report: "右側氣胸，左肺上葉結節。", expected: ["pneumothorax": .found, "nodule": .found],
            reason: "traditional characters are simplified before matching"),
        Case(
            report: "ＰＮＥＵＭＯＴＨＯＲＡＸ　ｏｎ　ｔｈｅ　ｒｉｇｈｔ", expected: ["pneumothorax": .found],
            reason: "full-width letters and spaces are half-width after normalisation"),
        Case(
            report: "No change in the small left pneumothorax.", expected: ["pneumothorax": .found],
            reason: "'no change' is a pseudo-negation: the pneumothorax is there"),
        Case(report: "气胸较前无明显变化", expected: ["pneumothorax": .found], reason: "无明显变化 after the term is a pseudo-negation"),
        Case(
            report: "不能排除肋骨骨折，建议复查。", expected: ["fracture": .found],
            reason: "不能排除 (cannot exclude) names the finding as possible, not absent"),
        Case(report: "Pneumothorax has resolved.", expected: ["pneumothorax": .negated], reason: "a post-negation after the term"),
        Case(
            report: "There are no rib fractures but a small pneumothorax.", expected: ["fracture": .negated, "pneumothorax": .found],
            reason: "plural matches the singular term; 'but' ends the negation's reach"),
        Case(
            report: "无明显诱因出现左侧气胸", expected: ["pneumothorax": .found],
            reason: "无明显诱因 (without an obvious cause) is a pseudo-negation"),
        Case(
            report: "No history of trauma is given by the patient who was admitted yesterday with a left pneumothorax",
            expected: ["pneumothorax": .found], reason: "a cue more than 12 tokens before the term does not reach it"),
        Case(
            report: "气 胸", expected: ["pneumothorax": .found], reason: "spaces between Han characters do not matter"),
        Case(report: "结节位于右肺下叶", expected: ["nodule": .missing], reason: "all parts of a term must be there: 左肺上叶 is not"),
    ]

    @Test("Hand-labelled reports come out as labelled", arguments: cases)
    func labelled(_ c: Case) {
        let results = FindingMatcher.match(report: c.report, findings: Self.findings)
        for (finding, outcome) in c.expected {
            let got = results.first { $0.finding == finding }
            #expect(got?.outcome == outcome, "\(c.reason): \(finding) in \"\(c.report)\"")
        }
    }

    @Test("The found term and its clause are reported; a missing finding has neither")
    func evidence() throws {
        let results = FindingMatcher.match(report: "心影不大。Left upper lobe nodule, 8 mm.", findings: Self.findings)
        let nodule = try #require(results.first { $0.finding == "nodule" })
        #expect(nodule.term == "left upper lobe nodule")
        #expect(nodule.clause == "Left upper lobe nodule", "the clause as the student wrote it")
        let fracture = try #require(results.first { $0.finding == "fracture" })
        #expect(fracture.outcome == .missing && fracture.term == nil && fracture.clause == nil)
    }

    @Test("Traditional to simplified agrees with OpenCC on a report in traditional characters")
    func traditionalAgainstOpenCC() throws {
        let traditional = "雙肺紋理增多，右下肺見斑片狀陰影，邊緣模糊；縱隔居中，心影大小正常，肋骨無骨折，膈面光整。"
        let script = """
            import sys, opencc
            print(opencc.OpenCC('t2s').convert(sys.argv[1]), end='')
            """
        let result = try ReferenceScript.inline(script, [traditional])
        #expect(ChineseVariants.simplified(traditional) == result)
        #expect(ChineseVariants.count > 2_500)
    }
}
