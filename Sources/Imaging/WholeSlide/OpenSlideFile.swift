import COpenSlide

/// Why a slide file could not be converted.
public enum SlideConversionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// OpenSlide does not recognise the file's format.
    case unrecognisedFormat(file: String)
    /// OpenSlide recognised the format but could not read the file (its own message).
    case unreadable(file: String, message: String)
    /// The slide's geometry is outside what the converter takes.
    case unsupportedGeometry(file: String, reason: String)
    /// Encoding a tile failed.
    case encoding(level: Int, message: String)

    public var description: String {
        switch self {
        case .unrecognisedFormat(let file): "\(file) is not a slide format OpenSlide reads"
        case .unreadable(let file, let message): "OpenSlide cannot read \(file): \(message)"
        case .unsupportedGeometry(let file, let reason): "\(file): \(reason)"
        case .encoding(let level, let message): "a tile of level \(level) could not be encoded: \(message)"
        }
    }
}

/// A slide file opened with OpenSlide (Debian's `libopenslide0`): its levels and RGBA region reads.
public final class OpenSlideFile: @unchecked Sendable {
    /// One level of the slide's pyramid.
    public struct Level: Sendable, Equatable {
        public var width: Int
        public var height: Int
        /// Level-0 pixels per pixel of this level.
        public var downsample: Double
    }

    private let handle: OpaquePointer
    public let levels: [Level]
    /// Microns per pixel of level 0 across and down (`openslide.mpp-x`, `openslide.mpp-y`), when the file says.
    public let micronsPerPixel: (x: Double, y: Double)?
    /// The format OpenSlide detected (`openslide.vendor`).
    public let vendor: String

    /// Opens `path`; a file OpenSlide does not know, or cannot read, is an error naming `name`.
    public init(path: String, name: String) throws(SlideConversionError) {
        guard openslide_detect_vendor(path) != nil, let handle = openslide_open(path) else {
            throw .unrecognisedFormat(file: name)
        }
        if let error = openslide_get_error(handle) {
            let message = String(cString: error)
            openslide_close(handle)
            throw .unreadable(file: name, message: message)
        }
        self.handle = handle
        var levels: [Level] = []
        for level in 0..<max(openslide_get_level_count(handle), 0) {
            var width: Int64 = 0
            var height: Int64 = 0
            openslide_get_level_dimensions(handle, level, &width, &height)
            levels.append(Level(width: Int(width), height: Int(height), downsample: openslide_get_level_downsample(handle, level)))
        }
        self.levels = levels
        func property(_ key: String) -> String? { openslide_get_property_value(handle, key).map { String(cString: $0) } }
        if let x = property("openslide.mpp-x").flatMap(Double.init), let y = property("openslide.mpp-y").flatMap(Double.init), x > 0, y > 0
        {
            micronsPerPixel = (x, y)
        } else if let x = property("tiff.XResolution").flatMap(Double.init), let y = property("tiff.YResolution").flatMap(Double.init),
            x > 0, y > 0, let micronsPerUnit = ["centimeter": 10_000.0, "inch": 25_400.0][property("tiff.ResolutionUnit") ?? ""]
        {
            // OpenSlide 3.4 gives no mpp for generic tiled TIFF; its resolution tags do (pixels per centimetre or inch).
            micronsPerPixel = (micronsPerUnit / x, micronsPerUnit / y)
        } else {
            micronsPerPixel = nil
        }
        vendor = property("openslide.vendor") ?? ""
    }

    deinit { openslide_close(handle) }

    /// The pixels of a `width` × `height` region of `level` whose top left corner is at (`x`, `y`) in level-0
    /// coordinates, as 8-bit RGB; what lies outside the slide, or is transparent, is white.
    public func readRGB(level: Int, x: Int, y: Int, width: Int, height: Int, name: String) throws(SlideConversionError) -> [UInt8] {
        var argb = [UInt32](repeating: 0, count: width * height)
        argb.withUnsafeMutableBufferPointer { buffer in
            openslide_read_region(handle, buffer.baseAddress, Int64(x), Int64(y), Int32(level), Int64(width), Int64(height))
        }
        if let error = openslide_get_error(handle) {
            throw .unreadable(file: name, message: String(cString: error))
        }
        var rgb = [UInt8](repeating: 255, count: width * height * 3)
        rgb.withUnsafeMutableBufferPointer { out in
            for (i, pixel) in argb.enumerated() {
                // Premultiplied ARGB (openslide.h): undo the premultiplication over white.
                let alpha = pixel >> 24
                if alpha == 0 { continue }
                var r = (pixel >> 16) & 0xFF
                var g = (pixel >> 8) & 0xFF
                var b = pixel & 0xFF
                if alpha != 255 {
                    r = min(255, (r * 255 + (255 - alpha) * 255) / 255)
                    g = min(255, (g * 255 + (255 - alpha) * 255) / 255)
                    b = min(255, (b * 255 + (255 - alpha) * 255) / 255)
                }
                out[3 * i] = UInt8(r)
                out[3 * i + 1] = UInt8(g)
                out[3 * i + 2] = UInt8(b)
            }
        }
        return rgb
    }

    /// The names of the associated images (`label`, `macro`, `thumbnail`…), which the converter leaves out unless asked.
    public var associatedImageNames: [String] {
        guard let names = openslide_get_associated_image_names(handle) else { return [] }
        var out: [String] = []
        var i = 0
        while let name = names[i] {
            out.append(String(cString: name))
            i += 1
        }
        return out
    }
}
