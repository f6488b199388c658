import Archive
import DICOM
import Foundation
import Hummingbird
import Logging
import NIOCore
import Platform
import Reading
import ServiceLifecycle

/// The consultation workflow's JSON API (`/api/consultations`, `/api/worklist`, `/api/reports`, `/api/critical`,
/// `/api/notifications`) and its server push (`GET /api/worklist/events`, Server-Sent Events). Every handler checks
/// ``ReadingAccess`` for its action and the request's institution; the store does the rest. See docs/api.md.
public struct ReadingRoutes: Sendable {
    let store: ReadingStore
    let identity: IdentityStore
    let archive: Archive
    let documents: ReportDocuments
    let logger: Logger

    public init(store: ReadingStore, identity: IdentityStore, archive: Archive, logger: Logger = Logger(label: "atrium.reading")) {
        self.store = store
        self.identity = identity
        self.archive = archive
        self.documents = ReportDocuments(store: store, archive: archive, logger: logger)
        self.logger = logger
    }

    public func register(on router: Router<AtriumRequestContext>) {
        router.get("/api/consultations") { request, context in try await self.listRequests(request, context) }
        router.post("/api/consultations") { request, context in try await self.fileRequest(request, context) }
        router.get("/api/consultations/:id") { _, context in try await self.describeRequest(context) }
        router.post("/api/consultations/:id/withdraw") { _, context in
            let (principal, request) = try await self.visibleRequest(context, action: .withdraw)
            let withdrawn = try await Self.mapped {
                try await self.store.withdraw(requestID: request.id, by: self.actor(principal, context))
            }
            return Self.json(self.describe(withdrawn))
        }
        router.post("/api/consultations/:id/critical") { request, context in
            let body = try await Self.body(request)
            let (principal, consultation) = try await self.visibleRequest(context, action: .flagCritical)
            let result = try await Self.mapped {
                try await self.store.flagCritical(
                    requestID: consultation.id, finding: body["finding"] as? String ?? "", by: self.actor(principal, context))
            }
            return Self.json(Self.describe(result), status: .created)
        }
        router.post("/api/consultations/:id/second-opinion") { request, context in
            let body = try await Self.body(request)
            let (principal, consultation) = try await self.visibleRequest(context, action: .secondOpinion)
            let item = try await Self.mapped {
                try await self.store.requestSecondOpinion(
                    requestID: consultation.id, colleague: body["colleague"] as? String ?? "", by: self.actor(principal, context))
            }
            return Self.json(Self.describe(item), status: .created)
        }
        router.post("/api/critical/:id/acknowledge") { _, context in
            let principal = try Self.signedIn(context)
            let id = try Self.id(context)
            guard let result = try await Self.mapped({ try await self.store.criticalResult(id: id) }),
                let consultation = try await Self.mapped({ try await self.store.request(id: result.requestID) })
            else { throw HTTPError(.notFound, message: "no such critical result") }
            try Self.require(.acknowledgeCritical, principal, institution: consultation.institutionCode)
            let acknowledged = try await Self.mapped {
                try await self.store.acknowledge(criticalID: id, by: self.actor(principal, context))
            }
            return Self.json(Self.describe(acknowledged))
        }
        registerAttachments(on: router)
        router.get("/api/worklist") { request, context in try await self.worklist(request, context) }
        router.get("/api/worklist/events") { _, context in try self.events(context) }
        for (verb, path) in [("claim", "claim"), ("renew", "renew"), ("release", "release"), ("break", "break")] {
            router.post(RouterPath("/api/worklist/:id/\(path)")) { _, context in try await self.lock(verb, context) }
        }
        router.get("/api/reports/:id") { _, context in try await self.describeReport(context) }
        router.put("/api/reports/:id/draft") { request, context in try await self.write("draft", request, context) }
        router.post("/api/reports/:id/preliminary") { request, context in try await self.write("preliminary", request, context) }
        router.post("/api/reports/:id/sign") { request, context in try await self.write("sign", request, context) }
        router.post("/api/reports/:id/addenda") { request, context in try await self.write("addendum", request, context) }
        router.get("/api/reports/:id/document") { _, context in
            let (_, report, _) = try await self.visibleReport(context)
            let document = try await self.documents.document(reportID: report.id, version: nil)
            return Self.json(Self.describe(document))
        }
        router.post("/api/reports/:id/peer-review") { request, context in
            let (principal, report, _) = try await self.visibleReport(context)
            try Self.require(.peerReview, principal, institution: nil)
            let body = try await Self.body(request)
            guard let score = RADPEERScore(rawValue: body["score"] as? String ?? "") else {
                throw HTTPError(.badRequest, message: "score is one of \(RADPEERScore.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let review = try await Self.mapped {
                try await self.store.recordPeerReview(
                    reportID: report.id, score: score, comment: body["comment"] as? String ?? "", by: self.actor(principal, context))
            }
            return Self.json(
                [
                    "reportID": review.reportID, "reader": review.reader, "site": review.site, "reviewer": review.reviewer,
                    "score": review.score.rawValue, "comment": review.comment, "reviewedAt": ReadingFormat.iso(review.reviewedAt),
                ], status: .created)
        }
        router.get("/api/peer-review") { request, context in
            let principal = try Self.signedIn(context)
            guard principal.has(.supervisor) || principal.has(.admin) else {
                throw HTTPError(.forbidden, message: "discrepancy rates are for supervisors and administrators")
            }
            let grouping = request.uri.queryParameters["by"].flatMap { PeerReviewRates.Grouping(rawValue: String($0)) } ?? .reader
            let reviews = try await Self.mapped { try await self.store.peerReviews() }
            return Self.json(
                PeerReviewRates.table(reviews, by: grouping).map {
                    [
                        "group": $0.group, "reviews": $0.reviews, "scores": $0.scores, "discrepancyRate": $0.discrepancyRate,
                        "majorDiscrepancyRate": $0.majorDiscrepancyRate, "significantRate": $0.significantRate,
                    ] as [String: Any]
                })
        }
        router.get("/api/reports/:id/fhir") { _, context in
            let (principal, report, request) = try await self.visibleReport(context)
            let document = try await self.documents.document(reportID: report.id, version: nil)
            await self.store.recordView(request, by: self.actor(principal, context), what: "report \(report.id) as FHIR")
            return Response(
                status: .ok, headers: [.contentType: "application/fhir+json; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: FHIRReport.bundle(for: document, base: "urn:atrium"))))
        }
        router.post("/api/reports/:id/teaching") { request, context in
            let (principal, report, consultation) = try await self.visibleReport(context)
            try Self.require(.writeReport, principal, institution: nil)
            let body = try await Self.body(request)
            let note = (body["note"] as? String ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            let chosen = Set(body["keyImages"] as? [String] ?? [])
            guard !note.isEmpty, note.count <= 10_000, !chosen.isEmpty else {
                throw HTTPError(.badRequest, message: "a teaching note and at least one key image (SOP Instance UIDs) are required")
            }
            guard let uid = consultation.studies.first,
                let study = try await ReportDocument.Study.fromArchive(self.archive, studyInstanceUID: uid)
            else { throw HTTPError(.conflict, message: "the request's study is not in the archive") }
            let images = study.series.flatMap { series in
                series.instances.filter { chosen.contains($0.sopInstanceUID) }.map {
                    TeachingKOS.KeyImage(
                        sopClassUID: $0.sopClassUID, sopInstanceUID: $0.sopInstanceUID, seriesInstanceUID: series.seriesInstanceUID)
                }
            }
            guard images.count == chosen.count else { throw HTTPError(.badRequest, message: "every key image is an instance of the study") }
            let sopInstanceUID = UID.generate()
            let seriesInstanceUID = UID.generate()
            let kos = TeachingKOS.dataSet(
                study: study, keyImages: images, note: note,
                author: principal.displayName.isEmpty ? principal.username : principal.displayName,
                institution: self.store.settings.readingInstitution, created: self.store.now, seriesInstanceUID: seriesInstanceUID,
                sopInstanceUID: sopInstanceUID)
            _ = try await self.archive.store(
                try DICOMFile(dataSet: kos).encoded(),
                source: SourceInfo(applicationEntityTitle: "ATRIUM", institution: consultation.institutionCode, transport: .importer),
                name: "for teaching, report \(report.id)")
            try await Self.mapped {
                try await self.store.recordForTeaching(
                    requestID: consultation.id, keyObjectUID: sopInstanceUID, by: self.actor(principal, context))
            }
            return Self.json(
                ["sopInstanceUID": sopInstanceUID, "seriesInstanceUID": seriesInstanceUID, "keyImages": images.count], status: .created)
        }
        // Automatic assignment and double reading by rule: administrators (the /api/admin family is theirs only).
        router.get("/api/admin/reading-rules") { _, _ in
            Self.json(try await Self.mapped { try await self.store.assignmentRules() }.map(Self.describe))
        }
        router.post("/api/admin/reading-rules") { request, context in
            let principal = try Self.signedIn(context)
            let rule = try Self.rule(try await Self.body(request))
            let added = try await Self.mapped { try await self.store.addAssignmentRule(rule, by: self.actor(principal, context)) }
            return Self.json(Self.describe(added), status: .created)
        }
        router.put("/api/admin/reading-rules/:id") { request, context in
            let principal = try Self.signedIn(context)
            var rule = try Self.rule(try await Self.body(request))
            rule.id = try Self.id(context)
            guard try await Self.mapped({ try await self.store.updateAssignmentRule(rule, by: self.actor(principal, context)) }) else {
                throw HTTPError(.notFound, message: "no such rule")
            }
            return Self.json(Self.describe(rule))
        }
        // The on-duty roster: every reader with their profile and open items.
        router.get("/api/admin/reading-roster") { _, _ in
            let candidates = try await Self.mapped { try await self.store.assignmentCandidates() }
            return Self.json(
                candidates.map {
                    [
                        "username": $0.username, "onDuty": $0.onDuty, "open": $0.open,
                        "serviceLines": ServiceLine.allCases.filter($0.serviceLines.contains).map(\.rawValue),
                    ] as [String: Any]
                })
        }
        // A reader's profile: may sign finals, senior, service lines, on duty (administrators).
        router.get("/api/admin/reader-profiles/:username") { _, context in
            let profile = try await Self.mapped { try await self.store.profile(username: try context.parameters.require("username")) }
            return Self.json(Self.describe(profile))
        }
        router.put("/api/admin/reader-profiles/:username") { request, context in
            let username = try context.parameters.require("username")
            let body = try await Self.body(request)
            var profile = try await Self.mapped { try await self.store.profile(username: username) }
            if let canSign = body["canSign"] as? Bool { profile.canSign = canSign }
            if let senior = body["senior"] as? Bool { profile.senior = senior }
            if let onDuty = body["onDuty"] as? Bool { profile.onDuty = onDuty }
            if let lines = body["serviceLines"] as? [String] {
                let parsed = lines.compactMap(ServiceLine.init(rawValue:))
                guard parsed.count == lines.count else {
                    throw HTTPError(.badRequest, message: "serviceLines are imaging, pathology or laboratory")
                }
                profile.serviceLines = Set(parsed)
            }
            try await Self.mapped { try await self.store.setProfile(profile) }
            return Self.json(Self.describe(profile))
        }
        router.delete("/api/admin/reading-rules/:id") { _, context in
            let principal = try Self.signedIn(context)
            let id = try Self.id(context)
            guard try await Self.mapped({ try await self.store.deleteAssignmentRule(id: id, by: self.actor(principal, context)) }) else {
                throw HTTPError(.notFound, message: "no such rule")
            }
            return Response(status: .noContent)
        }
        router.get("/api/notifications") { _, context in
            let principal = try Self.signedIn(context)
            let notices = try await Self.mapped {
                try await self.store.notifications(
                    username: principal.username, institution: principal.has(.site) ? principal.institutionCode : nil)
            }
            return Self.json(notices.map(Self.describe))
        }
        router.post("/api/notifications/:id/read") { _, context in
            let principal = try Self.signedIn(context)
            let id = try Self.id(context)
            try await Self.mapped {
                try await self.store.markNotificationRead(
                    id: id, username: principal.username,
                    institution: principal.has(.site) ? principal.institutionCode : nil)
            }
            return Response(status: .noContent)
        }
    }

    // MARK: - Helpers

    func actor(_ principal: Principal, _ context: AtriumRequestContext) -> ReadingActor {
        ReadingActor(
            username: principal.username, displayName: principal.displayName.isEmpty ? principal.username : principal.displayName,
            sourceAddress: context.remoteAddress?.ipAddress ?? "", transport: "http")
    }

    static func signedIn(_ context: AtriumRequestContext) throws -> Principal {
        guard let principal = context.principal else { throw HTTPError(.unauthorized, message: "sign in first") }
        return principal
    }

    static func id(_ context: AtriumRequestContext) throws -> Int64 {
        guard let id = Int64(try context.parameters.require("id")) else { throw HTTPError(.badRequest, message: "ids are integers") }
        return id
    }

    static func require(
        _ action: ReadingAction, _ principal: Principal, profile: ReaderProfile? = nil, institution: String?, assigned: Bool = false
    ) throws {
        if case .deny(let reason) = ReadingAccess.decide(
            action, principal: principal, profile: profile, requestInstitution: institution, assigned: assigned)
        {
            throw HTTPError(.forbidden, message: reason)
        }
    }

    /// The request named in the path, if the caller may do `action` on it. A site user asking for another institution's
    /// request gets 404, as if it did not exist.
    func visibleRequest(_ context: AtriumRequestContext, action: ReadingAction) async throws -> (Principal, ConsultationRequest) {
        let principal = try Self.signedIn(context)
        let id = try Self.id(context)
        guard let request = try await Self.mapped({ try await self.store.request(id: id) }) else {
            throw HTTPError(.notFound, message: "no such consultation request")
        }
        if !ReadingAccess.decide(.viewRequest, principal: principal, requestInstitution: request.institutionCode).allowed {
            throw HTTPError(.notFound, message: "no such consultation request")
        }
        try Self.require(action, principal, institution: request.institutionCode)
        return (principal, request)
    }

    func visibleReport(_ context: AtriumRequestContext) async throws -> (Principal, Report, ConsultationRequest) {
        let principal = try Self.signedIn(context)
        let id = try Self.id(context)
        guard let report = try await Self.mapped({ try await self.store.report(id: id) }),
            let request = try await Self.mapped({ try await self.store.request(id: report.requestID) }),
            ReadingAccess.decide(.viewReport, principal: principal, requestInstitution: request.institutionCode).allowed
        else { throw HTTPError(.notFound, message: "no such report") }
        return (principal, report, request)
    }

    /// Turns the store's errors into HTTP answers: 404, 400, 409 (locks, conflicts, states, Transaction UIDs), 403, 500.
    static func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ReadingError {
            switch error {
            case .notFound(let what): throw HTTPError(.notFound, message: "no such \(what)")
            case .invalid(let message): throw HTTPError(.badRequest, message: message)
            case .invalidTransition, .locked, .conflict, .transactionUIDMismatch, .notLockHolder:
                throw HTTPError(.conflict, message: error.description)
            case .forbidden(let reason): throw HTTPError(.forbidden, message: reason)
            case .wrongPassword: throw HTTPError(.forbidden, message: error.description)
            case .database:
                Logger(label: "atrium.reading").error("consultation store failed", metadata: ["error": "\(error)"])
                throw HTTPError(.internalServerError, message: "the consultation store failed")
            }
        }
    }

    /// Unsorted keys, as ``AuthRoutes/json(_:status:)`` explains.
    static func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func json(encoded data: Data, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func body(_ request: Request, upTo limit: Int = 4 << 20) async throws -> [String: Any] {
        let buffer = try await request.body.collect(upTo: limit)
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any] else {
            throw HTTPError(.badRequest, message: "the body must be a JSON object")
        }
        return object
    }

    static func iso(_ date: Date?) -> Any { date.map { ReadingFormat.iso($0) as Any } ?? NSNull() }

    // MARK: - Requests

    func listRequests(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.signedIn(context)
        let scope = try Self.listScope(principal)
        try await ReadingLinker(store: store, archive: archive, logger: logger).linkWaitingStudies(institution: scope)
        let requests = try await Self.mapped { try await self.store.requests(institution: scope) }
        return Self.json(requests.map { describe($0) })
    }

    /// The institution a person's lists are limited to: a site user's own; nil (everything) for readers and administrators.
    static func listScope(_ principal: Principal) throws -> String? {
        if principal.has(.reader) || principal.has(.admin) { return nil }
        guard principal.has(.site), let code = principal.institutionCode, !code.isEmpty else {
            throw HTTPError(.forbidden, message: "consultations are for sites, readers and administrators")
        }
        return code
    }

    func fileRequest(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.signedIn(context)
        try Self.require(.request, principal, institution: nil)
        guard let institution = principal.institutionCode, !institution.isEmpty else {
            throw HTTPError(.forbidden, message: "a site user without an institution files no requests")
        }
        // Attachments travel in the JSON as base64 (`attachments: [{filename, data, storeAs}]`), hence the larger limit.
        let body = try await Self.body(request, upTo: RequestAttachment.maximumBytes * 2 + (1 << 20))
        var uploads: [Upload] = []
        for item in body["attachments"] as? [[String: Any]] ?? [] {
            guard let data = (item["data"] as? String).flatMap({ Data(base64Encoded: $0, options: .ignoreUnknownCharacters) }) else {
                throw HTTPError(.badRequest, message: "an attachment's data is base64")
            }
            let upload = Upload(
                filename: item["filename"] as? String ?? "attachment", bytes: Array(data),
                storeAs: try (item["storeAs"] as? String).map(Self.storeAs))
            try Self.check(upload)
            uploads.append(upload)
        }
        guard let priority = Priority(rawValue: body["priority"] as? String ?? "routine") else {
            throw HTTPError(.badRequest, message: "priority is routine, urgent or stat")
        }
        guard let line = ServiceLine(rawValue: body["serviceLine"] as? String ?? "imaging") else {
            throw HTTPError(.badRequest, message: "serviceLine is imaging, pathology or laboratory")
        }
        let studies = (body["studies"] as? [String]) ?? []
        var new = NewConsultationRequest(
            serviceLine: line, priority: priority, referringPhysician: body["referringPhysician"] as? String ?? "",
            clinicalHistory: body["clinicalHistory"] as? String ?? "", question: body["question"] as? String ?? "",
            accessionNumber: (body["accessionNumber"] as? String ?? "").trimmingCharacters(in: .whitespaces),
            modality: body["modality"] as? String ?? "", bodyPart: body["bodyPart"] as? String ?? "", studies: studies)
        // Only the institution's own studies, and their patient, modality and body part as the archive holds them.
        for uid in studies {
            guard UID.isValid(uid), let summary = try await StudySummary.find(archive, uid: uid, institution: institution) else {
                throw HTTPError(.badRequest, message: "study \(uid) is not one of \(institution)'s studies")
            }
            if new.patientID.isEmpty {
                new.patientName = summary.patientName
                new.patientID = summary.patientID
            }
            if new.modality.isEmpty { new.modality = summary.modality }
            if new.bodyPart.isEmpty { new.bodyPart = summary.bodyPart }
        }
        let (filed, _) = try await Self.mapped {
            try await self.store.file(new, institution: institution, by: self.actor(principal, context))
        }
        if studies.isEmpty {
            try await ReadingLinker(store: store, archive: archive, logger: logger).linkWaitingStudies(institution: institution)
        }
        let current = try await Self.mapped { try await self.store.request(id: filed.id) } ?? filed
        var object = describe(current)
        if !uploads.isEmpty {
            var attached: [[String: Any]] = []
            for upload in uploads {
                attached.append(Self.describe(try await attach(upload, to: current, principal: principal, context: context)))
            }
            object["attachments"] = attached
        }
        return Self.json(object, status: .created)
    }

    func describeRequest(_ context: AtriumRequestContext) async throws -> Response {
        let (principal, request) = try await visibleRequest(context, action: .viewRequest)
        await store.recordView(request, by: actor(principal, context), what: "request")
        var object = describe(request)
        let items = try await Self.mapped { try await self.store.workItems(requestID: request.id) }
        let reports = try await Self.mapped { try await self.store.reports(requestID: request.id) }
        let events = try await Self.mapped { try await self.store.events(requestID: request.id) }
        let critical = try await Self.mapped { try await self.store.criticalResults(requestID: request.id) }
        object["workItems"] = items.map(Self.describe)
        // A site sees signed versions only, never a reader's draft.
        let reader = principal.has(.reader) || principal.has(.admin)
        object["reports"] = reports.map { report -> [String: Any] in
            var described = Self.describe(report)
            if !reader && !report.status.isSigned && report.status != .preliminary { described["sections"] = [] }
            return described
        }
        object["events"] = events.map { ["time": ReadingFormat.iso($0.time), "kind": $0.kind, "actor": $0.actor, "detail": $0.detail] }
        object["criticalResults"] = critical.map(Self.describe)
        return Self.json(object)
    }

    func describe(_ request: ConsultationRequest) -> [String: Any] {
        let now = store.now
        return [
            "id": request.id, "serviceLine": request.serviceLine.rawValue, "priority": request.priority.rawValue,
            "status": request.status.rawValue, "institution": request.institutionCode, "requestedBy": request.requestedBy,
            "referringPhysician": request.referringPhysician, "clinicalHistory": request.clinicalHistory, "question": request.question,
            "accessionNumber": request.accessionNumber, "modality": request.modality, "bodyPart": request.bodyPart,
            "patientName": request.patientName, "patientID": request.patientID, "studies": request.studies,
            "createdAt": ReadingFormat.iso(request.createdAt), "deadline": ReadingFormat.iso(request.deadline),
            "secondsLeft": Int(request.secondsLeft(at: now).rounded(.down)),
        ]
    }

    static func describe(_ item: WorkItem) -> [String: Any] {
        [
            "id": item.id, "uid": item.uid, "requestID": item.requestID, "kind": item.kind.rawValue, "state": item.state.rawValue,
            "owner": item.owner ?? NSNull(), "ownerName": item.ownerName ?? NSNull(), "leaseUntil": iso(item.leaseUntil),
            "claimedAt": iso(item.claimedAt), "completedAt": iso(item.completedAt), "assignee": item.assignee ?? NSNull(),
        ]
    }

    static func describe(_ profile: ReaderProfile) -> [String: Any] {
        [
            "username": profile.username, "canSign": profile.canSign, "senior": profile.senior, "onDuty": profile.onDuty,
            "serviceLines": ServiceLine.allCases.filter { profile.serviceLines.contains($0) }.map(\.rawValue),
        ]
    }

    /// A rule as the administrators' API sends it.
    static func rule(_ body: [String: Any]) throws -> AssignmentRule {
        guard let line = ServiceLine(rawValue: body["serviceLine"] as? String ?? "imaging") else {
            throw HTTPError(.badRequest, message: "serviceLine is imaging, pathology or laboratory")
        }
        let priorityText = body["priority"] as? String ?? ""
        guard priorityText.isEmpty || Priority(rawValue: priorityText) != nil else {
            throw HTTPError(.badRequest, message: "priority is routine, urgent, stat or empty (any)")
        }
        return AssignmentRule(
            serviceLine: line, priority: Priority(rawValue: priorityText), modality: body["modality"] as? String ?? "",
            readers: body["readers"] as? [String] ?? [], openCap: body["openCap"] as? Int ?? 10,
            doubleReading: body["doubleReading"] as? Bool ?? false)
    }

    static func describe(_ rule: AssignmentRule) -> [String: Any] {
        [
            "id": rule.id, "serviceLine": rule.serviceLine.rawValue, "priority": rule.priority?.rawValue ?? "", "modality": rule.modality,
            "readers": rule.readers, "openCap": rule.openCap, "doubleReading": rule.doubleReading,
        ]
    }

    static func describe(_ report: Report) -> [String: Any] {
        [
            "id": report.id, "requestID": report.requestID, "workItemID": report.workItemID, "status": report.status.rawValue,
            "author": report.author, "authorName": report.authorName, "signedVersion": report.signedVersion,
            "sections": report.sections.map { ["kind": $0.kind, "title": $0.title, "text": $0.text] },
            "draftSavedAt": iso(report.draftSavedAt), "updatedAt": ReadingFormat.iso(report.updatedAt),
        ]
    }

    static func describe(_ version: ReportVersion) -> [String: Any] {
        [
            "version": version.version, "kind": version.kind.rawValue, "text": version.text,
            "sections": version.sections.map { ["kind": $0.kind, "title": $0.title, "text": $0.text] },
            "signedBy": version.signedBy, "signedByName": version.signedByName, "signedAt": ReadingFormat.iso(version.signedAt),
        ]
    }

    static func describe(_ result: CriticalResult) -> [String: Any] {
        [
            "id": result.id, "requestID": result.requestID, "finding": result.finding, "flaggedBy": result.flaggedBy,
            "flaggedByName": result.flaggedByName, "flaggedAt": ReadingFormat.iso(result.flaggedAt), "channel": result.channel,
            "acknowledgedBy": result.acknowledgedBy ?? NSNull(), "acknowledgedAt": iso(result.acknowledgedAt),
            "escalatedAt": iso(result.escalatedAt), "escalations": result.escalations,
        ]
    }

    static func describe(_ notice: ReadingNotification) -> [String: Any] {
        [
            "id": notice.id, "kind": notice.kind, "requestID": notice.requestID, "createdAt": ReadingFormat.iso(notice.createdAt),
            "read": notice.readAt != nil,
        ]
    }

    static func describe(_ document: ReportDocument) -> [String: Any] {
        [
            "reportID": document.reportID, "version": document.version, "status": document.status.rawValue,
            "studyInstanceUID": document.study.studyInstanceUID, "author": document.author, "verifier": document.verifier ?? NSNull(),
            "verifiedAt": iso(document.verifiedAt), "readingInstitution": document.readingInstitution,
            "sections": document.sections.map { ["kind": $0.kind, "title": $0.title, "text": $0.text] },
            "addenda": document.addenda.map { ["text": $0.text, "author": $0.author, "signedAt": ReadingFormat.iso($0.signedAt)] },
            "criticalResults": document.criticalResults,
        ]
    }

    // MARK: - Worklist

    static func filter(_ request: Request) throws -> WorklistFilter {
        var filter = WorklistFilter()
        func value(_ name: String) -> String? {
            guard let raw = request.uri.queryParameters[Substring(name)] else { return nil }
            let text = String(raw).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(raw)
            return text.isEmpty ? nil : text
        }
        if let status = value("status") {
            let states = status.split(separator: ",").compactMap { WorkItemState(rawValue: String($0).uppercased()) }
            guard !states.isEmpty else { throw HTTPError(.badRequest, message: "status is SCHEDULED, IN PROGRESS, COMPLETED or CANCELED") }
            filter.states = Set(states)
        }
        if let priority = value("priority") {
            guard let p = Priority(rawValue: priority) else { throw HTTPError(.badRequest, message: "priority is routine, urgent or stat") }
            filter.priority = p
        }
        filter.modality = value("modality")
        filter.bodyPart = value("bodyPart")
        filter.institution = value("institution")
        filter.owner = value("owner")
        if let limit = value("limit").flatMap({ Int($0) }) { filter.limit = max(1, min(limit, 1000)) }
        return filter
    }

    func worklist(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.signedIn(context)
        try Self.require(.viewWorklist, principal, institution: nil)
        var filter = try Self.filter(request)
        if principal.has(.reader) {
            filter.serviceLines = try await Self.mapped { try await self.store.profile(username: principal.username) }.serviceLines
        }
        let entries = try await Self.mapped { try await self.store.worklist(filter) }
        let counts = try await Self.mapped { try await self.store.worklistCounts(filter) }
        let now = store.now
        let levels = store.settings.serviceLevels
        let answer = WorklistJSON(
            now: ReadingFormat.iso(now),
            entries: entries.map { entry in
                WorklistJSON.Entry(
                    request: RequestJSON(entry.request, now: now), workItem: WorkItemJSON(entry.item),
                    reportStatus: entry.reportStatus?.rawValue, timeLeft: Self.timeLeftClass(entry.request, now: now, levels: levels))
            },
            counts: WorklistJSON.Counts(
                total: counts.total,
                priority: Dictionary(uniqueKeysWithValues: Priority.allCases.map { ($0.rawValue, counts.byPriority[$0] ?? 0) }),
                state: Dictionary(uniqueKeysWithValues: WorkItemState.allCases.map { ($0.rawValue, counts.byState[$0] ?? 0) })))
        return Self.json(encoded: try answer.encoded())
    }

    /// The colour class of the time left: `overdue`, `due-soon` (less than a quarter of the allowed time), or `on-time`.
    static func timeLeftClass(_ request: ConsultationRequest, now: Date, levels: ServiceLevels) -> String {
        let left = request.secondsLeft(at: now)
        if left < 0 { return "overdue" }
        if left < levels.seconds(for: request.priority) / 4 { return "due-soon" }
        return "on-time"
    }

    func lock(_ verb: String, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.signedIn(context)
        let id = try Self.id(context)
        let action: ReadingAction = verb == "break" ? .breakLock : (verb == "release" ? .release : .claim)
        let profile = try await Self.mapped { try await self.store.profile(username: principal.username) }
        try Self.require(action, principal, profile: profile, institution: nil)
        let by = actor(principal, context)
        let item = try await Self.mapped { () async throws -> WorkItem in
            switch verb {
            case "claim": return try await self.store.claim(itemID: id, by: by)
            case "renew": return try await self.store.renew(itemID: id, by: by)
            case "release": return try await self.store.release(itemID: id, by: by)
            default: return try await self.store.breakLock(itemID: id, by: by)
            }
        }
        var object = Self.describe(item)
        if verb == "claim" || verb == "renew" {
            let report = try await Self.mapped { try await self.store.reports(requestID: item.requestID) }.first {
                $0.workItemID == item.id
            }
            object["reportID"] = report?.id ?? NSNull()
        }
        return Self.json(object)
    }

    /// `GET /api/worklist/events`: Server-Sent Events, one `change` event per claim, release, signature… as it happens
    /// (a site user's stream carries only its own institution's), and a comment every 15 s that keeps proxies open.
    func events(_ context: AtriumRequestContext) throws -> Response {
        let principal = try Self.signedIn(context)
        let scope = try Self.listScope(principal)
        let stream = store.changes.subscribe()
        let body = ResponseBody { writer in
            let (lines, continuation) = AsyncStream.makeStream(of: String.self)
            let forward = Task {
                for await change in stream where scope == nil || change.institutionCode == scope {
                    let object: [String: Any] = [
                        "kind": change.kind, "requestID": change.requestID, "workItemID": change.workItemID ?? NSNull(),
                        "actor": change.actor,
                    ]
                    let data =
                        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).map {
                            String(decoding: $0, as: UTF8.self)
                        } ?? "{}"
                    continuation.yield("event: change\ndata: \(data)\n\n")
                }
                continuation.finish()
            }
            let keepAlive = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(15))
                    continuation.yield(": keep-alive\n\n")
                }
            }
            defer {
                forward.cancel()
                keepAlive.cancel()
            }
            // A graceful shutdown ends the stream (browsers reconnect to the next server by themselves).
            try await withGracefulShutdownHandler {
                try await writer.write(ByteBuffer(string: "retry: 1000\n: connected\n\n"))
                for await line in lines { try await writer.write(ByteBuffer(string: line)) }
            } onGracefulShutdown: {
                continuation.finish()
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store", .init("X-Accel-Buffering")!: "no"],
            body: body)
    }

