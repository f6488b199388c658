import AtriumTesting
import DICOM
import Foundation
import Testing

/// Builds small streams by hand, so each deviation is exactly one.
private struct Bytes {
    var data: [UInt8] = []

    mutating func u16(_ v: UInt16) { data += [UInt8(v & 0xFF), UInt8(v >> 8)] }
    mutating func u32(_ v: UInt32) { for i in 0..<4 { data.append(UInt8((v >> (8 * UInt32(i))) & 0xFF)) } }

    /// An explicit VR little endian element with a 16-bit length.
    mutating func explicit(_ group: UInt16, _ element: UInt16, _ vr: String, _ value: [UInt8]) {
        u16(group)
        u16(element)
        data += Array(vr.utf8)
        u16(UInt16(value.count))
        data += value
    }

    /// An implicit VR little endian element.
    mutating func implicit(_ group: UInt16, _ element: UInt16, _ value: [UInt8]) {
        u16(group)
        u16(element)
        u32(UInt32(value.count))
        data += value
    }

    /// A Part 10 header: preamble, DICM and a meta group naming `syntax` (or none).
    static func part10(syntax: String?) -> Bytes {
        var meta = Bytes()
        meta.explicit(0x0002, 0x0001, "OB", [0, 0])
        meta.data.removeLast(4)
        meta.data += [0, 0]
        meta.u32(2)
        meta.data += [0, 1]
        if let syntax {
            var uid = Array(syntax.utf8)
            if uid.count % 2 == 1 { uid.append(0) }
            meta.explicit(0x0002, 0x0010, "UI", uid)
        }
        var out = Bytes(data: [UInt8](repeating: 0, count: 128) + Array("DICM".utf8))
        out.explicit(0x0002, 0x0000, "UL", [UInt8(meta.data.count & 0xFF), UInt8(meta.data.count >> 8), 0, 0])
        out.data += meta.data
        return out
    }
}

private func text(_ s: String) -> [UInt8] {
    var b = Array(s.utf8)
    if b.count % 2 == 1 { b.append(0x20) }
    return b
}

@Suite("Broken input gives the documented warning or a precise error")
struct BrokenInputTests {
    @Test("An odd value length is kept and reported")
    func oddLength() throws {
        var b = Bytes.part10(syntax: "1.2.840.10008.1.2.1")
        b.explicit(0x0010, 0x0010, "PN", Array("ABC".utf8))
        b.explicit(0x0010, 0x0020, "LO", text("ID1"))
        let file = try DICOMFile.read(b.data)
        #expect(file.dataSet.string(.patientName) == "ABC")
        #expect(file.dataSet.string(.patientID) == "ID1")
        let warning = try #require(file.warnings.first { $0.kind == .oddLength })
        #expect(warning.tag == .patientName)
        // Preamble and DICM, then (0002,0000) UL, (0002,0001) OB and (0002,0010) UI of 20 bytes.
        #expect(warning.offset == 132 + 12 + 14 + 28)
    }

    @Test("Bytes that are not a VR are read as implicit VR, as dcmtk does")
    func invalidVR() throws {
        var b = Bytes.part10(syntax: "1.2.840.10008.1.2.1")
        b.explicit(0x0008, 0x0060, "CS", text("CT"))
        b.implicit(0x0010, 0x0010, text("Li^Lei"))
        b.explicit(0x0010, 0x0020, "LO", text("P2"))
        let file = try DICOMFile.read(b.data)
        #expect(file.dataSet.string(.patientName) == "Li^Lei")
        #expect(file.dataSet[.patientName]?.vr == .PN)
        #expect(file.dataSet.string(.patientID) == "P2")
        #expect(file.warnings.contains { $0.kind == .invalidVR && $0.tag == .patientName })
    }

    @Test("A missing Transfer Syntax UID is guessed from the bytes and reported")
    func missingTransferSyntax() throws {
        var b = Bytes.part10(syntax: nil)
        b.implicit(0x0008, 0x0060, text("MR"))
        b.implicit(0x0010, 0x0010, text("Zhao^Yun"))
        let file = try DICOMFile.read(b.data)
        #expect(file.transferSyntax == .implicitVRLittleEndian)
        #expect(file.dataSet.string(.modality) == "MR")
        #expect(file.warnings.contains { $0.kind == .missingTransferSyntax })
    }

