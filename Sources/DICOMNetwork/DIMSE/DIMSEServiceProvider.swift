import DICOM
import Logging
import NIOCore
import Synchronization

/// Serves DIMSE-C on accepted associations: verification, storage, and query/retrieve FIND, MOVE and GET (PS3.4 A, B, C; PS3.7 9).
///
/// One task reads the association's messages; C-FIND, C-MOVE and C-GET run as child tasks so that a C-CANCEL, or the
/// C-STORE-RSPs of C-GET sub-operations, can be read while they run. C-STORE runs inline, so a slow storage provider slows
/// the sender (back-pressure) instead of buffering.
public struct DIMSEServiceProvider: AssociationHandler {
    /// What the provider serves and with whom.
    public struct Configuration: Sendable {
        /// This application entity's title, the calling AE title of C-MOVE sub-associations.
        public var aeTitle: String
        /// Where C-STORE requests go; nil refuses them.
        public var storage: (any StorageProvider)?
        /// Answers C-FIND; nil refuses it.
        public var query: (any QueryProvider)?
        /// Answers C-MOVE and C-GET; nil refuses them.
        public var retrieve: (any RetrieveProvider)?
        /// Known peers, their permissions and the addresses of move destinations.
        public var peers: any PeerRegistry
        /// Settings of the associations opened for C-MOVE sub-operations.
        public var upperLayer: UpperLayerConfiguration
        /// Where logs go.
        public var logger: Logger

        /// Creates a configuration.
        public init(
            aeTitle: String, storage: (any StorageProvider)? = nil, query: (any QueryProvider)? = nil,
            retrieve: (any RetrieveProvider)? = nil, peers: any PeerRegistry = StaticPeerRegistry(),
            upperLayer: UpperLayerConfiguration = .init(), logger: Logger = Logger(label: "atrium.dicom.dimse")
        ) {
            self.aeTitle = aeTitle
            self.storage = storage
            self.query = query
            self.retrieve = retrieve
            self.peers = peers
            self.upperLayer = upperLayer
            self.logger = logger
        }

        /// The abstract syntaxes an acceptor should accept for what this configuration serves.
        public var abstractSyntaxes: Set<String> {
            var syntaxes: Set<String> = [verificationSOPClassUID]
            // C-GET sub-operations need the storage classes accepted for the requestor's SCP role.
            if storage != nil || retrieve != nil { syntaxes.formUnion(StorageSOPClasses.all) }
            for model in QueryRetrieveInformationModel.allCases {
                if query != nil { syntaxes.insert(model.findSOPClassUID) }
                if retrieve != nil { syntaxes.formUnion([model.moveSOPClassUID, model.getSOPClassUID]) }
            }
            return syntaxes
        }
    }

    /// The default transfer syntax preference: explicit then implicit VR little endian, then every other registered syntax,
    /// so that compressed instances are accepted as they are sent (PS3.5 10, Annex A).
    public static let defaultTransferSyntaxPreference: [String] = {
        let first = [explicitVRLittleEndianUID, implicitVRLittleEndianUID]
        let others = UIDRegistry.all(ofType: "Transfer Syntax").map(\.uid).filter { !first.contains($0) }
        return first + others
    }()

    /// An acceptor policy that accepts what `configuration` serves (PS3.8 7.1.1, PS3.7 D.3.3.4).
    public static func acceptorPolicy(
        for configuration: Configuration, checksCalledAETitle: Bool = false,
        transferSyntaxPreference: [String] = defaultTransferSyntaxPreference, maximumPDULength: UInt32 = 65_536,
        authenticator: (any UserIdentityAuthenticator)? = nil, requiresUserIdentity: Bool = false
    ) -> AcceptorPolicy {
        var policy = AcceptorPolicy(
            aeTitle: configuration.aeTitle, checksCalledAETitle: checksCalledAETitle,
            acceptedAbstractSyntaxes: configuration.abstractSyntaxes, transferSyntaxPreference: transferSyntaxPreference,
            authenticator: authenticator, requiresUserIdentity: requiresUserIdentity, roleSelection: .acceptProposed,
            maximumPDULength: maximumPDULength)
        policy.acceptedAsSent = Set(transferSyntaxPreference.filter { TransferSyntax(uid: $0).isEncapsulated })
        return policy
    }

