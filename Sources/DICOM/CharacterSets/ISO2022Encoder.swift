/// Writes values with ISO 2022 code extension techniques as DICOM restricts them (PS3.5 6.1.2.5): each character
/// goes into the set already designated if it can, else into the first set of (0008,0005) that has it, after the
/// escape sequence that designates that set; the sets of value 1 are made active again before every control
/// character, value delimiter and PN delimiter, and at the end of the value (PS3.5 6.1.2.5.3). This gives the
/// bytes of the examples in PS3.5 Annexes H, I and K.
struct ISO2022Encoder {
    let profile: ISO2022Profile
    let vr: VR
    /// Whether escape sequences may be written (multi-valued (0008,0005), PS3.5 6.1.2.5.1).
    let codeExtensions: Bool

    private var g0: GraphicCharacterSet
    private var g1: GraphicCharacterSet?
    private(set) var output: [UInt8] = []
    /// False once a character had no code in any permitted set and was written as "?".
    private(set) var isLossless = true

    init(profile: ISO2022Profile, vr: VR, codeExtensions: Bool) {
        self.profile = profile
        self.vr = vr
        self.codeExtensions = codeExtensions
        g0 = profile.initialG0
        g1 = profile.initialG1
    }

    /// The sets a character may be written in, in order of preference.
    private var candidates: [GraphicCharacterSet] {
        var sets = [profile.initialG0]
        if let initialG1 = profile.initialG1 { sets.append(initialG1) }
        if codeExtensions {
            for set in profile.extensions where !sets.contains(set) { sets.append(set) }
        }
        return sets
    }

    mutating func encode(_ string: String) {
        output.reserveCapacity(string.utf8.count + 8)
        let multiValued = !vr.isSingleValuedText
        let personName = vr == .PN
        let candidates = self.candidates
        for scalar in string.unicodeScalars {
            let value = scalar.value
            if value < 0x20 || value == 0x7F || (value == 0x5C && multiValued)
                || (personName && (value == 0x5E || value == 0x3D))
            {
                restoreInitialSets()
                output.append(UInt8(value))
                continue
            }
            if let code = code(of: value, in: g0) {
                append(code, in: g0)
            } else if let g1, let code = code(of: value, in: g1) {
                append(code, in: g1)
            } else if let (set, code) = firstCode(of: value, in: candidates) {
                designate(set)
                append(code, in: set)
            } else {
                isLossless = false
                if g0 != profile.initialG0 { designate(profile.initialG0) }
                output.append(0x3F)
            }
        }
        restoreInitialSets()
    }

    /// Designates the sets of value 1 again where another set is active (PS3.5 6.1.2.5.3).
    private mutating func restoreInitialSets() {
        if g0 != profile.initialG0 { designate(profile.initialG0) }
        if let initialG1 = profile.initialG1, g1 != initialG1 {
            designate(initialG1)
        } else if profile.initialG1 == nil {
            // G1 cannot be made undefined again; readers reset it at the delimiter, so the next use re-designates.
            g1 = nil
        }
    }

    private mutating func designate(_ set: GraphicCharacterSet) {
        output.append(0x1B)
        output.append(contentsOf: set.escapeSequence)
        if set.isG0 { g0 = set } else { g1 = set }
    }

    private mutating func append(_ code: UInt16, in set: GraphicCharacterSet) {
        if set.isDoubleByte {
            let high: UInt8 = set.isG0 ? 0 : 0x80
            output.append(UInt8(code >> 8) | high)
            output.append(UInt8(code & 0xFF) | high)
        } else {
            output.append(UInt8(code))
        }
    }

    private func firstCode(of value: UInt32, in sets: [GraphicCharacterSet]) -> (GraphicCharacterSet, UInt16)? {
        for set in sets {
            if let code = code(of: value, in: set) { return (set, code) }
        }
        return nil
    }

    /// The code of a scalar in a set: a byte, or two 7-bit bytes as `first << 8 | second`.
    private func code(of value: UInt32, in set: GraphicCharacterSet) -> UInt16? {
        switch set {
        case .ascii:
            return value >= 0x20 && value < 0x7F ? UInt16(value) : nil
        case .jisRoman:
            // PS3.5 6.1.2.3 Note 3: 05/12 is YEN SIGN, 07/14 OVERLINE; in multi-valued VRs 05/12 is only the delimiter.
            switch value {
            case 0x5C, 0x7E: return nil
            case 0xA5: return vr.isSingleValuedText ? 0x5C : nil
            case 0x203E: return 0x7E
            default: return value >= 0x20 && value < 0x7F ? UInt16(value) : nil
            }
        case .jisKatakana:
            return (0xFF61...0xFF9F).contains(value) ? UInt16(value - 0xFF61 + 0xA1) : nil
        default:
            return CodeTable.table(for: set)?.codes[value]
        }
    }
}
