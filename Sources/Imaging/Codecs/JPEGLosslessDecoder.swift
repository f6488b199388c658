/// JPEG lossless, process 14 (Huffman, predictors 1–7, 2–16 bits), written in Swift (PS3.5 A.4.1, ISO 10918-1 Annex H).
public enum JPEGLosslessDecoder {
    /// Decodes one JPEG lossless frame into native little-endian colour-by-pixel samples (PS3.5 A.4.1).
    public static func decode(
        _ stream: [UInt8], descriptor: FrameDescriptor, limits: DecodingLimits = .default
    ) throws(ImagingError) -> DecodedFrame {
        let frameBytes = try descriptor.validatedFrameBytes(limits: limits, codec: .jpegLossless)
        guard descriptor.bitsAllocated <= 16 else {
            throw .invalidDescriptor(codec: .jpegLossless, reason: "bits allocated \(descriptor.bitsAllocated) above 16")
        }
        var output: [UInt8] = []
        let normalization = SampleNormalization(descriptor, precision: descriptor.bitsStored)
        var allNormalized = true
        try stream.withUnsafeBufferPointer { (data) throws(ImagingError) in
            var reader = try JPEGMarkerReader(data: data, codec: .jpegLossless)
            var scans = 0
            while let scan = try reader.nextScan() {
                guard let frame = reader.frame else { break }
                if scans == 0 {
                    try check(frame, against: descriptor)
                    output = [UInt8](repeating: 0, count: frameBytes)
                }
                let normalized = try output.withUnsafeMutableBufferPointer { (out) throws(ImagingError) in
                    try decodeScan(
                        scan, reader: &reader, frame: frame, into: out, bytesPerSample: descriptor.bytesPerSample,
                        normalization: normalization)
                }
                allNormalized = allNormalized && normalized
                scans += 1
            }
            guard scans > 0 else { throw .malformed(codec: .jpegLossless, offset: reader.position, reason: "no scan in the stream") }
        }
        var out = descriptor
        out.planarConfiguration = 0
        // The single-component loop already wrote normalized samples; normalizing twice would change nothing.
        if !allNormalized { normalizeSamples(&output, descriptor: out, precision: descriptor.bitsStored) }
        return DecodedFrame(descriptor: out, pixels: output)
    }

    private static func check(_ frame: JPEGFrameHeader, against descriptor: FrameDescriptor) throws(ImagingError) {
        guard frame.process == 0xC3 || frame.process == 0xC7 else {
            if frame.process == 0xC0 || frame.process == 0xC1 {
                throw .unsupported(codec: .jpegLossless, feature: "DCT frame (SOF\(frame.process & 0x0F)) given to the lossless decoder")
            }
            throw .unsupported(codec: .jpegLossless, feature: "JPEG process SOF\(frame.process & 0x0F)")
        }
        guard frame.process == 0xC3 else { throw .unsupported(codec: .jpegLossless, feature: "differential (hierarchical) lossless") }
        guard frame.rows == descriptor.rows else {
            throw .headerMismatch(codec: .jpegLossless, field: "rows", stream: frame.rows, descriptor: descriptor.rows)
        }
        guard frame.columns == descriptor.columns else {
            throw .headerMismatch(codec: .jpegLossless, field: "columns", stream: frame.columns, descriptor: descriptor.columns)
        }
        guard frame.components.count == descriptor.samplesPerPixel else {
            throw .headerMismatch(
                codec: .jpegLossless, field: "component count", stream: frame.components.count, descriptor: descriptor.samplesPerPixel)
        }
        guard frame.precision <= descriptor.bitsAllocated else {
            throw .headerMismatch(codec: .jpegLossless, field: "precision", stream: frame.precision, descriptor: descriptor.bitsAllocated)
        }
        for component in frame.components where component.horizontalSampling != 1 || component.verticalSampling != 1 {
            throw .unsupported(
                codec: .jpegLossless,
                feature: "subsampled lossless component (\(component.horizontalSampling)×\(component.verticalSampling))")
        }
    }

