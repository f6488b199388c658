import ArgumentParser
import DICOM
import Imaging

struct Transcode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rewrite a DICOM file in another transfer syntax (like dcmtk's dcmconv, dcmdjpeg and dcmcjpls).",
        discussion: """
            Any input Atrium decodes (native, RLE, JPEG baseline/extended/lossless, JPEG-LS, JPEG 2000) can be written
            uncompressed (implicit/explicit VR little endian, explicit VR big endian, deflated) or compressed as RLE
            Lossless, JPEG-LS Lossless, JPEG-LS near-lossless (--near, default 2) or JPEG 2000 Lossless, one
            fragment per frame with a Basic Offset Table. Decompressing a lossy file keeps its lossy history (Lossy
            Image Compression 01); near-lossless with NEAR above 0 makes a new instance (new SOP Instance UID, the
            input in the Source Image Sequence, lossy method and ratio recorded).
            Names accepted for --transfer-syntax: a UID, or implicit, explicit, big, deflated, rle, jpeg-ls,
            jpeg-ls-near, jpeg2000.
            """
    )

    @Argument(help: "Input file.") var input: String
    @Argument(help: "Output file.") var output: String
    @Option(
        name: [.customShort("t"), .long],
        help: "Target transfer syntax (UID or implicit|explicit|big|deflated|rle|jpeg-ls|jpeg-ls-near|jpeg2000).")
    var transferSyntax: String = "explicit"
    @Option(name: .long, help: "JPEG-LS near-lossless NEAR: the largest difference allowed per sample (0 is lossless).")
    var near: Int?

    func run() throws {
        let syntax: TransferSyntax
        switch transferSyntax {
        case "implicit": syntax = .implicitVRLittleEndian
        case "explicit": syntax = .explicitVRLittleEndian
        case "big": syntax = .explicitVRBigEndian
        case "deflated": syntax = .deflatedExplicitVRLittleEndian
        case "rle": syntax = .rleLossless
        case "jpeg-ls", "jpegls": syntax = .jpegLSLossless
        case "jpeg-ls-near", "jpegls-near": syntax = .jpegLSNearLossless
        case "jpeg2000", "j2k": syntax = .jpeg2000Lossless
        default:
            guard UID.isValid(transferSyntax) else { throw ValidationError("not a transfer syntax: \(transferSyntax)") }
            syntax = TransferSyntax(uid: transferSyntax)
        }
        if near != nil, syntax != .jpegLSNearLossless {
            throw ValidationError("--near applies to JPEG-LS near-lossless (-t jpeg-ls-near) only")
        }
        do {
            let file = try DICOMFile.read(contentsOf: input)
            try Transcoder.transcode(file, to: syntax, nearLossless: near ?? Transcoder.defaultNearLossless).write(to: output)
        } catch let error as DICOMError {
            writeStandardError("atrium transcode: \(input): \(error)\n")
            throw ExitCode(1)
        } catch let error as ImagingError {
            writeStandardError("atrium transcode: \(input): \(error)\n")
            throw ExitCode(1)
        }
    }
}
