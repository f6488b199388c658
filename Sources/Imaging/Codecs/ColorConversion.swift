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
