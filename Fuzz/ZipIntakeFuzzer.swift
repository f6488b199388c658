// libFuzzer entry point for the zip intake (ZipArchive over BoundedInflater), compiled together with the DICOM module's
// sources by scripts/fuzz. Every entry of every input is extracted under small caps, and the caps are checked from the
// outside: no entry may hand over more bytes than it declares or than the per-entry cap, nor the archive more than its
// cap, whatever the central directory claims. What comes out is read as DICOM, as `atrium import` would.

private let limits = ZipLimits(
    maximumEntryBytes: 8 << 20, maximumArchiveBytes: 32 << 20, maximumRatio: 200, ratioGraceBytes: 1 << 20, maximumEntries: 4096)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzZipIntake(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let archive = try? ZipArchive(source: ZipBytesSource(bytes), limits: limits) else { return 0 }
    var archiveTotal = 0
    for entry in archive.entries {
        var entryTotal = 0
        var output: [UInt8] = []
        let completed: Bool
        do {
            try archive.extract(entry) { chunk in
                entryTotal += chunk.count
                archiveTotal += chunk.count
                if output.count < 1 << 20 { output.append(contentsOf: chunk.prefix((1 << 20) - output.count)) }
            }
            completed = true
        } catch {
            completed = false
        }
        precondition(entryTotal <= limits.maximumEntryBytes, "an entry passed the per-entry cap")
        precondition(entryTotal <= entry.declaredBytes, "an entry handed over more than it declares")
        precondition(archiveTotal <= limits.maximumArchiveBytes, "the archive passed its cap")
        precondition(archiveTotal == archive.inflatedBytes, "the archive's count differs from the bytes handed over")
        if completed {
            precondition(entryTotal == entry.declaredBytes, "a completed entry differs from its declared size")
            _ = try? DICOMFile.read(output, options: ReadOptions(maximumDepth: 16, inflationLimits: InflationLimits(maximumBytes: 8 << 20)))
        }
    }
    // The same bytes as a deflated stream, as the deflated transfer syntax and Content-Encoding bodies are read.
    let inflationLimits = InflationLimits(maximumBytes: 4 << 20, maximumRatio: 200, ratioGraceBytes: 1 << 20)
    if let inflated = try? bytes.withUnsafeBytes({ try BoundedInflater.inflate($0, format: .zlibOrGzip, limits: inflationLimits) }) {
        precondition(inflated.count <= inflationLimits.maximumBytes, "an inflated stream passed its cap")
    }
    return 0
}
