import Archive
import AtriumTesting
import DICOM
import Foundation
import Testing

/// Queries run against Atrium's engine and against dcmtk's dcmqrscp loaded with the same files; the sets of
/// matching entities must agree.
private let comparedQueries: [(model: QueryModel, keys: [String], unique: DICOM.Tag)] = [
    (.studyRoot, ["0008,0052=STUDY", "PatientName=Wang*"], .studyInstanceUID),
    (.studyRoot, ["0008,0052=STUDY", "PatientName=Smith*"], .studyInstanceUID),
    (.studyRoot, ["0008,0052=STUDY", "PatientName=Smith^John"], .studyInstanceUID),
    (.studyRoot, ["0008,0052=STUDY", "PatientName=?oe^Jane"], .studyInstanceUID),
    (.studyRoot, ["0008,0052=STUDY", "PatientName=*Bri*"], .studyInstanceUID),
    (.studyRoot, ["0008,0052=STUDY", "StudyDate=20260101-"], .studyInstanceUID),
    (.studyRoot, ["0008,0052=STUDY", "StudyDate=-20251231"], .studyInstanceUID),
    (.studyRoot, ["0008,0052=STUDY", "StudyDate=20260101-20260331"], .studyInstanceUID),
    (.studyRoot, ["0008,0052=STUDY", "StudyDate=20260211"], .studyInstanceUID),
    (.studyRoot, ["0008,0052=STUDY", "StudyTime=120000-"], .studyInstanceUID),
    (.studyRoot, ["0008,0052=STUDY", "StudyTime=-093000"], .studyInstanceUID),
    (.studyRoot, ["0008,0052=STUDY", "AccessionNumber=ACC00*"], .studyInstanceUID),
    (.studyRoot, ["0008,0052=STUDY", "AccessionNumber=ACC01?"], .studyInstanceUID),
    (
        .studyRoot, ["0008,0052=STUDY", "StudyInstanceUID=1.2.826.0.1.3680043.10.1191.1.1\\1.2.826.0.1.3680043.10.1191.1.3"],
        .studyInstanceUID
    ),
    (.studyRoot, ["0008,0052=STUDY", "PatientID=P004"], .studyInstanceUID),
    (.studyRoot, ["0008,0052=STUDY", "PatientSex=F", "StudyDate=20260101-"], .studyInstanceUID),
    (.studyRoot, ["0008,0052=STUDY", "ReferringPhysicianName=Chen*"], .studyInstanceUID),
    (.studyRoot, ["0008,0052=STUDY", "StudyDescription=CT*"], .studyInstanceUID),
    (.studyRoot, ["0008,0052=STUDY", "StudyDescription=*"], .studyInstanceUID),
    (.studyRoot, ["0008,0052=STUDY", "PatientBirthDate=19700101-19891231"], .studyInstanceUID),
    (.studyRoot, ["0008,0052=SERIES", "StudyInstanceUID=1.2.826.0.1.3680043.10.1191.1.1", "Modality=CT"], .seriesInstanceUID),
    (.studyRoot, ["0008,0052=SERIES", "StudyInstanceUID=1.2.826.0.1.3680043.10.1191.1.6", "Modality"], .seriesInstanceUID),
    (.studyRoot, ["0008,0052=SERIES", "StudyInstanceUID=1.2.826.0.1.3680043.10.1191.1.10", "SeriesNumber=2"], .seriesInstanceUID),
    (
        .studyRoot,
        [
            "0008,0052=IMAGE", "StudyInstanceUID=1.2.826.0.1.3680043.10.1191.1.1",
            "SeriesInstanceUID=1.2.826.0.1.3680043.10.1191.1.1.1", "InstanceNumber=2",
        ],
        .sopInstanceUID
    ),
    (
        .studyRoot,
        ["0008,0052=IMAGE", "StudyInstanceUID=1.2.826.0.1.3680043.10.1191.1.1", "SeriesInstanceUID=1.2.826.0.1.3680043.10.1191.1.1.1"],
        .sopInstanceUID
    ),
    (.patientRoot, ["0008,0052=PATIENT", "PatientName=Wang*"], .patientID),
    (.patientRoot, ["0008,0052=PATIENT", "PatientBirthDate=-19791231", "PatientSex=M"], .patientID),
    (.patientRoot, ["0008,0052=PATIENT", "PatientID=P00?"], .patientID),
    (.patientRoot, ["0008,0052=STUDY", "PatientID=P001", "StudyDate=20260301-"], .studyInstanceUID),
]

