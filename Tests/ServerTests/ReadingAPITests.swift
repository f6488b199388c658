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
        let file = try Corpus.temporaryDirectory("atrium-reading-api") + "/people.json"
        try JSONSerialization.data(withJSONObject: people).write(to: URL(fileURLWithPath: file))
        let run = try await Subprocess.runDetached("python3", [Corpus.script("ServerTests", "reading_api.py"), server.baseURL, file])
        #expect(run.status == 0, "\(run.output)\(run.errorOutput.suffix(2000))")
        #expect(run.output.hasSuffix("ok\n"), "\(run.output)")
    }
}
