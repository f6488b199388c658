import DICOM

/// Rewrites images in another transfer syntax: decompressing to native pixel data, or compressing to RLE Lossless,
/// JPEG-LS Lossless or near-lossless, or JPEG 2000 Lossless (PS3.5 8, A.4; PS3.4 C.4.2 lossy history).
public enum Transcoder {
    /// The encapsulated transfer syntaxes Atrium can write.
    public static let encodableTransferSyntaxes: [TransferSyntax] = [
        .rleLossless, .jpegLSLossless, .jpegLSNearLossless, .jpeg2000Lossless,
    ]

    /// The NEAR parameter used for JPEG-LS near-lossless when none is given: every sample within 2 of the original.
    public static let defaultNearLossless = 2

    /// Whether Atrium can write pixel data in `syntax`.
    public static func canEncode(_ syntax: TransferSyntax) -> Bool {
        !syntax.isEncapsulated || encodableTransferSyntaxes.contains(syntax)
    }

    /// The file in `target`; pixel data is decoded and re-encoded only when the encoding changes.
    ///
    /// `nearLossless` is JPEG-LS's NEAR for the near-lossless syntax (1.2.840.10008.1.2.4.81): each decoded sample
    /// differs from the original by at most that much (ISO 14495-1 A.2.1). Above 0 the result is a new, lossy
    /// instance: new SOP Instance UID, the original in the Source Image Sequence, Lossy Image Compression 01 with
    /// its method and ratio appended (PS3.3 C.7.6.1.1.5).
    public static func transcode(
        _ file: DICOMFile, to target: TransferSyntax, nearLossless: Int = defaultNearLossless, limits: DecodingLimits = .default
    ) throws(ImagingError) -> DICOMFile {
        let source = file.transferSyntax
        guard canEncode(target) else { throw .unsupportedTransferSyntax(uid: target.uid, operation: "encode") }
        guard file.dataSet.contains(.pixelData) else { return retagged(file, target) }
        if !source.isEncapsulated, !target.isEncapsulated { return retagged(file, target) }
        if source == target { return file }
        let pixels = try PixelData(file: file, limits: limits)
        try checkEncodable(pixels.decodedDescriptor, target: target)
        let frames = try pixels.frames(color: .stored)
        guard target == .jpegLSNearLossless else { return try rebuild(file, pixels: pixels, frames: frames, target: target) }
        let maximumNear = min(255, ((1 << pixels.decodedDescriptor.bitsStored) - 1) / 2)
        guard (0...maximumNear).contains(nearLossless) else {
            throw .invalidAttribute(name: "NEAR", value: "\(nearLossless)", reason: "must be 0…\(maximumNear) for this image")
        }
        // JPEG-LS codes signed samples as their two's-complement bits, so an error of NEAR could carry a sample
        // across the wrap from the largest positive to the most negative value; dcmtk's dcmcjpls refuses them too.
        guard nearLossless == 0 || !pixels.descriptor.isSigned else {
            throw .unsupported(codec: .jpegLS, feature: "near-lossless coding (NEAR \(nearLossless)) of signed samples")
        }
        var out = try rebuild(file, pixels: pixels, frames: frames, target: target, nearLossless: nearLossless)
        guard nearLossless > 0 else { return out }
        let originalBytes = frames.reduce(0) { $0 + $1.pixels.count }
        let compressedBytes = out.dataSet[.pixelData]?.encapsulated?.fragments.reduce(0) { $0 + $1.count } ?? 0
        var ds = out.dataSet
        ds.set(.lossyImageCompression, .CS, "01")
        ds.set(.lossyImageCompressionMethod, .CS, ds.strings(.lossyImageCompressionMethod) + ["ISO_14495_1"])
        let ratio = compressedBytes > 0 ? Double(originalBytes) / Double(compressedBytes) : 1
        ds.set(.lossyImageCompressionRatio, .DS, ds.strings(.lossyImageCompressionRatio) + [decimalString(ratio)])
        if let originalUID = file.dataSet.string(.sopInstanceUID), let classUID = file.dataSet.string(.sopClassUID) {
            var reference = DataSet()
            reference.set(.referencedSOPClassUID, .UI, classUID)
            reference.set(.referencedSOPInstanceUID, .UI, originalUID)
            ds.set(.sourceImageSequence, items: ds.items(.sourceImageSequence) + [reference])
        }
        ds.set(.sopInstanceUID, .UI, UID.generate())
        out.dataSet = ds
        return out
    }