@Suite("Query matching")
struct MatchingTests {
    @Test("C-FIND matching agrees with dcmtk's dcmqrscp on every query of the table")
    func agreesWithDcmqrscp() async throws {
        let (archive, files) = try await Fixtures.loadedArchive()
        let peer = try DCMQRSCP(files: files)
        defer { peer.stop() }
        for (model, keys, unique) in comparedQueries {
            let expected = try peer.find(model: model, keys: keys, uniqueKey: unique)
            let query = try ArchiveQuery(
                cFindIdentifier: Fixtures.identifier(keys + [DataDictionary.entry(for: unique)?.keyword ?? ""]), model: model)
            let results = try await archive.index.find(query)
            let actual = Set(results.compactMap { $0.string(unique) })
            #expect(actual == expected, "\(keys)")
            #expect(results.count == actual.count, "\(keys): one result per entity")
        }
    }

    @Test("Person names match case-insensitively in any component group, and fuzzily, as the Python reference says")
    func personNamesAgreeWithReference() async throws {
        let (archive, files) = try await Fixtures.loadedArchive()
        let patterns: [(String, Bool)] = [
            ("王*", false), ("*芳", false), ("wang*", false), ("WANG^XIAODONG", false), ("李^娜", false), ("=张^伟", false),
            ("张*", false), ("*^小东", false), ("smith*", false), ("王 小", true), ("xiao", true), ("wang fang", true),
            ("smi", true), ("jo smi", true), ("Zhang^Wei", false), ("z?ang*", false), ("*", false),
        ]
        let input = patterns.map { "\($0.0)\t\($0.1 ? "1" : "0")" }.joined(separator: "\n")
        let reference = try Subprocess.run(
            "python3", [Corpus.script("ArchiveTests", "reference_matcher.py")] + files, input: Data(input.utf8))
        try #require(reference.status == 0, "\(reference.errorOutput)")
        let expectedLines = reference.output.split(separator: "\n", omittingEmptySubsequences: false)
        for (n, (pattern, fuzzy)) in patterns.enumerated() {
            let expected = Set(expectedLines[n].split(separator: " ").map(String.init))
            var query = ArchiveQuery(model: .studyRoot, level: .study)
            query.keys = [
                QueryKey(
                    tag: .patientName, vr: .PN,
                    matcher: pattern.contains("*") || pattern.contains("?") ? .wildcard(pattern) : .single(pattern)),
                QueryKey(tag: .studyInstanceUID, vr: .UI, matcher: .universal),
            ]
            query.fuzzyMatching = fuzzy
            let actual = Set(try await archive.index.find(query).compactMap { $0.string(.studyInstanceUID) })
            #expect(actual == expected, "\(pattern) fuzzy=\(fuzzy)")
        }
    }

    @Test("QIDO-RS parameters parse into the same query model and return default and included attributes")
    func qidoParameters() async throws {
        let (archive, _) = try await Fixtures.loadedArchive()
        let query = try ArchiveQuery(
            qidoParameters: [
                ("PatientName", "Wang*"), ("StudyDate", "20260101-"), ("ModalitiesInStudy", "CT"), ("includefield", "00081030"),
                ("limit", "10"), ("offset", "0"),
            ], level: .study)
        let results = try await archive.index.find(query)
        // Wang's studies from 2026 that contain CT: only the first (the second is MR, the third is from 2025).
        #expect(results.compactMap { $0.string(.studyInstanceUID) } == ["1.2.826.0.1.3680043.10.1191.1.1"])
        let study = try #require(results.first)
        #expect(study.string(.studyDescription) == "CT CHEST")
        #expect(study.strings(.modalitiesInStudy) == ["CT", "SR"])
        #expect(study.string(.numberOfStudyRelatedSeries) == "2")
        #expect(study.string(.numberOfStudyRelatedInstances) == "4")
        #expect(study.contains(.patientID) && study.contains(.accessionNumber))
        #expect(study.string(.specificCharacterSet) == "ISO_IR 192")

        let byTag = try ArchiveQuery(qidoParameters: [("00100020", "P004"), ("includefield", "all")], level: .study)
        let smith = try await archive.index.find(byTag)
        #expect(smith.count == 2)
        #expect(smith.allSatisfy { $0.contains(.studyDescription) && $0.contains(.referringPhysicianName) })
        #expect(throws: ArchiveError.self) { try ArchiveQuery(qidoParameters: [("NoSuchKeyword", "x")], level: .study) }
    }

