import Archive
import Foundation
import Hummingbird
import Laboratory
import Logging
import NIOCore
import Platform
import Reading
import Teaching

/// The laboratory's JSON API (`/api/lab/…`) and FHIR R4 intake (`POST /fhir/r4`). A site user sees and sends only its
/// institution's results (the scope ``AuthenticationMiddleware`` sets); readers, supervisors and administrators see all;
/// intervals, delta rules and facility mappings are written by administrators. Every read of results is audited. See
/// docs/api.md.
public struct LaboratoryRoutes: Sendable {
    let store: LaboratoryStore
    let reading: ReadingStore
    let identity: IdentityStore
    let logger: Logger
    let critical: LaboratoryCriticalPath
    let teaching: TeachingStore

    init(
        store: LaboratoryStore, reading: ReadingStore, identity: IdentityStore, logger: Logger, critical: LaboratoryCriticalPath,
        teaching: TeachingStore
    ) {
        self.teaching = teaching
        self.store = store
        self.reading = reading
        self.identity = identity
        self.logger = logger
        self.critical = critical
    }

    public func register(on router: Router<AtriumRequestContext>) {
        router.get("/api/lab/result-sets") { request, context in
            let principal = try ReadingRoutes.signedIn(context)
            let patient = request.uri.queryParameters["patient"].map(String.init)
            let sets = try await Self.mapped { try await store.resultSets(institution: Self.scope(), patientID: patient) }
            await audit(principal, context, "laboratory result sets listed (\(sets.count))", patients: Set(sets.map(\.patient.id)))
            return ReadingRoutes.json(sets.map(Self.summary))
        }
        router.get("/api/lab/result-sets/:id") { _, context in
            let (principal, set) = try await visibleSet(context)
            let interpreted = try await Self.mapped { try await store.interpret(set) }
            await audit(principal, context, "laboratory result set \(set.id) viewed", patients: [set.patient.id])
            var body = Self.summary(set)
            body["observations"] = interpreted.map(Self.describe)
            body["consultations"] = try await Self.mapped { try await store.requests(forResultSet: set.id) }
            return ReadingRoutes.json(body)
        }
        router.get("/api/lab/result-sets/:id/fhir") { _, context in
            let (principal, set) = try await visibleSet(context)
            let interpreted = try await Self.mapped { try await store.interpret(set) }
            await audit(principal, context, "laboratory result set \(set.id) viewed as FHIR", patients: [set.patient.id])
            return Response(
                status: .ok, headers: [.contentType: "application/fhir+json; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: FHIRLab.bundle(set, interpreted: interpreted))))
        }
        router.get("/api/lab/history") { request, context in
            let principal = try ReadingRoutes.signedIn(context)
            let query = request.uri.queryParameters
            guard let patient = query["patient"].map(String.init), let loinc = query["loinc"].map(String.init) else {
                throw HTTPError(.badRequest, message: "patient and loinc are required")
            }
            guard let institution = Self.scope() ?? query["institution"].map(String.init) else {
                throw HTTPError(.badRequest, message: "institution is required")
            }
            let points = try await Self.mapped { try await store.history(institution: institution, patientID: patient, loinc: loinc) }
            await audit(principal, context, "laboratory history of \(loinc) viewed", patients: [patient])
            return ReadingRoutes.json(
                points.map {
                    ["resultSet": $0.resultSet, "at": ReadingFormat.iso($0.at), "value": $0.value, "unit": $0.unit] as [String: Any]
                })
        }
        router.post("/api/lab/result-sets/:id/consultation") { request, context in
            let (principal, set) = try await visibleSet(context)
            guard principal.has(.site) || principal.has(.admin) else {
                throw HTTPError(.forbidden, message: "sites file consultations")
            }
            let body = try await ReadingRoutes.body(request)
            let priority = Priority(rawValue: body["priority"] as? String ?? "routine") ?? .routine
            let filed = try await ReadingRoutes.mapped {
                try await reading.file(
                    NewConsultationRequest(
                        serviceLine: .laboratory, priority: priority, referringPhysician: body["referringPhysician"] as? String ?? "",
                        clinicalHistory: body["clinicalHistory"] as? String ?? "", question: body["question"] as? String ?? "",
                        accessionNumber: set.id, modality: "LAB", patientName: set.patient.displayName, patientID: set.patient.id),
                    institution: set.institution,
                    by: ReadingActor(
                        username: principal.username,
                        displayName: principal.displayName.isEmpty ? principal.username : principal.displayName,
                        sourceAddress: context.remoteAddress?.ipAddress ?? "", transport: "http"))
            }
            try await Self.mapped { try await store.link(requestID: filed.0.id, resultSet: set.id) }
            await critical.consultationFiled(requestID: filed.0.id, resultSet: set.id)
            return ReadingRoutes.json(["id": filed.0.id, "resultSet": set.id, "workItem": filed.1.id], status: .created)
        }
        router.get("/api/lab/consultations/:id/result-set") { _, context in
            let principal = try ReadingRoutes.signedIn(context)
            let id = try ReadingRoutes.id(context)
            guard let request = try await ReadingRoutes.mapped({ try await reading.request(id: id) }),
                Self.scope() == nil || Self.scope() == request.institutionCode,
                let setID = try await Self.mapped({ try await store.resultSetID(forRequest: id) })
            else { throw HTTPError(.notFound, message: "no such laboratory consultation") }
            await audit(principal, context, "laboratory consultation \(id) result set looked up", patients: [request.patientID])
            return ReadingRoutes.json(["request": id, "resultSet": setID])
        }
        router.get("/api/lab/critical-values") { request, context in
            let principal = try ReadingRoutes.signedIn(context)
            let open = request.uri.queryParameters["open"].map { $0 == "1" || $0 == "true" } ?? false
            let values = try await Self.mapped { try await store.criticalValues(institution: Self.scope(), open: open) }
            await audit(principal, context, "laboratory critical values listed (\(values.count))", patients: Set(values.map(\.patientID)))
            var described: [[String: Any]] = []
            for value in values { described.append(try await describe(value)) }
            return ReadingRoutes.json(described)
        }
        router.post("/api/lab/critical-values/:id/acknowledge") { _, context in
            let principal = try ReadingRoutes.signedIn(context)
            guard principal.has(.reader) || principal.has(.admin) || principal.has(.site) else {
                throw HTTPError(.forbidden, message: "laboratory staff, readers and administrators acknowledge critical values")
            }
            let id = try context.parameters.require("id")
            guard let value = try await Self.mapped({ try await store.criticalValue(id: id) }),
                Self.scope() == nil || Self.scope() == value.institution
            else { throw HTTPError(.notFound, message: "no such critical value") }
            let updated = try await Self.mapped { try await store.acknowledgeCriticalValue(id: id, by: principal.username) }
            await audit(
                principal, context, "laboratory critical value \(id) of result set \(value.resultSet) acknowledged",
                patients: [value.patientID],
                action: .update)
            return ReadingRoutes.json(try await describe(updated))
        }
        router.post("/api/lab/consultations/:id/teaching-case") { _, context in try await teachingCase(context) }
        router.get("/api/lab/reference-ranges") { _, _ in
            ReadingRoutes.json(try await Self.mapped { try await store.referenceRanges() }.map(Self.describe))
        }
        router.post("/api/lab/reference-ranges") { request, context in
            try Self.administrator(context)
            let body = try await ReadingRoutes.body(request)
            var range = ReferenceRange(
                id: (body["id"] as? NSNumber)?.int64Value ?? 0, loinc: body["loinc"] as? String ?? "", name: body["name"] as? String ?? "",
                sex: (body["sex"] as? String).flatMap { $0.isEmpty ? nil : AdministrativeSex(hl7: $0) },
                minimumAge: (body["minimumAge"] as? NSNumber)?.intValue ?? 18,
                maximumAge: (body["maximumAge"] as? NSNumber)?.intValue ?? 150,
                low: (body["low"] as? NSNumber)?.doubleValue, high: (body["high"] as? NSNumber)?.doubleValue,
                criticalLow: (body["criticalLow"] as? NSNumber)?.doubleValue,
                criticalHigh: (body["criticalHigh"] as? NSNumber)?.doubleValue,
                unit: body["unit"] as? String ?? "", source: body["source"] as? String ?? "alliance")
            range = try await Self.mapped { try await store.saveReferenceRange(range) }
            return ReadingRoutes.json(Self.describe(range), status: .created)
        }
        router.get("/api/lab/delta-rules") { _, _ in
            ReadingRoutes.json(
                try await Self.mapped { try await store.deltaRules() }.map {
                    ["loinc": $0.loinc, "absolute": $0.absolute as Any? ?? NSNull(), "percent": $0.percent as Any? ?? NSNull()]
                        as [String: Any]
                })
        }
        router.put("/api/lab/delta-rules/:loinc") { request, context in
            try Self.administrator(context)
            let body = try await ReadingRoutes.body(request)
            let rule = DeltaRule(
                loinc: try context.parameters.require("loinc"), absolute: (body["absolute"] as? NSNumber)?.doubleValue,
                percent: (body["percent"] as? NSNumber)?.doubleValue)
            try await Self.mapped { try await store.setDeltaRule(rule) }
            return ReadingRoutes.json(["loinc": rule.loinc])
        }
        router.get("/api/lab/facilities") { _, context in
            try Self.administrator(context)
            return ReadingRoutes.json(
                try await Self.mapped { try await store.facilities() }.map { ["facility": $0.facility, "institution": $0.institution] })
        }
        router.put("/api/lab/facilities/:facility") { request, context in
            let principal = try Self.administrator(context)
            let body = try await ReadingRoutes.body(request)
            let facility = try context.parameters.require("facility")
            let institution = body["institution"] as? String ?? ""
            guard try await identity.institution(code: institution) != nil else {
                throw HTTPError(.badRequest, message: "institution is the code of a known institution")
            }
            try await Self.mapped { try await store.setFacility(facility, institution: institution, by: principal.username) }
            return ReadingRoutes.json(["facility": facility, "institution": institution])
        }
        router.get("/api/lab/qc/materials") { _, _ in
            ReadingRoutes.json(try await Self.mapped { try await store.materials(institution: Self.scope()) }.map(Self.describe))
        }
        router.post("/api/lab/qc/materials") { request, context in
            let principal = try ReadingRoutes.signedIn(context)
            let body = try await ReadingRoutes.body(request)
            let institution = Self.scope() ?? body["institution"] as? String ?? ""
            guard principal.has(.admin) || principal.has(.site) else { throw HTTPError(.forbidden, message: "sites and administrators") }
            let material = try await Self.mapped {
                try await store.addMaterial(
                    ControlMaterial(
                        institution: institution, loinc: body["loinc"] as? String ?? "", analyte: body["analyte"] as? String ?? "",
                        name: body["name"] as? String ?? "", lot: body["lot"] as? String ?? "", level: body["level"] as? String ?? "",
                        mean: (body["mean"] as? NSNumber)?.doubleValue ?? 0, sd: (body["sd"] as? NSNumber)?.doubleValue ?? 0,
                        unit: body["unit"] as? String ?? ""))
            }
            return ReadingRoutes.json(Self.describe(material), status: .created)
        }
        router.post("/api/lab/qc/runs") { request, context in
            let principal = try ReadingRoutes.signedIn(context)
            guard principal.has(.admin) || principal.has(.site) else { throw HTTPError(.forbidden, message: "sites and administrators") }
            let body = try await ReadingRoutes.body(request)
            let institution = Self.scope() ?? body["institution"] as? String ?? ""
            var values: [Int64: Double] = [:]
            for (key, value) in body["values"] as? [String: Any] ?? [:] {
                guard let id = Int64(key), let number = value as? NSNumber else {
                    throw HTTPError(.badRequest, message: "values maps material ids to numbers")
                }
                values[id] = number.doubleValue
            }
            let at = (body["at"] as? String).flatMap { ISO8601DateFormatter().date(from: $0) } ?? Date()
            let run = try await Self.mapped {
                try await store.addRun(QCRun(institution: institution, at: at, values: values), by: principal.username)
            }
            return ReadingRoutes.json(["id": run.id], status: .created)
        }
        router.get("/api/lab/qc/runs") { _, _ in
            let runs = try await Self.mapped { try await store.runs(institution: Self.scope()) }
            return ReadingRoutes.json(
                runs.map {
                    [
                        "id": $0.id, "institution": $0.institution, "at": ReadingFormat.iso($0.at),
                        "values": Dictionary(uniqueKeysWithValues: $0.values.map { (String($0.key), $0.value) }),
                    ] as [String: Any]
                })
        }
        router.get("/api/lab/qc/violations") { _, _ in
            let materials = try await Self.mapped { try await store.materials(institution: Self.scope()) }
            let runs = try await Self.mapped { try await store.runs(institution: Self.scope()) }
            return ReadingRoutes.json(
                Westgard.evaluate(runs: runs, materials: materials).map {
                    ["rule": $0.rule.rawValue, "run": $0.runID, "materials": $0.materials, "scope": $0.scope, "warning": $0.rule.isWarning]
                        as [String: Any]
                })
        }
        router.get("/api/lab/qc/materials/:id/chart.svg") { _, context in
            let id = try ReadingRoutes.id(context)
            let materials = try await Self.mapped { try await store.materials(institution: Self.scope()) }
            guard let material = materials.first(where: { $0.id == id }) else { throw HTTPError(.notFound, message: "no such material") }
            let runs = try await Self.mapped { try await store.runs(institution: material.institution) }
            let svg = LabCharts.leveyJennings(
                material: material, runs: runs, violations: Westgard.evaluate(runs: runs, materials: materials))
            return Response(
                status: .ok, headers: [.contentType: "image/svg+xml", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: svg)))
        }
        router.post("/fhir/r4") { request, context in try await fhirIntake(request, context) }
        router.post("/fhir/r4/Bundle") { request, context in try await fhirIntake(request, context) }
    }

    /// `POST /fhir/r4`: a Bundle of Observation and DiagnosticReport (+ Patient) stored as result sets of the caller's
    /// institution (a site), or of `?institution=` (an administrator).
    func fhirIntake(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try ReadingRoutes.signedIn(context)
        guard principal.has(.site) || principal.has(.admin) else {
            throw HTTPError(.forbidden, message: "sites and administrators send results")
        }
        let institution = Self.scope() ?? request.uri.queryParameters["institution"].map(String.init) ?? ""
        guard !institution.isEmpty, try await identity.institution(code: institution) != nil else {
            throw HTTPError(.badRequest, message: "institution is the code of a known institution")
        }
        let buffer = try await request.body.collect(upTo: 8 << 20)
        let sets: [ResultSet]
        do {
            sets = try FHIRLab.resultSets(Array(buffer.readableBytesView))
        } catch {
            return Self.outcome(.badRequest, "\(error)")
        }
        var tagged = sets
        for index in tagged.indices { tagged[index].sendingFacility = "fhir:\(principal.username)" }
        let stored = try await Self.mapped { try await store.store(tagged, institution: institution) }
        await audit(
            principal, context, "laboratory results received as FHIR (\(stored.count) result sets)",
            patients: Set(stored.map(\.patient.id)), action: .create)
        await critical.arrived(stored.map(\.id))
        return ReadingRoutes.json(["resultSets": stored.map(\.id)], status: .created)
    }

    /// `POST /api/lab/consultations/{id}/teaching-case`: a read laboratory consultation (final report signed) made into a
    /// draft case of the teaching library (``LabTeachingCase``: pseudonym and date shift as the imaging de-identifier
    /// gives this patient, identifiers removed, the results table, the signed interpretation when it names nobody).
    /// Readers, curators and administrators; the same consultation always gives the same case.
    func teachingCase(_ context: AtriumRequestContext) async throws -> Response {
        let principal = try ReadingRoutes.signedIn(context)
        guard principal.has(.reader) || principal.has(.curator) || principal.has(.admin) else {
            throw HTTPError(.forbidden, message: "readers, curators and administrators flag cases for teaching")
        }
        let id = try ReadingRoutes.id(context)
        guard let request = try await ReadingRoutes.mapped({ try await reading.request(id: id) }), request.serviceLine == .laboratory,
            let setID = try await Self.mapped({ try await store.resultSetID(forRequest: id) }),
            let set = try await Self.mapped({ try await store.resultSet(id: setID) })
        else { throw HTTPError(.notFound, message: "no such laboratory consultation") }
        guard request.status == .final || request.status == .amended else {
            throw HTTPError(.conflict, message: "only a read consultation (final report signed) is made into a teaching case")
        }
        let reports = try await ReadingRoutes.mapped { try await reading.reports(requestID: id) }
        let interpretation =
            reports.filter { $0.status.isSigned }.flatMap(\.sections).filter {
                ["impression", "recommendation"].contains($0.kind) && !$0.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            }
            .map { "\($0.title): \($0.text)" }.joined(separator: "\n")
        let interpreted = try await Self.mapped { try await store.interpret(set) }
        let secret: DeidentificationSecret
        do {
            secret = try await teaching.deidentificationSecret()
        } catch {
            throw HTTPError(.internalServerError, message: "the de-identification secret is not available")
        }
        let identity = secret.patientIdentity(patientID: set.patient.id, issuer: set.patient.assigningAuthority)
        let made = try await Self.mapped {
            try LabTeachingCase.make(set, interpreted: interpreted, identity: identity, interpretation: interpretation)
        }
        let content = Self.teachingContent(made)
        let created: TeachingCase
        do {
            created = try await teaching.create(
                content, author: principal.username, institution: set.institution, source: "laboratory", sourceKey: "lab-request:\(id)")
        } catch {
            throw HTTPError(.badRequest, message: "\(error)")
        }
        await audit(
            principal, context, "teaching case \(created.id) made from laboratory consultation \(id) (result set \(set.id))",
            patients: [set.patient.id], action: .create)
        return ReadingRoutes.json(["case": created.id, "pseudonym": made.pseudonym, "rows": made.rows.count], status: .created)
    }

    /// The library's case for a laboratory teaching case: the history line, the results table, the interpretation.
    static func teachingContent(_ made: LabTeachingCase) -> CaseContent {
        var content = CaseContent(title: "检验病例 Laboratory case: \(made.service)")
        content.clinicalHistory = made.history
        content.findings = made.findings
        content.discussion = made.interpretation
        content.tags.modalities = ["LAB"]
        content.tags.organSystem = "laboratory"
        return content
    }

    /// A FHIR OperationOutcome for a refused bundle.
    static func outcome(_ status: HTTPResponse.Status, _ reason: String) -> Response {
        let body: [String: Any] = [
            "resourceType": "OperationOutcome", "issue": [["severity": "error", "code": "invalid", "diagnostics": reason]],
        ]
        let data = (try? JSONSerialization.data(withJSONObject: body)) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/fhir+json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    // MARK: - Helpers

    /// The institution the request is limited to (a site user's), nil for those who see all.
    static func scope() -> String? { DICOMwebAccess.current?.institution }

    @discardableResult
    static func administrator(_ context: AtriumRequestContext) throws -> Principal {
        let principal = try ReadingRoutes.signedIn(context)
        guard principal.has(.admin) else { throw HTTPError(.forbidden, message: "administrators only") }
        return principal
    }

    func visibleSet(_ context: AtriumRequestContext) async throws -> (Principal, ResultSet) {
        let principal = try ReadingRoutes.signedIn(context)
        let id = try context.parameters.require("id")
        guard let set = try await Self.mapped({ try await store.resultSet(id: id) }), Self.scope() == nil || Self.scope() == set.institution
        else { throw HTTPError(.notFound, message: "no such result set") }
        return (principal, set)
    }

    func audit(
        _ principal: Principal, _ context: AtriumRequestContext, _ detail: String, patients: Set<String>, action: AuditAction = .read
    ) async {
        await identity.audit.record(
            AuditEvent(
                eventID: .instancesAccessed, action: action, user: principal.username,
                sourceAddress: context.remoteAddress?.ipAddress ?? "",
                transport: "http", participants: patients.sorted().map(AuditParticipant.patient), detail: detail))
    }

    static func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as LaboratoryError {
            switch error {
            case .notFound(let what): throw HTTPError(.notFound, message: "no such \(what)")
            case .invalid(let message): throw HTTPError(.badRequest, message: message)
            case .conflict(let message): throw HTTPError(.conflict, message: message)
            case .database: throw HTTPError(.internalServerError, message: "the laboratory store failed")
            }
        }
    }

    static func summary(_ set: ResultSet) -> [String: Any] {
        [
            "id": set.id, "institution": set.institution, "source": set.source.rawValue, "sendingFacility": set.sendingFacility,
            "messageControlID": set.messageControlID,
            "patient": [
                "id": set.patient.id, "assigningAuthority": set.patient.assigningAuthority, "familyName": set.patient.familyName,
                "givenName": set.patient.givenName, "name": set.patient.displayName, "birthDate": set.patient.birthDate as Any? ?? NSNull(),
                "sex": set.patient.sex.rawValue,
            ] as [String: Any],
            "order": [
                "placerNumber": set.order.placerNumber, "fillerNumber": set.order.fillerNumber, "serviceCode": set.order.serviceCode,
                "serviceText": set.order.serviceText, "serviceSystem": set.order.serviceSystem,
                "observedAt": set.order.observedAt.map { ReadingFormat.iso($0) as Any } ?? NSNull(),
            ] as [String: Any],
            "observedAt": ReadingFormat.iso(set.observedAt), "receivedAt": ReadingFormat.iso(set.receivedAt),
            "observationCount": set.observations.count,
        ]
    }

    static func describe(_ item: InterpretedObservation) -> [String: Any] {
        let o = item.observation
        func optional(_ v: Double?) -> Any { v.map { $0 as Any } ?? NSNull() }
        return [
            "valueType": o.valueType.rawValue, "code": o.code, "codeText": o.codeText, "codeSystem": o.codeSystem,
            "loinc": o.loinc as Any? ?? NSNull(), "value": o.value, "numeric": optional(o.numeric), "comparator": o.comparator,
            "units": o.units, "referenceRangeSent": o.referenceRange, "abnormalFlagsSent": o.abnormalFlags, "status": o.status,
            "observedAt": o.observedAt.map { ReadingFormat.iso($0) as Any } ?? NSNull(),
            "ucum": item.normalisation.ucum as Any? ?? NSNull(), "normalised": item.normalisation.normalised,
            "canonicalValue": optional(item.normalisation.value), "canonicalUnit": item.normalisation.unit,
            "converted": item.normalisation.converted,
            "referenceRange": item.range.map { describe($0) as Any } ?? NSNull(), "flag": item.flag?.rawValue as Any? ?? NSNull(),
            "critical": item.flag?.isCritical ?? false, "previous": optional(item.previous), "delta": item.deltaFlag,
        ]
    }

    /// A critical value with its state: routed ones take their acknowledgement from the consultation's critical result.
    func describe(_ value: CriticalValue) async throws -> [String: Any] {
        var acknowledgedBy = value.acknowledgedBy
        var acknowledgedAt = value.acknowledgedAt
        var escalations = 0
        if let id = value.criticalResultID, let result = try await ReadingRoutes.mapped({ try await reading.criticalResult(id: id) }) {
            acknowledgedBy = result.acknowledgedBy
            acknowledgedAt = result.acknowledgedAt
            escalations = result.escalations
        }
        return [
            "id": value.id, "resultSet": value.resultSet, "seq": value.seq, "institution": value.institution,
            "patientID": value.patientID, "analyte": value.analyte, "loinc": value.loinc as Any? ?? NSNull(), "value": value.value,
            "unit": value.unit, "flag": value.flag.rawValue, "limit": value.limit, "raisedAt": ReadingFormat.iso(value.raisedAt),
            "request": value.requestID as Any? ?? NSNull(), "criticalResult": value.criticalResultID as Any? ?? NSNull(),
            "acknowledgedBy": acknowledgedBy as Any? ?? NSNull(),
            "acknowledgedAt": acknowledgedAt.map { ReadingFormat.iso($0) as Any } ?? NSNull(), "escalations": escalations,
        ]
    }

    static func describe(_ r: ReferenceRange) -> [String: Any] {
        func optional(_ v: Double?) -> Any { v.map { $0 as Any } ?? NSNull() }
        return [
            "id": r.id, "loinc": r.loinc, "name": r.name, "sex": r.sex?.rawValue ?? "", "minimumAge": r.minimumAge,
            "maximumAge": r.maximumAge,
            "low": optional(r.low), "high": optional(r.high), "criticalLow": optional(r.criticalLow),
            "criticalHigh": optional(r.criticalHigh),
            "unit": r.unit, "source": r.source, "text": r.text,
        ]
    }

    static func describe(_ m: ControlMaterial) -> [String: Any] {
        [
            "id": m.id, "institution": m.institution, "loinc": m.loinc, "analyte": m.analyte, "name": m.name, "lot": m.lot,
            "level": m.level,
            "mean": m.mean, "sd": m.sd, "unit": m.unit,
        ]
    }
}
