import AtriumTesting
import DICOM
import Foundation
import Testing

@Suite("Typed values, UIDs and the dictionary")
struct ValueTests {
    @Test("Dates in the current and the pre-1993 form (PS3.5 6.2 DA)")
    func dates() {
        #expect(DICOMDate("19930822") == DICOMDate(year: 1993, month: 8, day: 22))
        #expect(DICOMDate("1993.08.22") == DICOMDate(year: 1993, month: 8, day: 22))
        #expect(DICOMDate("19931322") == nil)
        #expect(DICOMDate("1993082") == nil)
    }

    @Test("Times with partial components and fractions (PS3.5 6.2 TM examples)")
    func times() throws {
        let t = try #require(DICOMTime("070907.0705"))
        #expect(t.hour == 7 && t.minute == 9 && t.second == 7 && t.microsecond == 70_500)
        #expect(DICOMTime("1010")?.minute == 10)
        #expect(DICOMTime("1010")?.second == nil)
        #expect(DICOMTime("10")?.hour == 10)
        #expect(DICOMTime("07:09:07")?.second == 7)
        #expect(DICOMTime("256000") == nil)
        #expect(DICOMTime("070907.0705")?.description == "070907.0705")
    }

    @Test("Date-times with offsets (PS3.5 6.2 DT)")
    func dateTimes() throws {
        let dt = try #require(DICOMDateTime("20260102030405.123456-0130"))
        #expect(dt.year == 2026 && dt.month == 1 && dt.day == 2)
        #expect(dt.time?.hour == 3 && dt.time?.microsecond == 123_456)
        #expect(dt.utcOffsetMinutes == -90)
        #expect(DICOMDateTime("2026")?.month == nil)
        #expect(DICOMDateTime("202613") == nil)
    }

    @Test("Person names keep three component groups (PS3.5 6.2.1.2 example)")
    func personNames() {
        let name = PersonName("Yamada^Tarou=山田^太郎=やまだ^たろう")
        #expect(name.alphabetic.familyName == "Yamada")
        #expect(name.ideographic.givenName == "太郎")
        #expect(name.phonetic.familyName == "やまだ")
        #expect(PersonName("Wang^Xiaodong=王^小东").description == "Wang^Xiaodong=王^小东")
        #expect(PersonName("Adams^John Robert Quincy^^Rev.^B.A. M.Div.").alphabetic.nameSuffix == "B.A. M.Div.")
    }

    @Test("Age strings (PS3.5 6.2 AS)")
    func ages() {
        #expect(AgeString("018M")?.value == 18)
        #expect(AgeString("018M")?.unit == .months)
        #expect(AgeString("18M") == nil)
        #expect(AgeString("018X") == nil)
    }

    @Test("UIDs: validation by the rules of PS3.5 9.1, and generated UIDs are valid and distinct")
    func uids() {
        #expect(UID.isValid("1.2.840.10008.1.2.1"))
        #expect(!UID.isValid("1.2.840.010008"))
        #expect(!UID.isValid("1..2"))
        #expect(!UID.isValid("1.2."))
        #expect(!UID.isValid(String(repeating: "1", count: 65)))
        let a = UID.generate()
        let b = UID.generate(root: "1.2.826.0.1.3680043.10.1234")
        #expect(a.hasPrefix("2.25.") && UID.isValid(a) && a.count <= 64)
        #expect(b.hasPrefix("1.2.826.0.1.3680043.10.1234.") && UID.isValid(b) && b.count <= 64)
        #expect(Set((0..<1000).map { _ in UID.generate() }).count == 1000)
    }

    @Test("A UUID's 2.25 UID is its 128-bit value in decimal, as Python's uuid computes it")
    func uuidUID() throws {
        let uuid = try #require(UUID(uuidString: "F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6"))
        let python = try Subprocess.run(
            "python3", ["-c", "import uuid; print('2.25.%d' % uuid.UUID('f81d4fae-7dec-11d0-a765-00a0c91e6bf6').int)"])
        #expect(UID.from(uuid: uuid) == python.output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test("The dictionary agrees with pydicom's for every public tag")
    func dictionary() throws {
        let script = """
            import json
            from pydicom._dicom_dict import DicomDictionary
            print(json.dumps({'%08X' % t: [v[0], v[1], v[4], bool(v[3])] for t, v in DicomDictionary.items()}))
            """
        let run = try Subprocess.run("python3", ["-c", script])
        let table = try #require(try JSONSerialization.jsonObject(with: run.standardOutput) as? [String: [Any]])
        #expect(table.count > 5000)
        var mismatches: [String] = []
        for (key, value) in table {
            guard let tag = Tag(hexString: key), let entry = DataDictionary.entry(for: tag) else {
                mismatches.append("\(key) missing")
                continue
            }
            let vr = (value[0] as? String ?? "").split(separator: " ").first.map(String.init) ?? ""
            if entry.vr.description != vr && !(vr == "NONE") { mismatches.append("\(key) VR \(entry.vr) vs \(vr)") }
            if entry.keyword != value[2] as? String { mismatches.append("\(key) keyword") }
            if entry.isRetired != value[3] as? Bool { mismatches.append("\(key) retired") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
        #expect(DataDictionary.entry(for: Tag(0x6002, 0x3000))?.keyword == "OverlayData")
        #expect(DataDictionary.tag(forKeyword: "PatientName") == .patientName)
    }

    @Test("Keyword access reads like the standard")
    func keywordAccess() {
        var ds = DataSet()
        ds.set(.patientName, .PN, "Li^Si")
        ds.set(.rows, .US, integers: [512])
        #expect(ds.PatientName == "Li^Si")
        #expect(ds.Rows == "512")
        #expect(ds.NotAKeyword == nil)
    }
}

@Suite("Typed access reports malformed values with the tag and the text")
struct TypedAccessTests {
    @Test("A malformed date, integer string or UID is an error naming the tag; absent is nil")
    func malformedValues() throws {
        var ds = DataSet()
        ds.set(.studyDate, .DA, "2026-11-27")
        ds.set(.seriesNumber, .IS, ["1", "2x"])
        ds.set(.studyInstanceUID, .UI, "1.2.03")
        ds.set(.sliceThickness, .DS, "1.25")
        #expect(throws: DICOMError.invalidValue(tag: .studyDate, vr: .DA, reason: "value 1 \"2026-11-27\" is not YYYYMMDD (DA)")) {
            _ = try ds.value(.studyDate, as: DICOMDate.self)
        }
        #expect(throws: DICOMError.invalidValue(tag: .seriesNumber, vr: .IS, reason: "value 2 \"2x\" is not an integer string (IS)")) {
            _ = try ds.values(.seriesNumber, as: Int.self)
        }
        #expect(throws: DICOMError.self) { _ = try ds.uid(.studyInstanceUID) }
        #expect(try ds.value(.sliceThickness, as: Double.self) == 1.25)
        #expect(try ds.value(.seriesDate, as: DICOMDate.self) == nil)
    }
}
