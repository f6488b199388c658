/// The value of a data element.
public enum DataValue: Sendable, Equatable {
    /// The bytes of a primitive value, without trailing padding removed, in ``DataElement/isLittleEndian`` order.
    case bytes(ByteSlice)
    /// The items of a sequence (SQ).
    case sequence([DataSet])
    /// Encapsulated (compressed) pixel data: offset table and fragments (PS3.5 A.4).
    case encapsulated(EncapsulatedPixelData)
}

/// One data element: tag, VR and value (PS3.5 7.1).
public struct DataElement: Sendable, Equatable {
    public var tag: Tag
    public var vr: VR
    public var value: DataValue
    /// Byte order of ``DataValue/bytes`` values.
    public var isLittleEndian: Bool
    /// Whether the element was encoded with undefined length (sequences and encapsulated data).
    public var hadUndefinedLength: Bool
    /// The byte offset of the element's tag in the stream it was read from, or -1.
    public var offset: Int

    public init(tag: Tag, vr: VR, value: DataValue, isLittleEndian: Bool = true, hadUndefinedLength: Bool = false, offset: Int = -1) {
        self.tag = tag
        self.vr = vr
        self.value = value
        self.isLittleEndian = isLittleEndian
        self.hadUndefinedLength = hadUndefinedLength
        self.offset = offset
    }

    /// A primitive element holding `bytes` (little endian).
    public init(tag: Tag, vr: VR, bytes: some Collection<UInt8>) {
        self.init(tag: tag, vr: vr, value: .bytes(ByteSlice(bytes)))
    }

    /// The raw bytes of a primitive value, or nil for sequences and encapsulated data.
    public var bytes: ByteSlice? {
        if case .bytes(let b) = value { return b }
        return nil
    }

    /// The items of a sequence, or nil.
    public var items: [DataSet]? {
        if case .sequence(let s) = value { return s }
        return nil
    }

    /// The encapsulated pixel data, or nil.
    public var encapsulated: EncapsulatedPixelData? {
        if case .encapsulated(let e) = value { return e }
        return nil
    }

    /// The length of the primitive value in bytes (0 for sequences and encapsulated data).
    public var length: Int { bytes?.count ?? 0 }

    public static func == (a: DataElement, b: DataElement) -> Bool {
        a.tag == b.tag && a.vr == b.vr && a.valuesEqual(b)
    }

    private func valuesEqual(_ other: DataElement) -> Bool {
        switch (value, other.value) {
        case (.bytes(let x), .bytes(let y)):
            if isLittleEndian == other.isLittleEndian || vr.unitSize == 1 { return x == y }
            return littleEndianBytes() == other.littleEndianBytes()
        case (.sequence(let x), .sequence(let y)): return x == y
        case (.encapsulated(let x), .encapsulated(let y)): return x == y
        default: return false
        }
    }

    /// The primitive value in little-endian order (a copy only when it must be swapped).
    /// `unit` overrides the VR's byte-swapping unit: native OW Pixel Data of 32- or 64-bit samples is big endian per
    /// sample, not per word (``DataSet/byteSwapUnit(of:)`` knows which).
    public func littleEndianBytes(unit: Int? = nil) -> ByteSlice {
        guard let b = bytes else { return .empty }
        let unit = unit ?? (vr == .AT ? 2 : vr.unitSize)
        if isLittleEndian || unit == 1 { return b }
        return ByteSlice(swapped(b, unit: unit))
    }
}

/// Reverses the bytes of each `unit`-sized value.
func swapped(_ bytes: ByteSlice, unit: Int) -> [UInt8] {
    var out = bytes.array
    if unit <= 1 { return out }
    var i = 0
    while i + unit <= out.count {
        out[i..<(i + unit)].reverse()
        i += unit
    }
    return out
}

/// Encapsulated pixel data: the Basic Offset Table and the fragments (PS3.5 A.4).
public struct EncapsulatedPixelData: Sendable, Equatable {
    /// The Basic Offset Table item's bytes (often empty).
    public var basicOffsetTable: ByteSlice
    /// The fragments, in order.
    public var fragments: [ByteSlice]

