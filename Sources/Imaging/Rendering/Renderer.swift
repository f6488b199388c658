import DICOM

/// An image ready for display: grey or RGB samples of 8 or 16 bits, row by row, colour-by-pixel.
public struct RenderedImage: Sendable, Hashable {
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// 1 (grey) or 3 (RGB).
    public var channels: Int
    /// 8 or 16.
    public var bitDepth: Int
    /// The samples, `width × height × channels`, each at most `2^bitDepth − 1`.
    public var samples: [UInt16]

    /// Creates an image.
    public init(width: Int, height: Int, channels: Int, bitDepth: Int, samples: [UInt16]) {
        self.width = width
        self.height = height
        self.channels = channels
        self.bitDepth = bitDepth
        self.samples = samples
    }
}

/// How to render a frame: which frame, window, output depth and viewport (PS3.18 8.3.5.1.3, 9.5).
public struct RenderOptions: Sendable, Hashable {
    /// The frame, 0-based.
    public var frame: Int
    /// A window replacing the file's; nil uses the file's first window or VOI LUT, else the pixel range.
    public var window: Window?
    /// 8 or 16 bits per output sample.
    public var bitDepth: Int
    /// The largest output size; the image is scaled to fit, keeping its aspect ratio.
    public var viewport: (width: Int, height: Int)?

    /// Creates options.
    public init(frame: Int = 0, window: Window? = nil, bitDepth: Int = 8, viewport: (width: Int, height: Int)? = nil) {
        self.frame = frame
        self.window = window
        self.bitDepth = bitDepth
        self.viewport = viewport
    }

    /// Options equal when all their fields are equal.
    public static func == (a: RenderOptions, b: RenderOptions) -> Bool {
        a.frame == b.frame && a.window == b.window && a.bitDepth == b.bitDepth && a.viewport?.width == b.viewport?.width
            && a.viewport?.height == b.viewport?.height
    }

    /// Hashes all the fields.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(frame)
        hasher.combine(window)
        hasher.combine(bitDepth)
        hasher.combine(viewport?.width)
        hasher.combine(viewport?.height)
    }
}

/// Renders frames through the grayscale pipeline (Modality LUT → VOI LUT → Presentation LUT) or the colour one
/// (palette or RGB) (PS3.4 N.2).
public enum Renderer {
    /// Renders one frame of an image data set.
    public static func render(
        dataSet: DataSet, transferSyntax: TransferSyntax, options: RenderOptions = RenderOptions(), limits: DecodingLimits = .default
    ) throws(ImagingError) -> RenderedImage {
        let pixels = try PixelData(dataSet: dataSet, transferSyntax: transferSyntax, limits: limits)
        let presentation = try ImagePresentation(dataSet: dataSet, descriptor: pixels.descriptor, frame: options.frame)
        return try render(pixels, presentation: presentation, options: options)
    }

    /// Renders one frame with the given presentation.
    public static func render(_ pixels: PixelData, presentation: ImagePresentation, options: RenderOptions) throws(ImagingError)
        -> RenderedImage
    {
        guard options.bitDepth == 8 || options.bitDepth == 16 else {
            throw .invalidAttribute(name: "output bit depth", value: "\(options.bitDepth)", reason: "must be 8 or 16")
        }
        return try render(frame: try pixels.frame(options.frame, color: .rgb), presentation: presentation, options: options)
    }

    /// Renders a frame already decoded with RGB colour output (from ``PixelData/frame(_:color:)`` or a
    /// ``DecodedFrameCache``); `options.frame` is not used.
    public static func render(frame: DecodedFrame, presentation: ImagePresentation, options: RenderOptions) throws(ImagingError)
        -> RenderedImage
    {
        guard options.bitDepth == 8 || options.bitDepth == 16 else {
            throw .invalidAttribute(name: "output bit depth", value: "\(options.bitDepth)", reason: "must be 8 or 16")
        }
        var image: RenderedImage
        if let palette = presentation.palette, frame.descriptor.samplesPerPixel == 1 {
            image = renderPalette(frame, palette: palette, bitDepth: options.bitDepth)
        } else if frame.descriptor.samplesPerPixel == 3 {
            image = renderColor(frame, bitDepth: options.bitDepth)
        } else {
            image = renderGray(frame, presentation: presentation, window: options.window, bitDepth: options.bitDepth)
        }
        if let viewport = options.viewport {
            image = ImageScaler.fit(image, width: viewport.width, height: viewport.height)
        }
        return image
    }

