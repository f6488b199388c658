/// The attributes of the Image Pixel Module that describe one frame of pixel data (PS3.3 C.7.6.3).
public struct FrameDescriptor: Sendable, Hashable, Codable {
    /// Rows (0028,0010).
    public var rows: Int
    /// Columns (0028,0011).
    public var columns: Int
    /// Samples per Pixel (0028,0002).
    public var samplesPerPixel: Int
    /// Bits Allocated (0028,0100).
    public var bitsAllocated: Int
    /// Bits Stored (0028,0101).
    public var bitsStored: Int
    /// Pixel Representation (0028,0103) is 1: samples are two's complement.
    public var isSigned: Bool
    /// Planar Configuration (0028,0006): 0 colour-by-pixel, 1 colour-by-plane.
    public var planarConfiguration: Int
    /// Photometric Interpretation (0028,0004), e.g. `MONOCHROME2`, `RGB`, `YBR_FULL_422`.
    public var photometricInterpretation: String

    /// Creates a descriptor from the Image Pixel Module attributes (PS3.3 C.7.6.3).
    public init(
        rows: Int, columns: Int, samplesPerPixel: Int = 1, bitsAllocated: Int, bitsStored: Int? = nil,
        isSigned: Bool = false, planarConfiguration: Int = 0, photometricInterpretation: String = "MONOCHROME2"
    ) {
        self.rows = rows
        self.columns = columns
        self.samplesPerPixel = samplesPerPixel
        self.bitsAllocated = bitsAllocated
        self.bitsStored = bitsStored ?? bitsAllocated
        self.isSigned = isSigned
        self.planarConfiguration = planarConfiguration
        self.photometricInterpretation = photometricInterpretation
    }

    /// Bytes one sample occupies in native pixel data (PS3.5 8.1.1); 1-bit data is not a codec output.
    public var bytesPerSample: Int { (bitsAllocated + 7) / 8 }

    /// Number of pixels in the frame.
    public var pixelCount: Int { rows * columns }

    /// Whether the photometric interpretation is one of the YCbCr ones (PS3.3 C.7.6.3.1.2).
    public var isYBR: Bool { photometricInterpretation.hasPrefix("YBR") }

    /// Checks the descriptor and returns the native frame size in bytes, before anything is allocated.
    public func validatedFrameBytes(limits: DecodingLimits, codec: Codec) throws(ImagingError) -> Int {
        guard rows > 0, columns > 0, rows <= 65535, columns <= 65535 else {
            throw .invalidDescriptor(codec: codec, reason: "rows \(rows) × columns \(columns) outside 1…65535")
        }
        guard samplesPerPixel == 1 || samplesPerPixel == 3 else {
            throw .invalidDescriptor(codec: codec, reason: "samples per pixel \(samplesPerPixel) is neither 1 nor 3")
        }
        guard [8, 16, 32].contains(bitsAllocated) else {
            throw .invalidDescriptor(codec: codec, reason: "bits allocated \(bitsAllocated) is not 8, 16 or 32")
        }
        guard bitsStored >= 1, bitsStored <= bitsAllocated else {
            throw .invalidDescriptor(codec: codec, reason: "bits stored \(bitsStored) outside 1…\(bitsAllocated)")
        }
        let (pixels, o1) = rows.multipliedReportingOverflow(by: columns)
        let (samples, o2) = pixels.multipliedReportingOverflow(by: samplesPerPixel)
        let (bytes, o3) = samples.multipliedReportingOverflow(by: bytesPerSample)
        guard !o1, !o2, !o3, bytes <= limits.maximumFrameBytes else {
            throw .frameTooLarge(
                codec: codec, rows: rows, columns: columns, samplesPerPixel: samplesPerPixel,
                bitsAllocated: bitsAllocated, limitBytes: limits.maximumFrameBytes)
        }
        return bytes
    }
}

/// Ceilings checked before a decoder allocates anything, so a hostile header cannot exhaust memory.
public struct DecodingLimits: Sendable, Hashable {
    /// The largest decoded frame accepted, in bytes.
    public var maximumFrameBytes: Int
    /// The largest decoded image (all frames) accepted, in bytes.
    public var maximumImageBytes: Int

    /// Creates limits; the default accepts frames up to 1 GiB and images up to 8 GiB.
    public init(maximumFrameBytes: Int = 1 << 30, maximumImageBytes: Int = 1 << 33) {
        self.maximumFrameBytes = maximumFrameBytes
        self.maximumImageBytes = maximumImageBytes
    }

    /// The default limits (1 GiB per frame, 8 GiB per image).
    public static let `default` = DecodingLimits()

    /// What the server decodes to render one frame as an image (WADO-RS rendered, thumbnails, previews): 128 MiB per
    /// decoded frame, so 8192 × 8192 16-bit grey or 6,500 × 6,500 RGB (the largest radiographs and mammograms are
    /// under 50 MiB). Rendering holds a few working copies of a frame, so this bounds what a pixel flood (Rows ×
    /// Columns far beyond the data) can make the server allocate to about 0.7 GiB (docs/reliability.md).
    public static let rendering = DecodingLimits(maximumFrameBytes: 128 << 20, maximumImageBytes: .max)
}

/// A decoded frame: native little-endian pixel data, colour-by-pixel, as DICOM native pixel data holds it (PS3.5 8.1).
public struct DecodedFrame: Sendable, Hashable {
    /// The descriptor of `pixels`: planar configuration 0, photometric interpretation after any colour conversion.
    public var descriptor: FrameDescriptor
    /// The samples, interleaved, little-endian, `descriptor.bytesPerSample` bytes each.
    public var pixels: [UInt8]

    /// Creates a decoded frame.
    public init(descriptor: FrameDescriptor, pixels: [UInt8]) {
        self.descriptor = descriptor
        self.pixels = pixels
    }
}
