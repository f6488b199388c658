import AtriumTesting
import DICOM
import Foundation
import Imaging
import Testing

@Suite("Frames decode to pydicom's pixel_array")
struct PixelDataTests {
    @Test(
        "Every image pydicom decodes, from its corpus and synthetic native variants, gives the same values",
        arguments: PixelOracle.decodable)
    func matchesPydicom(_ reference: PixelReference) throws {
        if reference.status == "setup" {
            Issue.record(Comment(rawValue: reference.error ?? "setup failed"))
            return
        }
        let expected = try PixelOracle.int64Values(try #require(reference.values))
        let file = try DICOMFile.read(contentsOf: reference.path)
        let pixels = try PixelData(file: file)
        var actual: [Int] = []
        for frame in try pixels.frames(color: .rgb) { actual += sampleValues(frame.pixels, descriptor: frame.descriptor) }
        try #require(actual.count == expected.count, "\(actual.count) samples, pydicom \(expected.count)")
        if reference.lossy == true {
            let result = compare(actual, expected, bitsStored: reference.bitsStored ?? 8)
            #expect(
                result.maximumDifference <= 1 || result.psnr >= 50, "largest difference \(result.maximumDifference), PSNR \(result.psnr)")
        } else if actual != expected {
            let result = compare(actual, expected, bitsStored: reference.bitsStored ?? 8)
            let first = zip(actual, expected).enumerated().first { $0.element.0 != $0.element.1 }
            Issue.record(
                "\(result.differing) samples differ, largest \(result.maximumDifference); first at \(first?.offset ?? -1): \(first.map { "\($0.element.0) vs \($0.element.1)" } ?? "")"
            )
        }
    }

    @Test(
        "Segmented and normal palettes expand as pydicom's apply_color_lut",
        arguments: ["fall.dcm", "hotiron.dcm", "pet20step.dcm", "spring.dcm", "winter.dcm"])
    func palettes(_ name: String) throws {
        let path = try Corpus.pydicomDataDirectory() + "/palettes/\(name)"
        let reference = try PixelOracle.run(["palette", path])
        let rows = try #require(reference["rgb"] as? [[Int]])
        let palette = try PaletteColorLUT(dataSet: try DICOMFile.read(contentsOf: path).dataSet)
        var differences = 0
        for (index, row) in rows.enumerated() {
            let actual = [palette.red.value(for: index), palette.green.value(for: index), palette.blue.value(for: index)]
            if actual != row { differences += 1 }
        }
        #expect(differences == 0, "\(differences) of 256 palette entries differ")
    }

    @Test("A header asking for more than the ceiling is refused before any allocation")
    func ceiling() throws {
        var ds = DataSet()
        ds.set(.rows, .US, integers: [65535])
        ds.set(.columns, .US, integers: [65535])
        ds.set(.bitsAllocated, .US, integers: [16])
        ds.set(.numberOfFrames, .IS, "100000")
        ds[.pixelData] = DataElement(tag: .pixelData, vr: .OW, bytes: [UInt8](repeating: 0, count: 16))
        #expect(throws: ImagingError.self) { try PixelData(dataSet: ds, transferSyntax: .explicitVRLittleEndian) }
        ds.set(.numberOfFrames, .IS, "1")
        #expect(throws: ImagingError.self) {
            try PixelData(dataSet: ds, transferSyntax: .explicitVRLittleEndian, limits: DecodingLimits(maximumFrameBytes: 1 << 20))
        }
        ds.set(.rows, .US, integers: [4])
        ds.set(.columns, .US, integers: [4])
        #expect {
            try PixelData(dataSet: ds, transferSyntax: .explicitVRLittleEndian)
        } throws: { error in
            (error as? ImagingError) == .pixelDataTooShort(expectedBytes: 32, actualBytes: 16)
        }
    }

    @Test("A High Bit above Bits Stored − 1 shifts samples down before masking (PS3.5 8.1.1)")
    func highBit() throws {
        var ds = DataSet()
        ds.set(.rows, .US, integers: [1])
        ds.set(.columns, .US, integers: [4])
        ds.set(.bitsAllocated, .US, integers: [16])
        ds.set(.bitsStored, .US, integers: [12])
        ds.set(.highBit, .US, integers: [15])
        ds.set(.pixelRepresentation, .US, integers: [1])
        let stored: [Int] = [-2048, -1, 0, 2047]
        var bytes: [UInt8] = []
        for value in stored {
            let word = UInt16(truncatingIfNeeded: value << 4) | 0x000F  // low 4 bits are not part of the sample
            bytes += [UInt8(truncatingIfNeeded: word), UInt8(word >> 8)]
        }
        ds[.pixelData] = DataElement(tag: .pixelData, vr: .OW, bytes: bytes)
        let frame = try PixelData(dataSet: ds, transferSyntax: .explicitVRLittleEndian).frame(0)
        #expect(sampleValues(frame.pixels, descriptor: frame.descriptor) == stored)
    }
}