    // MARK: - Reports

    func describeReport(_ context: AtriumRequestContext) async throws -> Response {
        let (principal, report, request) = try await visibleReport(context)
        await store.recordView(request, by: actor(principal, context), what: "report \(report.id)")
        var object = Self.describe(report)
        let reader = principal.has(.reader) || principal.has(.admin)
        if !reader && report.status == .draft { object["sections"] = [] }
        object["versions"] = try await Self.mapped { try await self.store.versions(reportID: report.id) }.map(Self.describe)
        object["request"] = describe(request)
        if let item = try await Self.mapped({ try await self.store.workItem(id: report.workItemID) }) {
            object["workItem"] = Self.describe(item)
        }
        object["criticalResults"] = try await Self.mapped { try await self.store.criticalResults(requestID: request.id) }.map(Self.describe)
        let template = ReportTemplates.template(modality: request.modality, bodyPart: request.bodyPart)
        object["template"] = template.id
        object["phrases"] = Dictionary(template.sections.map { ($0.kind, $0.phrases) }, uniquingKeysWith: { a, b in a + b })
        return Self.json(object)
    }

    static func sections(_ body: [String: Any]) throws -> [ReportSection] {
        guard let list = body["sections"] as? [[String: Any]] else { throw HTTPError(.badRequest, message: "sections is a list") }
        let sections = list.map {
            ReportSection(kind: $0["kind"] as? String ?? "other", title: $0["title"] as? String ?? "", text: $0["text"] as? String ?? "")
        }
        guard sections.count <= 20, sections.allSatisfy({ $0.text.count <= 50_000 && $0.title.count <= 200 }) else {
            throw HTTPError(.badRequest, message: "at most 20 sections of at most 50000 characters")
        }
        return sections
    }

