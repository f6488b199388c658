import AtriumTesting
import Foundation
import Testing

@testable import Laboratory

@Suite("FHIR R4 laboratory bundles")
struct FHIRLabTests {
    @Test("A transaction Bundle built with fhir.resources reads into one result set with the values it was built from")
    func ingest() async throws {
        let directory = try Corpus.temporaryDirectory("atrium-fhir-lab")
        let path = directory + "/bundle.json"
        _ = try await python("fhir_check.py", ["make", path])
        let truth = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path + ".expected"))) as? [String: Any])
        let sets = try FHIRLab.resultSets([UInt8](Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(sets.count == 1)
        let set = try #require(sets.first)
        let patient = try #require(truth["patient"] as? [String: String])
        #expect(set.patient.id == patient["id"])
        #expect(set.patient.familyName == patient["family"])
        #expect(set.patient.givenName == patient["given"])
        #expect(set.patient.birthDate == patient["birthDate"])
        #expect(set.patient.sex.rawValue == patient["sex"])
        #expect(set.order.placerNumber == truth["placer"] as? String)
        #expect(set.order.serviceCode == truth["service"] as? String)
        let observations = try #require(truth["observations"] as? [[String: Any]])
        #expect(set.observations.count == observations.count)
        for (o, t) in zip(set.observations, observations) {
            #expect(o.loinc == t["code"] as? String)
            #expect(o.numeric == (t["numeric"] as? NSNumber)?.doubleValue)
            #expect(o.units == t["units"] as? String)
            #expect(o.abnormalFlags == t["flags"] as? [String])
        }
    }

    @Test("Bundles without observations, with a dangling reference or a non-numeric quantity are refused with the place named")
    func refused() {
        func problem(_ json: String) -> String? {
            do {
                _ = try FHIRLab.resultSets(Array(json.utf8))
                return nil
            } catch {
                return error.location
            }
        }
        #expect(problem(#"{"resourceType":"Patient"}"#) == "resourceType")
        #expect(problem(#"{"resourceType":"Bundle","type":"collection","entry":[]}"#) == "Bundle.entry")
        #expect(
            problem(
                #"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"DiagnosticReport","result":[{"reference":"Observation/x"}],"code":{}}},{"resource":{"resourceType":"Observation","id":"y","code":{"coding":[{"code":"1"}]},"valueString":"a"}}]}"#
            )?.hasPrefix("DiagnosticReport[0]") == true)
        #expect(
            problem(
                #"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","id":"p","identifier":[{"value":"1"}]}},{"resource":{"resourceType":"Observation","code":{"coding":[{"code":"1"}]},"valueQuantity":{"value":"abc"}}}]}"#
            ) == "Bundle.entry[1].valueQuantity.value")
    }

    @Test("An exported result set is a valid R4 Bundle for fhir.resources, with LOINC, UCUM, intervals and flags")
    func export() async throws {
        let text = [
            HL7Tests.header, "PID|1||P9^^^X^MR||王^伟||19800101|M", HL7Tests.obr,
            "OBX|1|NM|2823-3^Potassium^LN||6.9|mmol/l|3.5-5.3|HH|||F",
            "OBX|2|NM|2345-7^Glucose^LN||90|mg/dl||N|||F",
            "OBX|3|ST|X1^Note^L||haemolysed||||||F",
        ].joined(separator: "\r")
        var set = try #require(try ORUR01.resultSets(try HL7Message.parse(Array(text.utf8))).first)
        set.id = "lab-test-export"
        let patient = set.patient
        let interpreted = set.observations.map {
            InterpretedObservation.interpret(
                $0, patient: patient, at: set.observedAt, ranges: ReferenceRanges.defaults, deltaRules: [], previous: nil)
        }
        let directory = try Corpus.temporaryDirectory("atrium-fhir-export")
        let path = directory + "/export.json"
        try Data(FHIRLab.bundle(set, interpreted: interpreted)).write(to: URL(fileURLWithPath: path))
        let output = try await python("fhir_check.py", ["validate", path])
        let checked = try #require(try JSONSerialization.jsonObject(with: output) as? [String: Any])
        #expect(checked["type"] as? String == "collection")
        let patients = try #require(checked["patients"] as? [[String: Any]])
        #expect(patients.first?["id"] as? String == "P9")
        #expect(patients.first?["family"] as? String == "王")
        #expect(patients.first?["gender"] as? String == "male")
        #expect(patients.first?["birthDate"] as? String == "1980-01-01")
        let reports = try #require(checked["reports"] as? [[String: Any]])
        #expect(reports.first?["results"] as? Int == 3)
        let observations = try #require(checked["observations"] as? [[String: Any]])
        #expect(observations.count == 3)
        #expect(observations[0]["code"] as? String == "2823-3")
        #expect(observations[0]["system"] as? String == "http://loinc.org")
        #expect(observations[0]["value"] as? Double == 6.9)
        #expect(observations[0]["ucum"] as? String == "mmol/L")
        #expect(observations[0]["interpretation"] as? String == "HH")
        #expect(observations[0]["low"] as? Double == 3.5)
        #expect(observations[0]["high"] as? Double == 5.3)
        #expect(observations[1]["ucum"] as? String == "mg/dL")
        #expect(observations[1]["interpretation"] as? String == "N")
        #expect(observations[2]["value"] is NSNull)
    }
}
