/// The frame header (SOFn) of a JPEG stream (ISO 10918-1 B.2.2).
struct JPEGFrameHeader: Sendable {
    struct Component: Sendable {
        var identifier: UInt8
        var horizontalSampling: Int
        var verticalSampling: Int
        var quantizationTable: Int
    }
    /// The SOF marker's low byte: 0xC0 baseline, 0xC1 extended, 0xC3 lossless…
    var process: UInt8
    var precision: Int
    var rows: Int
    var columns: Int
    var components: [Component]
}

/// The header of one scan (SOS) (ISO 10918-1 B.2.3).
struct JPEGScanHeader: Sendable {
    struct Component: Sendable {
        /// Index into the frame's components.
        var frameIndex: Int
        var dcTable: Int
        var acTable: Int
    }
    var components: [Component]
    /// Ss: the predictor selection value in lossless mode, the spectral start otherwise.
    var spectralStart: Int
    var spectralEnd: Int
    var approximationHigh: Int
    /// Al: the point transform in lossless mode.
    var approximationLow: Int
}

/// Walks the marker segments of a JPEG interchange stream, keeping the tables a scan needs (ISO 10918-1 B.2, B.3).
struct JPEGMarkerReader {
    let data: UnsafeBufferPointer<UInt8>
    let codec: Codec
    var position = 0
    var frame: JPEGFrameHeader?
    var dcTables: [JPEGHuffmanTable?] = [nil, nil, nil, nil]
    var acTables: [JPEGHuffmanTable?] = [nil, nil, nil, nil]
    var quantizationTables: [[Int32]?] = [nil, nil, nil, nil]
    var restartInterval = 0
    /// Marker segments APPn seen, by marker, with their first bytes (for JFIF / Adobe detection).
    var applicationSegments: [(marker: UInt8, prefix: [UInt8])] = []

    init(data: UnsafeBufferPointer<UInt8>, codec: Codec) throws(ImagingError) {
        self.data = data
        self.codec = codec
        guard data.count >= 4 else { throw .truncated(codec: codec, offset: data.count, expected: "SOI marker") }
        // Some DICOM encoders put padding before SOI; tolerate a few bytes of it.
        var start = 0
        while start + 1 < min(data.count, 64), !(data[start] == 0xFF && data[start + 1] == 0xD8) { start += 1 }
        guard start + 1 < data.count, data[start] == 0xFF, data[start + 1] == 0xD8 else {
            throw .malformed(codec: codec, offset: 0, reason: "no SOI marker")
        }
        position = start + 2
    }

    private func uint16(_ offset: Int) throws(ImagingError) -> Int {
        guard offset + 1 < data.count else { throw .truncated(codec: codec, offset: data.count, expected: "a marker segment") }
        return Int(data[offset]) << 8 | Int(data[offset + 1])
    }

    /// Reads marker segments until SOS (returns its header, `position` at the entropy-coded data) or EOI (returns nil).
    mutating func nextScan() throws(ImagingError) -> JPEGScanHeader? {
        while true {
            // Find the next marker, skipping fill bytes (and tolerating garbage between segments).
            while position < data.count, data[position] != 0xFF { position += 1 }
            while position < data.count, data[position] == 0xFF { position += 1 }
            guard position < data.count else {
                if frame != nil { return nil }  // missing EOI after the last scan is common and harmless
                throw .truncated(codec: codec, offset: position, expected: "a marker")
            }
            let marker = data[position]
            position += 1
            switch marker {
            case 0xD9:
                return nil
            case 0xD0...0xD7, 0x01, 0x00:
                continue
            default:
                break
            }
            let length = try uint16(position)
            guard length >= 2, position + length <= data.count else {
                throw .truncated(
                    codec: codec, offset: position,
                    expected: "marker segment FF\(String(marker, radix: 16, uppercase: true)) of \(length) bytes")
            }
            let end = position + length
            position += 2
            switch marker {
            case 0xC4:
                try readHuffmanTables(end: end)
            case 0xDB:
                try readQuantizationTables(end: end)
            case 0xDD:
                restartInterval = try uint16(position)
            case 0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF:
                try readFrameHeader(marker: marker, end: end)
            case 0xDA:
                let scan = try readScanHeader(end: end)
                position = end
                return scan
            case 0xE0...0xEF:
                applicationSegments.append((marker, Array(data[position..<min(end, position + 16)])))
            case 0xDC:
                throw .unsupported(codec: codec, feature: "DNL marker (number of lines defined after the first scan)")
            default:
                break
            }
            position = end
        }
    }