    @Test("limit and offset page through the matches in a stable order, with and without Swift-side filtering")
    func paging() async throws {
        let (archive, _) = try await Fixtures.loadedArchive()
        for name in ["*", "*a*"] {
            let all = try await archive.index.find(
                ArchiveQuery(qidoParameters: [("PatientName", name)], level: .study)
            ).compactMap { $0.string(.studyInstanceUID) }
            var paged: [String] = []
            for offset in stride(from: 0, to: all.count + 3, by: 3) {
                let page = try await archive.index.find(
                    ArchiveQuery(
                        qidoParameters: [("PatientName", name), ("limit", "3"), ("offset", String(offset))], level: .study))
                #expect(page.count <= 3)
                paged += page.compactMap { $0.string(.studyInstanceUID) }
            }
            #expect(paged == all)
        }
    }

    @Test("Computed counts at patient, study and series level equal counts of the generated files")
    func computedAttributes() async throws {
        let (archive, files) = try await Fixtures.loadedArchive()
        var instancesPerStudy: [String: Int] = [:]
        var seriesPerStudy: [String: Set<String>] = [:]
        for file in files {
            let ds = try DICOMFile.read(contentsOf: file).dataSet
            let study = try #require(ds.string(.studyInstanceUID))
            instancesPerStudy[study, default: 0] += 1
            seriesPerStudy[study, default: []].insert(try #require(ds.string(.seriesInstanceUID)))
        }
        let studies = try await archive.index.find(
            ArchiveQuery(
                cFindIdentifier: Fixtures.identifier([
                    "0008,0052=STUDY", "StudyInstanceUID", "NumberOfStudyRelatedInstances", "NumberOfStudyRelatedSeries",
                ]), model: .studyRoot))
        #expect(studies.count == instancesPerStudy.count)
        for study in studies {
            let uid = try #require(study.string(.studyInstanceUID))
            #expect(study.int(.numberOfStudyRelatedInstances) == instancesPerStudy[uid])
            #expect(study.int(.numberOfStudyRelatedSeries) == seriesPerStudy[uid]?.count)
        }
        let patients = try await archive.index.find(
            ArchiveQuery(
                cFindIdentifier: Fixtures.identifier([
                    "0008,0052=PATIENT", "PatientID=P001", "NumberOfPatientRelatedStudies", "NumberOfPatientRelatedSeries",
                    "NumberOfPatientRelatedInstances",
                ]), model: .patientRoot))
        #expect(patients.count == 1)
        #expect(patients.first?.int(.numberOfPatientRelatedStudies) == 2)
        #expect(patients.first?.int(.numberOfPatientRelatedSeries) == 3)
        #expect(patients.first?.int(.numberOfPatientRelatedInstances) == 6)
        #expect(throws: ArchiveError.self) {
            try ArchiveQuery(cFindIdentifier: Fixtures.identifier(["0008,0052=PATIENT"]), model: .studyRoot)
        }
    }
}

/// Matching rules checked on values from the examples of PS3.4 C.2.2.2, without an index.
@Suite("Matching rules")
struct MatchingRuleTests {
    private func match(_ vr: VR, _ query: String, _ value: String, tag: DICOM.Tag = .studyDate, fuzzy: Bool = false) -> Bool {
        var ds = DataSet(characterSet: .utf8)
        ds.set(tag, vr, value)
        var identifier = DataSet(characterSet: .utf8)
        identifier.set(.queryRetrieveLevel, .CS, "IMAGE")
        identifier.set(tag, vr, query)
        guard let parsed = try? ArchiveQuery(cFindIdentifier: identifier, model: .studyRoot) else { return false }
        return QueryMatcher(fuzzy: fuzzy).matches(ds, keys: parsed.keys)
    }

    @Test("Date ranges include both ends and open ends (C.2.2.2.5)")
    func dateRanges() {
        #expect(match(.DA, "20260101-20261231", "20260101"))
        #expect(match(.DA, "20260101-20261231", "20261231"))
        #expect(!match(.DA, "20260101-20261231", "20270101"))
        #expect(match(.DA, "20260101-", "20990101"))
        #expect(match(.DA, "-20261231", "19000101"))
        #expect(!match(.DA, "-20251231", "20260101"))
        #expect(match(.DA, "20260101", "2026.01.01"))
    }

