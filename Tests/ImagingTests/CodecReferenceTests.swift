import Foundation
import Imaging
import Testing

@Suite("Decoders agree with pydicom + pylibjpeg")
struct CodecReferenceTests {
    /// Lossy frames must be within one unit of the reference or, failing that, above this PSNR: chroma upsampling is not
    /// normative in ISO 10918-1, and libjpeg-turbo's differs from pylibjpeg-libjpeg's (55 dB is the lowest seen).
    static let lossyMinimumPSNR = 50.0

    @Test("RLE Lossless decodes exactly as pylibjpeg-rle", arguments: CodecCorpus.cases(codec: "RLE"))
    func rle(_ testCase: CodecCase) throws { try check(testCase) }

    @Test("JPEG lossless (process 14) decodes exactly as pylibjpeg-libjpeg", arguments: CodecCorpus.cases(codec: "JPEG lossless"))
    func jpegLossless(_ testCase: CodecCase) throws { try check(testCase) }

    @Test("JPEG baseline and extended decode like pylibjpeg-libjpeg", arguments: CodecCorpus.cases(codec: "JPEG"))
    func jpeg(_ testCase: CodecCase) throws { try check(testCase) }

    @Test("JPEG-LS decodes exactly as pylibjpeg-libjpeg", arguments: CodecCorpus.cases(codec: "JPEG-LS"))
    func jpegLS(_ testCase: CodecCase) throws { try check(testCase) }

    @Test("JPEG 2000 decodes like pylibjpeg-openjpeg", arguments: CodecCorpus.cases(codec: "JPEG 2000"))
    func jpeg2000(_ testCase: CodecCase) throws { try check(testCase) }

    private func check(_ testCase: CodecCase) throws {
        if let setupError = testCase.setupError {
            Issue.record(Comment(rawValue: setupError))
            return
        }
        for (index, files) in testCase.frames.enumerated() {
            let compressed = [UInt8](try Data(contentsOf: URL(fileURLWithPath: files.compressed)))
            let expected = [UInt8](try Data(contentsOf: URL(fileURLWithPath: files.expected)))
            let decoded: DecodedFrame
            do {
                decoded = try FrameDecoder.decode(
                    compressed, transferSyntaxUID: testCase.transferSyntaxUID, descriptor: testCase.descriptor)
            } catch {
                Issue.record("frame \(index): \(error)")
                continue
            }
            #expect(decoded.pixels.count == expected.count, "frame \(index): \(decoded.pixels.count) bytes, reference \(expected.count)")
            guard decoded.pixels.count == expected.count else { continue }
            if testCase.lossless {
                if decoded.pixels != expected {
                    let result = compare(
                        sampleValues(decoded.pixels, descriptor: testCase.descriptor),
                        sampleValues(expected, descriptor: testCase.descriptor),
                        bitsStored: testCase.descriptor.bitsStored)
                    Issue.record("frame \(index): \(result.differing) samples differ, largest difference \(result.maximumDifference)")
                }
            } else {
                let result = compare(
                    sampleValues(decoded.pixels, descriptor: testCase.descriptor), sampleValues(expected, descriptor: testCase.descriptor),
                    bitsStored: testCase.descriptor.bitsStored)
                #expect(
                    result.maximumDifference <= 1 || result.psnr >= Self.lossyMinimumPSNR,
                    "frame \(index): largest difference \(result.maximumDifference), PSNR \(result.psnr) dB, \(result.differing) samples differ"
                )
            }
        }
    }
}
