import ArgumentParser
import DICOM
import Foundation
import Imaging

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render one frame of a DICOM image to PNG or JPEG (like dcmtk's dcmj2pnm).",
        discussion: """
            Grey images go through the Modality LUT (rescale or table), the VOI LUT (the given window, else the file's
            first window or VOI LUT, else the frame's pixel range) and the Presentation LUT (MONOCHROME1 and INVERSE
            are inverted); colour and palette images are converted to RGB. --size scales the result to fit, keeping
            the aspect ratio. Errors go to standard error with the file name; the exit status is then 1.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case png, png16, jpeg
    }

    @Argument(help: "DICOM file.") var file: String
    @Option(name: .long, help: "Frame number, from 1.") var frame: Int = 1
    @Option(name: .long, help: "Window as CENTER,WIDTH (LINEAR); add ,LINEAR_EXACT or ,SIGMOID for another function.")
    var window: String?
    @Option(name: .long, help: "Largest output size as WIDTHxHEIGHT; the image keeps its aspect ratio.") var size: String?
    @Option(name: .long, help: "Output format: png (8-bit), png16 (16-bit) or jpeg.") var format: Format = .png
    @Option(name: .long, help: "JPEG quality, 1 to 100.") var quality: Int = 90
    @Option(name: .shortAndLong, help: "Output file.") var output: String

    func run() throws {
        var options = RenderOptions(frame: frame - 1, bitDepth: format == .png16 ? 16 : 8)
        if let window {
            let parts = window.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count >= 2, let center = Double(parts[0]), let width = Double(parts[1]) else {
                throw ValidationError("--window wants CENTER,WIDTH, not \(window)")
            }
            let function = parts.count > 2 ? VOILUTFunction(rawValue: parts[2].uppercased()) : .linear
            guard let function else { throw ValidationError("unknown VOI LUT function \(parts[2])") }
            options.window = Window(center: center, width: width, function: function)
            guard options.window?.isValid == true else { throw ValidationError("window width \(width) is too small") }
        }
        if let size {
            let parts = size.lowercased().split(separator: "x")
            guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w > 0, h > 0 else {
                throw ValidationError("--size wants WIDTHxHEIGHT, not \(size)")
            }
            options.viewport = (w, h)
        }
        do {
            let dicom = try DICOMFile.read(contentsOf: file)
            let image = try Renderer.render(dataSet: dicom.dataSet, transferSyntax: dicom.transferSyntax, options: options)
            let bytes = format == .jpeg ? try JPEGEncoder.encode(image, quality: quality) : try PNGEncoder.encode(image)
            try Data(bytes).write(to: URL(fileURLWithPath: output))
        } catch let error as DICOMError {
            writeStandardError("atrium render: \(file): \(error)\n")
            throw ExitCode(1)
        } catch let error as ImagingError {
            writeStandardError("atrium render: \(file): \(error)\n")
            throw ExitCode(1)
        } catch let error as CocoaError {
            writeStandardError("atrium render: \(output): \(error.localizedDescription)\n")
            throw ExitCode(1)
        }
    }
}

struct Mask: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Black out rectangles (burned-in text) and write a new instance.",
        discussion: """
            The output has a new SOP Instance UID, Burned In Annotation NO, a Source Image Sequence pointing at the
            input, and the input's lossy history. It keeps the input's transfer syntax when that is uncompressed or
            lossless and writable (RLE, JPEG-LS Lossless, JPEG 2000 Lossless); otherwise it is explicit VR little endian.
            """
    )

    @Argument(help: "Input file.") var input: String
    @Argument(help: "Output file.") var output: String
    @Option(name: .long, help: "Rectangle X,Y,WIDTH,HEIGHT in pixels; repeat for several.") var rect: [String]
    @Option(name: .long, help: "Frame number (from 1) to mask; repeat for several; all frames when absent.") var frame: [Int] = []

    func run() throws {
        var regions: [MaskRegion] = []
        let frames = frame.isEmpty ? nil : Set(frame.map { $0 - 1 })
        for text in rect {
            let parts = text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 4, parts[2] > 0, parts[3] > 0 else { throw ValidationError("--rect wants X,Y,WIDTH,HEIGHT, not \(text)") }
            regions.append(MaskRegion(x: parts[0], y: parts[1], width: parts[2], height: parts[3], frames: frames))
        }
        guard !regions.isEmpty else { throw ValidationError("give at least one --rect") }
        do {
            let file = try DICOMFile.read(contentsOf: input)
            let pixels = try PixelData(file: file)
            if let bad = frame.first(where: { $0 < 1 || $0 > pixels.numberOfFrames }) {
                throw ImagingError.frameOutOfRange(index: bad - 1, numberOfFrames: pixels.numberOfFrames)
            }
            try PixelMasker.mask(file, regions: regions).write(to: output)
        } catch let error as DICOMError {
            writeStandardError("atrium mask: \(input): \(error)\n")
            throw ExitCode(1)
        } catch let error as ImagingError {
            writeStandardError("atrium mask: \(input): \(error)\n")
            throw ExitCode(1)
        }
    }
}