    /// A DS value (at most 16 characters) with two decimals.
    static func decimalString(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// Refuses sample depths a codec cannot hold: JPEG-LS codes 2 to 16 bits (ISO 14495-1), and Atrium's JPEG 2000
    /// path up to 24, beyond which OpenJPEG's streams are not read back by other decoders; RLE takes 15 byte segments.
    static func checkEncodable(_ d: FrameDescriptor, target: TransferSyntax) throws(ImagingError) {
        switch target {
        case .jpegLSLossless where d.bitsAllocated > 16 || d.bitsStored < 2,
            .jpegLSNearLossless where d.bitsAllocated > 16 || d.bitsStored < 2:
            throw .unsupported(codec: .jpegLS, feature: "\(d.bitsStored) bits stored in \(d.bitsAllocated)")
        case .jpeg2000Lossless where d.bitsStored > 24:
            throw .unsupported(codec: .jpeg2000, feature: "\(d.bitsStored) bits stored")
        default:
            return
        }
    }

    /// A copy of `file` whose data set holds `frames` encoded in `target`, with the Image Pixel Module and lossy
    /// history brought up to date (PS3.3 C.7.6.3, C.7.6.1.1.5).
    public static func rebuild(
        _ file: DICOMFile, pixels: PixelData, frames: [DecodedFrame], target: TransferSyntax, nearLossless: Int = 0
    ) throws(ImagingError) -> DICOMFile {
        guard let first = frames.first else { throw .noPixelData }
        try checkEncodable(first.descriptor, target: target)
        var ds = file.dataSet
        var d = first.descriptor
        d.planarConfiguration = 0
        ds.remove(.extendedOffsetTable)
        ds.remove(.extendedOffsetTableLengths)
        if pixels.transferSyntax.isLossy {
            ds.set(.lossyImageCompression, .CS, "01")
            if !ds.contains(.lossyImageCompressionMethod), let method = lossyMethod(pixels.transferSyntax) {
                ds.set(.lossyImageCompressionMethod, .CS, method)
            }
        }
        if target.isEncapsulated {
            var fragments: [ByteSlice] = []
            var photometric = d.photometricInterpretation
            for frame in frames {
                var encoded: [UInt8]
                switch target {
                case .rleLossless:
                    encoded = try RLECodec.encode(frame.pixels, descriptor: frame.descriptor)
                case .jpegLSLossless:
                    encoded = try JPEGLSCodec.encode(frame.pixels, descriptor: frame.descriptor)
                case .jpegLSNearLossless:
                    encoded = try JPEGLSCodec.encode(frame.pixels, descriptor: frame.descriptor, nearLossless: nearLossless)
                case .jpeg2000Lossless:
                    let transform = frame.descriptor.samplesPerPixel == 3 && frame.descriptor.photometricInterpretation == "RGB"
                    encoded = try JPEG2000Codec.encodeLossless(frame.pixels, descriptor: frame.descriptor, colorTransform: transform)
                    if transform { photometric = "YBR_RCT" }
                default:
                    throw .unsupportedTransferSyntax(uid: target.uid, operation: "encode")
                }
                if encoded.count % 2 == 1 { encoded.append(0) }
                fragments.append(ByteSlice(encoded))
            }
            // Basic Offset Table: each frame's first item, counted from the first item after the table (PS3.5 A.4).
            var table: [UInt8] = []
            var offset: UInt32 = 0
            for fragment in fragments {
                withUnsafeBytes(of: offset.littleEndian) { table.append(contentsOf: $0) }
                offset &+= UInt32(truncatingIfNeeded: fragment.count + 8)
            }
            d.photometricInterpretation = photometric
            ds[.pixelData] = DataElement(
                tag: .pixelData, vr: .OB,
                value: .encapsulated(EncapsulatedPixelData(basicOffsetTable: ByteSlice(table), fragments: fragments)),
                hadUndefinedLength: true)
        } else {
            let bytes = NativePixels.encode(frames, bitsAllocated: pixels.descriptor.bitsAllocated)
            ds[.pixelData] = DataElement(tag: .pixelData, vr: d.bitsAllocated > 8 ? .OW : .OB, bytes: bytes)
        }
        ds.set(.photometricInterpretation, .CS, d.photometricInterpretation)
        if d.samplesPerPixel > 1 { ds.set(.planarConfiguration, .US, integers: [0]) }
        if pixels.highBit != pixels.descriptor.bitsStored - 1 { ds.set(.highBit, .US, integers: [pixels.descriptor.bitsStored - 1]) }
        var out = DICOMFile(fileMetaInformation: file.fileMetaInformation, dataSet: ds, transferSyntax: target)
        out.preamble = file.preamble
        return out
    }

    /// The Lossy Image Compression Method a lossy transfer syntax implies (PS3.3 C.7.6.1.1.5.1).
    static func lossyMethod(_ syntax: TransferSyntax) -> String? {
        switch syntax {
        case .jpegBaseline8Bit, .jpegExtended12Bit: return "ISO_10918_1"
        case .jpegLSNearLossless: return "ISO_14495_1"
        case .jpeg2000, .htj2k: return "ISO_15444_1"
        default: return nil
        }
    }

    private static func retagged(_ file: DICOMFile, _ target: TransferSyntax) -> DICOMFile {
        var out = file
        out.transferSyntax = target
        return out
    }
}

/// Native pixel data from decoded frames (PS3.5 8.1.1).
enum NativePixels {
    /// Frames joined; with 1 bit allocated, samples are packed eight to a byte, least significant bit first.
    static func encode(_ frames: [DecodedFrame], bitsAllocated: Int) -> [UInt8] {
        if bitsAllocated == 1 {
            let total = frames.reduce(0) { $0 + $1.pixels.count }
            var out = [UInt8](repeating: 0, count: (total + 7) / 8)
            var bit = 0
            for frame in frames {
                for sample in frame.pixels {
                    if sample & 1 != 0 { out[bit >> 3] |= 1 << UInt8(bit & 7) }
                    bit += 1
                }
            }
            if out.count % 2 == 1 { out.append(0) }
            return out
        }
        var out: [UInt8] = []
        out.reserveCapacity(frames.reduce(0) { $0 + $1.pixels.count })
        for frame in frames { out += frame.pixels }
        return out
    }
}