    /// Decodes one scan; each MCU is one sample of every scan component since sampling factors are 1 (ISO 10918-1 H.1.2).
    private static func decodeScan(
        _ scan: JPEGScanHeader, reader markers: inout JPEGMarkerReader, frame: JPEGFrameHeader,
        into out: UnsafeMutableBufferPointer<UInt8>, bytesPerSample: Int, normalization: SampleNormalization?
    ) throws(ImagingError) -> Bool {
        let predictor = scan.spectralStart
        guard (0...7).contains(predictor) else {
            throw .malformed(codec: .jpegLossless, offset: markers.position, reason: "selection value \(predictor)")
        }
        let pointTransform = scan.approximationLow
        guard pointTransform < frame.precision else {
            throw .malformed(codec: .jpegLossless, offset: markers.position, reason: "point transform \(pointTransform)")
        }
        var tables: [JPEGHuffmanTable] = []
        for component in scan.components {
            guard let table = markers.dcTables[component.dcTable] else {
                throw .malformed(
                    codec: .jpegLossless, offset: markers.position, reason: "scan uses undefined Huffman table \(component.dcTable)")
            }
            guard component.frameIndex >= 0, component.frameIndex < frame.components.count else {
                throw .malformed(codec: .jpegLossless, offset: markers.position, reason: "scan names an unknown component")
            }
            tables.append(table)
        }
        let columns = frame.columns
        let rows = frame.rows
        let count = scan.components.count
        let samplesPerPixel = frame.components.count
        let initial = 1 << (frame.precision - pointTransform - 1)
        let restartInterval = markers.restartInterval
        guard out.count >= rows * columns * samplesPerPixel * bytesPerSample, count >= 1 else {
            throw .malformed(codec: .jpegLossless, offset: markers.position, reason: "scan does not fit the frame")
        }
        let flat = FlatHuffmanTables(tables)
        let huffman = flat.tables
        let frameIndexes = scan.components.map(\.frameIndex)
        let lines = UnsafeMutablePointer<Int>.allocate(capacity: 2 * columns * count)
        lines.initialize(repeating: 0, count: 2 * columns * count)
        defer { lines.deallocate() }
        guard let destination = out.baseAddress else { return false }
        var normalized = false
        var reader = JPEGBitReader(data: markers.data, position: markers.position, codec: .jpegLossless)
        try withExtendedLifetime(flat) { () throws(ImagingError) in
            var previous = lines
            var current = lines + columns * count
            var mcusLeft = restartInterval
            var restarts = 0
            var resetPending = true
            var firstLineEnd = columns  // pixels before this index in the current row use predictor 1
            // One component, no restart markers: the common case (CT, MR, CR), decoded by a loop of its own.
            if count == 1, restartInterval == 0 {
                let fast = LosslessDifferenceTable(flat.tables[0])
                try withExtendedLifetime(fast) { () throws(ImagingError) in
                    try decodeSingleComponent(
                        &reader, fast: fast, table: huffman[0], predictor: predictor, initial: initial, pointTransform: pointTransform,
                        rows: rows, columns: columns, lines: (previous, current),
                        target: destination + frameIndexes[0] * bytesPerSample, stride: samplesPerPixel * bytesPerSample,
                        bytesPerSample: bytesPerSample, normalization: normalization)
                }
                normalized = normalization != nil
                return
            }
            for row in 0..<rows {
                for column in 0..<columns {
                    if restartInterval > 0 {
                        if mcusLeft == 0 {
                            try reader.restart(expected: restarts)
                            restarts += 1
                            mcusLeft = restartInterval
                            resetPending = true
                            firstLineEnd = (row + 1) * columns
                        }
                        mcusLeft -= 1
                    }
                    let pixelIndex = row * columns + column
                    let firstLine = pixelIndex < firstLineEnd
                    for c in 0..<count {
                        let difference = try Self.difference(&reader, huffman[c])
                        let x = column * count + c
                        let prediction: Int
                        if resetPending {
                            prediction = initial
                        } else if firstLine {
                            prediction = current[x - count]
                        } else if column == 0 {
                            prediction = previous[x]
                        } else {
                            prediction = Self.predict(predictor, ra: current[x - count], rb: previous[x], rc: previous[x - count])
                        }
                        let value = (prediction + difference) & 0xFFFF
                        current[x] = value
                        let sample = value << pointTransform
                        let offset = (pixelIndex * samplesPerPixel + frameIndexes[c]) * bytesPerSample
                        destination[offset] = UInt8(truncatingIfNeeded: sample)
                        if bytesPerSample == 2 { destination[offset + 1] = UInt8(truncatingIfNeeded: sample >> 8) }
                    }
                    resetPending = false
                }
                swap(&previous, &current)
                try reader.checkNotExhausted()
            }
        }
        markers.position = reader.position
        return normalized
    }
}

extension JPEGLosslessDecoder {
    /// One decoded difference: a category, then that many extra bits (ISO 10918-1 H.1.2.2, Table H.2).
    @inline(__always)
    fileprivate static func difference(_ reader: inout JPEGBitReader, _ table: HuffmanPointers) throws(ImagingError) -> Int {
        let s = try reader.decode(table)
        if s == 0 { return 0 }
        if s < 16 { return reader.receiveExtend(s) }
        if s == 16 { return 32768 }
        throw .malformed(codec: .jpegLossless, offset: reader.position, reason: "difference category \(s)")
    }