    @Test("Time and date-time ranges treat a partial upper bound as the end of its unit")
    func timeRanges() {
        #expect(match(.TM, "10-12", "125959", tag: .studyTime))
        #expect(!match(.TM, "10-12", "130000", tag: .studyTime))
        #expect(match(.TM, "1000-", "10:00:00", tag: .studyTime))
        #expect(match(.DT, "2026-202602", "20260229120000", tag: .acquisitionDateTime))
        #expect(!match(.DT, "2026-202602", "20260301", tag: .acquisitionDateTime))
        #expect(match(.DT, "20260101120000+0800-", "20260101130000", tag: .acquisitionDateTime))
    }

    @Test("Wildcards: * for any run, ? for one character, case-sensitive except for person names")
    func wildcards() {
        #expect(match(.LO, "AB*", "ABCDE", tag: .studyDescription))
        #expect(!match(.LO, "ab*", "ABCDE", tag: .studyDescription))
        #expect(match(.LO, "A?C*E", "ABCDE", tag: .studyDescription))
        #expect(!match(.LO, "A?C", "ABBC", tag: .studyDescription))
        #expect(match(.PN, "wang*", "WANG^XIAODONG=王^小东=", tag: .patientName))
        #expect(match(.PN, "王*", "Wang^Xiaodong=王^小东=", tag: .patientName))
        #expect(match(.PN, "=王^小东", "Wang^Xiaodong=王^小东=", tag: .patientName))
        #expect(!match(.PN, "=王^芳", "Wang^Xiaodong=王^小东=", tag: .patientName))
        #expect(match(.PN, "mull", "Müller^Hans", tag: .patientName, fuzzy: true))
        #expect(!match(.PN, "mull", "Müller^Hans", tag: .patientName, fuzzy: false))
    }

    @Test("Combined date-time matching joins a date range and a time range (C.2.2.2.5.2)")
    func combinedDateTime() throws {
        let identifier = Fixtures.identifier(["0008,0052=STUDY", "StudyDate=20260101-20260105", "StudyTime=1000-1200"])
        let combined = try ArchiveQuery(cFindIdentifier: identifier, model: .studyRoot, combinedDateTimeMatching: true)
        let separate = try ArchiveQuery(cFindIdentifier: identifier, model: .studyRoot)
        var ds = DataSet(characterSet: .utf8)
        ds.set(.studyDate, .DA, "20260103")
        ds.set(.studyTime, .TM, "080000")
        // 3 January at 08:00 lies between 1 January 10:00 and 5 January 12:00, but not between 10:00 and 12:00.
        #expect(QueryMatcher().matches(ds, keys: combined.keys))
        #expect(!QueryMatcher().matches(ds, keys: separate.keys))
    }

    @Test("Sequence matching looks for one item matching every key; empty key values are universal")
    func sequences() {
        var item = DataSet(characterSet: .utf8)
        item.set(.referencedSOPInstanceUID, .UI, "1.2.3")
        var other = DataSet(characterSet: .utf8)
        other.set(.referencedSOPInstanceUID, .UI, "1.2.4")
        var ds = DataSet(characterSet: .utf8)
        ds.set(.referencedStudySequence, items: [other, item])
        let hit = QueryKey(
            tag: .referencedStudySequence, vr: .SQ,
            matcher: .sequence([QueryKey(tag: .referencedSOPInstanceUID, vr: .UI, matcher: .single("1.2.3"))]))
        let miss = QueryKey(
            tag: .referencedStudySequence, vr: .SQ,
            matcher: .sequence([QueryKey(tag: .referencedSOPInstanceUID, vr: .UI, matcher: .single("9.9"))]))
        #expect(QueryMatcher().matches(hit, in: ds))
        #expect(!QueryMatcher().matches(miss, in: ds))
        #expect(QueryMatcher().matches(QueryKey(tag: .studyDescription, vr: .LO, matcher: .universal), in: ds))
        #expect(QueryMatcher().matches(QueryKey(tag: .studyDescription, vr: .LO, matcher: .empty), in: ds))
        let qido = try? ArchiveQuery(qidoParameters: [("ReferencedStudySequence.ReferencedSOPInstanceUID", "1.2.3")], level: .study)
        #expect(qido?.keys.first == hit)
    }
}
