import Foundation
import HealthRecords
import Hummingbird
import Logging
import NIOCore
import Platform
import Programme
import Teaching

/// The community health records over HTTP: the JSON API under `/api/health` and the pages under `/health-records`
/// (`/health` is the liveness probe). Who sees a resident is ``HealthAccess``: the serving institution's staff, the
/// health managers assigned to the resident, students de-identified; every access to a record is audited. The logic
/// lives in the `HealthRecords` target; this maps requests onto it.
struct HealthRoutes: Sendable {
    let store: HealthStore
    let identity: IdentityStore
    /// The teaching library, where a de-identified record becomes a health-management case.
    let teaching: TeachingStore
    /// The continuing-education courses, whose sessions are the health education residents and staff attend.
    let programme: ProgrammeStore
    let views: WebViews
    let logger: Logger

    func register(on router: Router<AtriumRequestContext>) {
        router.get("/api/health/residents") { request, context in try await self.residentsJSON(request, context) }
        router.post("/api/health/residents") { request, context in try await self.createResidentJSON(request, context) }
        router.get("/api/health/residents/:id") { _, context in try await self.residentJSON(context) }
        router.get("/api/health/residents/:id/fhir") { _, context in try await self.fhirJSON(context) }
        router.post("/api/health/residents/:id/assignments") { request, context in try await self.assignJSON(request, context) }
        router.post("/api/health/residents/:id/examinations") { request, context in try await self.examinationJSON(request, context) }
        router.post("/api/health/residents/:id/follow-ups") { request, context in try await self.followUpJSON(request, context) }
        router.put("/api/health/residents/:id/plan") { request, context in try await self.planJSON(request, context) }
        router.post("/api/health/examinations/import") { request, context in try await self.importJSON(request, context) }
        router.post("/api/health/examinations/:id/assessment") { _, context in try await self.assessJSON(context) }
        router.get("/api/health/follow-ups/due") { request, context in try await self.dueJSON(request, context) }
        router.get("/api/health/recommendations") { _, context in try await self.recommendationsJSON(context) }
        router.post("/api/health/recommendations") { request, context in try await self.saveRecommendationJSON(request, context) }
        router.post("/api/health/fhir") { request, context in try await self.fhirImportJSON(request, context) }
        router.post("/api/health/risk/china-par") { request, context in try await self.chinaPARJSON(request, context) }
        router.post("/api/health/risk/cdrs") { request, context in try await self.cdrsJSON(request, context) }
        router.post("/api/health/residents/:id/teaching-case") { request, context in try await self.teachingCaseJSON(request, context) }
        router.post("/api/health/teaching-cases/:id/answers") { request, context in try await self.teachingAnswersJSON(request, context) }
        router.get("/api/health/training/cases/:seed") { _, context in try await self.trainingCaseJSON(context) }
        router.post("/api/health/training/cases/:seed/answers") { request, context in try await self.trainingGradeJSON(request, context) }
        registerPages(on: router)
        registerTeaching(on: router)
    }

    // MARK: - Who may do what

    static func viewer(_ context: AtriumRequestContext) throws -> (Principal, HealthAccess.Viewer) {
        guard let principal = context.principal else { throw HTTPError(.unauthorized, message: "sign in first") }
        return (principal, HealthAccess.Viewer(principal))
    }

    /// Staff who keep records: anyone but students.
    static func staff(_ context: AtriumRequestContext) throws -> (Principal, HealthAccess.Viewer) {
        let (principal, viewer) = try viewer(context)
        guard viewer.isStaff else { throw HTTPError(.forbidden, message: "students see de-identified records only") }
        return (principal, viewer)
    }

    static func id(_ context: AtriumRequestContext) throws -> Int64 {
        guard let id = Int64(try context.parameters.require("id")) else { throw HTTPError(.notFound) }
        return id
    }

