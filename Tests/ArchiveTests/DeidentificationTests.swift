import AtriumTesting
import DICOM
import Foundation
import Imaging
import Testing

@testable import Archive

/// The PS3.15 engine without I/O: the table, the safety net, the pixel review gate, UIDs and dates.
@Suite("De-identification engine")
struct DeidentificationEngineTests {
    static let secret = DeidentificationSecret(bytes: Array("a test secret of thirty-two bytes".utf8))

    static func engine(_ options: DeidentificationOptions = []) throws -> Deidentifier {
        let secret = try #require(secret)
        return Deidentifier(options: options, secret: secret)
    }

    static func ct(name: String = "Wang^Wei", characterSet: SpecificCharacterSet = .default) -> DICOMFile {
        var ds = DataSet(characterSet: characterSet)
        if !characterSet.terms.isEmpty { ds.set(.specificCharacterSet, .CS, characterSet.terms) }
        ds.set(.sopClassUID, .UI, "1.2.840.10008.5.1.4.1.1.2")
        ds.set(.sopInstanceUID, .UI, "1.2.826.0.1.3680043.10.1191.5.1.1")
        ds.set(.studyInstanceUID, .UI, "1.2.826.0.1.3680043.10.1191.5.1")
        ds.set(.seriesInstanceUID, .UI, "1.2.826.0.1.3680043.10.1191.5.1.2")
        ds.set(.modality, .CS, "CT")
        ds.set(.patientName, .PN, name)
        ds.set(.patientID, .LO, "HOSP-778812")
        ds.set(.patientBirthDate, .DA, "19700412")
        ds.set(.studyDate, .DA, "20260105")
        ds.set(.accessionNumber, .SH, "ACC90871")
        ds.set(.institutionName, .LO, "Third People's Hospital")
        return DICOMFile(dataSet: ds)
    }

    @Test("The generated table holds every row of the data file it was made from")
    func tableRows() throws {
        let path = Corpus.repositoryRoot + "/scripts/data/ps3.15-table-e.1-1.tsv"
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(ConfidentialityProfile.rowCount == lines.count)
        #expect(ConfidentialityProfile.rowCount == ConfidentialityProfile.tableE11RowCount)
        // Spot checks against PS3.15 Table E.1-1 as printed: Patient's Name Z, Study Instance UID U (K with Retain
        // UIDs), Institution Name X/Z/D (K with Retain Institution Identity), Overlay Data in every 60xx group.
        #expect(ConfidentialityProfile.action(for: .patientName, options: []) == .empty)
        #expect(ConfidentialityProfile.action(for: .studyInstanceUID, options: []) == .replaceUID)
        #expect(ConfidentialityProfile.action(for: .studyInstanceUID, options: .retainUIDs) == .keep)
        #expect(ConfidentialityProfile.action(for: .institutionName, options: []) == .dummy)
        #expect(ConfidentialityProfile.action(for: .institutionName, options: .retainInstitutionIdentity) == .keep)
        #expect(ConfidentialityProfile.action(for: Tag(0x6002, 0x3000), options: []) == .remove)
        #expect(ConfidentialityProfile.action(for: Tag(0x0008, 0x0070), options: []) == nil)
    }

    @Test("Patient identity is replaced by the pseudonym and the markers of PS3.15 are written")
    func basicProfile() throws {
        let result = try Self.engine().deidentify(Self.ct())
        #expect(result.isReleased, "\(result.refusals)")
        let ds = result.file.dataSet
        #expect(ds.string(.patientName) == result.patient.name)
        #expect(ds.string(.patientID) == result.patient.id)
        #expect(ds.string(.patientBirthDate) == nil)
        #expect(ds.contains(.patientBirthDate))
        #expect(ds.string(.institutionName) != "Third People's Hospital")
        #expect(ds.string(.patientIdentityRemoved) == "YES")
        #expect(ds.items(.deidentificationMethodCodeSequence).first?.string(.codeValue) == "113100")
        #expect(ds.string(.studyInstanceUID)?.hasPrefix("2.25.") == true)
        #expect(result.changes.contains { $0.path == "(0010,0010)" && $0.action == .empty })
    }

    @Test("An identifying value copied into an attribute the table does not list stops the object")
    func safetyNet() throws {
        var file = Self.ct()
        file.dataSet.set(Tag(0x0008, 0x0070), .LO, "HOSP-778812")
        let result = try Self.engine().deidentify(file)
        #expect(!result.isReleased)
        let reasons = result.refusals.map(\.description).joined()
        #expect(reasons.contains("(0010,0020)"))
        #expect(reasons.contains("(0008,0070)"))
    }

