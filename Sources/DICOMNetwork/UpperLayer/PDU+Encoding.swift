import NIOCore

extension PDU {
    /// Appends the PDU, header included, to `buffer` (PS3.8 9.3).
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(pduType.rawValue)
        buffer.writeInteger(UInt8(0))
        let lengthIndex = buffer.writerIndex
        buffer.writeInteger(UInt32(0))
        let bodyStart = buffer.writerIndex
        switch self {
        case .associateRQ(let rq):
            encodeAssociateHeader(
                protocolVersion: rq.protocolVersion, called: rq.calledAETitle, calling: rq.callingAETitle,
                applicationContextName: rq.applicationContextName, into: &buffer)
            for context in rq.presentationContexts {
                writeItem(0x20, into: &buffer) { buffer in
                    buffer.writeInteger(context.id)
                    buffer.writeInteger(UInt8(0))
                    buffer.writeInteger(UInt8(0))
                    buffer.writeInteger(UInt8(0))
                    writeUIDItem(0x30, context.abstractSyntax, into: &buffer)
                    for transferSyntax in context.transferSyntaxes {
                        writeUIDItem(0x40, transferSyntax, into: &buffer)
                    }
                }
            }
            rq.userInformation.encode(into: &buffer)
        case .associateAC(let ac):
            encodeAssociateHeader(
                protocolVersion: ac.protocolVersion, called: ac.calledAETitle, calling: ac.callingAETitle,
                applicationContextName: ac.applicationContextName, into: &buffer)
            for context in ac.presentationContexts {
                writeItem(0x21, into: &buffer) { buffer in
                    buffer.writeInteger(context.id)
                    buffer.writeInteger(UInt8(0))
                    buffer.writeInteger(context.result.rawValue)
                    buffer.writeInteger(UInt8(0))
                    if let transferSyntax = context.transferSyntax {
                        writeUIDItem(0x40, transferSyntax, into: &buffer)
                    }
                }
            }
            ac.userInformation.encode(into: &buffer)
        case .associateRJ(let rj):
            buffer.writeInteger(UInt8(0))
            buffer.writeInteger(rj.result.rawValue)
            buffer.writeInteger(rj.source.rawValue)
            buffer.writeInteger(rj.reason.rawValue)
        case .dataTF(let data):
            for value in data.values {
                buffer.writeInteger(UInt32(2 + value.data.readableBytes))
                buffer.writeInteger(value.presentationContextID)
                buffer.writeInteger(value.messageControlHeader)
                var bytes = value.data
                buffer.writeBuffer(&bytes)
            }
        case .releaseRQ, .releaseRP:
            buffer.writeInteger(UInt32(0))
        case .abort(let abort):
            buffer.writeInteger(UInt8(0))
            buffer.writeInteger(UInt8(0))
            buffer.writeInteger(abort.source.rawValue)
            buffer.writeInteger(abort.reason.rawValue)
        }
        buffer.setInteger(UInt32(buffer.writerIndex - bodyStart), at: lengthIndex)
    }

    /// The PDU encoded in a new buffer.
    public func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64)
        encode(into: &buffer)
        return buffer
    }
}

