/// A value representation (PS3.5 6.2).
public enum VR: UInt16, Sendable, CaseIterable, CustomStringConvertible {
    case AE = 0x4145, AS = 0x4153, AT = 0x4154, CS = 0x4353, DA = 0x4441, DS = 0x4453, DT = 0x4454
    case FD = 0x4644, FL = 0x464C, IS = 0x4953, LO = 0x4C4F, LT = 0x4C54, OB = 0x4F42, OD = 0x4F44
    case OF = 0x4F46, OL = 0x4F4C, OV = 0x4F56, OW = 0x4F57, PN = 0x504E, SH = 0x5348, SL = 0x534C
    case SQ = 0x5351, SS = 0x5353, ST = 0x5354, SV = 0x5356, TM = 0x544D, UC = 0x5543, UI = 0x5549
    case UL = 0x554C, UN = 0x554E, UR = 0x5552, US = 0x5553, UT = 0x5554, UV = 0x5556

    /// The VR from its two ASCII characters as they appear in an explicit VR stream.
    @inlinable public init?(byte0: UInt8, byte1: UInt8) {
        self.init(rawValue: UInt16(byte0) << 8 | UInt16(byte1))
    }

    /// The VR from its name, `"PN"`.
    public init?(_ name: some StringProtocol) {
        let bytes = Array(name.utf8)
        guard bytes.count == 2 else { return nil }
        self.init(byte0: bytes[0], byte1: bytes[1])
    }

    public var description: String {
        String(decoding: [UInt8(rawValue >> 8), UInt8(rawValue & 0xFF)], as: UTF8.self)
    }

    /// VRs whose explicit-VR header has two reserved bytes and a 32-bit length (PS3.5 7.1.2).
    @inlinable public var hasLongLength: Bool {
        switch self {
        case .OB, .OD, .OF, .OL, .OV, .OW, .SQ, .SV, .UC, .UN, .UR, .UT, .UV: true
        default: false
        }
    }

    /// VRs whose value is text.
    @inlinable public var isString: Bool {
        switch self {
        case .AE, .AS, .CS, .DA, .DS, .DT, .IS, .LO, .LT, .PN, .SH, .ST, .TM, .UC, .UI, .UR, .UT: true
        default: false
        }
    }

    /// Text VRs whose bytes are interpreted through Specific Character Set (PS3.5 6.1.2.3).
    @inlinable public var usesSpecificCharacterSet: Bool {
        switch self {
        case .LO, .LT, .PN, .SH, .ST, .UC, .UT: true
        default: false
        }
    }

    /// Text VRs that hold one value only; backslash is not a delimiter in them (PS3.5 6.2).
    @inlinable public var isSingleValuedText: Bool {
        switch self {
        case .LT, .ST, .UT, .UR: true
        default: false
        }
    }

    /// The size of one binary value, for byte swapping and value multiplicity; 1 for bytes and text.
    @inlinable public var unitSize: Int {
        switch self {
        case .SS, .US, .OW: 2
        case .SL, .UL, .FL, .OF, .OL, .AT: 4
        case .FD, .OD, .SV, .UV, .OV: 8
        default: 1
        }
    }

    /// The byte used to pad a value to even length: NUL for UI and binary, space for text (PS3.5 6.2).
    @inlinable public var paddingByte: UInt8 { isString && self != .UI ? 0x20 : 0x00 }

    /// VRs that hold bulk binary data (the "Other" VRs and UN).
    @inlinable public var isBulk: Bool {
        switch self {
        case .OB, .OD, .OF, .OL, .OV, .OW, .UN: true
        default: false
        }
    }
}
