import Foundation
import Teaching
import Training

/// Training's demonstration data: a small question bank on the demo library's cases (choice, report, matching,
/// ordering and a technologist's positioning task; text only, since the demo cases carry no images) and an exam open for a week, set by the demo
/// curator (the teacher) for every student, so that `demo-student` can take it and `demo-curator` proctor, grade and
/// release it; key findings on two cases for practice. Nothing in it is real.
enum TrainingDemo {
    static let step = DemoStep(name: "training") { context in
        let store = TrainingStore(identity: context.identity)
        guard try await store.exams().isEmpty else { return }
        let library = TeachingStore(identity: context.identity)
        let cases = try await library.search(CaseQuery(scope: .published, order: .title, limit: 50)).hits
        func caseID(_ prefix: String) -> Int64? { cases.first { $0.title.hasPrefix(prefix) }?.id }
        let lung = caseID("右肺下叶")
        let pneumonia = caseID("大叶性肺炎")
        let stroke = caseID("急性脑梗死")
        let questions: [QuestionContent] = [
            QuestionContent(
                kind: .singleChoice, stem: "该病例最可能的诊断是？ What is the most likely diagnosis?", caseID: lung,
                choices: [
                    Choice(id: "a", text: "周围型肺癌 Peripheral lung cancer", correct: true),
                    Choice(id: "b", text: "结核球 Tuberculoma", correct: false, feedback: "结核球多有卫星灶、钙化。Tuberculomas usually calcify."),
                    Choice(id: "c", text: "肺脓肿 Lung abscess", correct: false),
                ], tags: ["chest", "oncology"], difficulty: 2, points: 2),
            QuestionContent(
                kind: .multipleChoice, stem: "提示恶性的征象有哪些？ Which signs suggest malignancy?", caseID: lung,
                choices: [
                    Choice(id: "a", text: "毛刺征 Spiculation", correct: true),
                    Choice(id: "b", text: "胸膜凹陷征 Pleural retraction", correct: true),
                    Choice(id: "c", text: "爆米花样钙化 Popcorn calcification", correct: false),
                ], tags: ["chest", "oncology"], difficulty: 3, points: 2),
            QuestionContent(
                kind: .report, stem: "请书写该病例的影像所见与诊断意见。 Write the findings and impression.", caseID: lung,
                rubric: [
                    RubricCriterion(id: "lesion", text: "描述肿块部位、大小 Location and size of the mass", points: 2),
                    RubricCriterion(id: "signs", text: "描述毛刺与胸膜凹陷 Spiculation and pleural retraction", points: 2),
                    RubricCriterion(id: "impression", text: "诊断意见为肺癌 Impression: lung cancer", points: 1),
                ], tags: ["chest", "reporting"], difficulty: 3, points: 5),
            QuestionContent(
                kind: .singleChoice, stem: "支气管充气征最常见于？ An air bronchogram is most typical of?", caseID: pneumonia,
                choices: [
                    Choice(id: "a", text: "大叶性肺炎 Lobar pneumonia", correct: true),
                    Choice(id: "b", text: "中心型肺癌 Central lung cancer", correct: false),
                ], tags: ["chest", "infection"], difficulty: 1, points: 1),
            QuestionContent(
                kind: .matching, stem: "将征象与疾病配对。 Match each sign to its disease.",
                pairs: [
                    MatchPair(id: "p1", left: "支气管充气征 Air bronchogram", right: "肺炎 Pneumonia"),
                    MatchPair(id: "p2", left: "毛刺征 Spiculation", right: "肺癌 Lung cancer"),
                    MatchPair(id: "p3", left: "DWI高信号 Restricted diffusion", right: "急性脑梗死 Acute infarction"),
                ], tags: ["chest", "neuro"], difficulty: 2, points: 3),
            QuestionContent(
                kind: .ordering, stem: "按急诊卒中影像流程排序。 Order the acute stroke imaging steps.", caseID: stroke,
                items: [
                    OrderItem(id: "ct", text: "头颅CT平扫 Non-contrast CT"), OrderItem(id: "cta", text: "CT血管成像 CT angiography"),
                    OrderItem(id: "dwi", text: "MR弥散加权 MR DWI"),
                ], tags: ["neuro"], difficulty: 2, points: 3),
            // A technologist's positioning task: the projection and central ray chosen, the exposure typed.
            QuestionContent(
                kind: .positioning, stem: "成人胸部后前位摄影：请设置检查。 Adult chest PA: set up the examination.", caseID: pneumonia,
                settings: [
                    PositioningSetting(
                        id: "projection", name: "投照体位 Projection", options: ["站立后前位 PA erect", "仰卧前后位 AP supine", "侧位 Lateral"],
                        reference: "站立后前位 PA erect"),
                    PositioningSetting(
                        id: "ray", name: "中心线 Central ray", options: ["对准第7胸椎，垂直入射 T7, perpendicular", "对准第4胸椎，向头侧15° T4, 15° cranial"],
                        reference: "对准第7胸椎，垂直入射 T7, perpendicular"),
                    PositioningSetting(id: "kv", name: "管电压 Tube voltage", reference: "120", unit: "kV", tolerance: 5),
                    PositioningSetting(id: "distance", name: "源像距 Source–image distance", reference: "180", unit: "cm", tolerance: 0),
                ], tags: ["chest", "technologist"], difficulty: 2, points: 4),
        ]
        let ids = try await store.createQuestions(questions, by: "demo-curator")
        _ = try await store.createExam(
            ExamSettings(
                title: "胸部与神经影像小测 Chest and neuro quiz", instructions: "限时20分钟，答案即时保存。 20 minutes; answers are saved as you go.",
                forms: [ids], timeLimitSeconds: 20 * 60, closesAt: Date().addingTimeInterval(7 * 24 * 3600)),
            by: "demo-curator")
        // Key findings for practice (/training/practice): what a student's report on these cases should name.
        if let lung {
            try await store.setKeyFindings(
                case: lung,
                [
                    KeyFinding(id: "f1", terms: ["肿块", "结节", "mass", "nodule"]),
                    KeyFinding(id: "f2", terms: ["毛刺", "spiculation", "spiculated"]),
                    KeyFinding(id: "f3", terms: ["胸膜凹陷", "pleural retraction", "pleural indentation"]),
                ], by: "demo-curator")
        }
        if let pneumonia {
            try await store.setKeyFindings(
                case: pneumonia,
                [
                    KeyFinding(id: "f1", terms: ["实变", "consolidation"]),
                    KeyFinding(id: "f2", terms: ["支气管充气征", "air bronchogram"]),
                ], by: "demo-curator")
        }
    }
}
