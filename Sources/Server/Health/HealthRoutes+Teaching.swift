import Foundation
import HealthRecords
import Hummingbird
import Platform
import Programme
import Teaching

/// The teaching side of the health records in the browser: the health-management teaching cases a student opens and
/// answers (compute the risks, classify, write the plan), graded against the case's reference; the risk-assessment
/// training room on synthetic residents with the errors shown per input; and health education — the continuing-
/// education courses whose sessions residents and staff attend, attendance recorded and counted.
extension HealthRoutes {
    func registerTeaching(on router: Router<AtriumRequestContext>) {
        router.get("/health-records/teaching") { request, context in try await self.teachingListPage(request, context) }
        router.get("/health-records/teaching/:id") { request, context in try await self.teachingCasePage(request, context) }
        router.post("/health-records/teaching/:id") { request, context in try await self.teachingCaseForm(request, context) }
        router.post("/health-records/examinations/:id/teaching-case") { request, context in try await self.makeCaseForm(request, context) }
        router.get("/health-records/training") { request, context in try await self.trainingStart(request, context) }
        router.get("/health-records/training/:seed") { request, context in try await self.trainingPage(request, context) }
        router.post("/health-records/training/:seed") { request, context in try await self.trainingForm(request, context) }
        router.get("/api/health/education") { request, context in try await self.educationJSON(request, context) }
        router.post("/api/health/education/:id/attendance") { request, context in try await self.attendanceJSON(request, context) }
        router.get("/health-records/education") { request, context in try await self.educationPage(request, context) }
        router.post("/health-records/education/:id/attendance") { request, context in try await self.attendanceForm(request, context) }
        router.put("/api/health/residents/:id") { request, context in try await self.updateResidentJSON(request, context) }
        router.post("/health-records/residents/:id/basic") { request, context in try await self.basicForm(request, context) }
    }

    // MARK: - Answers from a form

    /// The plan items a teaching case may call for (``HealthTeachingCase/planItems``).
    static let planItems = ["sbp", "cigarettes", "weight", "fasting-glucose", "lipids"]