    @Test("A declared explicit syntax over implicit bytes is read as what the bytes are")
    func syntaxMismatch() throws {
        var b = Bytes.part10(syntax: "1.2.840.10008.1.2.1")
        b.implicit(0x0008, 0x0060, text("US"))
        b.implicit(0x0010, 0x0010, text("Sun^Li"))
        let file = try DICOMFile.read(b.data)
        #expect(file.dataSet.string(.patientName) == "Sun^Li")
        #expect(file.warnings.contains { $0.kind == .transferSyntaxMismatch })
    }

    @Test("A stream cut inside a value keeps what is there by default and fails in strict mode with the offset")
    func truncation() throws {
        var b = Bytes.part10(syntax: "1.2.840.10008.1.2.1")
        b.explicit(0x0010, 0x0010, "PN", text("Wu^Song"))
        let start = b.data.count
        b.u16(0x7FE0)
        b.u16(0x0010)
        b.data += Array("OW".utf8) + [0, 0]
        b.u32(1000)
        b.data += [UInt8](repeating: 7, count: 100)
        let lenient = try DICOMFile.read(b.data)
        #expect(lenient.dataSet[.pixelData]?.length == 100)
        #expect(lenient.warnings.contains { $0.kind == .truncatedValue && $0.tag == .pixelData })
        #expect(throws: DICOMError.truncated(offset: start, tag: .pixelData, needed: 1000, available: 100)) {
            _ = try DICOMFile.read(b.data, options: .strict)
        }
    }

    @Test("A sequence nested deeper than the limit is refused, not recursed into")
    func deepNesting() throws {
        var b = Bytes.part10(syntax: "1.2.840.10008.1.2")
        for _ in 0..<100 {
            b.u16(0x0040)
            b.u16(0xA730)
            b.u32(0xFFFF_FFFF)
            b.u16(0xFFFE)
            b.u16(0xE000)
            b.u32(0xFFFF_FFFF)
        }
        #expect {
            _ = try DICOMFile.read(b.data)
        } throws: { error in
            guard case .limitExceeded = error as? DICOMError else { return false }
            return true
        }
    }

    @Test("Text that is not DICOM is refused with a reason, and an empty stream too")
    func notDICOM() throws {
        #expect(throws: DICOMError.self) { _ = try DICOMFile.read(Array("hello, this is not DICOM at all".utf8), options: .strict) }
        #expect(throws: DICOMError.notDICOM(reason: "the stream is empty")) { _ = try DICOMFile.read([UInt8]()) }
    }

    @Test("A file that does not exist names itself in the error")
    func missingFile() {
        #expect(throws: DICOMError.io(path: "/nonexistent/x.dcm", reason: "No such file or directory")) {
            _ = try DICOMFile.read(contentsOf: "/nonexistent/x.dcm")
        }
    }

    @Test("Trailing zero padding after the dataset is ignored with a warning")
    func trailingPadding() throws {
        var b = Bytes.part10(syntax: "1.2.840.10008.1.2.1")
        b.explicit(0x0010, 0x0010, "PN", text("Ma^Chao"))
        b.data += [UInt8](repeating: 0, count: 64)
        let file = try DICOMFile.read(b.data)
        #expect(file.dataSet.count == 1)
        #expect(file.warnings.contains { $0.kind == .trailingBytes })
    }

    @Test(
        "Every truncation of a real file reads or fails cleanly, never crashes",
        arguments: ["CT_small.dcm", "MR_small_implicit.dcm", "JPEG2000.dcm", "image_dfl.dcm"])
    func everyTruncation(name: String) throws {
        let path = try Corpus.pydicomDataDirectory() + "/test_files/" + name
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 400)) {
            _ = try? DICOMFile.read(bytes[0..<cut], options: .strict)
            _ = try? DICOMFile.read(bytes[0..<cut])
        }
    }
}