    /// The stored sample values of a decoded frame.
    static func values(_ frame: DecodedFrame) -> [Int] {
        let d = frame.descriptor
        let width = d.bytesPerSample
        let count = frame.pixels.count / width
        return frame.pixels.withUnsafeBytes { raw in
            var out = [Int](repeating: 0, count: count)
            switch (width, d.isSigned) {
            case (1, false): for i in 0..<count { out[i] = Int(raw[i]) }
            case (1, true): for i in 0..<count { out[i] = Int(Int8(bitPattern: raw[i])) }
            case (2, false):
                for i in 0..<count { out[i] = Int(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
            case (2, true):
                for i in 0..<count { out[i] = Int(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))) }
            case (_, false):
                for i in 0..<count { out[i] = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
            default:
                for i in 0..<count { out[i] = Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
            }
            return out
        }
    }

    /// The grayscale pipeline (PS3.4 N.2.1): stored value → modality value → VOI → presentation, rounded to the output range.
    static func renderGray(_ frame: DecodedFrame, presentation: ImagePresentation, window requested: Window?, bitDepth: Int)
        -> RenderedImage
    {
        let d = frame.descriptor
        let maximum = Double((1 << bitDepth) - 1)
        let modality = presentation.modality
        let voi: VOITransform
        // The stored values as integers are needed only for the pixel-range window and for samples above 16 bits.
        var stored: [Int]?
        if let requested, requested.isValid {
            voi = .window(requested)
        } else if let first = presentation.windows.first {
            voi = .window(first)
        } else if let lut = presentation.voiLUTs.first {
            voi = .lookupTable(lut)
        } else {
            let all = values(frame)
            stored = all
            voi = .window(rangeWindow(all, modality: modality))
        }
        let inverted = presentation.inverted
        func output(_ value: Int) -> UInt16 {
            let x = modality.apply(value)
            var y: Double
            switch voi {
            case .window(let window): y = window.apply(x, maximum: maximum)
            case .lookupTable(let lut):
                let entry = lut.value(for: Int(x.rounded(.down)))
                y = Double(entry) * maximum / Double(lut.maximumOutput)
            }
            y = min(max(y.rounded(), 0), maximum)
            if inverted { y = maximum - y }
            return UInt16(y)
        }
        let count = frame.pixels.count / d.bytesPerSample
        var samples = [UInt16](repeating: 0, count: count)
        // A table over every stored value when there are few of them: one evaluation of the pipeline per value,
        // then one lookup per sample straight from the decoded bytes.
        if d.bitsStored <= 16, d.bytesPerSample <= 2 {
            let low = d.isSigned ? -(1 << (d.bitsStored - 1)) : 0
            let size = 1 << d.bitsStored
            var table = [UInt16](repeating: 0, count: size)
            for i in 0..<size { table[i] = output(low + i) }
            let mask = size - 1
            table.withUnsafeBufferPointer { lookup in
                samples.withUnsafeMutableBufferPointer { out in
                    frame.pixels.withUnsafeBytes { raw in
                        switch (d.bytesPerSample, d.isSigned) {
                        case (1, false): for i in 0..<count { out[i] = lookup[Int(raw[i]) & mask] }
                        case (1, true): for i in 0..<count { out[i] = lookup[(Int(Int8(bitPattern: raw[i])) - low) & mask] }
                        case (_, false):
                            for i in 0..<count {
                                let v = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                                out[i] = lookup[Int(v) & mask]
                            }
                        default:
                            for i in 0..<count {
                                let v = Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))
                                out[i] = lookup[(Int(v) - low) & mask]
                            }
                        }
                    }
                }
            }
        } else {
            let all = stored ?? values(frame)
            for i in 0..<count { samples[i] = output(all[i]) }
        }
        return RenderedImage(width: d.columns, height: d.rows, channels: 1, bitDepth: bitDepth, samples: samples)
    }

    /// The window that maps the frame's smallest modality value to black and its largest to white (LINEAR_EXACT).
    static func rangeWindow(_ stored: [Int], modality: ModalityTransform) -> Window {
        guard let low = stored.min(), let high = stored.max() else { return Window(center: 0, width: 1, function: .linearExact) }
        let a = modality.apply(low)
        let b = modality.apply(high)
        let (lower, upper) = (min(a, b), max(a, b))
        // Modality LUTs need not be monotonic: then the extremes of the table's outputs are used.
        var minimum = lower
        var maximum = upper
        if case .lookupTable(let lut) = modality {
            let used = Set(stored)
            let outputs = used.map { lut.value(for: $0) }
            minimum = Double(outputs.min() ?? 0)
            maximum = Double(outputs.max() ?? 0)
        }
        let width = max(maximum - minimum, 1)
        return Window(center: minimum + width / 2, width: width, function: .linearExact)
    }

    /// RGB samples scaled from Bits Stored to the output depth (PS3.3 C.7.6.3.1.2).
    static func renderColor(_ frame: DecodedFrame, bitDepth: Int) -> RenderedImage {
        let d = frame.descriptor
        let stored = values(frame)
        let maximum = (1 << bitDepth) - 1
        let inputMaximum = (1 << d.bitsStored) - 1
        var samples = [UInt16](repeating: 0, count: stored.count)
        if inputMaximum == maximum {
            for i in 0..<stored.count { samples[i] = UInt16(clamping: stored[i]) }
        } else {
            for i in 0..<stored.count { samples[i] = scale(stored[i], from: inputMaximum, to: maximum) }
        }
        return RenderedImage(width: d.columns, height: d.rows, channels: 3, bitDepth: bitDepth, samples: samples)
    }

    /// Palette lookups, each table's entries scaled from its bits to the output depth (PS3.3 C.7.6.3.1.5).
    static func renderPalette(_ frame: DecodedFrame, palette: PaletteColorLUT, bitDepth: Int) -> RenderedImage {
        let d = frame.descriptor
        let stored = values(frame)
        let maximum = (1 << bitDepth) - 1
        var samples = [UInt16](repeating: 0, count: stored.count * 3)
        let tables = [palette.red, palette.green, palette.blue]
        for (c, table) in tables.enumerated() {
            let inputMaximum = table.maximumOutput
            for i in 0..<stored.count {
                samples[3 * i + c] = scale(table.value(for: stored[i]), from: inputMaximum, to: maximum)
            }
        }
        return RenderedImage(width: d.columns, height: d.rows, channels: 3, bitDepth: bitDepth, samples: samples)
    }

    /// `value × to / from`, rounded half up, clamped to `0…to`.
    @inline(__always)
    static func scale(_ value: Int, from: Int, to: Int) -> UInt16 {
        let v = min(max(value, 0), from)
        return UInt16((v * to * 2 + from) / (2 * from))
    }
}