    /// The configuration.
    public let configuration: Configuration

    /// Creates a provider.
    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    private var logger: Logger { configuration.logger }

    /// Reads and dispatches the association's messages until it ends (PS3.7 9.3).
    public func serve(_ association: AssociationContext, messages: AssociationMessages) async throws {
        let operations = OperationTable()
        let permissions = await configuration.peers.permissions(callingAETitle: association.negotiated.callingAETitle)
        try await withThrowingTaskGroup(of: Void.self) { group in
            // Whatever ends the loop, waits must fail and children stop, or the group would wait for them forever.
            defer {
                operations.end()
                group.cancelAll()
            }
            while let message = try await messages.next() {
                guard message.kind == .command else {
                    throw DIMSEError.unexpectedMessage("a data set without a command on context \(message.presentationContextID)")
                }
                let command = try DIMSECommand(decoding: message.bytes)
                configuration.upperLayer.metrics?.received(command)
                let contextID = message.presentationContextID
                switch command {
                case .cEchoRQ(let request):
                    try await send(
                        CEchoRSP(messageIDBeingRespondedTo: request.messageID, status: .success).commandSet, on: contextID, association)
                case .cStoreRQ(let request):
                    let dataSet = try await readDataSet(messages, contextID: contextID)
                    let status = await store(request, dataSet: dataSet, contextID: contextID, association, permissions: permissions)
                    let response = CStoreRSP(
                        messageIDBeingRespondedTo: request.messageID, affectedSOPClassUID: request.affectedSOPClassUID,
                        affectedSOPInstanceUID: request.affectedSOPInstanceUID, status: status)
                    association.sendWithoutWaiting(
                        PresentationDataMessage(presentationContextID: contextID, kind: .command, bytes: response.commandSet.encoded()))
                case .cFindRQ(let request):
                    let identifier = try await readDataSet(messages, contextID: contextID)
                    let token = operations.begin(request.messageID)
                    group.addTask {
                        await find(
                            request, identifier: identifier, contextID: contextID, association, permissions: permissions, token: token)
                    }
                case .cMoveRQ(let request):
                    let identifier = try await readDataSet(messages, contextID: contextID)
                    let token = operations.begin(request.messageID)
                    group.addTask {
                        await move(
                            request, identifier: identifier, contextID: contextID, association, permissions: permissions, token: token)
                    }
                case .cGetRQ(let request):
                    let identifier = try await readDataSet(messages, contextID: contextID)
                    let token = operations.begin(request.messageID)
                    group.addTask {
                        await get(
                            request, identifier: identifier, contextID: contextID, association, permissions: permissions, token: token,
                            operations: operations)
                    }
                case .cCancelRQ(let request):
                    operations.cancel(request.messageIDBeingRespondedTo)
                case .cStoreRSP(let response):
                    guard operations.deliver(response) else {
                        throw DIMSEError.unexpectedMessage(
                            "C-STORE-RSP to message \(response.messageIDBeingRespondedTo), which was not sent")
                    }
                case .cEchoRSP, .cFindRSP, .cMoveRSP, .cGetRSP:
                    throw DIMSEError.unexpectedMessage("a response to a request this end did not send")
                }
            }
        }
    }

    private func readDataSet(_ messages: AssociationMessages, contextID: UInt8) async throws -> ByteBuffer {
        guard let message = try await messages.next() else { throw DIMSEError.associationEnded }
        guard message.kind == .dataSet, message.presentationContextID == contextID else {
            throw DIMSEError.unexpectedMessage("expected the data set on context \(contextID)")
        }
        return message.bytes
    }

    private func send(_ command: CommandSet, dataSet: ByteBuffer? = nil, on contextID: UInt8, _ association: AssociationContext)
        async throws
    {
        var messages = [PresentationDataMessage(presentationContextID: contextID, kind: .command, bytes: command.encoded())]
        if let dataSet { messages.append(PresentationDataMessage(presentationContextID: contextID, kind: .dataSet, bytes: dataSet)) }
        try await association.send(messages)
    }

