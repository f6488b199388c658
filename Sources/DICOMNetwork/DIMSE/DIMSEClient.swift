import DICOM
import Foundation
import Logging
import NIOCore

/// A DIMSE-C service user for one remote application entity: echo, store, find, move, get (PS3.4 A, B, C; PS3.7 9).
public struct DIMSEClient: Sendable {
    /// The peer's host.
    public var host: String
    /// The peer's port.
    public var port: Int
    /// This end's AE title.
    public var callingAETitle: String
    /// The peer's AE title.
    public var calledAETitle: String
    /// User identity to present, if any (PS3.7 D.3.3.7).
    public var userIdentity: UserIdentityRQ?
    /// The largest P-DATA-TF this end receives.
    public var maximumPDULength: UInt32
    /// Upper layer settings.
    public var upperLayer: UpperLayerConfiguration

    /// Creates a client.
    public init(
        host: String, port: Int, callingAETitle: String, calledAETitle: String, userIdentity: UserIdentityRQ? = nil,
        maximumPDULength: UInt32 = 65_536, upperLayer: UpperLayerConfiguration = .init()
    ) {
        self.host = host
        self.port = port
        self.callingAETitle = callingAETitle
        self.calledAETitle = calledAETitle
        self.userIdentity = userIdentity
        self.maximumPDULength = maximumPDULength
        self.upperLayer = upperLayer
    }

    private func proposal(_ contexts: [ProposedPresentationContext], roles: [RoleSelection] = []) -> AssociationProposal {
        AssociationProposal(
            callingAETitle: callingAETitle, calledAETitle: calledAETitle, contexts: contexts, roleSelections: roles,
            userIdentity: userIdentity, maximumPDULength: maximumPDULength)
    }

    private func withAssociation<Result: Sendable>(
        _ proposal: AssociationProposal, _ body: (RequestorAssociation) async throws -> Result
    ) async throws -> Result {
        try await AssociationRequestor.withAssociation(host: host, port: port, proposal: proposal, configuration: upperLayer, body)
    }

    private static func receiveCommand(_ association: RequestorAssociation) async throws -> (DIMSECommand, UInt8) {
        let message = try await association.receive()
        guard message.kind == .command else { throw DIMSEError.unexpectedMessage("a data set where a command was expected") }
        return (try DIMSECommand(decoding: message.bytes), message.presentationContextID)
    }

    private static func receiveDataSet(_ association: RequestorAssociation, contextID: UInt8) async throws -> ByteBuffer {
        let message = try await association.receive()
        guard message.kind == .dataSet, message.presentationContextID == contextID else {
            throw DIMSEError.unexpectedMessage("expected a data set on context \(contextID)")
        }
        return message.bytes
    }

    private static func send(_ association: RequestorAssociation, _ command: CommandSet, dataSet: ByteBuffer? = nil, on id: UInt8)
        async throws
    {
        var messages = [PresentationDataMessage(presentationContextID: id, kind: .command, bytes: command.encoded())]
        if let dataSet { messages.append(PresentationDataMessage(presentationContextID: id, kind: .dataSet, bytes: dataSet)) }
        try await association.send(messages)
    }

    // MARK: C-ECHO (PS3.4 A.4)

    /// Verifies the peer: associates, sends C-ECHO-RQ, returns the status, releases.
    public func echo() async throws -> DIMSEStatus {
        try await withAssociation(proposal([ProposedPresentationContext(abstractSyntax: verificationSOPClassUID)])) { association in
            guard let context = association.negotiated.context(for: verificationSOPClassUID) else {
                throw DIMSEError.noPresentationContext(abstractSyntax: verificationSOPClassUID)
            }
            try await Self.send(association, CEchoRQ(messageID: 1).commandSet, on: context.id)
            guard case (.cEchoRSP(let response), _) = try await Self.receiveCommand(association) else {
                throw DIMSEError.unexpectedMessage("expected C-ECHO-RSP")
            }
            return response.status
        }
    }

