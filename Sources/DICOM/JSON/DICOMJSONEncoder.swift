import Foundation

/// Encodes datasets in the DICOM JSON Model (PS3.18 F.2).
public struct DICOMJSONEncoder: Sendable {
    /// What to do with a bulk value (OB, OD, OF, OL, OV, OW, UN and encapsulated pixel data).
    public enum BulkDataPolicy: Sendable {
        /// Always base64 in `InlineBinary`.
        case inline
        /// `BulkDataURI` from the closure for values longer than `thresholdBytes`, inline below it.
        case uri(thresholdBytes: Int, make: @Sendable (_ path: [Tag], _ element: DataElement) -> String)
        /// Leave bulk values out (the element keeps only its VR).
        case omit
    }

    public var bulkData: BulkDataPolicy
    /// Whether to indent the output for people.
    public var prettyPrinted: Bool

    public init(bulkData: BulkDataPolicy = .inline, prettyPrinted: Bool = false) {
        self.bulkData = bulkData
        self.prettyPrinted = prettyPrinted
    }

    /// The JSON object for a dataset, as UTF-8 bytes.
    public func encode(_ dataSet: DataSet) -> [UInt8] {
        var out = JSONOutput(pretty: prettyPrinted)
        out.bytes.reserveCapacity(dataSet.count * 64)
        writeDataSet(dataSet, path: [], into: &out, level: 0)
        return out.bytes
    }

    /// The JSON array of several datasets (a QIDO-RS or metadata response).
    public func encode(array dataSets: [DataSet]) -> [UInt8] {
        var out = JSONOutput(pretty: prettyPrinted)
        out.raw("[")
        for (i, ds) in dataSets.enumerated() {
            if i > 0 { out.raw(",") }
            out.newline(1)
            writeDataSet(ds, path: [], into: &out, level: 1)
        }
        out.newline(0)
        out.raw("]")
        return out.bytes
    }

    /// Appends one dataset's JSON object.
    public func writeDataSet(_ dataSet: DataSet, path: [Tag], into out: inout JSONOutput, level: Int) {
        out.raw("{")
        var first = true
        for element in dataSet.elements {
            if !first { out.raw(",") }
            first = false
            out.newline(level + 1)
            out.bytes.append(0x22)
            out.hex(element.tag.rawValue)
            out.raw(out.pretty ? "\": " : "\":")
            // The path to an element is only needed to name its bulk data.
            let elementPath = needsPaths ? path + [element.tag] : path
            writeElement(element, in: dataSet, path: elementPath, into: &out, level: level + 1)
        }
        if !first { out.newline(level) }
        out.raw("}")
    }

    private var needsPaths: Bool {
        if case .uri = bulkData { return true }
        return false
    }

    private func writeElement(_ element: DataElement, in dataSet: DataSet, path: [Tag], into out: inout JSONOutput, level: Int) {
        out.raw("{\"vr\":\"")
        out.raw(element.vr.description)
        out.raw("\"")
        switch element.value {
        case .sequence(let items):
            out.raw(",\"Value\":[")
            for (i, item) in items.enumerated() {
                if i > 0 { out.raw(",") }
                writeDataSet(item, path: path, into: &out, level: level + 1)
            }
            out.raw("]")
        case .encapsulated(let pixels):
            writeBulk(element, bytes: encapsulatedBytes(pixels, includingDelimiter: false), path: path, into: &out)
        case .bytes(let bytes):
            if bytes.isEmpty { break }
            if element.vr.isBulk {
                writeBulk(element, bytes: dataSet.littleEndianBytes(of: element), path: path, into: &out)
                break
            }
            writeValues(element, bytes: bytes, characterSet: dataSet.characterSet, into: &out)
        }
        out.raw("}")
    }

    private func writeBulk(_ element: DataElement, bytes: ByteSlice, path: [Tag], into out: inout JSONOutput) {
        switch bulkData {
        case .omit:
            return
        case .uri(let threshold, let make) where bytes.count > threshold:
            out.raw(",\"BulkDataURI\":")
            out.string(make(path, element))
        default:
            out.raw(",\"InlineBinary\":\"")
            bytes.withUnsafeBytes { out.base64($0) }
            out.raw("\"")
        }
    }