    // MARK: C-STORE (PS3.4 B.2)

    private func store(
        _ request: CStoreRQ, dataSet: ByteBuffer, contextID: UInt8, _ association: AssociationContext, permissions: PeerPermissions
    ) async -> DIMSEStatus {
        guard let context = association.negotiated.acceptedContexts[contextID], context.abstractSyntax == request.affectedSOPClassUID
        else { return .sopClassNotSupported }
        guard let storage = configuration.storage else { return .sopClassNotSupported }
        guard permissions.contains(.store) else { return .notAuthorized }
        return await storage.store(
            StoreRequest(
                sopClassUID: request.affectedSOPClassUID, sopInstanceUID: request.affectedSOPInstanceUID,
                transferSyntaxUID: context.transferSyntax, dataSet: dataSet, callingAETitle: association.negotiated.callingAETitle,
                calledAETitle: association.negotiated.calledAETitle, moveOriginatorAETitle: request.moveOriginatorApplicationEntityTitle))
    }

    // MARK: C-FIND (PS3.4 C.4.1)

    private func queryRequest(
        _ identifier: ByteBuffer, sopClassUID: String, contextID: UInt8, _ association: AssociationContext
    ) -> (QueryRequest?, DIMSEStatus) {
        guard let context = association.negotiated.acceptedContexts[contextID], context.abstractSyntax == sopClassUID,
            let model = QueryRetrieveInformationModel(sopClassUID: sopClassUID)
        else { return (nil, .sopClassNotSupported) }
        guard let dataSet = try? DataSetCoding.decode(identifier, transferSyntaxUID: context.transferSyntax),
            let levelText = dataSet.string(.queryRetrieveLevel), let level = QueryRetrieveLevel(rawValue: levelText),
            level.exists(in: model)
        else { return (nil, .dataSetDoesNotMatchSOPClass) }
        return (
            QueryRequest(identifier: dataSet, level: level, model: model, callingAETitle: association.negotiated.callingAETitle), .success
        )
    }

    private func find(
        _ request: CFindRQ, identifier: ByteBuffer, contextID: UInt8, _ association: AssociationContext, permissions: PeerPermissions,
        token: OperationTable.Token
    ) async {
        defer { token.finish() }
        func respond(_ status: DIMSEStatus, _ match: ByteBuffer? = nil) async throws {
            let response = CFindRSP(
                messageIDBeingRespondedTo: request.messageID, affectedSOPClassUID: request.affectedSOPClassUID, status: status,
                hasDataSet: match != nil)
            try await send(response.commandSet, dataSet: match, on: contextID, association)
        }
        do {
            let (query, status) = queryRequest(identifier, sopClassUID: request.affectedSOPClassUID, contextID: contextID, association)
            guard let query, let provider = configuration.query else {
                return try await respond(configuration.query == nil ? .sopClassNotSupported : status)
            }
            guard permissions.contains(.query) else { return try await respond(.notAuthorized) }
            let syntax = association.negotiated.acceptedContexts[contextID]?.transferSyntax ?? implicitVRLittleEndianUID
            var count = 0
            for try await match in try await provider.find(query) {
                if token.isCancelled { break }
                try await respond(.pending, try DataSetCoding.encode(match, transferSyntaxUID: syntax))
                count += 1
            }
            let final: DIMSEStatus = token.isCancelled ? .cancel : .success
            logger.info("C-FIND", metadata: ["level": "\(query.level.rawValue)", "matches": "\(count)", "status": "\(final)"])
            try await respond(final)
        } catch {
            logger.warning("C-FIND failed", metadata: ["error": "\(error)"])
            try? await respond(.unableToProcess)
        }
    }

    // MARK: C-MOVE and C-GET (PS3.4 C.4.2, C.4.3)

    private struct Progress {
        var counts: SubOperationCounts
        var failedUIDs: [String] = []