    // MARK: C-STORE (PS3.4 B.2)

    /// An instance to send: a Part 10 file's data set bytes and what its meta group says.
    public struct Instance: Sendable {
        /// Where it came from (for reports).
        public var path: String
        /// SOP Class UID.
        public var sopClassUID: String
        /// SOP Instance UID.
        public var sopInstanceUID: String
        /// The data set's transfer syntax.
        public var transferSyntaxUID: String
        /// The data set bytes.
        public var dataSet: ByteBuffer

        /// Creates an instance from its parts.
        public init(path: String, sopClassUID: String, sopInstanceUID: String, transferSyntaxUID: String, dataSet: ByteBuffer) {
            self.path = path
            self.sopClassUID = sopClassUID
            self.sopInstanceUID = sopInstanceUID
            self.transferSyntaxUID = transferSyntaxUID
            self.dataSet = dataSet
        }

        /// Reads a Part 10 file; the data set is sent as it is in the file. Files without a meta group are decoded and re-encoded.
        ///
        /// With `headerOnly`, only the first 64 KiB are read when they hold the meta group and the elements before Pixel
        /// Data: enough for the UIDs, and `dataSet` then holds only those bytes (to choose presentation contexts).
        public init(path: String, headerOnly: Bool = false) throws {
            if headerOnly {
                let head = try readFile(path, limit: 64 * 1024)
                if let header = Part10Header(head), head.readableBytes > header.dataSetOffset {
                    let meta = head.getBytes(at: head.readerIndex + 128, length: header.dataSetOffset - 128) ?? []
                    let dataSet = head.getSlice(
                        at: head.readerIndex + header.dataSetOffset, length: head.readableBytes - header.dataSetOffset)
                    if let dataSet,
                        let found = try? DataSetCoding.header(
                            metaGroup: meta, dataSet: dataSet, transferSyntaxUID: header.transferSyntaxUID)
                    {
                        self.init(
                            path: path, sopClassUID: found.string(.sopClassUID) ?? header.sopClassUID,
                            sopInstanceUID: found.string(.sopInstanceUID) ?? header.sopInstanceUID,
                            transferSyntaxUID: header.transferSyntaxUID, dataSet: dataSet)
                        return
                    }
                }
            }
            let buffer = try readFile(path, limit: nil)
            if let header = Part10Header(buffer) {
                // The data set's own UIDs are what the SCP checks against the command (PS3.4 B.2.3); the meta group's may differ.
                let dataSet =
                    buffer.getSlice(at: buffer.readerIndex + header.dataSetOffset, length: buffer.readableBytes - header.dataSetOffset)
                    ?? ByteBuffer()
                let meta = buffer.getBytes(at: buffer.readerIndex + 128, length: header.dataSetOffset - 128) ?? []
                let head = try DataSetCoding.header(metaGroup: meta, dataSet: dataSet, transferSyntaxUID: header.transferSyntaxUID)
                self.init(
                    path: path, sopClassUID: head.string(.sopClassUID) ?? header.sopClassUID,
                    sopInstanceUID: head.string(.sopInstanceUID) ?? header.sopInstanceUID, transferSyntaxUID: header.transferSyntaxUID,
                    dataSet: buffer.getSlice(
                        at: buffer.readerIndex + header.dataSetOffset, length: buffer.readableBytes - header.dataSetOffset)
                        ?? ByteBuffer())
                return
            }
            let file = try DICOMFile.read(Array(buffer.readableBytesView))
            guard let sopClass = file.dataSet.string(.sopClassUID), let sopInstance = file.dataSet.string(.sopInstanceUID) else {
                throw DIMSEError.dataSet("\(path) has no SOP Class UID or SOP Instance UID")
            }
            let syntax = file.transferSyntax.isEncapsulated ? file.transferSyntax.uid : explicitVRLittleEndianUID
            self.init(
                path: path, sopClassUID: sopClass, sopInstanceUID: sopInstance, transferSyntaxUID: syntax,
                dataSet: try DataSetCoding.encode(file.dataSet, transferSyntaxUID: syntax))
        }
    }

