import Foundation
import Teaching

/// The teaching library's demonstration data: a small curriculum and a few published text cases in Chinese and English,
/// written by the demo curator and approved by the demo administrator (a second curator), so that `/library` has
/// something to search (肺癌, pneumonia, a facet) on first start. Nothing in them is real.
enum LibraryDemo {
    static let step = DemoStep(name: "library") { context in
        let store = TeachingStore(identity: context.identity)
        guard try await store.search(CaseQuery(scope: .latest, limit: 1)).total == 0 else { return }
        try await store.loadCurriculum(csv: curriculum)
        for content in cases {
            let created = try await store.create(
                content, author: "demo-curator", institution: "MEDCOLLEGE", source: "demo", sourceKey: "demo:\(content.title)")
            let submitted = try await store.apply(.submit, to: created.id, actor: "demo-curator", revision: created.revision)
            _ = try await store.apply(.approve, to: created.id, actor: "demo-admin", revision: submitted.revision)
        }
    }

    static let curriculum = """
        code,title_zh,title_en,parent
        CHEST-01,胸部影像基础,Chest imaging basics,
        CHEST-02,肺部肿瘤,Lung tumours,CHEST-01
        CHEST-03,肺部感染,Lung infections,CHEST-01
        NEURO-01,神经影像基础,Neuroimaging basics,
        ABD-01,腹部影像基础,Abdominal imaging basics,

        """

    static let cases: [CaseContent] = [
        CaseContent(
            title: "右肺下叶周围型肺癌 Peripheral lung cancer, right lower lobe",
            clinicalHistory: "男，62岁，刺激性干咳两月，吸烟40年。Male, 62, dry cough for two months, 40 pack-years.",
            findings: "右肺下叶背段见3.2 cm分叶状肿块，边缘毛刺，邻近胸膜凹陷。A 3.2 cm lobulated spiculated mass with pleural retraction.",
            diagnosis: "肺腺癌 Lung adenocarcinoma", diagnosisCode: "ICD-10:C34.3",
            differentialDiagnosis: "结核球；机化性肺炎 Tuberculoma; organising pneumonia",
            discussion: "分叶、毛刺与胸膜凹陷征提示恶性。Lobulation, spiculation and pleural retraction favour malignancy.",
            learningPoints: ["毛刺征 spiculation", "胸膜凹陷征 pleural retraction"], certainty: .certain, confirmation: .histology,
            tags: CaseTags(
                modalities: ["CT"], bodyRegion: "chest", organSystem: "respiratory", pathologyCategory: "neoplasm", audience: .radiologist,
                difficulty: 3, curriculumItems: ["CHEST-02"], keywords: ["肺癌", "lung cancer"])),
        CaseContent(
            title: "大叶性肺炎 Lobar pneumonia",
            clinicalHistory: "女，35岁，高热、咳铁锈色痰三天。Female, 35, fever and rusty sputum for three days.",
            findings: "右肺中叶大片实变，内见支气管充气征。Right middle lobe consolidation with air bronchograms.",
            diagnosis: "大叶性肺炎 Lobar pneumonia", diagnosisCode: "ICD-10:J18.1",
            differentialDiagnosis: "阻塞性肺炎 Obstructive pneumonitis", discussion: "支气管充气征提示肺泡实变而非肿块。",
            learningPoints: ["支气管充气征 air bronchogram"], certainty: .almostCertain, confirmation: .followUp,
            tags: CaseTags(
                modalities: ["CR", "CT"], bodyRegion: "chest", organSystem: "respiratory", pathologyCategory: "infection", audience: .both,
                difficulty: 1, curriculumItems: ["CHEST-03"], keywords: ["肺炎", "pneumonia"])),
        CaseContent(
            title: "急性脑梗死 Acute ischaemic stroke",
            clinicalHistory: "男，70岁，突发左侧肢体无力4小时。Male, 70, sudden left-sided weakness for four hours.",
            findings: "右侧大脑中动脉供血区DWI高信号、ADC低信号。Restricted diffusion in the right MCA territory.",
            diagnosis: "急性脑梗死 Acute ischaemic infarction", diagnosisCode: "ICD-10:I63.9",
            learningPoints: ["DWI与ADC对照 compare DWI with ADC"], certainty: .certain, confirmation: .clinical,
            tags: CaseTags(
                modalities: ["MR"], bodyRegion: "head", organSystem: "nervous", pathologyCategory: "vascular", audience: .both,
                difficulty: 2, curriculumItems: ["NEURO-01"], keywords: ["脑梗死", "stroke"])),
    ]
}
