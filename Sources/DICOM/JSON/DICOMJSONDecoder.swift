import Foundation

/// Decodes datasets from the DICOM JSON Model (PS3.18 F.2).
public struct DICOMJSONDecoder: Sendable {
    /// Fetches the bytes of a `BulkDataURI`; nil leaves the value empty.
    public var resolveBulkData: (@Sendable (String) throws -> [UInt8]?)?

    public init(resolveBulkData: (@Sendable (String) throws -> [UInt8]?)? = nil) {
        self.resolveBulkData = resolveBulkData
    }

    /// Decodes one dataset object.
    public func decode(_ data: Data) throws -> DataSet {
        let object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        guard let dictionary = object as? [String: Any] else { throw DICOMJSONError.notAnObject(path: "") }
        return try decodeDataSet(dictionary, path: "", top: true)
    }

    /// Decodes an array of dataset objects.
    public func decodeArray(_ data: Data) throws -> [DataSet] {
        let object = try JSONSerialization.jsonObject(with: data)
        guard let array = object as? [[String: Any]] else { throw DICOMJSONError.notAnObject(path: "[]") }
        return try array.enumerated().map { try decodeDataSet($1, path: "[\($0)]", top: true) }
    }

    private func decodeDataSet(_ object: [String: Any], path: String, top: Bool) throws -> DataSet {
        // JSON text is Unicode: values are stored as UTF-8 and (0008,0005) says so (PS3.18 F.2.1).
        var ds = DataSet(characterSet: .utf8)
        for (key, value) in object {
            guard let tag = Tag(hexString: key) else { throw DICOMJSONError.badTag(path: path, key: key) }
            let here = path + "/" + key
            guard let attribute = value as? [String: Any], let vrName = attribute["vr"] as? String, let vr = VR(vrName) else {
                throw DICOMJSONError.badVR(path: here)
            }
            ds[tag] = try decodeElement(tag: tag, vr: vr, attribute, path: here)
        }
        // Text is stored as UTF-8: say so at the top, and in any item that declared a repertoire of its own.
        if ds.contains(.specificCharacterSet) || (top && ds.elements.contains(where: { $0.vr.usesSpecificCharacterSet })) {
            ds.set(.specificCharacterSet, .CS, "ISO_IR 192")
        }
        ds.characterSet = .utf8
        return ds
    }

    private func decodeElement(tag: Tag, vr: VR, _ attribute: [String: Any], path: String) throws -> DataElement {
        // A sequence holds items: bytes in one would be written back as text no reader takes (found by Fuzz/DICOMJSONFuzzer).
        if vr == .SQ, attribute["InlineBinary"] != nil || attribute["BulkDataURI"] != nil {
            throw DICOMJSONError.badValue(
                path: path, reason: "a sequence (SQ) holds items in Value, not InlineBinary or BulkDataURI (PS3.18 F.2.7)")
        }
        if let inline = attribute["InlineBinary"] as? String {
            guard let data = Data(base64Encoded: inline) else {
                throw DICOMJSONError.badValue(path: path, reason: "InlineBinary is not base64")
            }
            return DataElement(tag: tag, vr: vr, bytes: [UInt8](data))
        }
        if let uri = attribute["BulkDataURI"] as? String {
            let bytes = try resolveBulkData?(uri) ?? []
            return DataElement(tag: tag, vr: vr, bytes: bytes)
        }
        guard let values = attribute["Value"] as? [Any] else {
            return vr == .SQ ? DataElement(tag: tag, vr: .SQ, value: .sequence([])) : DataElement(tag: tag, vr: vr, bytes: [])
        }
        var scratch = DataSet(characterSet: .utf8)
        switch vr {
        case .SQ:
            let items = try values.enumerated().map { i, v -> DataSet in
                guard let o = v as? [String: Any] else { throw DICOMJSONError.notAnObject(path: path + "[\(i)]") }
                return try decodeDataSet(o, path: path + "[\(i)]", top: false)
            }
            return DataElement(tag: tag, vr: .SQ, value: .sequence(items))
        case .PN:
            let names = try values.map { v -> String in
                if v is NSNull { return "" }
                guard let o = v as? [String: Any] else { throw DICOMJSONError.badValue(path: path, reason: "PN value is not an object") }
                var groups = [o["Alphabetic"] as? String ?? "", o["Ideographic"] as? String ?? "", o["Phonetic"] as? String ?? ""]
                while let last = groups.last, last.isEmpty { groups.removeLast() }
                return groups.joined(separator: "=")
            }
            scratch.set(tag, .PN, names)
        case .AT:
            let tags = try values.map { v -> Tag in
                guard let s = v as? String, let t = Tag(hexString: s) else {
                    throw DICOMJSONError.badValue(path: path, reason: "AT value is not 8 hex digits")
                }
                return t
            }
            var bytes: [UInt8] = []
            for t in tags {
                appendLE(&bytes, t.group)
                appendLE(&bytes, t.element)
            }
            return DataElement(tag: tag, vr: .AT, bytes: bytes)
        case .US, .SS, .UL, .SL, .SV, .UV:
            let numbers = try values.map { v -> Int in
                if let n = v as? NSNumber { return n.intValue }
                if let s = v as? String, let n = Int(s) { return n }
                throw DICOMJSONError.badValue(path: path, reason: "\(vr) value is not an integer")
            }
            scratch.set(tag, vr, integers: numbers)
        case .FL, .FD:
            let numbers = try values.map { v -> Double in
                if let n = v as? NSNumber { return n.doubleValue }
                if let s = v as? String, let n = Double(s) { return n }
                throw DICOMJSONError.badValue(path: path, reason: "\(vr) value is not a number")
            }
            scratch.set(tag, vr, doubles: numbers)
        case .IS, .DS:
            let texts = values.map { v -> String in
                if v is NSNull { return "" }
                if let n = v as? NSNumber {
                    if vr == .IS { return String(n.int64Value) }
                    return formatDecimalString(n.doubleValue)
                }
                return v as? String ?? ""
            }
            scratch.set(tag, vr, texts)
        default:
            let texts = values.map { v -> String in
                if v is NSNull { return "" }
                if let s = v as? String { return s }
                if let n = v as? NSNumber { return n.stringValue }
                return ""
            }
            scratch.set(tag, vr, texts)
        }
        return scratch[tag] ?? DataElement(tag: tag, vr: vr, bytes: [])
    }
}

/// Why a DICOM JSON document could not be decoded.
public enum DICOMJSONError: Error, Sendable, CustomStringConvertible {
    case notAnObject(path: String)
    case badTag(path: String, key: String)
    case badVR(path: String)
    case badValue(path: String, reason: String)

    public var description: String {
        switch self {
        case .notAnObject(let path): "DICOM JSON: expected an object at \(path.isEmpty ? "the top" : path)"
        case .badTag(let path, let key): "DICOM JSON: \"\(key)\" at \(path.isEmpty ? "the top" : path) is not a tag (8 hex digits)"
        case .badVR(let path): "DICOM JSON: \(path) has no valid \"vr\""
        case .badValue(let path, let reason): "DICOM JSON: \(path): \(reason)"
        }
    }
}