    /// The outcome of one C-STORE.
    public struct StoreOutcome: Sendable {
        /// The file or instance.
        public var path: String
        /// SOP Instance UID.
        public var sopInstanceUID: String
        /// The status, or nil when the instance could not be sent.
        public var status: DIMSEStatus?
        /// Why it could not be sent.
        public var error: String?
    }

    /// Sends instances read lazily from `paths` on as few associations as the 128-context limit allows, reporting each.
    ///
    /// The headers are read first to propose the needed contexts; each file is read again when its turn comes.
    public func store(paths: [String], report: (StoreOutcome) async -> Void) async throws {
        var headers: [(path: String, sopClassUID: String, sopInstanceUID: String, transferSyntaxUID: String)] = []
        for path in paths {
            do {
                let instance = try Instance(path: path, headerOnly: true)
                headers.append((path, instance.sopClassUID, instance.sopInstanceUID, instance.transferSyntaxUID))
            } catch {
                await report(StoreOutcome(path: path, sopInstanceUID: "", status: nil, error: "\(error)"))
            }
        }
        // Batches whose contexts fit in one association.
        var batches: [[Int]] = []
        var current: [Int] = []
        var contexts: Set<[String]> = []
        for (index, header) in headers.enumerated() {
            let needed = StorageProposal.contexts(for: [(header.sopClassUID, header.transferSyntaxUID)]).map {
                [$0.abstractSyntax] + $0.transferSyntaxes
            }
            let added = contexts.union(needed)
            if added.count > 128, !current.isEmpty {
                batches.append(current)
                current = []
                contexts = Set(needed)
            } else {
                contexts = added
            }
            current.append(index)
        }
        if !current.isEmpty { batches.append(current) }
        for batch in batches {
            let wanted = StorageProposal.contexts(for: batch.map { (headers[$0].sopClassUID, headers[$0].transferSyntaxUID) })
            try await withAssociation(proposal(wanted)) { association in
                var messageID: UInt16 = 0
                for index in batch {
                    let path = headers[index].path
                    messageID &+= 1
                    do {
                        let instance = try Instance(path: path)
                        let status = try await store(instance, messageID: messageID, on: association)
                        await report(StoreOutcome(path: path, sopInstanceUID: instance.sopInstanceUID, status: status, error: nil))
                    } catch let error as AssociationError {
                        throw error
                    } catch {
                        await report(
                            StoreOutcome(path: path, sopInstanceUID: headers[index].sopInstanceUID, status: nil, error: "\(error)"))
                    }
                }
            }
        }
    }

    /// Sends one instance on an established association and returns the C-STORE-RSP status.
    public func store(_ instance: Instance, messageID: UInt16, on association: RequestorAssociation) async throws -> DIMSEStatus {
        guard
            let context = StorageProposal.context(
                for: instance.sopClassUID, transferSyntaxUID: instance.transferSyntaxUID, in: association.negotiated)
        else { throw DIMSEError.noPresentationContext(abstractSyntax: instance.sopClassUID) }
        let dataSet = try DataSetCoding.transcode(instance.dataSet, from: instance.transferSyntaxUID, to: context.transferSyntax)
        let request = CStoreRQ(
            messageID: messageID, affectedSOPClassUID: instance.sopClassUID, affectedSOPInstanceUID: instance.sopInstanceUID)
        try await Self.send(association, request.commandSet, dataSet: dataSet, on: context.id)
        return try await StorageProposal.awaitStoreResponse(association, messageID: messageID).status
    }

    // MARK: C-FIND (PS3.4 C.4.1)

