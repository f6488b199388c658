import AtriumTesting
import DICOM
import Foundation
import Imaging
import Testing

/// Runs the built `atrium` binary.
private func atrium(_ arguments: [String]) throws -> ProcessResult {
    try Subprocess.run(try Corpus.atriumExecutable(), arguments)
}

/// A file of random bytes that is not DICOM.
private func notDICOM() throws -> String {
    let path = try PixelOracle.temporaryFile("not-dicom.dcm")
    try Data((0..<300).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }).write(to: URL(fileURLWithPath: path))
    return path
}

@Suite("atrium render, transcode and mask on the command line")
struct CommandLineImagingTests {
    // MARK: render

    @Test(
        "render writes the image the standard's formulas give, for each option",
        arguments: [
            (RenderCase(file: "CT_small.dcm"), [String]()),
            (RenderCase(file: "CT_small.dcm", window: Window(center: 40, width: 400, function: .sigmoid)), []),
            (RenderCase(file: "CT_small.dcm", bitDepth: 16), ["--format", "png16"]),
            (RenderCase(file: "rtdose.dcm", frame: 2), []),
            (RenderCase(file: "MR_small_jp2klossless.dcm"), []),
            (RenderCase(file: "enhanced_per_frame_groups", synthetic: true, frame: 1), []),
        ])
    func render(_ testCase: RenderCase, extra: [String]) throws {
        let path = try testCase.path
        let output = try PixelOracle.temporaryFile("cli.png")
        let run = try atrium(["render", path, "--frame", "\(testCase.frame + 1)", "-o", output] + testCase.windowArgument + extra)
        #expect(run.status == 0, "\(run.errorOutput)")
        let result = try PixelOracle.run(
            ["render-check", path, output, "--frame", "\(testCase.frame)", "--bits", "\(testCase.bitDepth)"] + testCase.windowArgument)
        #expect(result["format"] as? String == "PNG")
        #expect(result["actualShape"] as? [Int] == result["expectedShape"] as? [Int], "\(result)")
        #expect((result["maximumDifference"] as? Int ?? .max) <= 1, "\(result)")
    }

    @Test("render --size fits the image and --format jpeg writes a JPEG that Pillow reads")
    func renderSizeAndJPEG() throws {
        let path = try PixelOracle.corpus("examples_palette.dcm")  // 800 × 350
        let output = try PixelOracle.temporaryFile("cli.jpg")
        let run = try atrium(["render", path, "--size", "200x200", "--format", "jpeg", "--quality", "80", "-o", output])
        #expect(run.status == 0, "\(run.errorOutput)")
        let code = "import sys; from PIL import Image; im = Image.open(sys.argv[1]); print(im.format, im.size[0], im.size[1], im.mode)"
        let check = try Subprocess.run("python3", ["-c", code, output])
        #expect(check.output.trimmingCharacters(in: .whitespacesAndNewlines) == "JPEG 200 88 RGB", "\(check.errorOutput)")
    }

    @Test("render refuses a file that is not DICOM, a frame that does not exist and a bad window, with a message")
    func renderErrors() throws {
        let output = try PixelOracle.temporaryFile("never.png")
        let bad = try notDICOM()
        let notDICOMRun = try atrium(["render", bad, "-o", output])
        #expect(notDICOMRun.status == 1)
        #expect(notDICOMRun.errorOutput.contains(bad), "\(notDICOMRun.errorOutput)")

        let ct = try PixelOracle.corpus("CT_small.dcm")
        let frameRun = try atrium(["render", ct, "--frame", "5", "-o", output])
        #expect(frameRun.status == 1)
        #expect(frameRun.errorOutput.lowercased().contains("frame"), "\(frameRun.errorOutput)")
        let zeroRun = try atrium(["render", ct, "--frame", "0", "-o", output])
        #expect(zeroRun.status != 0)

        let windowRun = try atrium(["render", ct, "--window", "40", "-o", output])
        #expect(windowRun.status != 0)
        #expect(windowRun.errorOutput.contains("--window"), "\(windowRun.errorOutput)")
        #expect(!FileManager.default.fileExists(atPath: output), "no output is left behind after an error")

        let missing = try atrium(["render", ct + ".missing", "-o", output])
        #expect(missing.status == 1)
        #expect(missing.errorOutput.contains("CT_small.dcm.missing"))
    }

