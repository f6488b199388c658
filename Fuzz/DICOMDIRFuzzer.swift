// libFuzzer entry point for DICOMDIR intake (DICOMDIRReferences over DICOMFile.read, and the zip entry name check),
// compiled with the DICOM module's sources by scripts/fuzz. The input is read as a DICOMDIR, as `atrium import DICOMDIR`
// reads one; every reference the reader accepts must be a relative path of plain names that cannot leave the medium,
// and every refused one must say why. The same bytes are checked as a zip entry name.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDICOMDIR(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    checkName(String(decoding: bytes.prefix(512), as: UTF8.self))
    guard
        let file = try? DICOMFile.read(
            bytes, options: ReadOptions(stopBefore: .pixelData, maximumDepth: 16, inflationLimits: InflationLimits(maximumBytes: 8 << 20)))
    else { return 0 }
    for reference in DICOMDIRReferences.references(in: file.dataSet) {
        guard let path = reference.relativePath else {
            precondition(reference.problem?.isEmpty == false, "a refused reference without a reason")
            continue
        }
        precondition(!path.hasPrefix("/") && !path.contains("\\") && !path.contains("%"), "an accepted reference is not relative: \(path)")
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            precondition(!component.isEmpty && component != "." && component != "..", "an accepted reference climbs: \(path)")
        }
    }
    return 0
}

/// A zip entry name ZipEntry.pathProblem accepts is relative and never climbs, however it is decoded once more.
private func checkName(_ name: String) {
    guard ZipEntry.pathProblem(name) == nil else { return }
    precondition(!name.isEmpty && !name.hasPrefix("/") && !name.contains("\\") && !name.utf8.contains(0), "accepted: \(name)")
    precondition(!name.split(separator: "/", omittingEmptySubsequences: false).contains(".."), "accepted a climbing name: \(name)")
    let decoded = name.replacingPercentEscapesForCheck()
    precondition(!decoded.split(separator: "/", omittingEmptySubsequences: false).contains(".."), "accepted an encoded climb: \(name)")
}

extension String {
    /// Decodes %XX escapes once (without Foundation), as a later consumer of the name might.
    fileprivate func replacingPercentEscapesForCheck() -> String {
        var out: [UInt8] = []
        let utf8 = Array(self.utf8)
        var i = 0
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x41...0x46: c - 0x41 + 10
            case 0x61...0x66: c - 0x61 + 10
            default: nil
            }
        }
        while i < utf8.count {
            if utf8[i] == 0x25, i + 2 < utf8.count, let a = hex(utf8[i + 1]), let b = hex(utf8[i + 2]) {
                out.append(a << 4 | b)
                i += 3
            } else {
                out.append(utf8[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