        mutating func record(_ status: DIMSEStatus, _ sopInstanceUID: String) {
            counts.remaining = counts.remaining.map { $0 > 0 ? $0 - 1 : 0 }
            switch status.kind {
            case .success: counts.completed &+= 1
            case .warning: counts.warning &+= 1
            default:
                counts.failed &+= 1
                failedUIDs.append(sopInstanceUID)
            }
        }

        /// The final status (PS3.4 C.4.2.1.5): success, or warning B000 when any sub-operation failed or warned.
        func finalStatus(cancelled: Bool) -> DIMSEStatus {
            if cancelled { return .cancel }
            if counts.failed > 0 && counts.completed == 0 && counts.warning == 0 { return .outOfResourcesSubOperations }
            return counts.failed > 0 || counts.warning > 0 ? .subOperationsCompleteWithFailures : .success
        }

        /// The identifier with the Failed SOP Instance UID List (PS3.4 C.4.2.1.4.2), when there are failures.
        func failedIdentifier(transferSyntaxUID: String) -> ByteBuffer? {
            guard !failedUIDs.isEmpty else { return nil }
            var dataSet = DataSet()
            dataSet.set(.failedSOPInstanceUIDList, .UI, failedUIDs)
            return try? DataSetCoding.encode(dataSet, transferSyntaxUID: transferSyntaxUID)
        }
    }

    private func move(
        _ request: CMoveRQ, identifier: ByteBuffer, contextID: UInt8, _ association: AssociationContext, permissions: PeerPermissions,
        token: OperationTable.Token
    ) async {
        defer { token.finish() }
        let syntax = association.negotiated.acceptedContexts[contextID]?.transferSyntax ?? implicitVRLittleEndianUID
        func respond(_ status: DIMSEStatus, _ counts: SubOperationCounts?, _ dataSet: ByteBuffer? = nil) async throws {
            let response = CMoveRSP(
                messageIDBeingRespondedTo: request.messageID, affectedSOPClassUID: request.affectedSOPClassUID, status: status,
                counts: counts, hasDataSet: dataSet != nil)
            try await send(response.commandSet, dataSet: dataSet, on: contextID, association)
        }
        do {
            let (query, status) = queryRequest(identifier, sopClassUID: request.affectedSOPClassUID, contextID: contextID, association)
            guard let query, let provider = configuration.retrieve else {
                return try await respond(configuration.retrieve == nil ? .sopClassNotSupported : status, nil)
            }
            guard permissions.contains(.retrieve) else { return try await respond(.notAuthorized, nil) }
            guard let destination = await configuration.peers.peer(aeTitle: request.moveDestination),
                destination.permissions.contains(.moveDestination)
            else {
                logger.info("C-MOVE to an unknown destination", metadata: ["destination": "\(request.moveDestination)"])
                return try await respond(.moveDestinationUnknown, nil)
            }
            let instances = try await provider.instances(for: query)
            var progress = Progress(counts: SubOperationCounts(remaining: UInt16(clamping: instances.count)))
            if !instances.isEmpty {
                let proposal = AssociationProposal(
                    callingAETitle: configuration.aeTitle, calledAETitle: destination.aeTitle,
                    contexts: StorageProposal.contexts(for: instances.map { ($0.sopClassUID, $0.transferSyntaxUID) }))
                do {
                    try await AssociationRequestor.withAssociation(
                        host: destination.host, port: destination.port, proposal: proposal, configuration: configuration.upperLayer
                    ) { sub in
                        var messageID: UInt16 = 0
                        for instance in instances {
                            if token.isCancelled { break }
                            messageID &+= 1
                            let status = await storeSubOperation(
                                instance, provider: provider, messageID: messageID, negotiated: sub.negotiated,
                                originator: (association.negotiated.callingAETitle, request.messageID)
                            ) { messages in
                                try await sub.send(messages)
                                return try await StorageProposal.awaitStoreResponse(sub, messageID: messageID)
                            }
                            progress.record(status, instance.sopInstanceUID)
                            try await respond(.pending, progress.counts)
                        }
                    }
                } catch {
                    logger.warning(
                        "C-MOVE sub-association failed", metadata: ["destination": "\(destination.aeTitle)", "error": "\(error)"])
                    let done = Set(progress.failedUIDs)
                    for instance in instances.dropFirst(Int(progress.counts.completed + progress.counts.warning) + done.count) {
                        progress.record(.processingFailure, instance.sopInstanceUID)
                    }
                }
            }
            var final = progress.counts
            final.remaining = token.isCancelled ? final.remaining : nil
            let finalStatus = progress.finalStatus(cancelled: token.isCancelled)
            logger.info(
                "C-MOVE",
                metadata: ["destination": "\(request.moveDestination)", "completed": "\(final.completed)", "failed": "\(final.failed)"])
            try await respond(finalStatus, final, progress.failedIdentifier(transferSyntaxUID: syntax))
        } catch {
            logger.warning("C-MOVE failed", metadata: ["error": "\(error)"])
            try? await respond(.unableToProcess, nil)
        }
    }

