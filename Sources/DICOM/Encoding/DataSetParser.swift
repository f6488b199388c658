/// Options for reading a dataset.
public struct ReadOptions: Sendable {
    /// Stop before the first top-level element whose tag is at least this one (e.g. ``Tag/pixelData``).
    public var stopBefore: Tag?
    /// Deepest sequence nesting accepted; deeper streams are rejected as hostile.
    public var maximumDepth: Int
    /// Whether explicit-VR UN elements of known public tags take the dictionary's VR, as pydicom does.
    public var replaceUNWithKnownVR: Bool
    /// Whether a stream that ends inside a value, item or sequence keeps what is there with a warning (as pydicom
    /// does), instead of failing with ``DICOMError/truncated(offset:tag:needed:available:)``. Ingest turns it off.
    public var toleratesTruncation: Bool
    /// How far a deflated dataset (PS3.5 A.5) may inflate; past it the read fails with
    /// ``DICOMError/limitExceeded(offset:reason:)``.
    public var inflationLimits: InflationLimits

    public init(
        stopBefore: Tag? = nil, maximumDepth: Int = 64, replaceUNWithKnownVR: Bool = true, toleratesTruncation: Bool = true,
        inflationLimits: InflationLimits = .default
    ) {
        self.stopBefore = stopBefore
        self.maximumDepth = maximumDepth
        self.replaceUNWithKnownVR = replaceUNWithKnownVR
        self.toleratesTruncation = toleratesTruncation
        self.inflationLimits = inflationLimits
    }

    /// Fails on any truncation: for ingest, where a partial object must not be stored.
    public static let strict = ReadOptions(toleratesTruncation: false)

    /// Everything.
    public static let `default` = ReadOptions()
    /// Stops before Pixel Data, for indexing.
    public static let stopBeforePixelData = ReadOptions(stopBefore: .pixelData)
}

/// Parses data elements from bytes (PS3.5 7). Pure: bytes in, a dataset and warnings out.
struct DataSetParser {
    let storage: ByteStorage
    let base: UnsafeRawPointer
    /// Positions are absolute offsets into `storage`; `reportedOffsetBias` is added in messages (for inflated data).
    var position: Int
    let end: Int
    var explicitVR: Bool
    var littleEndian: Bool
    var warnings: [DICOMWarning] = []
    let options: ReadOptions
    var reportedOffsetBias = 0

    init(storage: ByteStorage, range: Range<Int>, explicitVR: Bool, littleEndian: Bool, options: ReadOptions) {
        self.storage = storage
        base = storage.base
        position = range.lowerBound
        end = range.upperBound
        self.explicitVR = explicitVR
        self.littleEndian = littleEndian
        self.options = options
    }

    // MARK: Primitive reads

    @inline(__always) func u16(_ at: Int) -> UInt16 {
        let v = base.loadUnaligned(fromByteOffset: at, as: UInt16.self)
        return littleEndian ? UInt16(littleEndian: v) : UInt16(bigEndian: v)
    }

    @inline(__always) func u32(_ at: Int) -> UInt32 {
        let v = base.loadUnaligned(fromByteOffset: at, as: UInt32.self)
        return littleEndian ? UInt32(littleEndian: v) : UInt32(bigEndian: v)
    }

    @inline(__always) func byte(_ at: Int) -> UInt8 { base.load(fromByteOffset: at, as: UInt8.self) }

    func offset(_ p: Int) -> Int { p + reportedOffsetBias }

    /// Throws `error` unless truncation is tolerated, in which case it becomes a warning.
    mutating func truncation(_ error: DICOMError, at p: Int, tag: Tag?) throws(DICOMError) {
        guard options.toleratesTruncation else { throw error }
        warn(.truncatedValue, at: p, tag: tag, "\(error); kept what is there")
    }

    mutating func warn(_ kind: DICOMWarning.Kind, at p: Int, tag: Tag?, _ message: String) {
        if warnings.count < 1000 { warnings.append(DICOMWarning(kind, offset: offset(p), tag: tag, message)) }
    }

    // MARK: Element headers

    struct Header {
        var tag: Tag
        var vr: VR?
        var length: UInt32
        var headerLength: Int
        /// Whether the VR came from the stream (explicit) rather than the dictionary.
        var vrFromStream: Bool
    }

