import CSystemZlib

/// PNG files of rendered images: IHDR, one zlib IDAT, IEND, each with its CRC (ISO/IEC 15948, RFC 2083).
public enum PNGEncoder {
    /// Encodes 8- or 16-bit grey or RGB samples; rows use the Sub filter, deflated at `compressionLevel` (0…9).
    public static func encode(_ image: RenderedImage, compressionLevel: Int32 = 6) throws(ImagingError) -> [UInt8] {
        guard image.bitDepth == 8 || image.bitDepth == 16, image.channels == 1 || image.channels == 3 else {
            throw .encoding(format: "PNG", message: "\(image.channels) channels of \(image.bitDepth) bits")
        }
        guard image.width > 0, image.height > 0, image.samples.count == image.width * image.height * image.channels else {
            throw .encoding(format: "PNG", message: "\(image.samples.count) samples for \(image.width)×\(image.height)×\(image.channels)")
        }
        let bytesPerSample = image.bitDepth / 8
        let bytesPerPixel = bytesPerSample * image.channels
        let stride = image.width * bytesPerPixel
        var raw = [UInt8](repeating: 0, count: (stride + 1) * image.height)
        image.samples.withUnsafeBufferPointer { samples in
            raw.withUnsafeMutableBufferPointer { out in
                var line = [UInt8](repeating: 0, count: stride)
                for y in 0..<image.height {
                    let first = y * image.width * image.channels
                    if bytesPerSample == 1 {
                        for i in 0..<stride { line[i] = UInt8(truncatingIfNeeded: samples[first + i]) }
                    } else {
                        for i in 0..<(stride / 2) {
                            line[2 * i] = UInt8(truncatingIfNeeded: samples[first + i] >> 8)
                            line[2 * i + 1] = UInt8(truncatingIfNeeded: samples[first + i])
                        }
                    }
                    let row = y * (stride + 1)
                    out[row] = 1  // Sub: each byte minus the corresponding byte of the pixel to its left
                    for i in 0..<stride {
                        out[row + 1 + i] = i >= bytesPerPixel ? line[i] &- line[i - bytesPerPixel] : line[i]
                    }
                }
            }
        }
        var compressedSize = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(compressedSize))
        let status = compressed.withUnsafeMutableBufferPointer { out in
            raw.withUnsafeBufferPointer { input in
                compress2(out.baseAddress, &compressedSize, input.baseAddress, uLong(input.count), compressionLevel)
            }
        }
        guard status == Z_OK else { throw .encoding(format: "PNG", message: "zlib compress2 returned \(status)") }
        compressed.removeLast(compressed.count - Int(compressedSize))

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
