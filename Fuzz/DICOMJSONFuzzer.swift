// libFuzzer entry point for DICOM JSON decoding (PS3.18 F.2) as the UPS-RS routes and the QIDO/STOW JSON paths read a
// request body: DICOMJSONDecoder's decode and decodeArray, compiled with the DICOM module's sources by scripts/fuzz.
// From the outside: whatever it accepts, DICOMJSONEncoder writes back, the decoder reads that again to a data set with
// the same tags, and DataSetWriter can write it as a Part 10 body. The JSON API's own bodies go through the same
// JSONSerialization parser first, which the fuzzer runs on every input too.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDICOMJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(UnsafeBufferPointer(start: data, count: size))
    _ = try? JSONSerialization.jsonObject(with: bytes, options: [.fragmentsAllowed])
    let decoder = DICOMJSONDecoder()
    var decoded: [DataSet] = []
    if let one = try? decoder.decode(bytes) { decoded.append(one) }
    if let list = try? decoder.decodeArray(bytes) { decoded += list }
    for dataSet in decoded.prefix(4) {
        let encoded = DICOMJSONEncoder().encode(dataSet)
        guard let again = try? decoder.decode(Data(encoded)) else {
            preconditionFailure(
                "DICOM JSON the decoder accepted, written back by the encoder, is refused: \(String(decoding: encoded.prefix(400), as: UTF8.self))"
            )
        }
        precondition(Set(again.elements.map(\.tag)) == Set(dataSet.elements.map(\.tag)), "a round trip changed the tags")
        var writer = DataSetWriter(transferSyntax: .explicitVRLittleEndian)
        writer.write(dataSet)
    }
    return 0
}