    /// Reads the header at `position`, or nil at the end of the stream.
    mutating func readHeader(privateCreators: [UInt32: String], limit: Int) throws(DICOMError) -> Header? {
        let p = position
        let left = limit - p
        if left <= 0 { return nil }
        if left < 8 {
            if (p..<limit).allSatisfy({ byte($0) == 0 }) {
                warn(.trailingBytes, at: p, tag: nil, "\(left) trailing zero bytes after the last element")
                return nil
            }
            try truncation(.truncated(offset: offset(p), tag: nil, needed: 8, available: left), at: p, tag: nil)
            position = limit
            return nil
        }
        let tag = Tag(u16(p), u16(p + 2))
        if tag.group == 0xFFFE {
            return Header(tag: tag, vr: nil, length: u32(p + 4), headerLength: 8, vrFromStream: false)
        }
        if explicitVR {
            if let vr = VR(byte0: byte(p + 4), byte1: byte(p + 5)) {
                if vr.hasLongLength {
                    guard left >= 12 else {
                        try truncation(.truncated(offset: offset(p), tag: tag, needed: 12, available: left), at: p, tag: tag)
                        position = limit
                        return nil
                    }
                    return Header(tag: tag, vr: vr, length: u32(p + 8), headerLength: 12, vrFromStream: true)
                }
                return Header(tag: tag, vr: vr, length: UInt32(u16(p + 6)), headerLength: 8, vrFromStream: true)
            }
            // Not a VR. Either a broken VR in an explicit stream, or implicit-VR encoding after all.
            let implicitLength = u32(p + 4)
            let creator = tag.isPrivate ? privateCreators[privateBlockKey(tag)] : nil
            let vr = DataDictionary.implicitVR(for: tag, privateCreator: creator)
            let b0 = byte(p + 4)
            let b1 = byte(p + 5)
            if implicitLength == 0xFFFF_FFFF || Int(implicitLength) <= left - 8 {
                warn(
                    .invalidVR, at: p, tag: tag,
                    "bytes \(hex2(b0))\(hex2(b1)) are not a VR; read as implicit VR (\(vr)) as dcmtk does")
                return Header(tag: tag, vr: vr, length: implicitLength, headerLength: 8, vrFromStream: false)
            }
            warn(.invalidVR, at: p, tag: tag, "bytes \(hex2(b0))\(hex2(b1)) are not a VR; read as UN with a 16-bit length")
            return Header(tag: tag, vr: .UN, length: UInt32(u16(p + 6)), headerLength: 8, vrFromStream: true)
        }
        let creator = tag.isPrivate ? privateCreators[privateBlockKey(tag)] : nil
        return Header(
            tag: tag, vr: DataDictionary.implicitVR(for: tag, privateCreator: creator), length: u32(p + 4),
            headerLength: 8, vrFromStream: false)
    }

    // MARK: Datasets

