import AtriumTesting
import DICOM
import Foundation
import Imaging
import Testing

/// A transcoding to check: a source file and a target transfer syntax.
struct TranscodeCase: Sendable, CustomTestStringConvertible {
    var file: String
    var synthetic = false
    var target: TransferSyntax
    /// Largest difference allowed from pydicom's decoding of the source (non-zero only for lossy sources).
    var tolerance = 0

    var testDescription: String { "\(file) → \(target.name)" }
    var path: String {
        get throws { synthetic ? PixelOracle.synthetic(file) : try PixelOracle.corpus(file) }
    }
}

@Suite("Transcoded files decode, in pydicom and dcmtk, to the source's pixels")
struct TranscodeTests {
    static let lossless: [(String, Bool)] = [
        ("CT_small.dcm", false), ("MR_small_RLE.dcm", false), ("MR_small_jpeg_ls_lossless.dcm", false),
        ("MR_small_jp2klossless.dcm", false), ("SC_rgb_rle_2frame.dcm", false), ("SC_rgb_rle_16bit.dcm", false),
        ("rtdose.dcm", false), ("MR_small_bigendian.dcm", false),
        ("u16_12bit_garbage_2frames", true), ("s16_12bit_garbage", true), ("rgb8_planar1", true), ("rgb16_planar1", true),
        ("ybr_full_422_2frames", true), ("ybr_full_2frames", true), ("s8", true), ("u8_monochrome1", true),
    ]

    static let cases: [TranscodeCase] =
        lossless.flatMap { file, synthetic in
            [TransferSyntax.explicitVRLittleEndian, .rleLossless, .jpegLSLossless, .jpeg2000Lossless].map {
                TranscodeCase(file: file, synthetic: synthetic, target: $0)
            }
        } + [
            TranscodeCase(file: "bits1_3frames", synthetic: true, target: .explicitVRLittleEndian),
            TranscodeCase(file: "s32_2frames", synthetic: true, target: .rleLossless),
            TranscodeCase(file: "SC_rgb_jpeg_dcmtk.dcm", target: .explicitVRLittleEndian, tolerance: 8),
            TranscodeCase(file: "JPGExtended.dcm", target: .explicitVRLittleEndian, tolerance: 8),
            TranscodeCase(file: "SC_rgb_jpeg_dcmtk.dcm", target: .rleLossless, tolerance: 8),
            TranscodeCase(file: "SC_rgb_dcmtk_+eb+cr.dcm", target: .jpegLSLossless, tolerance: 8),
        ]

    @Test("pydicom decodes Atrium's output to the source's pixels", arguments: cases)
    func transcoded(_ testCase: TranscodeCase) throws {
        let source = try testCase.path
        let file = try DICOMFile.read(contentsOf: source)
        let bits = file.dataSet.int(.bitsStored) ?? 0
        if testCase.target == .jpegLSLossless && bits > 16 || testCase.target == .jpeg2000Lossless && bits > 24 {
            #expect(throws: ImagingError.self, "\(bits) bits cannot be written as \(testCase.target.name)") {
                try Transcoder.transcode(file, to: testCase.target)
            }
            return
        }
        let output = try PixelOracle.temporaryFile("out.dcm")
        let transcoded = try Transcoder.transcode(file, to: testCase.target)
        try transcoded.write(to: output)
        let result = try PixelOracle.run(["compare", source, output])
        #expect(result["transferSyntaxUID"] as? String == testCase.target.uid)
        #expect(result["shapeEqual"] as? Bool == true, "\(result)")
        #expect((result["maximumDifference"] as? Int ?? .max) <= testCase.tolerance, "\(result)")
        if file.transferSyntax.isLossy {
            #expect(result["lossyImageCompression"] as? String == "01", "lossy history lost: \(result)")
        }
        if testCase.target.isEncapsulated, testCase.target != file.transferSyntax {
            let frames = file.dataSet.int(.numberOfFrames) ?? 1
            #expect(result["fragments"] as? Int == frames, "one fragment per frame: \(result)")
            #expect((result["basicOffsets"] as? [Int])?.count == frames, "a Basic Offset Table entry per frame: \(result)")
        }
        if testCase.target.isEncapsulated || file.transferSyntax.isEncapsulated {
            #expect(result["planarConfiguration"] as? Int == 0)
        }

        // dcmtk's own decoders read what Atrium wrote.
        let tool: String? =
            switch testCase.target {
            case .rleLossless: "dcmdrle"
            case .jpegLSLossless: "dcmdjpls"
            default: nil
            }
        if let tool, (file.dataSet.int(.bitsAllocated) ?? 0) <= 16 {
            let decompressed = try PixelOracle.temporaryFile("dcmtk.dcm")
            let run = try Subprocess.run(tool, [output, decompressed])
            #expect(run.status == 0, "\(tool) failed: \(run.errorOutput)")
            if run.status == 0 {
                let check = try PixelOracle.run(["compare", source, decompressed])
                #expect((check["maximumDifference"] as? Int ?? .max) <= testCase.tolerance, "\(tool) decodes differently: \(check)")
            }
        }
    }

    @Test("Targets Atrium cannot write are refused with a typed error")
    func unsupported() throws {
        let file = try DICOMFile.read(contentsOf: try PixelOracle.corpus("CT_small.dcm"))
        #expect(throws: ImagingError.self) { try Transcoder.transcode(file, to: .jpegBaseline8Bit) }
    }
}

