import AtriumTesting
import DICOM
import Foundation
import Imaging
import Testing

@Suite("YBR_FULL at 16 bits and per-frame functional groups")
struct ColorAndFunctionalGroupTests {
    @Test(
        "YBR_FULL frames come back as the RGB an independent numpy conversion gives (pydicom's own for 8 bits)",
        arguments: ["ybr_full_16bit_16stored", "ybr_full_16bit_12stored", "ybr_full_2frames"])
    func ybrToRGB(_ name: String) throws {
        let path = PixelOracle.synthetic(name)
        let expectedPath = try PixelOracle.temporaryFile("\(name)-rgb.i64")
        let summary = try PixelOracle.run(["ybr-rgb", path, expectedPath])
        let expected = try PixelOracle.int64Values(expectedPath)
        let file = try DICOMFile.read(contentsOf: path)
        let pixels = try PixelData(file: file)
        var actual: [Int] = []
        for index in 0..<pixels.numberOfFrames {
            let frame = try pixels.frame(index, color: .rgb)
            #expect(frame.descriptor.photometricInterpretation == "RGB")
            let width = frame.descriptor.bytesPerSample
            for i in 0..<(frame.pixels.count / width) {
                actual.append(width == 1 ? Int(frame.pixels[i]) : Int(frame.pixels[2 * i]) | Int(frame.pixels[2 * i + 1]) << 8)
            }
        }
        #expect(actual.count == summary["count"] as? Int)
        #expect(actual.count == expected.count)
        let differences = zip(actual, expected).map { abs($0 - $1) }
        #expect(differences.max() ?? .max == 0, "largest difference \(differences.max() ?? -1)")

        // The stored colour space is still available untouched.
        let stored = try pixels.frame(0, color: .stored)
        #expect(stored.descriptor.photometricInterpretation == "YBR_FULL")
    }

    @Test("Each frame of an enhanced image takes its rescale and window from its functional groups, and pixel measures")
    func functionalGroups() throws {
        let file = try DICOMFile.read(contentsOf: PixelOracle.synthetic("enhanced_per_frame_groups"))
        let pixels = try PixelData(file: file)
        // Values the generator wrote into the file (not Atrium's output).
        let expected: [(slope: Double, intercept: Double, center: Double, width: Double)] = [
            (1, -1024, -500, 1500), (2.5, 100, 300, 800), (0.5, 7, 10, 3000),
        ]
        for (index, values) in expected.enumerated() {
            let presentation = try ImagePresentation(dataSet: file.dataSet, descriptor: pixels.descriptor, frame: index)
            #expect(presentation.modality == .rescale(slope: values.slope, intercept: values.intercept), "frame \(index + 1)")
            #expect(presentation.windows.first?.center == values.center, "frame \(index + 1)")
            #expect(presentation.windows.first?.width == values.width, "frame \(index + 1)")
            #expect(presentation.pixelSpacing?.row == 0.5)
            #expect(presentation.pixelSpacing?.column == 0.25)
        }
        let first = try ImagePresentation(dataSet: file.dataSet, descriptor: pixels.descriptor, frame: 0)
        let last = try ImagePresentation(dataSet: file.dataSet, descriptor: pixels.descriptor, frame: 2)
        #expect(first.windows.first?.function == .linearExact)
        #expect(last.windows.first?.function == .linear)
    }
}
