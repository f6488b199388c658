import DICOM

/// Whether colour frames keep their stored colour space or come back as RGB.
public enum ColorOutput: Sendable, Hashable {
    /// Samples as stored, colour-by-pixel; YBR_FULL_422 native data is expanded to YBR_FULL (PS3.3 C.7.6.3.1.2).
    case stored
    /// YBR_FULL and YBR_FULL_422 converted to RGB, as pydicom's `pixel_array` returns them (PS3.3 C.7.6.3.1.2).
    case rgb
}

/// The Pixel Data of an image with its Image Pixel Module, decoding frames on demand (PS3.3 C.7.6.3, PS3.5 8 and A.4).
public struct PixelData: Sendable {
    /// The Image Pixel Module as stored; `bitsAllocated` may be 1 and `planarConfiguration` 1 (PS3.3 C.7.6.3).
    public let descriptor: FrameDescriptor
    /// High Bit (0028,0102); samples are shifted down when it is above Bits Stored − 1 (PS3.5 8.1.1).
    public let highBit: Int
    /// Number of Frames (0028,0008), 1 when absent (PS3.3 C.7.6.6).
    public let numberOfFrames: Int
    /// The transfer syntax the Pixel Data is encoded in (PS3.5 10).
    public let transferSyntax: TransferSyntax
    /// The ceilings the image was checked against.
    public let limits: DecodingLimits

    private enum Source: Sendable {
        case native(ByteSlice, bigEndian: Bool, vr: VR)
        case encapsulated(EncapsulatedPixelData, frames: [Range<Int>])
    }

    private let source: Source

    /// The descriptor of the frames `frame(_:)` returns: 8, 16 or 32 bits allocated, colour-by-pixel.
    public var decodedDescriptor: FrameDescriptor {
        var d = descriptor
        d.bitsAllocated = max(8, d.bitsAllocated)
        d.planarConfiguration = 0
        if d.photometricInterpretation == "YBR_FULL_422", !transferSyntax.isEncapsulated { d.photometricInterpretation = "YBR_FULL" }
        return d
    }

    /// Whether the Pixel Data is encapsulated (compressed) (PS3.5 A.4).
    public var isEncapsulated: Bool {
        if case .encapsulated = source { return true }
        return false
    }

