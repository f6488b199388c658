import DICOM

/// A rectangle to black out, in pixels from the top-left corner, in some frames or all of them.
public struct MaskRegion: Sendable, Hashable {
    /// Left column.
    public var x: Int
    /// Top row.
    public var y: Int
    /// Width in columns.
    public var width: Int
    /// Height in rows.
    public var height: Int
    /// 0-based frames to mask; nil masks every frame.
    public var frames: Set<Int>?

    /// Creates a region.
    public init(x: Int, y: Int, width: Int, height: Int, frames: Set<Int>? = nil) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
        self.frames = frames
    }
}

/// Blacks out burned-in text: decodes, masks rectangles, and writes a new instance in the same transfer syntax when
/// it is lossless and writable, else in explicit VR little endian (PS3.15 E.3.1 Clean Pixel Data; PS3.3 C.7.6.1.1.11).
public enum PixelMasker {
    /// A new instance with the regions blacked out, a new SOP Instance UID, Burned In Annotation NO and the lossy
    /// history kept (PS3.3 C.7.6.1.1.5, C.12.1.1.1).
    public static func mask(_ file: DICOMFile, regions: [MaskRegion], limits: DecodingLimits = .default) throws(ImagingError) -> DICOMFile {
        let pixels = try PixelData(file: file, limits: limits)
        var frames = try pixels.frames(color: .stored)
        let d = pixels.decodedDescriptor
        for region in regions {
            let x0 = max(region.x, 0)
            let y0 = max(region.y, 0)
            let x1 = min(region.x + max(region.width, 0), d.columns)
            let y1 = min(region.y + max(region.height, 0), d.rows)
            guard x0 < x1, y0 < y1 else { continue }
            for index in frames.indices where region.frames?.contains(index) ?? true {
                let black = blackSample(frames[index].descriptor)
                let width = frames[index].descriptor.bytesPerSample
                let samples = frames[index].descriptor.samplesPerPixel
                frames[index].pixels.withUnsafeMutableBytes { raw in
                    for row in y0..<y1 {
                        for column in x0..<x1 {
                            for s in 0..<samples {
                                let offset = ((row * d.columns + column) * samples + s) * width
                                let value = black[s]
                                for b in 0..<width { raw[offset + b] = UInt8(truncatingIfNeeded: value >> (8 * b)) }
                            }
                        }
                    }
                }
            }
        }
        let source = file.transferSyntax
        let target: TransferSyntax
        if !source.isEncapsulated {
            target = source
        } else if !source.isLossy, Transcoder.encodableTransferSyntaxes.contains(source) {
            target = source
        } else {
            target = .explicitVRLittleEndian
        }
        var out = try Transcoder.rebuild(file, pixels: pixels, frames: frames, target: target)
        let originalUID = file.dataSet.string(.sopInstanceUID)
        out.dataSet.set(.sopInstanceUID, .UI, UID.generate())
        out.dataSet.set(.burnedInAnnotation, .CS, "NO")
        if let originalUID, let classUID = file.dataSet.string(.sopClassUID) {
            var reference = DataSet()
            reference.set(.referencedSOPClassUID, .UI, classUID)
            reference.set(.referencedSOPInstanceUID, .UI, originalUID)
            out.dataSet.set(.sourceImageSequence, items: out.dataSet.items(.sourceImageSequence) + [reference])
        }
        return out
    }

    /// The sample values that display as black: the lowest value (highest for MONOCHROME1), zero for RGB and
    /// palette indices, Y = 0 with neutral chrominance for YBR (PS3.3 C.7.6.3.1.2).
    static func blackSample(_ d: FrameDescriptor) -> [Int] {
        let lowest = d.isSigned ? -(1 << (d.bitsStored - 1)) : 0
        let highest = d.isSigned ? (1 << (d.bitsStored - 1)) - 1 : (1 << d.bitsStored) - 1
        switch d.photometricInterpretation {
        case "MONOCHROME1": return [highest]
        case "MONOCHROME2": return [lowest]
        case let p where p.hasPrefix("YBR"): return [0, 1 << (d.bitsStored - 1), 1 << (d.bitsStored - 1)]
        default: return [Int](repeating: 0, count: d.samplesPerPixel)
        }
    }
}
