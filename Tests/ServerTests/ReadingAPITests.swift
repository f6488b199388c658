import Archive
import AtriumTesting
import DICOM
import Foundation
import Platform
import Reading
import Server
import Testing

/// A copy of a pydicom test file as a new study (fresh UIDs) with an accession number, stored for `institution`.
func storeFreshStudy(
    _ server: AtriumServer, file: String, institution: String, accession: String, bodyPart: String = "HEAD"
) async throws -> String {
    var dicom = try DICOMFile.read(contentsOf: try Corpus.pydicomDataDirectory() + "/test_files/" + file)
    let study = UID.generate()
    dicom.dataSet.set(.studyInstanceUID, .UI, study)
    dicom.dataSet.set(.seriesInstanceUID, .UI, UID.generate())
    dicom.dataSet.set(.sopInstanceUID, .UI, UID.generate())
    dicom.dataSet.set(.accessionNumber, .SH, accession)
    dicom.dataSet.set(.bodyPartExamined, .CS, bodyPart)
    dicom.fileMetaInformation = DataSet()
    _ = try await server.archive.store(
        try dicom.encoded(), source: SourceInfo(applicationEntityTitle: "PACS_\(institution)", institution: institution, transport: .cStore)
    )
    return study
}

/// The people of the consultation tests, with their tokens and passwords (`test password NAME`, as `testToken` sets).
func readingPeople(_ server: AtriumServer) async throws -> [String: [String: String]] {
    let people: [(String, String, Set<Role>, String?)] = [
        ("siteA", "site-a", [.site], "COUNTY-A"), ("siteB", "site-b", [.site], "COUNTY-B"), ("reader", "reader-1", [.reader], "MEDCOLLEGE"),
        ("senior", "reader-senior", [.reader, .supervisor], "MEDCOLLEGE"), ("junior", "reader-junior", [.reader], "MEDCOLLEGE"),
        ("student", "student-1", [.student], "MEDCOLLEGE"), ("admin", "admin-1", [.admin], nil),
    ]
    var out: [String: [String: String]] = [:]
    for (key, username, roles, institution) in people {
        let token = try await server.testToken(username, roles: roles, institution: institution)
        out[key] = ["token": token, "password": "test password \(username)", "username": username]
    }
    try await server.reading.setProfile(ReaderProfile(username: "reader-junior", canSign: false))
    return out
}

