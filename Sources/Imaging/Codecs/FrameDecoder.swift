/// Chooses the decoder for a frame from its transfer syntax (PS3.5 A.4, PS3.6 Annex A).
public enum FrameDecoder {
    /// The encapsulated transfer syntaxes this module decodes, by UID (PS3.6 Table A-1).
    public static let decoders: [String: Codec] = [
        "1.2.840.10008.1.2.5": .rle,
        "1.2.840.10008.1.2.4.50": .jpeg,
        "1.2.840.10008.1.2.4.51": .jpeg,
        "1.2.840.10008.1.2.4.57": .jpegLossless,
        "1.2.840.10008.1.2.4.70": .jpegLossless,
        "1.2.840.10008.1.2.4.80": .jpegLS,
        "1.2.840.10008.1.2.4.81": .jpegLS,
        "1.2.840.10008.1.2.4.90": .jpeg2000,
        "1.2.840.10008.1.2.4.91": .jpeg2000,
        "1.2.840.10008.1.2.4.201": .jpeg2000,
        "1.2.840.10008.1.2.4.202": .jpeg2000,
        "1.2.840.10008.1.2.4.203": .jpeg2000,
    ]

    /// Decodes one compressed frame of the given transfer syntax (PS3.5 A.4).
    public static func decode(
        _ frame: [UInt8], transferSyntaxUID: String, descriptor: FrameDescriptor, limits: DecodingLimits = .default
    ) throws(ImagingError) -> DecodedFrame {
        guard let codec = decoders[transferSyntaxUID] else {
            throw .unsupported(codec: .jpeg, feature: "transfer syntax \(transferSyntaxUID)")
        }
        return try decode(frame, codec: codec, descriptor: descriptor, limits: limits)
    }

    /// Decodes one compressed frame with the given codec (PS3.5 A.4).
    public static func decode(
        _ frame: [UInt8], codec: Codec, descriptor: FrameDescriptor, limits: DecodingLimits = .default
    ) throws(ImagingError) -> DecodedFrame {
        switch codec {
        case .rle: return try RLECodec.decode(frame, descriptor: descriptor, limits: limits)
        case .jpegLossless: return try JPEGLosslessDecoder.decode(frame, descriptor: descriptor, limits: limits)
        case .jpeg: return try JPEGBaselineDecoder.decode(frame, descriptor: descriptor, limits: limits)
        case .jpegLS: return try JPEGLSCodec.decode(frame, descriptor: descriptor, limits: limits)
        case .jpeg2000: return try JPEG2000Codec.decode(frame, descriptor: descriptor, limits: limits)
        }
    }
}
