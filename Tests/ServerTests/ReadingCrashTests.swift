import Archive
import AtriumTesting
import Foundation
import Platform
import Reading
import Server
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Consultation signing survives SIGKILL")
struct ReadingCrashTests {
    @Test("SIGKILL of atrium serve while readers sign: after a restart each report is wholly signed (SR stored, final) or still a draft")
    func killWhileSigning() async throws {
        let data = try Corpus.temporaryDirectory("atrium-reading-crash")
        let reports = 24
        // Before the server starts: a reader has claimed and drafted `reports` requests of one site.
        var configuration = ServerConfiguration()
        configuration.dataDirectory = data
        var reportIDs: [Int64] = []
        let study: String
        let token: String
        do {
            let setup = try AtriumServer(configuration: configuration)
            study = try await storeFreshStudy(setup, file: "CT_small.dcm", institution: "COUNTY-A", accession: "ACC-CRASH")
            _ = try await setup.testToken("site-crash", roles: [.site], institution: "COUNTY-A")
            token = try await setup.testToken("reader-crash", roles: [.reader], institution: "MEDCOLLEGE")
            let site = ReadingActor(username: "site-crash", displayName: "site-crash")
            let reader = ReadingActor(username: "reader-crash", displayName: "reader-crash")
            for n in 0..<reports {
                let (_, item) = try await setup.reading.file(
                    NewConsultationRequest(
                        priority: .stat, referringPhysician: "", clinicalHistory: "", question: "Case \(n)?", studies: [study]),
                    institution: "COUNTY-A", by: site)
                _ = try await setup.reading.claim(itemID: item.id, by: reader)
                let report = try #require(try await setup.reading.reports(requestID: item.requestID).first)
                var sections = report.sections
                sections[sections.count - 1].text = "Impression of case \(n)."
                _ = try await setup.reading.saveDraft(reportID: report.id, sections: sections, by: reader)
                reportIDs.append(report.id)
            }
            await setup.identity.audit.flush()
        }
        let first = try await AtriumServeProcess.start(data: data)
        // Every report is signed at once by its own request; the server is killed when the first answer comes back.
        let answers = await withTaskGroup(of: Int.self) { group in
            for id in reportIDs {
                group.addTask {
                    let body =
                        "{\"sections\": [{\"kind\": \"impression\", \"title\": \"Impression\", \"text\": \"Signed \(id).\"}], "
                        + "\"password\": \"test password reader-crash\"}"
                    let run = try? await Subprocess.runDetached(
                        "/usr/bin/curl",
                        [
                            "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "Authorization: Bearer \(token)", "-H",
                            "Content-Type: application/json", "--data-binary", body, first.baseURL + "/api/reports/\(id)/sign",
                        ])
                    return Int(run?.output ?? "") ?? 0
                }
            }
            var answers: [Int] = []
            var killed = false
            for await status in group {
                answers.append(status)
                if !killed {
                    kill(first.process.processIdentifier, SIGKILL)
                    killed = true
                }
            }
            return answers
        }
        _ = await first.process.exitStatus(within: 30)
        print("sign answers before and after SIGKILL: \(answers.sorted())")
        // After a restart, the maintenance loop stores the SRs of whatever was signed.
        let second = try await AtriumServeProcess.start(data: data)
        defer { second.process.stop() }
        var state: [String] = []
        for _ in 0..<60 {
            let run = try await Subprocess.runDetached("python3", ["-c", inspect, data + "/atrium.sqlite"] + reportIDs.map(String.init))
            state = run.output.split(separator: "\n").map(String.init)
            if !state.contains(where: { $0.hasPrefix("pending") }) { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(state.count == reports, "\(state)")
        let signed = state.filter { $0 == "signed" }.count
        let drafts = state.filter { $0 == "draft" }.count
        #expect(signed + drafts == reports, "every report wholly signed or wholly a draft: \(state)")
        // Each signed report's SR is in the study, as QIDO-RS answers (curl, with the reader's token).
        let qido = try await Subprocess.runDetached(
            "/usr/bin/curl",
            [
                "-s", "-H", "Authorization: Bearer \(token)",
                second.baseURL + "/dicom-web/studies/\(study)/instances?SOPClassUID=1.2.840.10008.5.1.4.1.1.88.11",
            ])
        let found = (try? JSONSerialization.jsonObject(with: Data(qido.output.utf8)) as? [[String: Any]])?.count ?? 0
        #expect(found == signed, "\(signed) signed reports, \(found) SR instances: \(qido.output.prefix(300))")
        print("after restart: \(signed) signed, \(drafts) drafts")
    }
}

/// For each report id: `signed` when the report, its version, its work item, its request and its stored SR all say so;
/// `draft` when none of them does; `pending` when signed but the SR is not stored yet; otherwise what is inconsistent.
private let inspect = """
    import sqlite3, sys
    db = sqlite3.connect(sys.argv[1])
    one = lambda sql, *a: db.execute(sql, a).fetchone()
    for rid in map(int, sys.argv[2:]):
        status, item, request = one("SELECT status, work_item_id, request_id FROM reports WHERE id = ?", rid)
        versions = one("SELECT COUNT(*) FROM report_versions WHERE report_id = ?", rid)[0]
        state = one("SELECT state FROM work_items WHERE id = ?", item)[0]
        rstatus = one("SELECT status FROM consultation_requests WHERE id = ?", request)[0]
        outbox = one("SELECT stored_at FROM report_outbox WHERE report_id = ?", rid)
        if status == "final" and versions == 1 and state == "COMPLETED" and rstatus == "final" and outbox is not None:
            print("signed" if outbox[0] is not None else "pending")
        elif status == "draft" and versions == 0 and state == "IN PROGRESS" and rstatus == "in-progress" and outbox is None:
            print("draft")
        else:
            print(f"half: {status} {versions} {state} {rstatus} {outbox}")
    """