    /// Queries; `onMatch` gets each match and returns false to send C-CANCEL. Returns the final status.
    public func find(
        _ identifier: DataSet, model: QueryRetrieveInformationModel, onMatch: (DataSet) async throws -> Bool
    ) async throws -> DIMSEStatus {
        let sopClass = model.findSOPClassUID
        return try await withAssociation(proposal([ProposedPresentationContext(abstractSyntax: sopClass)])) { association in
            guard let context = association.negotiated.context(for: sopClass) else {
                throw DIMSEError.noPresentationContext(abstractSyntax: sopClass)
            }
            let request = CFindRQ(messageID: 1, affectedSOPClassUID: sopClass)
            try await Self.send(
                association, request.commandSet, dataSet: try DataSetCoding.encode(identifier, transferSyntaxUID: context.transferSyntax),
                on: context.id)
            var cancelled = false
            while true {
                guard case (.cFindRSP(let response), let id) = try await Self.receiveCommand(association) else {
                    throw DIMSEError.unexpectedMessage("expected C-FIND-RSP")
                }
                if response.hasDataSet {
                    let bytes = try await Self.receiveDataSet(association, contextID: id)
                    if response.status.kind == .pending, !cancelled {
                        let match = try DataSetCoding.decode(bytes, transferSyntaxUID: context.transferSyntax, options: .default)
                        if try await !onMatch(match) {
                            cancelled = true
                            try await Self.send(association, CCancelRQ(messageIDBeingRespondedTo: 1).commandSet, on: context.id)
                        }
                    }
                }
                if response.status.kind != .pending { return response.status }
            }
        }
    }

    // MARK: C-MOVE (PS3.4 C.4.2)

    /// The outcome of a C-MOVE or C-GET.
    public struct RetrieveOutcome: Sendable {
        /// The final status.
        public var status: DIMSEStatus
        /// The final counts.
        public var counts: SubOperationCounts
        /// The Failed SOP Instance UID List, when given.
        public var failedSOPInstanceUIDs: [String]
    }

    /// Asks the peer to send the instances matching `identifier` to `destination`; `onProgress` sees each pending response.
    public func move(
        _ identifier: DataSet, model: QueryRetrieveInformationModel, destination: String,
        onProgress: (SubOperationCounts) async -> Void = { _ in }
    ) async throws -> RetrieveOutcome {
        let sopClass = model.moveSOPClassUID
        return try await withAssociation(proposal([ProposedPresentationContext(abstractSyntax: sopClass)])) { association in
            guard let context = association.negotiated.context(for: sopClass) else {
                throw DIMSEError.noPresentationContext(abstractSyntax: sopClass)
            }
            let request = CMoveRQ(messageID: 1, affectedSOPClassUID: sopClass, moveDestination: destination)
            try await Self.send(
                association, request.commandSet, dataSet: try DataSetCoding.encode(identifier, transferSyntaxUID: context.transferSyntax),
                on: context.id)
            while true {
                guard case (.cMoveRSP(let response), let id) = try await Self.receiveCommand(association) else {
                    throw DIMSEError.unexpectedMessage("expected C-MOVE-RSP")
                }
                let failed = try await Self.failedList(response.hasDataSet, association, id, context.transferSyntax)
                if response.status.kind == .pending {
                    await onProgress(response.counts ?? SubOperationCounts())
                    continue
                }
                return RetrieveOutcome(
                    status: response.status, counts: response.counts ?? SubOperationCounts(), failedSOPInstanceUIDs: failed)
            }
        }
    }

    private static func failedList(_ hasDataSet: Bool, _ association: RequestorAssociation, _ id: UInt8, _ syntax: String) async throws
        -> [String]
    {
        guard hasDataSet else { return [] }
        let bytes = try await receiveDataSet(association, contextID: id)
        return (try? DataSetCoding.decode(bytes, transferSyntaxUID: syntax, options: .default))?.strings(.failedSOPInstanceUIDList) ?? []
    }

    // MARK: C-GET (PS3.4 C.4.3)

