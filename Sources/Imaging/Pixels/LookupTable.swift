import DICOM

/// A lookup table given by a LUT Descriptor and LUT Data: Modality, VOI and Palette Color LUTs (PS3.3 C.11.1, C.11.2, C.7.6.3.1.5).
public struct LookupTable: Sendable, Hashable {
    /// The first stored value mapped (the descriptor's second value).
    public var firstMapped: Int
    /// Bits per entry (the descriptor's third value).
    public var bitsPerEntry: Int
    /// The table's entries.
    public var entries: [Int]

    /// Creates a table from its parts.
    public init(firstMapped: Int, bitsPerEntry: Int, entries: [Int]) {
        self.firstMapped = firstMapped
        self.bitsPerEntry = bitsPerEntry
        self.entries = entries
    }

    /// Reads a descriptor (entries, first mapped, bits; 0 entries means 65536) and its data; the first mapped value is
    /// signed when `signedInput` (PS3.3 C.11.1.1.1, C.7.6.3.1.5).
    public init(descriptor: [Int], data: DataElement?, signedInput: Bool, name: String) throws(ImagingError) {
        guard descriptor.count >= 3 else {
            throw .invalidAttribute(
                name: "\(name) Descriptor", value: descriptor.map(String.init).joined(separator: "\\"), reason: "needs 3 values")
        }
        let count = descriptor[0] == 0 ? 65536 : descriptor[0]
        var first = descriptor[1]
        if signedInput, first >= 32768 { first -= 65536 }
        let bits = descriptor[2]
        guard (1...16).contains(bits) else {
            throw .invalidAttribute(name: "\(name) Descriptor", value: "\(bits)", reason: "bits per entry must be 1…16")
        }
        guard let data, let bytes = data.bytes, !bytes.isEmpty else {
            throw .invalidAttribute(name: "\(name) Data", value: "", reason: "missing")
        }
        var values: [Int]
        if bits <= 8, bytes.count == count {
            values = bytes.map(Int.init)  // 8-bit entries packed one per byte
        } else {
            values = LookupTable.words(data)
        }
        guard !values.isEmpty else { throw .invalidAttribute(name: "\(name) Data", value: "", reason: "empty") }
        if values.count > count { values.removeLast(values.count - count) }
        firstMapped = first
        bitsPerEntry = bits
        entries = values
    }

    /// The 16-bit words of a US or OW element, in its byte order.
    static func words(_ element: DataElement) -> [Int] {
        guard let bytes = element.bytes else { return [] }
        let little = element.isLittleEndian
        return bytes.withUnsafeBytes { raw in
            (0..<(raw.count / 2)).map { i in
                let w = raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
                return Int(little ? UInt16(littleEndian: w) : UInt16(bigEndian: w))
            }
        }
    }

    /// The largest value an entry can hold.
    public var maximumOutput: Int { (1 << bitsPerEntry) - 1 }

    /// The entry for a stored value; values outside the table take the first or last entry (PS3.3 C.11.1.1.1).
    @inline(__always)
    public func value(for input: Int) -> Int {
        let index = input - firstMapped
        if index <= 0 { return entries[0] }
        if index >= entries.count { return entries[entries.count - 1] }
        return entries[index]
    }
}

/// The red, green and blue Palette Color Lookup Tables, normal or segmented (PS3.3 C.7.6.3.1.5, C.7.9.2).
public struct PaletteColorLUT: Sendable, Hashable {
    /// Red, green and blue tables.
    public var red: LookupTable
    /// Green table.
    public var green: LookupTable
    /// Blue table.
    public var blue: LookupTable

    /// Reads the palette of a PALETTE COLOR image or a Color Palette IOD (PS3.3 C.7.6.3.1.5, C.7.9).
    public init(dataSet: DataSet) throws(ImagingError) {
        let signed = (dataSet.int(.pixelRepresentation) ?? 0) == 1
        red = try PaletteColorLUT.table(
            dataSet, .redPaletteColorLookupTableDescriptor, .redPaletteColorLookupTableData, .segmentedRedPaletteColorLookupTableData,
            signed: signed, name: "Red Palette Color Lookup Table")
        green = try PaletteColorLUT.table(
            dataSet, .greenPaletteColorLookupTableDescriptor, .greenPaletteColorLookupTableData,
            .segmentedGreenPaletteColorLookupTableData, signed: signed, name: "Green Palette Color Lookup Table")
        blue = try PaletteColorLUT.table(
            dataSet, .bluePaletteColorLookupTableDescriptor, .bluePaletteColorLookupTableData, .segmentedBluePaletteColorLookupTableData,
            signed: signed, name: "Blue Palette Color Lookup Table")
    }

