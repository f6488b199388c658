import AtriumTesting
import DICOM
import Foundation
import Testing

/// 32-bit native Pixel Data written in Explicit VR Big Endian: each sample's four bytes reversed, whatever the VR.
@Suite("32-bit pixel data in explicit VR big endian")
struct BigEndianPixelDataTests {
    /// Values that tell a 4-byte swap from a 2-byte one (every byte differs) and cover the sign bit.
    static let values: [UInt32] = [0x1122_3344, 0x0102_0304, 0xFFFF_0000, 0x8000_0001, 0x0000_FFFF, 0xDEAD_BEEF]

    static func dataSet(vr: VR) -> DataSet {
        var ds = DataSet()
        ds.set(.sopClassUID, .UI, "1.2.840.10008.5.1.4.1.1.7")
        ds.set(.sopInstanceUID, .UI, "2.25.1234567890\(vr == .OW ? 1 : 2)")
        ds.set(.samplesPerPixel, .US, integers: [1])
        ds.set(.photometricInterpretation, .CS, "MONOCHROME2")
        ds.set(.rows, .US, integers: [2])
        ds.set(.columns, .US, integers: [3])
        ds.set(.bitsAllocated, .US, integers: [32])
        ds.set(.bitsStored, .US, integers: [32])
        ds.set(.highBit, .US, integers: [31])
        ds.set(.pixelRepresentation, .US, integers: [0])
        var bytes: [UInt8] = []
        for v in values { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
        ds[.pixelData] = DataElement(tag: .pixelData, vr: vr, bytes: bytes)
        return ds
    }

    @Test("pydicom and dcmdump read back the samples written big endian, for OW and OL", arguments: [VR.OW, VR.OL])
    func bigEndian32(vr: VR) throws {
        let directory = try Corpus.temporaryDirectory()
        let path = directory + "/be32-\(vr).dcm"
        let file = DICOMFile(dataSet: Self.dataSet(vr: vr), transferSyntax: .explicitVRLittleEndian)
        try file.write(to: path, transferSyntax: .explicitVRBigEndian)

        // The raw value bytes at the end of the file are each sample, most significant byte first.
        let written = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var expected: [UInt8] = []
        for v in Self.values { withUnsafeBytes(of: v.bigEndian) { expected.append(contentsOf: $0) } }
        #expect(Array(written.suffix(expected.count)) == expected)

        let script = """
            import sys, pydicom
            ds = pydicom.dcmread(sys.argv[1])
            print(ds.file_meta.TransferSyntaxUID)
            print(" ".join(str(int(v)) for v in ds.pixel_array.ravel()))
            """
        let run = try Subprocess.run("python3", ["-c", script, path])
        #expect(run.status == 0, "\(run.errorOutput)")
        let lines = run.output.split(separator: "\n")
        #expect(lines.first == "1.2.840.10008.1.2.2")
        #expect(lines.last.map(String.init) == Self.values.map(String.init).joined(separator: " "))

        // dcmtk parses the file; for OL it prints the same 32-bit values. (dcmtk takes big-endian OW strictly as
        // 16-bit words whatever Bits Allocated says, so its view of 32-bit OW samples is word-swapped: pydicom's
        // reading, which Atrium's reader shares, is the reference here.)
        let dump = try Subprocess.run("/usr/bin/dcmdump", ["+L", path])
        #expect(dump.status == 0, "\(dump.errorOutput)")
        #expect(!dump.errorOutput.contains("E:"), "\(dump.errorOutput)")
        if vr == .OL {
            let line = dump.output.split(separator: "\n").first { $0.hasPrefix("(7fe0,0010)") }
            let printed = line?.split(separator: " ", omittingEmptySubsequences: true).dropFirst(2).first
            #expect(printed.map(String.init) == Self.values.map(String.init).joined(separator: "\\"), "\(line ?? "")")
        }
    }

    @Test("A big-endian 32-bit file read by Atrium and written little endian keeps its samples")
    func bigEndianToLittle() throws {
        let directory = try Corpus.temporaryDirectory()
        let big = directory + "/be.dcm"
        let file = DICOMFile(dataSet: Self.dataSet(vr: .OW), transferSyntax: .explicitVRLittleEndian)
        try file.write(to: big, transferSyntax: .explicitVRBigEndian)
        let little = directory + "/le.dcm"
        try DICOMFile.read(contentsOf: big).write(to: little, transferSyntax: .explicitVRLittleEndian)
        let code = "import sys, pydicom; print(' '.join(str(int(v)) for v in pydicom.dcmread(sys.argv[1]).pixel_array.ravel()))"
        let run = try Subprocess.run("python3", ["-c", code, little])
        #expect(run.status == 0, "\(run.errorOutput)")
        #expect(run.output.trimmingCharacters(in: .whitespacesAndNewlines) == Self.values.map(String.init).joined(separator: " "))
    }
}
