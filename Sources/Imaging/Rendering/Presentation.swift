import DICOM

#if canImport(Glibc)
    import Glibc
#endif

/// The Modality LUT stage: Rescale Slope and Intercept, or a Modality LUT Sequence (PS3.3 C.11.1).
public enum ModalityTransform: Sendable, Hashable {
    /// Output = slope × stored + intercept (PS3.3 C.11.1.1.2).
    case rescale(slope: Double, intercept: Double)
    /// Output = the table's entry for the stored value (PS3.3 C.11.1.1.1).
    case lookupTable(LookupTable)

    /// The identity transform.
    public static let identity = ModalityTransform.rescale(slope: 1, intercept: 0)

    /// The modality output for a stored value.
    @inline(__always)
    public func apply(_ stored: Int) -> Double {
        switch self {
        case .rescale(let slope, let intercept): return Double(stored) * slope + intercept
        case .lookupTable(let table): return Double(table.value(for: stored))
        }
    }
}

/// VOI LUT Function (0028,1056) (PS3.3 C.11.2.1.3).
public enum VOILUTFunction: String, Sendable, Hashable, CaseIterable {
    /// The default linear window (PS3.3 C.11.2.1.2.1).
    case linear = "LINEAR"
    /// A linear window without the half-unit offsets (PS3.3 C.11.2.1.3.2).
    case linearExact = "LINEAR_EXACT"
    /// A sigmoid around the centre (PS3.3 C.11.2.1.3.1).
    case sigmoid = "SIGMOID"
}

/// A window: Window Center (0028,1050), Window Width (0028,1051) and the VOI LUT Function (PS3.3 C.11.2.1.2).
public struct Window: Sendable, Hashable {
    /// Window Center.
    public var center: Double
    /// Window Width.
    public var width: Double
    /// VOI LUT Function.
    public var function: VOILUTFunction

    /// Creates a window.
    public init(center: Double, width: Double, function: VOILUTFunction = .linear) {
        self.center = center
        self.width = width
        self.function = function
    }

    /// Whether the width is usable: at least 1 for LINEAR, above 0 otherwise (PS3.3 C.11.2.1.2).
    public var isValid: Bool {
        center.isFinite && width.isFinite && (function == .linear ? width >= 1 : width > 0)
    }

    /// Maps a modality value into `0…maximum` as the standard's formula does, unrounded (PS3.3 C.11.2.1.2, C.11.2.1.3).
    @inline(__always)
    public func apply(_ x: Double, maximum: Double) -> Double {
        switch function {
        case .linear:
            let c = center - 0.5
            let w = width - 1
            if x <= c - w / 2 { return 0 }
            if x > c + w / 2 { return maximum }
            return w == 0 ? maximum : ((x - c) / w + 0.5) * maximum
        case .linearExact:
            if x <= center - width / 2 { return 0 }
            if x > center + width / 2 { return maximum }
            return ((x - center) / width + 0.5) * maximum
        case .sigmoid:
            return maximum / (1 + exp(-4 * (x - center) / width))
        }
    }
}

/// The VOI LUT stage: a window or a VOI LUT Sequence table (PS3.3 C.11.2).
public enum VOITransform: Sendable, Hashable {
    /// A window (PS3.3 C.11.2.1.2).
    case window(Window)
    /// A VOI LUT (PS3.3 C.11.2.1.1).
    case lookupTable(LookupTable)
}

/// What a data set says about presenting its pixels: the Modality LUT, VOI LUT, Presentation LUT and palette modules
/// (PS3.3 C.11.1, C.11.2, C.11.6, C.7.6.3.1.5).
public struct ImagePresentation: Sendable {
    /// The Modality LUT stage.
    public var modality: ModalityTransform
    /// The windows of the file, in order (Window Center/Width pairs).
    public var windows: [Window]
    /// The VOI LUTs of the VOI LUT Sequence, in order.
    public var voiLUTs: [LookupTable]
    /// Whether the output is inverted: MONOCHROME1, or Presentation LUT Shape INVERSE (PS3.3 C.11.6.1.2, C.7.6.3.1.2).
    public var inverted: Bool
    /// The palette of a PALETTE COLOR image.
    public var palette: PaletteColorLUT?