    /// Parses elements until the end, an item delimiter (consumed), or `stopBefore` at depth 0.
    mutating func parseDataSet(depth: Int, until limit: Int, inheritedCharacterSet: SpecificCharacterSet) throws(DICOMError) -> (
        DataSet, stoppedAtDelimiter: Bool
    ) {
        var elements: [DataElement] = []
        elements.reserveCapacity(depth == 0 ? 96 : 16)
        var privateCreators: [UInt32: String] = [:]
        // Items inherit the repertoire of the dataset that holds them unless they declare their own (PS3.5 7.5.3).
        var currentCharacterSet = inheritedCharacterSet
        var sorted = true
        var delimited = false
        let savedEnd = limit
        while position < savedEnd {
            let elementStart = position
            guard let header = try readHeader(privateCreators: privateCreators, limit: savedEnd) else { break }
            if header.tag == .itemDelimitationItem {
                position += 8
                delimited = true
                break
            }
            if header.tag == .sequenceDelimitationItem || header.tag == .item {
                if depth == 0 && header.tag == .sequenceDelimitationItem {
                    // A stray sequence delimiter at the top level: dcmtk skips it.
                    warn(.malformedEncapsulation, at: elementStart, tag: header.tag, "stray sequence delimitation item skipped")
                    position += 8
                    continue
                }
                throw .malformed(offset: offset(elementStart), tag: header.tag, reason: "unexpected \(header.tag) inside a dataset")
            }
            if depth == 0, header.tag.rawValue == 0, let last = elements.last, last.tag.rawValue > 0 {
                warn(
                    .trailingBytes, at: elementStart, tag: nil, "\(savedEnd - elementStart) bytes of padding after the last element ignored"
                )
                position = savedEnd
                break
            }
            if depth == 0, let stop = options.stopBefore, header.tag >= stop {
                position = elementStart
                break
            }
            let creator = header.tag.isPrivate ? privateCreators[privateBlockKey(header.tag)] : nil
            var element = try parseValue(
                header, start: elementStart, depth: depth, limit: savedEnd, characterSet: currentCharacterSet,
                privateCreator: creator)
            if element.tag == .specificCharacterSet {
                currentCharacterSet = SpecificCharacterSet(terms: element.strings(characterSet: .default))
            }
            if element.tag.isPrivateCreator, let b = element.bytes {
                privateCreators[privateBlockKey(Tag(element.tag.group, element.tag.element << 8))] =
                    b.withUnsafeBytes { decodeASCIIish($0) }.trimmingTrailingPadding(leading: true)
            }
            if let last = elements.last, last.tag >= element.tag {
                if last.tag == element.tag {
                    warn(.duplicateTag, at: elementStart, tag: element.tag, "tag repeated; the later value is kept")
                } else {
                    warn(.outOfOrder, at: elementStart, tag: element.tag, "tag out of ascending order")
                }
                sorted = false
            }
            if element.hadUndefinedLength == false, case .bytes(let b) = element.value, b.count % 2 == 1 {
                warn(.oddLength, at: elementStart, tag: element.tag, "odd value length \(b.count)")
            }
            element.offset = offset(elementStart)
            elements.append(element)
        }
        var characterSet = inheritedCharacterSet
        if let cs = elements.first(where: { $0.tag == .specificCharacterSet }) {
            characterSet = SpecificCharacterSet(terms: cs.strings(characterSet: .default))
            if !characterSet.unknownTerms.isEmpty {
                warn(
                    .unknownCharacterSet, at: position, tag: .specificCharacterSet,
                    "unknown Specific Character Set term(s) \(characterSet.unknownTerms.joined(separator: ", "))")
            }
        }
        var dataSet =
            sorted
            ? DataSet(sortedElements: elements, characterSet: characterSet)
            : DataSet(elements: elements, characterSet: characterSet)
        if !explicitVR { resolveAmbiguousVRs(&dataSet) }
        return (dataSet, delimited)
    }

    // MARK: Values