    /// The predictors of ISO 10918-1 Table H.1 for a sample with neighbours in both directions.
    @inline(__always)
    fileprivate static func predict(_ predictor: Int, ra: Int, rb: Int, rc: Int) -> Int {
        switch predictor {
        case 1: return ra
        case 2: return rb
        case 3: return rc
        case 4: return ra + rb - rc
        case 5: return ra + ((rb - rc) >> 1)
        case 6: return rb + ((ra - rc) >> 1)
        case 7: return (ra + rb) >> 1
        default: return 0
        }
    }
}

/// Makes the bits above the stored precision what DICOM readers expect: sign-extended when signed, zero otherwise (PS3.5 8.1.1).
func normalizeSamples(_ pixels: inout [UInt8], descriptor: FrameDescriptor, precision: Int) {
    let bits = descriptor.bitsAllocated
    guard precision < bits, precision > 0 else { return }
    let shift = bits - precision
    pixels.withUnsafeMutableBytes { raw in
        switch bits {
        case 8:
            for i in 0..<raw.count {
                let v = raw[i] << shift
                raw[i] = descriptor.isSigned ? UInt8(bitPattern: Int8(bitPattern: v) >> shift) : v >> shift
            }
        case 16:
            let n = raw.count / 2
            for i in 0..<n {
                let v = UInt16(raw[2 * i]) | UInt16(raw[2 * i + 1]) << 8
                let shifted = v << shift
                let r = descriptor.isSigned ? UInt16(bitPattern: Int16(bitPattern: shifted) >> shift) : shifted >> shift
                raw[2 * i] = UInt8(truncatingIfNeeded: r)
                raw[2 * i + 1] = UInt8(truncatingIfNeeded: r >> 8)
            }
        default:
            let n = raw.count / 4
            for i in 0..<n {
                var v: UInt32 = 0
                for k in 0..<4 { v |= UInt32(raw[4 * i + k]) << (8 * k) }
                let shifted = v << shift
                let r = descriptor.isSigned ? UInt32(bitPattern: Int32(bitPattern: shifted) >> shift) : shifted >> shift
                for k in 0..<4 { raw[4 * i + k] = UInt8(truncatingIfNeeded: r >> (8 * k)) }
            }
        }
    }
}

/// How decoded samples are brought to Bits Stored while they are written: the bits above it cleared, or copies of
/// the sign bit when signed; the same result as ``normalizeSamples(_:descriptor:precision:)`` (PS3.5 8.1.1).
struct SampleNormalization {
    /// Bits Allocated minus the precision; 0 when the samples fill their bits.
    let shift: Int
    let isSigned: Bool

    /// Nil unless samples are 8 or 16 bits allocated (the widths the decoders write).
    init?(_ descriptor: FrameDescriptor, precision: Int) {
        let bits = descriptor.bitsAllocated
        guard bits == 8 || bits == 16 else { return nil }
        shift = precision > 0 && precision < bits ? bits - precision : 0
        isSigned = descriptor.isSigned
    }
}

/// For each 12-bit prefix of the entropy-coded bits, the difference it starts with and the bits that takes (its
/// Huffman code and the extra bits together), when both fit in the prefix; 0 otherwise. One lookup then decodes a
/// typical sample (ISO 10918-1 H.1.2.2, F.2.2.1). Built from a ``HuffmanPointers`` view and valid on its own.
final class LosslessDifferenceTable {
    static let bits = 12
    /// difference << 8 | bits consumed, or 0 when the prefix needs the general decoder.
    let entries: UnsafeMutablePointer<Int32>

    init(_ table: HuffmanPointers) {
        let size = 1 << Self.bits
        entries = .allocate(capacity: size)
        entries.initialize(repeating: 0, count: size)
        let lookupShift = Self.bits - JPEGHuffmanTable.lookupBits
        for prefix in 0..<size {
            var length = 0
            var symbol = 0
            let short = table.lookup[prefix >> lookupShift]
            if short != 0 {
                length = Int(short >> 8)
                symbol = Int(short & 0xFF)
            } else {
                for l in (JPEGHuffmanTable.lookupBits + 1)...Self.bits {
                    let code = Int32(prefix >> (Self.bits - l))
                    if code <= table.maxCode[l] {
                        let index = Int(code + table.valueOffset[l])
                        if index >= 0, index < table.valueCount {
                            length = l
                            symbol = Int(table.values[index])
                        }
                        break
                    }
                }
            }
            guard length > 0, symbol <= 16 else { continue }
            var difference = 0
            var total = length
            if symbol == 16 {
                difference = 32768
            } else if symbol > 0 {
                total = length + symbol
                guard total <= Self.bits else { continue }
                let extra = (prefix >> (Self.bits - total)) & ((1 << symbol) - 1)
                difference = extra < (1 << (symbol - 1)) ? extra - (1 << symbol) + 1 : extra
            }
            entries[prefix] = Int32(difference) << 8 | Int32(total)
        }
    }

