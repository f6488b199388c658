import Archive
import AtriumTesting
import DICOM
import Foundation
import Testing

@Suite("C-STORE checks the data set against the command", .serialized)
struct CStoreIdentityTests {
    @Test("A data set whose SOP Instance or Class UID differs from the C-STORE-RQ's is refused with A900 and nothing is stored")
    func mismatchRefused() async throws {
        let server = try await DIMSETestServer.start()
        let before = try await scrapeMetrics(port: server.httpPort)
        let work = try Corpus.temporaryDirectory("cstore-mismatch")
        let root = "1.2.826.0.1.3680043.10.1191.77"
        let ct = try Corpus.pydicomDataDirectory() + "/test_files/CT_small.dcm"
        let run = try await Subprocess.runDetached(
            "python3",
            [Corpus.script("ServerTests", "cstore_mismatch.py"), "127.0.0.1", String(server.dicomPort), "ATRIUM", ct, work, root])
        try #require(run.status == 0, "\(run.output) \(run.errorOutput)")
        let report = try #require(try JSONSerialization.jsonObject(with: run.standardOutput) as? [String: Any])
        // PS3.4 B.2.3: A900 "Data Set does not match SOP Class"; 0000 success.
        #expect(report["statuses"] as? [Int] == [0xA900, 0xA900, 0x0000], "\(report)")
        #expect(report["rejected"] as? Bool == true, "an unknown application context name is rejected (PS3.8 7.1.1.2)")

        let stored = try await server.server.archive.index.instances(studyInstanceUID: nil, seriesInstanceUID: nil, sopInstanceUID: nil)
        #expect(stored.map(\.sopInstanceUID) == [root + ".4"])
        #expect(try await server.server.archive.blobs.list().count == 1, "nothing of the refused stores was written")

        let after = try await scrapeMetrics(port: server.httpPort)
        func moved(_ name: String, _ labels: [String: String] = [:]) -> Double { after.value(name, labels) - before.value(name, labels) }
        #expect(moved("atrium_store_failures_total", ["reason": "invalidIdentifier", "transport": "C-STORE"]) == 2)
        #expect(moved("atrium_instances_stored_total", ["transport": "C-STORE"]) == 1)
        #expect(moved("atrium_dimse_operations_total", ["operation": "C-STORE"]) == 3)
        #expect(moved("atrium_dicom_associations_total") == 1)
        #expect(moved("atrium_dicom_associations_rejected_total") == 1)
        await server.stop()
    }
}
