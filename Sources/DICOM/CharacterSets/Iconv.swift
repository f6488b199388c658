import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An open iconv conversion descriptor; one thread at a time uses it (the pool hands it out).
private struct IconvDescriptor: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer
}

/// The outcome of one `iconv(3)` call.
private enum IconvStep {
    case done
    /// The output buffer is full.
    case outputFull
    /// An invalid sequence starts at the current input position.
    case invalid
    /// The input ends inside a multibyte sequence.
    case incomplete
}

/// A few idle iconv descriptors for one conversion, reused across calls: iconv descriptors carry state and are
/// not thread-safe, so each call takes one out and puts it back.
final class IconvConverter: Sendable {
    let from: String
    let to: String
    private let idle = Mutex<[IconvDescriptor]>([])
    private static let maximumIdle = 8

    init(from: String, to: String) {
        self.from = from
        self.to = to
    }

    /// Runs `body` with a descriptor in its initial state, or returns nil when iconv does not know the conversion.
    fileprivate func withDescriptor<R>(_ body: (IconvDescriptor) -> R) -> R? {
        guard let descriptor = idle.withLock({ $0.popLast() }) ?? open() else { return nil }
        defer {
            iconv(descriptor.raw, nil, nil, nil, nil)
            let surplus = idle.withLock { pool -> Bool in
                guard pool.count < Self.maximumIdle else { return true }
                pool.append(descriptor)
                return false
            }
            if surplus { iconv_close(descriptor.raw) }
        }
        return body(descriptor)
    }

    private func open() -> IconvDescriptor? {
        guard let raw = iconv_open(to, from), raw != UnsafeMutableRawPointer(bitPattern: -1) else { return nil }
        return IconvDescriptor(raw: raw)
    }

    deinit {
        for descriptor in idle.withLock({ $0 }) { iconv_close(descriptor.raw) }
    }

    /// Converts `input`; on an invalid or unconvertible sequence, `recover` appends a replacement to the output and
    /// returns how many input bytes to skip. Returns nil when iconv does not know the conversion.
    func convert(
        _ input: UnsafeRawBufferPointer,
        recover: (_ remaining: UnsafeRawBufferPointer, _ output: inout [UInt8]) -> Int
    ) -> [UInt8]? {
        withDescriptor { descriptor in
            var output: [UInt8] = []
            output.reserveCapacity(input.count * 2 + 8)
            var chunk = [UInt8](repeating: 0, count: max(64, min(input.count * 4 + 8, 1 << 16)))
            var position = 0
            while position < input.count {
                let remaining = UnsafeRawBufferPointer(rebasing: input[position...])
                var consumed = 0
                var produced = 0
                let step = chunk.withUnsafeMutableBytes { out in
                    Self.step(descriptor, input: remaining, output: out, consumed: &consumed, produced: &produced)
                }
                output.append(contentsOf: chunk[0..<produced])
                position += consumed
                switch step {
                case .done, .outputFull: continue
                case .invalid:
                    iconv(descriptor.raw, nil, nil, nil, nil)
                    position += max(1, recover(UnsafeRawBufferPointer(rebasing: input[position...]), &output))
                case .incomplete:
                    _ = recover(UnsafeRawBufferPointer(rebasing: input[position...]), &output)
                    position = input.count
                }
            }
            return output
        }
    }

    private static func step(
        _ descriptor: IconvDescriptor, input: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer,
        consumed: inout Int, produced: inout Int
    ) -> IconvStep {
        guard let inBase = input.baseAddress, let outBase = output.baseAddress else { return .done }
        var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutablePointer(mutating: inBase.assumingMemoryBound(to: CChar.self))
        var outPointer: UnsafeMutablePointer<CChar>? = outBase.assumingMemoryBound(to: CChar.self)
        var inLeft = input.count
        var outLeft = output.count
        let result = iconv(descriptor.raw, &inPointer, &inLeft, &outPointer, &outLeft)
        let error = errno
        consumed = input.count - inLeft
        produced = output.count - outLeft
        if result != -1 { return .done }
        switch error {
        case E2BIG: return .outputFull
        case EINVAL: return .incomplete
        default: return .invalid
        }
    }
}

