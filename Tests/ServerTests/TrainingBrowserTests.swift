import Archive
import AtriumTesting
import DICOM
import Foundation
import Platform
import Server
import Teaching
import Testing

@Suite("Exams in headless Chromium")
struct TrainingBrowserTests {
    @Test(
        "A teacher builds an exam from the library; two students take it, one killed half-way and resuming with its answers; grading, release, results as computed in Python; role checks; a hotspot region drawn in the bank editor is stored as the drag computed in Python"
    )
    func wholePath() async throws {
        try Chromium.require()
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        // A three-slice series (pydicom's CT_small, instance numbers 3, 1, 2 stored in that order) on a published case.
        let source = try DICOMFile.read(contentsOf: try Corpus.pydicomDataDirectory() + "/test_files/CT_small.dcm")
        let study = UID.generate()
        let series = UID.generate()
        var sops: [String] = []
        for number in [3, 1, 2] {
            var dicom = source
            let sop = UID.generate()
            dicom.dataSet.set(.studyInstanceUID, .UI, study)
            dicom.dataSet.set(.seriesInstanceUID, .UI, series)
            dicom.dataSet.set(.sopInstanceUID, .UI, sop)
            dicom.dataSet.set(.instanceNumber, .IS, String(number))
            dicom.dataSet.set(.patientName, .PN, "Teaching^Case")
            dicom.dataSet.set(.patientID, .LO, "TEACH-1")
            dicom.fileMetaInformation = DataSet()
            _ = try await server.server.archive.store(
                try dicom.encoded(), source: SourceInfo(applicationEntityTitle: "TEACHING", institution: "MEDCOLLEGE", transport: .cStore))
            sops.append(sop)
        }
        var people: [String: [String]] = [:]
        for (key, name, role) in [
            ("teacher", "tr-teacher", Role.curator), ("grader", "tr-grader", .curator), ("studentA", "tr-student-a", .student),
            ("studentB", "tr-student-b", .student), ("supervisor", "tr-supervisor", .supervisor),
        ] {
            let token = try await server.server.testToken(name, roles: [role], institution: "MEDCOLLEGE")
            people[key] = [name, "test password \(name)", token]
        }
        let library = server.server.teaching
        let created = try await library.create(
            CaseContent(
                title: "右肺结节 Right lung nodule", clinicalHistory: "男，60岁。", findings: "右肺结节。", diagnosis: "肺癌 lung cancer",
                tags: CaseTags(modalities: ["CT"], bodyRegion: "chest", difficulty: 2),
                keyImages: [KeyImage(studyInstanceUID: study, seriesInstanceUID: series, sopInstanceUID: sops[1])]),
            author: "tr-teacher", institution: "MEDCOLLEGE", source: "test")
        let submitted = try await library.apply(.submit, to: created.id, actor: "tr-teacher", revision: created.revision)
        _ = try await library.apply(.approve, to: created.id, actor: "tr-grader", revision: submitted.revision)
        let fixtures: [String: Any] = [
            "people": people, "case": created.id, "caseTitle": created.content.title, "study": study, "series": series,
        ]
        let directory = try Corpus.temporaryDirectory("atrium-training-browser")
        let fixturesFile = directory + "/fixtures.json"
        try JSONSerialization.data(withJSONObject: fixtures).write(to: URL(fileURLWithPath: fixturesFile))
        let screenshots = try ProcessInfo.processInfo.environment["ATRIUM_SCREENSHOTS"] ?? Corpus.temporaryDirectory("atrium-screenshots")
        let run = try await Subprocess.runDetached(
            "python3",
            [Corpus.script("ServerTests", "training_browser.py"), server.baseURL, LocaleFiles.directory, screenshots, fixturesFile])
        print("training screenshots: \(screenshots)")
        #expect(run.status == 0, "\(run.output)\(run.errorOutput.suffix(3000))")
        #expect(run.output.hasSuffix("ok\n"), "\(run.output)")
        // The bank's hotspot editor on the same case: the region drawn by a drag is stored in image pixels.
        let editor = try await Subprocess.runDetached(
            "python3", [Corpus.script("ServerTests", "training_hotspot_editor.py"), server.baseURL, screenshots, fixturesFile])
        #expect(editor.status == 0, "\(editor.output)\(editor.errorOutput.suffix(3000))")
        #expect(editor.output.hasSuffix("ok\n"), "\(editor.output)")
        // The regrade and the release are in the platform's audit trail.
        await server.server.identity.audit.flush()
        let details = try await server.server.identity.audit.search(AuditSearch(limit: 1000)).map(\.detail)
        #expect(details.contains { $0.hasPrefix("regrade: attempt") && $0.contains("second look") }, "\(details.prefix(20))")
        #expect(details.contains { $0.contains("results released") })
    }
}
