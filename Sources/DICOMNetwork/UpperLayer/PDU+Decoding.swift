import NIOCore

extension PDU {
    /// Size of the PDU header: type, reserved, 4-byte length (PS3.8 9.3.1).
    public static let headerLength = 6

    /// Reads one complete PDU from the front of `buffer`, or returns nil and consumes nothing while it is incomplete (PS3.8 9.3).
    ///
    /// The length field is checked against `maximumLength` as soon as the header is readable, before any body is buffered.
    public static func decode(from buffer: inout ByteBuffer, maximumLength: Int) throws(UpperLayerError) -> PDU? {
        guard let header = try peekHeader(buffer, maximumLength: maximumLength) else { return nil }
        guard buffer.readableBytes >= headerLength + header.length else { return nil }
        buffer.moveReaderIndex(forwardBy: headerLength)
        guard let body = buffer.readSlice(length: header.length) else { return nil }
        return try decodeBody(type: header.type, body: body)
    }

    /// Decodes `bytes` as exactly one PDU (PS3.8 9.3).
    public init(decoding bytes: ByteBuffer, maximumLength: Int = Int(UInt32.max)) throws(UpperLayerError) {
        var buffer = bytes
        guard let pdu = try PDU.decode(from: &buffer, maximumLength: maximumLength) else {
            let type = bytes.getInteger(at: bytes.readerIndex, as: UInt8.self) ?? 0
            throw .malformedPDU(pduType: type, offset: bytes.readableBytes, reason: "PDU is truncated")
        }
        guard buffer.readableBytes == 0 else {
            throw .malformedPDU(
                pduType: pdu.pduType.rawValue, offset: bytes.readableBytes - buffer.readableBytes,
                reason: "\(buffer.readableBytes) bytes follow the PDU")
        }
        self = pdu
    }

    /// Reads the type and length of the PDU at the front of `buffer` without consuming it; nil if fewer than 6 bytes.
    static func peekHeader(_ buffer: ByteBuffer, maximumLength: Int) throws(UpperLayerError) -> (type: PDUType, length: Int)? {
        guard let rawType = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
            let length = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt32.self)
        else { return nil }
        guard let type = PDUType(rawValue: rawType) else { throw .unrecognizedPDUType(rawType) }
        guard UInt64(length) <= UInt64(max(maximumLength, 0)) else {
            throw .pduLengthExceedsLimit(pduType: rawType, length: Int(length), limit: maximumLength)
        }
        return (type, Int(length))
    }

    private static func decodeBody(type: PDUType, body: ByteBuffer) throws(UpperLayerError) -> PDU {
        var reader = ItemReader(buffer: body, base: headerLength, pduType: type.rawValue)
        switch type {
        case .associateRQ:
            let header = try reader.readAssociateHeader()
            var contexts: [PresentationContext] = []
            var applicationContextName: String?
            var userInformation: UserInformation?
            while reader.hasMore {
                let (itemType, item) = try reader.readItem()
                switch itemType {
                case 0x10: applicationContextName = try reader.uid(item)
                case 0x20: contexts.append(try reader.readProposedContext(item))
                case 0x50: userInformation = try reader.readUserInformation(item)
                default: throw reader.error("unexpected item type \(itemType) in A-ASSOCIATE-RQ", at: item.base - 4)
                }
            }
            guard let applicationContextName else { throw reader.error("missing application context item") }
            guard !contexts.isEmpty else { throw reader.error("no presentation context item") }
            return .associateRQ(
                AAssociateRQ(
                    protocolVersion: header.version, calledAETitle: header.called, callingAETitle: header.calling,
                    applicationContextName: applicationContextName, presentationContexts: contexts,
                    userInformation: userInformation ?? UserInformation()))
        case .associateAC:
            let header = try reader.readAssociateHeader()
            var contexts: [PresentationContextResult] = []
            var applicationContextName: String?
            var userInformation: UserInformation?
            while reader.hasMore {
                let (itemType, item) = try reader.readItem()
                switch itemType {
                case 0x10: applicationContextName = try reader.uid(item)
                case 0x21: contexts.append(try reader.readContextResult(item))
                case 0x50: userInformation = try reader.readUserInformation(item)
                default: throw reader.error("unexpected item type \(itemType) in A-ASSOCIATE-AC", at: item.base - 4)
                }
            }
            guard let applicationContextName else { throw reader.error("missing application context item") }
            return .associateAC(
                AAssociateAC(
                    protocolVersion: header.version, calledAETitle: header.called, callingAETitle: header.calling,
                    applicationContextName: applicationContextName, presentationContexts: contexts,
                    userInformation: userInformation ?? UserInformation()))
        case .associateRJ:
            try reader.expectLength(4)
            _ = try reader.readByte()
            let resultOffset = reader.offset
            guard let result = AAssociateRJ.Result(rawValue: try reader.readByte()) else {
                throw reader.error("invalid A-ASSOCIATE-RJ result", at: resultOffset)
            }
            guard let source = AAssociateRJ.Source(rawValue: try reader.readByte()) else {
                throw reader.error("invalid A-ASSOCIATE-RJ source", at: resultOffset + 1)
            }
            return .associateRJ(AAssociateRJ(result: result, source: source, reason: .init(rawValue: try reader.readByte())))
        case .dataTF:
            var values: [PresentationDataValue] = []
            while reader.hasMore {
                let lengthOffset = reader.offset
                let length = Int(try reader.readUInt32())
                guard length >= 2 else { throw reader.error("PDV item length \(length) is below 2", at: lengthOffset) }
                guard length <= reader.remaining else {
                    throw reader.error("PDV item length \(length) exceeds the PDU", at: lengthOffset)
                }
                let contextID = try reader.readByte()
                let header = try reader.readByte()
                let data = try reader.readSlice(length - 2)
                values.append(
                    PresentationDataValue(
                        presentationContextID: contextID, isCommand: header & 0x01 != 0, isLastFragment: header & 0x02 != 0,
                        data: data.buffer))
            }
            guard !values.isEmpty else { throw reader.error("P-DATA-TF without a presentation data value") }
            return .dataTF(PDataTF(values: values))
        case .releaseRQ, .releaseRP:
            try reader.expectLength(4)
            return type == .releaseRQ ? .releaseRQ : .releaseRP
        case .abort:
            try reader.expectLength(4)
            _ = try reader.readUInt16()
            let sourceOffset = reader.offset
            guard let source = AAbort.Source(rawValue: try reader.readByte()) else {
                throw reader.error("invalid A-ABORT source", at: sourceOffset)
            }
            let rawReason = try reader.readByte()
            // The reason is not significant when the service user aborts (PS3.8 Table 9-26).
            let reason = AAbort.Reason(rawValue: rawReason) ?? .notSpecified
            return .abort(AAbort(source: source, reason: source == .serviceProvider ? reason : .notSpecified))
        }
    }
}

