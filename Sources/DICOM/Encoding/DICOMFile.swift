import CSystemZlib

/// A DICOM Part 10 file, or a bare dataset read as one: preamble, File Meta Information and dataset (PS3.10 7).
public struct DICOMFile: Sendable {
    /// The 128-byte preamble, when the stream had one.
    public var preamble: ByteSlice?
    /// The File Meta Information group (0002,xxxx); empty for a bare dataset.
    public var fileMetaInformation: DataSet
    /// The dataset after the meta group.
    public var dataSet: DataSet
    /// The transfer syntax the dataset was encoded in.
    public var transferSyntax: TransferSyntax
    /// Deviations from the standard that were tolerated while reading.
    public var warnings: [DICOMWarning]
    /// Whether reading stopped at ``ReadOptions/stopBefore`` with bytes left in the stream.
    public internal(set) var stoppedBeforeEnd = false

    public init(fileMetaInformation: DataSet = DataSet(), dataSet: DataSet, transferSyntax: TransferSyntax = .explicitVRLittleEndian) {
        preamble = nil
        self.fileMetaInformation = fileMetaInformation
        self.dataSet = dataSet
        self.transferSyntax = transferSyntax
        warnings = []
    }

    /// Reads a file. Large files are memory-mapped, so bulk values are not copied; small files, and the header of
    /// a file read with ``ReadOptions/stopBefore``, are read into memory, which costs fewer system calls.
    public static func read(contentsOf path: String, options: ReadOptions = .default) throws(DICOMError) -> DICOMFile {
        let prefixBytes = 8 * 1024
        let (prefix, size) = try ByteStorage.reading(file: path, maximumBytes: prefixBytes)
        if prefix.count == size {
            return try read(prefix, options: options)
        }
        if options.stopBefore != nil {
            // Parse the prefix strictly: if it holds everything up to the stop tag, that is the answer; if the header
            // runs past it, read the whole file.
            var strict = options
            strict.toleratesTruncation = false
            if let file = try? read(prefix, options: strict), file.stoppedBeforeEnd {
                return file
            }
        }
        let storage = try ByteStorage(mappingFile: path)
        return try read(storage, options: options)
    }

    /// Reads a Part 10 stream or a bare dataset from bytes.
    public static func read(_ bytes: some Collection<UInt8>, options: ReadOptions = .default) throws(DICOMError) -> DICOMFile {
        try read(ByteStorage(bytes), options: options)
    }

