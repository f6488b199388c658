/// A Huffman table of ISO 10918-1 Annex C, with a 9-bit lookup table for the short codes.
struct JPEGHuffmanTable: Sendable {
    static let lookupBits = 9
    /// For each 9-bit prefix: code length << 8 | symbol, or 0 when the code is longer than 9 bits.
    var lookup: [UInt16]
    /// Largest code of each length 1…16, or -1 when there is none (index 17 is a sentinel).
    var maxCode: [Int32]
    /// Offset into `values` of each length's first code, minus that code.
    var valueOffset: [Int32]
    var values: [UInt8]

    /// Builds the table from the BITS and HUFFVAL lists of a DHT segment (ISO 10918-1 C.2, F.2.2.3).
    init(counts: [UInt8], values: [UInt8], offset: Int) throws(ImagingError) {
        self.values = values
        lookup = [UInt16](repeating: 0, count: 1 << Self.lookupBits)
        maxCode = [Int32](repeating: -1, count: 18)
        valueOffset = [Int32](repeating: 0, count: 18)
        var code: Int32 = 0
        var index: Int32 = 0
        for length in 1...16 {
            let n = Int32(counts[length - 1])
            if n > 0 {
                valueOffset[length] = index - code
                code += n
                index += n
                maxCode[length] = code - 1
                guard code <= (1 << length) else {
                    throw .malformed(codec: .jpegLossless, offset: offset, reason: "Huffman table has too many codes of length \(length)")
                }
                if length <= Self.lookupBits {
                    for c in (code - n)..<code {
                        let symbol = values[Int(c + valueOffset[length])]
                        let shift = Self.lookupBits - length
                        let first = Int(c) << shift
                        for k in 0..<(1 << shift) {
                            lookup[first + k] = UInt16(length) << 8 | UInt16(symbol)
                        }
                    }
                }
            }
            code <<= 1
        }
        maxCode[17] = Int32.max
    }
}

/// A Huffman table seen through raw pointers, for the hot loop of a decoder: no array copies, retains or bounds checks.
/// Valid only while the ``FlatHuffmanTables`` that made it is alive.
struct HuffmanPointers {
    let lookup: UnsafePointer<UInt16>
    let maxCode: UnsafePointer<Int32>
    let valueOffset: UnsafePointer<Int32>
    let values: UnsafePointer<UInt8>
    let valueCount: Int
}

/// The Huffman tables of one scan copied into one block of memory (each table's lookup, code limits and values).
final class FlatHuffmanTables {
    private let lookupStorage: UnsafeMutablePointer<UInt16>
    private let codeStorage: UnsafeMutablePointer<Int32>
    private let valueStorage: UnsafeMutablePointer<UInt8>
    /// One view per table, in the order given.
    let tables: [HuffmanPointers]

    init(_ source: [JPEGHuffmanTable]) {
        let n = max(source.count, 1)
        let lookupSize = 1 << JPEGHuffmanTable.lookupBits
        lookupStorage = .allocate(capacity: n * lookupSize)
        codeStorage = .allocate(capacity: n * 36)
        valueStorage = .allocate(capacity: n * 256)
        lookupStorage.initialize(repeating: 0, count: n * lookupSize)
        codeStorage.initialize(repeating: 0, count: n * 36)
        valueStorage.initialize(repeating: 0, count: n * 256)
        var views: [HuffmanPointers] = []
        for (i, table) in source.enumerated() {
            let lookup = lookupStorage + i * lookupSize
            let maxCode = codeStorage + i * 36
            let valueOffset = maxCode + 18
            let values = valueStorage + i * 256
            for k in 0..<min(lookupSize, table.lookup.count) { lookup[k] = table.lookup[k] }
            for k in 0..<min(18, table.maxCode.count) { maxCode[k] = table.maxCode[k] }
            for k in 0..<min(18, table.valueOffset.count) { valueOffset[k] = table.valueOffset[k] }
            let valueCount = min(256, table.values.count)
            for k in 0..<valueCount { values[k] = table.values[k] }
            views.append(
                HuffmanPointers(
                    lookup: UnsafePointer(lookup), maxCode: UnsafePointer(maxCode), valueOffset: UnsafePointer(valueOffset),
                    values: UnsafePointer(values), valueCount: valueCount))
        }
        tables = views
    }

    deinit {
        lookupStorage.deallocate()
        codeStorage.deallocate()
        valueStorage.deallocate()
    }
}

/// Reads entropy-coded bits of a JPEG scan, removing stuffed zero bytes and stopping at markers (ISO 10918-1 F.2.2.5).
struct JPEGBitReader {
    let data: UnsafeBufferPointer<UInt8>
    let codec: Codec
    var position: Int
    /// Bits not yet consumed, left-aligned.
    var buffer: UInt64 = 0
    var count: Int = 0
    /// Set when a marker stopped the reading; zeros are fed from then on.
    var markerReached = false
    /// Zero bytes fed after a marker or the end of the data; a few are normal, many mean truncation.
    var paddingBytes = 0

    init(data: UnsafeBufferPointer<UInt8>, position: Int, codec: Codec) {
        self.data = data
        self.position = position
        self.codec = codec
    }

