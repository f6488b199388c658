// libFuzzer entry point for the PS3.15 de-identifier (Sources/Archive/Deidentification with the DICOM and Imaging
// sources in one module, swift-crypto linked uninstrumented), compiled by scripts/fuzz. Whatever data set the reader
// makes of the input is de-identified under the basic profile; from the outside: an output released without refusals
// holds neither the input's Patient Name nor its Patient ID (when they are real values), its UIDs are replaced, and it
// can be written and read back.
import Foundation

private let secret = DeidentificationSecret(bytes: Array(repeating: UInt8(7), count: 32))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDeidentifier(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let secret,
        let file = try? DICOMFile.read(
            bytes, options: ReadOptions(maximumDepth: 16, inflationLimits: InflationLimits(maximumBytes: 8 << 20)))
    else { return 0 }
    let options: [DeidentificationOptions] = [[], [.retainSafePrivate, .cleanGraphics], [.cleanPixelData, .retainUIDs]]
    let chosen = options[size % options.count]
    let result = Deidentifier(options: chosen, secret: secret).deidentify(file, pixelReview: size % 2 == 0 ? PixelReview(regions: []) : nil)
    guard result.isReleased else { return 0 }
    let output = result.file.dataSet
    for tag in [Tag.patientName, Tag.patientID] {
        let before = (file.dataSet.string(tag) ?? "").trimmingCharacters(in: .whitespaces)
        guard before.count >= 4, !before.hasPrefix("ANON") else { continue }
        let after = output.string(tag) ?? ""
        precondition(after.trimmingCharacters(in: .whitespaces) != before, "released with \(tag) still holding the input's value")
    }
    if !chosen.contains(.retainUIDs), let uid = file.dataSet.string(.sopInstanceUID), uid.count >= 8 {
        precondition(output.string(.sopInstanceUID) != uid, "released with the input's SOP Instance UID")
    }
    if let written = try? result.file.encoded() {
        _ = try? DICOMFile.read(written)
    }
    return 0
}
