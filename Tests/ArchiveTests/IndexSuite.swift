import Archive
import AtriumTesting
import DICOM
import Foundation
import Testing

/// Checks every ``ArchiveIndex`` implementation must pass; the SQLite tests run it, and the PostgreSQL tests will
/// run the same function.
enum IndexSuite {
    static func instance(
        patientID: String = "P1", name: String = "Doe^Jane", birthDate: String = "19700101", study: String, series: String,
        sop: String, modality: String = "CT", institution: String? = nil
    ) -> DataSet {
        var ds = DataSet(characterSet: .utf8)
        ds.set(.sopClassUID, .UI, "1.2.840.10008.5.1.4.1.1.7")
        ds.set(.sopInstanceUID, .UI, sop)
        ds.set(.studyInstanceUID, .UI, study)
        ds.set(.seriesInstanceUID, .UI, series)
        ds.set(.patientID, .LO, patientID)
        ds.set(.patientName, .PN, name)
        ds.set(.patientBirthDate, .DA, birthDate)
        ds.set(.modality, .CS, modality)
        ds.set(.studyDate, .DA, "20260101")
        return ds
    }

    static func record(_ ds: DataSet, blob: String, institution: String? = nil) -> InstanceRecord {
        InstanceRecord(
            dataSet: ds, transferSyntaxUID: "1.2.840.10008.1.2.1", blobKey: BlobKey(blob), sizeBytes: 100,
            source: SourceInfo(applicationEntityTitle: "SENDER", institution: institution, transport: .cStore))
    }

