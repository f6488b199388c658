/// A data element tag: a (group, element) pair (PS3.5 7.1).
public struct Tag: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The tag as one 32-bit number, group in the high half.
    public let rawValue: UInt32

    /// A tag from its 32-bit form, `0xGGGGEEEE`.
    @inlinable public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    /// A tag from its group and element numbers.
    @inlinable public init(_ group: UInt16, _ element: UInt16) {
        self.rawValue = UInt32(group) << 16 | UInt32(element)
    }

    /// The group number.
    @inlinable public var group: UInt16 { UInt16(truncatingIfNeeded: rawValue >> 16) }
    /// The element number.
    @inlinable public var element: UInt16 { UInt16(truncatingIfNeeded: rawValue) }

    /// Private tags have an odd group number (PS3.5 7.8).
    @inlinable public var isPrivate: Bool { group & 1 == 1 && group > 0x0008 && group != 0xFFFF }
    /// A private creator element reserves a block: (gggg,0010-00FF) in an odd group (PS3.5 7.8.1).
    @inlinable public var isPrivateCreator: Bool { isPrivate && element >= 0x0010 && element <= 0x00FF }
    /// The private creator element that reserves this private tag's block.
    @inlinable public var privateCreatorTag: Tag? {
        guard isPrivate, element >= 0x1000 else { return nil }
        return Tag(group, element >> 8)
    }
    /// Group length elements (gggg,0000).
    @inlinable public var isGroupLength: Bool { element == 0 }
    /// Item, item delimitation and sequence delimitation tags (FFFE,xxxx).
    @inlinable public var isDelimiter: Bool { group == 0xFFFE }

    @inlinable public static func < (a: Tag, b: Tag) -> Bool { a.rawValue < b.rawValue }

    /// `(GGGG,EEEE)` with upper-case hex digits, as dcmdump prints it.
    public var description: String { "(\(hex4(group)),\(hex4(element)))" }
    /// `GGGGEEEE`, as DICOM JSON keys are written (PS3.18 F.2.1.1).
    public var hexString: String { hex4(group) + hex4(element) }

    /// Parses `GGGGEEEE`, `(GGGG,EEEE)` or `GGGG,EEEE`.
    public init?(hexString text: some StringProtocol) {
        let digits = String(text.filter { $0 != "(" && $0 != ")" && $0 != "," })
        guard digits.count == 8, let value = UInt32(digits, radix: 16) else { return nil }
        self.init(value)
    }

}

@usableFromInline func hex4(_ value: UInt16) -> String {
    String(unsafeUninitializedCapacity: 4) { buffer in
        for i in 0..<4 {
            let nibble = UInt8((value >> (12 - 4 * UInt16(i))) & 0xF)
            buffer[i] = nibble < 10 ? 0x30 + nibble : 0x37 + nibble
        }
        return 4
    }
}