    private func writeValues(_ element: DataElement, bytes: ByteSlice, characterSet: SpecificCharacterSet, into out: inout JSONOutput) {
        switch element.vr {
        case .PN:
            let names = element.strings(characterSet: characterSet)
            if names.isEmpty { return }
            out.raw(",\"Value\":[")
            for (i, name) in names.enumerated() {
                if i > 0 { out.raw(",") }
                writePersonName(name, into: &out)
            }
            out.raw("]")
        case .AT:
            out.raw(",\"Value\":[")
            for (i, t) in element.tags().enumerated() {
                if i > 0 { out.raw(",") }
                out.bytes.append(0x22)
                out.hex(t.rawValue)
                out.bytes.append(0x22)
            }
            out.raw("]")
        case .US, .SS, .UL, .SL, .SV, .UV, .FL, .FD:
            out.raw(",\"Value\":[")
            if element.vr == .FL || element.vr == .FD {
                for (i, v) in element.doubles().enumerated() {
                    if i > 0 { out.raw(",") }
                    out.number(v)
                }
            } else {
                for (i, v) in element.integerStrings().enumerated() {
                    if i > 0 { out.raw(",") }
                    out.raw(v)
                }
            }
            out.raw("]")
        case .IS, .DS:
            let texts = element.strings(characterSet: characterSet)
            if texts.isEmpty { return }
            out.raw(",\"Value\":[")
            for (i, text) in texts.enumerated() {
                if i > 0 { out.raw(",") }
                if text.isEmpty {
                    out.raw("null")
                } else if element.vr == .IS, let v = Int(text.hasPrefix("+") ? String(text.dropFirst()) : text) {
                    out.raw(String(v))
                } else if let v = Double(text), v.isFinite {
                    out.number(v)
                } else {
                    out.string(text)
                }
            }
            out.raw("]")
        default:
            // Plain ASCII values go from the file's bytes to the JSON text without Swift strings in between.
            var first = true
            let plain = bytes.withUnsafeBytes { raw in
                element.forEachASCIIValue(raw, characterSet: characterSet) { value in
                    out.raw(first ? ",\"Value\":[" : ",")
                    first = false
                    out.string(bytes: value)
                }
            }
            if plain {
                if !first { out.bytes.append(0x5D) }
                return
            }
            let texts = element.strings(characterSet: characterSet)
            if texts.isEmpty { return }
            out.raw(",\"Value\":[")
            for (i, text) in texts.enumerated() {
                if i > 0 { out.raw(",") }
                out.string(text)
            }
            out.raw("]")
        }
    }

    /// PN as an object of component groups; groups are present as far as the value spells them (PS3.18 F.2.2).
    private func writePersonName(_ name: String, into out: inout JSONOutput) {
        var groups = name.split(separator: "=", maxSplits: 2, omittingEmptySubsequences: false)
        while groups.count > 1, let last = groups.last, last.isEmpty { groups.removeLast() }
        out.raw("{")
        let keys = ["Alphabetic", "Ideographic", "Phonetic"]
        for (i, group) in groups.enumerated() {
            if i > 0 { out.raw(",") }
            out.raw("\"")
            out.raw(keys[i])
            out.raw("\":")
            out.string(String(group))
        }
        out.raw("}")
    }
}