    /// Reads from storage: the preamble and meta group when present, then the dataset in its transfer syntax.
    public static func read(_ storage: ByteStorage, options: ReadOptions = .default) throws(DICOMError) -> DICOMFile {
        let count = storage.count
        let base = storage.base
        var warnings: [DICOMWarning] = []
        var position = 0
        var preamble: ByteSlice?
        func isDICM(_ at: Int) -> Bool {
            at + 4 <= count && base.load(fromByteOffset: at, as: UInt8.self) == 0x44
                && base.load(fromByteOffset: at + 1, as: UInt8.self) == 0x49
                && base.load(fromByteOffset: at + 2, as: UInt8.self) == 0x43
                && base.load(fromByteOffset: at + 3, as: UInt8.self) == 0x4D
        }
        if isDICM(128) {
            preamble = ByteSlice(storage: storage, range: 0..<128)
            position = 132
        } else if isDICM(0) {
            warnings.append(DICOMWarning(.noPreamble, offset: 0, "no preamble before the DICM prefix"))
            position = 4
        } else {
            if count == 0 { throw .notDICOM(reason: "the stream is empty") }
            // A bare dataset must at least start with something that looks like a data element.
            guard looksLikeDataElement(storage, at: 0) else {
                throw .notDICOM(reason: "no DICM prefix at byte 128, and the first bytes are not a data element")
            }
            warnings.append(DICOMWarning(.noPreamble, offset: 0, "no preamble and no DICM prefix"))
        }

        // File Meta Information: explicit VR little endian, group 0002 (PS3.10 7.1).
        var meta = DataSet()
        if count - position >= 8, base.loadUnaligned(fromByteOffset: position, as: UInt16.self) == UInt16(0x0002).littleEndian {
            var parser = DataSetParser(storage: storage, range: position..<count, explicitVR: true, littleEndian: true, options: .default)
            // Broken writers put the meta group in implicit VR: sniff it.
            if VR(
                byte0: base.load(fromByteOffset: position + 4, as: UInt8.self),
                byte1: base.load(fromByteOffset: position + 5, as: UInt8.self)) == nil
            {
                parser.explicitVR = false
                warnings.append(DICOMWarning(.transferSyntaxMismatch, offset: position, "File Meta Information is in implicit VR"))
            }
            var elements: [DataElement] = []
            while parser.position + 8 <= count {
                let start = parser.position
                let group = parser.u16(start)
                if group != 0x0002 { break }
                guard let header = try parser.readHeader(privateCreators: [:], limit: count) else { break }
                var e = try parser.parseValue(header, start: start, depth: 0, limit: count, characterSet: .default)
                e.offset = start
                elements.append(e)
            }
            warnings += parser.warnings
            meta = DataSet(elements: elements)
            if let groupLength = meta.int(.fileMetaInformationGroupLength), let first = elements.first,
                first.tag == .fileMetaInformationGroupLength, first.offset + 12 + groupLength != parser.position
            {
                warnings.append(
                    DICOMWarning(
                        .groupLengthMismatch, offset: first.offset, tag: first.tag,
                        "File Meta Information Group Length is \(groupLength) but the group is \(parser.position - first.offset - 12) bytes"
                    ))
            }
            position = parser.position
        } else if preamble != nil || isDICM(0) {
            warnings.append(DICOMWarning(.noMetaHeader, offset: position, "no File Meta Information group"))
        }

        // Which transfer syntax: the meta header's, checked against what the first element looks like.
        var syntax: TransferSyntax
        let sniffed = sniffEncoding(storage, at: position)
        if let uid = meta.string(.transferSyntaxUID) {
            syntax = TransferSyntax(uid: uid)
            if !syntax.isKnown {
                warnings.append(
                    DICOMWarning(
                        .transferSyntaxMismatch, offset: position, tag: .transferSyntaxUID,
                        "unknown transfer syntax \(uid); read as explicit VR little endian"))
            }
        } else {
            if !meta.isEmpty {
                warnings.append(
                    DICOMWarning(
                        .missingTransferSyntax, offset: position, tag: .transferSyntaxUID,
                        "the File Meta Information has no Transfer Syntax UID"))
            }
            if let sniffed, !sniffed.explicit {
                syntax = .implicitVRLittleEndian
            } else if let sniffed, !sniffed.littleEndian {
                syntax = .explicitVRBigEndian
            } else {
                syntax = .explicitVRLittleEndian
            }
        }

        if syntax.isDeflated {
            let inflated = try inflate(storage, from: position, limits: options.inflationLimits)
            var parser = DataSetParser(storage: inflated, range: 0..<inflated.count, explicitVR: true, littleEndian: true, options: options)
            parser.reportedOffsetBias = 0
            let (dataSet, _) = try parser.parseDataSet(depth: 0, until: inflated.count, inheritedCharacterSet: .default)
            warnings += parser.warnings
            var file = DICOMFile(
                preamble: preamble, fileMetaInformation: meta, dataSet: dataSet, transferSyntax: syntax, warnings: warnings)
            file.stoppedBeforeEnd = parser.position < inflated.count
            return file
        }

        var explicit = syntax.isExplicitVR
        var little = syntax.isLittleEndian
        if let sniffed, count - position >= 8 {
            let sniffedExplicit = sniffed.explicit
            let sniffedLittle = sniffed.littleEndian
            if sniffedExplicit != explicit {
                warnings.append(
                    DICOMWarning(
                        .transferSyntaxMismatch, offset: position,
                        "transfer syntax says \(explicit ? "explicit" : "implicit") VR but the dataset is \(sniffedExplicit ? "explicit" : "implicit") VR; read as found"
                    ))
                explicit = sniffedExplicit
            }
            if sniffedLittle != little && sniffedExplicit && !plausibleGroup(storage, at: position, littleEndian: little) {
                warnings.append(
                    DICOMWarning(
                        .transferSyntaxMismatch, offset: position,
                        "transfer syntax says \(little ? "little" : "big") endian but the dataset is \(sniffedLittle ? "little" : "big") endian; read as found"
                    ))
                little = sniffedLittle
            }
        }
        var parser = DataSetParser(storage: storage, range: position..<count, explicitVR: explicit, littleEndian: little, options: options)
        let (dataSet, _) = try parser.parseDataSet(depth: 0, until: count, inheritedCharacterSet: .default)
        warnings += parser.warnings
        var file = DICOMFile(preamble: preamble, fileMetaInformation: meta, dataSet: dataSet, transferSyntax: syntax, warnings: warnings)
        file.stoppedBeforeEnd = parser.position < count
        return file
    }