/// Reads fields and items from a PDU body slice, reporting errors with offsets from the PDU's first byte.
private struct ItemReader {
    var buffer: ByteBuffer
    /// Offset of `buffer`'s first byte from the PDU's first byte.
    let base: Int
    let pduType: UInt8

    var offset: Int { base + buffer.readerIndex }
    var hasMore: Bool { buffer.readableBytes > 0 }
    var remaining: Int { buffer.readableBytes }

    func error(_ reason: String, at offset: Int? = nil) -> UpperLayerError {
        .malformedPDU(pduType: pduType, offset: offset ?? self.offset, reason: reason)
    }

    func expectLength(_ length: Int) throws(UpperLayerError) {
        guard buffer.readableBytes == length else {
            throw error("length is \(buffer.readableBytes), expected \(length)", at: 2)
        }
    }

    mutating func readByte() throws(UpperLayerError) -> UInt8 {
        guard let value = buffer.readInteger(as: UInt8.self) else { throw error("truncated") }
        return value
    }

    mutating func readUInt16() throws(UpperLayerError) -> UInt16 {
        guard let value = buffer.readInteger(as: UInt16.self) else { throw error("truncated") }
        return value
    }

    mutating func readUInt32() throws(UpperLayerError) -> UInt32 {
        guard let value = buffer.readInteger(as: UInt32.self) else { throw error("truncated") }
        return value
    }

    mutating func readSlice(_ length: Int) throws(UpperLayerError) -> ItemReader {
        let start = offset
        guard length >= 0, let slice = buffer.readSlice(length: length) else {
            throw error("field of \(length) bytes runs past its container")
        }
        return ItemReader(buffer: slice, base: start, pduType: pduType)
    }

    mutating func readBytes(_ length: Int) throws(UpperLayerError) -> [UInt8] {
        var slice = try readSlice(length)
        return slice.buffer.readBytes(length: length) ?? []
    }

    /// Reads an item header (type, reserved, 2-byte length) and its value (PS3.8 9.3.2).
    mutating func readItem() throws(UpperLayerError) -> (UInt8, ItemReader) {
        let type = try readByte()
        _ = try readByte()
        let length = Int(try readUInt16())
        return (type, try readSlice(length))
    }

