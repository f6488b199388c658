import COpenJPEG

#if canImport(Glibc)
    import Glibc
#endif

/// JPEG 2000 lossless and lossy through OpenJPEG, from a J2K codestream or a JP2 file (PS3.5 A.4.4).
public enum JPEG2000Codec {
    /// Worker threads OpenJPEG decodes a large frame (from 512 × 512 pixels) on: the online processors, at most 4.
    static let decoderThreads: Int = {
        let online = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return Int(min(max(online, 1), 4))
    }()

    /// Decodes one JPEG 2000 frame into native little-endian colour-by-pixel samples; YBR_RCT and YBR_ICT come back as RGB (PS3.5 A.4.4, 8.2.4).
    public static func decode(
        _ stream: [UInt8], descriptor: FrameDescriptor, limits: DecodingLimits = .default
    ) throws(ImagingError) -> DecodedFrame {
        let frameBytes = try descriptor.validatedFrameBytes(limits: limits, codec: .jpeg2000)
        var decoder = atrium_opj_decoder()
        var imagePointer: UnsafeMutablePointer<opj_image_t>?
        defer { atrium_opj_finish(&decoder, imagePointer) }
        var output = [UInt8]()
        var precision = 0
        try stream.withUnsafeBufferPointer { (input) throws(ImagingError) in
            let threads = descriptor.pixelCount >= 256 * 1024 ? decoderThreads : 1
            guard atrium_opj_read_header(&decoder, input.baseAddress, input.count, &imagePointer, Int32(threads)) == 0,
                let image = imagePointer
            else {
                throw .library(codec: .jpeg2000, message: message(of: &decoder))
            }
            let componentCount = Int(image.pointee.numcomps)
            guard componentCount == descriptor.samplesPerPixel, let components = image.pointee.comps else {
                throw .headerMismatch(
                    codec: .jpeg2000, field: "component count", stream: componentCount, descriptor: descriptor.samplesPerPixel)
            }
            let columns = Int(image.pointee.x1) - Int(image.pointee.x0)
            let rows = Int(image.pointee.y1) - Int(image.pointee.y0)
            guard rows == descriptor.rows else {
                throw .headerMismatch(codec: .jpeg2000, field: "rows", stream: rows, descriptor: descriptor.rows)
            }
            guard columns == descriptor.columns else {
                throw .headerMismatch(codec: .jpeg2000, field: "columns", stream: columns, descriptor: descriptor.columns)
            }
            for c in 0..<componentCount {
                let component = components[c]
                guard component.dx == 1, component.dy == 1 else {
                    throw .unsupported(codec: .jpeg2000, feature: "subsampled component \(c) (\(component.dx)×\(component.dy))")
                }
                precision = max(precision, Int(component.prec))
            }
            guard precision >= 1, precision <= descriptor.bitsAllocated else {
                throw .headerMismatch(codec: .jpeg2000, field: "precision", stream: precision, descriptor: descriptor.bitsAllocated)
            }
            guard atrium_opj_decode_body(&decoder, image) == 0 else {
                throw .library(codec: .jpeg2000, message: message(of: &decoder))
            }
            output = [UInt8](repeating: 0, count: frameBytes)
            let bytesPerSample = descriptor.bytesPerSample
            let pixelCount = descriptor.pixelCount
            try output.withUnsafeMutableBufferPointer { (out) throws(ImagingError) in
                for c in 0..<componentCount {
                    let component = components[c]
                    guard let data = component.data, Int(component.w) == columns, Int(component.h) == rows else {
                        throw .malformed(codec: .jpeg2000, offset: 0, reason: "component \(c) decoded to \(component.w)×\(component.h)")
                    }
                    var offset = c * bytesPerSample
                    let stride = componentCount * bytesPerSample
                    for p in 0..<pixelCount {
                        let value = UInt32(bitPattern: data[p])
                        for b in 0..<bytesPerSample { out[offset + b] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(b))) }
                        offset += stride
                    }
                }
            }
        }
        var out = descriptor
        out.planarConfiguration = 0
        if out.photometricInterpretation == "YBR_RCT" || out.photometricInterpretation == "YBR_ICT" {
            out.photometricInterpretation = "RGB"  // OpenJPEG applies the inverse multiple-component transform
        }
        normalizeSamples(&output, descriptor: out, precision: precision)
        return DecodedFrame(descriptor: out, pixels: output)
    }

    /// Encodes native little-endian pixel data as a lossless J2K codestream (reversible 5/3 wavelet); colour uses
    /// the reversible colour transform when `colorTransform` is set, and the data set's photometric then becomes YBR_RCT (PS3.5 A.4.4).
    public static func encodeLossless(_ pixels: [UInt8], descriptor: FrameDescriptor, colorTransform: Bool = true) throws(ImagingError)
        -> [UInt8]
    {
        let frameBytes = try descriptor.validatedFrameBytes(limits: DecodingLimits(maximumFrameBytes: .max), codec: .jpeg2000)
        guard pixels.count >= frameBytes else {
            throw .truncated(codec: .jpeg2000, offset: pixels.count, expected: "\(frameBytes) bytes of native pixel data")
        }
        let samples = descriptor.samplesPerPixel
        let pixelCount = descriptor.pixelCount
        let bytesPerSample = descriptor.bytesPerSample
        let shift = 32 - descriptor.bitsStored
        var planes = [Int32](repeating: 0, count: pixelCount * samples)
        for s in 0..<samples {
            for p in 0..<pixelCount {
                let index = descriptor.planarConfiguration == 1 ? s * pixelCount + p : p * samples + s
                var raw: UInt32 = 0
                for b in 0..<bytesPerSample { raw |= UInt32(pixels[index * bytesPerSample + b]) << (8 * UInt32(b)) }
                let shifted = raw << UInt32(shift)
                planes[s * pixelCount + p] =
                    descriptor.isSigned ? Int32(bitPattern: shifted) >> Int32(shift) : Int32(bitPattern: shifted >> UInt32(shift))
            }
        }
        var buffer: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = planes.withUnsafeBufferPointer { input in
            atrium_opj_encode_lossless(
                input.baseAddress, Int32(descriptor.columns), Int32(descriptor.rows), Int32(samples), Int32(descriptor.bitsStored),
                descriptor.isSigned ? 1 : 0, colorTransform ? 1 : 0, &buffer, &size, &message)
        }
        defer { free(buffer) }
        guard status == 0, let buffer else {
            throw .library(
                codec: .jpeg2000, message: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return Array(UnsafeBufferPointer(start: buffer, count: size))
    }

    private static func message(of decoder: inout atrium_opj_decoder) -> String {
        withUnsafeBytes(of: &decoder.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return bytes.isEmpty ? "OpenJPEG failed" : String(decoding: bytes, as: UTF8.self).trimmingSuffixNewlines()
        }
    }
}

extension String {
    fileprivate func trimmingSuffixNewlines() -> String {
        var result = self
        while result.last == "\n" { result.removeLast() }
        return result
    }
}
