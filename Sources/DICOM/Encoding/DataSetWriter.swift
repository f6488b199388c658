import CSystemZlib

/// Atrium's implementation identity, written into every File Meta Information group (PS3.7 D.3.3.2).
public enum Implementation {
    /// Implementation Class UID: a `2.25.` UID made once for Atrium.
    public static let classUID = "2.25.217978494736668394962116609973272904630"
    /// Implementation Version Name (at most 16 characters).
    public static let versionName = "ATRIUM_0_1"
}

/// Encodes datasets (PS3.5 7): pure, values in, bytes out.
public struct DataSetWriter {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []
    let explicitVR: Bool
    let littleEndian: Bool

    /// A writer for the encoding of `transferSyntax` (deflated syntaxes write explicit VR little endian here).
    public init(transferSyntax: TransferSyntax, reservingCapacity capacity: Int = 4096) {
        explicitVR = transferSyntax.isExplicitVR
        littleEndian = transferSyntax.isLittleEndian
        bytes.reserveCapacity(capacity)
    }

    @inline(__always) mutating func u16(_ v: UInt16) {
        let x = littleEndian ? v.littleEndian : v.bigEndian
        withUnsafeBytes(of: x) { bytes.append(contentsOf: $0) }
    }

    @inline(__always) mutating func u32(_ v: UInt32) {
        let x = littleEndian ? v.littleEndian : v.bigEndian
        withUnsafeBytes(of: x) { bytes.append(contentsOf: $0) }
    }

    mutating func tag(_ t: Tag) {
        u16(t.group)
        u16(t.element)
    }

    /// Writes every element of `dataSet`; group length elements (gggg,0000) other than the meta group's are
    /// dropped, since they are retired and would be wrong after any change (PS3.5 7.2).
    public mutating func write(_ dataSet: DataSet) {
        for element in dataSet.elements where !(element.tag.isGroupLength && element.tag.group != 0x0002) {
            write(element, swapUnit: dataSet.byteSwapUnit(of: element))
        }
    }

    /// Writes one element.
    public mutating func write(_ element: DataElement) {
        write(element, swapUnit: nil)
    }

    private mutating func write(_ element: DataElement, swapUnit: Int?) {
        switch element.value {
        case .bytes(let value):
            var vr = element.vr
            let unit = swapUnit ?? (vr == .AT ? 2 : element.vr.unitSize)
            let needsSwap = element.isLittleEndian != littleEndian && unit > 1
            let length = value.count + (value.count & 1)
            if explicitVR && !vr.hasLongLength && length > 0xFFFF { vr = .UN }
            header(element.tag, vr, length: UInt32(length))
            if needsSwap {
                bytes.append(contentsOf: swapped(value, unit: unit))
            } else {
                value.withUnsafeBytes { bytes.append(contentsOf: $0) }
            }
            if value.count & 1 == 1 { bytes.append(element.vr.paddingByte) }
        case .sequence(let items):
            header(element.tag, .SQ, length: 0xFFFF_FFFF)
            for item in items {
                tag(.item)
                u32(0xFFFF_FFFF)
                write(item)
                tag(.itemDelimitationItem)
                u32(0)
            }
            tag(.sequenceDelimitationItem)
            u32(0)
        case .encapsulated(let pixels):
            header(element.tag, element.vr == .OW ? .OW : .OB, length: 0xFFFF_FFFF)
            fragment(pixels.basicOffsetTable)
            for f in pixels.fragments { fragment(f) }
            tag(.sequenceDelimitationItem)
            u32(0)
        }
    }

    private mutating func fragment(_ f: ByteSlice) {
        tag(.item)
        u32(UInt32(f.count + (f.count & 1)))
        f.withUnsafeBytes { bytes.append(contentsOf: $0) }
        if f.count & 1 == 1 { bytes.append(0) }
    }

    private mutating func header(_ t: Tag, _ vr: VR, length: UInt32) {
        tag(t)
        if explicitVR {
            bytes.append(UInt8(vr.rawValue >> 8))
            bytes.append(UInt8(vr.rawValue & 0xFF))
            if vr.hasLongLength {
                u16(0)
                u32(length)
            } else {
                u16(UInt16(truncatingIfNeeded: length))
            }
        } else {
            u32(length)
        }
    }
}