    /// What a student typed; a field left empty (or not a number) is not graded.
    static func answer(_ form: FormBody) -> RiskTraining.Answer {
        func number(_ name: String) -> Double? {
            guard let text = form[name]?.trimmingCharacters(in: .whitespaces), let value = Double(text), value.isFinite else { return nil }
            return value
        }
        func whole(_ name: String) -> Int? { form[name].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
        return RiskTraining.Answer(
            bmi: number("bmi"), bmiClass: form["bmiClass"].flatMap(BMIClass.init(rawValue:)),
            waistClass: form["waistClass"].flatMap(WaistClass.init(rawValue:)),
            bloodPressureClass: form["bloodPressureClass"].flatMap(BloodPressureClass.init(rawValue:)), chinaPAR: number("chinaPAR"),
            chinaPARCategory: form["chinaPARCategory"].flatMap(ChinaPAR.Category.init(rawValue:)), cdrsAge: whole("cdrsAge"),
            cdrsSex: whole("cdrsSex"), cdrsBMI: whole("cdrsBMI"), cdrsWaist: whole("cdrsWaist"), cdrsSystolic: whole("cdrsSystolic"),
            cdrsFamilyHistory: whole("cdrsFamilyHistory"), cdrsTotal: whole("cdrsTotal"))
    }

    /// The answer as the form shows it again.
    static func answerFields(_ form: FormBody?) -> [String: Any] {
        var fields: [String: Any] = [:]
        for name in ["bmi", "chinaPAR", "cdrsAge", "cdrsSex", "cdrsBMI", "cdrsWaist", "cdrsSystolic", "cdrsFamilyHistory", "cdrsTotal"] {
            fields[name] = form?[name] ?? ""
        }
        return fields
    }

    // MARK: - Rendering a case and its feedback

    func valueRows(_ resident: RiskTraining.Case, suspect: Set<String>, _ language: InterfaceLanguage) -> [[String: Any]] {
        func text(_ key: String) -> String { views.locales.text(key, language) }
        func yes(_ value: Bool) -> String { text(value ? "healthTeaching.yes" : "healthTeaching.no") }
        func number(_ value: Double) -> String { Self.number(value) }
        let rows: [(String, String)] = [
            ("sex", text("health.sex.\(resident.sex.rawValue)")), ("age", "\(resident.age)"), ("height", number(resident.height) + " cm"),
            ("weight", number(resident.weight) + " kg"), ("waist", number(resident.waist) + " cm"),
            ("sbp", number(resident.systolic) + " mmHg"), ("dbp", number(resident.diastolic) + " mmHg"), ("treated", yes(resident.treated)),
            ("tc", String(format: "%.1f", resident.totalCholesterol) + " mmol/L"),
            ("hdl", String(format: "%.2f", resident.hdlCholesterol) + " mmol/L"), ("smoker", yes(resident.currentSmoker)),
            ("diabetes", yes(resident.diabetes)), ("north", yes(resident.north)), ("urban", yes(resident.urban)),
            ("family-ascvd", yes(resident.familyHistoryASCVD)), ("family-diabetes", yes(resident.familyHistoryDiabetes)),
        ]
        return rows.map {
            ["input": $0.0, "label": text("healthTeaching.input.\($0.0)"), "value": $0.1, "suspect": suspect.contains($0.0)]
        }
    }

    /// The inputs behind the wrong items, derived items followed back to the measured ones (a wrong BMI class points
    /// at the BMI, which points at height and weight).
    static func suspects(_ feedback: RiskTraining.Feedback) -> Set<String> {
        let derived: [String: [String]] = [
            "bmi": ["height", "weight"],
            "china-par": [
                "sex", "age", "sbp", "treated", "tc", "hdl", "waist", "smoker", "diabetes", "north",
                "urban", "family-ascvd",
            ], "cdrs-items": ["age", "sex", "height", "weight", "waist", "sbp", "family-diabetes"],
        ]
        var result: Set<String> = []
        for item in feedback.items where !item.correct {
            for input in item.inputs { result.formUnion(derived[input] ?? [input]) }
        }
        return result
    }

    func feedbackRows(_ feedback: RiskTraining.Feedback, _ language: InterfaceLanguage) -> [[String: Any]] {
        func text(_ key: String) -> String { views.locales.text(key, language) }
        func shown(_ item: String, _ value: String) -> String {
            let prefix = [
                "bmi-class": "health.bmiClass", "waist-class": "health.waistClass", "bp-class": "health.bpClass",
                "china-par-category": "health.riskLevel",
            ][item]
            return prefix.map { text("\($0).\(value)") } ?? value
        }
        return feedback.items.map { item in
            [
                "item": item.item, "label": text("healthTeaching.item.\(item.item)"), "given": shown(item.item, item.given),
                "expected": shown(item.item, item.expected), "correct": item.correct,
                "inputs": item.inputs.map { text("healthTeaching.input.\($0)") }.joined(separator: ", "),
            ]
        }
    }

    func answerChoices(_ answer: RiskTraining.Answer?, _ language: InterfaceLanguage) -> [String: Any] {
        func text(_ key: String) -> String { views.locales.text(key, language) }
        return [
            "bmiClasses": Self.options(
                BMIClass.allCases.map(\.rawValue), prefix: "health.bmiClass", selected: answer?.bmiClass?.rawValue, text),
            "waistClasses": Self.options(
                WaistClass.allCases.map(\.rawValue), prefix: "health.waistClass", selected: answer?.waistClass?.rawValue, text),
            "bpClasses": Self.options(
                BloodPressureClass.allCases.map(\.rawValue), prefix: "health.bpClass", selected: answer?.bloodPressureClass?.rawValue, text),
            "categories": Self.options(
                ChinaPAR.Category.allCases.map(\.rawValue), prefix: "health.riskLevel", selected: answer?.chinaPARCategory?.rawValue, text),
        ]
    }

    // MARK: - Teaching cases

    /// A health-management case the person may open: students only once the library published it.
    func openableCase(_ id: Int64, _ viewer: HealthAccess.Viewer) async throws -> (HealthTeachingCase, CaseContent) {
        let made = try await mapped { () async throws(HealthError) in try await store.teachingCase(id) }
        let content: CaseContent?
        if viewer.isStaff {
            content = try? await teaching.get(id).content
        } else {
            content = try? await teaching.published(id)?.content
        }
        guard let content else { throw HTTPError(.notFound, message: "no published health-management case \(id)") }
        return (made, content)
    }

    /// The record page's 制作教学病例 / *Make a teaching case* on an examination: the de-identified draft case (as
    /// `POST /api/health/residents/{id}/teaching-case`), then its page.
    func makeCaseForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, _) = try Self.staff(context)
        let id = try Self.id(context)
        let examination = try await mapped { () async throws(HealthError) in try await store.examination(id) }
        let (resident, _) = try await resident(
            examination.residentID, context, action: .read, detail: "made into a teaching case", write: true)
        let made: (caseID: Int64, planItems: [String])
        do {
            made = try await Self.makeTeachingCase(
                store: store, teaching: teaching, resident: resident, examination: examination, author: principal.username)
        } catch let error as HealthError {
            return try await mapped { () async throws(HealthError) -> Response in throw error }
        }
        await audit(
            context, action: .create, resident: resident.id, detail: "teaching case \(made.caseID) made from examination \(examination.id)")
        return .redirect(to: "/health-records/teaching/\(made.caseID)", type: .found)
    }

    /// `GET /health-records/teaching`: the health-management cases (students: the published ones).
    func teachingListPage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (_, viewer) = try signedIn(request, context)
        let language = WebViews.language(request: request, context: context)
        var cases: [[String: Any]] = []
        for id in try await mapped({ () async throws(HealthError) in try await store.teachingCaseIDs() }) {
            guard let found = try? await openableCase(id, viewer) else { continue }
            cases.append(["id": id, "title": found.1.title, "published": (try? await teaching.published(id)) != nil])
        }
        return views.page(
            "health-teaching", title: views.locales.text("healthTeaching.title", language), section: .health,
            data: ["cases": cases, "empty": cases.isEmpty, "staff": viewer.isStaff], request: request, context: context)
    }

    func teachingCasePage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        try await renderTeachingCase(request, context, form: nil)
    }

    /// `POST /health-records/teaching/{id}`: the student's answers graded (the same grading as
    /// `POST /api/health/teaching-cases/{id}/answers`).
    func teachingCaseForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        try await renderTeachingCase(request, context, form: try await FormBody.read(request))
    }

    func renderTeachingCase(_ request: Request, _ context: AtriumRequestContext, form: FormBody?) async throws -> Response {
        let (principal, viewer) = try signedIn(request, context)
        let language = WebViews.language(request: request, context: context)
        let id = try Self.id(context)
        let (made, content) = try await openableCase(id, viewer)
        var data: [String: Any] = [
            "id": id, "title": content.title, "history": content.clinicalHistory, "findings": content.findings,
            "learningPoints": content.learningPoints, "fields": Self.answerFields(form),
        ]
        var suspect: Set<String> = []
        let answer = form.map(Self.answer)
        let plan = Self.planItems.filter { form?["plan-\($0)"] == "1" }
        data["planItems"] = Self.planItems.map {
            ["item": $0, "label": views.locales.text("healthTeaching.plan.\($0)", language), "checked": plan.contains($0)]
        }
        if let answer {
            let feedback: RiskTraining.Feedback
            do {
                feedback = try RiskTraining.grade(answer, for: made.values)
            } catch {
                throw HTTPError(.unprocessableContent, message: error.english)
            }
            let planFeedback = made.gradePlan(plan)
            suspect = Self.suspects(feedback)
            data["graded"] = true
            data["feedback"] = feedbackRows(feedback, language)
            data["correct"] = feedback.correct
            data["gradedCount"] = feedback.graded
            data["planCorrect"] = planFeedback.correct
            data["planMissing"] = planFeedback.missing.map { views.locales.text("healthTeaching.plan.\($0)", language) }
            data["planExpected"] = planFeedback.expected.map { views.locales.text("healthTeaching.plan.\($0)", language) }
            data["hasPlanExtra"] = plan.contains { !planFeedback.expected.contains($0) }
            data["planExtra"] = plan.filter { !planFeedback.expected.contains($0) }.map {
                views.locales.text("healthTeaching.plan.\($0)", language)
            }
            logger.info(
                "health teaching case graded",
                metadata: [
                    "case": "\(id)", "correct": "\(feedback.correct)/\(feedback.graded)", "plan": "\(planFeedback.correct)",
                    "user": "\(principal.username)",
                ])
        }
        data["values"] = valueRows(made.values, suspect: suspect, language)
        data.merge(answerChoices(answer, language)) { _, new in new }
        return views.page(
            "health-teaching-case", title: content.title, section: .health, data: data, request: request, context: context)
    }

    // MARK: - The training room

    /// `GET /health-records/training`: a new synthetic resident (a random seed).
    func trainingStart(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try signedIn(request, context)
        return .redirect(to: "/health-records/training/\(UInt64.random(in: 1...999_999_999))", type: .found)
    }

    func trainingPage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        try await renderTraining(request, context, form: nil)
    }

    func trainingForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        try await renderTraining(request, context, form: try await FormBody.read(request))
    }

    func renderTraining(_ request: Request, _ context: AtriumRequestContext, form: FormBody?) async throws -> Response {
        let (principal, _) = try signedIn(request, context)
        let language = WebViews.language(request: request, context: context)
        let seed = try Self.seed(context)
        let resident = RiskTraining.generate(seed: seed)
        var data: [String: Any] = ["seed": String(seed), "next": String(seed &+ 1), "fields": Self.answerFields(form)]
        var suspect: Set<String> = []
        let answer = form.map(Self.answer)
        if let answer {
            let feedback: RiskTraining.Feedback
            do {
                feedback = try RiskTraining.grade(answer, for: resident)
            } catch {
                throw HTTPError(.unprocessableContent, message: error.english)
            }
            suspect = Self.suspects(feedback)
            data["graded"] = true
            data["feedback"] = feedbackRows(feedback, language)
            data["correct"] = feedback.correct
            data["gradedCount"] = feedback.graded
            logger.info(
                "risk training graded", metadata: ["seed": "\(seed)", "correct": "\(feedback.correct)", "user": "\(principal.username)"])
        }
        data["values"] = valueRows(resident, suspect: suspect, language)
        data.merge(answerChoices(answer, language)) { _, new in new }
        return views.page(
            "health-training", title: views.locales.text("healthTeaching.training.title", language), section: .health, data: data,
            request: request, context: context)
    }

    // MARK: - Health education

    struct CourseSummary: Encodable {
        var id: Int64
        var titleChinese: String
        var titleEnglish: String
        var creditHours: Double
        var residentAttendance: Int
        var staffAttendance: Int
        var sessions: [String]
    }

    /// The published continuing-education courses with their health-education attendance counts.
    func courseSummaries() async throws -> [CourseSummary] {
        let courses: [Course]
        do {
            courses = try await programme.courses(publishedOnly: true)
        } catch {
            logger.error("health education courses", metadata: ["error": "\(error)"])
            throw HTTPError(.internalServerError, message: "the courses are not available")
        }
        var summaries: [CourseSummary] = []
        for course in courses {
            let list = try await mapped { () async throws(HealthError) in try await store.attendance(course: course.id) }
            // Counts only, no names: every member of staff sees the course's whole attendance.
            let mine = list
            summaries.append(
                CourseSummary(
                    id: course.id, titleChinese: course.titleChinese, titleEnglish: course.titleEnglish, creditHours: course.creditHours,
                    residentAttendance: mine.filter { $0.residentID != nil }.count, staffAttendance: mine.filter { $0.person != nil }.count,
                    sessions: Array(Set(mine.map(\.date))).sorted()))
        }
        return summaries
    }

    /// `GET /api/health/education`: the courses open as health education, with attendance counts (staff).
    func educationJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.staff(context)
        return try Self.encoded(try await courseSummaries())
    }

    struct AttendanceBody: Decodable {
        var date: String
        var residents: [Int64]?
        var staff: [String]?
    }

    /// Records a session's attendance: residents the caller may change (their institution's, or assigned to them),
    /// staff by username (any active person but a student). All or nothing.
    func recordAttendance(
        course id: Int64, date: String, residents: [Int64], staff: [String], principal: Principal, context: AtriumRequestContext
    ) async throws -> Int {
        let course = try? await programme.course(id)
        guard let course, course.published else { throw HTTPError(.notFound, message: "no published course \(id)") }
        guard CivilDate(date) != nil else { throw HTTPError(.badRequest, message: "the session date \(date) is not yyyy-MM-dd") }
        guard !residents.isEmpty || !staff.isEmpty else { throw HTTPError(.badRequest, message: "nobody is named as attending") }
        var list: [HealthStore.Attendance] = []
        for resident in Set(residents).sorted() {
            let (record, _) = try await self.resident(
                resident, context, action: .create, detail: "attended health education course \(id) on \(date)", write: true)
            list.append(.init(course: id, date: date, residentID: resident, institution: record.institution))
        }
        if !staff.isEmpty {
            let people = try await identity.people()
            let institutions = try await identity.institutions()
            for username in Set(staff).sorted() {
                guard let person = people.first(where: { $0.username == username }), !person.disabled,
                    !person.roles.subtracting([.student]).isEmpty
                else { throw HTTPError(.badRequest, message: "\(username) is not an active member of staff") }
                let institution = institutions.first { $0.id == person.institutionID }?.code ?? ""
                list.append(.init(course: id, date: date, person: username, institution: institution))
            }
        }
        let added = try await mapped { () async throws(HealthError) in try await store.recordAttendance(list, by: principal.username) }
        await audit(
            context, action: .create, resident: nil,
            detail: "health education course \(course.id) on \(date): \(residents.count) residents, \(staff.count) staff")
        return added
    }

    /// `POST /api/health/education/{course}/attendance` `{"date": "yyyy-MM-dd", "residents": [ids], "staff": [usernames]}`.
    func attendanceJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, _) = try Self.staff(context)
        let body = try await LibraryRoutes.decodeBody(AttendanceBody.self, request)
        let added = try await recordAttendance(
            course: try Self.id(context), date: body.date, residents: body.residents ?? [], staff: body.staff ?? [], principal: principal,
            context: context)
        return AuthRoutes.json(["recorded": added], status: .created)
    }

    func educationPage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (_, viewer) = try signedIn(request, context)
        guard viewer.isStaff else { throw HTTPError(.forbidden, message: "attendance is recorded by staff") }
        let language = WebViews.language(request: request, context: context)
        let summaries = try await courseSummaries()
        let residents = try await mapped { () async throws(HealthError) in try await store.residents(visibleTo: viewer) }
        let data: [String: Any] = [
            "courses": summaries.map { course -> [String: Any] in
                [
                    "id": course.id, "title": language == .chinese ? course.titleChinese : course.titleEnglish,
                    "creditHours": Self.number(course.creditHours), "residentAttendance": course.residentAttendance,
                    "staffAttendance": course.staffAttendance, "sessions": course.sessions.joined(separator: ", "),
                ]
            },
            "empty": summaries.isEmpty, "today": CivilDate(Date()).description,
            "residents": residents.map { ["id": $0.id, "name": $0.name, "recordNumber": $0.recordNumber] },
            "recorded": request.uri.queryParameters["recorded"].map(String.init) ?? "",
        ]
        return views.page(
            "health-education", title: views.locales.text("healthTeaching.education.title", language), section: .health, data: data,
            request: request, context: context)
    }

    /// The page's form: `date`, `resident-{id}=1` for each resident ticked, `staff` (usernames separated by commas or
    /// spaces).
    func attendanceForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, _) = try Self.staff(context)
        let form = try await FormBody.read(request)
        let residents = form.values.compactMap { key, value -> Int64? in
            guard key.hasPrefix("resident-"), value == "1" else { return nil }
            return Int64(key.dropFirst("resident-".count))
        }
        let staff = (form["staff"] ?? "").split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" }).map(String.init)
        let added = try await recordAttendance(
            course: try Self.id(context), date: form["date"] ?? "", residents: residents, staff: staff, principal: principal,
            context: context)
        return .redirect(to: "/health-records/education?recorded=\(added)", type: .found)
    }

    // MARK: - Basic information

    /// The personal basic information a record may lack and staff complete: `PUT /api/health/residents/{id}` with the
    /// fields to change (as ``Resident``; the serving institution and record number stay).
    func updateResidentJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, _) = try Self.staff(context)
        let id = try Self.id(context)
        let (current, _) = try await resident(id, context, action: .update, detail: "basic information edited", write: true)
        var edited = try await Self.decode(Resident.self, over: current, request)
        edited.id = current.id
        edited.institution = current.institution
        edited.recordNumber = current.recordNumber
        let saved = try await mapped { () async throws(HealthError) in try await store.updateResident(edited, by: principal.username) }
        return try Self.encoded(saved)
    }

    /// The record page's basic-information form: empty fields keep what the record has.
    func basicForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, _) = try Self.staff(context)
        let id = try Self.id(context)
        let form = try await FormBody.read(request)
        var (resident, _) = try await self.resident(id, context, action: .update, detail: "basic information edited", write: true)
        func take(_ name: String, _ keyPath: WritableKeyPath<Resident, String>) {
            if let value = form[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty { resident[keyPath: keyPath] = value }
        }
        take("name", \.name)
        take("birthDate", \.birthDate)
        take("identityNumber", \.identityNumber)
        take("phone", \.phone)
        take("address", \.address)
        if let sex = form["sex"].flatMap(ChinaPAR.Sex.init(rawValue:)) { resident.sex = sex }
        if let north = form["north"] { resident.north = north == "1" }
        if let urban = form["urban"] { resident.urban = urban == "1" }
        _ = try await mapped { () async throws(HealthError) in try await store.updateResident(resident, by: principal.username) }
        return .redirect(to: "/health-records/residents/\(id)", type: .found)
    }
}
