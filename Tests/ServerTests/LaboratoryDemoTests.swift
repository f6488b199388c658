import AtriumTesting
import Foundation
import Laboratory
import Logging
import Reading
import Server
import Teaching
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
        // That result set is also a draft laboratory case of the library, without 王芳's name, ID or birth date.
        // (Creating with the demo's source key returns the case the demo made, not a new one.)
        let potassium = try #require(sets.first { $0.messageControlID == "DEMO-0004" })
        let labCase = try await server.teaching.create(
            CaseContent(title: "probe"), author: "test", institution: "test", source: "test", sourceKey: "lab-demo:\(potassium.id)")
        #expect(labCase.source == "laboratory")
        let text = [labCase.content.title, labCase.content.clinicalHistory, labCase.content.findings, labCase.content.discussion]
            .joined(separator: "\n")
        #expect(text.contains("Potassium | 2823-3 | 6.8 | mmol/L"))
        for value in ["王芳", "王", "LAB-0001", "1968-04-15", "19680415", "2026-12-03"] { #expect(!text.contains(value), "\(value)") }
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
