import CSystemZlib

/// How far inflating compressed bytes may go: every inflating path in Atrium (deflated transfer syntax, zip entries,
/// HTTP request bodies with a Content-Encoding) stops at these caps instead of trusting a declared size.
public struct InflationLimits: Sendable, Equatable {
    /// Most bytes one stream may inflate to.
    public var maximumBytes: Int
    /// Most output bytes per compressed byte consumed so far (deflate reaches about 1032:1 on zeros; real images stay
    /// far below 200:1); 0 turns the check off.
    public var maximumRatio: Int
    /// Output below this size is never refused for its ratio: small objects of mostly zeros are legitimate.
    public var ratioGraceBytes: Int

    /// Creates limits; the defaults fit one large CT or MR object on a 24 GiB machine.
    public init(maximumBytes: Int = 2 << 30, maximumRatio: Int = 200, ratioGraceBytes: Int = 16 << 20) {
        self.maximumBytes = maximumBytes
        self.maximumRatio = maximumRatio
        self.ratioGraceBytes = ratioGraceBytes
    }

    /// 2 GiB per stream, at most 200:1 past the first 16 MiB.
    public static let `default` = InflationLimits()

    /// Whether `produced` bytes from `compressed` bytes pass `ratio`:1 (without overflowing on any cap).
    public static func exceedsRatio(_ produced: Int, compressed: Int, ratio: Int) -> Bool {
        let (allowed, overflow) = ratio.multipliedReportingOverflow(by: max(compressed, 1))
        return !overflow && produced > allowed
    }
}

/// Why inflating stopped.
public enum InflationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The output would pass ``InflationLimits/maximumBytes``.
    case tooLarge(producedBytes: Int, limitBytes: Int)
    /// The output passed ``InflationLimits/maximumRatio`` times the compressed bytes consumed.
    case ratioExceeded(producedBytes: Int, consumedBytes: Int, limitRatio: Int)
    /// The compressed stream is not valid DEFLATE (or zlib, or gzip).
    case corrupt(consumedBytes: Int, reason: String)

    public var description: String {
        switch self {
        case .tooLarge(let produced, let limit):
            "inflates to more than \(limit) bytes (stopped after \(produced))"
        case .ratioExceeded(let produced, let consumed, let ratio):
            "inflates \(consumed) compressed bytes to \(produced), past the compression ratio cap of \(ratio):1"
        case .corrupt(let consumed, let reason): "corrupt compressed data after \(consumed) bytes: \(reason)"
        }
    }
}

/// Inflates a DEFLATE stream (RFC 1951, raw or in a zlib or gzip wrapper) chunk by chunk, handing the output to a
/// sink in pieces of at most 64 KiB and checking ``InflationLimits`` as it grows; nothing is allocated from a size
/// the input declares. Not for concurrent use.
public final class BoundedInflater {
    /// The wrapper around the DEFLATE data.
    public enum Format: Sendable {
        /// Bare DEFLATE, as in zip entries and the deflated transfer syntax (PS3.5 A.5).
        case raw
        /// zlib (RFC 1950) or gzip (RFC 1952), recognised by their header.
        case zlibOrGzip
    }

    /// Bytes handed to the sink so far.
    public private(set) var producedBytes = 0
    /// Compressed bytes consumed so far.
    public private(set) var consumedBytes = 0
    /// Whether the stream's end marker was seen; input after it is left unconsumed.
    public private(set) var isFinished = false
    /// The caps checked as the output grows.
    public let limits: InflationLimits

    private var stream = z_stream()
    private let scratch: UnsafeMutablePointer<UInt8>
    private static let scratchBytes = 64 << 10

    /// Prepares an inflater for `format` under `limits`.
    public init(format: Format, limits: InflationLimits) throws(InflationError) {
        self.limits = limits
        scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: Self.scratchBytes)
        let windowBits: Int32 = format == .raw ? -15 : 15 + 32
        // On failure deinit still runs (every property is set): it frees the scratch buffer, and inflateEnd ignores a
        // stream zlib did not start.
        guard inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .corrupt(consumedBytes: 0, reason: "zlib could not start")
        }
    }

    deinit {
        inflateEnd(&stream)
        scratch.deallocate()
    }

    /// Inflates `input`, passing the output to `sink`; returns when the input is used up or the stream has ended.
    /// Throws ``InflationError`` when a cap is passed (before the sink sees the bytes past it) or the data is
    /// corrupt, and whatever `sink` throws.
    public func feed(_ input: UnsafeRawBufferPointer, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !isFinished, let base = input.baseAddress, input.count > 0 else { return }
        var offset = 0
        while offset < input.count, !isFinished {
            // zlib counts input in UInt32: feed at most 1 GiB at a time.
            let piece = min(input.count - offset, 1 << 30)
            stream.next_in = UnsafeMutablePointer(mutating: (base + offset).assumingMemoryBound(to: UInt8.self))
            stream.avail_in = UInt32(piece)
            try drain(sink)
            let used = piece - Int(stream.avail_in)
            offset += used
            if used < piece, !isFinished { break }
        }
        stream.next_in = nil
        stream.avail_in = 0
    }

    private func drain(_ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        while true {
            let before = Int(stream.avail_in)
            stream.next_out = scratch
            stream.avail_out = UInt32(Self.scratchBytes)
            let status = CSystemZlib.inflate(&stream, Z_NO_FLUSH)
            let produced = Self.scratchBytes - Int(stream.avail_out)
            consumedBytes += before - Int(stream.avail_in)
            switch status {
            case Z_OK, Z_STREAM_END, Z_BUF_ERROR: break
            case Z_NEED_DICT: throw InflationError.corrupt(consumedBytes: consumedBytes, reason: "the stream needs a preset dictionary")
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                throw InflationError.corrupt(consumedBytes: consumedBytes, reason: message)
            }
            if produced > 0 {
                let total = producedBytes + produced
                if total > limits.maximumBytes { throw InflationError.tooLarge(producedBytes: total, limitBytes: limits.maximumBytes) }
                if limits.maximumRatio > 0, total > limits.ratioGraceBytes,
                    InflationLimits.exceedsRatio(total, compressed: consumedBytes, ratio: limits.maximumRatio)
                {
                    throw InflationError.ratioExceeded(producedBytes: total, consumedBytes: consumedBytes, limitRatio: limits.maximumRatio)
                }
                producedBytes = total
                try sink(UnsafeRawBufferPointer(start: scratch, count: produced))
            }
            if status == Z_STREAM_END {
                isFinished = true
                return
            }
            // No room was left unused and no input: zlib wants more input (or is stuck on what it has).
            if stream.avail_in == 0 && produced < Self.scratchBytes { return }
            if produced == 0 && before == Int(stream.avail_in) { return }
        }
    }

    /// Inflates all of `input` into one buffer under `limits`; `allowTruncated` keeps what a stream without its end
    /// marker produced.
    public static func inflate(
        _ input: UnsafeRawBufferPointer, format: Format, limits: InflationLimits, allowTruncated: Bool = false
    ) throws -> [UInt8] {
        let inflater = try BoundedInflater(format: format, limits: limits)
        var output: [UInt8] = []
        // Reserve from the input's size, never from anything the stream declares, and never past the cap.
        output.reserveCapacity(min(limits.maximumBytes, max(input.count * 4, 4096)))
        try inflater.feed(input) { output.append(contentsOf: $0) }
        guard inflater.isFinished || (allowTruncated && inflater.producedBytes > 0) else {
            throw InflationError.corrupt(consumedBytes: inflater.consumedBytes, reason: "the stream ends before its end marker")
        }
        return output
    }
}
