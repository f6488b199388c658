import Archive
import DICOM
import Foundation
import Hummingbird
import Logging
import NIOCore
import Platform
import Reading

/// The consultation pages: the sites' requests and the request form, a request's page, the readers' worklist, the
/// reporting page (viewer beside the report pane) and the printable report. The pages render what the person may see;
/// their scripts (`static/js/reading.js`) talk to ``ReadingRoutes``.
struct ReadingPages: Sendable {
    let views: WebViews
    let store: ReadingStore
    let archive: Archive
    let documents: ReportDocuments
    let logger: Logger
    /// For one's own e-mail address on the consultations page.
    let identity: IdentityStore?

    init(views: WebViews, store: ReadingStore, archive: Archive, identity: IdentityStore? = nil, logger: Logger) {
        self.identity = identity
        self.views = views
        self.store = store
        self.archive = archive
        self.documents = ReportDocuments(store: store, archive: archive, logger: logger)
        self.logger = logger
    }

    func register(on router: Router<AtriumRequestContext>) {
        router.get("/consultations") { request, context in try await self.list(request, context) }
        router.get("/consultations/new") { request, context in try await self.form(request, context) }
        router.get("/consultations/:id") { request, context in try await self.detail(request, context) }
        router.get("/worklist") { request, context in try await self.worklist(request, context) }
        router.get("/reports/:id") { request, context in try await self.reporting(request, context) }
        router.get("/reports/:id/print") { request, context in try await self.print(request, context) }
        router.get("/admin/reading-rules") { request, context in try await self.rules(request, context) }
    }

    /// Assignment and double-reading rules and the on-duty roster, for administrators (`/admin` is theirs only; the
    /// page's script changes them through `/api/admin/reading-rules` and `/api/admin/reader-profiles`).
    func rules(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try principal(context)
        guard principal.has(.admin) else { return forbidden(request, context) }
        let rules = try await ReadingRoutes.mapped { try await self.store.assignmentRules() }
        let readers = try await ReadingRoutes.mapped { try await self.store.assignmentCandidates() }
        func lineLabel(_ line: ServiceLine) -> String { text("reading.serviceLine.\(line.rawValue)", request, context) }
        let data: [String: Any] = [
            "rules": rules.map { rule -> [String: Any] in
                [
                    "id": rule.id, "serviceLine": rule.serviceLine.rawValue, "serviceLineLabel": lineLabel(rule.serviceLine),
                    "priority": rule.priority?.rawValue ?? "",
                    "priorityLabel": rule.priority.map { text("reading.priority.\($0.rawValue)", request, context) }
                        ?? text("reading.rules.any", request, context),
                    "modality": rule.modality, "readers": rule.readers.joined(separator: ","),
                    "readersLabel": rule.readers.isEmpty ? "—" : rule.readers.joined(separator: ", "), "openCap": rule.openCap,
                    "doubleReading": rule.doubleReading,
                ]
            },
            "readers": readers.map { reader -> [String: Any] in
                [
                    "username": reader.username, "onDuty": reader.onDuty, "open": reader.open,
                    "lines": ServiceLine.allCases.filter(reader.serviceLines.contains).map(lineLabel).joined(separator: ", "),
                ]
            },
            "serviceLines": ServiceLine.allCases.map { ["code": $0.rawValue, "label": lineLabel($0)] },
            "priorities": priorities(request, context, first: .stat),
            "stringsJSON": stringsJSON(language(request, context)),
        ]
        return views.page(
            "reading-rules", title: text("reading.rules.title", request, context), section: .admin, data: data, request: request,
            context: context)
    }

    func language(_ request: Request, _ context: AtriumRequestContext) -> InterfaceLanguage {
        WebViews.language(request: request, context: context)
    }

    func text(_ key: String, _ request: Request, _ context: AtriumRequestContext) -> String {
        views.locales.text(key, language(request, context))
    }

