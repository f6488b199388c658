import AtriumTesting
import Foundation
import Laboratory
import Logging
import Reading
import Server
import Testing

@Suite("Laboratory demo data")
struct LaboratoryDemoTests {
    @Test(
        "The demo maps the laboratory, stores five result sets (one critical), opens a lab consultation and records QC with 1-3s and 2-2s")
    func demo() async throws {
        var configuration = ServerConfiguration()
        configuration.dataDirectory = try Corpus.temporaryDirectory("atrium-lab-demo")
        configuration.demo = true
        let server = try AtriumServer(configuration: configuration)
        try await server.archive.blobs.prepare()
        try await server.identity.prepare()
        try await server.teaching.prepare()
        try await server.training.prepare()
        try await server.reading.prepare()
        let outcome = try await DemoSeed.run(
            configuration: configuration, archive: server.archive, identity: server.identity, logger: Logger(label: "test"))
        guard case .seeded(_, _, let steps) = outcome else { throw PeerError("the demo did not run: \(outcome)") }
        #expect(steps.contains("laboratory"))
        let lab = server.laboratory
        #expect(try await lab.institution(forFacility: LaboratoryDemo.facility) == "COUNTY-A")
        let sets = try await lab.resultSets(institution: "COUNTY-A")
        #expect(sets.count == 5)
        var critical = 0
        var deltas = 0
        for set in sets {
            let interpreted = try await lab.interpret(set)
            critical += interpreted.filter { $0.flag?.isCritical ?? false }.count
            deltas += interpreted.filter(\.deltaFlag).count
        }
        // Potassium 6.8 (HH); creatinine 132 → 214 (50 % rule) and haemoglobin 112 → 88 (20 g/L rule).
        #expect(critical == 1)
        // That potassium is on the laboratory's critical list (its patient has no open consultation).
        let listed = try await lab.criticalValues(institution: "COUNTY-A")
        #expect(listed.map(\.value) == ["6.8"] && listed.first?.requestID == nil)
        #expect(deltas == 2)
        let requests = try await server.reading.requests(institution: "COUNTY-A")
        let laboratory = requests.filter { $0.serviceLine == .laboratory }
        #expect(laboratory.count == 1)
        let request = try #require(laboratory.first)
        let linked = try #require(try await lab.resultSetID(forRequest: request.id))
        #expect(try await lab.resultSet(id: linked)?.patient.id == "LAB-0002")
        let rules = Set(
            Westgard.evaluate(
                runs: try await lab.runs(institution: "COUNTY-A"), materials: try await lab.materials(institution: "COUNTY-A")
            ).map(\.rule))
        #expect(rules.isSuperset(of: [.oneThreeS, .twoTwoS]))
    }
}