extension DICOMFile {
    /// The File Meta Information for `dataSet` in `transferSyntax`: Media Storage SOP Class and Instance from
    /// the dataset, Atrium's implementation identity, and any other meta elements already in `existing`
    /// (PS3.10 7.1).
    public static func makeFileMetaInformation(for dataSet: DataSet, transferSyntax: TransferSyntax, existing: DataSet = DataSet())
        -> DataSet
    {
        var meta = DataSet()
        meta[.fileMetaInformationVersion] = DataElement(tag: .fileMetaInformationVersion, vr: .OB, bytes: [0x00, 0x01])
        // A dataset without SOP Class/Instance UIDs (a fragment, a broken file) gets no Media Storage UIDs rather
        // than empty ones that contradict it.
        if let sopClass = dataSet.string(.sopClassUID) ?? existing.string(.mediaStorageSOPClassUID) {
            meta.set(.mediaStorageSOPClassUID, .UI, sopClass)
        }
        if let sopInstance = dataSet.string(.sopInstanceUID) ?? existing.string(.mediaStorageSOPInstanceUID) {
            meta.set(.mediaStorageSOPInstanceUID, .UI, sopInstance)
        }
        meta.set(.transferSyntaxUID, .UI, transferSyntax.uid)
        meta.set(.implementationClassUID, .UI, Implementation.classUID)
        meta.set(.implementationVersionName, .SH, Implementation.versionName)
        for e in existing.elements where e.tag.group == 0x0002 && !meta.contains(e.tag) && e.tag.element > 0x0013 {
            meta[e.tag] = e
        }
        return meta
    }

    /// Encodes the file: preamble, `DICM`, the meta group with a correct group length, and the dataset in
    /// `transferSyntax` (deflated when the syntax says so) (PS3.10 7.1).
    public func encoded(transferSyntax target: TransferSyntax? = nil) throws(DICOMError) -> [UInt8] {
        let syntax = target ?? transferSyntax
        let hasEncapsulated = dataSet[.pixelData]?.encapsulated != nil
        if dataSet.contains(.pixelData), hasEncapsulated != syntax.isEncapsulated, syntax != transferSyntax {
            throw .unsupportedTransferSyntax(uid: syntax.uid)
        }
        var meta = DICOMFile.makeFileMetaInformation(for: dataSet, transferSyntax: syntax, existing: fileMetaInformation)
        meta.remove(.fileMetaInformationGroupLength)
        var metaWriter = DataSetWriter(transferSyntax: .explicitVRLittleEndian)
        metaWriter.write(meta)
        var out = [UInt8](repeating: 0, count: 128)
        if let preamble, preamble.count == 128 { out = preamble.array }
        out.reserveCapacity(out.count + metaWriter.bytes.count + 4096)
        out += Array("DICM".utf8)
        var lengthWriter = DataSetWriter(transferSyntax: .explicitVRLittleEndian)
        lengthWriter.write(
            DataElement(
                tag: .fileMetaInformationGroupLength, vr: .UL,
                bytes: withUnsafeBytes(of: UInt32(metaWriter.bytes.count).littleEndian) { Array($0) }))
        out += lengthWriter.bytes
        out += metaWriter.bytes
        out += try DICOMFile.encodeDataSet(dataSet, transferSyntax: syntax)
        return out
    }

    /// Encodes a bare dataset in `transferSyntax`, deflating when the syntax says so.
    public static func encodeDataSet(_ dataSet: DataSet, transferSyntax: TransferSyntax) throws(DICOMError) -> [UInt8] {
        var writer = DataSetWriter(transferSyntax: transferSyntax, reservingCapacity: 1 << 16)
        writer.write(dataSet)
        if transferSyntax.isDeflated { return try deflate(writer.bytes) }
        return writer.bytes
    }

    /// Writes the file to `path` (replacing it atomically).
    public func write(to path: String, transferSyntax target: TransferSyntax? = nil) throws(DICOMError) {
        try writeFileAtomically(path: path, bytes: encoded(transferSyntax: target))
    }

    /// Raw DEFLATE (RFC 1951) of `input` (PS3.5 A.5), padded to an even length.
    static func deflate(_ input: [UInt8]) throws(DICOMError) -> [UInt8] {
        var output: [UInt8]
        switch RawDeflate.compress(input) {
        case .success(let bytes): output = bytes
        case .failure(let failure): throw .malformed(offset: 0, tag: nil, reason: "zlib \(failure.step) failed (\(failure.status))")
        }
        if output.count & 1 == 1 { output.append(0) }
        return output
    }
}
