import CLibPNG

/// Reads PNG files (ISO/IEC 15948) with libpng's simplified API: every colour type (grey, RGB, palette, each with or
/// without alpha or a transparent colour), every bit depth and Adam7 interlacing. The pixels come out as 8-bit grey or
/// RGB samples (alpha composited over white, as a page shows them); every ancillary chunk (text, EXIF, time, ICC) is
/// left behind, so nothing of it survives. 16-bit samples are taken as sRGB-encoded, as browsers show a file without a
/// gAMA or sRGB chunk (libpng's default would take them as linear light), and reduced to 8 bits.
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

    /// Decodes `bytes`; pictures of more than `maximumPixels` pixels are refused from their header, before any image
    /// data is inflated. libpng's own limits stay in force (no ancillary chunk over 8 MB is kept in memory).
    public static func decode(_ bytes: [UInt8], maximumPixels: Int = 40_000_000) throws(Failure) -> Picture {
        guard isPNG(bytes) else { throw Failure(description: "not a PNG file") }
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        let begun = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        // A failed call has already released libpng's state; a successful one is released by the finishing call.
        guard begun != 0 else { throw Failure(description: "the PNG cannot be read: " + message(of: &image)) }
        let width = Int(image.width)
        let height = Int(image.height)
        guard width > 0, height > 0, width.multipliedReportingOverflow(by: height).partialValue <= maximumPixels,
            width <= 65535, height <= 65535
        else {
            png_image_free(&image)
            throw Failure(description: "a PNG of \(width) × \(height) pixels is too large")
        }
        image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
        let color = image.format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0
        // Alpha, or a transparent colour (tRNS), which libpng gives as alpha.
        let alpha = image.format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0
        image.format = (color ? UInt32(PNG_FORMAT_FLAG_COLOR) : 0) | (alpha ? UInt32(PNG_FORMAT_FLAG_ALPHA) : 0)
        let channels = color ? 3 : 1
        let components = channels + (alpha ? 1 : 0)
        var pixels = [UInt8](repeating: 0, count: width * height * components)
        let finished = pixels.withUnsafeMutableBytes { out in
            png_image_finish_read(&image, nil, out.baseAddress, Int32(width * components), nil)
        }
        guard finished != 0 else {
            let reason = message(of: &image)
            png_image_free(&image)
            throw Failure(description: "the PNG's image data cannot be read: " + reason)
        }
        if !alpha { return Picture(width: width, height: height, channels: channels, samples: pixels) }
        // Alpha composited over white in the stored (sRGB) values, as browsers show a PNG on a white page.
        var out = [UInt8](repeating: 0, count: width * height * channels)
        for p in 0..<(width * height) {
            let a = Int(pixels[p * components + channels])
            for k in 0..<channels {
                out[p * channels + k] = UInt8((Int(pixels[p * components + k]) * a + 255 * (255 - a) + 127) / 255)
            }
        }
        return Picture(width: width, height: height, channels: channels, samples: out)
    }

    /// libpng's message for the last failure (its own text, in English).
    private static func message(of image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