    mutating func readAssociateHeader() throws(UpperLayerError) -> (version: UInt16, called: String, calling: String) {
        guard buffer.readableBytes >= 68 else { throw error("A-ASSOCIATE header is shorter than 68 bytes") }
        let version = try readUInt16()
        _ = try readUInt16()
        let called = try readAETitle("called")
        let calling = try readAETitle("calling")
        _ = try readSlice(32)
        return (version, called, calling)
    }

    /// Reads a 16-byte AE title field. AE titles use the default character repertoire without backslash or control
    /// characters, and leading and trailing spaces are not significant (PS3.8 9.3.2, PS3.5 6.2 VR AE); trailing NULs,
    /// which some peers pad with, are tolerated. Any other byte fails with its offset instead of decoding to U+FFFD.
    mutating func readAETitle(_ field: String) throws(UpperLayerError) -> String {
        let start = offset
        let bytes = try readBytes(16)
        var end = bytes.count
        while end > 0, bytes[end - 1] == 0 || bytes[end - 1] == 0x20 { end -= 1 }
        var first = 0
        while first < end, bytes[first] == 0x20 { first += 1 }
        for index in first..<end where !isAETitleByte(bytes[index]) {
            throw error(
                "\(field) AE title has byte \(hexByte(bytes[index])), outside the default character repertoire without "
                    + "backslash and control characters", at: start + index)
        }
        return String(decoding: bytes[first..<end], as: UTF8.self)
    }

    /// A UID item value, tolerating trailing NUL or space padding (PS3.8 Annex F).
    func uid(_ item: ItemReader) throws(UpperLayerError) -> String {
        let bytes = item.buffer.readableBytesView
        var end = bytes.endIndex
        while end > bytes.startIndex, bytes[end - 1] == 0 || bytes[end - 1] == 0x20 { end -= 1 }
        let trimmed = bytes[bytes.startIndex..<end]
        guard !trimmed.isEmpty else { throw error("empty UID", at: item.base) }
        guard trimmed.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { throw error("UID is not ASCII", at: item.base) }
        return String(decoding: trimmed, as: UTF8.self)
    }

    mutating func readProposedContext(_ item: ItemReader) throws(UpperLayerError) -> PresentationContext {
        var item = item
        guard item.remaining >= 4 else { throw error("presentation context item is shorter than 4 bytes", at: item.base) }
        let id = try item.readByte()
        _ = try item.readSlice(3)
        var abstractSyntax: String?
        var transferSyntaxes: [String] = []
        while item.hasMore {
            let (type, sub) = try item.readItem()
            switch type {
            case 0x30: abstractSyntax = try uid(sub)
            case 0x40: transferSyntaxes.append(try uid(sub))
            default: throw error("unexpected sub-item type \(type) in presentation context \(id)", at: sub.base - 4)
            }
        }
        guard let abstractSyntax else { throw error("presentation context \(id) has no abstract syntax", at: item.base) }
        guard !transferSyntaxes.isEmpty else {
            throw error("presentation context \(id) has no transfer syntax", at: item.base)
        }
        return PresentationContext(id: id, abstractSyntax: abstractSyntax, transferSyntaxes: transferSyntaxes)
    }

    mutating func readContextResult(_ item: ItemReader) throws(UpperLayerError) -> PresentationContextResult {
        var item = item
        guard item.remaining >= 4 else { throw error("presentation context item is shorter than 4 bytes", at: item.base) }
        let id = try item.readByte()
        _ = try item.readByte()
        let resultOffset = item.offset
        guard let result = PresentationContextResult.Result(rawValue: try item.readByte()) else {
            throw error("invalid presentation context result", at: resultOffset)
        }
        _ = try item.readByte()
        var transferSyntax: String?
        while item.hasMore {
            let (type, sub) = try item.readItem()
            guard type == 0x40 else {
                throw error("unexpected sub-item type \(type) in presentation context result \(id)", at: sub.base - 4)
            }
            // The transfer syntax is not significant unless the context was accepted (PS3.8 9.3.3.2).
            if result == .acceptance {
                transferSyntax = try uid(sub)
            } else {
                transferSyntax = try? uid(sub)
            }
        }
        guard result != .acceptance || transferSyntax != nil else {
            throw error("accepted presentation context \(id) has no transfer syntax", at: item.base)
        }
        return PresentationContextResult(id: id, result: result, transferSyntax: transferSyntax)
    }

