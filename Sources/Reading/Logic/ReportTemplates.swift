import Foundation

/// A report template: the sections a modality and body part's report has, with pick-list phrases for each.
public struct ReportTemplate: Sendable, Equatable {
    public struct Section: Sendable, Equatable {
        public var kind: String
        /// The heading, bilingual as printed (Chinese, then English).
        public var title: String
        /// Phrases the reader can insert with one click.
        public var phrases: [String]
    }

    public var id: String
    public var modalities: Set<String>
    public var bodyParts: Set<String>
    public var sections: [Section]

    /// The empty sections a new report starts with.
    public var emptySections: [ReportSection] { sections.map { ReportSection(kind: $0.kind, title: $0.title, text: "") } }
}

/// The built-in templates, chosen by modality and body part (the most specific match wins, else the general one).
public enum ReportTemplates {
    static let history = ReportTemplate.Section(kind: "history", title: "临床病史 Clinical history", phrases: [])
    static let technique = ReportTemplate.Section(kind: "technique", title: "检查技术 Technique", phrases: [])
    static let impression = ReportTemplate.Section(kind: "impression", title: "诊断意见 Impression", phrases: ["No acute abnormality. 未见急性异常。"])

    public static let all: [ReportTemplate] = [
        ReportTemplate(
            id: "ct-chest", modalities: ["CT"], bodyParts: ["CHEST", "LUNG", "THORAX"],
            sections: [
                history,
                ReportTemplate.Section(kind: "technique", title: "检查技术 Technique", phrases: ["Non-contrast CT of the chest. 胸部CT平扫。"]),
                ReportTemplate.Section(
                    kind: "findings", title: "影像所见 Findings",
                    phrases: ["Lungs clear. 双肺清晰。", "No pleural effusion. 未见胸腔积液。", "Heart size normal. 心影大小正常。"]),
                impression,
            ]),
        ReportTemplate(
            id: "ct-head", modalities: ["CT"], bodyParts: ["HEAD", "BRAIN", "SKULL"],
            sections: [
                history,
                ReportTemplate.Section(kind: "technique", title: "检查技术 Technique", phrases: ["Non-contrast CT of the head. 头颅CT平扫。"]),
                ReportTemplate.Section(
                    kind: "findings", title: "影像所见 Findings",
                    phrases: ["No intracranial haemorrhage. 未见颅内出血。", "Ventricles normal in size. 脑室大小正常。"]),
                impression,
            ]),
        ReportTemplate(
            id: "radiograph", modalities: ["CR", "DX"], bodyParts: [],
            sections: [
                history, technique,
                ReportTemplate.Section(kind: "findings", title: "影像所见 Findings", phrases: ["No fracture. 未见骨折。"]), impression,
            ]),
        // Surgical pathology (whole-slide images, modality SM): specimen, gross and microscopic description, diagnosis,
        // immunohistochemistry. The diagnosis is the report's impression (its conclusion in SR and FHIR); the other
        // sections go into the SR as findings.
        ReportTemplate(
            id: "pathology", modalities: ["SM"], bodyParts: [],
            sections: [
                history,
                ReportTemplate.Section(
                    kind: "specimen", title: "送检标本 Specimen", phrases: ["Biopsy, formalin-fixed. 活检组织，福尔马林固定。"]),
                ReportTemplate.Section(kind: "gross", title: "大体所见 Gross description", phrases: []),
                ReportTemplate.Section(kind: "findings", title: "镜下所见 Microscopic description", phrases: []),
                ReportTemplate.Section(
                    kind: "impression", title: "病理诊断 Diagnosis",
                    phrases: ["No evidence of malignancy. 未见恶性证据。", "Chronic inflammation. 慢性炎症。"]),
                ReportTemplate.Section(
                    kind: "immunohistochemistry", title: "免疫组化 Immunohistochemistry",
                    phrases: ["Ki-67 (%). Ki-67（%）。", "CK (+). CK（+）。", "P53 (wild-type pattern). P53（野生型表达）。"]),
            ]),
        // Laboratory consultations (requests of the laboratory service line carry the modality LAB).
        ReportTemplate(
            id: "laboratory", modalities: ["LAB"], bodyParts: [],
            sections: [
                history,
                ReportTemplate.Section(
                    kind: "findings", title: "检验结果 Results", phrases: ["All results within reference intervals. 各项结果均在参考区间内。"]),
                ReportTemplate.Section(kind: "impression", title: "解释意见 Interpretation", phrases: []),
                ReportTemplate.Section(
                    kind: "recommendation", title: "建议 Recommendations", phrases: ["Repeat the test to confirm. 建议复查确认。"]),
            ]),
        ReportTemplate(
            id: "general", modalities: [], bodyParts: [],
            sections: [history, technique, ReportTemplate.Section(kind: "findings", title: "影像所见 Findings", phrases: []), impression]),
    ]

    /// The template for a modality and body part (DICOM codes such as `CT`, `CHEST`).
    public static func template(modality: String, bodyPart: String) -> ReportTemplate {
        let modality = modality.uppercased()
        let bodyPart = bodyPart.uppercased()
        func score(_ t: ReportTemplate) -> Int? {
            if !t.modalities.isEmpty && !t.modalities.contains(modality) { return nil }
            if !t.bodyParts.isEmpty && !t.bodyParts.contains(bodyPart) { return nil }
            return (t.modalities.isEmpty ? 0 : 2) + (t.bodyParts.isEmpty ? 0 : 1)
        }
        return all.compactMap { t in score(t).map { (t, $0) } }.max { $0.1 < $1.1 }?.0 ?? all[all.count - 1]
    }

    /// By id.
    public static func template(id: String) -> ReportTemplate? { all.first { $0.id == id } }
}
