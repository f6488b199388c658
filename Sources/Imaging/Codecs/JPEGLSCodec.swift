import CCharLS

/// JPEG-LS lossless and near-lossless through CharLS (PS3.5 A.4.3, ISO 14495-1).
public enum JPEGLSCodec {
    /// Decodes one JPEG-LS frame into native little-endian colour-by-pixel samples (PS3.5 A.4.3).
    public static func decode(
        _ stream: [UInt8], descriptor: FrameDescriptor, limits: DecodingLimits = .default
    ) throws(ImagingError) -> DecodedFrame {
        let frameBytes = try descriptor.validatedFrameBytes(limits: limits, codec: .jpegLS)
        guard descriptor.bitsAllocated <= 16 else {
            throw .invalidDescriptor(codec: .jpegLS, reason: "bits allocated \(descriptor.bitsAllocated) above 16")
        }
        guard let decoder = charls_jpegls_decoder_create() else { throw .library(codec: .jpegLS, message: "cannot create a decoder") }
        defer { charls_jpegls_decoder_destroy(decoder) }
        var output = [UInt8]()
        var precision = 0
        try terminated(stream).withUnsafeBufferPointer { (typed) throws(ImagingError) in
            let input = UnsafeRawBufferPointer(typed)
            guard let base = input.baseAddress else { throw .truncated(codec: .jpegLS, offset: 0, expected: "a JPEG-LS stream") }
            try check(charls_jpegls_decoder_set_source_buffer(decoder, base, input.count))
            try check(charls_jpegls_decoder_read_header(decoder))
            var info = charls_frame_info()
            try check(charls_jpegls_decoder_get_frame_info(decoder, &info))
            var interleave = CHARLS_INTERLEAVE_MODE_NONE
            try check(charls_jpegls_decoder_get_interleave_mode(decoder, &interleave))
            guard Int(info.height) == descriptor.rows else {
                throw .headerMismatch(codec: .jpegLS, field: "rows", stream: Int(info.height), descriptor: descriptor.rows)
            }
            guard Int(info.width) == descriptor.columns else {
                throw .headerMismatch(codec: .jpegLS, field: "columns", stream: Int(info.width), descriptor: descriptor.columns)
            }
            guard Int(info.component_count) == descriptor.samplesPerPixel else {
                throw .headerMismatch(
                    codec: .jpegLS, field: "component count", stream: Int(info.component_count), descriptor: descriptor.samplesPerPixel)
            }
            precision = Int(info.bits_per_sample)
            guard precision <= descriptor.bitsAllocated else {
                throw .headerMismatch(codec: .jpegLS, field: "precision", stream: precision, descriptor: descriptor.bitsAllocated)
            }
            var size = 0
            try check(charls_jpegls_decoder_get_destination_size(decoder, 0, &size))
            let codedBytesPerSample = precision <= 8 ? 1 : 2
            guard size == descriptor.pixelCount * descriptor.samplesPerPixel * codedBytesPerSample else {
                throw .malformed(codec: .jpegLS, offset: 0, reason: "CharLS destination size \(size) does not match the frame")
            }
            let planar = interleave == CHARLS_INTERLEAVE_MODE_NONE && descriptor.samplesPerPixel > 1
            if !planar, codedBytesPerSample == descriptor.bytesPerSample {
                output = [UInt8](repeating: 0, count: frameBytes)
                try output.withUnsafeMutableBufferPointer { (typed) throws(ImagingError) in
                    let out = UnsafeMutableRawBufferPointer(typed)
                    guard let base = out.baseAddress else { return }
                    try check(charls_jpegls_decoder_decode_to_buffer(decoder, base, size, 0))
                }
                return
            }
            var coded = [UInt8](repeating: 0, count: size)
            try coded.withUnsafeMutableBufferPointer { (typed) throws(ImagingError) in
                let out = UnsafeMutableRawBufferPointer(typed)
                guard let base = out.baseAddress else { return }
                try check(charls_jpegls_decoder_decode_to_buffer(decoder, base, size, 0))
            }
            if planar {
                var interleaved = [UInt8](repeating: 0, count: size)
                coded.withUnsafeBytes { from in
                    interleaved.withUnsafeMutableBytes { to in
                        ColorConversion.interleave(
                            from, into: to, pixelCount: descriptor.pixelCount, samples: descriptor.samplesPerPixel,
                            bytesPerSample: codedBytesPerSample)
                    }
                }
                coded = interleaved
            }
            if codedBytesPerSample == descriptor.bytesPerSample {
                output = coded
            } else {
                output = [UInt8](repeating: 0, count: frameBytes)
                for i in 0..<(size / codedBytesPerSample) { output[i * descriptor.bytesPerSample] = coded[i] }
            }
        }
        var out = descriptor
        out.planarConfiguration = 0
        // JPEG-LS has no sign: signed samples were coded as their low `precision` bits (PS3.5 A.4.3).
        normalizeSamples(&output, descriptor: out, precision: precision)
        return DecodedFrame(descriptor: out, pixels: output)
    }

