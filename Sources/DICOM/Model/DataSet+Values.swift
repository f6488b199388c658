import Foundation

extension DataSet {
    // MARK: Reading text

    /// All values of a text element, decoded through the character set, with padding removed; binary VRs are
    /// rendered as numbers.
    public func strings(_ tag: Tag) -> [String] {
        guard let element = self[tag] else { return [] }
        return element.strings(characterSet: characterSet)
    }

    /// The first value of an element as text, or nil when absent or empty.
    public func string(_ tag: Tag) -> String? {
        guard let element = self[tag] else { return nil }
        if element.vr.isSingleValuedText {
            guard let b = element.bytes else { return nil }
            let s = b.withUnsafeBytes { characterSet.decode($0, vr: element.vr) }.trimmingTrailingPadding(leading: false)
            return s.isEmpty ? nil : s
        }
        return element.strings(characterSet: characterSet).first.flatMap { $0.isEmpty ? nil : $0 }
    }

    // MARK: Reading numbers

    /// All values of a numeric element: binary integers and floats, IS and DS.
    public func doubles(_ tag: Tag) -> [Double] {
        guard let element = self[tag] else { return [] }
        return element.doubles()
    }

    /// All values as integers (binary integer VRs and IS; DS values that are whole numbers).
    public func ints(_ tag: Tag) -> [Int] {
        guard let element = self[tag] else { return [] }
        return element.ints()
    }

    /// The first value as an integer.
    public func int(_ tag: Tag) -> Int? { ints(tag).first }
    /// The first value as a floating-point number.
    public func double(_ tag: Tag) -> Double? { doubles(tag).first }

    /// The items of a sequence; empty when absent.
    public func items(_ tag: Tag) -> [DataSet] { self[tag]?.items ?? [] }

    /// A person name (PN), with its component groups.
    public func personName(_ tag: Tag) -> PersonName? { string(tag).map(PersonName.init) }
    /// A date (DA).
    public func date(_ tag: Tag) -> DICOMDate? { string(tag).flatMap(DICOMDate.init) }
    /// A time (TM).
    public func time(_ tag: Tag) -> DICOMTime? { string(tag).flatMap(DICOMTime.init) }
    /// A date-time (DT).
    public func dateTime(_ tag: Tag) -> DICOMDateTime? { string(tag).flatMap(DICOMDateTime.init) }
    /// An age string (AS).
    public func age(_ tag: Tag) -> AgeString? { string(tag).flatMap(AgeString.init) }
    /// Attribute tags (AT).
    public func tags(_ tag: Tag) -> [Tag] { self[tag]?.tags() ?? [] }

    // MARK: Writing

    /// Sets a text element; multiple values are joined with backslashes, the bytes padded to even length.
    public mutating func set(_ tag: Tag, _ vr: VR, _ values: [String]) {
        let text = values.joined(separator: "\\")
        var bytes = vr.usesSpecificCharacterSet ? characterSet.encode(text, vr: vr) : Array(text.utf8)
        if bytes.count % 2 == 1 { bytes.append(vr.paddingByte) }
        self[tag] = DataElement(tag: tag, vr: vr, bytes: bytes)
    }

    /// Sets a single-valued text element.
    public mutating func set(_ tag: Tag, _ vr: VR, _ value: String) { set(tag, vr, [value]) }

    /// Sets a text element with the VR the dictionary gives (UN tags become LO).
    public mutating func set(_ tag: Tag, _ value: String) {
        let vr = DataDictionary.entry(for: tag)?.vr ?? .LO
        set(tag, vr.isString ? vr : .LO, [value])
    }

    /// Sets a binary integer element (US, SS, UL, SL, UV, SV) or IS.
    public mutating func set(_ tag: Tag, _ vr: VR, integers values: [Int]) {
        var bytes: [UInt8] = []
        switch vr {
        case .US, .OW: for v in values { appendLE(&bytes, UInt16(truncatingIfNeeded: v)) }
        case .SS: for v in values { appendLE(&bytes, UInt16(bitPattern: Int16(truncatingIfNeeded: v))) }
        case .UL, .OL: for v in values { appendLE(&bytes, UInt32(truncatingIfNeeded: v)) }
        case .SL: for v in values { appendLE(&bytes, UInt32(bitPattern: Int32(truncatingIfNeeded: v))) }
        case .UV, .OV: for v in values { appendLE(&bytes, UInt64(truncatingIfNeeded: v)) }
        case .SV: for v in values { appendLE(&bytes, UInt64(bitPattern: Int64(v))) }
        default:
            set(tag, vr, values.map(String.init))
            return
        }
        self[tag] = DataElement(tag: tag, vr: vr, bytes: bytes)
    }