    func write(_ what: String, _ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, report, _) = try await visibleReport(context)
        let body = try await Self.body(request)
        let profile = try await Self.mapped { try await self.store.profile(username: principal.username) }
        let by = actor(principal, context)
        let updated: Report
        switch what {
        case "draft":
            try Self.require(.writeReport, principal, profile: profile, institution: nil)
            let sections = try Self.sections(body)
            updated = try await Self.mapped { try await self.store.saveDraft(reportID: report.id, sections: sections, by: by) }
        case "preliminary":
            try Self.require(.writeReport, principal, profile: profile, institution: nil)
            let sections = try Self.sections(body)
            updated = try await Self.mapped { try await self.store.preliminary(reportID: report.id, sections: sections, by: by) }
        default:
            try Self.require(what == "sign" ? .sign : .addendum, principal, profile: profile, institution: nil)
            // Signing asks for the password again (the signature is the person's, not the open session's).
            guard let personID = principal.userID,
                try await identity.confirmPassword(personID: personID, password: body["password"] as? String ?? "")
            else {
                await store.audit.record(
                    AuditEvent(
                        eventID: .securityAlert, eventType: .useOfRestrictedFunction, action: .execute, outcome: .minorFailure,
                        user: principal.username, sourceAddress: by.sourceAddress,
                        detail: "report \(report.id): \(what) refused, wrong password"))
                throw HTTPError(.forbidden, message: "the password is wrong")
            }
            if what == "sign" {
                let sections = try Self.sections(body)
                updated = try await Self.mapped { try await self.store.sign(reportID: report.id, sections: sections, by: by) }
            } else {
                updated = try await Self.mapped {
                    try await self.store.addendum(reportID: report.id, text: body["text"] as? String ?? "", by: by)
                }
            }
            // The documents of the new version (the SR next to the study): now, and again by the maintenance loop if this fails.
            await documents.storePending(reportID: report.id)
        }
        return Self.json(Self.describe(updated))
    }
}