    /// Encodes native little-endian pixel data; `nearLossless` 0 is lossless, otherwise the NEAR parameter (PS3.5 A.4.3).
    public static func encode(_ pixels: [UInt8], descriptor: FrameDescriptor, nearLossless: Int = 0) throws(ImagingError) -> [UInt8] {
        let frameBytes = try descriptor.validatedFrameBytes(limits: DecodingLimits(maximumFrameBytes: .max), codec: .jpegLS)
        guard pixels.count >= frameBytes else {
            throw .truncated(codec: .jpegLS, offset: pixels.count, expected: "\(frameBytes) bytes of native pixel data")
        }
        guard descriptor.bitsAllocated <= 16, descriptor.bitsStored >= 2 else {
            throw .invalidDescriptor(
                codec: .jpegLS, reason: "JPEG-LS codes 2 to 16 bits, not \(descriptor.bitsStored) of \(descriptor.bitsAllocated)")
        }
        // Keep only the stored bits: signed values become their two's complement in `bitsStored` bits.
        var source = Array(pixels.prefix(frameBytes))
        var unsigned = descriptor
        unsigned.isSigned = false
        normalizeSamples(&source, descriptor: unsigned, precision: descriptor.bitsStored)
        if descriptor.planarConfiguration == 1, descriptor.samplesPerPixel > 1 {
            var interleaved = source
            source.withUnsafeBytes { from in
                interleaved.withUnsafeMutableBytes { to in
                    ColorConversion.interleave(
                        from, into: to, pixelCount: descriptor.pixelCount, samples: descriptor.samplesPerPixel,
                        bytesPerSample: descriptor.bytesPerSample)
                }
            }
            source = interleaved
        }
        guard let encoder = charls_jpegls_encoder_create() else { throw .library(codec: .jpegLS, message: "cannot create an encoder") }
        defer { charls_jpegls_encoder_destroy(encoder) }
        var info = charls_frame_info(
            width: UInt32(descriptor.columns), height: UInt32(descriptor.rows), bits_per_sample: Int32(descriptor.bitsStored),
            component_count: Int32(descriptor.samplesPerPixel))
        try check(charls_jpegls_encoder_set_frame_info(encoder, &info))
        try check(charls_jpegls_encoder_set_near_lossless(encoder, Int32(nearLossless)))
        if descriptor.samplesPerPixel > 1 {
            try check(charls_jpegls_encoder_set_interleave_mode(encoder, CHARLS_INTERLEAVE_MODE_SAMPLE))
        }
        var capacity = 0
        try check(charls_jpegls_encoder_get_estimated_destination_size(encoder, &capacity))
        var destination = [UInt8](repeating: 0, count: capacity)
        var written = 0
        try destination.withUnsafeMutableBufferPointer { (typed) throws(ImagingError) in
            let out = UnsafeMutableRawBufferPointer(typed)
            guard let base = out.baseAddress else { throw .library(codec: .jpegLS, message: "empty destination buffer") }
            try check(charls_jpegls_encoder_set_destination_buffer(encoder, base, out.count))
            try source.withUnsafeBufferPointer { (typed) throws(ImagingError) in
                let input = UnsafeRawBufferPointer(typed)
                guard let base = input.baseAddress else { return }
                try check(charls_jpegls_encoder_encode_from_buffer(encoder, base, input.count, 0))
            }
            try check(charls_jpegls_encoder_get_bytes_written(encoder, &written))
        }
        return Array(destination.prefix(written))
    }

    /// The stream with an EOI marker at its end: CharLS 2.4 loops forever on a stream that is cut short without one.
    private static func terminated(_ stream: [UInt8]) -> [UInt8] {
        var end = stream.count
        while end > 0, stream[end - 1] == 0 { end -= 1 }  // DICOM pads odd-length fragments with a zero byte
        if end >= 2, stream[end - 2] == 0xFF, stream[end - 1] == 0xD9 { return stream }
        return stream + [0xFF, 0xD9]
    }

    private static func check(_ code: charls_jpegls_errc) throws(ImagingError) {
        guard code != CHARLS_JPEGLS_ERRC_SUCCESS else { return }
        let message = charls_get_error_message(code).map { String(cString: $0) } ?? "error \(code.rawValue)"
        throw .library(codec: .jpegLS, message: message)
    }
}
