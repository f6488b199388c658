import CSystemZlib

/// Reads PNG files (ISO/IEC 15948) of 8-bit greyscale, RGB, grey with alpha and RGBA, not interlaced: what photos and
/// screenshots saved as PNG are. The pixels come out as 8-bit grey or RGB samples (alpha composited over white);
/// every ancillary chunk (text, EXIF, time, ICC) is ignored, so nothing of it survives.
public enum PNGDecoder {
    /// Why a PNG was not read.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// The decoded picture: `channels` 1 (grey) or 3 (RGB), 8 bits, rows top to bottom.
    public struct Picture: Sendable, Equatable {
        public var width: Int
        public var height: Int
        public var channels: Int
        public var samples: [UInt8]
    }

    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    public static func isPNG(_ bytes: some Collection<UInt8>) -> Bool { bytes.starts(with: signature) }

    /// Decodes `bytes`; pictures of more than `maximumPixels` pixels are refused before anything is inflated.
    public static func decode(_ bytes: [UInt8], maximumPixels: Int = 40_000_000) throws(Failure) -> Picture {
        guard isPNG(bytes) else { throw Failure(description: "not a PNG file") }
        var i = 8
        var width = 0, height = 0, colorType = -1
        var data: [UInt8] = []
        var ended = false
        while i + 8 <= bytes.count {
            let length = Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            let type = String(decoding: bytes[(i + 4)..<(i + 8)], as: UTF8.self)
            guard length >= 0, i + 12 + length <= bytes.count else { throw Failure(description: "chunk \(type) runs past the file") }
            let body = bytes[(i + 8)..<(i + 8 + length)]
            switch type {
            case "IHDR":
                guard length == 13 else { throw Failure(description: "IHDR of \(length) bytes") }
                let b = Array(body)
                width = Int(b[0]) << 24 | Int(b[1]) << 16 | Int(b[2]) << 8 | Int(b[3])
                height = Int(b[4]) << 24 | Int(b[5]) << 16 | Int(b[6]) << 8 | Int(b[7])
                guard b[8] == 8 else { throw Failure(description: "only 8-bit PNG is read, not \(b[8])-bit") }
                colorType = Int(b[9])
                guard [0, 2, 4, 6].contains(colorType) else { throw Failure(description: "PNG colour type \(colorType) is not read") }
                guard b[12] == 0 else { throw Failure(description: "interlaced PNG is not read") }
                guard width > 0, height > 0, width <= 65535, height <= 65535, width * height <= maximumPixels else {
                    throw Failure(description: "a PNG of \(width) × \(height) pixels is too large")
                }
            case "IDAT": data += body
            case "IEND": ended = true
            default: break
            }
            if ended { break }
            i += 12 + length
        }
        guard colorType >= 0, ended, !data.isEmpty else { throw Failure(description: "the PNG has no IHDR, IDAT or IEND") }
        let components = [0: 1, 2: 3, 4: 2, 6: 4][colorType] ?? 1
        let stride = width * components
        var raw = [UInt8](repeating: 0, count: (stride + 1) * height)
        var size = UInt(raw.count)
        let status = raw.withUnsafeMutableBufferPointer { out in
            data.withUnsafeBufferPointer { input in
                uncompress(out.baseAddress, &size, input.baseAddress, UInt(input.count))
            }
        }
        guard status == Z_OK, Int(size) == raw.count else { throw Failure(description: "the PNG's image data does not inflate") }
        var pixels = [UInt8](repeating: 0, count: stride * height)
        var previous = [UInt8](repeating: 0, count: stride)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            var row = Array(raw[(y * (stride + 1) + 1)..<((y + 1) * (stride + 1))])
            for x in 0..<stride {
                let a = x >= components ? Int(row[x - components]) : 0
                let b = Int(previous[x])
                let c = x >= components ? Int(previous[x - components]) : 0
                let add: Int
                switch filter {
                case 0: add = 0
                case 1: add = a
                case 2: add = b
                case 3: add = (a + b) / 2
                case 4:
                    let p = a + b - c
                    let (pa, pb, pc) = (abs(p - a), abs(p - b), abs(p - c))
                    add = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: throw Failure(description: "PNG row filter \(filter) is unknown")
                }
                row[x] = UInt8(truncatingIfNeeded: Int(row[x]) + add)
            }
            pixels.replaceSubrange((y * stride)..<((y + 1) * stride), with: row)
            previous = row
        }
        // Alpha composited over white; grey stays grey.
        let channels = colorType == 0 || colorType == 4 ? 1 : 3
        if components == channels { return Picture(width: width, height: height, channels: channels, samples: pixels) }
        var out = [UInt8](repeating: 0, count: width * height * channels)
        for p in 0..<(width * height) {
            let alpha = Int(pixels[p * components + components - 1])
            for k in 0..<channels {
                out[p * channels + k] = UInt8((Int(pixels[p * components + k]) * alpha + 255 * (255 - alpha) + 127) / 255)
            }
        }
        return Picture(width: width, height: height, channels: channels, samples: out)
    }
}
