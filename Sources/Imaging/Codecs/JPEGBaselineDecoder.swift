import CJPEGTurbo

/// JPEG baseline (process 1) through libjpeg-turbo; 12-bit extended frames go to the Swift DCT decoder (PS3.5 A.4.1).
public enum JPEGBaselineDecoder {
    /// Decodes one JPEG baseline frame; YBR_FULL and YBR_FULL_422 come back as RGB, other colour data as coded (PS3.5 A.4.1, 8.2.1).
    public static func decode(
        _ stream: [UInt8], descriptor: FrameDescriptor, limits: DecodingLimits = .default
    ) throws(ImagingError) -> DecodedFrame {
        let frameBytes = try descriptor.validatedFrameBytes(limits: limits, codec: .jpeg)
        let (frame, applicationSegments) = try readFrameHeader(stream)
        guard frame.rows == descriptor.rows else {
            throw .headerMismatch(codec: .jpeg, field: "rows", stream: frame.rows, descriptor: descriptor.rows)
        }
        guard frame.columns == descriptor.columns else {
            throw .headerMismatch(codec: .jpeg, field: "columns", stream: frame.columns, descriptor: descriptor.columns)
        }
        guard frame.components.count == descriptor.samplesPerPixel else {
            throw .headerMismatch(
                codec: .jpeg, field: "component count", stream: frame.components.count, descriptor: descriptor.samplesPerPixel)
        }
        guard frame.precision <= descriptor.bitsAllocated else {
            throw .headerMismatch(codec: .jpeg, field: "precision", stream: frame.precision, descriptor: descriptor.bitsAllocated)
        }
        if frame.process == 0xC3 {
            return try JPEGLosslessDecoder.decode(stream, descriptor: descriptor, limits: limits)
        }
        if frame.precision != 8 {
            // Debian's libjpeg-turbo is built for 8-bit samples only; 12-bit extended frames use the Swift decoder.
            let (planes, precision) = try JPEGDCTDecoder.decode(stream, descriptor: descriptor)
            var output = [UInt8](repeating: 0, count: frameBytes)
            let samples = descriptor.samplesPerPixel
            let bytesPerSample = descriptor.bytesPerSample
            for (c, plane) in planes.enumerated() {
                for (p, value) in plane.enumerated() {
                    let offset = (p * samples + c) * bytesPerSample
                    output[offset] = UInt8(truncatingIfNeeded: value)
                    if bytesPerSample > 1 { output[offset + 1] = UInt8(truncatingIfNeeded: value >> 8) }
                }
            }
            var out = descriptor
            out.planarConfiguration = 0
            normalizeSamples(&output, descriptor: out, precision: precision)
            return DecodedFrame(descriptor: out, pixels: output)
        }
        let photometric = effectivePhotometric(descriptor, frame: frame, applicationSegments: applicationSegments)
        let sampleCount = descriptor.pixelCount * descriptor.samplesPerPixel
        var samples = [UInt8](repeating: 0, count: sampleCount)
        var message = [CChar](repeating: 0, count: Int(JMSG_LENGTH_MAX))
        let status = stream.withUnsafeBufferPointer { input in
            samples.withUnsafeMutableBufferPointer { out in
                atrium_jpeg_decode(input.baseAddress, UInt(input.count), 0, 1, out.baseAddress, UInt(out.count), &message)
            }
        }
        guard status == 0 else {
            throw .library(codec: .jpeg, message: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        var out = descriptor
        out.planarConfiguration = 0
        out.photometricInterpretation = photometric
        if descriptor.samplesPerPixel == 3, photometric == "YBR_FULL" || photometric == "YBR_FULL_422" {
            ColorConversion.ybrFullToRGB(&samples)
            out.photometricInterpretation = "RGB"
        }
        if descriptor.bitsAllocated == 8 {
            return DecodedFrame(descriptor: out, pixels: samples)
        }
        var wide = [UInt8](repeating: 0, count: frameBytes)
        let bytesPerSample = descriptor.bytesPerSample
        for i in 0..<sampleCount { wide[i * bytesPerSample] = samples[i] }
        return DecodedFrame(descriptor: out, pixels: wide)
    }

    /// The colour space the decoded samples are in: component identifiers "RGB" mean RGB, a JFIF marker means YCbCr (ISO 10918-5).
    static func effectivePhotometric(
        _ descriptor: FrameDescriptor, frame: JPEGFrameHeader, applicationSegments: [(marker: UInt8, prefix: [UInt8])]
    ) -> String {
        let photometric = descriptor.photometricInterpretation
        guard descriptor.samplesPerPixel == 3 else { return photometric }
        let identifiers = frame.components.map(\.identifier)
        if identifiers == Array("RGB".utf8) || identifiers == Array("rgb".utf8) { return "RGB" }
        let hasJFIF = applicationSegments.contains { $0.marker == 0xE0 && $0.prefix.starts(with: Array("JFIF".utf8)) }
        if hasJFIF, !photometric.hasPrefix("YBR") { return "YBR_FULL_422" }
        return photometric
    }

    static func readFrameHeader(_ stream: [UInt8]) throws(ImagingError) -> (JPEGFrameHeader, [(marker: UInt8, prefix: [UInt8])]) {
        try stream.withUnsafeBufferPointer { (data) throws(ImagingError) in
            var reader = try JPEGMarkerReader(data: data, codec: .jpeg)
            _ = try reader.nextScan()
            guard let frame = reader.frame else {
                throw .malformed(codec: .jpeg, offset: reader.position, reason: "no frame header before the first scan")
            }
            return (frame, reader.applicationSegments)
        }
    }
}