extension UserInformation {
    /// Appends the user information item, type 50H (PS3.8 9.3.2.3), sub-items in the order dcmtk and pynetdicom send (51H, 52H, 55H, 54H, 53H, 56H–59H).
    func encode(into buffer: inout ByteBuffer) {
        writeItem(0x50, into: &buffer) { buffer in
            if let maximumLength {
                writeItem(0x51, into: &buffer) { $0.writeInteger(maximumLength) }
            }
            if let implementationClassUID {
                writeUIDItem(0x52, implementationClassUID, into: &buffer)
            }
            if let implementationVersionName {
                writeItem(0x55, into: &buffer) { $0.writeString(implementationVersionName) }
            }
            for role in roleSelections {
                writeItem(0x54, into: &buffer) {
                    $0.writeInteger(UInt16(role.sopClassUID.utf8.count))
                    $0.writeString(role.sopClassUID)
                    $0.writeInteger(UInt8(role.scuRole ? 1 : 0))
                    $0.writeInteger(UInt8(role.scpRole ? 1 : 0))
                }
            }
            if let window = asynchronousOperationsWindow {
                writeItem(0x53, into: &buffer) {
                    $0.writeInteger(window.maximumNumberOperationsInvoked)
                    $0.writeInteger(window.maximumNumberOperationsPerformed)
                }
            }
            for negotiation in sopClassExtendedNegotiations {
                writeItem(0x56, into: &buffer) {
                    $0.writeInteger(UInt16(negotiation.sopClassUID.utf8.count))
                    $0.writeString(negotiation.sopClassUID)
                    $0.writeBytes(negotiation.serviceClassApplicationInformation)
                }
            }
            for raw in sopClassCommonExtendedNegotiations {
                writeItem(0x57, into: &buffer) { $0.writeBytes(raw) }
            }
            if let userIdentity {
                writeItem(0x58, into: &buffer) { buffer in
                    let (type, primary, secondary) = userIdentity.identity.fields
                    buffer.writeInteger(type)
                    buffer.writeInteger(UInt8(userIdentity.positiveResponseRequested ? 1 : 0))
                    buffer.writeInteger(UInt16(primary.count))
                    buffer.writeBytes(primary)
                    buffer.writeInteger(UInt16(secondary.count))
                    buffer.writeBytes(secondary)
                }
            }
            if let userIdentityResponse {
                writeItem(0x59, into: &buffer) {
                    $0.writeInteger(UInt16(userIdentityResponse.serverResponse.count))
                    $0.writeBytes(userIdentityResponse.serverResponse)
                }
            }
            for item in unknownItems {
                writeItem(item.itemType, into: &buffer) { $0.writeBytes(item.value) }
            }
        }
    }
}

extension UserIdentityRQ.Identity {
    /// The user-identity-type, primary field and secondary field (PS3.7 Table D.3-14).
    var fields: (UInt8, [UInt8], [UInt8]) {
        switch self {
        case .username(let name): return (1, Array(name.utf8), [])
        case .usernameAndPasscode(let name, let passcode): return (2, Array(name.utf8), Array(passcode.utf8))
        case .kerberos(let ticket): return (3, ticket, [])
        case .saml(let assertion): return (4, assertion, [])
        case .jwt(let token): return (5, token, [])
        case .other(let type, let primary, let secondary): return (type, primary, secondary)
        }
    }
}

private func encodeAssociateHeader(
    protocolVersion: UInt16, called: String, calling: String, applicationContextName: String, into buffer: inout ByteBuffer
) {
    buffer.writeInteger(protocolVersion)
    buffer.writeInteger(UInt16(0))
    writeAETitle(called, into: &buffer)
    writeAETitle(calling, into: &buffer)
    buffer.writeRepeatingByte(0, count: 32)
    writeUIDItem(0x10, applicationContextName, into: &buffer)
}

/// AE titles occupy 16 bytes, padded with spaces (PS3.8 9.3.2); longer titles are cut, callers validate earlier.
private func writeAETitle(_ title: String, into buffer: inout ByteBuffer) {
    let bytes = Array(title.utf8.prefix(16))
    buffer.writeBytes(bytes)
    buffer.writeRepeatingByte(0x20, count: 16 - bytes.count)
}

/// UIDs in items are written as they are, without padding, as dcmtk and pynetdicom do (PS3.8 Annex F).
private func writeUIDItem(_ type: UInt8, _ uid: String, into buffer: inout ByteBuffer) {
    writeItem(type, into: &buffer) { $0.writeString(uid) }
}

/// Writes an item header (type, reserved, 2-byte length) around `body` (PS3.8 9.3.2.2).
private func writeItem(_ type: UInt8, into buffer: inout ByteBuffer, body: (inout ByteBuffer) -> Void) {
    buffer.writeInteger(type)
    buffer.writeInteger(UInt8(0))
    let lengthIndex = buffer.writerIndex
    buffer.writeInteger(UInt16(0))
    let start = buffer.writerIndex
    body(&buffer)
    buffer.setInteger(UInt16(truncatingIfNeeded: buffer.writerIndex - start), at: lengthIndex)
}
