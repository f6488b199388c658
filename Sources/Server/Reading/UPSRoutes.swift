import Archive
import DICOM
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import Platform
import Reading

/// UPS-RS, the Worklist Service of PS3.18 chapter 11, over the consultation work items (PS3.4 Annex CC): create,
/// search, retrieve, update, change state, request cancellation, subscriptions, and event reports over a WebSocket at
/// `/dicom-web/ws/subscribers/{AETitle}`. The bearer token is DICOMweb's (``AccessPolicy``); then each action is checked
/// against the consultation's role × action table (``ReadingAccess``). See docs/conformance.md.
public struct UPSRoutes: Sendable {
    let store: ReadingStore
    let archive: Archive
    let address: PublicAddress
    let events: UPSEventChannel
    let logger: Logger
    static let prefix = "/dicom-web/workitems"
    static let warning = HTTPField.Name("Warning")!

    public init(store: ReadingStore, archive: Archive, address: PublicAddress, events: UPSEventChannel, logger: Logger) {
        self.store = store
        self.archive = archive
        self.address = address
        self.events = events
        self.logger = logger
    }

    public func register(on router: Router<AtriumRequestContext>) {
        let p = Self.prefix
        router.post(RouterPath(p)) { request, context in try await self.create(request, context) }
        router.get(RouterPath(p)) { request, context in try await self.search(request, context) }
        router.get(RouterPath(p + "/:uid")) { _, context in try await self.retrieve(context) }
        router.post(RouterPath(p + "/:uid")) { request, context in try await self.update(request, context) }
        router.put(RouterPath(p + "/:uid/state")) { request, context in try await self.changeState(request, context) }
        router.post(RouterPath(p + "/:uid/cancelrequest")) { request, context in try await self.cancelRequest(request, context) }
        router.post(RouterPath(p + "/:uid/subscribers/:ae")) { request, context in try await self.subscribe(request, context) }
        router.delete(RouterPath(p + "/:uid/subscribers/:ae")) { _, context in try await self.unsubscribe(context) }
        router.post(RouterPath(p + "/:uid/subscribers/:ae/suspend")) { _, context in try await self.suspend(context) }
        // A plain GET of the event channel (no upgrade) is told what to do.
        router.get("/dicom-web/ws/subscribers/:ae") { _, context -> Response in
            let principal = try Self.principal(context)
            guard principal.has(.reader) || principal.has(.admin) else {
                throw HTTPError(.forbidden, message: "UPS event channels are for readers and administrators")
            }
            throw HTTPError(.upgradeRequired, headers: [.upgrade: "websocket"], message: "open this URL as a WebSocket")
        }
    }

    /// The event channel (PS3.18 11.x Open Event Channel): readers and administrators, one or more per AE title.
    public func registerWebSocket(on router: Router<AtriumRequestContext>) {
        router.ws("/dicom-web/ws/subscribers/:ae") { _, context in
            guard let principal = context.principal, principal.has(.reader) || principal.has(.admin) else {
                throw HTTPError(.forbidden, message: "UPS event channels are for readers and administrators")
            }
            guard let ae = context.parameters.get("ae"), UPSSubscription.validAETitle(ae) else {
                throw HTTPError(.badRequest, message: "the path names an AE title")
            }
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            let ae = context.requestContext.parameters.get("ae") ?? ""
            await self.events.serve(aeTitle: ae, inbound: inbound, outbound: outbound)
        }
    }

    // MARK: - Helpers

    static func principal(_ context: AtriumRequestContext) throws -> Principal {
        guard let principal = context.principal else { throw HTTPError(.unauthorized, message: "send Authorization: Bearer") }
        return principal
    }

    func actor(_ principal: Principal, _ context: AtriumRequestContext) -> ReadingActor {
        ReadingActor(
            username: principal.username, displayName: principal.displayName.isEmpty ? principal.username : principal.displayName,
            sourceAddress: context.remoteAddress?.ipAddress ?? "", transport: "dicomweb")
    }