    // MARK: transcode

    @Test(
        "transcode writes what pydicom decodes to the source's pixels",
        arguments: [
            ("CT_small.dcm", "rle", TransferSyntax.rleLossless),
            ("CT_small.dcm", "jpeg-ls", .jpegLSLossless),
            ("SC_rgb_rle_2frame.dcm", "jpeg2000", .jpeg2000Lossless),
            ("MR_small_jp2klossless.dcm", "explicit", .explicitVRLittleEndian),
            ("MR_small_RLE.dcm", "big", .explicitVRBigEndian),
            ("CT_small.dcm", "1.2.840.10008.1.2.4.80", .jpegLSLossless),
        ])
    func transcode(_ file: String, name: String, syntax: TransferSyntax) throws {
        let source = try PixelOracle.corpus(file)
        let output = try PixelOracle.temporaryFile("cli.dcm")
        let run = try atrium(["transcode", source, output, "-t", name])
        #expect(run.status == 0, "\(run.errorOutput)")
        let result = try PixelOracle.run(["compare", source, output])
        #expect(result["transferSyntaxUID"] as? String == syntax.uid)
        #expect(result["maximumDifference"] as? Int == 0, "\(result)")
        let dump = try Subprocess.run("/usr/bin/dcmdump", ["-q", output])
        #expect(dump.status == 0, "dcmdump: \(dump.errorOutput)")
    }

    @Test("transcode refuses a bad file, an unknown syntax, one it cannot write and --near without near-lossless")
    func transcodeErrors() throws {
        let output = try PixelOracle.temporaryFile("never.dcm")
        let bad = try notDICOM()
        let notDICOMRun = try atrium(["transcode", bad, output, "-t", "rle"])
        #expect(notDICOMRun.status == 1)
        #expect(notDICOMRun.errorOutput.contains(bad))

        let ct = try PixelOracle.corpus("CT_small.dcm")
        let unknown = try atrium(["transcode", ct, output, "-t", "gif"])
        #expect(unknown.status != 0)
        #expect(unknown.errorOutput.contains("gif"))

        let baseline = try atrium(["transcode", ct, output, "-t", TransferSyntax.jpegBaseline8Bit.uid])
        #expect(baseline.status == 1)
        #expect(baseline.errorOutput.contains(TransferSyntax.jpegBaseline8Bit.uid), "\(baseline.errorOutput)")

        let near = try atrium(["transcode", ct, output, "-t", "rle", "--near", "2"])
        #expect(near.status != 0)
        #expect(near.errorOutput.contains("--near"))

        let tooNear = try atrium([
            "transcode", try PixelOracle.corpus("examples_overlay.dcm"), output, "-t", "jpeg-ls-near", "--near", "100000",
        ])
        #expect(tooNear.status == 1)
        #expect(tooNear.errorOutput.contains("NEAR"), "\(tooNear.errorOutput)")
        let signed = try atrium(["transcode", ct, output, "-t", "jpeg-ls-near", "--near", "2"])
        #expect(signed.status == 1)
        #expect(signed.errorOutput.contains("signed"), "\(signed.errorOutput)")
        #expect(!FileManager.default.fileExists(atPath: output), "no output is left behind after an error")
    }