    deinit { entries.deallocate() }
}

extension JPEGBitReader {
    /// One difference of a lossless scan: through the combined table when the next bits allow, else symbol and
    /// extra bits read apart (ISO 10918-1 H.1.2.2).
    @inline(__always)
    mutating func losslessDifference(_ fast: UnsafePointer<Int32>, _ table: HuffmanPointers) throws(ImagingError) -> Int {
        if count < 32 { fill() }
        let entry = fast[Int(truncatingIfNeeded: buffer &>> UInt64(64 - LosslessDifferenceTable.bits))]
        let length = Int(entry & 0xFF)
        if length != 0 {
            buffer &<<= UInt64(length)
            count -= length
            return Int(entry >> 8)
        }
        return try losslessDifferenceSlowly(table)
    }

    @inline(never)
    mutating func losslessDifferenceSlowly(_ table: HuffmanPointers) throws(ImagingError) -> Int {
        let s = try decode(table)
        if s == 0 { return 0 }
        if s < 16 { return receiveExtend(s) }
        if s == 16 { return 32768 }
        throw .malformed(codec: .jpegLossless, offset: position, reason: "difference category \(s)")
    }
}

extension JPEGLosslessDecoder {
    /// A scan of one component without restart intervals (ISO 10918-1 H.1.2): every sample is predicted from
    /// its neighbours, which for selection value 1 is the sample to its left (the sample above for a row's first).
    fileprivate static func decodeSingleComponent(
        _ bitReader: inout JPEGBitReader, fast: LosslessDifferenceTable, table: HuffmanPointers, predictor: Int, initial: Int,
        pointTransform: Int, rows: Int, columns: Int, lines: (UnsafeMutablePointer<Int>, UnsafeMutablePointer<Int>),
        target start: UnsafeMutablePointer<UInt8>, stride: Int, bytesPerSample: Int, normalization: SampleNormalization?
    ) throws(ImagingError) {
        // A local copy, so that the bit buffer can stay in registers; written back however the scan ends.
        var reader = bitReader
        defer { bitReader = reader }
        let entries = UnsafePointer(fast.entries)
        let shift = normalization?.shift ?? 0
        let isSigned = normalization?.isSigned ?? false
        var target = start
        @inline(__always)
        func write(_ value: Int) {
            let sample = value << pointTransform
            if bytesPerSample == 2 {
                let raw = UInt16(truncatingIfNeeded: sample) &<< UInt16(shift)
                let v = isSigned ? UInt16(bitPattern: Int16(bitPattern: raw) &>> Int16(shift)) : raw &>> UInt16(shift)
                target[0] = UInt8(truncatingIfNeeded: v)
                target[1] = UInt8(truncatingIfNeeded: v >> 8)
            } else {
                let raw = UInt8(truncatingIfNeeded: sample) &<< UInt8(shift)
                target[0] = isSigned ? UInt8(bitPattern: Int8(bitPattern: raw) &>> Int8(shift)) : raw &>> UInt8(shift)
            }
            target += stride
        }
        if predictor == 1 {
            var above = initial  // the first sample of the row above, the prediction for column 0
            for _ in 0..<rows {
                var left = above
                for column in 0..<columns {
                    let value = (left &+ (try reader.losslessDifference(entries, table))) & 0xFFFF
                    if column == 0 { above = value }
                    left = value
                    write(value)
                }
                try reader.checkNotExhausted()
            }
            return
        }
        var (previous, current) = lines
        for row in 0..<rows {
            for column in 0..<columns {
                let difference = try reader.losslessDifference(entries, table)
                let prediction: Int
                if row == 0 {
                    prediction = column == 0 ? initial : current[column - 1]
                } else if column == 0 {
                    prediction = previous[0]
                } else {
                    prediction = predict(predictor, ra: current[column - 1], rb: previous[column], rc: previous[column - 1])
                }
                let value = (prediction + difference) & 0xFFFF
                current[column] = value
                write(value)
            }
            swap(&previous, &current)
            try reader.checkNotExhausted()
        }
    }
}
