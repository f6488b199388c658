import AtriumTesting
import DICOM
import Foundation
import Testing

/// Files made by dcmtk for what pydicom's corpus lacks: every VR, four-deep sequences, a private block, Chinese text,
/// each transfer syntax (dcmconv) and each Chinese character set (dcmconv +C).
final class DCMTKCorpus: @unchecked Sendable {
    static let shared = DCMTKCorpus()
    private let lock = NSLock()
    private var made: Result<[String: String], Error>?

    /// Case name → file.
    func files() throws -> [String: String] {
        lock.lock()
        defer { lock.unlock() }
        if let made { return try made.get() }
        let result = Result { () throws -> [String: String] in
            let directory = try Corpus.temporaryDirectory("dcmtk-corpus")
            let source = "\(directory)/every-vr.dcm"
            let dump = Corpus.repositoryRoot + "/Tests/DICOMTests/Fixtures/every-vr.dump"
            let made = try Subprocess.run("/usr/bin/dump2dcm", ["+te", dump, source])
            guard made.status == 0 else { throw PeerError("dump2dcm failed: \(made.errorOutput)") }
            var out = ["every-vr explicit little": source]
            for (name, flag) in [("implicit", "+ti"), ("big endian", "+tb"), ("deflated", "+td")] {
                let path = "\(directory)/every-vr-\(flag).dcm"
                let run = try Subprocess.run("/usr/bin/dcmconv", [flag, source, path])
                guard run.status == 0 else { throw PeerError("dcmconv \(flag) failed: \(run.errorOutput)") }
                out["every-vr \(name)"] = path
            }
            for charset in ["GB18030", "GBK"] {
                let path = "\(directory)/every-vr-\(charset).dcm"
                let run = try Subprocess.run("/usr/bin/dcmconv", ["+C", charset, source, path])
                guard run.status == 0 else { throw PeerError("dcmconv +C \(charset) failed: \(run.errorOutput)") }
                out["every-vr \(charset)"] = path
            }
            return out
        }
        made = result
        return try result.get()
    }
}

@Suite("Files made with dcmtk for every VR, syntax and Chinese character set")
struct DCMTKCorpusTests {
    static let cases = [
        "every-vr explicit little", "every-vr implicit", "every-vr big endian", "every-vr deflated", "every-vr GB18030", "every-vr GBK",
    ]

    @Test("Atrium's DICOM JSON equals pydicom's", arguments: cases)
    func jsonMatchesPydicom(name: String) throws {
        let path = try #require(try DCMTKCorpus.shared.files()[name])
        let reference = try #require(try pydicomJSON([path])[path]?["json"], "pydicom could not read \(name)")
        let file = try DICOMFile.read(contentsOf: path)
        let ours = try JSONSerialization.jsonObject(with: Data(DICOMJSONEncoder().encode(file.dataSet)))
        let differences = jsonDifferences(reference, ours, trimmingStrings: true)
        #expect(differences.isEmpty, "\(name):\n\(differences.joined(separator: "\n"))")
    }

    @Test("Chinese text decodes to what the dump spelled, in every character set", arguments: cases)
    func chineseText(name: String) throws {
        let path = try #require(try DCMTKCorpus.shared.files()[name])
        let ds = try DICOMFile.read(contentsOf: path).dataSet
        // Expected values are the literal text of Fixtures/every-vr.dump, which dcmtk encoded.
        #expect(ds.string(.studyDescription) == "胸部 CT 平扫")
        #expect(ds.personName(.patientName)?.ideographic.formatted == "王^小东")
        #expect(ds.personName(.patientName)?.alphabetic.formatted == "Wang^XiaoDong")
        let deepest = ds.items(.contentSequence).first?.items(.contentSequence).first?.items(.contentSequence).first?
            .items(.contentSequence).first
        #expect(deepest?.string(.textValue) == "最深的一层 deepest")
    }

    @Test("Binary VRs read back the values the dump spelled", arguments: cases)
    func binaryValues(name: String) throws {
        let path = try #require(try DCMTKCorpus.shared.files()[name])
        let ds = try DICOMFile.read(contentsOf: path).dataSet
        #expect(ds.ints(Tag(0x0018, 0x6020)) == [-42])
        #expect(ds.ints(Tag(0x0018, 0x9219)) == [-7])
        #expect(ds.ints(Tag(0x0008, 0x0427)) == [4_000_000_000])
        #expect(ds.doubles(Tag(0x0008, 0x1163)) == [3.14159265358979, -2.5])
        #expect(ds.doubles(Tag(0x0008, 0x9459)) == [Double(Float(29.97))])
        #expect(ds[Tag(0x0008, 0x040C)]?.uint64Values() == [18_000_000_000_000_000_000])
        #expect(ds.ints(Tag(0x0072, 0x0082)) == [-9_000_000_000_000_000_000, 42])
        #expect(ds.tags(Tag(0x0014, 0x0202)) == [Tag(0x0018, 0x1063), Tag(0x0018, 0x1065)])
        #expect(ds.ints(Tag(0x0028, 0x1201)) == [0x0000, 0x1111, 0x2222, 0x3333])
        #expect(ds.doubles(Tag(0x003A, 0x032E)) == [1.0, -2.0])
        #expect(ds.ints(.samplesPerPixelUsed).isEmpty)
        // Implicit VR cannot say that an unknown private element is text: it reads as UN bytes (PS3.5 6.2.2).
        let privateText = Array("private text".utf8)
        #expect(ds[Tag(0x0029, 0x1001)]?.bytes?.array == privateText)
        #expect(ds.privateCreator(of: Tag(0x0029, 0x1001)) == "ATRIUM PRIVATE")
        #expect(ds.date(.studyDate) == DICOMDate(year: 2026, month: 11, day: 27))
        #expect(ds.time(.studyTime)?.microsecond == 123_456)
        #expect(ds.dateTime(Tag(0x0008, 0x0015))?.utcOffsetMinutes == 480)
        #expect(ds.age(.patientAge)?.value == 45)
        #expect(ds.strings(.retrieveAETitle) == ["ATRIUM", "PACS2"])
    }
}
