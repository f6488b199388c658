import Foundation
import HealthRecords
import Programme
import Teaching

/// The health records' demonstration data: two households of COUNTY-A with four residents assigned to the demo health
/// manager; a hypertensive resident and a diabetic one with examinations, assessments and follow-ups, the
/// hypertensive one's next follow-up due yesterday; and a small recommendation library.
enum HealthDemo {
    static let step = DemoStep(name: "health") { context in
        let store = HealthStore(identity: context.identity)
        guard try await store.residents(visibleTo: .init(username: "demo", institution: "COUNTY-A", roles: [.site])).isEmpty else { return }
        let doctor = DemoPeople.doctor.username
        let manager = DemoPeople.healthManager.username
        let today = CivilDate(Date())
        func day(_ offset: Int) -> String { today.adding(days: offset).description }
        let east = try await store.createHousehold(Household(institution: "COUNTY-A", number: "QS-0001", address: "青山县东街 12 号"), by: doctor)
        let west = try await store.createHousehold(Household(institution: "COUNTY-A", number: "QS-0002", address: "青山县西街 3 号"), by: doctor)
        let library: [Recommendation] = [
            Recommendation(
                category: "smoking", textChinese: "戒烟；社区戒烟门诊每周二开放。", textEnglish: "Stop smoking; the community clinic helps on Tuesdays.",
                findings: ["smoking:current"]),
            Recommendation(
                category: "diet", textChinese: "每日食盐不超过 5 克。", textEnglish: "No more than 5 g of salt a day.",
                findings: ["bp:high-normal", "bp:grade-1", "bp:grade-2", "bp:grade-3"]),
            Recommendation(
                category: "exercise", textChinese: "每周至少 5 天、每天 30 分钟中等强度运动。",
                textEnglish: "Moderate exercise for 30 minutes on at least 5 days a week.", findings: []),
            Recommendation(
                category: "weight", textChinese: "减重，目标体质指数低于 24。", textEnglish: "Lose weight towards a body-mass index below 24.",
                findings: ["bmi:overweight", "bmi:obese", "waist:central-obesity"]),
            Recommendation(
                category: "glucose", textChinese: "控制主食，监测空腹血糖。", textEnglish: "Limit staple food and check fasting glucose.",
                findings: ["cdrs:high", "glucose:impaired", "glucose:diabetic"]),
        ]
        var saved: [String: Int64] = [:]
        for recommendation in library {
            saved[recommendation.category] = try await store.saveRecommendation(recommendation, by: manager).id
        }
        let zhang = try await store.createResident(
            Resident(
                institution: "COUNTY-A", householdID: east.id, recordNumber: "QS-0001-01", name: "张建华", sex: .male, birthDate: "1962-08-20",
                phone: "13800000101", address: east.address, north: false, urban: false,
                information: PersonalInformation(
                    occupation: "farmer", diagnoses: [Diagnosis(code: Diagnosis.hypertension, diagnosed: "2019-04")],
                    familyHistoryASCVD: true)),
            by: doctor)
        let zhangWife = try await store.createResident(
            Resident(
                institution: "COUNTY-A", householdID: east.id, recordNumber: "QS-0001-02", name: "李桂兰", sex: .female,
                birthDate: "1965-02-11",
                address: east.address, north: false, urban: false), by: doctor)
        let chen = try await store.createResident(
            Resident(
                institution: "COUNTY-A", householdID: west.id, recordNumber: "QS-0002-01", name: "陈美玲", sex: .female,
                birthDate: "1958-11-30",
                phone: "13800000102", address: west.address, north: false, urban: false,
                information: PersonalInformation(
                    diagnoses: [Diagnosis(code: Diagnosis.diabetes, diagnosed: "2020-09")], familyHistoryDiabetes: true)),
            by: doctor)
        let chenSon = try await store.createResident(
            Resident(
                institution: "COUNTY-A", householdID: west.id, recordNumber: "QS-0002-02", name: "陈伟", sex: .male, birthDate: "1986-05-06",
                address: west.address, north: false, urban: false), by: doctor)
        for resident in [zhang, zhangWife, chen, chenSon] { try await store.assign(resident: resident.id, to: manager, by: doctor) }
        let examinations: [(Resident, Examination.Vitals, Examination.Auxiliary, String, Bool)] = [
            (
                zhang,
                .init(
                    pulse: 78, leftSystolic: 156, leftDiastolic: 94, rightSystolic: 158, rightDiastolic: 96, height: 168, weight: 76,
                    waist: 95),
                .init(fastingGlucose: 5.9, totalCholesterol: 5.9, triglycerides: 2.0, ldlCholesterol: 3.7, hdlCholesterol: 1.02), "current",
                true
            ),
            (
                zhangWife, .init(pulse: 72, leftSystolic: 128, leftDiastolic: 82, height: 156, weight: 58, waist: 82),
                .init(fastingGlucose: 5.4, totalCholesterol: 5.1, hdlCholesterol: 1.4), "never", false
            ),
            (
                chen, .init(pulse: 80, leftSystolic: 138, leftDiastolic: 84, height: 155, weight: 64, waist: 88),
                .init(fastingGlucose: 7.8, totalCholesterol: 5.4, triglycerides: 2.6, hdlCholesterol: 1.1, hba1c: 7.6), "never", false
            ),
            (
                chenSon, .init(pulse: 70, leftSystolic: 132, leftDiastolic: 86, height: 174, weight: 82, waist: 92),
                .init(fastingGlucose: 6.2, totalCholesterol: 4.9, hdlCholesterol: 1.0), "current", false
            ),
        ]
        for (resident, vitals, auxiliary, smoking, treated) in examinations {
            let examination = try await store.addExamination(
                Examination(
                    residentID: resident.id, date: day(-60), doctor: DemoPeople.doctor.displayName, vitals: vitals,
                    lifestyle: .init(exerciseFrequency: "occasional", smoking: smoking, drinkingFrequency: "occasional"),
                    auxiliary: auxiliary,
                    antihypertensiveTreatment: treated),
                by: doctor)
            _ = try await store.assess(examination: examination.id, by: manager)
        }
        _ = try await store.recordFollowUp(
            FollowUp(
                residentID: zhang.id, kind: .hypertension, date: day(-31), systolic: 148, diastolic: 92, weight: 75, heartRate: 76,
                cigarettesPerDay: 10, saltIntake: "heavy", medicationAdherence: "intermittent", classification: .uncontrolled,
                medications: ["氨氯地平 5 mg qd"], nextDate: day(-1), doctor: DemoPeople.doctor.displayName),
            by: doctor)
        _ = try await store.recordFollowUp(
            FollowUp(
                residentID: chen.id, kind: .diabetes, date: day(-20), systolic: 134, diastolic: 82, weight: 63, fastingGlucose: 7.1,
                hba1c: 7.2,
                medicationAdherence: "regular", hypoglycaemia: "none", classification: .uncontrolled, medications: ["二甲双胍 0.5 g tid"],
                nextDate: day(70), doctor: DemoPeople.doctor.displayName),
            by: doctor)
        _ = try await store.savePlan(
            ManagementPlan(
                residentID: zhang.id,
                goals: [.init(item: "sbp", target: "<140/90", due: day(60)), .init(item: "cigarettes", target: "0", due: day(90))],
                followUpDates: [day(-1), day(89)], recommendationIDs: ["smoking", "diet", "weight"].compactMap { saved[$0] }),
            by: manager)
    }
}

