import Foundation
import HealthRecords
import Hummingbird
import Platform

/// The pages of the health records under `/health-records`: the residents the person may see with search and the CSV
/// import, a resident's record with the examination, follow-up and plan forms and the assessments, the printable
/// personal report, the due follow-ups and the recommendation library.
extension HealthRoutes {
    func registerPages(on router: Router<AtriumRequestContext>) {
        router.get("/health-records") { request, context in try await self.residentsPage(request, context) }
        router.post("/health-records/residents") { request, context in try await self.residentForm(request, context) }
        router.post("/health-records/import") { request, context in try await self.importForm(request, context) }
        router.get("/health-records/residents/:id") { request, context in try await self.recordPage(request, context) }
        router.post("/health-records/residents/:id/examinations") { request, context in try await self.examinationForm(request, context) }
        router.post("/health-records/residents/:id/follow-ups") { request, context in try await self.followUpForm(request, context) }
        router.post("/health-records/residents/:id/plan") { request, context in try await self.planForm(request, context) }
        router.post("/health-records/examinations/:id/assess") { request, context in try await self.assessForm(request, context) }
        router.get("/health-records/residents/:id/report") { request, context in try await self.reportPage(request, context) }
        router.get("/health-records/due") { request, context in try await self.duePage(request, context) }
        router.get("/health-records/recommendations") { request, context in try await self.recommendationsPage(request, context) }
        router.post("/health-records/recommendations") { request, context in try await self.recommendationForm(request, context) }
    }

    func signedIn(_ request: Request, _ context: AtriumRequestContext) throws -> (Principal, HealthAccess.Viewer) {
        guard context.principal != nil else {
            let target = request.uri.path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"
            throw HTTPError(.found, headers: [.location: "/login?return=\(target)"])
        }
        return try Self.viewer(context)
    }

    static func options(_ values: [String], prefix: String, selected: String?, _ text: (String) -> String) -> [[String: Any]] {
        values.map { ["value": $0, "label": text("\(prefix).\($0)"), "selected": $0 == selected] }
    }

    func choices(_ language: InterfaceLanguage) -> [String: Any] {
        func text(_ key: String) -> String { views.locales.text(key, language) }
        return [
            "sexes": Self.options(ChinaPAR.Sex.allCases.map(\.rawValue), prefix: "health.sex", selected: nil, text),
            "smokingOptions": Self.options(["never", "former", "current"], prefix: "health.smoking", selected: "never", text),
            "drinkingOptions": Self.options(["never", "occasional", "often", "daily"], prefix: "health.drinking", selected: "never", text),
            "exerciseOptions": Self.options(
                ["daily", "weekly", "occasional", "none"], prefix: "health.exercise", selected: "weekly", text),
            "kinds": Self.options(FollowUp.Kind.allCases.map(\.rawValue), prefix: "health.kind", selected: nil, text),
            "methods": Self.options(["clinic", "home", "phone"], prefix: "health.method", selected: "clinic", text),
            "classifications": Self.options(
                FollowUp.Classification.allCases.map(\.rawValue), prefix: "health.classification", selected: nil, text),
            "adherenceOptions": Self.options(["regular", "intermittent", "none"], prefix: "health.adherence", selected: "regular", text),
            "yes": "1", "today": CivilDate(Date()).description,
        ]
    }

    // MARK: - Residents

    func residentsPage(
        _ request: Request, _ context: AtriumRequestContext, problems: [ExaminationCSV.Problem]? = nil, imported: Int? = nil,
        csv: String = "", status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let (principal, viewer) = try signedIn(request, context)
        let language = WebViews.language(request: request, context: context)
        let search = request.uri.queryParameters["q"].map(String.init) ?? ""
        let residents = try await mapped { () async throws(HealthError) in try await store.residents(visibleTo: viewer, search: search) }
        await audit(context, action: .read, resident: nil, detail: "list of \(residents.count) residents")
        var data = choices(language)
        data.merge([
            "search": search, "staff": viewer.isStaff, "institution": principal.institutionCode ?? "",
            "residents": residents.map { resident -> [String: Any] in
                [
                    "id": resident.id, "recordNumber": resident.recordNumber, "name": resident.name, "institution": resident.institution,
                    "sex": views.locales.text("health.sex.\(resident.sex.rawValue)", language),
                    "age": resident.age(on: CivilDate(Date()).description) ?? 0,
                ]
            },
            "empty": residents.isEmpty, "csv": csv, "columns": ExaminationCSV.columns.map { ["key": $0.key, "chinese": $0.chinese] },
        ]) { _, new in new }
        if let problems {
            data["problems"] = problems.map { ["row": $0.row, "column": $0.column, "reason": $0.reason] }
            data["hasProblems"] = true
        }
        if let imported { data["imported"] = imported }
        return views.page(
            "health-records", title: views.locales.text("health.title", language), section: .health, data: data, request: request,
            context: context, status: status)
    }