    static func run(_ index: any ArchiveIndex) async throws {
        // Insert, duplicate under both policies.
        let first = record(instance(study: "1.1", series: "1.1.1", sop: "1.1.1.1"), blob: "a")
        #expect(try await index.insert(first, duplicatePolicy: .ignore) == .inserted(conflict: nil))
        #expect(
            try await index.insert(record(instance(study: "1.1", series: "1.1.1", sop: "1.1.1.1"), blob: "b"), duplicatePolicy: .ignore)
                == .alreadyStored(existingBlob: BlobKey("a")))
        #expect(
            try await index.insert(record(instance(study: "1.1", series: "1.1.1", sop: "1.1.1.1"), blob: "c"), duplicatePolicy: .overwrite)
                == .replaced(previousBlob: BlobKey("a"), conflict: nil))
        #expect(try await index.referencedBlobKeys() == [BlobKey("c")])

        // Concurrent inserts (group commit) all land.
        try await withThrowingTaskGroup(of: IndexInsertResult.self) { group in
            for n in 0..<50 {
                group.addTask {
                    try await index.insert(
                        record(instance(study: "1.1", series: "1.1.2", sop: "1.1.2.\(n)", modality: "MR"), blob: "k\(n)"),
                        duplicatePolicy: .ignore)
                }
            }
            for try await result in group { #expect(result == .inserted(conflict: nil)) }
        }
        #expect(try await index.counts() == IndexCounts(patients: 1, studies: 1, series: 2, instances: 51))

        // Same patient key, another name: a conflict is recorded and the patient is not merged or renamed.
        let other = record(instance(name: "Roe^Richard", study: "2.1", series: "2.1.1", sop: "2.1.1.1"), blob: "d")
        guard case .inserted(let conflict?) = try await index.insert(other, duplicatePolicy: .ignore) else {
            Issue.record("no conflict reported")
            return
        }
        #expect(conflict.storedName == "Doe^Jane" && conflict.incomingName == "Roe^Richard")
        #expect(try await index.patientConflicts().count == 1)
        #expect(try await index.counts().patients == 1)
        // The same patient ID from another institution (no issuer in the object) is another patient.
        let elsewhere = record(instance(name: "Roe^Richard", study: "3.1", series: "3.1.1", sop: "3.1.1.1"), blob: "e", institution: "Town")
        #expect(try await index.insert(elsewhere, duplicatePolicy: .ignore) == .inserted(conflict: nil))
        #expect(try await index.counts().patients == 2)

        let studies = try await index.find(
            ArchiveQuery(qidoParameters: [("ModalitiesInStudy", "MR")], level: .study))
        #expect(studies.compactMap { $0.string(.studyInstanceUID) } == ["1.1"])
        #expect(studies.first?.strings(.modalitiesInStudy) == ["CT", "MR"])

        // An institution's scope (a site user's, a mapped peer's): its studies, their series and instances, their patients.
        func scoped(_ level: QueryLevel, _ tag: DICOM.Tag, _ institution: String) async throws -> [String] {
            var query = ArchiveQuery(
                model: level == .patient ? .patientRoot : .studyRoot, level: level, keys: [QueryKey(tag: tag, vr: .UI, matcher: .universal)]
            )
            query.institution = institution
            return try await index.find(query).compactMap { $0.string(tag) }
        }
        #expect(try await scoped(.study, .studyInstanceUID, "Town") == ["3.1"])
        #expect(try await scoped(.series, .seriesInstanceUID, "Town") == ["3.1.1"])
        #expect(try await scoped(.instance, .sopInstanceUID, "Town") == ["3.1.1.1"])
        #expect(try await scoped(.patient, .patientID, "Town") == ["P1"])
        #expect(try await scoped(.study, .studyInstanceUID, "Elsewhere").isEmpty)
        #expect(try await scoped(.patient, .patientID, "Elsewhere").isEmpty)
        #expect(
            try await index.instances(studyInstanceUID: "3.1", seriesInstanceUID: nil, sopInstanceUID: nil, institution: "Town").count == 1)
        #expect(try await index.instances(studyInstanceUID: "3.1", seriesInstanceUID: nil, sopInstanceUID: nil, institution: "X").isEmpty)
        #expect(
            try await index.instances(studyInstanceUID: "1.1", seriesInstanceUID: nil, sopInstanceUID: nil, institution: "Town").isEmpty)
        #expect(
            try await index.instances(studyInstanceUID: nil, seriesInstanceUID: nil, sopInstanceUID: nil, institution: "Town").count == 1)

        // Retrieval lists, then deletion of instance, series, study and patient.
        #expect(try await index.instances(studyInstanceUID: "1.1", seriesInstanceUID: nil, sopInstanceUID: nil).count == 51)
        #expect(try await index.delete(.instance(sopInstanceUID: "1.1.2.0")) == [BlobKey("k0")])
        #expect(try await index.delete(.series(studyInstanceUID: "1.1", seriesInstanceUID: "1.1.2")).count == 49)
        #expect(try await index.counts() == IndexCounts(patients: 2, studies: 3, series: 3, instances: 3))
        #expect(try await index.delete(.study(studyInstanceUID: "1.1")) == [BlobKey("c")])
        #expect(Set(try await index.delete(.patient(patientID: "P1", issuerOfPatientID: nil))) == [BlobKey("d"), BlobKey("e")])
        #expect(try await index.counts() == IndexCounts(patients: 0, studies: 0, series: 0, instances: 0))
        #expect(try await index.patientConflicts().count == 1, "conflicts outlive the patient row")
        try await runSlides(index)
    }

    /// Whole-slide images: each VL WSM instance gets a pyramid row, found by series (and institution), replaced with
    /// its instance and deleted with it.
    static func runSlides(_ index: any ArchiveIndex) async throws {
        func slide(sop: String, columns: Int, sparse: Bool) -> InstanceRecord {
            var ds = instance(study: "9.1", series: "9.1.1", sop: sop, modality: "SM")
            ds.set(.sopClassUID, .UI, UID.vlWholeSlideMicroscopyImageStorage)
            ds.set(.imageType, .CS, ["ORIGINAL", "PRIMARY", "VOLUME", "NONE"])
            ds.set(.columns, .US, integers: [256])
            ds.set(.rows, .US, integers: [256])
            ds.set(.totalPixelMatrixColumns, .UL, integers: [columns])
            ds.set(.totalPixelMatrixRows, .UL, integers: [300])
            ds.set(.numberOfFrames, .IS, sparse ? "1" : "\((columns + 255) / 256 * 2)")
            if sparse {
                var position = DataSet()
                position.set(.columnPositionInTotalImagePixelMatrix, .SL, integers: [257])
                position.set(.rowPositionInTotalImagePixelMatrix, .SL, integers: [1])
                var item = DataSet()
                item.set(.planePositionSlideSequence, items: [position])
                ds.set(.perFrameFunctionalGroupsSequence, items: [item])
                ds.set(.dimensionOrganizationType, .CS, "TILED_SPARSE")
            } else {
                ds.set(.dimensionOrganizationType, .CS, "TILED_FULL")
            }
            return record(ds, blob: "slide-" + sop, institution: "SLIDE-SITE")
        }
        #expect(
            try await index.insert(slide(sop: "9.1.1.1", columns: 1000, sparse: false), duplicatePolicy: .ignore)
                == .inserted(conflict: nil))
        #expect(
            try await index.insert(slide(sop: "9.1.1.2", columns: 500, sparse: true), duplicatePolicy: .ignore) == .inserted(conflict: nil))
        var found = try await index.slideInstances(seriesInstanceUID: "9.1.1", institution: nil)
        #expect(found.map(\.stored.sopInstanceUID) == ["9.1.1.1", "9.1.1.2"], "largest level first")
        #expect(found.first?.description.tilesAcross == 4 && found.first?.description.dimensionOrganizationType == "TILED_FULL")
        #expect(found.last?.frames.positions == [1, 0, 0, 0] && found.last?.description.isSparse == true)
        #expect(try await index.slideInstances(seriesInstanceUID: "9.1.1", institution: "SLIDE-SITE").count == 2)
        #expect(try await index.slideInstances(seriesInstanceUID: "9.1.1", institution: "ELSEWHERE").isEmpty)
        // Replaced under the overwrite policy: still one row for the instance, with the new description.
        _ = try await index.insert(slide(sop: "9.1.1.2", columns: 700, sparse: false), duplicatePolicy: .overwrite)
        found = try await index.slideInstances(seriesInstanceUID: "9.1.1", institution: nil)
        #expect(found.map(\.description.totalPixelMatrixColumns) == [1000, 700])
        _ = try await index.delete(.instance(sopInstanceUID: "9.1.1.1"))
        #expect(try await index.slideInstances(seriesInstanceUID: "9.1.1", institution: nil).map(\.stored.sopInstanceUID) == ["9.1.1.2"])
        _ = try await index.delete(.series(studyInstanceUID: nil, seriesInstanceUID: "9.1.1"))
        #expect(try await index.slideInstances(seriesInstanceUID: "9.1.1", institution: nil).isEmpty)
    }
}

@Suite("SQLite index")
struct SQLiteIndexTests {
    @Test("The SQLite index passes the shared index suite")
    func sharedSuite() async throws {
        let directory = try Corpus.temporaryDirectory("sqlite-index")
        try await IndexSuite.run(try SQLiteIndex(path: directory + "/atrium.sqlite"))
    }

    @Test("The database is in WAL mode and records its schema version, and reopening keeps the data")
    func walAndSchemaVersion() async throws {
        let directory = try Corpus.temporaryDirectory("sqlite-index")
        let path = directory + "/atrium.sqlite"
        do {
            let index = try SQLiteIndex(path: path)
            _ = try await index.insert(
                IndexSuite.record(IndexSuite.instance(study: "1", series: "1.1", sop: "1.1.1"), blob: "x"), duplicatePolicy: .ignore)
        }
        let reopened = try SQLiteIndex(path: path)
        #expect(try await reopened.counts().instances == 1)
        let result = try Subprocess.run(
            "python3",
            [
                "-c",
                "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute('PRAGMA journal_mode').fetchone()[0], "
                    + "c.execute('SELECT version FROM schema_version').fetchone()[0])", path,
            ])
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == "wal 3")
    }
}