/// The teaching side's demonstration data: the hypertensive demo resident's examination made into a published
/// health-management teaching case (so that `demo-student` can open it under /health-records/teaching and be graded),
/// and attendance at the demo continuing-education course as health education (two residents and the demo doctor).
enum HealthTeachingDemo {
    static let step = DemoStep(name: "health-teaching") { context in
        let store = HealthStore(identity: context.identity)
        let teaching = TeachingStore(identity: context.identity)
        guard try await store.teachingCaseIDs().isEmpty,
            let zhang = try await store.resident(institution: "COUNTY-A", recordNumber: "QS-0001-01"),
            let examination = try await store.examinations(resident: zhang.id).first
        else { return }
        let made = try await HealthRoutes.makeTeachingCase(
            store: store, teaching: teaching, resident: zhang, examination: examination, author: DemoPeople.curator.username)
        let draft = try await teaching.get(made.caseID)
        let submitted = try await teaching.apply(.submit, to: draft.id, actor: DemoPeople.curator.username, revision: draft.revision)
        _ = try await teaching.apply(.approve, to: draft.id, actor: DemoPeople.admin.username, revision: submitted.revision)
        let programme = ProgrammeStore(identity: context.identity, reading: nil, teaching: nil)
        guard let course = try await programme.courses(publishedOnly: true).first else { return }
        let day = CivilDate(Date()).adding(days: -7).description
        var list: [HealthStore.Attendance] = []
        for number in ["QS-0001-01", "QS-0002-01"] {
            if let resident = try await store.resident(institution: "COUNTY-A", recordNumber: number) {
                list.append(.init(course: course.id, date: day, residentID: resident.id, institution: "COUNTY-A"))
            }
        }
        list.append(.init(course: course.id, date: day, person: DemoPeople.doctor.username, institution: "COUNTY-A"))
        try await store.recordAttendance(list, by: DemoPeople.healthManager.username)
    }
}
