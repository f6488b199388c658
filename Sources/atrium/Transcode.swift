import ArgumentParser
import DICOM
import Imaging

struct Transcode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rewrite a DICOM file in another transfer syntax (like dcmtk's dcmconv, dcmdjpeg and dcmcjpls).",
        discussion: """
            Any input Atrium decodes (native, RLE, JPEG baseline/extended/lossless, JPEG-LS, JPEG 2000) can be written
            uncompressed (implicit/explicit VR little endian, explicit VR big endian, deflated) or compressed as RLE
            Lossless, JPEG-LS Lossless or JPEG 2000 Lossless, one fragment per frame with a Basic Offset Table.
            Decompressing a lossy file keeps its lossy history (Lossy Image Compression 01).
            Names accepted for --transfer-syntax: a UID, or implicit, explicit, big, deflated, rle, jpeg-ls, jpeg2000.
            """
    )

    @Argument(help: "Input file.") var input: String
    @Argument(help: "Output file.") var output: String
    @Option(
        name: [.customShort("t"), .long],
        help: "Target transfer syntax (UID or implicit|explicit|big|deflated|rle|jpeg-ls|jpeg2000).")
    var transferSyntax: String = "explicit"

    func run() throws {
        let syntax: TransferSyntax
        switch transferSyntax {
        case "implicit": syntax = .implicitVRLittleEndian
        case "explicit": syntax = .explicitVRLittleEndian
        case "big": syntax = .explicitVRBigEndian
        case "deflated": syntax = .deflatedExplicitVRLittleEndian
        case "rle": syntax = .rleLossless
        case "jpeg-ls", "jpegls": syntax = .jpegLSLossless
        case "jpeg2000", "j2k": syntax = .jpeg2000Lossless
        default:
            guard UID.isValid(transferSyntax) else { throw ValidationError("not a transfer syntax: \(transferSyntax)") }
            syntax = TransferSyntax(uid: transferSyntax)
        }
        do {
            let file = try DICOMFile.read(contentsOf: input)
            try Transcoder.transcode(file, to: syntax).write(to: output)
        } catch let error as DICOMError {
            writeStandardError("atrium transcode: \(input): \(error)\n")
            throw ExitCode(1)
        } catch let error as ImagingError {
            writeStandardError("atrium transcode: \(input): \(error)\n")
            throw ExitCode(1)
        }
    }
}