    mutating func parseValue(
        _ header: Header, start: Int, depth: Int, limit: Int, characterSet: SpecificCharacterSet,
        privateCreator: String? = nil
    ) throws(DICOMError) -> DataElement {
        let tag = header.tag
        var vr = header.vr ?? .UN
        let valueStart = start + header.headerLength
        position = valueStart
        if header.length == 0xFFFF_FFFF {
            if vr == .SQ {
                let items = try parseItems(depth: depth + 1, limit: limit, definedEnd: nil, tag: tag, characterSet: characterSet)
                return DataElement(tag: tag, vr: .SQ, value: .sequence(items), isLittleEndian: littleEndian, hadUndefinedLength: true)
            }
            if vr == .UN || (!header.vrFromStream && vr != .OB && vr != .OW) {
                // PS3.5 6.2.2: UN with undefined length is a sequence encoded in implicit VR little endian.
                if header.vrFromStream {
                    warn(.undefinedLengthUN, at: start, tag: tag, "UN with undefined length read as an implicit VR little endian sequence")
                }
                let saved = (explicitVR, littleEndian)
                explicitVR = false
                littleEndian = true
                let items = try parseItems(depth: depth + 1, limit: limit, definedEnd: nil, tag: tag, characterSet: characterSet)
                (explicitVR, littleEndian) = saved
                return DataElement(tag: tag, vr: .SQ, value: .sequence(items), isLittleEndian: littleEndian, hadUndefinedLength: true)
            }
            if vr == .OB || vr == .OW || tag == .pixelData {
                let encapsulated = try parseEncapsulated(tag: tag, limit: limit)
                return DataElement(
                    tag: tag, vr: vr == .OW ? .OW : .OB, value: .encapsulated(encapsulated), isLittleEndian: littleEndian,
                    hadUndefinedLength: true)
            }
            warn(.undefinedLengthNonSequence, at: start, tag: tag, "undefined length on a \(vr) element; read as a sequence")
            let items = try parseItems(depth: depth + 1, limit: limit, definedEnd: nil, tag: tag, characterSet: characterSet)
            return DataElement(tag: tag, vr: .SQ, value: .sequence(items), isLittleEndian: littleEndian, hadUndefinedLength: true)
        }
        var length = Int(header.length)
        let available = limit - valueStart
        if length > available {
            try truncation(.truncated(offset: offset(start), tag: tag, needed: length, available: max(available, 0)), at: start, tag: tag)
            length = max(available, 0)
        }
        let valueEnd = valueStart + length
        // Explicit-VR UN holding a known tag: take the dictionary's VR (pydicom's replace_un_with_known_vr).
        let known: DataDictionary.Entry? =
            vr == .UN && header.vrFromStream && options.replaceUNWithKnownVR
            ? (tag.isPrivateCreator
                ? DataDictionary.entry(for: tag)
                : tag.isPrivate
                    ? privateCreator.flatMap { DataDictionary.privateEntry(for: tag, creator: $0) } : DataDictionary.entry(for: tag))
            : nil
        if let entry = known, entry.vr != .UN, entry.allowedVRs.count == 1 {
            vr = entry.vr
            if vr == .SQ {
                let saved = (explicitVR, littleEndian)
                explicitVR = false
                littleEndian = true
                let items = try parseItems(depth: depth + 1, limit: valueEnd, definedEnd: valueEnd, tag: tag, characterSet: characterSet)
                (explicitVR, littleEndian) = saved
                position = valueEnd
                return DataElement(tag: tag, vr: .SQ, value: .sequence(items), isLittleEndian: true)
            }
            position = valueEnd
            return DataElement(
                tag: tag, vr: vr, value: .bytes(ByteSlice(storage: storage, range: valueStart..<valueEnd)),
                isLittleEndian: true)
        }
        if vr == .SQ {
            let items = try parseItems(depth: depth + 1, limit: valueEnd, definedEnd: valueEnd, tag: tag, characterSet: characterSet)
            position = valueEnd
            return DataElement(tag: tag, vr: .SQ, value: .sequence(items), isLittleEndian: littleEndian)
        }
        position = valueEnd
        return DataElement(
            tag: tag, vr: vr, value: .bytes(ByteSlice(storage: storage, range: valueStart..<valueEnd)),
            isLittleEndian: littleEndian)
    }

    /// Parses sequence items until the sequence delimiter (undefined length) or `definedEnd`.
    mutating func parseItems(depth: Int, limit: Int, definedEnd: Int?, tag: Tag, characterSet: SpecificCharacterSet) throws(DICOMError)
        -> [DataSet]
    {
        if depth > options.maximumDepth {
            throw .limitExceeded(offset: offset(position), reason: "sequences nested deeper than \(options.maximumDepth)")
        }
        var items: [DataSet] = []
        let stop = definedEnd ?? limit
        while true {
            if position >= stop {
                if definedEnd == nil {
                    try truncation(.truncated(offset: offset(position), tag: tag, needed: 8, available: 0), at: position, tag: tag)
                }
                break
            }
            guard stop - position >= 8 else {
                try truncation(
                    .truncated(offset: offset(position), tag: tag, needed: 8, available: stop - position), at: position, tag: tag)
                position = stop
                break
            }
            let itemStart = position
            let itemTag = Tag(u16(position), u16(position + 2))
            let itemLength = u32(position + 4)
            if itemTag == .sequenceDelimitationItem {
                position += 8
                if definedEnd != nil {
                    warn(.malformedEncapsulation, at: itemStart, tag: tag, "sequence delimiter inside a defined-length sequence")
                    continue
                }
                break
            }
            guard itemTag == .item else {
                throw .malformed(
                    offset: offset(itemStart), tag: tag, reason: "expected an item tag (FFFE,E000) in the sequence, found \(itemTag)")
            }
            position += 8
            if itemLength == 0xFFFF_FFFF {
                let (item, delimited) = try parseDataSet(depth: depth, until: stop, inheritedCharacterSet: characterSet)
                items.append(item)
                if !delimited {
                    try truncation(.truncated(offset: offset(position), tag: tag, needed: 8, available: 0), at: position, tag: tag)
                    break
                }
            } else {
                var itemEnd = position + Int(itemLength)
                if itemEnd > stop {
                    try truncation(
                        .truncated(offset: offset(itemStart), tag: tag, needed: Int(itemLength), available: stop - position),
                        at: itemStart, tag: tag)
                    itemEnd = stop
                }
                let (item, _) = try parseDataSet(depth: depth, until: itemEnd, inheritedCharacterSet: characterSet)
                position = itemEnd
                items.append(item)
            }
        }
        return items
    }