    /// Sets a floating-point element (FL, FD) or DS.
    public mutating func set(_ tag: Tag, _ vr: VR, doubles values: [Double]) {
        var bytes: [UInt8] = []
        switch vr {
        case .FL, .OF: for v in values { appendLE(&bytes, Float(v).bitPattern) }
        case .FD, .OD: for v in values { appendLE(&bytes, v.bitPattern) }
        default:
            set(tag, vr, values.map { formatDecimalString($0) })
            return
        }
        self[tag] = DataElement(tag: tag, vr: vr, bytes: bytes)
    }

    /// Sets a sequence.
    public mutating func set(_ tag: Tag, items: [DataSet]) {
        self[tag] = DataElement(tag: tag, vr: .SQ, value: .sequence(items))
    }
}

func appendLE<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ value: T) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
}

/// A DS value of at most 16 characters (PS3.5 6.2).
func formatDecimalString(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    var s = String(value)
    if s.count > 16 {
        for precision in stride(from: 15, through: 1, by: -1) {
            s = String(format: "%.\(precision)g", value)
            if s.count <= 16 { break }
        }
    }
    return s
}

extension DataElement {
    /// All values as text. Text VRs are split at backslashes (except LT, ST, UT, UR) and trimmed of padding;
    /// numbers and tags are formatted.
    public func strings(characterSet: SpecificCharacterSet) -> [String] {
        guard let b = bytes else { return [] }
        if vr.isString {
            if b.isEmpty { return [] }
            if let fast = b.withUnsafeBytes({ asciiStrings($0, characterSet: characterSet) }) { return fast }
            let text = b.withUnsafeBytes { raw in
                vr.usesSpecificCharacterSet ? characterSet.decode(raw, vr: vr) : decodeASCIIish(raw)
            }
            if vr.isSingleValuedText {
                let single = text.trimmingTrailingPadding(leading: false)
                return single.isEmpty ? [] : [single]
            }
            if text.allSatisfy({ $0 == " " || $0 == "\0" }) { return [] }
            let leading = vr != .UC
            return text.split(separator: "\\", omittingEmptySubsequences: false).map {
                $0.trimmingTrailingPadding(leading: leading)
            }
        }
        switch vr {
        case .FL, .FD, .OF, .OD: return doubles().map { formatNumber($0) }
        case .AT: return tags().map { $0.description }
        case .SS, .US, .SL, .UL, .SV, .UV: return integerStrings()
        default: return []
        }
    }

    /// The values of a plain-ASCII text value, split and trimmed as bytes (the hot path of indexing and JSON);
    /// nil when the bytes need the character set's decoder.
    private func asciiStrings(_ raw: UnsafeRawBufferPointer, characterSet: SpecificCharacterSet) -> [String]? {
        var out: [String] = []
        let plain = forEachASCIIValue(raw, characterSet: characterSet) { value in
            out.append(String(decoding: value, as: UTF8.self))
        }
        return plain ? out : nil
    }

    /// Calls `body` with each value of a plain-ASCII text value, split at backslashes (except in LT, ST, UT, UR) and
    /// trimmed of padding as bytes; returns false, calling nothing, when the bytes need the character set's decoder.
    func forEachASCIIValue(_ raw: UnsafeRawBufferPointer, characterSet: SpecificCharacterSet, _ body: (UnsafeRawBufferPointer) -> Void)
        -> Bool
    {
        if vr.usesSpecificCharacterSet && !characterSet.asciiIsIdentity { return false }
        for byte in raw where byte >= 0x80 || byte == 0x1B { return false }
        let single = vr.isSingleValuedText
        let trimLeading = !single && vr != .UC
        var ranges: [Range<Int>] = []
        var start = 0
        let count = raw.count
        var i = 0
        var anyContent = false
        while i <= count {
            if i == count || (!single && raw[i] == 0x5C) {
                var a = start
                var e = i
                while e > a, raw[e - 1] == 0x20 || raw[e - 1] == 0x00 { e -= 1 }
                if trimLeading { while a < e, raw[a] == 0x20 { a += 1 } }
                if e > a { anyContent = true }
                ranges.append(a..<e)
                start = i + 1
            }
            i += 1
        }
        // An all-padding value has no values (VM 0).
        guard anyContent else { return true }
        for r in ranges { body(UnsafeRawBufferPointer(rebasing: raw[r])) }
        return true
    }