/// A masking to check.
struct MaskCase: Sendable, CustomTestStringConvertible {
    var file: String
    var synthetic = false
    var rect: (x: Int, y: Int, width: Int, height: Int)
    var frames: Set<Int>?
    var expectedSyntax: TransferSyntax
    var tolerance = 0

    var testDescription: String { "\(file), frames \(frames.map { "\($0.sorted())" } ?? "all") → \(expectedSyntax.name)" }
    var path: String {
        get throws { synthetic ? PixelOracle.synthetic(file) : try PixelOracle.corpus(file) }
    }
}

@Suite("Masking blacks out rectangles and writes a new instance pydicom reads")
struct MaskTests {
    static let cases: [MaskCase] = [
        MaskCase(file: "CT_small.dcm", rect: (10, 20, 30, 15), expectedSyntax: .explicitVRLittleEndian),
        MaskCase(file: "MR_small_RLE.dcm", rect: (0, 0, 64, 8), expectedSyntax: .rleLossless),
        MaskCase(file: "MR_small_jpeg_ls_lossless.dcm", rect: (50, 50, 40, 40), expectedSyntax: .jpegLSLossless),
        MaskCase(file: "MR_small_jp2klossless.dcm", rect: (5, 5, 10, 10), expectedSyntax: .jpeg2000Lossless),
        MaskCase(file: "SC_rgb_rle_2frame.dcm", rect: (10, 10, 20, 20), frames: [1], expectedSyntax: .rleLossless),
        MaskCase(file: "MR_small_bigendian.dcm", rect: (1, 1, 3, 3), expectedSyntax: .explicitVRBigEndian),
        MaskCase(file: "SC_rgb_jpeg_dcmtk.dcm", rect: (0, 0, 50, 10), expectedSyntax: .explicitVRLittleEndian, tolerance: 8),
        MaskCase(file: "JPEGLSNearLossless_08.dcm", rect: (0, 0, 20, 20), expectedSyntax: .explicitVRLittleEndian, tolerance: 3),
        MaskCase(file: "rtdose.dcm", rect: (2, 2, 4, 4), frames: [0, 3], expectedSyntax: .implicitVRLittleEndian),
        MaskCase(file: "u8_monochrome1", synthetic: true, rect: (3, 3, 10, 10), expectedSyntax: .explicitVRLittleEndian),
        MaskCase(file: "bits1_3frames", synthetic: true, rect: (2, 1, 4, 3), frames: [1], expectedSyntax: .explicitVRLittleEndian),
        MaskCase(file: "ybr_full_422_2frames", synthetic: true, rect: (4, 4, 6, 6), expectedSyntax: .explicitVRLittleEndian),
        MaskCase(file: "s16_12bit_garbage", synthetic: true, rect: (0, 0, 29, 5), expectedSyntax: .explicitVRLittleEndian),
    ]

    @Test("Pixels inside the rectangles are black, the rest unchanged, the attributes updated", arguments: cases)
    func masked(_ testCase: MaskCase) throws {
        let source = try testCase.path
        let file = try DICOMFile.read(contentsOf: source)
        let region = MaskRegion(
            x: testCase.rect.x, y: testCase.rect.y, width: testCase.rect.width, height: testCase.rect.height, frames: testCase.frames)
        let output = try PixelOracle.temporaryFile("masked.dcm")
        try PixelMasker.mask(file, regions: [region]).write(to: output)
        let framesArgument = testCase.frames.map { "\($0.sorted())" } ?? "null"
        let result = try PixelOracle.run(
            ["mask-check", source, output, "\(region.x)", "\(region.y)", "\(region.width)", "\(region.height)", framesArgument])
        #expect(result["shapeEqual"] as? Bool == true, "\(result)")
        #expect(result["maximumDifferenceInside"] as? Int == 0, "\(result)")
        #expect((result["maximumDifferenceOutside"] as? Int ?? .max) <= testCase.tolerance, "\(result)")
        #expect(result["sopInstanceUIDChanged"] as? Bool == true)
        #expect(result["mediaStorageMatches"] as? Bool == true)
        #expect(result["burnedInAnnotation"] as? String == "NO")
        #expect(result["transferSyntaxUID"] as? String == testCase.expectedSyntax.uid)
        if file.transferSyntax.isLossy || file.dataSet.string(.lossyImageCompression) == "01" {
            #expect(result["lossyImageCompression"] as? String == "01", "lossy history lost")
        }
    }
}