/// The conversions Atrium uses, created on first use.
enum Iconv {
    static let gb18030ToUTF8 = IconvConverter(from: "GB18030", to: "UTF-8")
    static let gbkToUTF8 = IconvConverter(from: "GBK", to: "UTF-8")
    static let utf8ToGB18030 = IconvConverter(from: "UTF-8", to: "GB18030")
    static let utf8ToGBK = IconvConverter(from: "UTF-8", to: "GBK")
    /// Counts the values the current task converts through iconv (tests check that plain ASCII and UTF-8 values
    /// never are).
    @TaskLocal static var conversionCounter: ConversionCounter?

    /// The Unicode scalar of one character of the 8-bit code `charset`, or nil when it has none.
    static func scalar(of bytes: [UInt8], in converter: IconvConverter) -> UInt32? {
        let result = bytes.withUnsafeBytes { input -> [UInt8]? in
            var failed = false
            let output = converter.convert(input) { _, _ in
                failed = true
                return Int.max / 2
            }
            return failed ? nil : output
        }
        guard let result, result.count == 4 else { return nil }
        return UInt32(result[0]) | UInt32(result[1]) << 8 | UInt32(result[2]) << 16 | UInt32(result[3]) << 24
    }
}

/// The characters of one graphic character set, built once from iconv; decoding and encoding then need no iconv.
final class CodeTable: Sendable {
    /// Unicode scalars, 0 where the set has no character. Single-byte sets: 96 entries for bytes 10/00–15/15.
    /// Two-byte sets: 94 × 94 entries, row-major, for the 7-bit bytes 02/01–07/14 of each byte.
    let scalars: [UInt32]
    /// The code of each scalar: the byte (single-byte sets) or the two 7-bit bytes as `first << 8 | second`.
    let codes: [UInt32: UInt16]

    private static let cache = Mutex<[GraphicCharacterSet: CodeTable]>([:])

    /// The table of `set`, built on first use (nil for the sets that need no table).
    static func table(for set: GraphicCharacterSet) -> CodeTable? {
        guard set.iconvName != nil else { return nil }
        return cache.withLock { tables in
            if let table = tables[set] { return table }
            let table = CodeTable(set)
            tables[set] = table
            return table
        }
    }

    private init(_ set: GraphicCharacterSet) {
        let converter = IconvConverter(from: set.iconvName ?? "ISO-8859-1", to: "UTF-32LE")
        var scalars: [UInt32]
        var codes: [UInt32: UInt16] = [:]
        if set.isDoubleByte {
            scalars = [UInt32](repeating: 0, count: 94 * 94)
            for first in 0..<94 {
                for second in 0..<94 {
                    var bytes = [UInt8(0xA1 + first), UInt8(0xA1 + second)]
                    if set == .jisX0212 { bytes.insert(0x8F, at: 0) }
                    guard var scalar = Iconv.scalar(of: bytes, in: converter) else { continue }
                    // JIS X 0212 02/02 03/07 is TILDE (U+007E) in Unicode's JIS0212.TXT and Python; glibc gives U+FF5E.
                    if set == .jisX0212 && first == 0x22 - 0x21 && second == 0x37 - 0x21 { scalar = 0x7E }
                    scalars[first * 94 + second] = scalar
                    let code = UInt16(0x21 + first) << 8 | UInt16(0x21 + second)
                    if codes[scalar] == nil { codes[scalar] = code }
                }
            }
        } else {
            scalars = [UInt32](repeating: 0, count: 96)
            for offset in 0..<96 {
                guard let scalar = Iconv.scalar(of: [UInt8(0xA0 + offset)], in: converter) else { continue }
                scalars[offset] = scalar
                if codes[scalar] == nil { codes[scalar] = UInt16(0xA0 + offset) }
            }
        }
        self.scalars = scalars
        self.codes = codes
    }
}

/// A count of iconv conversions, for tests.
final class ConversionCounter: Sendable {
    private let count = Atomic<Int>(0)

    var value: Int { count.load(ordering: .relaxed) }

    func increment() { count.add(1, ordering: .relaxed) }
}