    private static func table(_ ds: DataSet, _ descriptorTag: Tag, _ dataTag: Tag, _ segmentedTag: Tag, signed: Bool, name: String)
        throws(ImagingError) -> LookupTable
    {
        let descriptor = ds.ints(descriptorTag)
        if let segmented = ds[segmentedTag], ds[dataTag] == nil {
            guard descriptor.count >= 3 else {
                throw .invalidAttribute(name: "\(name) Descriptor", value: "", reason: "needs 3 values")
            }
            var first = descriptor[1]
            if signed, first >= 32768 { first -= 65536 }
            let count = descriptor[0] == 0 ? 65536 : descriptor[0]
            // Segmented data of 8-bit tables holds one byte per value, as pydicom and dcmtk read it (PS3.3 C.7.9.2).
            let values = descriptor[2] <= 8 ? (segmented.bytes?.map(Int.init) ?? []) : LookupTable.words(segmented)
            let entries = try expandSegmented(values, maximumEntries: count, name: name)
            return LookupTable(firstMapped: first, bitsPerEntry: descriptor[2], entries: entries)
        }
        return try LookupTable(descriptor: descriptor, data: ds[dataTag], signedInput: signed, name: name)
    }

    /// Expands segmented palette data: discrete, linear and indirect segments (PS3.3 C.7.9.2).
    static func expandSegmented(_ data: [Int], maximumEntries: Int, name: String) throws(ImagingError) -> [Int] {
        var lut: [Int] = []
        func run(from start: Int, segments: Int?, depth: Int) throws(ImagingError) {
            guard depth < 4 else {
                throw .invalidAttribute(name: "Segmented \(name) Data", value: "", reason: "indirect segments nest too deep")
            }
            var offset = start
            var done = 0
            while offset < data.count, segments.map({ done < $0 }) ?? true {
                guard offset + 1 < data.count else { break }
                let opcode = data[offset]
                let length = data[offset + 1]
                switch opcode {
                case 0:
                    guard offset + 2 + length <= data.count else {
                        throw .invalidAttribute(
                            name: "Segmented \(name) Data", value: "", reason: "discrete segment at word \(offset) overruns the data")
                    }
                    lut.append(contentsOf: data[(offset + 2)..<(offset + 2 + length)])
                    offset += 2 + length
                case 1:
                    guard let y0 = lut.last, offset + 2 < data.count else {
                        throw .invalidAttribute(
                            name: "Segmented \(name) Data", value: "", reason: "linear segment at word \(offset) has no start")
                    }
                    let y1 = data[offset + 2]
                    let step = Double(y1 - y0) / Double(max(length, 1))
                    for k in 1...max(length, 1) where length > 0 {
                        lut.append(Int((Double(y0) + step * Double(k)).rounded(.toNearestOrEven)))
                    }
                    offset += 3
                case 2:
                    guard offset + 3 < data.count else {
                        throw .invalidAttribute(
                            name: "Segmented \(name) Data", value: "", reason: "indirect segment at word \(offset) truncated")
                    }
                    let target = data[offset + 2] | data[offset + 3] << 16
                    try run(from: target, segments: length, depth: depth + 1)
                    offset += 4
                default:
                    throw .invalidAttribute(
                        name: "Segmented \(name) Data", value: "\(opcode)", reason: "unknown segment type at word \(offset)")
                }
                guard lut.count <= maximumEntries else {
                    throw .invalidAttribute(name: "Segmented \(name) Data", value: "", reason: "expands beyond \(maximumEntries) entries")
                }
                done += 1
            }
        }
        try run(from: 0, segments: nil, depth: 0)
        guard !lut.isEmpty else { throw .invalidAttribute(name: "Segmented \(name) Data", value: "", reason: "empty") }
        return lut
    }
}