    @Test("An institution name inside the kept Manufacturer (pydicom's MR_small: TOSHIBA, TOSHIBA_MEC) is no refusal; elsewhere it is")
    func institutionInManufacturer() throws {
        var file = Self.ct()
        file.dataSet.set(Tag(0x0008, 0x0080), .LO, "TOSHIBA")
        file.dataSet.set(Tag(0x0008, 0x0070), .LO, "TOSHIBA_MEC")
        let released = try Self.engine().deidentify(file)
        #expect(released.isReleased, "\(released.refusals)")
        #expect(released.file.dataSet.string(Tag(0x0008, 0x0070)) == "TOSHIBA_MEC")
        #expect(released.file.dataSet.string(Tag(0x0008, 0x0080)) != "TOSHIBA")
        // The same name in an attribute the table does not list (Series Description is cleaned, not listed here:
        // Position Reference Indicator is kept) still holds the object back.
        file.dataSet.set(Tag(0x0020, 0x1040), .LO, "TOSHIBA")
        let refused = try Self.engine().deidentify(file)
        #expect(!refused.isReleased)
        #expect(refused.refusals.map(\.description).joined().contains("(0008,0080)"))
    }

    @Test("A Chinese name in GB18030 found elsewhere in the output stops the object")
    func safetyNetChinese() throws {
        var file = Self.ct(name: "Li^Jianguo=李^建国=", characterSet: .gb18030)
        file.dataSet.set(Tag(0x0018, 0x1030), .LO, "李建国")
        let kept = try Self.engine().deidentify(file)
        #expect(kept.isReleased, "Protocol Name is removed by the Basic Profile: \(kept.refusals)")
        let cleaned = try Self.engine(.cleanDescriptors).deidentify(file)
        #expect(cleaned.isReleased, "\(cleaned.refusals)")
        #expect(cleaned.file.dataSet.string(Tag(0x0018, 0x1030)) == "*")
        // Short values ("CT" as a station name) are not cleaned out of descriptions: they are not searched either.
        file.dataSet.set(.stationName, .SH, "CT")
        file.dataSet.set(.seriesDescription, .LO, "CT 李建国 20260105")
        #expect(try Self.engine(.cleanDescriptors).deidentify(file).file.dataSet.string(.seriesDescription) == "CT * *")
        file.dataSet.set(Tag(0x0008, 0x0070), .LO, "李^建国")
        #expect(!(try Self.engine().deidentify(file).isReleased))
    }

    @Test("Ultrasound waits for a curator; a confirmed review releases it and masks are applied")
    func pixelReview() throws {
        var file = Self.ct()
        file.dataSet.set(.modality, .CS, "US")
        file.dataSet.set(.sopClassUID, .UI, "1.2.840.10008.5.1.4.1.1.6.1")
        file.dataSet.set(.rows, .US, integers: [4])
        file.dataSet.set(.columns, .US, integers: [4])
        file.dataSet.set(.bitsAllocated, .US, integers: [8])
        file.dataSet.set(.bitsStored, .US, integers: [8])
        file.dataSet.set(.highBit, .US, integers: [7])
        file.dataSet.set(.pixelRepresentation, .US, integers: [0])
        file.dataSet.set(.samplesPerPixel, .US, integers: [1])
        file.dataSet.set(.photometricInterpretation, .CS, "MONOCHROME2")
        file.dataSet[.pixelData] = DataElement(tag: .pixelData, vr: .OB, bytes: [UInt8](repeating: 200, count: 16))
        let engine = try Self.engine()
        let waiting = engine.deidentify(file)
        #expect(waiting.refusals.contains { if case .pixelReviewRequired = $0 { true } else { false } })
        let masked = engine.deidentify(file, pixelReview: PixelReview(regions: [MaskRegion(x: 0, y: 0, width: 2, height: 1)]))
        #expect(masked.isReleased, "\(masked.refusals)")
        let pixels = try #require(masked.file.dataSet[.pixelData]?.bytes).array
        #expect(pixels[0] == 0 && pixels[1] == 0 && pixels[2] == 200)
        #expect(masked.file.dataSet.string(.burnedInAnnotation) == "NO")
        #expect(masked.file.dataSet.strings(.deidentificationMethod).contains("Clean Pixel Data Option"))
        #expect(masked.file.dataSet.string(.sopInstanceUID) == waiting.file.dataSet.string(.sopInstanceUID))
    }

