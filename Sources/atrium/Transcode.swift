import ArgumentParser
import DICOM

struct Transcode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rewrite a DICOM file in another transfer syntax (like dcmtk's dcmconv).",
        discussion: """
            Uncompressed syntaxes (implicit/explicit VR little endian, explicit VR big endian, deflated) are written
            from any uncompressed input. Compressed files can be rewritten in their own syntax; decompressing and
            compressing arrive with the Imaging module.
            Names accepted for --transfer-syntax: a UID, or implicit, explicit, big, deflated.
            """
    )

    @Argument(help: "Input file.") var input: String
    @Argument(help: "Output file.") var output: String
    @Option(name: [.customShort("t"), .long], help: "Target transfer syntax (UID or implicit|explicit|big|deflated).")
    var transferSyntax: String = "explicit"

    func run() throws {
        let syntax: TransferSyntax
        switch transferSyntax {
        case "implicit": syntax = .implicitVRLittleEndian
        case "explicit": syntax = .explicitVRLittleEndian
        case "big": syntax = .explicitVRBigEndian
        case "deflated": syntax = .deflatedExplicitVRLittleEndian
        default:
            guard UID.isValid(transferSyntax) else { throw ValidationError("not a transfer syntax: \(transferSyntax)") }
            syntax = TransferSyntax(uid: transferSyntax)
        }
        do {
            let file = try DICOMFile.read(contentsOf: input)
            try file.write(to: output, transferSyntax: syntax)
        } catch let error as DICOMError {
            writeStandardError("atrium transcode: \(input): \(error)\n")
            throw ExitCode(1)
        }
    }
}
