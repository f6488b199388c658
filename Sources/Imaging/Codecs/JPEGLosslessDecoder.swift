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
        try stream.withUnsafeBufferPointer { (data) throws(ImagingError) in
            var reader = try JPEGMarkerReader(data: data, codec: .jpegLossless)
            var scans = 0
            while let scan = try reader.nextScan() {
                guard let frame = reader.frame else { break }
                if scans == 0 {
                    try check(frame, against: descriptor)
                    output = [UInt8](repeating: 0, count: frameBytes)
                }
                try output.withUnsafeMutableBufferPointer { (out) throws(ImagingError) in
                    try decodeScan(scan, reader: &reader, frame: frame, into: out, bytesPerSample: descriptor.bytesPerSample)
                }
                scans += 1
            }
            guard scans > 0 else { throw .malformed(codec: .jpegLossless, offset: reader.position, reason: "no scan in the stream") }
        }
        var out = descriptor
        out.planarConfiguration = 0
        normalizeSamples(&output, descriptor: out, precision: descriptor.bitsStored)
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
        into out: UnsafeMutableBufferPointer<UInt8>, bytesPerSample: Int
    ) throws(ImagingError) {
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
        guard let destination = out.baseAddress else { return }
        var reader = JPEGBitReader(data: markers.data, position: markers.position, codec: .jpegLossless)
        try withExtendedLifetime(flat) { () throws(ImagingError) in
            var previous = lines
            var current = lines + columns * count
            var mcusLeft = restartInterval
            var restarts = 0
            var resetPending = true
            var firstLineEnd = columns  // pixels before this index in the current row use predictor 1
            // One component, no restart markers: the common case (CT, MR, CR), kept free of per-sample branching
            // on the component and the restart interval.
            if count == 1, restartInterval == 0 {
                let table = huffman[0]
                let stride = samplesPerPixel * bytesPerSample
                var target = destination + frameIndexes[0] * bytesPerSample
                for row in 0..<rows {
                    for column in 0..<columns {
                        let difference = try Self.difference(&reader, table)
                        let prediction: Int
                        if row == 0 {
                            prediction = column == 0 ? initial : current[column - 1]
                        } else if column == 0 {
                            prediction = previous[0]
                        } else {
                            prediction = Self.predict(
                                predictor, ra: current[column - 1], rb: previous[column], rc: previous[column - 1])
                        }
                        let value = (prediction + difference) & 0xFFFF
                        current[column] = value
                        let sample = value << pointTransform
                        target[0] = UInt8(truncatingIfNeeded: sample)
                        if bytesPerSample == 2 { target[1] = UInt8(truncatingIfNeeded: sample >> 8) }
                        target += stride
                    }
                    swap(&previous, &current)
                    try reader.checkNotExhausted()
                }
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
