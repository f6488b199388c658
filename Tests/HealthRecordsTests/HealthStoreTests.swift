import Archive
import AtriumTesting
import Foundation
import Testing

@testable import HealthRecords
@testable import Platform

@Suite("Health store")
struct HealthStoreTests {
    @Test("The SQLite health store passes the shared suite")
    func sqlite() async throws {
        let directory = try Corpus.temporaryDirectory("atrium-health")
        let archive = try Archive.open(directory: directory)
        let identity = try IdentityStore.make(archive: archive, directory: directory)
        try await HealthStoreSuite.run(HealthStore(identity: identity))
    }

    @Test("The PostgreSQL health store passes the shared suite")
    func postgres() async throws {
        let server = try await PostgresServer.start()
        defer { server.stop() }
        let url = try await server.createDatabase("atrium_health")
        let directory = try Corpus.temporaryDirectory("atrium-health-pg")
        let archive = try Archive.open(directory: directory, database: url)
        let identity = try IdentityStore.make(archive: archive, directory: directory)
        try await identity.prepare()
        try await HealthStoreSuite.run(HealthStore(identity: identity))
    }
}

/// The health store's behaviour on any back end.
enum HealthStoreSuite {
    static let staffEast = HealthAccess.Viewer(username: "doc.east", institution: "CHC-EAST", roles: [.site])
    static let staffWest = HealthAccess.Viewer(username: "doc.west", institution: "CHC-WEST", roles: [.site])
    static let manager = HealthAccess.Viewer(username: "hm.centre", institution: "HEALTH-CENTRE", roles: [.healthManager])
    static let student = HealthAccess.Viewer(username: "stu", institution: "MEDCOLLEGE", roles: [.student])