    /// Tops the buffer up to at least 57 bits: whole bytes at once when the next eight hold no 0xFF (so neither a
    /// stuffed zero nor a marker), else byte by byte.
    @inline(__always)
    mutating func fill() {
        if count <= 56, !markerReached, position + 8 <= data.count, let base = data.baseAddress {
            let word = UInt64(bigEndian: UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self))
            // A byte of `word` is 0xFF exactly when that byte of its complement is zero.
            let inverse = ~word
            if (inverse &- 0x0101_0101_0101_0101) & ~inverse & 0x8080_8080_8080_8080 == 0 {
                let bytes = (64 - count) >> 3
                let kept = word &>> UInt64(64 - 8 * bytes)
                buffer |= kept &<< UInt64(64 - 8 * bytes - count)
                position += bytes
                count += 8 * bytes
                return
            }
        }
        fillBytewise()
    }

    /// The byte-by-byte refill, which removes stuffed zero bytes and stops at a marker (ISO 10918-1 F.1.2.3).
    @inline(never)
    mutating func fillBytewise() {
        while count <= 56 {
            var byte: UInt8 = 0
            if !markerReached, position < data.count {
                byte = data[position]
                if byte == 0xFF {
                    let next: UInt8 = position + 1 < data.count ? data[position + 1] : 0xD9
                    if next == 0 {
                        position += 2
                    } else {
                        markerReached = true
                        byte = 0
                        paddingBytes += 1
                    }
                } else {
                    position += 1
                }
            } else {
                paddingBytes += 1
            }
            buffer |= UInt64(byte) << UInt64(56 - count)
            count += 8
        }
    }

    @inline(__always)
    mutating func checkNotExhausted() throws(ImagingError) {
        // Each padding byte supplies 8 zero bits; once more than the bits still buffered were padding, data ran out.
        if paddingBytes * 8 > count + 64 {
            throw .truncated(codec: codec, offset: position, expected: "more entropy-coded data")
        }
    }

    @inline(__always)
    mutating func decode(_ table: UnsafePointer<JPEGHuffmanTable>) throws(ImagingError) -> Int {
        if count < 16 { fill() }
        let peek = Int(buffer >> UInt64(64 - JPEGHuffmanTable.lookupBits))
        let entry = table.pointee.lookup.withUnsafeBufferPointer { $0[peek] }
        if entry != 0 {
            let length = Int(entry >> 8)
            buffer <<= UInt64(length)
            count -= length
            return Int(entry & 0xFF)
        }
        for length in (JPEGHuffmanTable.lookupBits + 1)...16 {
            let code = Int32(truncatingIfNeeded: buffer >> UInt64(64 - length))
            if code <= table.pointee.maxCode[length] {
                buffer <<= UInt64(length)
                count -= length
                let index = Int(code + table.pointee.valueOffset[length])
                guard index >= 0, index < table.pointee.values.count else { break }
                return Int(table.pointee.values[index])
            }
        }
        try checkNotExhausted()
        throw .malformed(codec: codec, offset: position, reason: "invalid Huffman code")
    }

    /// Decodes one Huffman-coded symbol through a flat table view (ISO 10918-1 F.2.2.3).
    @inline(__always)
    mutating func decode(_ table: HuffmanPointers) throws(ImagingError) -> Int {
        if count < 16 { fill() }
        let entry = table.lookup[Int(truncatingIfNeeded: buffer >> UInt64(64 - JPEGHuffmanTable.lookupBits))]
        if entry != 0 {
            let length = Int(entry >> 8)
            buffer <<= UInt64(length)
            count -= length
            return Int(entry & 0xFF)
        }
        return try decodeLong(table)
    }

    /// Codes longer than the lookup table's bits.
    @inline(never)
    mutating func decodeLong(_ table: HuffmanPointers) throws(ImagingError) -> Int {
        for length in (JPEGHuffmanTable.lookupBits + 1)...16 {
            let code = Int32(truncatingIfNeeded: buffer >> UInt64(64 - length))
            if code <= table.maxCode[length] {
                buffer <<= UInt64(length)
                count -= length
                let index = Int(code + table.valueOffset[length])
                guard index >= 0, index < table.valueCount else { break }
                return Int(table.values[index])
            }
        }
        try checkNotExhausted()
        throw .malformed(codec: codec, offset: position, reason: "invalid Huffman code")
    }

    /// Reads `n` (1…16) bits as an unsigned value.
    @inline(__always)
    mutating func bits(_ n: Int) -> Int {
        if count < n { fill() }
        let value = Int(buffer >> UInt64(64 - n))
        buffer <<= UInt64(n)
        count -= n
        return value
    }

    /// Reads `n` bits and extends them to a signed difference (ISO 10918-1 F.2.2.1, EXTEND).
    @inline(__always)
    mutating func receiveExtend(_ n: Int) -> Int {
        if n == 0 { return 0 }
        let value = bits(n)
        return value < (1 << (n - 1)) ? value - (1 << n) + 1 : value
    }

    /// Discards buffered bits and consumes the expected RSTn marker (ISO 10918-1 F.2.1.3).
    mutating func restart(expected index: Int) throws(ImagingError) {
        buffer = 0
        count = 0
        paddingBytes = 0
        markerReached = false
        // Skip any bytes up to the marker (padding bits are 1s and were consumed by fill when byte-aligned).
        while position + 1 < data.count, !(data[position] == 0xFF && data[position + 1] != 0 && data[position + 1] != 0xFF) {
            position += 1
        }
        guard position + 1 < data.count else {
            throw .truncated(codec: codec, offset: position, expected: "restart marker RST\(index & 7)")
        }
        let marker = data[position + 1]
        guard marker >= 0xD0, marker <= 0xD7 else {
            throw .malformed(
                codec: codec, offset: position,
                reason: "expected RST\(index & 7), found marker FF\(String(marker, radix: 16, uppercase: true))")
        }
        position += 2
    }
}
