// libFuzzer entry point for the DICOM reader, compiled together with the DICOM module's sources by scripts/fuzz.
// Every input is read leniently and strictly, and whatever is read is encoded to JSON, dumped and rewritten, so
// that the paths a hostile file can reach run under AddressSanitizer.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDICOMReader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    _ = try? DICOMFile.read(bytes, options: .strict)
    guard let file = try? DICOMFile.read(bytes, options: ReadOptions(maximumDepth: 16)) else { return 0 }
    _ = DICOMJSONEncoder().encode(file.dataSet)
    var text = ""
    DumpFormatter().format(file.dataSet, level: 0, into: &text)
    if let rewritten = try? file.encoded(transferSyntax: file.dataSet[.pixelData]?.encapsulated == nil ? .explicitVRLittleEndian : nil) {
        _ = try? DICOMFile.read(rewritten)
    }
    for element in file.dataSet.elements {
        _ = file.dataSet.strings(element.tag)
        _ = file.dataSet.doubles(element.tag)
        _ = file.dataSet.personName(element.tag)
        _ = file.dataSet.dateTime(element.tag)
        if let pixels = element.encapsulated {
            _ = pixels.frame(0, numberOfFrames: file.dataSet.int(.numberOfFrames) ?? 1)
        }
    }
    return 0
}
