import AtriumTesting
import DICOM
import Foundation
import Testing

/// One Person Name value of a file Scripts/person_name_display.py wrote, with how a Chinese and an English reader read
/// it (computed there from pydicom's PersonName components).
private struct DisplayedName: Decodable {
    let path: String
    let keyword: String
    let chinese: String
    let english: String
}

@Suite("Person names as people read them")
struct PersonNameDisplayTests {
    @Test("Names in GB18030, ISO 2022 IR 58 and UTF-8 read as pydicom's components say, never with ^ or =")
    func namesInThreeCharacterSets() async throws {
        let directory = try Corpus.temporaryDirectory("atrium-person-names")
        let run = try await Subprocess.runDetached("python3", [Corpus.script("DICOMTests", "person_name_display.py"), directory])
        guard run.status == 0 else {
            throw PeerError("person_name_display.py failed (pip install pydicom; apt-get install dcmtk): \(run.errorOutput)")
        }
        let cases = try JSONDecoder().decode([DisplayedName].self, from: run.standardOutput)
        #expect(cases.count == 9)
        #expect(Set(cases.map(\.path)).count == 3)
        let tags: [String: DICOM.Tag] = [
            "PatientName": .patientName, "ReferringPhysicianName": .referringPhysicianName,
            "PerformingPhysicianName": .performingPhysicianName,
        ]
        for expected in cases {
            let file = try DICOMFile.read(contentsOf: expected.path)
            let tag = try #require(tags[expected.keyword])
            let name = try #require(file.dataSet.personName(tag), "\(expected.keyword) in \(expected.path)")
            #expect(name.displayed(in: .chinese) == expected.chinese, "\(expected.keyword) in \(expected.path)")
            #expect(name.displayed(in: .english) == expected.english, "\(expected.keyword) in \(expected.path)")
            for shown in [name.displayed(in: .chinese), name.displayed(in: .english)] {
                #expect(!shown.contains("^") && !shown.contains("=") && !shown.isEmpty)
            }
        }
    }

    @Test("An empty name reads as nothing; a name of one component reads as that component")
    func edges() {
        #expect(PersonName("").displayed(in: .chinese).isEmpty)
        #expect(PersonName("^^^^=^^^^").displayed(in: .english).isEmpty)
        #expect(PersonName("=王").displayed(in: .english) == "王")
        #expect(PersonName("  Smith  ^  John ").displayed(in: .english) == "Smith, John")
    }
}