    @Test(
        "Near-lossless JPEG-LS stays within NEAR of the source in pydicom+pylibjpeg and in dcmtk's CharLS decoder",
        arguments: [
            ("examples_overlay.dcm", 3, false), ("examples_rgb_color.dcm", 2, false), ("u16_12bit_garbage_2frames", 1, true),
            ("CT_small.dcm", 0, false),
        ])
    func nearLossless(_ file: String, near: Int, synthetic: Bool) throws {
        let source = synthetic ? PixelOracle.synthetic(file) : try PixelOracle.corpus(file)
        let output = try PixelOracle.temporaryFile("near.dcm")
        let run = try atrium(["transcode", source, output, "-t", "jpeg-ls-near", "--near", "\(near)"])
        #expect(run.status == 0, "\(run.errorOutput)")
        let result = try PixelOracle.run(["compare", source, output])
        #expect(result["transferSyntaxUID"] as? String == TransferSyntax.jpegLSNearLossless.uid)
        #expect(result["shapeEqual"] as? Bool == true, "\(result)")
        let maximum = result["maximumDifference"] as? Int ?? .max
        #expect(maximum <= near, "\(result)")

        let written = try DICOMFile.read(contentsOf: output)
        let original = try DICOMFile.read(contentsOf: source)
        if near > 0 {
            #expect(result["lossyImageCompression"] as? String == "01")
            #expect(written.dataSet.strings(.lossyImageCompressionMethod).last == "ISO_14495_1")
            #expect(written.dataSet.string(.sopInstanceUID) != original.dataSet.string(.sopInstanceUID))
            let reference = written.dataSet.items(.sourceImageSequence).last
            #expect(reference?.string(.referencedSOPInstanceUID) == original.dataSet.string(.sopInstanceUID))
        } else {
            #expect(maximum == 0)
        }

        // dcmtk's JPEG-LS decoder (its copy of CharLS) agrees within NEAR too.
        let decompressed = try PixelOracle.temporaryFile("near-dcmtk.dcm")
        let dcmdjpls = try Subprocess.run("/usr/bin/dcmdjpls", [output, decompressed])
        #expect(dcmdjpls.status == 0, "dcmdjpls: \(dcmdjpls.errorOutput)")
        if dcmdjpls.status == 0 {
            let check = try PixelOracle.run(["compare", source, decompressed])
            #expect((check["maximumDifference"] as? Int ?? .max) <= near, "\(check)")
        }
    }

    // MARK: mask

    @Test("mask blacks out the rectangle in the chosen frame and nothing else, as pydicom reads it")
    func mask() throws {
        let source = try PixelOracle.corpus("SC_rgb_rle_2frame.dcm")
        let output = try PixelOracle.temporaryFile("masked-cli.dcm")
        let run = try atrium(["mask", source, output, "--rect", "10,5,30,20", "--frame", "2"])
        #expect(run.status == 0, "\(run.errorOutput)")
        let result = try PixelOracle.run(["mask-check", source, output, "10", "5", "30", "20", "[1]"])
        #expect(result["shapeEqual"] as? Bool == true, "\(result)")
        #expect(result["maximumDifferenceInside"] as? Int == 0, "\(result)")
        #expect(result["maximumDifferenceOutside"] as? Int == 0, "\(result)")
        #expect(result["sopInstanceUIDChanged"] as? Bool == true)
        #expect(result["burnedInAnnotation"] as? String == "NO")
        let dump = try Subprocess.run("/usr/bin/dcmdump", ["-q", output])
        #expect(dump.status == 0, "dcmdump: \(dump.errorOutput)")
    }

    @Test("mask refuses a bad file, a frame that does not exist and a bad rectangle, writing nothing")
    func maskErrors() throws {
        let output = try PixelOracle.temporaryFile("never-masked.dcm")
        let bad = try notDICOM()
        let notDICOMRun = try atrium(["mask", bad, output, "--rect", "0,0,4,4"])
        #expect(notDICOMRun.status == 1)
        #expect(notDICOMRun.errorOutput.contains(bad))

        let ct = try PixelOracle.corpus("CT_small.dcm")
        let frameRun = try atrium(["mask", ct, output, "--rect", "0,0,4,4", "--frame", "3"])
        #expect(frameRun.status == 1)
        #expect(frameRun.errorOutput.lowercased().contains("frame"), "\(frameRun.errorOutput)")

        let rectRun = try atrium(["mask", ct, output, "--rect", "0,0,-4,4"])
        #expect(rectRun.status != 0)
        #expect(rectRun.errorOutput.contains("--rect"), "\(rectRun.errorOutput)")
        let noRect = try atrium(["mask", ct, output])
        #expect(noRect.status != 0)
        #expect(!FileManager.default.fileExists(atPath: output), "no output is left behind after an error")
    }
}
