/// The compression schemes of the encapsulated transfer syntaxes (PS3.5 A.4).
public enum Codec: String, Sendable, Hashable, CustomStringConvertible {
    /// RLE Lossless (PS3.5 G).
    case rle = "RLE"
    /// JPEG lossless, process 14 (PS3.5 A.4.1, ISO 10918-1 Annex H).
    case jpegLossless = "JPEG lossless"
    /// JPEG baseline and extended DCT (PS3.5 A.4.1).
    case jpeg = "JPEG"
    /// JPEG-LS lossless and near-lossless (PS3.5 A.4.3).
    case jpegLS = "JPEG-LS"
    /// JPEG 2000 (PS3.5 A.4.4).
    case jpeg2000 = "JPEG 2000"

    /// The codec's name.
    public var description: String { rawValue }
}

/// Errors of the Imaging codecs, with the context a person needs to find the fault.
public enum ImagingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The frame descriptor is not one the codec can produce.
    case invalidDescriptor(codec: Codec, reason: String)
    /// The decoded frame would exceed the configured ceiling.
    case frameTooLarge(codec: Codec, rows: Int, columns: Int, samplesPerPixel: Int, bitsAllocated: Int, limitBytes: Int)
    /// The compressed stream ended before the frame was complete.
    case truncated(codec: Codec, offset: Int, expected: String)
    /// The compressed stream is malformed at a byte offset.
    case malformed(codec: Codec, offset: Int, reason: String)
    /// The stream's own header disagrees with the frame descriptor.
    case headerMismatch(codec: Codec, field: String, stream: Int, descriptor: Int)
    /// A valid stream uses a feature this decoder does not implement.
    case unsupported(codec: Codec, feature: String)
    /// The system codec library reported an error.
    case library(codec: Codec, message: String)
    /// The data set has no Pixel Data (7FE0,0010), or it is neither native nor encapsulated.
    case noPixelData
    /// An Image Pixel Module attribute is missing or has a value Atrium cannot use (PS3.3 C.7.6.3).
    case invalidAttribute(name: String, value: String, reason: String)
    /// Native Pixel Data is shorter than the attributes require (PS3.5 8.1.1).
    case pixelDataTooShort(expectedBytes: Int, actualBytes: Int)
    /// The whole image would exceed the configured ceiling.
    case imageTooLarge(bytes: Int, limitBytes: Int)
    /// A frame number outside the image.
    case frameOutOfRange(index: Int, numberOfFrames: Int)
    /// Atrium has no decoder or encoder for the transfer syntax.
    case unsupportedTransferSyntax(uid: String, operation: String)
    /// Writing an output image (PNG, JPEG) failed.
    case encoding(format: String, message: String)

    /// A sentence describing the error.
    public var description: String {
        switch self {
        case .invalidDescriptor(let codec, let reason):
            return "\(codec): invalid frame description: \(reason)"
        case .frameTooLarge(let codec, let rows, let columns, let samples, let bits, let limit):
            return "\(codec): frame of \(rows)×\(columns)×\(samples) samples of \(bits) bits exceeds the limit of \(limit) bytes"
        case .truncated(let codec, let offset, let expected):
            return "\(codec): stream ends at byte \(offset), expected \(expected)"
        case .malformed(let codec, let offset, let reason):
            return "\(codec): malformed stream at byte \(offset): \(reason)"
        case .headerMismatch(let codec, let field, let stream, let descriptor):
            return "\(codec): the stream's \(field) is \(stream) but the data set says \(descriptor)"
        case .unsupported(let codec, let feature):
            return "\(codec): unsupported: \(feature)"
        case .library(let codec, let message):
            return "\(codec): codec library error: \(message)"
        case .noPixelData:
            return "the data set has no Pixel Data (7FE0,0010)"
        case .invalidAttribute(let name, let value, let reason):
            return "\(name) \"\(value)\": \(reason)"
        case .pixelDataTooShort(let expected, let actual):
            return "Pixel Data holds \(actual) bytes but the image needs \(expected)"
        case .imageTooLarge(let bytes, let limit):
            return "the image needs \(bytes) bytes, above the limit of \(limit)"
        case .frameOutOfRange(let index, let count):
            return "frame \(index + 1) requested but the image has \(count) frame\(count == 1 ? "" : "s")"
        case .unsupportedTransferSyntax(let uid, let operation):
            return "cannot \(operation) transfer syntax \(uid)"
        case .encoding(let format, let message):
            return "\(format) encoding failed: \(message)"
        }
    }
}