@Suite("Consultation API against a running server")
struct ReadingAPITests {
    @Test(
        "Seven people drive the consultation API with urllib: requests, worklist, push, locks, drafts, signing, addenda, critical results, audit"
    )
    func workflow() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let studyA = try await storeFreshStudy(server.server, file: "CT_small.dcm", institution: "COUNTY-A", accession: "ACC-A-1")
        let studyB = try await storeFreshStudy(server.server, file: "MR_small.dcm", institution: "COUNTY-B", accession: "ACC-B-1")
        var people: [String: Any] = try await readingPeople(server.server)
        people["studyA"] = studyA
        people["studyB"] = studyB
        people["accessionA"] = "ACC-A-1"
        people["instanceA"] = try #require(
            try await server.server.archive.index.instances(studyInstanceUID: studyA, seriesInstanceUID: nil, sopInstanceUID: nil).first
        ).sopInstanceUID
        let file = try Corpus.temporaryDirectory("atrium-reading-api") + "/people.json"
        try JSONSerialization.data(withJSONObject: people).write(to: URL(fileURLWithPath: file))
        let run = try await Subprocess.runDetached("python3", [Corpus.script("ServerTests", "reading_api.py"), server.baseURL, file])
        #expect(run.status == 0, "\(run.output)\(run.errorOutput.suffix(2000))")
        #expect(run.output.hasSuffix("ok\n"), "\(run.output)")

        // The signed version and the addendum are Basic Text SRs in site A's study, read back by dcmtk and pydicom.
        let held = try await server.server.archive.index.instances(
            studyInstanceUID: studyA, seriesInstanceUID: nil, sopInstanceUID: nil, institution: "COUNTY-A")
        let reports = held.filter { $0.sopClassUID == "1.2.840.10008.5.1.4.1.1.88.11" }
        try #require(reports.count == 2, "two SR instances (final, addendum) in the study: \(held.map(\.sopClassUID))")
        let directory = try Corpus.temporaryDirectory("atrium-reading-sr")
        var paths: [String] = []
        for (index, instance) in reports.enumerated() {
            let path = directory + "/sr\(index).dcm"
            switch try await server.server.archive.blobs.get(instance.blobKey) {
            case .file(let stored): try FileManager.default.copyItem(atPath: stored, toPath: path)
            case .bytes(let bytes): try Data(bytes).write(to: URL(fileURLWithPath: path))
            }
            paths.append(path)
            let check = try Subprocess.run("/usr/bin/dciodvfy", [path])
            let errors = (check.output + check.errorOutput).split(separator: "\n").filter { $0.hasPrefix("Error") }
            #expect(errors.isEmpty, "dciodvfy \(path): \(errors.joined(separator: " | "))")
            let dump = try Subprocess.run("/usr/bin/dsrdump", ["+U8", "+Pl", path])
            #expect(dump.status == 0 && dump.output.contains("Acute left subdural haematoma, 8 mm"), "dsrdump: \(dump.output.prefix(1500))")
        }
        // The key-object selection "For Teaching" (IHE TCE), with the note and the key image.
        let selections = held.filter { $0.sopClassUID == "1.2.840.10008.5.1.4.1.1.88.59" }
        try #require(selections.count == 1, "one KOS in the study")
        let kosPath = directory + "/kos.dcm"
        switch try await server.server.archive.blobs.get(selections[0].blobKey) {
        case .file(let stored): try FileManager.default.copyItem(atPath: stored, toPath: kosPath)
        case .bytes(let bytes): try Data(bytes).write(to: URL(fileURLWithPath: kosPath))
        }
        let kosCheck = try Subprocess.run("/usr/bin/dciodvfy", [kosPath])
        let kosErrors = (kosCheck.output + kosCheck.errorOutput).split(separator: "\n").filter { $0.hasPrefix("Error") }
        #expect(kosErrors.isEmpty, "dciodvfy: \(kosErrors.joined(separator: " | "))")
        let kosDump = try Subprocess.run("/usr/bin/dsrdump", ["+U8", "+Pl", "+Pu", kosPath]).output
        #expect(
            kosDump.contains("For Teaching") && kosDump.contains("典型硬膜下血肿") && kosDump.contains(people["instanceA"] as? String ?? "?"),
            "\(kosDump)")
        let chain = try Subprocess.run("python3", ["-c", predecessorCheck] + paths)
        #expect(chain.status == 0 && chain.output.contains("predecessor ok"), "\(chain.output)\(chain.errorOutput)")

        // Attachments, on the same server: uploads (JSON and multipart), refusals, access, download, audit.
        let files = try Corpus.temporaryDirectory("atrium-reading-attachments")
        let made = try Subprocess.run("python3", [Corpus.script("ReadingTests", "attachment_files.py"), "make", files])
        try #require(made.status == 0, "attachment_files.py (pip install pillow): \(made.errorOutput)")
        let attached = try await Subprocess.runDetached(
            "python3", [Corpus.script("ServerTests", "reading_attachments.py"), server.baseURL, file, files])
        #expect(attached.output.hasSuffix("ok\n"), "\(attached.output)\(attached.errorOutput.suffix(2000))")
        let line = try #require(attached.output.split(separator: "\n").first { $0.hasPrefix("{\"dicom\"") })
        let uids = try #require(
            (try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["dicom"] as? [String])
        // The Encapsulated PDF and the Secondary Capture are in site A's study, valid, and hold the files sent.
        var objects: [String] = []
        for (index, uid) in uids.enumerated() {
            let instance = try #require(
                try await server.server.archive.index.instances(studyInstanceUID: studyA, seriesInstanceUID: nil, sopInstanceUID: uid)
                    .first,
                "attachment \(uid) in the study")
            let path = files + "/attachment\(index).dcm"
            switch try await server.server.archive.blobs.get(instance.blobKey) {
            case .file(let stored): try FileManager.default.copyItem(atPath: stored, toPath: path)
            case .bytes(let bytes): try Data(bytes).write(to: URL(fileURLWithPath: path))
            }
            let check = try Subprocess.run("/usr/bin/dciodvfy", [path])
            let errors = (check.output + check.errorOutput).split(separator: "\n").filter { $0.hasPrefix("Error") }
            #expect(errors.isEmpty, "dciodvfy \(path): \(errors.joined(separator: " | "))")
            objects.append(path)
        }
        try #require(objects.count == 2)
        let read = try Subprocess.run(
            "python3",
            [
                Corpus.script("ReadingTests", "attachment_files.py"), "read", objects[0], objects[1], files + "/form.pdf",
                files + "/photo.jpg",
            ])
        try #require(read.status == 0, "attachment_files.py read: \(read.errorOutput.suffix(2000))")
        let facts = try #require(try JSONSerialization.jsonObject(with: read.standardOutput) as? [String: Any])
        #expect((facts["pdf"] as? [String: Any])?["same"] as? Bool == true, "\(facts)")
        #expect((facts["pdf"] as? [String: Any])?["study"] as? String == studyA)
        #expect((facts["sc"] as? [String: Any])?["codestreamSame"] as? Bool == true, "\(facts)")
        #expect((facts["sc"] as? [String: Any])?["study"] as? String == studyA)
    }
}

