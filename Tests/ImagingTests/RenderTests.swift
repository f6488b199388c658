import AtriumTesting
import DICOM
import Foundation
import Imaging
import Testing

/// A rendering to check: a file, options, and the output format.
struct RenderCase: Sendable, CustomTestStringConvertible {
    var file: String
    var synthetic = false
    var window: Window?
    var bitDepth = 8
    var frame = 0
    var jpeg = false

    var testDescription: String {
        let w = window.map { "window \($0.center),\($0.width) \($0.function.rawValue)" } ?? "default window"
        return "\(file) frame \(frame), \(w), \(jpeg ? "JPEG" : "\(bitDepth)-bit PNG")"
    }

    var path: String {
        get throws { synthetic ? PixelOracle.synthetic(file) : try PixelOracle.corpus(file) }
    }

    var windowArgument: [String] {
        window.map { ["--window", "\($0.center),\($0.width),\($0.function.rawValue)"] } ?? []
    }
}

@Suite("Rendering agrees with the PS3.3 C.11 pipeline computed in numpy, read back by Pillow")
struct RenderTests {
    static let cases: [RenderCase] = [
        RenderCase(file: "CT_small.dcm"),
        RenderCase(file: "CT_small.dcm", window: Window(center: 40, width: 400)),
        RenderCase(file: "CT_small.dcm", window: Window(center: 40, width: 400, function: .linearExact)),
        RenderCase(file: "CT_small.dcm", window: Window(center: 40, width: 400, function: .sigmoid)),
        RenderCase(file: "CT_small.dcm", window: Window(center: 1000, width: 1)),
        RenderCase(file: "CT_small.dcm", window: Window(center: 40, width: 400), bitDepth: 16),
        RenderCase(file: "CT_small.dcm", bitDepth: 16),
        RenderCase(file: "MR_small_RLE.dcm"),
        RenderCase(file: "MR_small_bigendian.dcm", window: Window(center: 600, width: 1200, function: .sigmoid)),
        RenderCase(file: "MR_small_jp2klossless.dcm"),
        RenderCase(file: "JPEG2000.dcm"),
        RenderCase(file: "rtdose.dcm", frame: 2),
        RenderCase(file: "liver_1frame.dcm"),
        RenderCase(file: "examples_palette.dcm"),
        RenderCase(file: "SC_rgb_rle_16bit.dcm"),
        RenderCase(file: "SC_rgb_rle_2frame.dcm", frame: 1),
        RenderCase(file: "SC_ybr_full_422_uncompressed.dcm"),
        RenderCase(file: "modality_lut_voi_lut", synthetic: true),
        RenderCase(file: "modality_lut_voi_lut", synthetic: true, window: Window(center: 8000, width: 10000)),
        RenderCase(file: "monochrome1_rescaled_window", synthetic: true),
        RenderCase(file: "monochrome1_rescaled_window", synthetic: true, bitDepth: 16),
        RenderCase(file: "palette_segmented", synthetic: true),
        RenderCase(file: "u8_monochrome1", synthetic: true),
        RenderCase(file: "enhanced_per_frame_groups", synthetic: true, frame: 0),
        RenderCase(file: "enhanced_per_frame_groups", synthetic: true, frame: 1),
        RenderCase(file: "enhanced_per_frame_groups", synthetic: true, frame: 2),
        RenderCase(file: "enhanced_per_frame_groups", synthetic: true, bitDepth: 16, frame: 2),
        RenderCase(file: "CT_small.dcm", jpeg: true),
        RenderCase(file: "SC_rgb_rle_2frame.dcm", jpeg: true),
    ]

    @Test("Rendered samples equal the standard's formulas", arguments: cases)
    func rendered(_ testCase: RenderCase) throws {
        let path = try testCase.path
        let file = try DICOMFile.read(contentsOf: path)
        let image = try Renderer.render(
            dataSet: file.dataSet, transferSyntax: file.transferSyntax,
            options: RenderOptions(frame: testCase.frame, window: testCase.window, bitDepth: testCase.bitDepth))
        let output = try PixelOracle.temporaryFile(testCase.jpeg ? "out.jpg" : "out.png")
        // PNG as the rendered resources write it (run-length deflate for grey, level 1 for colour).
        let bytes = testCase.jpeg ? try JPEGEncoder.encode(image, quality: 95) : try PNGEncoder.encodeFast(image)
        try Data(bytes).write(to: URL(fileURLWithPath: output))
        let result = try PixelOracle.run(
            ["render-check", path, output, "--frame", "\(testCase.frame)", "--bits", "\(testCase.bitDepth)"] + testCase.windowArgument)
        #expect(result["actualShape"] as? [Int] == result["expectedShape"] as? [Int], "\(result)")
        let maximum = result["maximumDifference"] as? Int ?? .max
        let differing = result["differing"] as? Int ?? .max
        let psnr = result["psnr"] as? Double ?? 0
        if testCase.jpeg {
            #expect(result["format"] as? String == "JPEG")
            // Colour JPEG subsamples chrominance, so sharp colour edges lose more than grey ones.
            let minimum = image.channels == 3 ? 25.0 : 35.0
            #expect(psnr >= minimum, "JPEG at quality 95: PSNR \(psnr) dB")
        } else {
            #expect(result["format"] as? String == "PNG")
            // Rounding of values that land exactly on .5 may differ by one in floating point; nothing else may.
            #expect(maximum <= 1, "\(result)")
            #expect(Double(differing) <= Double(image.samples.count) * 0.001, "\(result)")
        }
    }