    func residentForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, _) = try Self.staff(context)
        let form = try await FormBody.read(request)
        var diagnoses: [Diagnosis] = []
        if form["hypertension"] == "1" { diagnoses.append(Diagnosis(code: Diagnosis.hypertension)) }
        if form["diabetes"] == "1" { diagnoses.append(Diagnosis(code: Diagnosis.diabetes)) }
        let resident = Resident(
            institution: principal.institutionCode ?? "", recordNumber: form["recordNumber"] ?? "", name: form["name"] ?? "",
            sex: ChinaPAR.Sex(rawValue: form["sex"] ?? "") ?? .female, birthDate: form["birthDate"] ?? "",
            identityNumber: form["identityNumber"] ?? "", phone: form["phone"] ?? "", address: form["address"] ?? "",
            north: form["north"] == "1", urban: form["urban"] == "1",
            information: PersonalInformation(
                diagnoses: diagnoses, familyHistoryASCVD: form["familyASCVD"] == "1", familyHistoryDiabetes: form["familyDiabetes"] == "1"))
        guard !resident.institution.isEmpty else {
            throw HTTPError(.forbidden, message: "residents are registered by an institution's staff")
        }
        let created = try await mapped { () async throws(HealthError) in try await store.createResident(resident, by: principal.username) }
        await audit(context, action: .create, resident: created.id, detail: "resident registered")
        return .redirect(to: "/health-records/residents/\(created.id)", type: .found)
    }

    /// The CSV pasted into the import form: stored whole, or the page again with every problem.
    func importForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, _) = try Self.staff(context)
        let form = try await FormBody.read(request, limitBytes: 8 << 20)
        let csv = form["csv"] ?? ""
        let (stored, problems) = await importCSV(csv, institution: principal.institutionCode ?? "", principal: principal, context: context)
        if let problems {
            return try await residentsPage(request, context, problems: problems, csv: csv, status: .unprocessableContent)
        }
        if let first = stored.first, Set(stored.map(\.residentID)).count == 1 {
            return .redirect(to: "/health-records/residents/\(first.residentID)?imported=\(stored.count)", type: .found)
        }
        return try await residentsPage(request, context, imported: stored.count)
    }

    // MARK: - A resident's record

    static func number(_ value: Double?) -> String {
        guard let value else { return "" }
        return value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }

    func assessmentEntry(_ assessment: Assessment, _ language: InterfaceLanguage) -> [String: Any] {
        func text(_ key: String) -> String { views.locales.text(key, language) }
        var entry: [String: Any] = [
            "id": assessment.id, "examinationID": assessment.examinationID, "date": assessment.date,
            "bmi": assessment.bmi.map { String(format: "%.1f", $0) } ?? "",
            "refusals": assessment.refusals.map { ["message": language == .chinese ? $0.chinese : $0.english, "model": $0.model] },
            "hasRefusals": !assessment.refusals.isEmpty,
        ]
        if let bmiClass = assessment.bmiClass {
            entry["bmiClass"] = text("health.bmiClass.\(bmiClass.rawValue)"); entry["bmiLevel"] = bmiClass.rawValue
        }
        if let waist = assessment.waistClass {
            entry["waistClass"] = text("health.waistClass.\(waist.rawValue)"); entry["waistLevel"] = waist.rawValue
        }
        if let pressure = assessment.bloodPressure {
            entry["bpClass"] = text("health.bpClass.\(pressure.category.rawValue)")
            entry["bpLevel"] = pressure.category.rawValue
            entry["isolatedSystolic"] = pressure.isolatedSystolic
        }
        if let par = assessment.chinaPAR {
            entry["chinaPAR"] = String(format: "%.1f", par.risk)
            entry["chinaPARLevel"] = par.category.rawValue
            entry["chinaPARClass"] = text("health.riskLevel.\(par.category.rawValue)")
        }
        if let score = assessment.diabetesRisk {
            entry["cdrs"] = score.total
            entry["cdrsLevel"] = score.highRisk ? "high" : "low"
            entry["cdrsClass"] = text("health.riskLevel.\(score.highRisk ? "high" : "low")")
        }
        return entry
    }

    func recordPage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try signedIn(request, context)
        let language = WebViews.language(request: request, context: context)
        func text(_ key: String) -> String { views.locales.text(key, language) }
        let (resident, access) = try await resident(try Self.id(context), context, action: .read, detail: "record page", write: false)
        let record = try await record(resident, access: access)
        let library = try await mapped { () async throws(HealthError) in try await store.recommendations() }
        let assessed = Set(record.assessments.map(\.examinationID))
        var data = choices(language)
        let chosen = Set(record.plan?.recommendationIDs ?? [])
        let suggested = Set(record.assessments.first.map { $0.recommendations(from: library).map(\.id) } ?? [])
        let residentData: [String: Any] = [
            "id": resident.id, "name": resident.name, "recordNumber": resident.recordNumber, "institution": resident.institution,
            "sex": text("health.sex.\(resident.sex.rawValue)"), "birthDate": resident.birthDate, "phone": resident.phone,
            "address": resident.address, "region": text(resident.north ? "health.region.north" : "health.region.south"),
            "area": text(resident.urban ? "health.area.urban" : "health.area.rural"),
            "diagnoses": resident.information.diagnoses.map { ["label": text("health.diagnosis.\($0.code)"), "since": $0.diagnosed] },
        ]
        var examinations: [[String: Any]] = []
        for examination in record.examinations {
            let pressure = examination.vitals.pressure
            var entry: [String: Any] = [
                "id": examination.id, "date": examination.date, "height": Self.number(examination.vitals.height),
                "weight": Self.number(examination.vitals.weight), "waist": Self.number(examination.vitals.waist),
            ]
            entry["pressure"] = pressure.map { "\(Self.number($0.systolic))/\(Self.number($0.diastolic))" } ?? ""
            entry["glucose"] = Self.number(examination.auxiliary.fastingGlucose)
            entry["tc"] = Self.number(examination.auxiliary.totalCholesterol)
            entry["hdl"] = Self.number(examination.auxiliary.hdlCholesterol)
            entry["smoking"] = text("health.smoking.\(examination.lifestyle.smoking)")
            entry["labs"] = examination.auxiliary.laboratoryResultIDs.joined(separator: ", ")
            entry["imaging"] = examination.auxiliary.imagingStudyUIDs.map { ["uid": $0] }
            entry["assessed"] = assessed.contains(examination.id)
            examinations.append(entry)
        }
        var followUps: [[String: Any]] = []
        for followUp in record.followUps {
            var entry: [String: Any] = ["date": followUp.date, "kind": text("health.kind.\(followUp.kind.rawValue)")]
            entry["pressure"] = followUp.systolic.map { "\(Self.number($0))/\(Self.number(followUp.diastolic))" } ?? ""
            entry["glucose"] = Self.number(followUp.fastingGlucose)
            entry["classification"] = text("health.classification.\(followUp.classification.rawValue)")
            entry["classificationCode"] = followUp.classification.rawValue
            entry["nextDate"] = followUp.nextDate
            followUps.append(entry)
        }
        var planData: [String: Any] = [:]
        if let plan = record.plan {
            planData["goals"] = plan.goals.map { ["item": $0.item, "target": $0.target, "due": $0.due] }
            planData["dates"] = plan.followUpDates.joined(separator: ", ")
            planData["note"] = plan.note
        }
        var libraryData: [[String: Any]] = []
        for recommendation in library {
            let shown: String = language == .chinese ? recommendation.textChinese : recommendation.textEnglish
            let checked: Bool = chosen.isEmpty ? suggested.contains(recommendation.id) : chosen.contains(recommendation.id)
            libraryData.append(
                [
                    "id": recommendation.id, "text": shown, "category": text("health.category.\(recommendation.category)"),
                    "checked": checked,
                ])
        }
        data["resident"] = residentData
        data["full"] = access == .full
        data["deidentified"] = access == .deidentified
        data["assignees"] = record.assignees.joined(separator: ", ")
        data["imported"] = request.uri.queryParameters["imported"].map(String.init) ?? ""
        data["examinations"] = examinations
        data["assessments"] = record.assessments.map { assessmentEntry($0, language) }
        data["followUps"] = followUps
        data["plan"] = planData
        data["hasPlan"] = record.plan != nil
        data["library"] = libraryData
        data["hasAssessment"] = !record.assessments.isEmpty
        return views.page(
            "health-resident", title: text("health.record.title"), section: .health, data: data, request: request, context: context)
    }

    static func double(_ form: FormBody, _ name: String) throws -> Double? {
        guard let text = form[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        guard let value = Double(text), value.isFinite else { throw HTTPError(.badRequest, message: "\(name): \(text) is not a number") }
        return value
    }

    static func list(_ text: String?) -> [String] {
        (text ?? "").split(whereSeparator: { $0 == "," || $0 == ";" || $0 == "，" || $0 == "；" || $0.isWhitespace }).map(String.init)
    }

    func examinationForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, _) = try Self.staff(context)
        let id = try Self.id(context)
        let form = try await FormBody.read(request)
        _ = try await resident(id, context, action: .create, detail: "examination recorded", write: true)
        let examination = Examination(
            residentID: id, date: form["date"] ?? "", doctor: principal.displayName.isEmpty ? principal.username : principal.displayName,
            symptoms: Self.list(form["symptoms"]),
            vitals: Examination.Vitals(
                temperature: try Self.double(form, "temperature"), pulse: try Self.double(form, "pulse"),
                leftSystolic: try Self.double(form, "sbpLeft"), leftDiastolic: try Self.double(form, "dbpLeft"),
                rightSystolic: try Self.double(form, "sbpRight"), rightDiastolic: try Self.double(form, "dbpRight"),
                height: try Self.double(form, "height"), weight: try Self.double(form, "weight"), waist: try Self.double(form, "waist")),
            lifestyle: Examination.Lifestyle(
                exerciseFrequency: form["exercise"] ?? "", exerciseMinutes: try Self.double(form, "exerciseMinutes"),
                smoking: form["smoking"] ?? "never", cigarettesPerDay: try Self.double(form, "cigarettes"),
                drinkingFrequency: form["drinking"] ?? "never", occupationalExposures: Self.list(form["exposures"])),
            auxiliary: Examination.Auxiliary(
                fastingGlucose: try Self.double(form, "glucose"), totalCholesterol: try Self.double(form, "tc"),
                triglycerides: try Self.double(form, "tg"), ldlCholesterol: try Self.double(form, "ldl"),
                hdlCholesterol: try Self.double(form, "hdl"), hba1c: try Self.double(form, "hba1c"),
                laboratoryResultIDs: Self.list(form["labs"]), imagingStudyUIDs: Self.list(form["imaging"])),
            healthProblems: Self.list(form["problems"]), antihypertensiveTreatment: form["antihypertensive"] == "1",
            guidance: Self.list(form["guidance"]))
        _ = try await mapped { () async throws(HealthError) in try await store.addExamination(examination, by: principal.username) }
        return .redirect(to: "/health-records/residents/\(id)#examinations", type: .found)
    }

    func assessForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, _) = try Self.staff(context)
        let id = try Self.id(context)
        let examination = try await mapped { () async throws(HealthError) in try await store.examination(id) }
        _ = try await resident(examination.residentID, context, action: .create, detail: "assessment of examination \(id)", write: true)
        _ = try await mapped { () async throws(HealthError) in try await store.assess(examination: id, by: principal.username) }
        return .redirect(to: "/health-records/residents/\(examination.residentID)#assessments", type: .found)
    }

    func followUpForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, _) = try Self.staff(context)
        let id = try Self.id(context)
        let form = try await FormBody.read(request)
        guard let kind = FollowUp.Kind(rawValue: form["kind"] ?? ""),
            let classification = FollowUp.Classification(rawValue: form["classification"] ?? "")
        else { throw HTTPError(.badRequest, message: "a follow-up needs its form and classification") }
        _ = try await resident(id, context, action: .create, detail: "\(kind.rawValue) follow-up recorded", write: true)
        let followUp = FollowUp(
            residentID: id, kind: kind, date: form["date"] ?? "", method: form["method"] ?? "clinic", symptoms: Self.list(form["symptoms"]),
            systolic: try Self.double(form, "sbp"), diastolic: try Self.double(form, "dbp"), weight: try Self.double(form, "weight"),
            heartRate: try Self.double(form, "heartRate"), cigarettesPerDay: try Self.double(form, "cigarettes"),
            fastingGlucose: try Self.double(form, "glucose"), hba1c: try Self.double(form, "hba1c"),
            medicationAdherence: form["adherence"] ?? "", adverseReaction: form["adverse"] ?? "", classification: classification,
            medications: Self.list(form["medications"]), nextDate: form["nextDate"] ?? "",
            doctor: principal.displayName.isEmpty ? principal.username : principal.displayName)
        _ = try await mapped { () async throws(HealthError) in try await store.recordFollowUp(followUp, by: principal.username) }
        return .redirect(to: "/health-records/residents/\(id)#follow-ups", type: .found)
    }

    func planForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, _) = try Self.staff(context)
        let id = try Self.id(context)
        var copy = request
        let body = try await copy.collectBody(upTo: 256 * 1024)
        let raw = String(buffer: body)
        let form = FormBody(raw)
        // Checkboxes repeat their name: every `recommendation=N` pair of the body.
        let chosen = raw.split(separator: "&").compactMap { pair -> Int64? in
            let parts = pair.split(separator: "=", maxSplits: 1)
            return parts.count == 2 && parts[0] == "recommendation" ? Int64(parts[1]) : nil
        }
        _ = try await resident(id, context, action: .update, detail: "management plan saved", write: true)
        var goals: [ManagementPlan.Goal] = []
        for index in 1...3 {
            let item = (form["goal\(index)"] ?? "").trimmingCharacters(in: .whitespaces)
            guard !item.isEmpty else { continue }
            goals.append(.init(item: item, target: form["target\(index)"] ?? "", due: form["due\(index)"] ?? ""))
        }
        let plan = ManagementPlan(
            residentID: id, goals: goals, followUpDates: Self.list(form["dates"]), recommendationIDs: chosen, note: form["note"] ?? "")
        _ = try await mapped { () async throws(HealthError) in try await store.savePlan(plan, by: principal.username) }
        return .redirect(to: "/health-records/residents/\(id)#plan", type: .found)
    }

    // MARK: - The personal report

    /// `GET /health-records/residents/{id}/report[?assessment=N]`: both languages side by side, printable (print CSS).
    func reportPage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try signedIn(request, context)
        let language = WebViews.language(request: request, context: context)
        let (resident, access) = try await resident(try Self.id(context), context, action: .read, detail: "personal report", write: true)
        let record = try await record(resident, access: access)
        let wanted = request.uri.queryParameters["assessment"].flatMap { Int64(String($0)) }
        guard let assessment = record.assessments.first(where: { wanted == nil || $0.id == wanted }) else {
            throw HTTPError(.notFound, message: "no assessment to report on")
        }
        let library = try await mapped { () async throws(HealthError) in try await store.recommendations(includeInactive: true) }
        let chosen = record.plan.map { plan in library.filter { plan.recommendationIDs.contains($0.id) } } ?? []
        let recommendations = chosen.isEmpty ? assessment.recommendations(from: library) : chosen
        var both: [String: Any] = [:]
        for other in InterfaceLanguage.allCases {
            let entry = assessmentEntry(assessment, other)
            both[other == .chinese ? "zhResult" : "enResult"] = entry
        }
        let data: [String: Any] = [
            "zh": views.locales.table(.chinese), "en": views.locales.table(.english), "name": resident.name,
            "recordNumber": resident.recordNumber, "institution": resident.institution, "age": assessment.age ?? 0,
            "sexZh": views.locales.text("health.sex.\(resident.sex.rawValue)", .chinese),
            "sexEn": views.locales.text("health.sex.\(resident.sex.rawValue)", .english), "date": assessment.date,
            "result": both["zhResult"] ?? [:], "resultEn": both["enResult"] ?? [:],
            "recommendations": recommendations.map { ["zh": $0.textChinese, "en": $0.textEnglish] },
            "hasRecommendations": !recommendations.isEmpty,
            "goals": (record.plan?.goals ?? []).map { ["item": $0.item, "target": $0.target, "due": $0.due] },
            "dates": record.plan?.followUpDates.joined(separator: ", ") ?? "", "residentID": resident.id,
        ]
        return views.page(
            "health-report", title: views.locales.text("health.report.title", language), section: .health, data: data, request: request,
            context: context)
    }

    // MARK: - Due follow-ups and the library

    func duePage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (_, viewer) = try signedIn(request, context)
        guard viewer.isStaff else { throw HTTPError(.forbidden, message: "students see de-identified records only") }
        let language = WebViews.language(request: request, context: context)
        let day = try Self.day(request)
        let due = try await mapped { () async throws(HealthError) in try await store.dueFollowUps(on: day, visibleTo: viewer) }
        await audit(context, action: .read, resident: nil, detail: "due follow-ups: \(due.count)")
        let data: [String: Any] = [
            "day": day.description, "empty": due.isEmpty,
            "due": due.map {
                [
                    "residentID": $0.residentID, "name": $0.name, "institution": $0.institution,
                    "kind": views.locales.text("health.kind.\($0.kind.rawValue)", language), "due": $0.due, "overdue": $0.overdueDays,
                ] as [String: Any]
            },
        ]
        return views.page(
            "health-due", title: views.locales.text("health.due.title", language), section: .health, data: data, request: request,
            context: context)
    }

    static let categories = [
        "diet", "exercise", "smoking", "drinking", "weight", "blood-pressure", "glucose", "lipids", "follow-up", "other",
    ]

    func recommendationsPage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, viewer) = try signedIn(request, context)
        guard viewer.isStaff else { throw HTTPError(.forbidden, message: "students see de-identified records only") }
        let language = WebViews.language(request: request, context: context)
        func text(_ key: String) -> String { views.locales.text(key, language) }
        let library = try await mapped { () async throws(HealthError) in try await store.recommendations(includeInactive: true) }
        let data: [String: Any] = [
            "editor": principal.has(.healthManager) || principal.has(.admin),
            "categories": Self.options(Self.categories, prefix: "health.category", selected: nil, text),
            "library": library.map {
                [
                    "id": $0.id, "category": text("health.category.\($0.category)"), "zh": $0.textChinese, "en": $0.textEnglish,
                    "findings": $0.findings.joined(separator: ", "), "active": $0.active,
                ] as [String: Any]
            },
        ]
        return views.page(
            "health-recommendations", title: text("health.library.title"), section: .health, data: data, request: request, context: context)
    }

    func recommendationForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, _) = try Self.staff(context)
        guard principal.has(.healthManager) || principal.has(.admin) else {
            throw HTTPError(.forbidden, message: "the recommendation library is edited by health managers")
        }
        let form = try await FormBody.read(request)
        let recommendation = Recommendation(
            id: Int64(form["id"] ?? "") ?? 0, category: form["category"] ?? "", textChinese: form["zh"] ?? "",
            textEnglish: form["en"] ?? "",
            findings: Self.list(form["findings"]), active: form["active"] != "0")
        let saved = try await mapped { () async throws(HealthError) in
            try await store.saveRecommendation(recommendation, by: principal.username)
        }
        await audit(context, action: .update, resident: nil, detail: "recommendation \(saved.id) saved")
        return .redirect(to: "/health-records/recommendations", type: .found)
    }
}
