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
            tables.append(table)
        }
        let columns = frame.columns
        let rows = frame.rows
        let count = scan.components.count
        let samplesPerPixel = frame.components.count
        let initial = 1 << (frame.precision - pointTransform - 1)
        let restartInterval = markers.restartInterval
        var lines = [Int](repeating: 0, count: 2 * columns * count)
        var reader = JPEGBitReader(data: markers.data, position: markers.position, codec: .jpegLossless)
        try tables.withUnsafeBufferPointer { (tablePointer) throws(ImagingError) in
            try lines.withUnsafeMutableBufferPointer { (lineBuffer) throws(ImagingError) in
                guard let tableBase = tablePointer.baseAddress, let lineBase = lineBuffer.baseAddress else { return }
                var previous = lineBase
                var current = lineBase + columns * count
                var mcusLeft = restartInterval
                var restarts = 0
                var resetPending = true
                var firstLineEnd = columns  // pixels before this index in the current row use predictor 1
                let destinationBase = out.baseAddress
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
                            let s = try reader.decode(tableBase + c)
                            let difference: Int
                            if s == 0 {
                                difference = 0
                            } else if s < 16 {
                                difference = reader.receiveExtend(s)
                            } else if s == 16 {
                                difference = 32768
                            } else {
                                throw .malformed(codec: .jpegLossless, offset: reader.position, reason: "difference category \(s)")
                            }
                            let x = column * count + c
                            let prediction: Int
                            if resetPending {
                                prediction = initial
                            } else if firstLine {
                                prediction = current[x - count]
                            } else if column == 0 {
                                prediction = previous[x]
                            } else {
                                let ra = current[x - count]
                                let rb = previous[x]
                                let rc = previous[x - count]
                                switch predictor {
                                case 1: prediction = ra
                                case 2: prediction = rb
                                case 3: prediction = rc
                                case 4: prediction = ra + rb - rc
                                case 5: prediction = ra + ((rb - rc) >> 1)
                                case 6: prediction = rb + ((ra - rc) >> 1)
                                case 7: prediction = (ra + rb) >> 1
                                default: prediction = 0
                                }
                            }
                            let value = (prediction + difference) & 0xFFFF
                            current[x] = value
                            let sample = value << pointTransform
                            let offset = (pixelIndex * samplesPerPixel + scan.components[c].frameIndex) * bytesPerSample
                            destinationBase?[offset] = UInt8(truncatingIfNeeded: sample)
                            if bytesPerSample == 2 { destinationBase?[offset + 1] = UInt8(truncatingIfNeeded: sample >> 8) }
                        }
                        resetPending = false
                    }
                    swap(&previous, &current)
                    try reader.checkNotExhausted()
                }
            }
        }
        markers.position = reader.position
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
