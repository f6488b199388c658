import DICOM
import Testing

/// docs/reliability.md, "Hostile input": names inside zip archives and DICOMDIR media are checked before anything is
/// read for them. The expected answers are written out here, one per way of climbing.
@Suite("Hostile paths: zip entry names and DICOMDIR references that climb out are refused with the way they climb")
struct HostilePathTests {
    @Test(
        "A zip entry name that is absolute, climbs, uses backslashes, NUL or percent-encoding is refused; ordinary names pass",
        arguments: [
            ("../../etc/passwd", "a .. component"), ("/etc/passwd", "an absolute path"), ("C:/Windows/x.dcm", "a drive letter"),
            ("..\\..\\x.dcm", "a backslash"), ("scan/../../x.dcm", "a .. component"), ("%2e%2e/%2e%2e/x.dcm", "percent-encoded %2e"),
            ("scan%2F..%2Fx", "percent-encoded %2f"), ("a%5cb", "percent-encoded %5c"), ("%252e%252e/x", "percent-encoded %25"),
            ("x\u{0}.dcm", "a NUL byte"), ("", "an empty name"), ("..", "a .. component"),
        ])
    func climbingNamesAreRefused(name: String, expected: String) {
        let problem = ZipEntry.pathProblem(name)
        #expect(problem?.contains(expected) == true, "\(name): \(problem ?? "accepted")")
    }

    @Test(
        "Names a real study archive holds are accepted",
        arguments: ["study/ct.dcm", "DICOM/PA000001/ST000001/SE000001/IM000001", "a..b/c.dcm", "scan/.hidden", "中文/图像 1.dcm", "IM_0001"])
    func ordinaryNamesPass(name: String) {
        #expect(ZipEntry.pathProblem(name) == nil, "\(name)")
    }

    @Test("A DICOMDIR reference is accepted only as plain names; each climbing one is refused with its reason")
    func dicomdirReferences() {
        var dataSet = DataSet()
        let references: [[String]] = [
            ["DICOM", "IM0001"], ["..", "outside"], ["/abs", "x"], ["%2E%2E", "x"], ["SUB/../../x"], ["A B"], ["."], ["im_01.dcm"],
        ]
        dataSet.set(
            .directoryRecordSequence,
            items: references.map { components in
                var record = DataSet()
                record.set(.directoryRecordType, .CS, "IMAGE")
                record.set(.referencedFileID, .CS, components)
                return record
            })
        let read = DICOMDIRReferences.references(in: dataSet)
        #expect(read.map(\.components) == references)
        #expect(read.map(\.relativePath) == ["DICOM/IM0001", nil, nil, nil, nil, nil, nil, "im_01.dcm"])
        #expect(read[1].problem?.contains("climbs out of the medium") == true)
        #expect(read[2].problem?.contains("an absolute path") == true)
        #expect(read[3].problem?.contains("percent-encoded") == true)
        #expect(read[4].problem?.contains("a .. component") == true)
        #expect(read[5].problem?.contains("PS3.10 8.2") == true)
    }
}
