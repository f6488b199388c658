import Foundation
import Hummingbird
import Laboratory
import Logging
import Platform
import Reading

/// The laboratory pages: the result sets a person may see (`/lab`), one result set with its intervals, flags, delta
/// checks and each analyte's history as a chart (`/lab/result-sets/:id`, where a site files a laboratory consultation),
/// the same view of a consultation's result set for its reviewers (`/lab/consultations/:id`, shown beside the report),
/// and quality control with Levey-Jennings charts and Westgard violations (`/lab/qc`). Every view is audited.
struct LaboratoryPages: Sendable {
    let views: WebViews
    let store: LaboratoryStore
    let reading: ReadingStore
    let identity: IdentityStore
    let logger: Logger

    func register(on router: Router<AtriumRequestContext>) {
        router.get("/lab") { request, context in try await self.list(request, context) }
        router.get("/lab/result-sets/:id") { request, context in
            let id = try context.parameters.require("id")
            return try await self.resultSet(id: id, consultation: nil, request, context)
        }
        router.get("/lab/consultations/:id") { request, context in
            guard let requestID = Int64(try context.parameters.require("id")),
                let consultation = try await ReadingRoutes.mapped({ try await self.reading.request(id: requestID) }),
                let principal = context.principal,
                ReadingAccess.decide(.viewRequest, principal: principal, requestInstitution: consultation.institutionCode).allowed,
                let setID = try await LaboratoryRoutes.mapped({ try await self.store.resultSetID(forRequest: requestID) })
            else { return self.notFound(request, context) }
            return try await self.resultSet(id: setID, consultation: consultation, request, context)
        }
        router.get("/lab/qc") { request, context in try await self.qualityControl(request, context) }
        router.get("/lab/reference-ranges") { request, context in try await self.referenceRanges(request, context) }
    }

    func text(_ key: String, _ request: Request, _ context: AtriumRequestContext) -> String {
        views.locales.text(key, WebViews.language(request: request, context: context))
    }

    func notFound(_ request: Request, _ context: AtriumRequestContext) -> Response {
        views.page(
            "notfound", title: text("errors.notFound", request, context), section: .home, data: [:], request: request, context: context,
            status: .notFound)
    }

    func audit(_ context: AtriumRequestContext, _ detail: String, patients: [String]) async {
        await identity.audit.record(
            AuditEvent(
                eventID: .instancesAccessed, action: .read, user: context.principal?.username ?? "",
                sourceAddress: context.remoteAddress?.ipAddress ?? "", transport: "http",
                participants: patients.map(AuditParticipant.patient),
                detail: detail))
    }

    static func local(_ date: Date) -> String { ReadingFormat.local(date) }

    func list(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let scope = LaboratoryRoutes.scope()
        let sets = try await LaboratoryRoutes.mapped { try await self.store.resultSets(institution: scope) }
        await audit(context, "laboratory result sets listed (\(sets.count))", patients: Array(Set(sets.map(\.patient.id))).sorted())
        var rows: [[String: Any]] = []
        for set in sets {
            let interpreted = try await LaboratoryRoutes.mapped { try await self.store.interpret(set) }
            rows.append([
                "id": set.id, "observedAt": Self.local(set.observedAt), "patientName": set.patient.displayName, "patientID": set.patient.id,
                "service": set.order.serviceText.isEmpty ? set.order.serviceCode : set.order.serviceText, "institution": set.institution,
                "source": set.source.rawValue, "abnormal": interpreted.filter { $0.flag?.isAbnormal ?? false }.count,
                "critical": interpreted.filter { $0.flag?.isCritical ?? false }.count,
                "hasCritical": interpreted.contains { $0.flag?.isCritical ?? false },
            ])
        }
        let criticalValues = try await LaboratoryRoutes.mapped { try await self.store.criticalValues(institution: scope, limit: 50) }
        let principal = context.principal
        let mayAcknowledge = principal.map { $0.has(.reader) || $0.has(.admin) || $0.has(.site) } ?? false
        var critical: [[String: Any]] = []
        for value in criticalValues {
            var acknowledgedBy = value.acknowledgedBy
            if let id = value.criticalResultID,
                let result = try await ReadingRoutes.mapped({ try await self.reading.criticalResult(id: id) })
            {
                acknowledgedBy = result.acknowledgedBy
            }
            critical.append([
                "id": value.id, "resultSet": value.resultSet, "raisedAt": Self.local(value.raisedAt), "patientID": value.patientID,
                "analyte": value.analyte, "value": value.value, "unit": value.unit, "flag": value.flag.rawValue, "limit": value.limit,
                "request": value.requestID.map { [String($0)] } ?? [], "acknowledged": acknowledgedBy != nil,
                "acknowledgedBy": acknowledgedBy ?? "",
                "canAcknowledge": mayAcknowledge && value.requestID == nil && acknowledgedBy == nil,
            ])
        }
        return views.page(
            "lab", title: text("laboratory.title.list", request, context), section: .laboratory,
            data: ["sets": rows, "empty": rows.isEmpty, "criticalValues": critical, "hasCriticalValues": !critical.isEmpty],
            request: request, context: context)
    }

