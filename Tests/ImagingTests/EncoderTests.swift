import Foundation
import Imaging
import Testing

/// An encoder configuration under test, over a synthetic image.
struct EncoderCase: Sendable, CustomTestStringConvertible {
    var name: String
    var codec: Codec
    var descriptor: FrameDescriptor
    var nearLossless = 0
    var colorTransform = false

    var testDescription: String { "\(codec) \(name)" }

    var transferSyntaxUID: String {
        switch codec {
        case .rle: return "1.2.840.10008.1.2.5"
        case .jpegLS: return nearLossless == 0 ? "1.2.840.10008.1.2.4.80" : "1.2.840.10008.1.2.4.81"
        default: return "1.2.840.10008.1.2.4.90"
        }
    }
}

/// A deterministic image: gradients, edges and noise over the full stored range, little-endian, colour-by-pixel.
func syntheticFrame(_ descriptor: FrameDescriptor, seed: UInt64 = 1) -> [UInt8] {
    var state = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    let bits = descriptor.bitsStored
    let range = 1 << bits
    let minimum = descriptor.isSigned ? -(range / 2) : 0
    var bytes: [UInt8] = []
    bytes.reserveCapacity(descriptor.pixelCount * descriptor.samplesPerPixel * descriptor.bytesPerSample)
    for row in 0..<descriptor.rows {
        for column in 0..<descriptor.columns {
            for sample in 0..<descriptor.samplesPerPixel {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let noise = Int(state >> 58)
                let edge = (row / 16 + column / 16) % 2 == 0 ? range / 3 : 0
                let value = (row * 37 + column * 11 + sample * range / 5 + edge + noise) % range + minimum
                let raw = UInt64(bitPattern: Int64(value))
                for b in 0..<descriptor.bytesPerSample { bytes.append(UInt8(truncatingIfNeeded: raw >> (8 * UInt64(b)))) }
            }
        }
    }
    return bytes
}

@Suite("Encoders produce streams that pydicom + pylibjpeg decode to the input")
struct EncoderTests {
    static let cases: [EncoderCase] = {
        func d(_ rows: Int, _ columns: Int, _ samples: Int, _ allocated: Int, _ stored: Int, _ signed: Bool) -> FrameDescriptor {
            FrameDescriptor(
                rows: rows, columns: columns, samplesPerPixel: samples, bitsAllocated: allocated, bitsStored: stored, isSigned: signed,
                photometricInterpretation: samples == 3 ? "RGB" : "MONOCHROME2")
        }
        var cases: [EncoderCase] = []
        for (name, descriptor) in [
            ("u8 mono", d(67, 61, 1, 8, 8, false)), ("s8 mono", d(40, 33, 1, 8, 8, true)), ("u12 mono", d(64, 70, 1, 16, 12, false)),
            ("s16 mono", d(50, 64, 1, 16, 16, true)), ("u32 mono", d(20, 30, 1, 32, 32, false)), ("rgb8", d(48, 45, 3, 8, 8, false)),
            ("rgb16", d(31, 40, 3, 16, 16, false)),
        ] {
            cases.append(EncoderCase(name: name, codec: .rle, descriptor: descriptor))
        }
        var planar = d(30, 41, 3, 8, 8, false)
        planar.planarConfiguration = 1
        cases.append(EncoderCase(name: "rgb8 planar input", codec: .rle, descriptor: planar))
        for (name, descriptor) in [
            ("u8 mono", d(67, 61, 1, 8, 8, false)), ("u12 mono", d(64, 70, 1, 16, 12, false)), ("s12 mono", d(64, 70, 1, 16, 12, true)),
            ("u16 mono", d(50, 64, 1, 16, 16, false)), ("s16 mono", d(50, 64, 1, 16, 16, true)), ("rgb8", d(48, 45, 3, 8, 8, false)),
            ("rgb16", d(31, 40, 3, 16, 16, false)),
        ] {
            cases.append(EncoderCase(name: name, codec: .jpegLS, descriptor: descriptor))
            cases.append(EncoderCase(name: name, codec: .jpeg2000, descriptor: descriptor))
        }
        cases.append(EncoderCase(name: "u8 mono near-lossless 3", codec: .jpegLS, descriptor: d(67, 61, 1, 8, 8, false), nearLossless: 3))
        cases.append(
            EncoderCase(name: "u12 mono near-lossless 2", codec: .jpegLS, descriptor: d(64, 70, 1, 16, 12, false), nearLossless: 2))
        cases.append(
            EncoderCase(
                name: "rgb8 with the reversible colour transform", codec: .jpeg2000, descriptor: d(48, 45, 3, 8, 8, false),
                colorTransform: true))
        return cases
    }()