    @Test("Down-scaling averages areas and keeps the aspect ratio")
    func viewport() throws {
        let file = try DICOMFile.read(contentsOf: try PixelOracle.corpus("CT_small.dcm"))
        let full = try Renderer.render(dataSet: file.dataSet, transferSyntax: file.transferSyntax)
        let half = try Renderer.render(
            dataSet: file.dataSet, transferSyntax: file.transferSyntax, options: RenderOptions(viewport: (64, 100)))
        #expect(half.width == 64 && half.height == 64)
        var worst = 0.0
        for y in 0..<64 {
            for x in 0..<64 {
                let sum = [(0, 0), (0, 1), (1, 0), (1, 1)].reduce(0) { $0 + Int(full.samples[(2 * y + $1.0) * 128 + 2 * x + $1.1]) }
                worst = max(worst, abs(Double(sum) / 4 - Double(half.samples[y * 64 + x])))
            }
        }
        #expect(worst <= 0.5, "largest difference from the 2×2 mean: \(worst)")

        let palette = try DICOMFile.read(contentsOf: try PixelOracle.corpus("examples_palette.dcm"))
        let small = try Renderer.render(
            dataSet: palette.dataSet, transferSyntax: palette.transferSyntax, options: RenderOptions(viewport: (100, 100)))
        #expect(small.width == 100 && small.height == 44 && small.channels == 3)  // 800 × 350 → 100 × 43.75
        let thumbnail = ImageScaler.thumbnail(full, size: 32)
        #expect(thumbnail.width == 32 && thumbnail.height == 32)
        let enlarged = ImageScaler.fit(full, width: 256, height: 512)
        #expect(enlarged.width == 256 && enlarged.height == 256)
    }

    @Test("Run-length PNG of grey images reads back through Pillow to the same samples", arguments: [8, 16])
    func runLengthPNG(_ bitDepth: Int) throws {
        // Runs of equal samples (which Z_RLE matches), noise (which it cannot) and a ramp, in odd dimensions.
        let width = 37
        let height = 23
        var generator = SystemRandomNumberGenerator()
        let top = UInt16((1 << bitDepth) - 1)
        let samples = (0..<(width * height)).map { i -> UInt16 in
            let (y, x) = (i / width, i % width)
            if y < 8 { return x < 20 ? 0 : top }
            if y < 16 { return UInt16.random(in: 0...top, using: &generator) }
            return UInt16(x * Int(top) / (width - 1))
        }
        let image = RenderedImage(width: width, height: height, channels: 1, bitDepth: bitDepth, samples: samples)
        let output = try PixelOracle.temporaryFile("grey-rle.png")
        try Data(try PNGEncoder.encodeFast(image)).write(to: URL(fileURLWithPath: output))
        let code = """
            import sys, json
            from PIL import Image
            im = Image.open(sys.argv[1]); im.load()
            print(json.dumps({"size": list(im.size), "mode": im.mode, "pixels": list(im.getdata())}))
            """
        let result = try Subprocess.run("python3", ["-c", code, output])
        try #require(result.status == 0, "Pillow could not read the PNG: \(result.errorOutput) (pip install pillow)")
        let json = try #require(try JSONSerialization.jsonObject(with: result.standardOutput) as? [String: Any])
        #expect(json["size"] as? [Int] == [width, height])
        #expect(json["mode"] as? String == (bitDepth == 8 ? "L" : "I;16"))
        #expect((json["pixels"] as? [Int]) == samples.map { Int($0) })
    }

    @Test("PNG files are read by Pillow with the right mode and size", arguments: [8, 16])
    func pngHeader(_ bitDepth: Int) throws {
        let image = RenderedImage(width: 3, height: 2, channels: 3, bitDepth: bitDepth, samples: (0..<18).map { UInt16($0 * 3) })
        let output = try PixelOracle.temporaryFile("tiny.png")
        try Data(try PNGEncoder.encode(image)).write(to: URL(fileURLWithPath: output))
        let code = """
            import sys, json
            from PIL import Image
            im = Image.open(sys.argv[1]); im.load()
            print(json.dumps({"size": list(im.size), "mode": im.mode, "bits": im.info.get("bits") or 0, "pixels": [list(p) if isinstance(p, tuple) else p for p in im.getdata()]}))
            """
        let result = try Subprocess.run("python3", ["-c", code, output])
        try #require(result.status == 0, "Pillow could not read the PNG: \(result.errorOutput) (pip install pillow)")
        let json = try #require(try JSONSerialization.jsonObject(with: result.standardOutput) as? [String: Any])
        #expect(json["size"] as? [Int] == [3, 2])
        if bitDepth == 8 {
            #expect(json["mode"] as? String == "RGB")
            #expect((json["pixels"] as? [[Int]])?.flatMap { $0 } == (0..<18).map { $0 * 3 })
        }
    }
}
