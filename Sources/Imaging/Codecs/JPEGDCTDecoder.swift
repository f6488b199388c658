import Foundation

/// Sequential DCT JPEG with Huffman coding (processes 1, 2 and 4: 8 and 12 bits), written in Swift for the 12-bit
/// frames of JPEG Extended that the system's 8-bit libjpeg-turbo cannot decode (PS3.5 A.4.1, ISO 10918-1 Annex F).
enum JPEGDCTDecoder {
    /// Natural order index of each zig-zag position (ISO 10918-1 Figure A.6).
    private static let zigzag: [Int] = [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
    ]

    /// cos((2x + 1) u π / 16) · C(u) / 2, indexed [x * 8 + u] (ISO 10918-1 A.3.3).
    private static let idctBasis: [Double] = {
        var basis = [Double](repeating: 0, count: 64)
        for x in 0..<8 {
            for u in 0..<8 {
                let c = u == 0 ? 1 / 2.0.squareRoot() : 1
                basis[x * 8 + u] = c / 2 * cos(Double(2 * x + 1) * Double(u) * Double.pi / 16)
            }
        }
        return basis
    }()

    /// Decodes the frame into `samples` (component planes, `rows × columns` each) and returns the precision.
    static func decode(_ stream: [UInt8], descriptor: FrameDescriptor) throws(ImagingError) -> (planes: [[Int32]], precision: Int) {
        try stream.withUnsafeBufferPointer { (data) throws(ImagingError) in
            var markers = try JPEGMarkerReader(data: data, codec: .jpeg)
            var planes: [[Int32]] = []
            var blockColumns: [Int] = []
            var precision = 8
            var scans = 0
            while let scan = try markers.nextScan() {
                guard let frame = markers.frame else { break }
                if scans == 0 {
                    guard frame.process == 0xC0 || frame.process == 0xC1 else {
                        throw .unsupported(codec: .jpeg, feature: "JPEG process SOF\(frame.process & 0x0F) (only sequential Huffman DCT)")
                    }
                    guard frame.precision == 8 || frame.precision == 12 else {
                        throw .malformed(codec: .jpeg, offset: markers.position, reason: "DCT precision \(frame.precision)")
                    }
                    for component in frame.components
                    where component.horizontalSampling != frame.components[0].horizontalSampling
                        || component.verticalSampling != frame.components[0].verticalSampling
                    {
                        throw .unsupported(codec: .jpeg, feature: "subsampled components in a 12-bit DCT frame")
                    }
                    precision = frame.precision
                    // Without subsampling every component has the same block grid; MCUs of H×V blocks cover it.
                    let h = frame.components[0].horizontalSampling
                    let v = frame.components[0].verticalSampling
                    let mcuColumns = (frame.columns + 8 * h - 1) / (8 * h)
                    let mcuRows = (frame.rows + 8 * v - 1) / (8 * v)
                    let width = mcuColumns * h * 8
                    let height = mcuRows * v * 8
                    planes = Array(repeating: [Int32](repeating: 0, count: width * height), count: frame.components.count)
                    blockColumns = Array(repeating: width / 8, count: frame.components.count)
                }
                guard scan.spectralStart == 0, scan.spectralEnd == 63, scan.approximationHigh == 0, scan.approximationLow == 0 else {
                    throw .unsupported(codec: .jpeg, feature: "progressive scan parameters in a sequential frame")
                }
                try decodeScan(scan, markers: &markers, frame: frame, planes: &planes, blockColumns: blockColumns)
                scans += 1
            }
            guard scans > 0, let frame = markers.frame else {
                throw .malformed(codec: .jpeg, offset: markers.position, reason: "no scan in the stream")
            }
            // Crop the block-padded planes to the image.
            let width = blockColumns[0] * 8
            var cropped: [[Int32]] = []
            for plane in planes {
                var out = [Int32](repeating: 0, count: frame.rows * frame.columns)
                for row in 0..<frame.rows {
                    for column in 0..<frame.columns { out[row * frame.columns + column] = plane[row * width + column] }
                }
                cropped.append(out)
            }
            return (cropped, precision)
        }
    }

