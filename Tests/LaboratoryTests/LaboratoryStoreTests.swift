import Archive
import AtriumTesting
import Foundation
import Testing

@testable import Laboratory
@testable import Platform

@Suite("Laboratory store")
struct LaboratoryStoreTests {
    @Test("The SQLite laboratory store passes the shared suite")
    func sqlite() async throws {
        let directory = try Corpus.temporaryDirectory("atrium-lab")
        let archive = try Archive.open(directory: directory)
        let identity = try IdentityStore.make(archive: archive, directory: directory)
        try await LaboratoryStoreSuite.run(identity)
    }

    @Test("The PostgreSQL laboratory store passes the shared suite")
    func postgres() async throws {
        let server = try await PostgresServer.start()
        defer { server.stop() }
        let url = try await server.createDatabase("atrium_lab")
        let directory = try Corpus.temporaryDirectory("atrium-lab-pg")
        let archive = try Archive.open(directory: directory, database: url)
        let identity = try IdentityStore.make(archive: archive, directory: directory)
        try await identity.prepare()
        try await LaboratoryStoreSuite.run(identity)
    }
}

/// The laboratory store's behaviour on any back end.
enum LaboratoryStoreSuite {
    static func message(_ control: String, _ time: String, potassium: String, facility: String = "COUNTY-A-LAB") -> [UInt8] {
        Array(
            [
                "MSH|^~\\&|LIS|\(facility)|ATRIUM|ATRIUM|\(time)||ORU^R01|\(control)|P|2.5",
                "PID|1||P100^^^COUNTY-A^MR||刘^洋||19700101|M",
                "OBR|1|PL-\(control)|FL-\(control)|24323-8^Panel^LN|||\(time)",
                "OBX|1|NM|2823-3^Potassium^LN||\(potassium)|mmol/L|3.5-5.3||||F",
                "OBX|2|NM|2345-7^Glucose^LN||108|mg/dL|||||F",
            ].joined(separator: "\r").utf8)
    }

    static func run(_ identity: IdentityStore) async throws {
        let store = LaboratoryStore(identity: identity)
        try await store.prepare()
        // Seeded defaults.
        let ranges = try await store.referenceRanges()
        #expect(ranges.count == ReferenceRanges.defaults.count)
        #expect(Set(ranges.map(\.loinc)).count >= 20)
        #expect(try await store.deltaRules().count == ReferenceRanges.deltaDefaults.count)

        // The facility table decides: unknown → AR, nothing stored.
        let intake = HL7Intake(store: store)
        var outcome = await intake.receive(message("M1", "20261101080000", potassium: "4.1"))
        #expect(outcome.code == .applicationReject)
        #expect(outcome.error?.condition == .unknownKeyIdentifier)
        #expect(try await store.resultSets(institution: nil).isEmpty)
        try await store.setFacility("COUNTY-A-LAB", institution: "COUNTY-A", by: "admin")
        #expect(try await store.facilities().map(\.institution) == ["COUNTY-A"])

        outcome = await intake.receive(message("M1", "20261101080000", potassium: "4.1"))
        #expect(outcome.code == .applicationAccept, "\(String(decoding: outcome.ack, as: UTF8.self))")
        #expect(outcome.stored.count == 1)
        // A resend of the same message is acknowledged and not stored twice.
        let again = await intake.receive(message("M1", "20261101080000", potassium: "4.1"))
        #expect(again.code == .applicationAccept)
        #expect(again.stored == outcome.stored)
        outcome = await intake.receive(message("M2", "20261201080000", potassium: "6.6"))
        #expect(outcome.code == .applicationAccept)
        // A content error stores nothing.
        let bad = await intake.receive(message("M3", "20261202080000", potassium: "abc"))
        #expect(bad.code == .applicationError)
        #expect(bad.stored.isEmpty)

        let sets = try await store.resultSets(institution: "COUNTY-A")
        #expect(sets.count == 2)
        #expect(try await store.resultSets(institution: "OTHER").isEmpty)
        let latest = try #require(sets.first)
        #expect(latest.messageControlID == "M2")
        #expect(latest.patient.familyName == "刘")
        #expect(latest.observations.count == 2)
        #expect(latest.observations[0].numeric == 6.6)

        // History and interpretation: critical potassium, delta from 4.1 (rule: 1.0 mmol/L), glucose converted.
        let history = try await store.history(institution: "COUNTY-A", patientID: "P100", loinc: "2823-3")
        #expect(history.map(\.value) == [4.1, 6.6])
        let interpreted = try await store.interpret(latest)
        #expect(interpreted[0].flag == .criticalHigh)
        #expect(interpreted[0].previous == 4.1)
        #expect(interpreted[0].deltaFlag)
        #expect(interpreted[1].normalisation.unit == "mmol/L")
        #expect(abs((interpreted[1].normalisation.value ?? 0) - 108 * 10 / 180.16) < 1e-9)
        #expect(interpreted[1].flag == .normal)

        // Editable intervals and rules.
        var edited = try #require(ranges.first { $0.loinc == "2823-3" })
        edited.high = 5.1
        let saved = try await store.saveReferenceRange(edited)
        #expect(try await store.referenceRanges().first { $0.id == saved.id }?.high == 5.1)
        try await store.setDeltaRule(DeltaRule(loinc: "2823-3", absolute: 5))
        #expect(try await store.interpret(latest)[0].deltaFlag == false)

        // QC: materials and runs in one transaction, read back in order.
        let level1 = try await store.addMaterial(
            ControlMaterial(institution: "COUNTY-A", loinc: "2345-7", analyte: "Glucose", name: "L1", mean: 5, sd: 0.2, unit: "mmol/L"))
        let level2 = try await store.addMaterial(
            ControlMaterial(institution: "COUNTY-A", loinc: "2345-7", analyte: "Glucose", name: "L2", mean: 15, sd: 0.5, unit: "mmol/L"))
        let t0 = Date(timeIntervalSince1970: 1_790_000_000)
        _ = try await store.addRun(QCRun(institution: "COUNTY-A", at: t0, values: [level1.id: 5.1, level2.id: 15.2]), by: "site")
        let second = try await store.addRun(
            QCRun(institution: "COUNTY-A", at: t0.addingTimeInterval(3600), values: [level1.id: 5.7, level2.id: 14.9]), by: "site")
        await #expect(throws: LaboratoryError.self) {
            try await store.addRun(QCRun(institution: "OTHER", at: t0, values: [level1.id: 5]), by: "x")
        }
        let runs = try await store.runs(institution: "COUNTY-A")
        #expect(runs.count == 2)
        #expect(runs[1].id == second.id)
        #expect(runs[1].values[level1.id] == 5.7)
        let violations = Westgard.evaluate(runs: runs, materials: try await store.materials(institution: "COUNTY-A"))
        #expect(violations.map(\.rule) == [.oneTwoS, .oneThreeS])

        // Consultation links.
        try await store.link(requestID: 42, resultSet: latest.id)
        #expect(try await store.resultSetID(forRequest: 42) == latest.id)
        #expect(try await store.requests(forResultSet: latest.id) == [42])
        await #expect(throws: LaboratoryError.self) { try await store.link(requestID: 43, resultSet: "lab-none") }
    }
}