    static func run(_ store: HealthStore) async throws {
        try await store.prepare()
        let household = try await store.createHousehold(
            Household(institution: "CHC-EAST", number: "H-01", address: "1 East Road"), by: "doc.east")
        await #expect(throws: HealthError.self) {
            try await store.createHousehold(Household(institution: "CHC-EAST", number: "H-01", address: "again"), by: "doc.east")
        }
        // 11010519491231002X is the standard's own example number (GB 11643-1999 Annex).
        let wang = try await store.createResident(
            Resident(
                institution: "CHC-EAST", householdID: household.id, recordNumber: "E-001", name: "王建国", sex: .male, birthDate: "1962-04-18",
                identityNumber: "11010519491231002X", phone: "13800000000", address: "1 East Road", north: true, urban: true,
                information: PersonalInformation(
                    diagnoses: [Diagnosis(code: Diagnosis.hypertension, diagnosed: "2019-06")], familyHistoryASCVD: true)),
            by: "doc.east")
        let li = try await store.createResident(
            Resident(institution: "CHC-WEST", recordNumber: "W-001", name: "李秀英", sex: .female, birthDate: "1958-11-02"), by: "doc.west")
        await #expect(throws: HealthError.self) {
            try await store.createResident(
                Resident(
                    institution: "CHC-EAST", recordNumber: "E-002", name: "Bad", sex: .male, birthDate: "1960-01-01",
                    identityNumber: "110105194912310021"),
                by: "doc.east")
        }
        await #expect(throws: HealthError.self) {
            try await store.createResident(
                Resident(institution: "CHC-EAST", recordNumber: "E-001", name: "Dup", sex: .male, birthDate: "1960-01-01"), by: "x")
        }

        // Access: the serving institution's staff, assigned health managers, students de-identified, nobody else.
        #expect(try await store.residents(visibleTo: staffEast).map(\.id) == [wang.id])
        #expect(try await store.residents(visibleTo: staffWest).map(\.id) == [li.id])
        #expect(try await store.residents(visibleTo: manager).isEmpty)
        try await store.assign(resident: wang.id, to: manager.username, by: "doc.east")
        #expect(try await store.residents(visibleTo: manager).map(\.id) == [wang.id])
        #expect(try await store.access(manager, resident: wang.id) == .full)
        #expect(try await store.access(manager, resident: li.id) == HealthAccess.none)
        #expect(try await store.access(staffWest, resident: wang.id) == HealthAccess.none)
        let seenByStudent = try await store.residents(visibleTo: student)
        #expect(seenByStudent.count == 2)
        #expect(seenByStudent.allSatisfy { $0.name.isEmpty && $0.identityNumber.isEmpty && $0.phone.isEmpty && $0.address.isEmpty })
        #expect(seenByStudent.first { $0.id == wang.id }?.birthDate == "1962-07-01")
        #expect(try await store.residents(visibleTo: staffEast, search: "建国").count == 1)
        #expect(try await store.residents(visibleTo: staffEast, search: "nobody").isEmpty)

        // An examination, assessed: BMI, waist, pressure classes, China-PAR and (no diabetes diagnosed) the CDRS.
        let examination = try await store.addExamination(
            Examination(
                residentID: wang.id, date: "2026-03-10",
                vitals: .init(
                    leftSystolic: 148, leftDiastolic: 92, rightSystolic: 152, rightDiastolic: 90, height: 170, weight: 78, waist: 93),
                lifestyle: .init(exerciseFrequency: "occasional", smoking: "current", cigarettesPerDay: 10),
                auxiliary: .init(
                    fastingGlucose: 6.4, totalCholesterol: 5.6, hdlCholesterol: 1.1, laboratoryResultIDs: ["LAB-2026-0001"],
                    imagingStudyUIDs: ["1.2.3.4"]),
                antihypertensiveTreatment: true),
            by: "doc.east")
        await #expect(throws: HealthError.self) {
            try await store.addExamination(Examination(residentID: wang.id, date: "2026-13-01"), by: "doc.east")
        }
        let assessment = try await store.assess(examination: examination.id, by: "hm.centre")
        #expect(assessment.age == 63)
        #expect(assessment.bmiClass == .overweight)
        #expect(assessment.waistClass == .centralObesity)
        #expect(assessment.bloodPressure?.category == .grade1)
        let expectedPAR = try ChinaPAR.evaluate(
            ChinaPAR.Input(
                sex: .male, age: 63, systolic: 152, treated: true, totalCholesterol: 5.6, hdlCholesterol: 1.1, waist: 93,
                currentSmoker: true,
                diabetes: false, north: true, urban: true, familyHistory: true))
        #expect(assessment.chinaPAR == expectedPAR)
        #expect(assessment.diabetesRisk != nil)
        #expect(assessment.findings.contains("smoking:current") && assessment.findings.contains("glucose:impaired"))
        #expect(try await store.assessments(resident: wang.id).map(\.id) == [assessment.id])
        #expect(try await store.examinations(resident: wang.id).first?.auxiliary.laboratoryResultIDs == ["LAB-2026-0001"])

        // The recommendation library and a plan choosing from it.
        let quit = try await store.saveRecommendation(
            Recommendation(category: "smoking", textChinese: "戒烟", textEnglish: "Stop smoking", findings: ["smoking:current"]),
            by: "hm.centre")
        let walk = try await store.saveRecommendation(
            Recommendation(
                category: "exercise", textChinese: "每周快走五次", textEnglish: "Walk briskly five times a week", findings: ["bmi:obese"]),
            by: "hm.centre")
        var retired = walk
        retired.active = false
        _ = try await store.saveRecommendation(retired, by: "hm.centre")
        #expect(try await store.recommendations().map(\.id) == [quit.id])
        #expect(try await store.recommendations(includeInactive: true).count == 2)
        #expect(assessment.recommendations(from: try await store.recommendations()).map(\.id) == [quit.id])
        let plan = try await store.savePlan(
            ManagementPlan(
                residentID: wang.id, goals: [.init(item: "sbp", target: "<140/90", due: "2026-06-30")], followUpDates: ["2026-04-10"],
                recommendationIDs: [quit.id]),
            by: "hm.centre")
        #expect(try await store.plan(resident: wang.id) == plan)

        // Follow-ups and the due list.
        await #expect(throws: HealthError.self) {
            try await store.recordFollowUp(
                FollowUp(residentID: wang.id, kind: .hypertension, date: "2026-04-10", classification: .controlled, nextDate: "2026-04-01"),
                by: "x")
        }
        _ = try await store.recordFollowUp(
            FollowUp(
                residentID: wang.id, kind: .hypertension, date: "2026-04-10", systolic: 146, diastolic: 88, classification: .uncontrolled,
                nextDate: "2026-05-10"),
            by: "doc.east")
        _ = try await store.recordFollowUp(
            FollowUp(
                residentID: li.id, kind: .diabetes, date: "2026-04-01", fastingGlucose: 6.8, classification: .controlled,
                nextDate: "2026-07-01"),
            by: "doc.west")
        let dueEast = try await store.dueFollowUps(on: try #require(CivilDate("2026-05-12")), visibleTo: staffEast)
        #expect(dueEast.map(\.residentID) == [wang.id])
        #expect(dueEast.first?.overdueDays == 2)
        #expect(dueEast.first?.kind == .hypertension)
        #expect(try await store.dueFollowUps(on: try #require(CivilDate("2026-05-09")), visibleTo: staffEast).isEmpty)
        #expect(try await store.dueFollowUps(on: try #require(CivilDate("2026-07-01")), visibleTo: staffWest).map(\.residentID) == [li.id])
        #expect(try await store.dueFollowUps(on: try #require(CivilDate("2026-07-01")), visibleTo: student).isEmpty)
        _ = try await store.recordFollowUp(
            FollowUp(
                residentID: wang.id, kind: .hypertension, date: "2026-05-12", systolic: 134, diastolic: 84, classification: .controlled,
                nextDate: "2026-08-12"),
            by: "doc.east")
        #expect(try await store.dueFollowUps(on: try #require(CivilDate("2026-05-12")), visibleTo: staffEast).isEmpty)

        // A partner's CSV: one bad row rejects the whole file, with every problem named; a good file is stored whole.
        let bad = """
            档案编号,体检日期,身高,体重,腰围,左侧收缩压,左侧舒张压,空腹血糖,吸烟状况
            E-001,2026-05-20,170,77,92,138,86,6.1,吸烟
            E-404,2026-05-20,160,55,70,120,80,5.0,never
            E-001,2026-02-30,170,abc,92,80,96,60,sometimes
            """
        let before = try await store.examinations(resident: wang.id).count
        do {
            _ = try await store.importExaminations(csv: bad, institution: "CHC-EAST", by: "doc.east")
            Issue.record("a file with bad rows was imported")
        } catch {
            guard case .importRejected(let problems) = error else { throw error }
            let cells = Set(problems.map { "\($0.row)|\($0.column)" })
            #expect(cells.isSuperset(of: ["4|weight_kg", "4|fasting_glucose", "4|smoking", "4|date", "4|sbp_left"]), "\(problems)")
        }
        do {
            _ = try await store.importExaminations(
                csv: bad.replacingOccurrences(of: "E-001,2026-02-30,170,abc,92,80,96,60,sometimes", with: ""), institution: "CHC-EAST",
                by: "doc.east")
            Issue.record("a row naming an unknown resident was imported")
        } catch {
            guard case .importRejected(let problems) = error else { throw error }
            #expect(problems == [ExaminationCSV.Problem(row: 3, column: "record_number", reason: "no resident E-404 at CHC-EAST")])
        }
        #expect(try await store.examinations(resident: wang.id).count == before)
        let good = """
            record_number,date,height_cm,weight_kg,waist_cm,sbp_left,dbp_left,total_cholesterol,hdl_cholesterol,smoking,lab_result_ids
            E-001,2026-05-20,170,77,92,138,86,5.4,1.2,current,LAB-1;LAB-2
            "E-001",2026-06-20,170,76.5,91,"136",84,5.2,1.25,former,
            """
        let imported = try await store.importExaminations(csv: good, institution: "CHC-EAST", by: "doc.east")
        #expect(imported.map(\.date) == ["2026-05-20", "2026-06-20"])
        #expect(imported.allSatisfy { $0.id > 0 && $0.residentID == wang.id })
        #expect(imported.first?.auxiliary.laboratoryResultIDs == ["LAB-1", "LAB-2"])
        #expect(imported.last?.lifestyle.smoking == "former")
        #expect(try await store.examination(imported[1].id) == imported[1])
        #expect(try await store.examinations(resident: wang.id).count == before + 2)
        // A CSV cannot reach another institution's residents.
        await #expect(throws: HealthError.self) {
            try await store.importExaminations(
                csv: good.replacingOccurrences(of: "E-001", with: "W-001"), institution: "CHC-EAST", by: "doc.east")
        }

        // Indicator records: three examinations, one assessment, three follow-ups, each of its serving institution.
        let records = try await store.indicatorRecords()
        #expect(records.filter { $0.kind == "examination" }.count == 3)
        #expect(records.filter { $0.kind == "assessment" }.count == 1)
        #expect(records.filter { $0.kind == "follow-up" }.map(\.institution).sorted() == ["CHC-EAST", "CHC-EAST", "CHC-WEST"])

        try await fhirAndEducation(store, known: wang)
    }

    /// A FHIR import is kept whole or not at all (on this back end's transactions); attendance is kept once per
    /// person, course and day, and each is an education person-time of the attendee's institution.
    static func fhirAndEducation(_ store: HealthStore, known: Resident) async throws {
        func bundle(number: String, name: String, birthDate: String, systolic: Double) -> [String: Any] {
            [
                "resourceType": "Bundle", "type": "collection",
                "entry": [
                    [
                        "fullUrl": "urn:uuid:p",
                        "resource": [
                            "resourceType": "Patient", "identifier": [["value": number]], "name": [["text": name]], "gender": "male",
                            "birthDate": birthDate,
                        ] as [String: Any],
                    ],
                    [
                        "fullUrl": "urn:uuid:o",
                        "resource": [
                            "resourceType": "Observation", "status": "final", "subject": ["reference": "urn:uuid:p"],
                            "effectiveDateTime": "2026-07-01",
                            "code": ["coding": [["system": "http://loinc.org", "code": "29463-7"]]],
                            "valueQuantity": ["value": systolic / 2, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"],
                        ] as [String: Any],
                    ],
                ],
            ]
        }
        // A known record number whose Patient disagrees with the record: refused, nothing stored.
        let before = try await store.examinations(resident: known.id).count
        let mismatch = try FHIRImport.read(
            bundle(number: known.recordNumber, name: known.name, birthDate: "1950-01-01", systolic: 140), institution: known.institution)
        await #expect(throws: HealthError.self) { try await store.importFHIR(mismatch, by: "doc.east") }
        #expect(try await store.examinations(resident: known.id).count == before)
        // A new resident with its examination, and the known one gaining one.
        let fresh = try FHIRImport.read(bundle(number: "F-9", name: "赵强", birthDate: "1966-02-02", systolic: 140), institution: "CHC-EAST")
        let kept = try await store.importFHIR(fresh, by: "doc.east")
        #expect(kept.registered && kept.resident.id > 0 && kept.examinations.count == 1)
        #expect(try await store.resident(kept.resident.id).recordNumber == "F-9")
        #expect(try await store.examinations(resident: kept.resident.id).map(\.vitals.weight) == [70])
        let again = try FHIRImport.read(
            bundle(number: known.recordNumber, name: known.name, birthDate: known.birthDate, systolic: 150), institution: known.institution)
        let added = try await store.importFHIR(again, by: "doc.east")
        #expect(!added.registered && added.resident.id == known.id)
        #expect(try await store.examinations(resident: known.id).count == before + 1)

        let attendance: [HealthStore.Attendance] = [
            .init(course: 5, date: "2026-07-02", residentID: known.id, institution: known.institution),
            .init(course: 5, date: "2026-07-02", residentID: kept.resident.id, institution: "CHC-EAST"),
            .init(course: 5, date: "2026-07-02", person: "doc.west", institution: "CHC-WEST"),
        ]
        #expect(try await store.recordAttendance(attendance, by: "doc.east") == 3)
        #expect(try await store.recordAttendance(Array(attendance.prefix(2)), by: "doc.east") == 0)
        await #expect(throws: HealthError.self) {
            try await store.recordAttendance([.init(course: 5, date: "July", residentID: known.id, institution: "CHC-EAST")], by: "x")
        }
        #expect(try await store.attendance(course: 5).count == 3)
        let education = try await store.indicatorRecords().filter { $0.kind == "education" }
        #expect(education.map(\.institution).sorted() == ["CHC-EAST", "CHC-EAST", "CHC-WEST"])
    }
}