    @Test("A mask confirmed once applies to every instance of the series, not to another series")
    func seriesReview() throws {
        func us(_ instance: Int, series: String) -> DICOMFile {
            var file = Self.ct()
            file.dataSet.set(.modality, .CS, "US")
            file.dataSet.set(.sopInstanceUID, .UI, "1.2.826.0.1.3680043.10.1191.5.1.9.\(instance)")
            file.dataSet.set(.seriesInstanceUID, .UI, series)
            for (tag, value) in [(Tag.rows, 2), (.columns, 2), (.bitsAllocated, 8), (.bitsStored, 8), (.highBit, 7)] {
                file.dataSet.set(tag, .US, integers: [value])
            }
            file.dataSet.set(.pixelRepresentation, .US, integers: [0])
            file.dataSet.set(.samplesPerPixel, .US, integers: [1])
            file.dataSet.set(.photometricInterpretation, .CS, "MONOCHROME2")
            file.dataSet[.pixelData] = DataElement(tag: .pixelData, vr: .OB, bytes: [UInt8](repeating: 90, count: 4))
            return file
        }
        let reviews = ["1.2.3.100": PixelReview(regions: [MaskRegion(x: 0, y: 0, width: 1, height: 1)])]
        let engine = try Self.engine()
        for instance in 1...2 {
            let result = engine.deidentify(us(instance, series: "1.2.3.100"), seriesReviews: reviews)
            #expect(result.isReleased, "\(result.refusals)")
            #expect(result.file.dataSet[.pixelData]?.bytes?.array == [0, 90, 90, 90])
        }
        #expect(!engine.deidentify(us(3, series: "1.2.3.200"), seriesReviews: reviews).isReleased)
    }

    @Test("Modified dates move by one shift per patient; without the option dates are removed")
    func dates() throws {
        let shifted = try Self.engine(.retainLongitudinalModifiedDates).deidentify(Self.ct())
        let days = shifted.patient.dateShiftDays
        #expect(days < 0)
        // Independent calendar arithmetic: Foundation's Gregorian calendar.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        let original = try #require(calendar.date(from: DateComponents(year: 2026, month: 1, day: 5)))
        let moved = try #require(calendar.date(byAdding: .day, value: days, to: original))
        let c = calendar.dateComponents([.year, .month, .day], from: moved)
        let expected = String(format: "%04d%02d%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
        #expect(shifted.file.dataSet.string(.studyDate) == expected)
        #expect(shifted.file.dataSet.string(.longitudinalTemporalInformationModified) == "MODIFIED")
        let removed = try Self.engine().deidentify(Self.ct())
        #expect(removed.file.dataSet.string(.studyDate) == nil)
        #expect(removed.file.dataSet.string(.longitudinalTemporalInformationModified) == "REMOVED")
    }

    @Test("Replacement UIDs are 2.25 UUIDs, the same for the same input and secret, different for another secret")
    func uids() throws {
        let secret = try #require(Self.secret)
        let other = try #require(DeidentificationSecret(bytes: Array("another secret, also long enough".utf8)))
        let uid = "1.2.826.0.1.3680043.10.1191.5.1"
        let replacement = secret.replacementUID(for: uid)
        #expect(replacement == secret.replacementUID(for: uid))
        #expect(replacement != other.replacementUID(for: uid))
        #expect(UID.isValid(replacement) && replacement.count <= 64)
        // The decimal is a version 8, variant 10 UUID (RFC 9562): check its bits from the number itself.
        let digits = try #require(UInt128(replacement.dropFirst(5)))
        #expect((digits >> 76) & 0xF == 8)
        #expect((digits >> 62) & 0x3 == 2)
    }

    @Test("Private attributes go unless Retain Safe Private keeps one on the safe list")
    func privateAttributes() throws {
        var file = Self.ct()
        file.dataSet.set(Tag(0x0019, 0x0010), .LO, "SIEMENS MR HEADER")
        file.dataSet.set(Tag(0x0019, 0x100C), .IS, "1000")
        file.dataSet.set(Tag(0x0019, 0x1099), .LO, "HOSP-778812")
        let removed = try Self.engine().deidentify(file).file.dataSet
        #expect(!removed.contains(Tag(0x0019, 0x100C)) && !removed.contains(Tag(0x0019, 0x0010)))
        let kept = try Self.engine(.retainSafePrivate).deidentify(file)
        #expect(kept.isReleased, "\(kept.refusals)")
        #expect(kept.file.dataSet.string(Tag(0x0019, 0x100C)) == "1000")
        #expect(!kept.file.dataSet.contains(Tag(0x0019, 0x1099)))
    }
}

/// `atrium anonymize` end to end, checked from outside with pydicom and dciodvfy (Scripts/deid_check.py).
@Suite("atrium anonymize", .serialized)
struct DeidentificationCommandTests {
    static func check(_ arguments: [String]) throws -> String {
        let result = try Subprocess.run("python3", [Corpus.script("ArchiveTests", "deid_check.py")] + arguments)
        guard result.status == 0 else {
            throw PeerError(
                "deid_check.py \(arguments.first ?? "") failed:\n\(result.output.suffix(4000))\n\(result.errorOutput.suffix(2000))")
        }
        return result.output
    }

