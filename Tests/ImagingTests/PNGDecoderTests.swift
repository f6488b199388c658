import AtriumTesting
import Foundation
import Imaging
import Testing

/// PNG photos read with libpng (``PNGDecoder``): every colour type, bit depth and interlacing, compared with the pixels
/// the files were made from (Pillow, and a few files written from the PNG specification by the test script, which
/// Pillow reads back first); damaged and oversized files refused with a reason.
@Suite("PNG decoding")
struct PNGDecoderTests {
    @Test("Grey, RGB, palette (with a transparent entry), with and without alpha, 1 to 16 bits, interlaced or not")
    func everyKind() async throws {
        let folder = try Corpus.temporaryDirectory("png-cases")
        let made = try await Subprocess.runDetached("python3", [Corpus.script("ImagingTests", "make_png_cases.py"), folder])
        try #require(made.status == 0, "\(made.output)\(made.errorOutput)")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".png") }.sorted()
        #expect(names.count == 13, "\(names)")
        for name in names {
            let stem = String(name.dropLast(4))
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)))
            let expected = try [UInt8](Data(contentsOf: URL(fileURLWithPath: folder + "/" + stem + ".raw")))
            let shape =
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/" + stem + ".json")))
                as? [String: Int] ?? [:]
            let picture = try PNGDecoder.decode(bytes)
            #expect(
                [picture.width, picture.height, picture.channels] == [shape["width"], shape["height"], shape["channels"]],
                "\(stem): \(picture.width) × \(picture.height) × \(picture.channels), expected \(shape)")
            guard picture.samples.count == expected.count else {
                Issue.record("\(stem): \(picture.samples.count) samples, expected \(expected.count)")
                continue
            }
            let tolerance = shape["tolerance"] ?? 0
            let off = zip(picture.samples, expected).filter { abs(Int($0) - Int($1)) > tolerance }.count
            #expect(off == 0, "\(stem): \(off) of \(expected.count) samples differ by more than \(tolerance)")
        }
    }

    @Test("Damaged, truncated, oversized and non-PNG input is refused with a reason")
    func refusals() async throws {
        let folder = try Corpus.temporaryDirectory("png-refusals")
        let made = try await Subprocess.runDetached("python3", [Corpus.script("ImagingTests", "make_png_cases.py"), folder])
        try #require(made.status == 0, "\(made.output)\(made.errorOutput)")
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: folder + "/rgb8.png")))
        #expect(try PNGDecoder.decode(good).width == 53)
        func refused(_ bytes: [UInt8], maximumPixels: Int = 40_000_000) -> String? {
            do {
                _ = try PNGDecoder.decode(bytes, maximumPixels: maximumPixels)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(refused(Array("GIF89a".utf8) + good) == "not a PNG file")
        #expect(refused(Array(good.prefix(8))) != nil, "the signature alone")
        #expect(refused(Array(good.prefix(good.count / 2))) != nil, "cut in the image data")
        // A flipped byte in the image data: the chunk's CRC no longer matches.
        var damaged = good
        damaged[60] ^= 0xFF
        #expect(refused(damaged) != nil, "a damaged IDAT")
        // A valid header claiming 60,000 × 60,000 pixels: refused from the header, before anything is inflated.
        let huge = try [UInt8](Data(contentsOf: URL(fileURLWithPath: folder + "/huge-header.bin")))
        #expect(refused(huge)?.contains("60000 × 60000 pixels is too large") == true, "\(refused(huge) ?? "read")")
        #expect(refused(good, maximumPixels: 100)?.contains("too large") == true)
    }
}