    func resultSet(id: String, consultation: ConsultationRequest?, _ request: Request, _ context: AtriumRequestContext) async throws
        -> Response
    {
        guard let principal = context.principal,
            let set = try await LaboratoryRoutes.mapped({ try await self.store.resultSet(id: id) })
        else { return notFound(request, context) }
        // A site sees its own institution's results; a consultation's reviewers see the consultation's.
        if consultation == nil, let scope = LaboratoryRoutes.scope(), scope != set.institution { return notFound(request, context) }
        let interpreted = try await LaboratoryRoutes.mapped { try await self.store.interpret(set) }
        await audit(context, "laboratory result set \(set.id) viewed", patients: [set.patient.id])
        let age = set.patient.ageYears(at: set.observedAt)
        var observations: [[String: Any]] = []
        for (index, item) in interpreted.enumerated() {
            let o = item.observation
            var row: [String: Any] = [
                "index": index, "name": o.codeText.isEmpty ? o.code : o.codeText, "code": o.code, "loinc": o.loinc ?? "",
                "value": o.value, "units": o.units, "status": o.status,
                "flag": item.flag?.rawValue ?? "",
                "flagLabel": item.flag.map { text("laboratory.flag.\($0.rawValue)", request, context) } ?? "",
                "abnormal": item.flag?.isAbnormal ?? false, "critical": item.flag?.isCritical ?? false,
                "range": item.range.map { "\($0.text) \($0.unit)" } ?? o.referenceRange, "rangeSource": item.range?.source ?? "",
                "delta": item.deltaFlag, "notNormalised": !item.normalisation.normalised && !o.units.isEmpty,
            ]
            if item.normalisation.converted, let value = item.normalisation.value {
                row["canonical"] = "\(ReferenceRanges.format((value * 100).rounded() / 100)) \(item.normalisation.unit)"
            }
            if let previous = item.previous {
                row["previous"] = "\(ReferenceRanges.format((previous * 100).rounded() / 100)) \(item.normalisation.unit)"
            }
            if let loinc = o.loinc, item.normalisation.value != nil {
                let history = try await LaboratoryRoutes.mapped {
                    try await self.store.history(institution: set.institution, patientID: set.patient.id, loinc: loinc)
                }
                .filter { $0.unit == item.normalisation.unit }
                if history.count >= 1 {
                    let points = history.map { point -> (at: Date, value: Double, flag: ResultFlag?) in
                        (point.at, point.value, item.range.map { ReferenceRanges.flag(point.value, $0) })
                    }
                    row["chart"] = LabCharts.history(points: points, range: item.range, code: loinc)
                    row["historyCount"] = history.count
                }
            }
            observations.append(row)
        }
        let requests = try await LaboratoryRoutes.mapped { try await self.store.requests(forResultSet: set.id) }
        let canRequest = consultation == nil && principal.has(.site) && principal.institutionCode == set.institution
        let data: [String: Any] = [
            "set": [
                "id": set.id, "patientName": set.patient.displayName, "patientID": set.patient.id,
                "authority": set.patient.assigningAuthority,
                "sex": text("laboratory.sex.\(set.patient.sex.rawValue)", request, context), "birthDate": set.patient.birthDate ?? "",
                "age": age.map(String.init) ?? "", "institution": set.institution, "facility": set.sendingFacility,
                "placer": set.order.placerNumber, "filler": set.order.fillerNumber,
                "service": set.order.serviceText.isEmpty ? set.order.serviceCode : set.order.serviceText,
                "observedAt": Self.local(set.observedAt), "receivedAt": Self.local(set.receivedAt), "source": set.source.rawValue,
            ] as [String: Any],
            "observations": observations,
            "hasCritical": interpreted.contains { $0.flag?.isCritical ?? false },
            "embedded": consultation != nil, "consultationID": consultation?.id ?? 0,
            "canRequest": canRequest, "requests": requests.map { ["id": $0] }, "hasRequests": !requests.isEmpty,
            "priorities": Priority.allCases.reversed().map {
                ["code": $0.rawValue, "label": text("reading.priority.\($0.rawValue)", request, context)]
            },
        ]
        return views.page(
            "lab-result", title: text("laboratory.title.result", request, context), section: .laboratory, data: data, request: request,
            context: context)
    }

