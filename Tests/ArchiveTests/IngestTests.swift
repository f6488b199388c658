import Archive
import AtriumTesting
import DICOM
import Foundation
import Testing

@Suite("Ingest")
struct IngestTests {
    private let source = SourceInfo(applicationEntityTitle: "TEST", institution: "Test Hospital", transport: .importer)

    @Test("Every pydicom corpus file with the four identifying UIDs is stored, listed and readable from its blob")
    func corpus() async throws {
        let (archive, _) = try Fixtures.emptyArchive()
        var stored = Set<String>()
        var rejected = 0
        for file in try Corpus.pydicomFiles() {
            // pydicom's own verdict on whether the file is whole and carries the UIDs decides what must be stored.
            do {
                let outcome = try await archive.store(file: file, source: source)
                stored.insert(outcome.sopInstanceUID)
            } catch {
                rejected += 1
            }
        }
        let listed = try await archive.index.instances(studyInstanceUID: nil, seriesInstanceUID: nil, sopInstanceUID: nil)
        #expect(Set(listed.map(\.sopInstanceUID)) == stored)
        #expect(stored.count > 50)
        for instance in listed.prefix(40) {
            guard case .file(let path) = try await archive.blobs.get(instance.blobKey) else {
                Issue.record("not a file")
                continue
            }
            #expect(try DICOMFile.read(contentsOf: path).dataSet.string(.sopInstanceUID) == instance.sopInstanceUID)
        }
        let expected = try pydicomStorable(try Corpus.pydicomFiles())
        #expect(stored == expected, "rejected \(rejected)")
    }

    /// SOP Instance UIDs of the files pydicom reads completely and that carry valid identifying UIDs.
    private func pydicomStorable(_ files: [String]) throws -> Set<String> {
        let script = """
            import sys, re, pydicom
            uid = re.compile(r'^(0|[1-9][0-9]*)(\\.(0|[1-9][0-9]*))*$')
            out = set()
            for path in sys.argv[1:]:
                try:
                    ds = pydicom.dcmread(path, force=True)
                    for e in ds.iterall():
                        pass
                    vals = [str(ds.get(k, '') or '').strip() for k in ('SOPClassUID', 'SOPInstanceUID', 'StudyInstanceUID', 'SeriesInstanceUID')]
                    if all(v and len(v) <= 64 and uid.match(v) for v in vals):
                        out.add(vals[1])
                except Exception:
                    pass
            print('\\n'.join(sorted(out)))
            """
        let result = try Subprocess.run("python3", ["-c", script] + files)
        return Set(result.output.split(separator: "\n").map(String.init))
    }