    static func uid(_ context: AtriumRequestContext) throws -> String {
        let uid = try context.parameters.require("uid")
        guard UID.isValid(uid) else { throw HTTPError(.badRequest, message: "\(uid) is not a UID") }
        return uid
    }

    static func refuse(_ status: UPS.Status) -> HTTPError {
        HTTPError(
            HTTPResponse.Status(code: status.http), headers: [Self.warning: status.warning],
            message: "\(status.text) (0x\(String(status.code, radix: 16, uppercase: true)))")
    }

    static func dicomJSON(_ body: [UInt8], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/dicom+json"
        fields[.cacheControl] = "no-store"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The dataset of a request body: a DICOM JSON object, or an array holding one (PS3.18 F.2).
    static func dataSet(_ request: Request) async throws -> DataSet {
        let buffer = try await request.body.collect(upTo: 4 << 20)
        let data = Data(buffer: buffer)
        let first = data.first { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
        do {
            if first == UInt8(ascii: "[") {
                let list = try DICOMJSONDecoder().decodeArray(data)
                guard list.count == 1, let ds = list.first else {
                    throw HTTPError(.badRequest, message: "the payload is one dataset")
                }
                return ds
            }
            return try DICOMJSONDecoder().decode(data)
        } catch let error as HTTPError {
            throw error
        } catch {
            throw HTTPError(.badRequest, message: "the payload is not DICOM JSON: \(error)")
        }
    }

    /// The query parameters, percent-decoded.
    static func parameters(_ request: Request) -> [(name: String, value: String)] {
        request.uri.queryParameters.map { name, value in
            (
                String(name).removingPercentEncoding ?? String(name),
                String(value).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(value)
            )
        }
    }

    /// The entry named in the path if the caller may see it (a site user sees its institution's only): else 404.
    func visible(_ uid: String, _ principal: Principal) async throws -> UPSEntry {
        let entry = try await ReadingRoutes.mapped { try await self.store.upsEntry(uid: uid) }
        guard let entry, ReadingAccess.decide(.viewRequest, principal: principal, requestInstitution: entry.request.institutionCode).allowed
        else { throw Self.refuse(.noSuchUPS) }
        return entry
    }

    /// Maps the store's refusals of a UPS operation onto PS3.18's statuses.
    func upsMapped<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ReadingError {
            switch error {
            case .transactionUIDMismatch: throw Self.refuse(.transactionUIDIncorrect)
            case .locked: throw Self.refuse(.alreadyInProgress)
            case .conflict(let what) where what.contains("IN PROGRESS"): throw Self.refuse(.alreadyInProgress)
            case .invalidTransition(_, let from) where from == WorkItemState.completed.rawValue || from == WorkItemState.canceled.rawValue:
                throw Self.refuse(.mayNoLongerBeUpdated)
            default: return try await ReadingRoutes.mapped { throw error }
            }
        }
    }

    // MARK: - Create, search, retrieve, update

    /// `POST /dicom-web/workitems{?workitem}` (PS3.18 11.4): a site user's UPS for its own institution's studies becomes
    /// a consultation request on the web worklist. 201 with Content-Location.
    func create(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        try ReadingRoutes.require(.request, principal, institution: nil)
        guard let institution = principal.institutionCode, !institution.isEmpty else {
            throw HTTPError(.forbidden, message: "a site user without an institution creates no work items")
        }
        var ds = try await Self.dataSet(request)
        let given = request.uri.queryParameters["workitem"].map(String.init) ?? ds.string(.sopInstanceUID)
        let uid = given.flatMap { $0.isEmpty ? nil : $0 }
        let wanted = try await ReadingRoutes.mapped { try UPS.newRequest(from: ds) }
        // Only the institution's own studies; the patient as the archive holds it when the dataset names none.
        for study in wanted.studies {
            guard UID.isValid(study), let summary = try await StudySummary.find(archive, uid: study, institution: institution) else {
                throw HTTPError(.badRequest, message: "study \(study) is not one of \(institution)'s studies")
            }
            if (ds.string(.patientID) ?? "").isEmpty {
                ds.set(.patientName, .PN, summary.patientName)
                ds.set(.patientID, .LO, summary.patientID)
            }
            if (ds.string(.modality) ?? "").isEmpty, !summary.modality.isEmpty { ds.set(.modality, .CS, summary.modality) }
            if (ds.string(.bodyPartExamined) ?? "").isEmpty, !summary.bodyPart.isEmpty { ds.set(.bodyPartExamined, .CS, summary.bodyPart) }
        }
        let (_, item) = try await ReadingRoutes.mapped {
            try await self.store.createUPS(ds, uid: uid, institution: institution, by: self.actor(principal, context))
        }
        if wanted.studies.isEmpty {
            try await ReadingLinker(store: store, archive: archive, logger: logger).linkWaitingStudies(institution: institution)
        }
        logger.info("UPS created", metadata: ["workitem": "\(item.uid)", "user": "\(principal.username)"])
        let location = address.baseURL(hostHeader: request.head.authority) + Self.prefix + "/" + item.uid
        return Response(status: .created, headers: [.contentLocation: location, .location: location])
    }

    /// `GET /dicom-web/workitems{?query}` (PS3.18 11.9): QIDO-style matching (PS3.4 C.2.2.2) on the UPS datasets; 204
    /// when nothing matches. `limit` and `offset` page; a site user sees its institution's items only.
    func search(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        try ReadingRoutes.require(.viewRequest, principal, institution: nil)
        let scope = try ReadingRoutes.listScope(principal)
        let parameters = Self.parameters(request)
        let keys = try await ReadingRoutes.mapped { try UPS.matchingKeys(parameters) }
        let include = try await ReadingRoutes.mapped { try UPS.includeFields(parameters) }
        var limit = 100
        var offset = 0
        for (name, value) in parameters {
            if name.lowercased() == "limit", let n = Int(value), n >= 0 { limit = min(n, 1000) }
            if name.lowercased() == "offset", let n = Int(value), n >= 0 { offset = n }
        }
        // The state is the one key the database narrows by; everything else is matched on the datasets.
        var state: WorkItemState?
        if let key = keys.first(where: { $0.tag == .procedureStepState }), case .single(let value) = key.matcher {
            state = WorkItemState(rawValue: value)
        }
        let entries = try await ReadingRoutes.mapped {
            try await self.store.upsEntries(state: state, institution: scope, limit: 10_000)
        }
        let matcher = QueryMatcher()
        let found = entries.lazy.map(\.dataSet).filter { matcher.matches($0, keys: keys) }.dropFirst(offset).prefix(limit)
        let results = Array(found).map { UPS.searchResult($0, keys: keys, include: include) }
        if results.isEmpty { return Response(status: .noContent) }
        return Self.dicomJSON(DICOMJSONEncoder().encode(array: results))
    }

    /// `GET /dicom-web/workitems/{uid}` (PS3.18 11.5): the UPS dataset, as an array of one.
    func retrieve(_ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        let entry = try await visible(try Self.uid(context), principal)
        await store.recordView(entry.request, by: actor(principal, context), what: "work item \(entry.item.id) over UPS-RS")
        return Self.dicomJSON(DICOMJSONEncoder().encode(array: [entry.dataSet]))
    }

    /// `POST /dicom-web/workitems/{uid}{?transaction}` (PS3.18 11.6): readers update a UPS that is not final; an IN PROGRESS
    /// one needs its Transaction UID.
    func update(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        let entry = try await visible(try Self.uid(context), principal)
        try ReadingRoutes.require(.claim, principal, institution: entry.request.institutionCode)
        let ds = try await Self.dataSet(request)
        let transaction = request.uri.queryParameters["transaction"].map(String.init)
        if let refusal = UPS.updateStatus(current: entry.item, transactionUID: transaction) { throw Self.refuse(refusal) }
        _ = try await upsMapped {
            try await self.store.updateUPS(uid: entry.item.uid, with: ds, transactionUID: transaction, by: self.actor(principal, context))
        }
        return Response(status: .ok)
    }

    // MARK: - State, cancellation

    /// `PUT /dicom-web/workitems/{uid}/state` (PS3.18 11.7): the payload holds Procedure Step State (0074,1000) and
    /// Transaction UID (0008,1195). SCHEDULED → IN PROGRESS claims the item (as the web worklist's claim does); IN
    /// PROGRESS → COMPLETED or CANCELED needs the owner's Transaction UID. Refusals carry the DIMSE status in a Warning.
    func changeState(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        let entry = try await visible(try Self.uid(context), principal)
        let profile = try await ReadingRoutes.mapped { try await self.store.profile(username: principal.username) }
        try ReadingRoutes.require(.claim, principal, profile: profile, institution: entry.request.institutionCode)
        let ds = try await Self.dataSet(request)
        guard let stateText = ds.string(.procedureStepState), let target = WorkItemState(rawValue: stateText) else {
            throw HTTPError(.badRequest, message: "the payload names a Procedure Step State (0074,1000)")
        }
        let transaction = ds.string(.transactionUID)
        if let status = UPS.stateChangeStatus(current: entry.item, target: target, transactionUID: transaction, at: store.now) {
            if status.http == 200 { return Response(status: .ok, headers: [Self.warning: status.warning]) }
            throw Self.refuse(status)
        }
        if target == .inProgress, let transaction, !UID.isValid(transaction) {
            throw HTTPError(.badRequest, message: "the Transaction UID is not a UID")
        }
        if target == .completed {
            let report = try await ReadingRoutes.mapped { try await self.store.reports(requestID: entry.request.id) }.first {
                $0.workItemID == entry.item.id
            }
            if let status = UPS.completionStatus(report: report) { throw Self.refuse(status) }
        }
        let item = try await upsMapped {
            try await self.store.changeUPSState(
                uid: entry.item.uid, to: target, transactionUID: transaction, by: self.actor(principal, context))
        }
        logger.info("UPS state changed", metadata: ["workitem": "\(item.uid)", "state": "\(item.state.rawValue)"])
        return Response(status: .ok)
    }

    /// `POST /dicom-web/workitems/{uid}/cancelrequest` (PS3.18 11.8): the payload may hold Reason For Cancellation
    /// (0074,1238) and Contact Display Name (0074,100A). 202: a SCHEDULED item is canceled, an IN PROGRESS one's performer
    /// is asked (UPS Cancel Requested). The requesting site, readers and administrators may ask.
    func cancelRequest(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        let entry = try await visible(try Self.uid(context), principal)
        let buffer = try await request.body.collect(upTo: 1 << 20)
        var reason = ""
        var contact = ""
        if buffer.readableBytes > 0 {
            let ds = try await Self.dataSet(Request(head: request.head, body: RequestBody(buffer: buffer)))
            reason = ds.string(.reasonForCancellation) ?? ""
            contact = ds.string(.contactDisplayName) ?? ""
        }
        switch entry.item.state {
        case .completed: throw Self.refuse(.alreadyCompleted)
        case .canceled: return Response(status: .accepted, headers: [Self.warning: UPS.Status.alreadyCanceled.warning])
        case .scheduled, .inProgress: break
        }
        let allowed =
            principal.has(.reader) || principal.has(.admin)
            || ReadingAccess.decide(.withdraw, principal: principal, requestInstitution: entry.request.institutionCode).allowed
        guard allowed else { throw HTTPError(.forbidden, message: "the requesting site, readers and administrators ask for cancellation") }
        _ = try await upsMapped {
            try await self.store.requestUPSCancellation(
                uid: entry.item.uid, reason: reason, contact: contact, by: self.actor(principal, context))
        }
        return Response(status: .accepted)
    }

    // MARK: - Subscriptions

    static func subscriber(_ context: AtriumRequestContext) throws -> (Principal, String, String) {
        let principal = try principal(context)
        guard principal.has(.reader) || principal.has(.admin) else {
            throw HTTPError(.forbidden, message: "UPS subscriptions are for readers and administrators")
        }
        let target = try context.parameters.require("uid")
        let ae = try context.parameters.require("ae")
        guard UPSSubscription.validAETitle(ae) else { throw HTTPError(.badRequest, message: "\(ae) is not an AE title") }
        guard UID.isValid(target) else { throw HTTPError(.badRequest, message: "\(target) is not a UID") }
        return (principal, target, ae)
    }

    /// `POST /dicom-web/workitems/{uid}/subscribers/{AETitle}{?deletionlock,filter…}` (PS3.18 11.10): one item, the
    /// global subscription (`1.2.840.10008.5.1.4.34.5`) or the filtered one (`….34.5.1`, with QIDO-style parameters).
    /// The AE's open event channels get an initial UPS State Report of each item covered (PS3.4 CC.2.3.2).
    func subscribe(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let (principal, targetUID, ae) = try Self.subscriber(context)
        var deletionLock = false
        var filter: [(name: String, value: String)] = []
        for (name, value) in Self.parameters(request) {
            if name.lowercased() == "deletionlock" {
                deletionLock = value.lowercased() == "true"
            } else {
                filter.append((name, value))
            }
        }
        let target: UPSSubscription.Target =
            targetUID == UPS.globalSubscriptionUID ? .global : targetUID == UPS.filteredSubscriptionUID ? .filtered : .item(targetUID)
        if case .item = target { _ = try await visible(targetUID, principal) }
        if target != .filtered, !filter.isEmpty {
            throw HTTPError(.badRequest, message: "only the filtered global subscription (\(UPS.filteredSubscriptionUID)) takes a filter")
        }
        let subscription = UPSSubscription(aeTitle: ae, target: target, deletionLock: deletionLock, filter: filter, createdAt: store.now)
        try await ReadingRoutes.mapped { try await self.store.subscribe(subscription) }
        logger.info("UPS subscription", metadata: ["ae": "\(ae)", "target": "\(targetUID)"])
        let entries: [UPSEntry]
        if case .item(let uid) = target {
            entries = try await ReadingRoutes.mapped { try await self.store.upsEntries(uid: uid, limit: 1) }
        } else {
            entries = try await ReadingRoutes.mapped { try await self.store.upsEntries(limit: 10_000) }.filter { !$0.item.state.isFinal }
        }
        await events.sendInitial(
            aeTitle: ae, entries: entries.filter { subscription.covers(uid: $0.item.uid, created: $0.item.createdAt, dataSet: $0.dataSet) })
        return Response(status: .created)
    }

    /// `DELETE /dicom-web/workitems/{uid}/subscribers/{AETitle}`: from one item; from the global UIDs, from everything.
    func unsubscribe(_ context: AtriumRequestContext) async throws -> Response {
        let (_, target, ae) = try Self.subscriber(context)
        let existed = try await ReadingRoutes.mapped { try await self.store.unsubscribe(aeTitle: ae, target: target) }
        guard existed else { throw HTTPError(.notFound, message: "\(ae) has no such subscription") }
        return Response(status: .ok)
    }

    /// `POST /dicom-web/workitems/1.2.840.10008.5.1.4.34.5/subscribers/{AETitle}/suspend`: no new items from now on.
    func suspend(_ context: AtriumRequestContext) async throws -> Response {
        let (_, target, ae) = try Self.subscriber(context)
        guard target == UPS.globalSubscriptionUID || target == UPS.filteredSubscriptionUID else {
            throw HTTPError(.badRequest, message: "only a global subscription is suspended")
        }
        let existed = try await ReadingRoutes.mapped { try await self.store.suspendGlobalSubscription(aeTitle: ae) }
        guard existed else { throw HTTPError(.notFound, message: "\(ae) has no global subscription") }
        return Response(status: .ok)
    }
}
