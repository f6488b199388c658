import Foundation
import Imaging
import Testing

@Suite("Hostile streams give typed errors, never crashes")
struct HostileInputTests {
    static let allCodecs: [Codec] = [.rle, .jpegLossless, .jpeg, .jpegLS, .jpeg2000]

    @Test("A header claiming more than the ceiling is refused before anything is allocated", arguments: allCodecs)
    func ceiling(_ codec: Codec) {
        let huge = FrameDescriptor(rows: 65535, columns: 65535, samplesPerPixel: 3, bitsAllocated: 32, photometricInterpretation: "RGB")
        #expect {
            try FrameDecoder.decode([0xFF, 0xD8], codec: codec, descriptor: huge)
        } throws: { error in
            guard case .frameTooLarge(let reported, 65535, 65535, 3, 32, _)? = error as? ImagingError else { return false }
            return reported == codec
        }
    }

    @Test("A configured ceiling below a real frame is enforced", arguments: CodecCorpus.cases.prefix(1))
    func configuredCeiling(_ testCase: CodecCase) throws {
        try #require(testCase.setupError == nil, Comment(rawValue: testCase.setupError ?? ""))
        let frame = [UInt8](try Data(contentsOf: URL(fileURLWithPath: testCase.frames[0].compressed)))
        #expect(throws: ImagingError.self) {
            try FrameDecoder.decode(
                frame, transferSyntaxUID: testCase.transferSyntaxUID, descriptor: testCase.descriptor,
                limits: DecodingLimits(maximumFrameBytes: 16))
        }
    }

    @Test("Empty and tiny streams are refused", arguments: allCodecs)
    func empty(_ codec: Codec) {
        let descriptor = FrameDescriptor(rows: 8, columns: 8, bitsAllocated: 8)
        for stream in [[], [0xFF], [0xFF, 0xD8], [0xFF, 0xD8, 0xFF, 0xD9], [UInt8](repeating: 0, count: 64)] as [[UInt8]] {
            #expect(throws: ImagingError.self) { try FrameDecoder.decode(stream, codec: codec, descriptor: descriptor) }
        }
    }

    @Test("A stream whose header disagrees with the data set is refused", arguments: CodecCorpus.cases.filter { $0.codec != "RLE" })
    func mismatch(_ testCase: CodecCase) throws {
        try #require(testCase.setupError == nil, Comment(rawValue: testCase.setupError ?? ""))
        let frame = [UInt8](try Data(contentsOf: URL(fileURLWithPath: testCase.frames[0].compressed)))
        var wrong = testCase.descriptor
        wrong.rows += 1
        #expect(throws: ImagingError.self) {
            try FrameDecoder.decode(frame, transferSyntaxUID: testCase.transferSyntaxUID, descriptor: wrong)
        }
        wrong = testCase.descriptor
        wrong.samplesPerPixel = wrong.samplesPerPixel == 1 ? 3 : 1
        #expect(throws: ImagingError.self) {
            try FrameDecoder.decode(frame, transferSyntaxUID: testCase.transferSyntaxUID, descriptor: wrong)
        }
    }

    @Test("Truncated and corrupted frames decode or throw, and never crash", arguments: CodecCorpus.cases)
    func mutations(_ testCase: CodecCase) throws {
        try #require(testCase.setupError == nil, Comment(rawValue: testCase.setupError ?? ""))
        let frame = [UInt8](try Data(contentsOf: URL(fileURLWithPath: testCase.frames[0].compressed)))
        guard !frame.isEmpty else { return }
        var state = UInt64(truncatingIfNeeded: frame.count) &* 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(max(1, bound)))
        }
        for round in 0..<16 {
            var mutated = frame
            if round % 3 == 0 {
                mutated = Array(frame.prefix(next(frame.count)))
            } else {
                for _ in 0..<(1 + next(4)) {
                    // Favour the headers, where lengths and dimensions live.
                    let position = round % 3 == 1 ? next(min(frame.count, 256)) : next(frame.count)
                    mutated[position] = UInt8(truncatingIfNeeded: next(256))
                }
            }
            if ProcessInfo.processInfo.environment["ATRIUM_DEBUG_MUTATION"] != nil {
                try? Data(mutated).write(to: URL(fileURLWithPath: "/tmp/last-mutation-\(testCase.name).bin"))
            }
            _ = try? FrameDecoder.decode(mutated, transferSyntaxUID: testCase.transferSyntaxUID, descriptor: testCase.descriptor)
        }
    }
}