    @Test("A truncated or non-DICOM upload is a precise error and nothing is stored")
    func rejectsBrokenInput() async throws {
        let (archive, _) = try Fixtures.emptyArchive()
        let file = try #require(try Fixtures.files(in: try Fixtures.generatedStudies()).first)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        for broken in [Array(bytes.prefix(bytes.count - 7)), Array(bytes.prefix(300)), Array("hello, not DICOM".utf8), []] {
            await #expect(throws: ArchiveError.self) { try await archive.store(broken, source: source) }
        }
        var missingUID = try DICOMFile.read(bytes)
        missingUID.dataSet.remove(.seriesInstanceUID)
        await #expect(throws: ArchiveError.self) { try await archive.store(try missingUID.encoded(), source: source) }
        var badUID = try DICOMFile.read(bytes)
        badUID.dataSet.set(.sopInstanceUID, .UI, "1.02.abc")
        await #expect(throws: ArchiveError.self) { try await archive.store(try badUID.encoded(), source: source) }
        #expect(try await archive.index.counts().instances == 0)
        #expect(try await archive.blobs.list().isEmpty)
    }

    @Test("A second copy is reported under ignore, and replaces the first (whose blob is deleted) under overwrite")
    func duplicatePolicies() async throws {
        let file = try #require(try Fixtures.files(in: try Fixtures.generatedStudies()).first)
        let (ignoring, _) = try Fixtures.emptyArchive(policy: .ignore)
        let first = try await ignoring.store(file: file, source: source)
        let second = try await ignoring.store(file: file, source: source)
        #expect(first.status == .stored && second.status == .alreadyStored)
        #expect(second.blobKey == first.blobKey)
        #expect(try await ignoring.blobs.list().count == 1)

        let (overwriting, _) = try Fixtures.emptyArchive(policy: .overwrite)
        let a = try await overwriting.store(file: file, source: source)
        let b = try await overwriting.store(file: file, source: source)
        #expect(b.status == .replaced && a.blobKey != b.blobKey)
        #expect(try await overwriting.blobs.exists(a.blobKey) == false)
        #expect(try await overwriting.blobs.list().map(\.key) == [b.blobKey])
    }

    @Test("A patient ID seen with another name from the same institution is recorded as a conflict, not merged")
    func patientConflict() async throws {
        let files = try Fixtures.files(in: try Fixtures.generatedStudies())
        let (archive, _) = try Fixtures.emptyArchive()
        _ = try await archive.store(file: files[0], source: source)
        var changed = try DICOMFile.read(contentsOf: files[1])
        changed.dataSet.set(.sopInstanceUID, .UI, "1.2.3.4.5.6.7")
        changed.dataSet.set(.patientName, .PN, "Someone^Else")
        let outcome = try await archive.store(try changed.encoded(), source: source)
        #expect(outcome.patientConflict?.incomingName == "Someone^Else")
        #expect(try await archive.index.patientConflicts().map(\.sopInstanceUID) == ["1.2.3.4.5.6.7"])
        let patients = try await archive.index.find(
            ArchiveQuery(cFindIdentifier: Fixtures.identifier(["0008,0052=PATIENT", "PatientID=P001", "PatientName"]), model: .patientRoot))
        #expect(patients.count == 1)
        #expect(patients.first?.string(.patientName)?.hasPrefix("Wang^Xiaodong") == true)
        // The issuer of the patient ID falls back to the sending institution.
        #expect(try await archive.index.patientConflicts().first?.issuerOfPatientID == "Test Hospital")
    }

    @Test("Deleting a series, a study and a patient removes their blobs and updates the counts")
    func deletionReclaimsBlobs() async throws {
        let (archive, _) = try await Fixtures.loadedArchive()
        let before = try await archive.blobs.list().count
        #expect(before == 19)
        let removedSeries = try await archive.delete(
            .series(studyInstanceUID: nil, seriesInstanceUID: "1.2.826.0.1.3680043.10.1191.1.1.1"))
        #expect(removedSeries == 3)
        let study = try await archive.index.find(
            ArchiveQuery(qidoParameters: [("StudyInstanceUID", "1.2.826.0.1.3680043.10.1191.1.1")], level: .study))
        #expect(study.first?.int(.numberOfStudyRelatedInstances) == 1)
        #expect(try await archive.delete(.study(studyInstanceUID: "1.2.826.0.1.3680043.10.1191.1.1")) == 1)
        #expect(try await archive.delete(.patient(patientID: "P004", issuerOfPatientID: nil)) == 4)
        #expect(try await archive.blobs.list().count == before - 8)
        #expect(try await archive.index.counts().instances == before - 8)
        #expect(try await archive.delete(.instance(sopInstanceUID: "9.9.9")) == 0)
    }

    @Test("The orphan sweep deletes blobs no index row refers to, and keeps the rest")
    func orphanSweep() async throws {
        let (archive, _) = try await Fixtures.loadedArchive()
        let orphan = try await archive.blobs.put(Array("orphan".utf8))
        #expect(try await archive.sweepOrphans(olderThanSeconds: 3600) == 0, "a fresh blob may belong to a commit in flight")
        #expect(try await archive.sweepOrphans(olderThanSeconds: -1) == 1)
        #expect(try await archive.blobs.exists(orphan) == false)
        #expect(try await archive.blobs.list().count == 19)
    }
}