    private static func decodeScan(
        _ scan: JPEGScanHeader, markers: inout JPEGMarkerReader, frame: JPEGFrameHeader, planes: inout [[Int32]], blockColumns: [Int]
    ) throws(ImagingError) {
        var dcTables: [JPEGHuffmanTable] = []
        var acTables: [JPEGHuffmanTable] = []
        var quantization: [[Int32]] = []
        for component in scan.components {
            guard let dc = markers.dcTables[component.dcTable], let ac = markers.acTables[component.acTable] else {
                throw .malformed(codec: .jpeg, offset: markers.position, reason: "scan uses an undefined Huffman table")
            }
            let q = frame.components[component.frameIndex].quantizationTable
            guard let table = markers.quantizationTables[q] else {
                throw .malformed(codec: .jpeg, offset: markers.position, reason: "undefined quantization table \(q)")
            }
            dcTables.append(dc)
            acTables.append(ac)
            quantization.append(table)
        }
        let h = frame.components[0].horizontalSampling
        let v = frame.components[0].verticalSampling
        let interleaved = scan.components.count > 1
        // A non-interleaved scan codes one block per MCU over the component's own (unpadded-to-MCU) block grid.
        let unitColumns = interleaved ? (frame.columns + 8 * h - 1) / (8 * h) : (frame.columns + 7) / 8
        let unitRows = interleaved ? (frame.rows + 8 * v - 1) / (8 * v) : (frame.rows + 7) / 8
        let blocksPerUnit = interleaved ? (h, v) : (1, 1)
        let maximum = Int32((1 << frame.precision) - 1)
        let levelShift = Double(1 << (frame.precision - 1))
        var reader = JPEGBitReader(data: markers.data, position: markers.position, codec: .jpeg)
        var predictions = [Int](repeating: 0, count: scan.components.count)
        var coefficients = [Double](repeating: 0, count: 64)
        var temporary = [Double](repeating: 0, count: 64)
        let restartInterval = markers.restartInterval
        var unitsLeft = restartInterval
        var restarts = 0
        let basis = idctBasis
        try dcTables.withUnsafeBufferPointer { (dcPointer) throws(ImagingError) in
            try acTables.withUnsafeBufferPointer { (acPointer) throws(ImagingError) in
                guard let dcBase = dcPointer.baseAddress, let acBase = acPointer.baseAddress else { return }
                for unitRow in 0..<unitRows {
                    for unitColumn in 0..<unitColumns {
                        if restartInterval > 0 {
                            if unitsLeft == 0 {
                                try reader.restart(expected: restarts)
                                restarts += 1
                                unitsLeft = restartInterval
                                for k in predictions.indices { predictions[k] = 0 }
                            }
                            unitsLeft -= 1
                        }
                        for (c, component) in scan.components.enumerated() {
                            for by in 0..<blocksPerUnit.1 {
                                for bx in 0..<blocksPerUnit.0 {
                                    for k in 0..<64 { coefficients[k] = 0 }
                                    let s = try reader.decode(dcBase + c)
                                    guard s <= 16 else {
                                        throw .malformed(codec: .jpeg, offset: reader.position, reason: "DC category \(s)")
                                    }
                                    predictions[c] += reader.receiveExtend(s)
                                    coefficients[0] = Double(predictions[c] * Int(quantization[c][0]))
                                    var k = 1
                                    while k < 64 {
                                        let rs = try reader.decode(acBase + c)
                                        let run = rs >> 4
                                        let size = rs & 15
                                        if size == 0 {
                                            if run != 15 { break }
                                            k += 16
                                            continue
                                        }
                                        k += run
                                        guard k < 64 else {
                                            throw .malformed(codec: .jpeg, offset: reader.position, reason: "AC run past the block")
                                        }
                                        coefficients[zigzag[k]] = Double(reader.receiveExtend(size) * Int(quantization[c][k]))
                                        k += 1
                                    }
                                    try reader.checkNotExhausted()
                                    // Separable inverse DCT: columns then rows (ISO 10918-1 A.3.3).
                                    for x in 0..<8 {
                                        for column in 0..<8 {
                                            var sum = 0.0
                                            for u in 0..<8 { sum += basis[x * 8 + u] * coefficients[u * 8 + column] }
                                            temporary[x * 8 + column] = sum
                                        }
                                    }
                                    let blockX = interleaved ? unitColumn * h + bx : unitColumn
                                    let blockY = interleaved ? unitRow * v + by : unitRow
                                    let width = blockColumns[component.frameIndex] * 8
                                    for y in 0..<8 {
                                        for x in 0..<8 {
                                            var sum = 0.0
                                            for u in 0..<8 { sum += basis[x * 8 + u] * temporary[y * 8 + u] }
                                            let value = Int32((sum + levelShift).rounded())
                                            planes[component.frameIndex][(blockY * 8 + y) * width + blockX * 8 + x] = min(
                                                max(value, 0), maximum)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        markers.position = reader.position
    }
}
