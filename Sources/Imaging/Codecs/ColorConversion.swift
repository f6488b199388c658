/// Colour-space conversions applied to decoded frames (PS3.3 C.7.6.3.1.2).
enum ColorConversion {
    /// YBR_FULL to RGB in place for 8-bit interleaved samples, with the ITU-R BT.601 full-range equations of
    /// PS3.3 C.7.6.3.1.2, computed in single precision and rounded as pydicom does.
    static func ybrFullToRGB(_ pixels: inout [UInt8]) {
        let greenFromBlue: Float = -0.114 * 1.772 / 0.587
        let greenFromRed: Float = -0.299 * 1.402 / 0.587
        pixels.withUnsafeMutableBufferPointer { buffer in
            var i = 0
            while i + 2 < buffer.count {
                let y = Float(buffer[i])
                let cb = Float(buffer[i + 1]) - 128
                let cr = Float(buffer[i + 2]) - 128
                buffer[i] = clamp(y + cr * 1.402)
                buffer[i + 1] = clamp(y + cb * greenFromBlue + cr * greenFromRed)
                buffer[i + 2] = clamp(y + cb * 1.772)
                i += 3
            }
        }
    }

    /// YBR_FULL to RGB in place for 16-bit interleaved little-endian samples: the same equations with the chroma
    /// offset at the middle of the Bits Stored range (2^(n−1), as 128 is for 8 bits), rounded half up and clamped to
    /// 0…2^n − 1. Double precision, plus a nudge of 10⁻⁷ before rounding: the exact results are multiples of
    /// 1/587000 (the coefficients' common denominator), so the nudge turns a true .5 that the floating-point
    /// products put a hair below into the half-up it is, and changes nothing else.
    static func ybrFullToRGB16(_ pixels: inout [UInt8], bitsStored: Int) {
        let bits = min(max(bitsStored, 1), 16)
        let offset = Double(1 << (bits - 1))
        let maximum = Double((1 << bits) - 1)
        let greenFromBlue = -0.114 * 1.772 / 0.587
        let greenFromRed = -0.299 * 1.402 / 0.587
        @inline(__always) func clamp(_ value: Double) -> UInt16 {
            let rounded = (value + 0.5 + 1e-7).rounded(.down)
            return rounded <= 0 ? 0 : rounded >= maximum ? UInt16(maximum) : UInt16(rounded)
        }
        pixels.withUnsafeMutableBytes { raw in
            let count = raw.count / 6
            for p in 0..<count {
                let base = p * 6
                let y = Double(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: base, as: UInt16.self)))
                let cb = Double(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: base + 2, as: UInt16.self))) - offset
                let cr = Double(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: base + 4, as: UInt16.self))) - offset
                raw.storeBytes(of: clamp(y + cr * 1.402).littleEndian, toByteOffset: base, as: UInt16.self)
                raw.storeBytes(
                    of: clamp(y + cb * greenFromBlue + cr * greenFromRed).littleEndian, toByteOffset: base + 2, as: UInt16.self)
                raw.storeBytes(of: clamp(y + cb * 1.772).littleEndian, toByteOffset: base + 4, as: UInt16.self)
            }
        }
    }

    @inline(__always)
    private static func clamp(_ value: Float) -> UInt8 {
        let rounded = (value + 0.5).rounded(.down)
        return rounded <= 0 ? 0 : rounded >= 255 ? 255 : UInt8(rounded)
    }

    /// Converts colour-by-plane samples to colour-by-pixel (PS3.3 C.7.6.3.1.3).
    static func interleave(
        _ planar: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer, pixelCount: Int, samples: Int, bytesPerSample: Int
    ) {
        for s in 0..<samples {
            for p in 0..<pixelCount {
                let from = (s * pixelCount + p) * bytesPerSample
                let to = (p * samples + s) * bytesPerSample
                for b in 0..<bytesPerSample { out[to + b] = planar[from + b] }
            }
        }
    }
}