    /// The resident and the access the caller has; a resident the caller may not see is not found. Every call is an
    /// access to the record and is audited (read or the change being made).
    func resident(_ id: Int64, _ context: AtriumRequestContext, action: AuditAction, detail: String, write: Bool) async throws
        -> (Resident, HealthAccess)
    {
        let (_, viewer) = try Self.viewer(context)
        let (resident, access) = try await mapped { () async throws(HealthError) -> (Resident, HealthAccess) in
            (try await store.resident(id), try await store.access(viewer, resident: id))
        }
        guard access != .none, !(write && access != .full) else {
            await audit(context, action: action, resident: id, detail: "refused: \(detail)", outcome: .minorFailure)
            throw HTTPError(.notFound, message: "no resident \(id) that you may see")
        }
        await audit(context, action: action, resident: id, detail: detail + (access == .deidentified ? " (de-identified)" : ""))
        return (access == .deidentified ? resident.deidentified() : resident, access)
    }

    func audit(_ context: AtriumRequestContext, action: AuditAction, resident: Int64?, detail: String, outcome: AuditOutcome = .success)
        async
    {
        await identity.audit.record(
            AuditEvent(
                eventID: .applicationActivity, action: action, outcome: outcome, user: context.principal?.username ?? "",
                sourceAddress: context.remoteAddress?.ipAddress ?? "",
                participants: resident.map { [AuditParticipant(idType: .patientNumber, id: "health-resident-\($0)", typeCode: 1, role: 1)] }
                    ?? [],
                detail: "health record: " + detail))
    }