    private func get(
        _ request: CGetRQ, identifier: ByteBuffer, contextID: UInt8, _ association: AssociationContext, permissions: PeerPermissions,
        token: OperationTable.Token, operations: OperationTable
    ) async {
        defer { token.finish() }
        let syntax = association.negotiated.acceptedContexts[contextID]?.transferSyntax ?? implicitVRLittleEndianUID
        func respond(_ status: DIMSEStatus, _ counts: SubOperationCounts?, _ dataSet: ByteBuffer? = nil) async throws {
            let response = CGetRSP(
                messageIDBeingRespondedTo: request.messageID, affectedSOPClassUID: request.affectedSOPClassUID, status: status,
                counts: counts, hasDataSet: dataSet != nil)
            try await send(response.commandSet, dataSet: dataSet, on: contextID, association)
        }
        do {
            let (query, status) = queryRequest(identifier, sopClassUID: request.affectedSOPClassUID, contextID: contextID, association)
            guard let query, let provider = configuration.retrieve else {
                return try await respond(configuration.retrieve == nil ? .sopClassNotSupported : status, nil)
            }
            guard permissions.contains(.retrieve) else { return try await respond(.notAuthorized, nil) }
            let instances = try await provider.instances(for: query)
            var progress = Progress(counts: SubOperationCounts(remaining: UInt16(clamping: instances.count)))
            for instance in instances {
                if token.isCancelled { break }
                let messageID = operations.nextMessageID()
                let status = await storeSubOperation(
                    instance, provider: provider, messageID: messageID, negotiated: association.negotiated, originator: nil,
                    requireRequestorSCP: true
                ) { messages in
                    try await operations.awaitStoreResponse(messageID: messageID) {
                        try await association.send(messages)
                    }
                }
                progress.record(status, instance.sopInstanceUID)
                try await respond(.pending, progress.counts)
            }
            var final = progress.counts
            final.remaining = token.isCancelled ? final.remaining : nil
            logger.info("C-GET", metadata: ["completed": "\(final.completed)", "failed": "\(final.failed)"])
            try await respond(
                progress.finalStatus(cancelled: token.isCancelled), final, progress.failedIdentifier(transferSyntaxUID: syntax))
        } catch {
            logger.warning("C-GET failed", metadata: ["error": "\(error)"])
            try? await respond(.unableToProcess, nil)
        }
    }

    /// Sends one instance as a C-STORE sub-operation and returns its status; failures to load or convert count as failed.
    private func storeSubOperation(
        _ instance: RetrievableInstance, provider: any RetrieveProvider, messageID: UInt16, negotiated: NegotiatedAssociation,
        originator: (aeTitle: String, messageID: UInt16)?, requireRequestorSCP: Bool = false,
        exchange: ([PresentationDataMessage]) async throws -> CStoreRSP
    ) async -> DIMSEStatus {
        guard
            let context = StorageProposal.context(
                for: instance.sopClassUID, transferSyntaxUID: instance.transferSyntaxUID, in: negotiated,
                requireRequestorSCP: requireRequestorSCP)
        else {
            logger.info("no presentation context for a sub-operation", metadata: ["sopClassUID": "\(instance.sopClassUID)"])
            return .sopClassNotSupported
        }
        do {
            let stored = try await provider.dataSet(of: instance)
            let dataSet = try DataSetCoding.transcode(stored, from: instance.transferSyntaxUID, to: context.transferSyntax)
            let request = CStoreRQ(
                messageID: messageID, affectedSOPClassUID: instance.sopClassUID, affectedSOPInstanceUID: instance.sopInstanceUID,
                moveOriginatorApplicationEntityTitle: originator?.aeTitle, moveOriginatorMessageID: originator?.messageID)
            let response = try await exchange([
                PresentationDataMessage(presentationContextID: context.id, kind: .command, bytes: request.commandSet.encoded()),
                PresentationDataMessage(presentationContextID: context.id, kind: .dataSet, bytes: dataSet),
            ])
            return response.status
        } catch {
            logger.warning("C-STORE sub-operation failed", metadata: ["sopInstanceUID": "\(instance.sopInstanceUID)", "error": "\(error)"])
            return .processingFailure
        }
    }
}