/// The bytes of encapsulated pixel data as they are encoded: the offset table item, fragment items and the
/// sequence delimiter (PS3.5 A.4). DICOM JSON carries them inline without the delimiter, as pydicom does.
public func encapsulatedBytes(_ pixels: EncapsulatedPixelData, includingDelimiter: Bool = true) -> ByteSlice {
    var out: [UInt8] = []
    out.reserveCapacity(pixels.fragments.reduce(16 + pixels.basicOffsetTable.count) { $0 + $1.count + 9 })
    func item(_ f: ByteSlice) {
        out += [0xFE, 0xFF, 0x00, 0xE0]
        appendLE(&out, UInt32(f.count + (f.count & 1)))
        f.withUnsafeBytes { out.append(contentsOf: $0) }
        if f.count & 1 == 1 { out.append(0) }
    }
    item(pixels.basicOffsetTable)
    for f in pixels.fragments { item(f) }
    if includingDelimiter { out += [0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0] }
    return ByteSlice(out)
}

/// A growing UTF-8 JSON text.
public struct JSONOutput {
    public var bytes: [UInt8] = []
    public let pretty: Bool

    public init(pretty: Bool = false) { self.pretty = pretty }

    @inline(__always) public mutating func raw(_ s: String) {
        var s = s
        s.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// Eight upper-case hex digits, as DICOM JSON writes tags (PS3.18 F.2.1.1).
    @inline(__always) public mutating func hex(_ value: UInt32) {
        for i in 0..<8 {
            let nibble = UInt8((value >> (28 - 4 * UInt32(i))) & 0xF)
            bytes.append(nibble < 10 ? 0x30 + nibble : 0x37 + nibble)
        }
    }

    mutating func newline(_ level: Int) {
        guard pretty else { return }
        bytes.append(0x0A)
        bytes.append(contentsOf: repeatElement(0x20, count: level * 2))
    }

    /// A JSON string with escapes (RFC 8259 7).
    public mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { string(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// A JSON string from UTF-8 bytes, with escapes (RFC 8259 7).
    public mutating func string(bytes raw: UnsafeRawBufferPointer) {
        bytes.append(0x22)
        do {
            let utf8 = raw.assumingMemoryBound(to: UInt8.self)
            var runStart = 0
            for i in 0..<utf8.count {
                let c = utf8[i]
                if c >= 0x20 && c != 0x22 && c != 0x5C { continue }
                if i > runStart { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i])) }
                runStart = i + 1
                switch c {
                case 0x22: bytes += [0x5C, 0x22]
                case 0x5C: bytes += [0x5C, 0x5C]
                case 0x0A: bytes += [0x5C, 0x6E]
                case 0x0D: bytes += [0x5C, 0x72]
                case 0x09: bytes += [0x5C, 0x74]
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    bytes += [0x5C, 0x75, 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 0xF)]]
                }
            }
            if runStart < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count])) }
        }
        bytes.append(0x22)
    }

    /// A JSON number: integers without a fraction, others in the shortest form that reads back exactly.
    public mutating func number(_ v: Double) {
        if !v.isFinite {
            string(v.isNaN ? "NaN" : (v > 0 ? "Infinity" : "-Infinity"))
        } else if v == v.rounded(), abs(v) < 1e15 {
            raw(String(Int64(v)))
        } else {
            raw(String(v))
        }
    }

    /// Base64 (RFC 4648) of `data`.
    public mutating func base64(_ data: UnsafeRawBufferPointer) {
        let table = base64Alphabet
        let n = data.count
        var i = 0
        bytes.reserveCapacity(bytes.count + (n + 2) / 3 * 4)
        while i + 3 <= n {
            let v = UInt32(data[i]) << 16 | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2])
            bytes.append(table[Int(v >> 18 & 63)])
            bytes.append(table[Int(v >> 12 & 63)])
            bytes.append(table[Int(v >> 6 & 63)])
            bytes.append(table[Int(v & 63)])
            i += 3
        }
        if n - i == 1 {
            let v = UInt32(data[i]) << 16
            bytes += [table[Int(v >> 18 & 63)], table[Int(v >> 12 & 63)], 0x3D, 0x3D]
        } else if n - i == 2 {
            let v = UInt32(data[i]) << 16 | UInt32(data[i + 1]) << 8
            bytes += [table[Int(v >> 18 & 63)], table[Int(v >> 12 & 63)], table[Int(v >> 6 & 63)], 0x3D]
        }
    }
}

private let base64Alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