    /// Binary integer values as text, exact for 64-bit ones.
    func integerStrings() -> [String] {
        switch vr {
        case .UV: return uint64Values().map { String($0) }
        default: return ints().map { String($0) }
        }
    }

    /// All values as numbers.
    public func doubles() -> [Double] {
        guard let b = bytes else { return [] }
        switch vr {
        case .FL, .OF:
            return readBinary(b, UInt32.self).map { Double(Float(bitPattern: $0)) }
        case .FD, .OD:
            return readBinary(b, UInt64.self).map { Double(bitPattern: $0) }
        case .DS, .IS:
            return strings(characterSet: .default).compactMap { Double($0) }
        case .UV: return uint64Values().map(Double.init)
        default:
            return ints().map(Double.init)
        }
    }

    /// All values as integers.
    public func ints() -> [Int] {
        guard let b = bytes else { return [] }
        switch vr {
        case .US, .OW: return readBinary(b, UInt16.self).map { Int($0) }
        case .SS: return readBinary(b, UInt16.self).map { Int(Int16(bitPattern: $0)) }
        case .UL, .OL: return readBinary(b, UInt32.self).map { Int($0) }
        case .SL: return readBinary(b, UInt32.self).map { Int(Int32(bitPattern: $0)) }
        case .SV, .OV: return readBinary(b, UInt64.self).map { Int(Int64(bitPattern: $0)) }
        case .UV: return readBinary(b, UInt64.self).map { Int(truncatingIfNeeded: $0) }
        case .IS: return strings(characterSet: .default).compactMap { Int($0) }
        case .DS: return strings(characterSet: .default).compactMap { Double($0) }.compactMap { $0 == $0.rounded() ? Int($0) : nil }
        default: return []
        }
    }

    /// UV values without truncation.
    public func uint64Values() -> [UInt64] {
        guard let b = bytes, vr == .UV || vr == .OV else { return [] }
        return readBinary(b, UInt64.self)
    }

    /// AT values.
    public func tags() -> [Tag] {
        guard let b = bytes, vr == .AT else { return [] }
        let halves = readBinary(b, UInt16.self)
        return stride(from: 0, to: halves.count - 1, by: 2).map { Tag(halves[$0], halves[$0 + 1]) }
    }

    func readBinary<T: FixedWidthInteger>(_ b: ByteSlice, _ type: T.Type) -> [T] {
        let size = MemoryLayout<T>.size
        let little = isLittleEndian
        return b.withUnsafeBytes { raw in
            let n = raw.count / size
            var out = [T]()
            out.reserveCapacity(n)
            for i in 0..<n {
                let v = raw.loadUnaligned(fromByteOffset: i * size, as: T.self)
                out.append(little ? T(littleEndian: v) : T(bigEndian: v))
            }
            return out
        }
    }
}

/// Text of a VR outside Specific Character Set: ASCII in theory, Latin-1 in practice.
func decodeASCIIish(_ raw: UnsafeRawBufferPointer) -> String {
    for byte in raw where byte >= 0x80 {
        return String(String.UnicodeScalarView(raw.map { Unicode.Scalar($0) }))
    }
    return String(decoding: raw, as: UTF8.self)
}

/// Formats a binary floating-point value as the shortest text that reads back to it.
func formatNumber(_ value: Double) -> String {
    if value.isNaN { return "NaN" }
    if value.isInfinite { return value > 0 ? "inf" : "-inf" }
    if value == value.rounded(), abs(value) < 1e16 { return String(Int64(value)) }
    return String(value)
}

extension StringProtocol {
    /// Removes DICOM padding: trailing spaces and NULs, and leading spaces when `leading`.
    func trimmingTrailingPadding(leading: Bool) -> String {
        var s = Substring(self)
        while let last = s.last, last == " " || last == "\0" { s = s.dropLast() }
        if leading { while s.first == " " { s = s.dropFirst() } }
        return String(s)
    }
}