    private mutating func readHuffmanTables(end: Int) throws(ImagingError) {
        while position < end {
            let classAndIndex = Int(data[position])
            let tableClass = classAndIndex >> 4
            let index = classAndIndex & 0x0F
            guard position + 17 <= end, tableClass <= 1, index <= 3 else {
                throw .malformed(codec: codec, offset: position, reason: "bad DHT table class/index \(classAndIndex)")
            }
            let counts = Array(data[(position + 1)..<(position + 17)])
            let total = counts.reduce(0) { $0 + Int($1) }
            guard total <= 256, position + 17 + total <= end else {
                throw .malformed(codec: codec, offset: position, reason: "DHT table of \(total) codes overruns its segment")
            }
            let values = Array(data[(position + 17)..<(position + 17 + total)])
            let table = try JPEGHuffmanTable(counts: counts, values: values, offset: position)
            if tableClass == 0 { dcTables[index] = table } else { acTables[index] = table }
            position += 17 + total
        }
    }

    private mutating func readQuantizationTables(end: Int) throws(ImagingError) {
        while position < end {
            let precisionAndIndex = Int(data[position])
            let wide = precisionAndIndex >> 4 == 1
            let index = precisionAndIndex & 0x0F
            let size = wide ? 128 : 64
            guard index <= 3, precisionAndIndex >> 4 <= 1, position + 1 + size <= end else {
                throw .malformed(codec: codec, offset: position, reason: "bad DQT table \(precisionAndIndex)")
            }
            var table = [Int32](repeating: 0, count: 64)
            for k in 0..<64 {
                table[k] = wide ? Int32(data[position + 1 + 2 * k]) << 8 | Int32(data[position + 2 + 2 * k]) : Int32(data[position + 1 + k])
            }
            quantizationTables[index] = table
            position += 1 + size
        }
    }

    private mutating func readFrameHeader(marker: UInt8, end: Int) throws(ImagingError) {
        guard frame == nil else { throw .unsupported(codec: codec, feature: "more than one frame header (hierarchical JPEG)") }
        guard end - position >= 6 else { throw .truncated(codec: codec, offset: position, expected: "SOF header") }
        let precision = Int(data[position])
        let rows = try uint16(position + 1)
        let columns = try uint16(position + 3)
        let count = Int(data[position + 5])
        guard count >= 1, count <= 4, position + 6 + 3 * count <= end else {
            throw .malformed(codec: codec, offset: position, reason: "SOF declares \(count) components")
        }
        var components: [JPEGFrameHeader.Component] = []
        for k in 0..<count {
            let base = position + 6 + 3 * k
            let sampling = Int(data[base + 1])
            let component = JPEGFrameHeader.Component(
                identifier: data[base], horizontalSampling: sampling >> 4, verticalSampling: sampling & 0x0F,
                quantizationTable: Int(data[base + 2]) & 3)
            guard (1...4).contains(component.horizontalSampling), (1...4).contains(component.verticalSampling) else {
                throw .malformed(codec: codec, offset: base, reason: "sampling factors \(sampling >> 4)×\(sampling & 15)")
            }
            components.append(component)
        }
        guard rows > 0 else {
            throw .unsupported(codec: codec, feature: "zero rows in the frame header (DNL)")
        }
        guard columns > 0, (2...16).contains(precision) else {
            throw .malformed(codec: codec, offset: position, reason: "frame \(rows)×\(columns) at precision \(precision)")
        }
        frame = JPEGFrameHeader(process: marker, precision: precision, rows: rows, columns: columns, components: components)
    }

    private mutating func readScanHeader(end: Int) throws(ImagingError) -> JPEGScanHeader {
        guard let frame else { throw .malformed(codec: codec, offset: position, reason: "SOS before any SOF") }
        let count = Int(data[position])
        guard count >= 1, count <= 4, position + 1 + 2 * count + 3 <= end else {
            throw .malformed(codec: codec, offset: position, reason: "SOS declares \(count) components")
        }
        var components: [JPEGScanHeader.Component] = []
        for k in 0..<count {
            let base = position + 1 + 2 * k
            let identifier = data[base]
            guard let frameIndex = frame.components.firstIndex(where: { $0.identifier == identifier }) else {
                throw .malformed(codec: codec, offset: base, reason: "scan component \(identifier) is not in the frame")
            }
            let tables = Int(data[base + 1])
            components.append(JPEGScanHeader.Component(frameIndex: frameIndex, dcTable: (tables >> 4) & 3, acTable: tables & 3))
        }
        let base = position + 1 + 2 * count
        return JPEGScanHeader(
            components: components, spectralStart: Int(data[base]), spectralEnd: Int(data[base + 1]),
            approximationHigh: Int(data[base + 2]) >> 4, approximationLow: Int(data[base + 2]) & 0x0F)
    }
}