    /// Reads the Image Pixel Module of `dataSet` and checks sizes against `limits` before anything is decoded (PS3.3 C.7.6.3).
    public init(dataSet: DataSet, transferSyntax: TransferSyntax, limits: DecodingLimits = .default) throws(ImagingError) {
        func required(_ tag: Tag, _ name: String) throws(ImagingError) -> Int {
            guard let value = dataSet.int(tag) else { throw .invalidAttribute(name: name, value: "", reason: "missing") }
            return value
        }
        let rows = try required(.rows, "Rows")
        let columns = try required(.columns, "Columns")
        let samples = dataSet.int(.samplesPerPixel) ?? 1
        let bitsAllocated = try required(.bitsAllocated, "Bits Allocated")
        let bitsStored = dataSet.int(.bitsStored) ?? bitsAllocated
        let highBit = dataSet.int(.highBit) ?? (bitsStored - 1)
        let signed = (dataSet.int(.pixelRepresentation) ?? 0) == 1
        let planar = samples > 1 ? (dataSet.int(.planarConfiguration) ?? 0) : 0
        let photometric = (dataSet.string(.photometricInterpretation) ?? (samples == 3 ? "RGB" : "MONOCHROME2"))
            .trimmedCodeString
        let frames = dataSet.int(.numberOfFrames) ?? 1
        guard rows > 0, columns > 0, rows <= 65535, columns <= 65535 else {
            throw .invalidAttribute(name: "Rows × Columns", value: "\(rows)×\(columns)", reason: "outside 1…65535")
        }
        guard samples == 1 || samples == 3 else {
            throw .invalidAttribute(name: "Samples per Pixel", value: "\(samples)", reason: "must be 1 or 3")
        }
        guard [1, 8, 16, 32].contains(bitsAllocated) else {
            throw .invalidAttribute(name: "Bits Allocated", value: "\(bitsAllocated)", reason: "must be 1, 8, 16 or 32")
        }
        guard bitsStored >= 1, bitsStored <= bitsAllocated else {
            throw .invalidAttribute(name: "Bits Stored", value: "\(bitsStored)", reason: "must be 1…\(bitsAllocated)")
        }
        guard highBit >= bitsStored - 1, highBit < bitsAllocated else {
            throw .invalidAttribute(name: "High Bit", value: "\(highBit)", reason: "must be \(bitsStored - 1)…\(bitsAllocated - 1)")
        }
        guard frames >= 1, frames <= Int(Int32.max) else {
            throw .invalidAttribute(name: "Number of Frames", value: "\(frames)", reason: "must be at least 1")
        }
        guard planar == 0 || planar == 1 else {
            throw .invalidAttribute(name: "Planar Configuration", value: "\(planar)", reason: "must be 0 or 1")
        }
        descriptor = FrameDescriptor(
            rows: rows, columns: columns, samplesPerPixel: samples, bitsAllocated: bitsAllocated, bitsStored: bitsStored,
            isSigned: signed, planarConfiguration: planar, photometricInterpretation: photometric)
        self.highBit = highBit
        numberOfFrames = frames
        self.transferSyntax = transferSyntax
        self.limits = limits

        // Sizes of the decoded image, with overflow checks, before any allocation.
        let outputBytesPerSample = max(1, bitsAllocated / 8)
        let (pixels, o1) = rows.multipliedReportingOverflow(by: columns)
        let (frameSamples, o2) = pixels.multipliedReportingOverflow(by: samples)
        let (frameBytes, o3) = frameSamples.multipliedReportingOverflow(by: outputBytesPerSample)
        let (imageBytes, o4) = frameBytes.multipliedReportingOverflow(by: frames)
        guard !o1, !o2, !o3, frameBytes <= limits.maximumFrameBytes else {
            throw .imageTooLarge(bytes: o3 ? .max : frameBytes, limitBytes: limits.maximumFrameBytes)
        }
        guard !o4, imageBytes <= limits.maximumImageBytes else {
            throw .imageTooLarge(bytes: o4 ? .max : imageBytes, limitBytes: limits.maximumImageBytes)
        }

        guard let element = dataSet[.pixelData] else { throw .noPixelData }
        switch element.value {
        case .bytes(let bytes):
            let needed = PixelData.nativeFrameBits(descriptor) * frames
            let neededBytes = (needed + 7) / 8
            guard bytes.count >= neededBytes else { throw .pixelDataTooShort(expectedBytes: neededBytes, actualBytes: bytes.count) }
            source = .native(bytes, bigEndian: !element.isLittleEndian, vr: element.vr)
        case .encapsulated(let encapsulated):
            guard bitsAllocated != 1 else {
                throw .invalidAttribute(name: "Bits Allocated", value: "1", reason: "encapsulated 1-bit data is not supported")
            }
            let extended = dataSet[.extendedOffsetTable]?.bytes.map { slice in
                slice.withUnsafeBytes { raw in
                    (0..<(raw.count / 8)).map { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) }
                }
            }
            let ranges = encapsulated.frameFragmentRanges(numberOfFrames: frames, extendedOffsets: extended)
            source = .encapsulated(encapsulated, frames: ranges)
        case .sequence:
            throw .noPixelData
        }
    }

    /// Reads the pixel data of a Part 10 file (PS3.10 7).
    public init(file: DICOMFile, limits: DecodingLimits = .default) throws(ImagingError) {
        try self.init(dataSet: file.dataSet, transferSyntax: file.transferSyntax, limits: limits)
    }

    /// Bits one native frame occupies: YBR_FULL_422 holds two chrominance samples per two pixels (PS3.3 C.7.6.3.1.2).
    static func nativeFrameBits(_ d: FrameDescriptor) -> Int {
        let samples = d.photometricInterpretation == "YBR_FULL_422" && d.samplesPerPixel == 3 ? 2 : d.samplesPerPixel
        return d.rows * d.columns * samples * d.bitsAllocated
    }

    /// The compressed bytes of frame `index` (0-based) of encapsulated Pixel Data, fragments joined (PS3.5 A.4).
    public func encapsulatedFrame(_ index: Int) throws(ImagingError) -> [UInt8] {
        guard index >= 0, index < numberOfFrames else { throw .frameOutOfRange(index: index, numberOfFrames: numberOfFrames) }
        guard case .encapsulated(let pixels, let ranges) = source else {
            throw .unsupportedTransferSyntax(uid: transferSyntax.uid, operation: "take compressed frames from")
        }
        guard index < ranges.count else { throw .frameOutOfRange(index: index, numberOfFrames: ranges.count) }
        var out: [UInt8] = []
        for fragment in pixels.fragments[ranges[index]] { fragment.withUnsafeBytes { out.append(contentsOf: $0) } }
        return out
    }

    /// Frame `index` (0-based), decoded: native little-endian samples, colour-by-pixel, masked to Bits Stored and
    /// sign-extended when signed, 1-bit data one byte per pixel (PS3.5 8.1.1, A.4).
    public func frame(_ index: Int, color: ColorOutput = .rgb) throws(ImagingError) -> DecodedFrame {
        guard index >= 0, index < numberOfFrames else { throw .frameOutOfRange(index: index, numberOfFrames: numberOfFrames) }
        var decoded: DecodedFrame
        switch source {
        case .native(let bytes, let bigEndian, let vr):
            decoded = nativeFrame(index, bytes: bytes, bigEndian: bigEndian, vr: vr)
        case .encapsulated:
            let stream = try encapsulatedFrame(index)
            if transferSyntax == .encapsulatedUncompressedExplicitVRLittleEndian {
                let frameBits = PixelData.nativeFrameBits(descriptor)
                guard stream.count * 8 >= frameBits else {
                    throw .pixelDataTooShort(expectedBytes: (frameBits + 7) / 8, actualBytes: stream.count)
                }
                decoded = nativeFrame(0, bytes: ByteSlice(stream), bigEndian: false, vr: .OB)
            } else {
                guard FrameDecoder.decoders[transferSyntax.uid] != nil else {
                    throw .unsupportedTransferSyntax(uid: transferSyntax.uid, operation: "decode")
                }
                decoded = try FrameDecoder.decode(stream, transferSyntaxUID: transferSyntax.uid, descriptor: descriptor, limits: limits)
            }
        }
        let d = decoded.descriptor
        if color == .rgb, d.samplesPerPixel == 3, d.bitsAllocated == 8 || (d.bitsAllocated == 16 && !d.isSigned),
            d.photometricInterpretation == "YBR_FULL" || d.photometricInterpretation == "YBR_FULL_422"
        {
            if d.bitsAllocated == 8 {
                ColorConversion.ybrFullToRGB(&decoded.pixels)
            } else {
                ColorConversion.ybrFullToRGB16(&decoded.pixels, bitsStored: d.bitsStored)
            }
            decoded.descriptor.photometricInterpretation = "RGB"
        }
        return decoded
    }

    /// Every frame, decoded, in order.
    public func frames(color: ColorOutput = .rgb) throws(ImagingError) -> [DecodedFrame] {
        var out: [DecodedFrame] = []
        out.reserveCapacity(numberOfFrames)
        for index in 0..<numberOfFrames { out.append(try frame(index, color: color)) }
        return out
    }

    /// Extracts, byte-swaps, masks, sign-extends and interleaves one native frame (PS3.5 8.1.1, PS3.3 C.7.6.3.1.3).
    private func nativeFrame(_ index: Int, bytes: ByteSlice, bigEndian: Bool, vr: VR) -> DecodedFrame {
        let d = descriptor
        var out = decodedDescriptor
        let frameBits = PixelData.nativeFrameBits(d)
        if d.bitsAllocated == 1 {
            return DecodedFrame(
                descriptor: out,
                pixels: unpackBits(bytes, bitOffset: index * frameBits, count: frameBits, swapWords: bigEndian && vr == .OW))
        }
        let width = d.bitsAllocated / 8
        let frameBytes = frameBits / 8
        let start = index * frameBytes
        var pixels = [UInt8](repeating: 0, count: frameBytes)
        // Big-endian OW holds 16-bit words: 8-bit samples are swapped in pairs, wider ones per sample (PS3.5 8.1.1).
        let pairSwapped = bigEndian && width == 1 && vr == .OW
        bytes.withUnsafeBytes { raw in
            pixels.withUnsafeMutableBytes { target in
                guard let from = raw.baseAddress, let to = target.baseAddress else { return }
                if pairSwapped {
                    // The last sample of an odd count sits in the second byte of the padded final word.
                    for i in 0..<frameBytes where (start + i) ^ 1 < raw.count { target[i] = raw[(start + i) ^ 1] }
                } else {
                    to.copyMemory(from: from + start, byteCount: frameBytes)
                }
            }
        }
        let swapUnit = bigEndian && width > 1 ? width : 1
        if swapUnit > 1 {
            pixels.withUnsafeMutableBytes { raw in
                var i = 0
                while i + swapUnit <= raw.count {
                    var a = i
                    var b = i + swapUnit - 1
                    while a < b {
                        raw.swapAt(a, b)
                        a += 1
                        b -= 1
                    }
                    i += swapUnit
                }
            }
        }
        normalize(&pixels, width: width)
        if d.planarConfiguration == 1, d.samplesPerPixel > 1 {
            var interleaved = pixels
            pixels.withUnsafeBytes { from in
                interleaved.withUnsafeMutableBytes { to in
                    ColorConversion.interleave(from, into: to, pixelCount: d.pixelCount, samples: d.samplesPerPixel, bytesPerSample: width)
                }
            }
            pixels = interleaved
        }
        if d.photometricInterpretation == "YBR_FULL_422", d.samplesPerPixel == 3 {
            pixels = expand422(pixels, width: width)
            out.photometricInterpretation = "YBR_FULL"
        }
        return DecodedFrame(descriptor: out, pixels: pixels)
    }

    /// Keeps Bits Stored bits below High Bit + 1 and sign-extends signed samples (PS3.5 8.1.1).
    private func normalize(_ pixels: inout [UInt8], width: Int) {
        let stored = descriptor.bitsStored
        let shift = highBit + 1 - stored
        let bits = width * 8
        guard stored < bits || shift > 0 else { return }
        let mask: UInt32 = stored >= 32 ? .max : (1 << UInt32(stored)) - 1
        let signBit: UInt32 = 1 << UInt32(stored - 1)
        let extend: UInt32 = ~mask
        let signed = descriptor.isSigned
        pixels.withUnsafeMutableBytes { raw in
            switch width {
            case 1:
                for i in 0..<raw.count {
                    var v = (UInt32(raw[i]) >> UInt32(shift)) & mask
                    if signed, v & signBit != 0 { v |= extend }
                    raw[i] = UInt8(truncatingIfNeeded: v)
                }
            case 2:
                for i in 0..<(raw.count / 2) {
                    let word = UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                    var v = (word >> UInt32(shift)) & mask
                    if signed, v & signBit != 0 { v |= extend }
                    raw.storeBytes(of: UInt16(truncatingIfNeeded: v).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
                }
            default:
                for i in 0..<(raw.count / 4) {
                    let word = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
                    var v = (word >> UInt32(shift)) & mask
                    if signed, v & signBit != 0 { v |= extend }
                    raw.storeBytes(of: v.littleEndian, toByteOffset: 4 * i, as: UInt32.self)
                }
            }
        }
    }

    /// YBR_FULL_422 (Y Y Cb Cr per pair of pixels) to YBR_FULL, chrominance repeated (PS3.3 C.7.6.3.1.2).
    private func expand422(_ pixels: [UInt8], width: Int) -> [UInt8] {
        let pairs = descriptor.pixelCount / 2
        var out = [UInt8](repeating: 0, count: descriptor.pixelCount * 3 * width)
        for p in 0..<pairs {
            let from = p * 4 * width
            let to = p * 6 * width
            for b in 0..<width {
                let y0 = pixels[from + b]
                let y1 = pixels[from + width + b]
                let cb = pixels[from + 2 * width + b]
                let cr = pixels[from + 3 * width + b]
                out[to + b] = y0
                out[to + width + b] = cb
                out[to + 2 * width + b] = cr
                out[to + 3 * width + b] = y1
                out[to + 4 * width + b] = cb
                out[to + 5 * width + b] = cr
            }
        }
        return out
    }

    /// 1-bit samples, least significant bit first, one byte each (PS3.5 8.1.1, 8.2).
    private func unpackBits(_ bytes: ByteSlice, bitOffset: Int, count: Int, swapWords: Bool) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            for i in 0..<count {
                let bit = bitOffset + i
                var byteIndex = bit >> 3
                if swapWords { byteIndex ^= 1 }
                guard byteIndex < raw.count else { continue }
                out[i] = (raw[byteIndex] >> UInt8(bit & 7)) & 1
            }
        }
        return out
    }
}

extension String {
    /// A code string without its padding spaces, upper-cased (PS3.5 6.2, CS).
    var trimmedCodeString: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " || s.last == "\0" { s.removeLast() }
        return s.uppercased()
    }
}
