import COpenJPEG
import Synchronization

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

    /// Decodes running now in this process. OpenJPEG's worker threads shorten a lone decode (one viewer), but when
    /// decodes run side by side they only contend for the same cores and cost thread start-ups, so a decode that
    /// starts while another runs uses one thread (docs/performance.md).
    static let decodesInFlight = Atomic<Int>(0)

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
        var written = false  // samples already normalized
        let others = decodesInFlight.add(1, ordering: .relaxed).oldValue
        defer { decodesInFlight.subtract(1, ordering: .relaxed) }
        try stream.withUnsafeBufferPointer { (input) throws(ImagingError) in
            let threads = descriptor.pixelCount >= 256 * 1024 && others == 0 ? decoderThreads : 1
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
            let normalization = SampleNormalization(descriptor, precision: precision)
            let shift = normalization?.shift ?? 0
            let isSigned = normalization?.isSigned ?? false
            try output.withUnsafeMutableBufferPointer { (out) throws(ImagingError) in
                guard let base = UnsafeMutableRawPointer(out.baseAddress) else { return }
                for c in 0..<componentCount {
                    let component = components[c]
                    guard let data = component.data, Int(component.w) == columns, Int(component.h) == rows else {
                        throw .malformed(codec: .jpeg2000, offset: 0, reason: "component \(c) decoded to \(component.w)×\(component.h)")
                    }
                    let stride = componentCount * bytesPerSample
                    var target = base + c * bytesPerSample
                    // OpenJPEG's 32-bit samples, cut to the sample width and brought to Bits Stored as they are written
                    // (what normalizeSamples would do afterwards, PS3.5 8.1.1).
                    switch bytesPerSample {
                    case 1:
                        for p in 0..<pixelCount {
                            let raw = UInt8(truncatingIfNeeded: data[p]) &<< UInt8(shift)
                            let v = isSigned ? UInt8(bitPattern: Int8(bitPattern: raw) &>> Int8(shift)) : raw &>> UInt8(shift)
                            target.storeBytes(of: v, as: UInt8.self)
                            target += stride
                        }
                    case 2:
                        for p in 0..<pixelCount {
                            let raw = UInt16(truncatingIfNeeded: data[p]) &<< UInt16(shift)
                            let v = isSigned ? UInt16(bitPattern: Int16(bitPattern: raw) &>> Int16(shift)) : raw &>> UInt16(shift)
                            target.storeBytes(of: v.littleEndian, as: UInt16.self)
                            target += stride
                        }
                    default:
                        for p in 0..<pixelCount {
                            let value = UInt32(bitPattern: data[p])
                            for b in 0..<bytesPerSample {
                                target.storeBytes(of: UInt8(truncatingIfNeeded: value >> (8 * UInt32(b))), toByteOffset: b, as: UInt8.self)
                            }
                            target += stride
                        }
                    }
                }
            }
            written = normalization != nil
        }
        var out = descriptor
        out.planarConfiguration = 0
        if out.photometricInterpretation == "YBR_RCT" || out.photometricInterpretation == "YBR_ICT" {
            out.photometricInterpretation = "RGB"  // OpenJPEG applies the inverse multiple-component transform
        }
        if !written { normalizeSamples(&output, descriptor: out, precision: precision) }
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
