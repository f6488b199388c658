import Foundation
import Platform
import Training

/// Supervision's demonstration data (on the demo institutions of ``DemoInstitutions``, which the first-run test counts): the
/// college's competencies and the imaging-technology programme's logbook targets; a cohort with `demo-student`, whose
/// academic supervisor is `demo-curator` and practice supervisor `demo-supervisor` (of the affiliated hospital); a
/// countersigned placement, a countersigned and a pending procedure, a competency signed off; and a published
/// inspection of the affiliated hospital by the programme office (`demo-admin`); a planned proposal, a small
/// registered project, and a project assignment of the cohort (individual work, evaluated by the teacher and the practice
/// supervisor). Nothing in it is real.
enum SupervisionDemo {
    static let programme = "医学影像技术 Medical imaging technology"

    static let step = DemoStep(name: "supervision") { context in
        let store = TrainingStore(identity: context.identity)
        guard try await store.cohorts().isEmpty else { return }
        let student = try await context.person(DemoPeople.student.username).username
        let curator = try await context.person(DemoPeople.curator.username).username
        let supervisor = try await context.person(DemoPeople.supervisor.username).username
        let admin = try await context.person(DemoPeople.admin.username).username
        let hospital = DemoPeople.supervisor.institution
        try await store.setCompetencies([
            Competency(id: "positioning", name: "摆位 Patient positioning", levels: 4),
            Competency(id: "ct-protocol", name: "CT扫描方案 CT protocols", levels: 4),
            Competency(id: "radiation-safety", name: "辐射防护 Radiation protection", levels: 3),
        ])
        try await store.setTargets(
            programme: programme,
            [
                LogbookTarget(dimension: .modality, value: "CT", count: 20), LogbookTarget(dimension: .modality, value: "DR", count: 30),
                LogbookTarget(dimension: .region, value: "chest", count: 15),
            ])
        let cohort = try await store.createCohort(name: "2026级影像技术1班 Imaging technology class 1, 2026", programme: programme, by: curator)
        _ = try await store.enrol(student, cohort: cohort.id, by: curator)
        _ = try await store.assignSupervisors(
            SupervisorAssignment(trainee: student, academicSupervisor: curator, practiceSupervisor: supervisor, partner: hospital),
            by: admin)
        let placement = try await store.logEntry(
            LogbookSubmission(
                kind: .placement, partner: hospital, department: "放射科 CT室 Radiology, CT", date: "2026-09-01", endDate: "2026-10-31"),
            trainee: student)
        _ = try await store.review(entry: placement.id, by: supervisor, accept: true, comment: "")
        let chest = try await store.logEntry(
            LogbookSubmission(
                kind: .procedure, date: "2026-09-08", modality: "CT", bodyRegion: "chest", role: .performed,
                description: "胸部CT平扫，带教老师在场。 Plain chest CT under supervision.", placement: placement.id), trainee: student)
        _ = try await store.review(entry: chest.id, by: supervisor, accept: true, comment: "摆位规范。 Good positioning.")
        _ = try await store.logEntry(
            LogbookSubmission(
                kind: .procedure, date: "2026-09-10", modality: "DR", bodyRegion: "chest", role: .observed,
                description: "胸部正侧位摄影。 PA and lateral chest radiographs.", placement: placement.id), trainee: student)
        _ = try await store.signOff(
            trainee: student, competency: "positioning", level: 2, note: "能独立完成胸部摆位。 Positions chests alone.", by: supervisor)
        var inspection = try await store.recordInspection(
            InspectionDraft(
                institution: hospital, subjectKind: .placement, subject: "放射科轮转 Radiology rotation", party: supervisor,
                unannounced: true, date: "2026-09-15",
                findings: "带教记录完整；辐射防护培训未留记录。 Teaching records complete; radiation-safety briefing not recorded."),
            by: admin)
        inspection = try await store.addAction(
            inspection: inspection.id, action: "补充辐射防护培训记录 Record the radiation-safety briefing", owner: supervisor, due: "2026-10-15")
        _ = try await store.publishInspection(inspection.id)
        _ = try await store.planMilestone(trainee: student, stage: .proposal, due: "2026-12-15", reviewers: [curator])
        _ = try await store.registerProject(
            ProjectDraft(title: "胸部CT剂量调查 Chest CT dose audit", points: 1, trainees: [student], supervisor: supervisor, year: 2026),
            by: curator)
        _ = try await store.createAssignment(
            AssignmentDraft(
                title: "疑似肺栓塞的CT肺动脉造影 CT pulmonary angiography for a suspected pulmonary embolism",
                description:
                    "为疑似肺栓塞患者制定并完成胸部CT检查方案：对比剂、注射速率、触发位置、管电压与剂量报告。 Protocol and perform a chest CT for a suspected pulmonary embolism: contrast, injection rate, bolus-tracking level, tube voltage and the dose report.",
                rubric: [
                    RubricCriterion(id: "protocol", text: "扫描方案 Scan protocol", points: 10),
                    RubricCriterion(id: "contrast", text: "对比剂与时相 Contrast and timing", points: 5),
                    RubricCriterion(id: "dose", text: "剂量与报告 Dose and report", points: 5),
                ], mode: .individual, cohort: cohort.id,
                units: AssignmentScoring.individualUnits([student]),
                weights: EvaluatorWeights(teacher: 60, supervisor: 40, peer: 0), due: "2026-12-31"),
            by: curator)
    }
}
