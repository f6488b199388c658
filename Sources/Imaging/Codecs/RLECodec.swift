/// RLE Lossless: byte segments, PackBits-coded, one per byte of each sample (PS3.5 Annex G).
public enum RLECodec {
    private static let headerBytes = 64

    /// Decodes one RLE Lossless frame into native little-endian colour-by-pixel samples (PS3.5 G.3.2).
    public static func decode(
        _ stream: [UInt8], descriptor: FrameDescriptor, limits: DecodingLimits = .default
    ) throws(ImagingError) -> DecodedFrame {
        let frameBytes = try descriptor.validatedFrameBytes(limits: limits, codec: .rle)
        guard stream.count >= headerBytes else {
            throw .truncated(codec: .rle, offset: stream.count, expected: "the 64-byte RLE header")
        }
        let bytesPerSample = descriptor.bytesPerSample
        let samples = descriptor.samplesPerPixel
        let pixelCount = descriptor.pixelCount
        let segmentCount = Int(readUInt32(stream, 0))
        guard segmentCount == samples * bytesPerSample else {
            throw .headerMismatch(codec: .rle, field: "number of segments", stream: segmentCount, descriptor: samples * bytesPerSample)
        }
        var offsets: [Int] = []
        for index in 0..<segmentCount {
            let offset = Int(readUInt32(stream, 4 + 4 * index))
            guard offset >= headerBytes, offset <= stream.count, offsets.last.map({ offset >= $0 }) ?? true else {
                throw .malformed(codec: .rle, offset: 4 + 4 * index, reason: "segment \(index + 1) offset \(offset) out of order or range")
            }
            offsets.append(offset)
        }
        var output = [UInt8](repeating: 0, count: frameBytes)
        try stream.withUnsafeBufferPointer { (input) throws(ImagingError) in
            try output.withUnsafeMutableBufferPointer { (out) throws(ImagingError) in
                for segment in 0..<segmentCount {
                    let start = offsets[segment]
                    let end = segment + 1 < segmentCount ? offsets[segment + 1] : input.count
                    let sample = segment / bytesPerSample
                    let byteInSample = bytesPerSample - 1 - segment % bytesPerSample  // segments run most significant byte first
                    try decodeSegment(
                        input, start: start, end: end, into: out, first: sample * bytesPerSample + byteInSample,
                        stride: samples * bytesPerSample, count: pixelCount, segment: segment + 1)
                }
            }
        }
        var out = descriptor
        out.planarConfiguration = 0
        return DecodedFrame(descriptor: out, pixels: output)
    }

    private static func decodeSegment(
        _ input: UnsafeBufferPointer<UInt8>, start: Int, end: Int, into out: UnsafeMutableBufferPointer<UInt8>,
        first: Int, stride: Int, count: Int, segment: Int
    ) throws(ImagingError) {
        var position = start
        var written = 0
        var target = first
        while written < count {
            guard position < end else {
                throw .truncated(codec: .rle, offset: position, expected: "\(count - written) more bytes in segment \(segment)")
            }
            let header = Int(Int8(bitPattern: input[position]))
            position += 1
            if header >= 0 {
                let length = header + 1
                guard position + length <= end else {
                    throw .truncated(codec: .rle, offset: end, expected: "\(length) literal bytes in segment \(segment)")
                }
                let n = min(length, count - written)
                for k in 0..<n {
                    out[target] = input[position + k]
                    target += stride
                }
                position += length
                written += n
            } else if header != -128 {
                guard position < end else {
                    throw .truncated(codec: .rle, offset: end, expected: "a replicated byte in segment \(segment)")
                }
                let value = input[position]
                position += 1
                let n = min(1 - header, count - written)
                for _ in 0..<n {
                    out[target] = value
                    target += stride
                }
                written += n
            }
        }
    }

    /// Encodes native little-endian pixel data (planar configuration 0 or 1) as one RLE Lossless frame (PS3.5 G.3.1).
    public static func encode(_ pixels: [UInt8], descriptor: FrameDescriptor) throws(ImagingError) -> [UInt8] {
        let frameBytes = try descriptor.validatedFrameBytes(limits: DecodingLimits(maximumFrameBytes: .max), codec: .rle)
        guard pixels.count >= frameBytes else {
            throw .truncated(codec: .rle, offset: pixels.count, expected: "\(frameBytes) bytes of native pixel data")
        }
        let bytesPerSample = descriptor.bytesPerSample
        let samples = descriptor.samplesPerPixel
        let segmentCount = samples * bytesPerSample
        guard segmentCount <= 15 else {
            throw .invalidDescriptor(codec: .rle, reason: "\(segmentCount) segments exceed the 15 RLE allows")
        }
        let columns = descriptor.columns
        let planar = descriptor.planarConfiguration == 1
        var output = [UInt8](repeating: 0, count: headerBytes)
        output.reserveCapacity(frameBytes + frameBytes / 64 + headerBytes)
        setUInt32(&output, 0, UInt32(segmentCount))
        var row = [UInt8](repeating: 0, count: columns)
        for segment in 0..<segmentCount {
            setUInt32(&output, 4 + 4 * segment, UInt32(output.count))
            let sample = segment / bytesPerSample
            let byteInSample = bytesPerSample - 1 - segment % bytesPerSample
            for r in 0..<descriptor.rows {
                for c in 0..<columns {
                    let pixel = r * columns + c
                    let sampleIndex = planar ? sample * descriptor.pixelCount + pixel : pixel * samples + sample
                    row[c] = pixels[sampleIndex * bytesPerSample + byteInSample]
                }
                packBits(row, into: &output)
            }
            if output.count % 2 == 1 { output.append(0) }
        }
        return output
    }

    /// PackBits over one row: replicate runs of 3 or more, literal runs otherwise (PS3.5 G.3.1).
    private static func packBits(_ row: [UInt8], into output: inout [UInt8]) {
        let count = row.count
        var i = 0
        var literalStart = 0
        func flushLiterals(upTo end: Int) {
            var start = literalStart
            while start < end {
                let n = min(128, end - start)
                output.append(UInt8(n - 1))
                output.append(contentsOf: row[start..<(start + n)])
                start += n
            }
        }
        while i < count {
            var run = 1
            while i + run < count, run < 128, row[i + run] == row[i] { run += 1 }
            if run >= 3 {
                flushLiterals(upTo: i)
                output.append(UInt8(bitPattern: Int8(1 - run)))
                output.append(row[i])
                i += run
                literalStart = i
            } else {
                i += run
            }
        }
        flushLiterals(upTo: count)
    }

    private static func readUInt32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }

    private static func setUInt32(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt32) {
        for k in 0..<4 { bytes[offset + k] = UInt8(truncatingIfNeeded: value >> (8 * k)) }
    }
}
