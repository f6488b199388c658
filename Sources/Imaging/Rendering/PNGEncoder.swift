import CSystemZlib

/// PNG files of rendered images: IHDR, one zlib IDAT, IEND, each with its CRC (ISO/IEC 15948, RFC 2083).
public enum PNGEncoder {
    /// The encoding of rendered resources and thumbnails, where speed matters more than the last bytes: grey images
    /// with zlib's run-length strategy, colour ones at level 1. On grey CT and MR frames the run-length strategy
    /// deflates about twice as fast as level 1 to a similar size (smaller on noisy CT); on colour images it loses
    /// too much size (docs/performance.md).
    public static func encodeFast(_ image: RenderedImage) throws(ImagingError) -> [UInt8] {
        try encode(image, compressionLevel: 1, runLength: image.channels == 1)
    }

    /// Encodes 8- or 16-bit grey or RGB samples; rows use the Sub filter, deflated at `compressionLevel` (0…9), or
    /// with `runLength` by zlib's Z_RLE strategy (matches only at distance one, so only runs of equal bytes).
    public static func encode(_ image: RenderedImage, compressionLevel: Int32 = 6, runLength: Bool = false) throws(ImagingError)
        -> [UInt8]
    {
        guard image.bitDepth == 8 || image.bitDepth == 16, image.channels == 1 || image.channels == 3 else {
            throw .encoding(format: "PNG", message: "\(image.channels) channels of \(image.bitDepth) bits")
        }
        guard image.width > 0, image.height > 0, image.samples.count == image.width * image.height * image.channels else {
            throw .encoding(format: "PNG", message: "\(image.samples.count) samples for \(image.width)×\(image.height)×\(image.channels)")
        }
        let bytesPerSample = image.bitDepth / 8
        let samplesPerRow = image.width * image.channels
        let stride = samplesPerRow * bytesPerSample
        var raw = [UInt8](repeating: 0, count: (stride + 1) * image.height)
        image.samples.withUnsafeBufferPointer { samples in
            raw.withUnsafeMutableBufferPointer { out in
                guard let samples = samples.baseAddress, let out = out.baseAddress else { return }
                let channels = image.channels
                for y in 0..<image.height {
                    let line = samples + y * samplesPerRow
                    let row = out + y * (stride + 1)
                    row[0] = 1  // Sub: each byte minus the corresponding byte of the pixel to its left
                    if bytesPerSample == 1 {
                        for i in 0..<min(channels, samplesPerRow) { row[1 + i] = UInt8(truncatingIfNeeded: line[i]) }
                        for i in channels..<max(channels, samplesPerRow) {
                            row[1 + i] = UInt8(truncatingIfNeeded: line[i]) &- UInt8(truncatingIfNeeded: line[i - channels])
                        }
                    } else {
                        // Big-endian samples: the high byte minus the left pixel's high byte, and the low byte likewise.
                        for i in 0..<samplesPerRow {
                            let left: UInt16 = i >= channels ? line[i - channels] : 0
                            row[1 + 2 * i] = UInt8(truncatingIfNeeded: line[i] >> 8) &- UInt8(truncatingIfNeeded: left >> 8)
                            row[2 + 2 * i] = UInt8(truncatingIfNeeded: line[i]) &- UInt8(truncatingIfNeeded: left)
                        }
                    }
                }
            }
        }
        let compressed = try deflated(raw, level: compressionLevel, strategy: runLength ? Z_RLE : Z_DEFAULT_STRATEGY)

        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png.reserveCapacity(compressed.count + 64)
        var header: [UInt8] = []
        appendBigEndian(&header, UInt32(image.width))
        appendBigEndian(&header, UInt32(image.height))
        header += [UInt8(image.bitDepth), image.channels == 3 ? 2 : 0, 0, 0, 0]
        appendChunk(&png, "IHDR", header)
        appendChunk(&png, "IDAT", compressed)
        appendChunk(&png, "IEND", [])
        return png
    }

    /// A zlib stream (RFC 1950) of `input`, as an IDAT chunk holds it.
    private static func deflated(_ input: [UInt8], level: Int32, strategy: Int32) throws(ImagingError) -> [UInt8] {
        var stream = z_stream()
        guard
            deflateInit2_(
                &stream, level, Z_DEFLATED, 15, 8, strategy, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
                == Z_OK
        else { throw .encoding(format: "PNG", message: "zlib deflateInit2 failed") }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))))
        let (status, left) = input.withUnsafeBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = UnsafeMutablePointer(mutating: inBuffer.baseAddress)
                stream.avail_in = uInt(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = uInt(outBuffer.count)
                return (deflate(&stream, Z_FINISH), Int(stream.avail_out))
            }
        }
        guard status == Z_STREAM_END else { throw .encoding(format: "PNG", message: "zlib deflate returned \(status)") }
        output.removeLast(left)
        return output
    }

    private static func appendChunk(_ png: inout [UInt8], _ type: String, _ data: [UInt8]) {
        appendBigEndian(&png, UInt32(data.count))
        let typeBytes = Array(type.utf8)
        png += typeBytes
        png += data
        var crc = crc32(0, nil, 0)
        crc = typeBytes.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, uInt($0.count)) }
        crc = data.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, uInt($0.count)) }
        appendBigEndian(&png, UInt32(truncatingIfNeeded: crc))
    }

    private static func appendBigEndian(_ bytes: inout [UInt8], _ value: UInt32) {
        bytes += [
            UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8),
            UInt8(truncatingIfNeeded: value),
        ]
    }
}