    public init(basicOffsetTable: ByteSlice = .empty, fragments: [ByteSlice]) {
        self.basicOffsetTable = basicOffsetTable
        self.fragments = fragments
    }

    /// The offsets in the Basic Offset Table.
    public var basicOffsets: [UInt32] {
        basicOffsetTable.withUnsafeBytes { raw in
            (0..<(raw.count / 4)).map { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) }
        }
    }

    /// Groups fragments into frames (PS3.5 A.4): by the Extended Offset Table when given, else by the Basic Offset
    /// Table, else one frame per fragment when the counts agree, else all fragments as one frame when there is one
    /// frame, else by the start-of-image markers of JPEG-family streams.
    public func frameFragmentRanges(numberOfFrames: Int, extendedOffsets: [UInt64]? = nil) -> [Range<Int>] {
        let frames = max(numberOfFrames, 1)
        // Byte position of each fragment's item tag relative to the first fragment, as offset tables count.
        var positions: [UInt64] = []
        positions.reserveCapacity(fragments.count)
        var position: UInt64 = 0
        for f in fragments {
            positions.append(position)
            position += UInt64(f.count) + 8
        }
        func ranges(from offsets: [UInt64]) -> [Range<Int>]? {
            var starts: [Int] = []
            for o in offsets {
                guard let index = positions.firstIndex(of: o) else { return nil }
                starts.append(index)
            }
            guard !starts.isEmpty, starts == starts.sorted() else { return nil }
            return starts.indices.map { i in starts[i]..<(i + 1 < starts.count ? starts[i + 1] : fragments.count) }
        }
        if let extended = extendedOffsets, let r = ranges(from: extended) { return r }
        let basic = basicOffsets.map(UInt64.init)
        if !basic.isEmpty, let r = ranges(from: basic) { return r }
        if fragments.count == frames { return (0..<frames).map { $0..<($0 + 1) } }
        if frames == 1 { return [0..<fragments.count] }
        var starts: [Int] = []
        for (i, f) in fragments.enumerated() where f.count >= 2 {
            let a = f[f.startIndex], b = f[f.startIndex + 1]
            if a == 0xFF && (b == 0xD8 || b == 0x4F) { starts.append(i) }
        }
        if starts.count == frames {
            return starts.indices.map { i in starts[i]..<(i + 1 < starts.count ? starts[i + 1] : fragments.count) }
        }
        return (0..<min(frames, fragments.count)).map { $0..<($0 + 1) }
    }

    /// The bytes of frame `index` (fragments concatenated); nil when there is no such frame.
    public func frame(_ index: Int, numberOfFrames: Int, extendedOffsets: [UInt64]? = nil) -> [UInt8]? {
        let ranges = frameFragmentRanges(numberOfFrames: numberOfFrames, extendedOffsets: extendedOffsets)
        guard ranges.indices.contains(index) else { return nil }
        var out: [UInt8] = []
        for f in fragments[ranges[index]] { f.withUnsafeBytes { out.append(contentsOf: $0) } }
        return out
    }
}

extension DataSet {
    /// The byte-swapping unit of `element` when it is native OW Pixel Data of samples wider than the 16-bit word
    /// (Bits Allocated 32 or 64 is big endian per sample, PS3.5 8.1.1, as pydicom reads it); nil keeps the VR's unit.
    public func byteSwapUnit(of element: DataElement) -> Int? {
        guard element.tag == .pixelData, element.vr == .OW, let bits = int(.bitsAllocated), bits > 16, bits % 8 == 0 else {
            return nil
        }
        return bits / 8
    }

    /// `element`'s value in little endian, swapped per sample for wide native Pixel Data.
    public func littleEndianBytes(of element: DataElement) -> ByteSlice {
        element.littleEndianBytes(unit: byteSwapUnit(of: element))
    }
}