    mutating func readUserInformation(_ item: ItemReader) throws(UpperLayerError) -> UserInformation {
        var item = item
        var info = UserInformation()
        while item.hasMore {
            let (type, value) = try item.readItem()
            var sub = value
            switch type {
            case 0x51:
                guard sub.remaining == 4 else { throw error("maximum length sub-item is not 4 bytes", at: sub.base) }
                info.maximumLength = try sub.readUInt32()
            case 0x52:
                info.implementationClassUID = try uid(sub)
            case 0x53:
                guard sub.remaining == 4 else {
                    throw error("asynchronous operations window sub-item is not 4 bytes", at: sub.base)
                }
                info.asynchronousOperationsWindow = AsynchronousOperationsWindow(
                    maximumNumberOperationsInvoked: try sub.readUInt16(), maximumNumberOperationsPerformed: try sub.readUInt16())
            case 0x54:
                let uidLength = Int(try sub.readUInt16())
                let sopClass = try uid(try sub.readSlice(uidLength))
                let scu = try sub.readByte()
                let scp = try sub.readByte()
                info.roleSelections.append(RoleSelection(sopClassUID: sopClass, scuRole: scu == 1, scpRole: scp == 1))
            case 0x55:
                let bytes = sub.buffer.readableBytesView
                info.implementationVersionName = String(decoding: bytes, as: UTF8.self)
                    .trimmed(of: " \0")
            case 0x56:
                let uidLength = Int(try sub.readUInt16())
                let sopClass = try uid(try sub.readSlice(uidLength))
                info.sopClassExtendedNegotiations.append(
                    SOPClassExtendedNegotiation(sopClassUID: sopClass, serviceClassApplicationInformation: try sub.readBytes(sub.remaining))
                )
            case 0x57:
                info.sopClassCommonExtendedNegotiations.append(try sub.readBytes(sub.remaining))
            case 0x58:
                let identityType = try sub.readByte()
                let positive = try sub.readByte()
                let primary = try sub.readBytes(Int(try sub.readUInt16()))
                let secondary = sub.hasMore ? try sub.readBytes(Int(try sub.readUInt16())) : []
                let identity: UserIdentityRQ.Identity
                switch identityType {
                case 1: identity = .username(String(decoding: primary, as: UTF8.self))
                case 2:
                    identity = .usernameAndPasscode(
                        username: String(decoding: primary, as: UTF8.self), passcode: String(decoding: secondary, as: UTF8.self))
                case 3: identity = .kerberos(primary)
                case 4: identity = .saml(primary)
                case 5: identity = .jwt(primary)
                default: identity = .other(type: identityType, primaryField: primary, secondaryField: secondary)
                }
                info.userIdentity = UserIdentityRQ(identity: identity, positiveResponseRequested: positive == 1)
            case 0x59:
                let length = Int(try sub.readUInt16())
                info.userIdentityResponse = UserIdentityAC(serverResponse: try sub.readBytes(length))
            default:
                info.unknownItems.append(UnknownItem(itemType: type, value: try sub.readBytes(sub.remaining)))
            }
        }
        return info
    }
}

/// Whether `byte` may appear in an AE title: ISO 646 G0 graphic characters and space, except backslash (PS3.5 6.2).
private func isAETitleByte(_ byte: UInt8) -> Bool {
    byte >= 0x20 && byte < 0x7F && byte != 0x5C
}

private func hexByte(_ byte: UInt8) -> String {
    let digits = String(byte, radix: 16, uppercase: true)
    return (digits.count == 1 ? "0" : "") + digits + "H"
}

extension AAssociateRQ {
    /// Why `title` cannot be sent as an AE title, or nil if it can: 1 to 16 characters of the default character
    /// repertoire, no backslash or control characters, not only spaces (PS3.5 6.2 VR AE, PS3.8 9.3.2).
    public static func aeTitleProblem(_ title: String) -> String? {
        let bytes = Array(title.utf8)
        if bytes.isEmpty || bytes.count > 16 { return "AE titles have 1 to 16 characters: \"\(title)\"" }
        if bytes.allSatisfy({ $0 == 0x20 }) { return "an AE title may not be only spaces" }
        if !bytes.allSatisfy(isAETitleByte) {
            return "AE title \"\(title)\" has a character outside the default repertoire, a backslash or a control character"
        }
        return nil
    }
}

extension String {
    /// The string without leading and trailing characters from `set`.
    fileprivate func trimmed(of set: String) -> String {
        let characters = Set(set)
        guard let first = firstIndex(where: { !characters.contains($0) }),
            let last = lastIndex(where: { !characters.contains($0) })
        else { return "" }
        return String(self[first...last])
    }
}