    static func secretFile() throws -> String {
        let path = try Corpus.temporaryDirectory("deid-secret") + "/secret"
        try Data("the secret of the command tests!".utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func requireDciodvfy() throws {
        guard (try? Subprocess.resolve("dciodvfy")) != nil else {
            throw PeerError("dciodvfy is missing: apt-get install dicom3tools (scripts/install-deps)")
        }
    }

    @Test("pydicom's bundled files come out with no identifying value, the markers set, and no new dciodvfy error")
    func pydicomCorpus() throws {
        try Self.requireDciodvfy()
        let files = try Corpus.pydicomFiles()
        let work = try Corpus.temporaryDirectory("deid-corpus")
        let output = try Self.check(["corpus", try AtriumExecutable.path(), try Self.secretFile(), work] + files)
        let report = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        let released = report?["released"] as? Int ?? 0
        let refused = report?["refused"] as? [String: String] ?? [:]
        // Every file not released said why (checked by the script); most files are released.
        #expect(released >= files.count * 3 / 4, "released \(released) of \(files.count); refused: \(refused)")
    }

    @Test("Studies with Chinese names in GB18030, GBK, ISO 2022 IR 58 and UTF-8 leak nothing and keep references")
    func chineseStudies() throws {
        try Self.requireDciodvfy()
        let input = try Corpus.temporaryDirectory("deid-chinese")
        _ = try Self.check(["chinese", input])
        let secret = try Self.secretFile()
        let atrium = try AtriumExecutable.path()
        for extra in [[], ["--retain-modified-dates", "--clean-descriptors", "--clean-structured-content", "--clean-graphics"]] {
            let output = try Corpus.temporaryDirectory("deid-chinese-out")
            let text = try Self.check(["study", atrium, secret, input, output, "--burned-in-reviewed"] + extra)
            let report = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            #expect(report?["outputs"] as? Int == 16)
            #expect((report?["references"] as? Int ?? 0) >= 16)
        }
    }

    @Test("The same study exported twice gives the same UIDs; two studies never share one")
    func determinism() throws {
        let input = try Corpus.temporaryDirectory("deid-determinism")
        _ = try Self.check(["chinese", input])
        let secret = try Self.secretFile()
        let atrium = try AtriumExecutable.path()
        var runs: [[String]] = []
        for _ in 0..<2 {
            let output = try Corpus.temporaryDirectory("deid-determinism-out")
            let text = try Self.check(["study", atrium, secret, input, output, "--burned-in-reviewed"])
            let report = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            runs.append(report?["uids"] as? [String] ?? [])
        }
        #expect(!runs[0].isEmpty && runs[0] == runs[1])
        var perStudy: [Set<String>] = []
        for study in 0..<4 {
            let output = try Corpus.temporaryDirectory("deid-determinism-study")
            let text = try Self.check(["study", atrium, secret, input + "/study\(study)", output, "--burned-in-reviewed"])
            let report = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            perStudy.append(Set(report?["uids"] as? [String] ?? []))
        }
        for a in 0..<4 {
            for b in (a + 1)..<4 { #expect(perStudy[a].isDisjoint(with: perStudy[b]), "studies \(a) and \(b) share UIDs") }
        }
    }

    @Test("Each option changes exactly the attributes its column of Table E.1-1 names")
    func optionsChangeTheirColumn() throws {
        let work = try Corpus.temporaryDirectory("deid-options")
        _ = try Self.check([
            "options", try AtriumExecutable.path(), try Self.secretFile(), Corpus.repositoryRoot + "/scripts/data/ps3.15-table-e.1-1.tsv",
            work,
        ])
    }

    @Test("Objects that cannot be de-identified make the exit status non-zero, with the reason per file")
    func refusalsAreReported() throws {
        let input = try Corpus.temporaryDirectory("deid-refuse")
        let secret = try Self.secretFile()
        // An ultrasound without review, and a file that is not DICOM.
        let file = DeidentificationEngineTests.ct()
        var us = file
        us.dataSet.set(.modality, .CS, "US")
        us.dataSet[.pixelData] = DataElement(tag: .pixelData, vr: .OB, bytes: [UInt8](repeating: 1, count: 16))
        try file.write(to: input + "/ct.dcm")
        try us.write(to: input + "/us.dcm")
        try Data("not dicom".utf8).write(to: URL(fileURLWithPath: input + "/notes.txt"))
        let output = try Corpus.temporaryDirectory("deid-refuse-out")
        let result = try Subprocess.run(try AtriumExecutable.path(), ["anonymize", input, output, "--secret-file", secret])
        #expect(result.status != 0)
        #expect(result.errorOutput.contains("us.dcm: not released: burned-in text is likely"))
        #expect(result.errorOutput.contains("notes.txt: not released: not readable as DICOM"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: output).count == 1)
    }
}
