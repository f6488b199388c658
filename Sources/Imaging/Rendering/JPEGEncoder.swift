import CJPEGTurbo

#if canImport(Glibc)
    import Glibc
#endif

/// Baseline JPEG files of rendered 8-bit images, through libjpeg-turbo (ISO/IEC 10918-1; PS3.18 8.7.3.4 quality).
public enum JPEGEncoder {
    /// Encodes 8-bit grey or RGB samples at `quality` (1…100).
    public static func encode(_ image: RenderedImage, quality: Int = 90) throws(ImagingError) -> [UInt8] {
        guard image.bitDepth == 8, image.channels == 1 || image.channels == 3 else {
            throw .encoding(format: "JPEG", message: "JPEG output needs 8-bit grey or RGB, not \(image.channels)×\(image.bitDepth) bits")
        }
        guard image.width > 0, image.height > 0, image.width <= 65500, image.height <= 65500,
            image.samples.count == image.width * image.height * image.channels
        else {
            throw .encoding(format: "JPEG", message: "\(image.samples.count) samples for \(image.width)×\(image.height)×\(image.channels)")
        }
        let bytes = image.samples.map { UInt8(truncatingIfNeeded: $0) }
        var buffer: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        var message = [CChar](repeating: 0, count: Int(JMSG_LENGTH_MAX))
        let status = bytes.withUnsafeBufferPointer { input in
            atrium_jpeg_encode(
                input.baseAddress, Int32(image.width), Int32(image.height), Int32(image.channels), Int32(min(max(quality, 1), 100)),
                &buffer, &size, &message)
        }
        defer { free(buffer) }
        guard status == 0, let buffer else {
            throw .encoding(
                format: "JPEG", message: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return Array(UnsafeBufferPointer(start: buffer, count: Int(size)))
    }
}