    /// Parses encapsulated pixel data items: the Basic Offset Table, then fragments, then the delimiter (PS3.5 A.4).
    mutating func parseEncapsulated(tag: Tag, limit: Int) throws(DICOMError) -> EncapsulatedPixelData {
        var table: ByteSlice?
        var fragments: [ByteSlice] = []
        let saved = littleEndian
        // Item tags inside encapsulated data are little endian even in the retired big-endian syntax (PS3.5 A.4).
        littleEndian = true
        defer { littleEndian = saved }
        while true {
            guard limit - position >= 8 else {
                if limit - position == 0 && !fragments.isEmpty {
                    warn(.malformedEncapsulation, at: position, tag: tag, "encapsulated pixel data ends without a sequence delimiter")
                    break
                }
                try truncation(
                    .truncated(offset: offset(position), tag: tag, needed: 8, available: limit - position), at: position, tag: tag)
                position = limit
                break
            }
            let itemStart = position
            let itemTag = Tag(u16(position), u16(position + 2))
            let length = u32(position + 4)
            if itemTag == .sequenceDelimitationItem {
                position += 8
                break
            }
            guard itemTag == .item, length != 0xFFFF_FFFF else {
                throw .malformed(
                    offset: offset(itemStart), tag: tag, reason: "expected a fragment item in encapsulated data, found \(itemTag)")
            }
            position += 8
            var fragmentLength = Int(length)
            if fragmentLength > limit - position {
                try truncation(
                    .truncated(offset: offset(itemStart), tag: tag, needed: fragmentLength, available: limit - position),
                    at: itemStart, tag: tag)
                fragmentLength = limit - position
            }
            let slice = ByteSlice(storage: storage, range: position..<(position + fragmentLength))
            position += fragmentLength
            if table == nil { table = slice } else { fragments.append(slice) }
        }
        return EncapsulatedPixelData(basicOffsetTable: table ?? .empty, fragments: fragments)
    }

    // MARK: Ambiguous VRs in implicit-VR streams (PS3.5 Annex A.1, as pydicom resolves them)

    func resolveAmbiguousVRs(_ dataSet: inout DataSet) {
        var changes: [(Tag, VR)] = []
        let pixelRepresentation = dataSet.int(.pixelRepresentation)
        for e in dataSet.elements where !e.tag.isPrivate && e.vr != .SQ {
            guard let entry = DataDictionary.entry(for: e.tag), entry.allowedVRs.count > 1 else { continue }
            let allowed = Set(entry.allowedVRs)
            if e.tag == .pixelData || e.tag.group & 0xFF00 == 0x6000 && e.tag.element == 0x3000 || allowed == [.OB, .OW] {
                if case .bytes = e.value { changes.append((e.tag, .OW)) }
            } else if allowed.contains(.SS) && allowed.contains(.US) && !allowed.contains(.OW) {
                var representation = pixelRepresentation
                if representation == nil {
                    representation = dataSet.contains(.pixelData) ? 1 : 0
                }
                changes.append((e.tag, representation == 0 ? .US : .SS))
            } else if e.tag == Tag(0x0028, 0x3006) {
                changes.append((e.tag, dataSet.ints(Tag(0x0028, 0x3002)).first == 1 ? .US : .OW))
            } else if allowed.contains(.OW) {
                changes.append((e.tag, .OW))
            }
        }
        for (tag, vr) in changes {
            if var e = dataSet[tag] {
                e.vr = vr
                dataSet[tag] = e
            }
        }
    }
}

@inline(__always) func privateBlockKey(_ tag: Tag) -> UInt32 { UInt32(tag.group) << 8 | UInt32(tag.element >> 8) }

func hex2(_ b: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return String([digits[Int(b >> 4)], digits[Int(b & 0xF)]])
}