/// With pydicom: of two SRs, the later (instance number 2, the addendum) names the earlier in its Predecessor Documents
/// Sequence, both are VERIFIED, and they share the series.
private let predecessorCheck = """
    import sys, pydicom
    a, b = sorted((pydicom.dcmread(p) for p in sys.argv[1:]), key=lambda d: int(d.InstanceNumber))
    ref = b.PredecessorDocumentsSequence[0].ReferencedSeriesSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID
    assert ref == a.SOPInstanceUID, (ref, a.SOPInstanceUID)
    assert a.SeriesInstanceUID == b.SeriesInstanceUID
    assert a.VerificationFlag == "VERIFIED" and b.VerificationFlag == "VERIFIED"
    print("predecessor ok")
    """

@Suite("Consultation demo step")
struct ReadingDemoTests {
    @Test("The demo consultations: nothing without the demo people; then one stat waiting, one routine claimed, one signed; once")
    func demoConsultations() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let app = server.server
        _ = try await storeFreshStudy(app, file: "CT_small.dcm", institution: "COUNTY-A", accession: "DEMO-1")
        _ = try await storeFreshStudy(app, file: "MR_small.dcm", institution: "COUNTY-A", accession: "DEMO-2")
        #expect(try await ReadingDemo.load(reading: app.reading, identity: app.identity, archive: app.archive) == 0)
        _ = try await app.testToken("demo-site", roles: [.site], institution: "COUNTY-A")
        _ = try await app.testToken("demo-reader", roles: [.reader], institution: "MEDCOLLEGE")
        #expect(try await ReadingDemo.load(reading: app.reading, identity: app.identity, archive: app.archive) == 0, "demo-reader2 missing")
        _ = try await app.testToken("demo-reader2", roles: [.reader], institution: "MEDCOLLEGE")
        #expect(try await ReadingDemo.load(reading: app.reading, identity: app.identity, archive: app.archive) == 3)
        let requests = try await app.reading.requests(institution: "COUNTY-A")
        #expect(
            Set(requests.map { "\($0.priority.rawValue):\($0.status.rawValue)" }) == [
                "stat:requested", "routine:in-progress", "urgent:final",
            ])
        let owners = try await app.reading.worklist(WorklistFilter()).compactMap(\.item.owner)
        #expect(owners == ["demo-reader"])
        #expect(try await ReadingDemo.load(reading: app.reading, identity: app.identity, archive: app.archive) == 0, "only once")
    }
}