    /// Pixel Spacing (row spacing, column spacing) in mm, from the image or its Pixel Measures functional group
    /// (PS3.3 10.7.1.3, C.7.6.16.2.1); nil when absent or not two positive numbers.
    public var pixelSpacing: (row: Double, column: Double)?

    /// Reads the presentation attributes of an image data set for frame `frame` (0-based).
    ///
    /// Enhanced multi-frame images keep the Pixel Value Transformation (rescale), Frame VOI LUT (window) and Pixel
    /// Measures in functional groups: the frame's item of the Per-frame Functional Groups Sequence first, then the
    /// Shared Functional Groups Sequence (PS3.3 C.7.6.16.2.1, C.7.6.16.2.9, C.7.6.16.2.10). Attributes at the top
    /// level of the data set (classic images) are used when present.
    public init(dataSet: DataSet, descriptor: FrameDescriptor, frame: Int = 0) throws(ImagingError) {
        let signed = descriptor.isSigned
        let perFrame = dataSet.items(Tag(0x5200, 0x9230))
        let frameGroups = frame >= 0 && frame < perFrame.count ? perFrame[frame] : nil
        let shared = dataSet.items(Tag(0x5200, 0x9229)).first
        func group(_ sequence: Tag) -> DataSet? {
            frameGroups?.items(sequence).first ?? shared?.items(sequence).first
        }
        let transformation = group(Tag(0x0028, 0x9145))
        let frameVOI = group(Tag(0x0028, 0x9132))
        let measures = group(Tag(0x0028, 0x9110))
        let spacing = dataSet.doubles(.pixelSpacing).count == 2 ? dataSet.doubles(.pixelSpacing) : (measures?.doubles(.pixelSpacing) ?? [])
        if spacing.count == 2, spacing.allSatisfy({ $0 > 0 && $0.isFinite }) {
            pixelSpacing = (spacing[0], spacing[1])
        } else {
            pixelSpacing = nil
        }
        if let item = dataSet.items(.modalityLUTSequence).first {
            modality = .lookupTable(
                try LookupTable(descriptor: item.ints(.lutDescriptor), data: item[.lutData], signedInput: signed, name: "Modality LUT"))
        } else if let slope = dataSet.double(.rescaleSlope) ?? transformation?.double(.rescaleSlope),
            let intercept = dataSet.double(.rescaleIntercept) ?? transformation?.double(.rescaleIntercept), slope.isFinite,
            intercept.isFinite
        {
            modality = .rescale(slope: slope, intercept: intercept)
        } else {
            modality = .identity
        }
        let voiSource = dataSet.contains(.windowCenter) ? dataSet : (frameVOI ?? dataSet)
        let centers = voiSource.doubles(.windowCenter)
        let widths = voiSource.doubles(.windowWidth)
        let functionName = voiSource.string(.voilutFunction)?.trimmedCodeString ?? "LINEAR"
        let function = VOILUTFunction(rawValue: functionName) ?? .linear
        windows = zip(centers, widths).map { Window(center: $0, width: $1, function: function) }.filter(\.isValid)
        var luts: [LookupTable] = []
        for item in dataSet.items(.voilutSequence) {
            let lut = try LookupTable(descriptor: item.ints(.lutDescriptor), data: item[.lutData], signedInput: signed, name: "VOI LUT")
            luts.append(lut)
        }
        voiLUTs = luts
        let shape = dataSet.string(.presentationLUTShape)?.trimmedCodeString
        inverted = descriptor.photometricInterpretation == "MONOCHROME1" || shape == "INVERSE"
        palette = descriptor.photometricInterpretation == "PALETTE COLOR" ? try PaletteColorLUT(dataSet: dataSet) : nil
    }
}
