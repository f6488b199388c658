import DICOM

/// Presentation contexts for sending instances by C-STORE (PS3.4 B.2, PS3.8 7.1.1.13).
public enum StorageProposal {
    /// The uncompressed syntaxes any storage SCP must be able to take, preferred first (PS3.5 10.1, A.2).
    public static let uncompressed = [explicitVRLittleEndianUID, implicitVRLittleEndianUID]

    /// Contexts for (SOP class, transfer syntax) pairs: one per pair with that syntax alone, so instances go as they are, and
    /// for syntaxes that are not encapsulated one per SOP class with explicit and implicit VR little endian as a fallback.
    public static func contexts(for instances: [(sopClassUID: String, transferSyntaxUID: String)]) -> [ProposedPresentationContext] {
        var contexts: [ProposedPresentationContext] = []
        var seen: Set<[String]> = []
        for (sopClass, syntax) in instances {
            // The file's own syntax alone first, so an acceptor that prefers another cannot force a conversion; then the
            // uncompressed fallback, which any instance that is not encapsulated can be converted to.
            let candidates = [[sopClass, syntax]] + (TransferSyntax(uid: syntax).isEncapsulated ? [] : [[sopClass] + uncompressed])
            for candidate in candidates where seen.insert(candidate).inserted {
                contexts.append(ProposedPresentationContext(abstractSyntax: candidate[0], transferSyntaxes: Array(candidate.dropFirst())))
            }
        }
        return contexts
    }

    /// The accepted context to send an instance on: its own syntax if accepted, else an uncompressed one it can be converted to.
    public static func context(
        for sopClassUID: String, transferSyntaxUID: String, in negotiated: NegotiatedAssociation, requireRequestorSCP: Bool = false
    ) -> AcceptedPresentationContext? {
        let candidates = negotiated.acceptedContexts.values
            .filter { $0.abstractSyntax == sopClassUID && (!requireRequestorSCP || $0.requestorIsSCP) }
            .sorted { $0.id < $1.id }
        if let exact = candidates.first(where: { $0.transferSyntax == transferSyntaxUID }) { return exact }
        guard !TransferSyntax(uid: transferSyntaxUID).isEncapsulated else { return nil }
        return candidates.first { !TransferSyntax(uid: $0.transferSyntax).isEncapsulated }
    }

    /// Reads messages on a requestor association until the C-STORE-RSP to `messageID` arrives.
    static func awaitStoreResponse(_ association: RequestorAssociation, messageID: UInt16) async throws -> CStoreRSP {
        while true {
            let message = try await association.receive()
            guard message.kind == .command, case .cStoreRSP(let response) = try DIMSECommand(decoding: message.bytes),
                response.messageIDBeingRespondedTo == messageID
            else { throw DIMSEError.unexpectedMessage("expected the C-STORE-RSP to message \(messageID)") }
            return response
        }
    }
}

/// The storage SOP classes of the dictionary (PS3.4 B.5).
public enum StorageSOPClasses {
    /// Every storage SOP class UID, retired ones included, for an SCP that takes whatever it is sent.
    public static let all: Set<String> = Set(UIDRegistry.storageSOPClasses.map(\.uid))
}
