/// A transfer syntax: how a dataset is encoded (PS3.5 10).
public struct TransferSyntax: Hashable, Sendable, CustomStringConvertible {
    /// The transfer syntax UID.
    public let uid: String
    /// Whether element headers carry their VR.
    public let isExplicitVR: Bool
    /// Whether binary values are little endian.
    public let isLittleEndian: Bool
    /// Whether the dataset after the meta group is deflated (PS3.5 A.5).
    public let isDeflated: Bool
    /// Whether pixel data is encapsulated (compressed).
    public let isEncapsulated: Bool
    /// Whether the compression loses information.
    public let isLossy: Bool

    public init(
        defining uid: String, isExplicitVR: Bool = true, isLittleEndian: Bool = true, isDeflated: Bool = false,
        isEncapsulated: Bool = false, isLossy: Bool = false
    ) {
        self.uid = uid
        self.isExplicitVR = isExplicitVR
        self.isLittleEndian = isLittleEndian
        self.isDeflated = isDeflated
        self.isEncapsulated = isEncapsulated
        self.isLossy = isLossy
    }

    /// The transfer syntax for a UID; unknown UIDs are taken as explicit VR little endian with encapsulated
    /// pixel data, which is how every compressed syntax since 1993 is encoded (PS3.5 A.4).
    public init(uid: String) {
        if let known = TransferSyntax.known[uid] {
            self = known
        } else {
            self.init(defining: uid, isEncapsulated: true)
        }
    }

    /// The registered name, when the UID is in the registry.
    public var name: String { UIDRegistry.entry(for: uid)?.name ?? uid }
    public var description: String { name }
    /// Whether Atrium knows this UID as a transfer syntax.
    public var isKnown: Bool { TransferSyntax.known[uid] != nil }

    public static let implicitVRLittleEndian = TransferSyntax(defining: "1.2.840.10008.1.2", isExplicitVR: false)
    public static let explicitVRLittleEndian = TransferSyntax(defining: "1.2.840.10008.1.2.1")
    public static let encapsulatedUncompressedExplicitVRLittleEndian = TransferSyntax(
        defining: "1.2.840.10008.1.2.1.98", isEncapsulated: true)
    public static let deflatedExplicitVRLittleEndian = TransferSyntax(defining: "1.2.840.10008.1.2.1.99", isDeflated: true)
    public static let explicitVRBigEndian = TransferSyntax(defining: "1.2.840.10008.1.2.2", isLittleEndian: false)
    public static let jpegBaseline8Bit = TransferSyntax(defining: "1.2.840.10008.1.2.4.50", isEncapsulated: true, isLossy: true)
    public static let jpegExtended12Bit = TransferSyntax(defining: "1.2.840.10008.1.2.4.51", isEncapsulated: true, isLossy: true)
    public static let jpegLossless = TransferSyntax(defining: "1.2.840.10008.1.2.4.57", isEncapsulated: true)
    public static let jpegLosslessSV1 = TransferSyntax(defining: "1.2.840.10008.1.2.4.70", isEncapsulated: true)
    public static let jpegLSLossless = TransferSyntax(defining: "1.2.840.10008.1.2.4.80", isEncapsulated: true)
    public static let jpegLSNearLossless = TransferSyntax(defining: "1.2.840.10008.1.2.4.81", isEncapsulated: true, isLossy: true)
    public static let jpeg2000Lossless = TransferSyntax(defining: "1.2.840.10008.1.2.4.90", isEncapsulated: true)
    public static let jpeg2000 = TransferSyntax(defining: "1.2.840.10008.1.2.4.91", isEncapsulated: true, isLossy: true)
    public static let htj2kLossless = TransferSyntax(defining: "1.2.840.10008.1.2.4.201", isEncapsulated: true)
    public static let htj2kLosslessRPCL = TransferSyntax(defining: "1.2.840.10008.1.2.4.202", isEncapsulated: true)
    public static let htj2k = TransferSyntax(defining: "1.2.840.10008.1.2.4.203", isEncapsulated: true, isLossy: true)
    public static let rleLossless = TransferSyntax(defining: "1.2.840.10008.1.2.5", isEncapsulated: true)
    public static let mpeg2 = TransferSyntax(defining: "1.2.840.10008.1.2.4.100", isEncapsulated: true, isLossy: true)
    public static let mpeg4 = TransferSyntax(defining: "1.2.840.10008.1.2.4.102", isEncapsulated: true, isLossy: true)
    public static let hevc = TransferSyntax(defining: "1.2.840.10008.1.2.4.107", isEncapsulated: true, isLossy: true)

    /// The uncompressed syntaxes, in which any dataset can be written.
    public static let uncompressed: [TransferSyntax] = [
        .explicitVRLittleEndian, .implicitVRLittleEndian, .explicitVRBigEndian, .deflatedExplicitVRLittleEndian,
    ]

    static let all: [TransferSyntax] =
        uncompressed + [
            .encapsulatedUncompressedExplicitVRLittleEndian, .jpegBaseline8Bit, .jpegExtended12Bit, .jpegLossless,
            .jpegLosslessSV1, .jpegLSLossless, .jpegLSNearLossless, .jpeg2000Lossless, .jpeg2000, .htj2kLossless,
            .htj2kLosslessRPCL, .htj2k, .rleLossless, .mpeg2, .mpeg4, .hevc,
            TransferSyntax(defining: "1.2.840.10008.1.2.4.92", isEncapsulated: true),
            TransferSyntax(defining: "1.2.840.10008.1.2.4.93", isEncapsulated: true, isLossy: true),
            TransferSyntax(defining: "1.2.840.10008.1.2.4.101", isEncapsulated: true, isLossy: true),
            TransferSyntax(defining: "1.2.840.10008.1.2.4.103", isEncapsulated: true, isLossy: true),
            TransferSyntax(defining: "1.2.840.10008.1.2.4.104", isEncapsulated: true, isLossy: true),
            TransferSyntax(defining: "1.2.840.10008.1.2.4.105", isEncapsulated: true, isLossy: true),
            TransferSyntax(defining: "1.2.840.10008.1.2.4.106", isEncapsulated: true, isLossy: true),
            TransferSyntax(defining: "1.2.840.10008.1.2.4.108", isEncapsulated: true, isLossy: true),
            TransferSyntax(defining: "1.2.840.10008.1.2.4.204", isEncapsulated: true, isLossy: true),
            TransferSyntax(defining: "1.2.840.10008.1.2.4.205", isEncapsulated: true),
        ]

    static let known: [String: TransferSyntax] = Dictionary(uniqueKeysWithValues: all.map { ($0.uid, $0) })
}