    func mapped<T>(_ body: () async throws(HealthError) -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            switch error {
            case .notFound: throw HTTPError(.notFound, message: error.description)
            case .conflict: throw HTTPError(.conflict, message: error.description)
            case .forbidden: throw HTTPError(.forbidden, message: error.description)
            case .importRejected: throw HTTPError(.unprocessableContent, message: error.description)
            case .database:
                logger.error("health store", metadata: ["error": "\(error)"])
                throw HTTPError(.internalServerError, message: "the health records are not available")
            case .invalid: throw HTTPError(.badRequest, message: error.description)
            }
        }
    }

    /// Decodes a JSON body over a default value: fields the body leaves out keep the default (nested objects merge
    /// field by field), so a client sends only the form items it has.
    static func decode<T: Codable>(_ type: T.Type, over defaults: T, _ request: Request) async throws -> T {
        var request = request
        let buffer = try await request.collectBody(upTo: 4 << 20)
        do {
            let base = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(defaults))
            guard let body = try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any] else {
                throw HTTPError(.badRequest, message: "the body must be a JSON object")
            }
            func merge(_ base: Any, _ over: Any) -> Any {
                guard let base = base as? [String: Any], let over = over as? [String: Any] else { return over }
                var merged = base
                for (key, value) in over { merged[key] = merged[key].map { merge($0, value) } ?? value }
                return merged
            }
            return try JSONDecoder().decode(T.self, from: try JSONSerialization.data(withJSONObject: merge(base, body)))
        } catch let error as HTTPError {
            throw error
        } catch {
            throw HTTPError(.badRequest, message: "the body is not a valid \(T.self): \(error)")
        }
    }

    static func encoded<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        try LibraryRoutes.encoded(value, status: status)
    }

    // MARK: - JSON API

    struct ResidentSummary: Encodable {
        var id: Int64
        var institution: String
        var recordNumber: String
        var name: String
        var sex: String
        var birthDate: String
        var deidentified: Bool
    }

    /// `GET /api/health/residents?q=…`: the residents the caller may see.
    func residentsJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, viewer) = try Self.viewer(context)
        let search = request.uri.queryParameters["q"].map(String.init) ?? ""
        let residents = try await mapped { () async throws(HealthError) in try await store.residents(visibleTo: viewer, search: search) }
        await audit(context, action: .read, resident: nil, detail: "list of \(residents.count) residents")
        let student = !viewer.isStaff && principal.has(.student)
        return try Self.encoded(
            residents.map {
                ResidentSummary(
                    id: $0.id, institution: $0.institution, recordNumber: $0.recordNumber, name: $0.name, sex: $0.sex.rawValue,
                    birthDate: $0.birthDate, deidentified: student)
            })
    }

    /// `POST /api/health/residents` (a ``Resident`` as JSON): at the caller's own institution (administrators: any).
    func createResidentJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, _) = try Self.staff(context)
        var resident = try await Self.decode(
            Resident.self, over: Resident(institution: "", recordNumber: "", name: "", sex: .female, birthDate: ""), request)
        if resident.institution.isEmpty { resident.institution = principal.institutionCode ?? "" }
        guard principal.has(.admin) || resident.institution == principal.institutionCode else {
            throw HTTPError(.forbidden, message: "residents are registered by their serving institution's staff")
        }
        let created = try await mapped { () async throws(HealthError) in try await store.createResident(resident, by: principal.username) }
        await audit(context, action: .create, resident: created.id, detail: "resident registered")
        return try Self.encoded(created, status: .created)
    }

    struct Record: Encodable {
        var resident: Resident
        var access: String
        var examinations: [Examination]
        var assessments: [Assessment]
        var followUps: [FollowUp]
        var plan: ManagementPlan?
        var assignees: [String]
    }

    /// The key the de-identified views and teaching cases shift dates with, derived from the server's
    /// de-identification secret.
    func shiftSecret() async throws -> [UInt8] {
        do {
            return Array(try await teaching.deidentificationSecret().replacementUID(for: "2.25.1.health-teaching-case").utf8)
        } catch {
            throw HTTPError(.internalServerError, message: "the de-identification secret is not available")
        }
    }

    func record(_ resident: Resident, access: HealthAccess) async throws -> Record {
        let id = resident.id
        var record = try await mapped { () async throws(HealthError) in
            Record(
                resident: resident, access: access == .full ? "full" : "deidentified",
                examinations: try await store.examinations(resident: id),
                assessments: try await store.assessments(resident: id), followUps: try await store.followUps(resident: id),
                plan: try await store.plan(resident: id), assignees: access == .full ? try await store.assignees(id) : [])
        }
        if access == .deidentified {
            let days = HealthTeachingCase.shift(resident: id, secret: try await shiftSecret())
            record.examinations = record.examinations.map { HealthDeidentification.examination($0, shift: days) }
            record.followUps = record.followUps.map { HealthDeidentification.followUp($0, shift: days) }
            record.assessments = record.assessments.map { HealthDeidentification.assessment($0, shift: days) }
            record.plan = record.plan.map { HealthDeidentification.plan($0, shift: days) }
        }
        return record
    }

    /// `GET /api/health/residents/{id}`: the whole record.
    func residentJSON(_ context: AtriumRequestContext) async throws -> Response {
        let (resident, access) = try await resident(try Self.id(context), context, action: .read, detail: "record read", write: false)
        return try Self.encoded(try await record(resident, access: access))
    }

    /// `GET /api/health/residents/{id}/fhir`: the record as a FHIR R4 Bundle (staff with full access).
    func fhirJSON(_ context: AtriumRequestContext) async throws -> Response {
        let (resident, _) = try await resident(try Self.id(context), context, action: .read, detail: "FHIR export", write: true)
        let record = try await record(resident, access: .full)
        let library = try await mapped { () async throws(HealthError) in try await store.recommendations(includeInactive: true) }
        let bundle = FHIRExport.bundle(
            resident: resident, examinations: record.examinations, followUps: record.followUps, plan: record.plan, recommendations: library)
        var response = AuthRoutes.json(bundle)
        response.headers[.contentType] = "application/fhir+json"
        return response
    }

    struct AssignBody: Decodable { var person: String }

    /// `POST /api/health/residents/{id}/assignments` `{"person": "hm.wang"}`: assigns a health manager of the
    /// health-service centre (the serving institution's staff or an administrator).
    func assignJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, _) = try Self.staff(context)
        let id = try Self.id(context)
        let body = try await LibraryRoutes.decodeBody(AssignBody.self, request)
        let (resident, _) = try await resident(id, context, action: .update, detail: "assigned to \(body.person)", write: true)
        guard principal.has(.admin) || principal.institutionCode == resident.institution else {
            throw HTTPError(.forbidden, message: "assignments are made by the serving institution")
        }
        let person = try? await identity.people().first { $0.username == body.person }
        guard let person, person.roles.contains(.healthManager) else {
            throw HTTPError(.badRequest, message: "\(body.person) is not a health manager")
        }
        try await mapped { () async throws(HealthError) in try await store.assign(resident: id, to: person.username, by: principal.username)
        }
        return AuthRoutes.json(["resident": id, "person": person.username], status: .created)
    }

    /// `POST /api/health/residents/{id}/examinations` (an ``Examination`` as JSON, residentID taken from the path).
    func examinationJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, _) = try Self.staff(context)
        let id = try Self.id(context)
        var examination = try await Self.decode(Examination.self, over: Examination(residentID: 0, date: ""), request)
        _ = try await resident(id, context, action: .create, detail: "examination recorded", write: true)
        examination.residentID = id
        let stored = try await mapped { () async throws(HealthError) in try await store.addExamination(examination, by: principal.username)
        }
        return try Self.encoded(stored, status: .created)
    }

    /// `POST /api/health/examinations/import?institution=CODE` with a CSV body (docs/health.md's columns): all rows or
    /// none; 422 with `{"problems": [{"row", "column", "reason"}]}` when any row is wrong.
    func importJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, _) = try Self.staff(context)
        let institution = request.uri.queryParameters["institution"].map(String.init) ?? principal.institutionCode ?? ""
        guard principal.has(.admin) || institution == principal.institutionCode else {
            throw HTTPError(.forbidden, message: "a partner's examinations are imported by its own staff")
        }
        var request = request
        let body = try await request.collectBody(upTo: 16 << 20)
        let (stored, problems) = await importCSV(String(buffer: body), institution: institution, principal: principal, context: context)
        if let problems {
            return try Self.encoded(["problems": problems], status: .unprocessableContent)
        }
        return try Self.encoded(["imported": stored.map(\.id)], status: .created)
    }

    /// Imports and audits; the problems when the file was refused.
    func importCSV(_ text: String, institution: String, principal: Principal, context: AtriumRequestContext) async
        -> ([Examination], [ExaminationCSV.Problem]?)
    {
        do {
            let stored = try await store.importExaminations(csv: text, institution: institution, by: principal.username)
            for id in Set(stored.map(\.residentID)).sorted() {
                await audit(context, action: .create, resident: id, detail: "examinations imported from CSV")
            }
            return (stored, nil)
        } catch {
            if case .importRejected(let problems) = error {
                await audit(
                    context, action: .create, resident: nil, detail: "CSV import refused: \(problems.count) problems",
                    outcome: .minorFailure)
                return ([], problems)
            }
            logger.error("health import", metadata: ["error": "\(error)"])
            return ([], [ExaminationCSV.Problem(row: 0, column: "", reason: "the health records are not available")])
        }
    }

    /// `POST /api/health/examinations/{id}/assessment`: assesses the examination and keeps the result.
    func assessJSON(_ context: AtriumRequestContext) async throws -> Response {
        let (principal, _) = try Self.staff(context)
        let id = try Self.id(context)
        let examination = try await mapped { () async throws(HealthError) in try await store.examination(id) }
        _ = try await resident(examination.residentID, context, action: .create, detail: "assessment of examination \(id)", write: true)
        let assessment = try await mapped { () async throws(HealthError) in try await store.assess(examination: id, by: principal.username)
        }
        return try Self.encoded(assessment, status: .created)
    }

    /// `POST /api/health/residents/{id}/follow-ups` (a ``FollowUp`` as JSON).
    func followUpJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, _) = try Self.staff(context)
        let id = try Self.id(context)
        var followUp = try await Self.decode(
            FollowUp.self, over: FollowUp(residentID: 0, kind: .hypertension, date: "", classification: .controlled, nextDate: ""), request)
        _ = try await resident(id, context, action: .create, detail: "\(followUp.kind.rawValue) follow-up recorded", write: true)
        followUp.residentID = id
        let stored = try await mapped { () async throws(HealthError) in try await store.recordFollowUp(followUp, by: principal.username) }
        return try Self.encoded(stored, status: .created)
    }

    /// `PUT /api/health/residents/{id}/plan` (a ``ManagementPlan`` as JSON): a new version of the plan.
    func planJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, _) = try Self.staff(context)
        let id = try Self.id(context)
        var plan = try await Self.decode(
            ManagementPlan.self, over: ManagementPlan(residentID: 0, goals: [], followUpDates: [], recommendationIDs: []), request)
        _ = try await resident(id, context, action: .update, detail: "management plan saved", write: true)
        plan.residentID = id
        let saved = try await mapped { () async throws(HealthError) in try await store.savePlan(plan, by: principal.username) }
        return try Self.encoded(saved)
    }

    static func day(_ request: Request) throws -> CivilDate {
        guard let text = request.uri.queryParameters["on"].map(String.init) else { return CivilDate(Date()) }
        guard let day = CivilDate(text) else { throw HTTPError(.badRequest, message: "on=\(text) is not yyyy-MM-dd") }
        return day
    }

    /// `GET /api/health/follow-ups/due?on=yyyy-MM-dd` (default today, UTC+8): the reminders.
    func dueJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (_, viewer) = try Self.staff(context)
        let day = try Self.day(request)
        let due = try await mapped { () async throws(HealthError) in try await store.dueFollowUps(on: day, visibleTo: viewer) }
        await audit(context, action: .read, resident: nil, detail: "due follow-ups: \(due.count)")
        return try Self.encoded(due)
    }

    func recommendationsJSON(_ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.staff(context)
        return try Self.encoded(try await mapped { () async throws(HealthError) in try await store.recommendations(includeInactive: true) })
    }

    /// `POST /api/health/recommendations` (a ``Recommendation``; id 0 adds): health managers and administrators.
    func saveRecommendationJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, _) = try Self.staff(context)
        guard principal.has(.healthManager) || principal.has(.admin) else {
            throw HTTPError(.forbidden, message: "the recommendation library is edited by health managers")
        }
        let recommendation = try await Self.decode(
            Recommendation.self, over: Recommendation(category: "", textChinese: "", textEnglish: ""), request)
        let saved = try await mapped { () async throws(HealthError) in
            try await store.saveRecommendation(recommendation, by: principal.username)
        }
        await audit(context, action: .update, resident: nil, detail: "recommendation \(saved.id) saved")
        return try Self.encoded(saved, status: recommendation.id == 0 ? .created : .ok)
    }

    /// `POST /api/health/fhir?institution=CODE` with a FHIR R4 Bundle (Patient, Observations, Conditions,
    /// Encounters): checked whole (``FHIRImport``), then the resident registered or found by record number and one
    /// examination per day stored in one transaction. Any problem: 422 with `problems` and nothing stored.
    func fhirImportJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, _) = try Self.staff(context)
        let institution = request.uri.queryParameters["institution"].map(String.init) ?? principal.institutionCode ?? ""
        guard principal.has(.admin) || institution == principal.institutionCode else {
            throw HTTPError(.forbidden, message: "a partner's records are imported by its own staff")
        }
        var request = request
        let body = try await request.collectBody(upTo: 16 << 20)
        guard let json = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else {
            throw HTTPError(.badRequest, message: "the body is not a FHIR JSON resource")
        }
        let imported: HealthStore.FHIRImported
        do {
            let read = try FHIRImport.read(json, institution: institution)
            if let existing = try await store.resident(institution: institution, recordNumber: read.resident.recordNumber) {
                // A known resident: the importer must be allowed to change that record.
                _ = try await resident(existing.id, context, action: .update, detail: "FHIR import", write: true)
            }
            imported = try await store.importFHIR(read, by: principal.username)
        } catch let error as HealthError {
            if case .importRejected(let problems) = error {
                await audit(
                    context, action: .create, resident: nil, detail: "FHIR import refused: \(problems.count) problems",
                    outcome: .minorFailure)
                return try Self.encoded(["problems": problems], status: .unprocessableContent)
            }
            return try await mapped { () async throws(HealthError) -> Response in throw error }
        }
        await audit(
            context, action: .create, resident: imported.resident.id,
            detail: "FHIR import of \(imported.examinations.count) examinations\(imported.registered ? ", resident registered" : "")")
        return AuthRoutes.json(
            ["resident": imported.resident.id, "registered": imported.registered, "examinations": imported.examinations.map(\.id)],
            status: .created)
    }

    /// `POST /api/health/risk/china-par` (a ``ChinaPAR/Input``): the model alone, for calculators and training; 422
    /// with the bilingual message when an input is out of range.
    func chinaPARJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.viewer(context)
        let input = try await LibraryRoutes.decodeBody(ChinaPAR.Input.self, request)
        let result: ChinaPAR.Result
        do {
            result = try ChinaPAR.evaluate(input)
        } catch {
            return Self.refusal(error)
        }
        return try Self.encoded(result)
    }

    func cdrsJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.viewer(context)
        let input = try await LibraryRoutes.decodeBody(ChineseDiabetesRiskScore.Input.self, request)
        let result: ChineseDiabetesRiskScore.Result
        do {
            result = try ChineseDiabetesRiskScore.evaluate(input)
        } catch {
            return Self.refusal(error)
        }
        return try Self.encoded(result)
    }

    static func seed(_ context: AtriumRequestContext) throws -> UInt64 {
        guard let seed = UInt64(try context.parameters.require("seed")) else { throw HTTPError(.badRequest, message: "a seed is a number") }
        return seed
    }

    /// `GET /api/health/training/cases/{seed}`: a synthetic resident of the risk-assessment training room (anyone
    /// signed in; no real person behind it).
    func trainingCaseJSON(_ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.viewer(context)
        return try Self.encoded(RiskTraining.generate(seed: try Self.seed(context)))
    }

    /// `POST /api/health/training/cases/{seed}/answers` (a ``RiskTraining/Answer``): each item right or wrong with the
    /// expected value and the inputs it depends on.
    func trainingGradeJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, _) = try Self.viewer(context)
        let seed = try Self.seed(context)
        let answer = try await Self.decode(RiskTraining.Answer.self, over: RiskTraining.Answer(), request)
        let feedback: RiskTraining.Feedback
        do {
            feedback = try RiskTraining.grade(answer, for: RiskTraining.generate(seed: seed))
        } catch {
            return Self.refusal(error)
        }
        logger.info(
            "risk training graded", metadata: ["seed": "\(seed)", "correct": "\(feedback.correct)", "user": "\(principal.username)"])
        return try Self.encoded(feedback)
    }

    struct TeachingCaseBody: Decodable { var examinationID: Int64 }

    /// `POST /api/health/residents/{id}/teaching-case` `{"examinationID": N}`: de-identifies the record (dates
    /// shifted, identifiers removed, free text dropped, the safety net checked) into a draft case of the teaching
    /// library with the students' tasks; curators review and publish it as any other case.
    func teachingCaseJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, _) = try Self.staff(context)
        let id = try Self.id(context)
        let body = try await LibraryRoutes.decodeBody(TeachingCaseBody.self, request)
        let (resident, _) = try await resident(id, context, action: .read, detail: "made into a teaching case", write: true)
        let examination = try await mapped { () async throws(HealthError) in try await store.examination(body.examinationID) }
        guard examination.residentID == id else {
            throw HTTPError(.notFound, message: "no examination \(body.examinationID) of this resident")
        }
        let made: (caseID: Int64, planItems: [String])
        do {
            made = try await Self.makeTeachingCase(
                store: store, teaching: teaching, resident: resident, examination: examination, author: principal.username)
        } catch let error as HealthError {
            return try await mapped { () async throws(HealthError) -> Response in throw error }
        }
        await audit(context, action: .create, resident: id, detail: "teaching case \(made.caseID) made from examination \(examination.id)")
        return AuthRoutes.json(["case": made.caseID, "planItems": made.planItems], status: .created)
    }

    /// De-identifies the examination (with the resident's follow-ups) into a draft case of the teaching library and
    /// keeps its reference values; the route and the demo data make cases with it.
    static func makeTeachingCase(
        store: HealthStore, teaching: TeachingStore, resident: Resident, examination: Examination, author: String
    ) async throws -> (caseID: Int64, planItems: [String]) {
        let followUps = try await store.followUps(resident: resident.id)
        let secret: [UInt8]
        do {
            secret = Array(try await teaching.deidentificationSecret().replacementUID(for: "2.25.1.health-teaching-case").utf8)
        } catch {
            throw HTTPError(.internalServerError, message: "the de-identification secret is not available")
        }
        let made = try HealthTeachingCase.make(resident: resident, examination: examination, followUps: followUps, secret: secret)
        var content = CaseContent(title: "健康管理病例 Health-management case: \(made.historyEnglish.prefix(40))")
        content.clinicalHistory = made.historyChinese + "\n" + made.historyEnglish
        content.findings = made.findingsText
        content.learningPoints = [
            "计算 China-PAR 10年风险和中国糖尿病风险评分 / Compute the China-PAR 10-year risk and the Chinese Diabetes Risk Score",
            "判定体质指数、腰围和血压分级 / Classify BMI, waist and blood pressure",
            "制定健康管理计划 / Write the management plan",
        ]
        // What the library asks of a case before review. The diagnosis stays neutral (the classes and risks are the
        // students' tasks); DICOM's "OT" (other) stands for a case without images.
        content.diagnosis = "健康管理：风险评估与管理计划 / Health management: risk assessment and plan"
        content.tags.modalities = ["OT"]
        content.tags.organSystem = "health-management"
        let created: TeachingCase
        do {
            created = try await teaching.create(content, author: author, institution: resident.institution, source: "health")
        } catch {
            throw HTTPError(.badRequest, message: "\(error)")
        }
        try await store.saveTeachingCase(made, caseID: created.id, resident: resident.id, examination: examination.id, by: author)
        return (created.id, made.planItems)
    }

    struct TeachingAnswers: Codable {
        var risk: RiskTraining.Answer
        var plan: [String]
    }

    /// `POST /api/health/teaching-cases/{id}/answers` `{"risk": {…as the training room…}, "plan": ["sbp", …]}`: the
    /// student's tasks graded against the case's reference.
    func teachingAnswersJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (_, viewer) = try Self.viewer(context)
        let id = try Self.id(context)
        let answers = try await Self.decode(TeachingAnswers.self, over: TeachingAnswers(risk: .init(), plan: []), request)
        // Students are graded on published cases only (the grade shows the reference values).
        let (made, _) = try await openableCase(id, viewer)
        let risk: RiskTraining.Feedback
        do {
            risk = try RiskTraining.grade(answers.risk, for: made.values)
        } catch {
            return Self.refusal(error)
        }
        struct Graded: Encodable {
            var risk: RiskTraining.Feedback
            var plan: HealthTeachingCase.PlanFeedback
        }
        return try Self.encoded(Graded(risk: risk, plan: made.gradePlan(answers.plan)))
    }

    static func refusal(_ error: RiskInputError) -> Response {
        AuthRoutes.json(
            [
                "model": error.model, "input": error.input, "minimum": error.range.lowerBound, "maximum": error.range.upperBound,
                "unit": error.unit, "message": error.english, "messageChinese": error.chinese,
            ], status: .unprocessableContent)
    }
}