    /// The `reading.*` strings of the page's language as JSON, for the scripts.
    func stringsJSON(_ language: InterfaceLanguage) -> String {
        guard case .group(let groups) = views.locales.tables[language], let reading = groups["reading"] else { return "{}" }
        let flat = reading.flattened()
        let data = (try? JSONSerialization.data(withJSONObject: flat, options: [.sortedKeys])) ?? Data("{}".utf8)
        // Safe inside <script>: no "</" can close the element.
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "</", with: "<\\/")
    }

    static func timeLeft(_ seconds: Double, open: Bool, overdue: String) -> String {
        guard open else { return "—" }
        let magnitude = Int(abs(seconds))
        let text = magnitude >= 3600 ? "\(magnitude / 3600) h \(magnitude % 3600 / 60) min" : "\(magnitude / 60) min \(magnitude % 60) s"
        return seconds < 0 ? "\(overdue) \(text)" : text
    }

    static func local(_ date: Date) -> String { ReadingFormat.local(date) }

    func row(_ r: ConsultationRequest, _ request: Request, _ context: AtriumRequestContext) -> [String: Any] {
        let now = store.now
        return [
            "id": r.id, "priority": r.priority.rawValue, "priorityLabel": text("reading.priority.\(r.priority.rawValue)", request, context),
            "status": r.status.rawValue, "statusLabel": text("reading.status.\(r.status.rawValue)", request, context),
            "patientName": DisplayFormat.personName(r.patientName, WebViews.language(request: request, context: context)),
            "patientID": r.patientID, "modality": r.modality,
            "bodyPart": r.bodyPart, "institution": r.institutionCode, "createdAt": Self.local(r.createdAt),
            "deadline": ReadingFormat.iso(r.deadline), "open": r.status.isOpen,
            "timeLeft": Self.timeLeft(
                r.secondsLeft(at: now), open: r.status.isOpen, overdue: text("reading.message.overdue", request, context)),
            "timeClass": r.status.isOpen ? ReadingRoutes.timeLeftClass(r, now: now, levels: store.settings.serviceLevels) : "closed",
            "question": r.question, "clinicalHistory": r.clinicalHistory, "referringPhysician": r.referringPhysician,
            "accessionNumber": r.accessionNumber, "studies": r.studies,
        ]
    }

    func priorities(_ request: Request, _ context: AtriumRequestContext, first: Priority) -> [[String: Any]] {
        ([first] + Priority.allCases.filter { $0 != first }).map {
            ["code": $0.rawValue, "label": text("reading.priority.\($0.rawValue)", request, context)]
        }
    }

    func principal(_ context: AtriumRequestContext) throws -> Principal {
        guard let principal = context.principal else { throw HTTPError(.unauthorized) }
        return principal
    }

    func forbidden(_ request: Request, _ context: AtriumRequestContext) -> Response {
        views.page(
            "notfound", title: text("errors.notFound", request, context), section: .home, data: [:], request: request, context: context,
            status: .notFound)
    }

    // MARK: - Pages

    func list(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try principal(context)
        let scope = try ReadingRoutes.listScope(principal)
        try await ReadingLinker(store: store, archive: archive, logger: logger).linkWaitingStudies(institution: scope)
        let requests = try await ReadingRoutes.mapped { try await self.store.requests(institution: scope) }
        var data: [String: Any] = [
            "requests": requests.map { row($0, request, context) }, "empty": requests.isEmpty, "scope": scope ?? "",
            "canRequest": ReadingAccess.decide(.request, principal: principal).allowed,
            "stringsJSON": stringsJSON(language(request, context)),
        ]
        if let identity, let id = principal.userID { data["myEmail"] = (try? await identity.email(personID: id)) ?? "" }
        do {
            // A site user sees its institution's notices; everyone sees those addressed to them (second opinions, acknowledgements).
            let notices = try await ReadingRoutes.mapped {
                try await self.store.notifications(
                    username: principal.username, institution: principal.has(.site) ? scope : nil, unreadOnly: false, limit: 10)
            }
            data["notices"] = notices.map {
                [
                    "kind": $0.kind, "requestID": $0.requestID, "time": Self.local($0.createdAt),
                    "label": text("reading.notice.\($0.kind)", request, context),
                ] as [String: Any]
            }
            data["hasNotices"] = !notices.isEmpty
        }
        return views.page(
            "consultations", title: text("reading.title.consultations", request, context), section: .consultations, data: data,
            request: request, context: context)
    }

    func form(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try principal(context)
        guard ReadingAccess.decide(.request, principal: principal).allowed, let institution = principal.institutionCode else {
            return forbidden(request, context)
        }
        let studies = try await StudySummary.search(archive, [], institution: institution, limit: 200)
        let data: [String: Any] = [
            "studies": studies.map {
                [
                    "uid": $0.studyInstanceUID,
                    "patientName": DisplayFormat.personName($0.patientName, WebViews.language(request: request, context: context)),
                    "patientID": $0.patientID,
                    "date": DisplayFormat.date($0.studyDate), "modality": $0.modality, "bodyPart": $0.bodyPart,
                    "accession": $0.accessionNumber,
                    "description": $0.studyDescription,
                ]
            },
            "noStudies": studies.isEmpty, "stringsJSON": stringsJSON(language(request, context)),
            "priorities": priorities(request, context, first: .routine),
            "serviceLines": ServiceLine.allCases.map {
                ["code": $0.rawValue, "label": text("reading.serviceLine.\($0.rawValue)", request, context)]
            },
        ]
        return views.page(
            "consultation-new", title: text("reading.title.new", request, context), section: .consultations, data: data, request: request,
            context: context)
    }

    func detail(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try principal(context)
        guard let id = Int64(try context.parameters.require("id")),
            let consultation = try await ReadingRoutes.mapped({ try await self.store.request(id: id) }),
            ReadingAccess.decide(.viewRequest, principal: principal, requestInstitution: consultation.institutionCode).allowed
        else { return forbidden(request, context) }
        let actor = ReadingActor(
            username: principal.username, displayName: principal.displayName, sourceAddress: context.remoteAddress?.ipAddress ?? "")
        await store.recordView(consultation, by: actor, what: "request")
        let reports = try await ReadingRoutes.mapped { try await self.store.reports(requestID: id) }
        let events = try await ReadingRoutes.mapped { try await self.store.events(requestID: id) }
        let critical = try await ReadingRoutes.mapped { try await self.store.criticalResults(requestID: id) }
        let reader = principal.has(.reader)
        var reportRows: [[String: Any]] = []
        for report in reports {
            let versions = try await ReadingRoutes.mapped { try await self.store.versions(reportID: report.id) }
            let signed = versions.last { $0.kind != .addendum }
            var row: [String: Any] = [
                "id": report.id, "status": report.status.rawValue, "canOpen": reader,
                "canReview": report.status.isSigned && ReadingAccess.decide(.peerReview, principal: principal).allowed,
                "scores": RADPEERScore.allCases.map {
                    ["code": $0.rawValue, "label": text("reading.peer.score.\($0.rawValue)", request, context)]
                },
            ]
            if let signed {
                row["signed"] =
                    [
                        "id": report.id, "sections": signed.sections.map { ["title": $0.title, "text": $0.text] },
                        "signer": signed.signedByName, "signedAt": Self.local(signed.signedAt),
                        "addenda": versions.filter { $0.kind == .addendum }.map {
                            ["text": $0.text, "signedByName": $0.signedByName, "signedAt": Self.local($0.signedAt)]
                        },
                    ] as [String: Any]
                await store.recordView(consultation, by: actor, what: "report \(report.id)")
            }
            reportRows.append(row)
        }
        let canAcknowledge = ReadingAccess.decide(
            .acknowledgeCritical, principal: principal, requestInstitution: consultation.institutionCode
        )
        .allowed
        let attachments = await ReadingRoutes.visibleAttachments(store, principal, consultation)
        var requestRow = row(consultation, request, context)
        if consultation.serviceLine == .laboratory { requestRow["labHref"] = "/lab/consultations/\(consultation.id)" }
        // Whole-slide series of the request's studies open in the slide viewer (for the site as for the readers).
        var slides: [[String: Any]] = []
        for study in consultation.studies {
            guard let held = try await ReportDocument.Study.fromArchive(archive, studyInstanceUID: study) else { continue }
            for series in held.series where series.modality == "SM" {
                slides.append([
                    "href": "/slide-viewer?series=\(series.seriesInstanceUID)", "series": series.seriesInstanceUID,
                    "number": series.seriesNumber.map(String.init) ?? "",
                ])
            }
        }
        requestRow["slides"] = slides
        requestRow["hasSlides"] = !slides.isEmpty
        requestRow["canWithdraw"] =
            consultation.status == .requested
            && ReadingAccess.decide(.withdraw, principal: principal, requestInstitution: consultation.institutionCode).allowed
        let data: [String: Any] = [
            "request": requestRow,
            "reports": reportRows,
            "events": events.map { ["time": Self.local($0.time), "kind": $0.kind, "actor": $0.actor] },
            "critical": critical.map { c -> [String: Any] in
                var row: [String: Any] = [
                    "id": c.id, "finding": c.finding, "flaggedByName": c.flaggedByName, "flaggedAt": Self.local(c.flaggedAt),
                    "canAcknowledge": canAcknowledge,
                ]
                if let by = c.acknowledgedBy, let at = c.acknowledgedAt {
                    row["acknowledgedBy"] = by
                    row["acknowledgedAt"] = Self.local(at)
                }
                return row
            },
            "hasCritical": !critical.isEmpty,
            "attachments": attachments ?? [], "showAttachments": attachments != nil,
            "canAttach": ReadingAccess.decide(.attach, principal: principal, requestInstitution: consultation.institutionCode).allowed,
            "stringsJSON": stringsJSON(language(request, context)),
        ]
        return views.page(
            "consultation", title: "#\(id) · " + text("reading.title.request", request, context), section: .consultations, data: data,
            request: request, context: context)
    }

    func worklist(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try principal(context)
        guard ReadingAccess.decide(.viewWorklist, principal: principal).allowed else { return forbidden(request, context) }
        try await ReadingLinker(store: store, archive: archive, logger: logger).linkWaitingStudies(institution: nil)
        let profile = try await ReadingRoutes.mapped { try await self.store.profile(username: principal.username) }
        let data: [String: Any] = [
            "me": principal.username,
            "priorities": priorities(request, context, first: .stat),
            "states": [
                [
                    "code": "SCHEDULED,IN PROGRESS",
                    "label": text("reading.state.SCHEDULED", request, context) + " + "
                        + text("reading.state.IN_PROGRESS", request, context),
                ],
                ["code": "SCHEDULED", "label": text("reading.state.SCHEDULED", request, context)],
                ["code": "IN PROGRESS", "label": text("reading.state.IN_PROGRESS", request, context)],
                ["code": "COMPLETED", "label": text("reading.state.COMPLETED", request, context)],
                ["code": "CANCELED", "label": text("reading.state.CANCELED", request, context)],
            ],
            "senior": ReadingAccess.decide(.breakLock, principal: principal, profile: profile).allowed,
            "isAdmin": principal.has(.admin),
            "stringsJSON": stringsJSON(language(request, context)),
        ]
        return views.page(
            "worklist", title: text("reading.title.worklist", request, context), section: .worklist, data: data, request: request,
            context: context)
    }

    func reporting(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try principal(context)
        guard ReadingAccess.decide(.writeReport, principal: principal).allowed, let id = Int64(try context.parameters.require("id")),
            let report = try await ReadingRoutes.mapped({ try await self.store.report(id: id) }),
            let consultation = try await ReadingRoutes.mapped({ try await self.store.request(id: report.requestID) })
        else { return forbidden(request, context) }
        let profile = try await ReadingRoutes.mapped { try await self.store.profile(username: principal.username) }
        let study = consultation.studies.first ?? ""
        // The study's images, to pick key images for teaching from.
        var images: [[String: Any]] = []
        var viewerHref = study.isEmpty ? "about:blank" : "/viewer?study=\(study)"
        if !study.isEmpty, let held = try await ReportDocument.Study.fromArchive(archive, studyInstanceUID: study) {
            // A pathology study is read in the slide viewer, on its first whole-slide (SM) series.
            if let slides = held.series.first(where: { $0.modality == "SM" }) {
                viewerHref = "/slide-viewer?series=\(slides.seriesInstanceUID)"
            }
            for series in held.series {
                for instance in series.instances {
                    images.append([
                        "uid": instance.sopInstanceUID, "series": series.seriesNumber.map(String.init) ?? "",
                        "number": instance.instanceNumber.map(String.init) ?? "", "modality": series.modality,
                    ])
                }
            }
        }
        let attachments = await ReadingRoutes.visibleAttachments(store, principal, consultation) ?? []
        let data: [String: Any] = [
            "attachments": attachments, "hasAttachments": !attachments.isEmpty,
            "reportID": report.id, "itemID": report.workItemID, "requestID": consultation.id,
            "status": report.status.rawValue,
            "statusLabel": text("reading.status.\(ReadingTransitions.requestStatus(for: report.status).rawValue)", request, context),
            "request": row(consultation, request, context),
            // A laboratory consultation shows its result set (values, intervals, flags, history charts) where images go.
            "viewerHref": consultation.serviceLine == .laboratory ? "/lab/consultations/\(consultation.id)" : viewerHref,
            "canSign": ReadingAccess.decide(.sign, principal: principal, profile: profile).allowed,
            "images": images.prefix(500).map { $0 }, "hasImages": !images.isEmpty,
            "stringsJSON": stringsJSON(language(request, context)),
        ]
        return views.page(
            "report", title: text("reading.title.report", request, context), section: .worklist, data: data, request: request,
            context: context)
    }

    func print(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try principal(context)
        guard let id = Int64(try context.parameters.require("id")),
            let report = try await ReadingRoutes.mapped({ try await self.store.report(id: id) }),
            let consultation = try await ReadingRoutes.mapped({ try await self.store.request(id: report.requestID) }),
            ReadingAccess.decide(.viewReport, principal: principal, requestInstitution: consultation.institutionCode).allowed
        else { return forbidden(request, context) }
        let document: ReportDocument
        do {
            document = try await documents.document(reportID: id, version: nil)
        } catch {
            return forbidden(request, context)
        }
        await store.recordView(
            consultation,
            by: ReadingActor(
                username: principal.username, displayName: principal.displayName, sourceAddress: context.remoteAddress?.ipAddress ?? ""),
            what: "printed report \(id)")
        let language = language(request, context)
        func strings(_ language: InterfaceLanguage) -> [String: String] {
            let keys = [
                "header": "reading.print.header", "footer": "reading.print.footer", "signature": "reading.print.signature",
                "patient": "reading.field.patient", "patientID": "reading.field.patientID", "institution": "reading.field.institution",
                "priority": "reading.field.priority", "modality": "reading.field.modality", "studyDate": "reading.field.studyDate",
                "referringPhysician": "reading.field.referringPhysician", "question": "reading.field.question",
                "criticalResults": "reading.field.criticalResults", "author": "reading.field.author", "signedBy": "reading.field.signedBy",
                "signedAt": "reading.field.signedAt", "addendum": "reading.field.addendum", "print": "reading.action.print",
                "accession": "studies.accession",
            ]
            return keys.mapValues { views.locales.text($0, language) }
        }
        let data: [String: Any] = [
            "lang": language.rawValue, "assetVersion": views.assets.version, "t": views.locales.table(language),
            "zh": strings(.chinese), "en": strings(.english), "requestID": consultation.id,
            "readingInstitution": document.readingInstitution,
            "patientName": DisplayFormat.personName(document.study.patientName, language),
            "patientID": document.study.patientID, "institution": consultation.institutionCode,
            "priority": views.locales.text("reading.priority.\(consultation.priority.rawValue)", .chinese) + " / "
                + views.locales.text("reading.priority.\(consultation.priority.rawValue)", .english),
            "modality": document.study.modalities.joined(separator: ", "), "studyDate": DisplayFormat.date(document.study.studyDate),
            "referringPhysician": consultation.referringPhysician, "accessionNumber": document.study.accessionNumber ?? "",
            "question": consultation.question,
            "sections": document.sections.filter { !$0.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }.map {
                ["title": $0.title, "text": $0.text]
            },
            "criticalResults": document.criticalResults, "hasCritical": !document.criticalResults.isEmpty,
            "author": document.author, "verifier": document.verifier ?? "", "verifiedAt": document.verifiedAt.map(Self.local) ?? "",
            "status": document.status.rawValue, "version": document.version,
            "addenda": document.addenda.map { ["text": $0.text, "author": $0.author, "signedAt": Self.local($0.signedAt)] },
        ]
        let html = views.library.render(data, withTemplate: "report-print") ?? ""
        return Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
