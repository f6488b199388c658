import AtriumTesting
import DICOM
import Foundation
import Testing

/// The JSON without (0008,0005) at any level.
func withoutCharacterSet(_ json: Any) -> Any {
    guard var object = json as? [String: Any] else { return json }
    object["00080005"] = nil
    for (key, value) in object {
        if var attribute = value as? [String: Any], attribute["vr"] as? String == "SQ", let items = attribute["Value"] as? [Any] {
            attribute["Value"] = items.map(withoutCharacterSet)
            object[key] = attribute
        }
    }
    return object
}

@Suite("DICOM JSON decoding")
struct JSONDecodingTests {
    /// pydicom's JSON of a file, decoded by Atrium and encoded again, is pydicom's JSON: nothing lost or changed.
    @Test("pydicom's JSON survives Atrium's decoder and encoder", arguments: PydicomReference.files.filter { !$0.contains("badVR") })
    func pydicomJSONRoundTrip(path: String) throws {
        guard let reference = try PydicomReference.shared.reference(stopBeforePixels: true)[path]?["json"] as? [String: Any] else { return }
        let data = try JSONSerialization.data(withJSONObject: reference)
        let decoded = try DICOMJSONDecoder().decode(data)
        let again = try JSONSerialization.jsonObject(with: Data(DICOMJSONEncoder().encode(decoded)))
        // The decoder records that JSON text is Unicode by setting (0008,0005) to ISO_IR 192. A DS number is written
        // back in at most 16 characters (PS3.5 6.2), so a longer one in the file keeps 15 significant digits.
        let differences = jsonDifferences(
            withoutCharacterSet(reference), withoutCharacterSet(again), trimmingStrings: true,
            relativeTolerance: 1e-14)
        #expect(differences.isEmpty, "\((path as NSString).lastPathComponent):\n\(differences.joined(separator: "\n"))")
    }

    @Test("BulkDataURI values are fetched through the resolver, and bad documents give the path of the problem")
    func bulkDataAndErrors() throws {
        let json =
            #"{"7FE00010":{"vr":"OW","BulkDataURI":"http://x/bulk/1"},"00100010":{"vr":"PN","Value":[{"Alphabetic":"Li^Si","Ideographic":"李^四"}]}}"#
        let decoder = DICOMJSONDecoder { uri in uri == "http://x/bulk/1" ? [1, 2, 3, 4] : nil }
        let ds = try decoder.decode(Data(json.utf8))
        #expect(ds[.pixelData]?.bytes?.array == [1, 2, 3, 4])
        #expect(ds.string(.patientName) == "Li^Si=李^四")
        #expect(throws: DICOMJSONError.self) { _ = try DICOMJSONDecoder().decode(Data(#"{"0010001":{"vr":"PN"}}"#.utf8)) }
        #expect(throws: DICOMJSONError.self) { _ = try DICOMJSONDecoder().decode(Data(#"{"00100010":{"vr":"XX"}}"#.utf8)) }
    }

    @Test("A sequence given InlineBinary or BulkDataURI is refused with its path, not taken as bytes (a fuzzer finding)")
    func sequenceWithBinaryIsRefused() throws {
        for json in [#"{"0040A370":{"vr":"SQ","InlineBinary":"AAEC"}}"#, #"{"0040A370":{"vr":"SQ","BulkDataURI":"http://x/1"}}"#] {
            #expect(throws: DICOMJSONError.self, "\(json)") { _ = try DICOMJSONDecoder().decode(Data(json.utf8)) }
        }
    }

    @Test(
        "Every input Fuzz/DICOMJSONFuzzer found is decoded or refused, and what is decoded is written back and read again with the same tags",
        arguments: (try? FileManager.default.contentsOfDirectory(atPath: Corpus.repositoryRoot + "/Fuzz/regressions/json")) ?? [])
    func fuzzRegressions(name: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Corpus.repositoryRoot + "/Fuzz/regressions/json/" + name))
        var decoded: [DataSet] = []
        if let one = try? DICOMJSONDecoder().decode(data) { decoded.append(one) }
        if let list = try? DICOMJSONDecoder().decodeArray(data) { decoded += list }
        for dataSet in decoded {
            let again = try DICOMJSONDecoder().decode(Data(DICOMJSONEncoder().encode(dataSet)))
            #expect(Set(again.elements.map(\.tag)) == Set(dataSet.elements.map(\.tag)))
        }
    }
}