    /// The reference intervals and delta rules in force, with their sources (edited through the JSON API by administrators).
    func referenceRanges(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let ranges = try await LaboratoryRoutes.mapped { try await self.store.referenceRanges() }
        let rules = Dictionary(
            try await LaboratoryRoutes.mapped { try await self.store.deltaRules() }.map { ($0.loinc, $0) }, uniquingKeysWith: { a, _ in a })
        func f(_ v: Double?) -> String { v.map(ReferenceRanges.format) ?? "" }
        let rows = ranges.map { r -> [String: Any] in
            var delta = ""
            if let rule = rules[r.loinc] {
                delta = [rule.absolute.map { "±\(f($0)) \(r.unit)" }, rule.percent.map { "±\(f($0)) %" }].compactMap { $0 }
                    .joined(separator: " · ")
            }
            let critical = [r.criticalLow.map { "≤\(f($0))" }, r.criticalHigh.map { "≥\(f($0))" }].compactMap { $0 }.joined(separator: " ")
            return [
                "id": r.id, "loinc": r.loinc, "name": r.name,
                "sex": r.sex.map { text("laboratory.sex.\($0.rawValue)", request, context) } ?? "",
                "age": "\(r.minimumAge)–\(r.maximumAge)",
                "interval": r.text, "critical": critical, "unit": r.unit, "delta": delta, "source": r.source,
            ]
        }
        return views.page(
            "lab-ranges", title: text("laboratory.title.ranges", request, context), section: .laboratory, data: ["ranges": rows],
            request: request, context: context)
    }

    func qualityControl(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let scope = LaboratoryRoutes.scope()
        let materials = try await LaboratoryRoutes.mapped { try await self.store.materials(institution: scope) }
        let runs = try await LaboratoryRoutes.mapped { try await self.store.runs(institution: scope) }
        let violations = Westgard.evaluate(runs: runs, materials: materials)
        let runTimes = Dictionary(runs.map { ($0.id, $0.at) }, uniquingKeysWith: { a, _ in a })
        let names = Dictionary(materials.map { ($0.id, "\($0.analyte) \($0.name)") }, uniquingKeysWith: { a, _ in a })
        let data: [String: Any] = [
            "materials": materials.map { m in
                [
                    "id": m.id, "analyte": m.analyte, "name": m.name, "lot": m.lot, "institution": m.institution,
                    "mean": ReferenceRanges.format(m.mean), "sd": ReferenceRanges.format(m.sd), "unit": m.unit,
                    "runs": runs.filter { $0.values[m.id] != nil }.count,
                    "chart": LabCharts.leveyJennings(
                        material: m, runs: runs.filter { $0.institution == m.institution }, violations: violations),
                ] as [String: Any]
            },
            "empty": materials.isEmpty,
            "violations": violations.reversed().map { v in
                [
                    "rule": v.rule.rawValue, "warning": v.rule.isWarning, "run": v.runID,
                    "at": runTimes[v.runID].map(Self.local) ?? "",
                    "materials": v.materials.compactMap { names[$0] }.joined(separator: ", "),
                    "scope": text("laboratory.qc.scope.\(v.scope)", request, context),
                ] as [String: Any]
            },
            "noViolations": violations.isEmpty,
            // A site records its own laboratory's runs; materials and runs of one institution per form.
            "canRecord": context.principal?.has(.site) == true && scope != nil,
        ]
        return views.page(
            "lab-qc", title: text("laboratory.title.qc", request, context), section: .laboratory, data: data, request: request,
            context: context)
    }
}