    /// Retrieves the instances matching `identifier` on this association, as SCP of the storage classes listed, storing each
    /// with `storage`; role selection proposes the SCP role for each class (PS3.7 D.3.3.4).
    public func get(
        _ identifier: DataSet, model: QueryRetrieveInformationModel, storageSOPClasses: [String], storage: any StorageProvider,
        transferSyntaxes: [String] = StorageProposal.uncompressed, onProgress: (SubOperationCounts) async -> Void = { _ in }
    ) async throws -> RetrieveOutcome {
        let sopClass = model.getSOPClassUID
        // 128 contexts at most: the GET class and up to 127 storage classes.
        let classes = Array(storageSOPClasses.prefix(127))
        let contexts =
            [ProposedPresentationContext(abstractSyntax: sopClass)]
            + classes.map { ProposedPresentationContext(abstractSyntax: $0, transferSyntaxes: transferSyntaxes) }
        let roles = classes.map { RoleSelection(sopClassUID: $0, scuRole: false, scpRole: true) }
        return try await withAssociation(proposal(contexts, roles: roles)) { association in
            guard let context = association.negotiated.context(for: sopClass) else {
                throw DIMSEError.noPresentationContext(abstractSyntax: sopClass)
            }
            let request = CGetRQ(messageID: 1, affectedSOPClassUID: sopClass)
            try await Self.send(
                association, request.commandSet, dataSet: try DataSetCoding.encode(identifier, transferSyntaxUID: context.transferSyntax),
                on: context.id)
            while true {
                let (command, id) = try await Self.receiveCommand(association)
                switch command {
                case .cStoreRQ(let store):
                    let dataSet = try await Self.receiveDataSet(association, contextID: id)
                    let accepted = association.negotiated.acceptedContexts[id]
                    let status: DIMSEStatus
                    if let accepted, accepted.abstractSyntax == store.affectedSOPClassUID {
                        status = await storage.store(
                            StoreRequest(
                                sopClassUID: store.affectedSOPClassUID, sopInstanceUID: store.affectedSOPInstanceUID,
                                transferSyntaxUID: accepted.transferSyntax, dataSet: dataSet, callingAETitle: calledAETitle,
                                calledAETitle: callingAETitle))
                    } else {
                        status = .sopClassNotSupported
                    }
                    let response = CStoreRSP(
                        messageIDBeingRespondedTo: store.messageID, affectedSOPClassUID: store.affectedSOPClassUID,
                        affectedSOPInstanceUID: store.affectedSOPInstanceUID, status: status)
                    try await Self.send(association, response.commandSet, on: id)
                case .cGetRSP(let response):
                    let failed = try await Self.failedList(response.hasDataSet, association, id, context.transferSyntax)
                    if response.status.kind == .pending {
                        await onProgress(response.counts ?? SubOperationCounts())
                        continue
                    }
                    return RetrieveOutcome(
                        status: response.status, counts: response.counts ?? SubOperationCounts(), failedSOPInstanceUIDs: failed)
                default:
                    throw DIMSEError.unexpectedMessage("expected C-STORE-RQ or C-GET-RSP")
                }
            }
        }
    }
}

/// The bytes of the file at `path` (at most `limit`), read with `read(2)` into one buffer of the file's size: no mapping,
/// no page faults, no second copy.
func readFile(_ path: String, limit: Int?) throws(DIMSEError) -> ByteBuffer {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .dataSet("cannot open \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var status = stat()
    guard fstat(fd, &status) == 0 else { throw .dataSet("cannot stat \(path): \(String(cString: strerror(errno)))") }
    let size = min(Int(status.st_size), limit ?? Int.max)
    var buffer = ByteBufferAllocator().buffer(capacity: size)
    var failure: Int32 = 0
    while buffer.writerIndex < size {
        let wanted = size - buffer.writerIndex
        let n = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 0) { target in
            let count = read(fd, target.baseAddress, min(target.count, wanted))
            if count < 0 { failure = errno }
            return max(count, 0)
        }
        if failure == EINTR {
            failure = 0
            continue
        }
        if failure != 0 { throw .dataSet("cannot read \(path): \(String(cString: strerror(failure)))") }
        if n == 0 { break }
    }
    return buffer
}