    @Test("Encoded frames decode, in pydicom and here, to the input (or within NEAR)", arguments: cases)
    func roundTrip(_ testCase: EncoderCase) throws {
        let input = syntheticFrame(testCase.descriptor)
        let encoded: [UInt8]
        var decodeDescriptor = testCase.descriptor
        decodeDescriptor.planarConfiguration = 0
        switch testCase.codec {
        case .rle:
            encoded = try RLECodec.encode(input, descriptor: testCase.descriptor)
        case .jpegLS:
            encoded = try JPEGLSCodec.encode(input, descriptor: testCase.descriptor, nearLossless: testCase.nearLossless)
        default:
            encoded = try JPEG2000Codec.encodeLossless(input, descriptor: testCase.descriptor, colorTransform: testCase.colorTransform)
            if testCase.colorTransform { decodeDescriptor.photometricInterpretation = "YBR_RCT" }
        }
        let expected = testCase.descriptor.planarConfiguration == 1 ? interleaved(input, testCase.descriptor) : input

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atrium-encoder-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let framePath = directory.appendingPathComponent("frame.bin")
        let outputPath = directory.appendingPathComponent("decoded.bin")
        try Data(encoded).write(to: framePath)
        let request: [String: Any] = [
            "transferSyntaxUID": testCase.transferSyntaxUID,
            "descriptor": try JSONSerialization.jsonObject(with: JSONEncoder().encode(decodeDescriptor)),
            "frames": [framePath.path], "outputs": [outputPath.path],
        ]
        let requestPath = directory.appendingPathComponent("request.json")
        try JSONSerialization.data(withJSONObject: request).write(to: requestPath)
        let result = CodecCorpus.runPython(script: "reference_decode.py", arguments: [requestPath.path])
        try #require(result.status == 0, "reference_decode.py failed: \(result.output)")
        let reference = [UInt8](try Data(contentsOf: outputPath))
        let ours = try FrameDecoder.decode(encoded, transferSyntaxUID: testCase.transferSyntaxUID, descriptor: decodeDescriptor)

        if testCase.nearLossless == 0 {
            #expect(reference == expected, "pydicom's decoding differs from the input")
            #expect(ours.pixels == expected, "our decoding differs from the input")
        } else {
            #expect(ours.pixels == reference, "our decoding differs from pydicom's")
            let difference = compare(
                sampleValues(reference, descriptor: testCase.descriptor), sampleValues(expected, descriptor: testCase.descriptor),
                bitsStored: testCase.descriptor.bitsStored)
            #expect(difference.maximumDifference <= testCase.nearLossless, "largest difference \(difference.maximumDifference)")
        }
    }

    private func interleaved(_ planar: [UInt8], _ descriptor: FrameDescriptor) -> [UInt8] {
        var out = planar
        let width = descriptor.bytesPerSample
        for s in 0..<descriptor.samplesPerPixel {
            for p in 0..<descriptor.pixelCount {
                for b in 0..<width {
                    out[(p * descriptor.samplesPerPixel + s) * width + b] = planar[(s * descriptor.pixelCount + p) * width + b]
                }
            }
        }
        return out
    }
}