    init(preamble: ByteSlice?, fileMetaInformation: DataSet, dataSet: DataSet, transferSyntax: TransferSyntax, warnings: [DICOMWarning]) {
        self.preamble = preamble
        self.fileMetaInformation = fileMetaInformation
        self.dataSet = dataSet
        self.transferSyntax = transferSyntax
        self.warnings = warnings
    }

    /// Guesses explicit/implicit VR and byte order from the first element header; nil when there is too little to see.
    static func sniffEncoding(_ storage: ByteStorage, at position: Int) -> (explicit: Bool, littleEndian: Bool)? {
        guard storage.count - position >= 8 else { return nil }
        let b = (0..<8).map { storage.base.load(fromByteOffset: position + $0, as: UInt8.self) }
        let explicit = VR(byte0: b[4], byte1: b[5]) != nil
        // Group numbers are small: the zero byte tells the order (0x0008 is 08 00 little endian, 00 08 big endian).
        let little = !(b[0] == 0 && b[1] != 0)
        return (explicit, little)
    }

    /// Whether the bytes at `position` can be the header of a first data element: a plausible group in either byte
    /// order, and either a VR or an implicit length that fits in the stream.
    static func looksLikeDataElement(_ storage: ByteStorage, at position: Int) -> Bool {
        guard storage.count - position >= 8 else { return false }
        let little = plausibleGroup(storage, at: position, littleEndian: true)
        let big = plausibleGroup(storage, at: position, littleEndian: false)
        guard little || big else { return false }
        let b4 = storage.base.load(fromByteOffset: position + 4, as: UInt8.self)
        let b5 = storage.base.load(fromByteOffset: position + 5, as: UInt8.self)
        if VR(byte0: b4, byte1: b5) != nil { return true }
        let raw = storage.base.loadUnaligned(fromByteOffset: position + 4, as: UInt32.self)
        let length = little ? UInt32(littleEndian: raw) : UInt32(bigEndian: raw)
        return length == 0xFFFF_FFFF || Int(length) <= storage.count - position - 8
    }

    /// Whether the first tag read in the given byte order has a group number a dataset can start with.
    static func plausibleGroup(_ storage: ByteStorage, at position: Int, littleEndian: Bool) -> Bool {
        let raw = storage.base.loadUnaligned(fromByteOffset: position, as: UInt16.self)
        let group = littleEndian ? UInt16(littleEndian: raw) : UInt16(bigEndian: raw)
        return group >= 0x0002 && group <= 0x7FE0
    }

    /// Inflates a deflated dataset (raw DEFLATE, RFC 1951; zlib-wrapped streams are accepted too) (PS3.5 A.5), under
    /// `limits`: a stream that would pass them is refused as it grows, never allocated from a declared size.
    static func inflate(_ storage: ByteStorage, from position: Int, limits: InflationLimits) throws(DICOMError) -> ByteStorage {
        let input = UnsafeRawBufferPointer(start: storage.base + position, count: storage.count - position)
        var lastFailure = "the deflated dataset cannot be inflated"
        for format: BoundedInflater.Format in [.raw, .zlibOrGzip] {
            do {
                let inflater = try BoundedInflater(format: format, limits: limits)
                var capacity = min(limits.maximumBytes, max(input.count * 4, 4096))
                var output = UnsafeMutableRawPointer.allocate(byteCount: max(capacity, 1), alignment: 16)
                var produced = 0
                do {
                    try inflater.feed(input) { chunk in
                        if produced + chunk.count > capacity {
                            let bigger = min(max(capacity * 2, produced + chunk.count), limits.maximumBytes)
                            let grown = UnsafeMutableRawPointer.allocate(byteCount: bigger, alignment: 16)
                            grown.copyMemory(from: output, byteCount: produced)
                            output.deallocate()
                            output = grown
                            capacity = bigger
                        }
                        if let source = chunk.baseAddress { (output + produced).copyMemory(from: source, byteCount: chunk.count) }
                        produced += chunk.count
                    }
                } catch {
                    output.deallocate()
                    throw error
                }
                if inflater.isFinished || produced > 0 { return ByteStorage(adopting: output, count: produced) }
                output.deallocate()
            } catch let error as InflationError {
                switch error {
                case .tooLarge, .ratioExceeded: throw .limitExceeded(offset: position, reason: "the deflated dataset \(error)")
                case .corrupt: lastFailure = "the deflated dataset cannot be inflated: \(error)"
                }
            } catch {
                lastFailure = "the deflated dataset cannot be inflated: \(error)"
            }
        }
        throw .malformed(offset: position, tag: nil, reason: lastFailure)
    }
}