/// Operations in progress on one association: cancel flags, and the C-STORE-RSPs awaited by C-GET (PS3.7 9.3.2.3, 9.3.3).
final class OperationTable: Sendable {
    private struct State {
        var cancelled: Set<UInt16> = []
        var running: Set<UInt16> = []
        var waiting: [UInt16: CheckedContinuation<CStoreRSP, any Error>] = [:]
        var expected: Set<UInt16> = []
        var arrived: [UInt16: CStoreRSP] = [:]
        var nextMessageID: UInt16 = 0
        var ended = false
    }

    private let state = Mutex(State())

    /// A running operation's view of the table.
    struct Token: Sendable {
        let table: OperationTable
        let messageID: UInt16
        /// Whether a C-CANCEL arrived for the operation.
        var isCancelled: Bool { table.state.withLock { $0.cancelled.contains(messageID) || $0.ended } }
        /// Forgets the operation.
        func finish() {
            table.state.withLock {
                $0.running.remove(messageID)
                $0.cancelled.remove(messageID)
            }
        }
    }

    func begin(_ messageID: UInt16) -> Token {
        state.withLock { _ = $0.running.insert(messageID) }
        return Token(table: self, messageID: messageID)
    }

    func cancel(_ messageID: UInt16) {
        state.withLock { state in
            if state.running.contains(messageID) { state.cancelled.insert(messageID) }
        }
    }

    func nextMessageID() -> UInt16 {
        state.withLock { state in
            state.nextMessageID &+= 1
            return state.nextMessageID
        }
    }

    /// Expects the response to `messageID`, runs `send`, and waits for the response (which may arrive before the wait).
    func awaitStoreResponse(messageID: UInt16, send: () async throws -> Void) async throws -> CStoreRSP {
        try state.withLock { (state: inout State) throws(DIMSEError) in
            if state.ended { throw .associationEnded }
            state.expected.insert(messageID)
        }
        try await send()
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<CStoreRSP, any Error>) in
            let outcome: Result<CStoreRSP, any Error>? = state.withLock { state in
                if let response = state.arrived.removeValue(forKey: messageID) {
                    state.expected.remove(messageID)
                    return .success(response)
                }
                if state.ended { return .failure(DIMSEError.associationEnded) }
                state.waiting[messageID] = continuation
                return nil
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }

    /// Hands a C-STORE-RSP to the operation expecting it; false when nobody expects it.
    func deliver(_ response: CStoreRSP) -> Bool {
        let id = response.messageIDBeingRespondedTo
        let (expected, continuation) = state.withLock { state -> (Bool, CheckedContinuation<CStoreRSP, any Error>?) in
            guard state.expected.contains(id) else { return (false, nil) }
            if let continuation = state.waiting.removeValue(forKey: id) {
                state.expected.remove(id)
                return (true, continuation)
            }
            state.arrived[id] = response
            return (true, nil)
        }
        continuation?.resume(returning: response)
        return expected
    }

    /// The association is over: every wait fails and every operation counts as cancelled.
    func end() {
        let waiting = state.withLock { state in
            state.ended = true
            defer { state.waiting = [:] }
            return state.waiting
        }
        for continuation in waiting.values { continuation.resume(throwing: DIMSEError.associationEnded) }
    }
}
