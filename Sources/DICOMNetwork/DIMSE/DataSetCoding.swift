import DICOM
import NIOCore

/// Moves data sets between the DIMSE layer's bytes and the `DICOM` module's `DataSet` (PS3.7 6.3.1, PS3.10 7.1).
public enum DataSetCoding {
    /// Decodes a bare data set encoded in `transferSyntaxUID`.
    public static func decode(_ bytes: ByteBuffer, transferSyntaxUID: String, options: ReadOptions = .strict) throws(DIMSEError) -> DataSet
    {
        // The reader takes Part 10 streams; a File Meta Information group naming the syntax frames the bare data set.
        var stream = Array("DICM".utf8)
        stream += metaGroup([(Tag.transferSyntaxUID, transferSyntaxUID)])
        bytes.withUnsafeReadableBytes { stream.append(contentsOf: $0) }
        do {
            return try DICOMFile.read(stream, options: options).dataSet
        } catch {
            throw .dataSet("cannot decode the data set: \(error)")
        }
    }

    /// The elements before Pixel Data of a data set behind `metaGroup` (`DICM` and the meta group), read from as few leading
    /// bytes as hold them: 8 KiB first, then 64 KiB, then all (the reader copies its input, so less is faster).
    public static func header(metaGroup: [UInt8], dataSet: ByteBuffer, transferSyntaxUID: String) throws(DIMSEError) -> DataSet {
        let deflated = TransferSyntax(uid: transferSyntaxUID).isDeflated
        var strict = ReadOptions.stopBeforePixelData
        strict.toleratesTruncation = false
        for limit in deflated ? [Int.max] : [8 * 1024, 64 * 1024, Int.max] {
            let count = min(limit, dataSet.readableBytes)
            var stream = metaGroup
            stream.reserveCapacity(metaGroup.count + count)
            dataSet.withUnsafeReadableBytes { stream.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
            let isWhole = count == dataSet.readableBytes
            if let file = try? DICOMFile.read(stream, options: isWhole ? .stopBeforePixelData : strict), isWhole || file.stoppedBeforeEnd {
                return file.dataSet
            }
            if isWhole { break }
        }
        throw .dataSet("the data set cannot be read")
    }

    /// Encodes a data set in `transferSyntaxUID` (uncompressed or deflated; encapsulated pixel data is kept as it is).
    public static func encode(_ dataSet: DataSet, transferSyntaxUID: String) throws(DIMSEError) -> ByteBuffer {
        do {
            return ByteBuffer(bytes: try DICOMFile.encodeDataSet(dataSet, transferSyntax: TransferSyntax(uid: transferSyntaxUID)))
        } catch {
            throw .dataSet("cannot encode the data set: \(error)")
        }
    }

    /// Re-encodes a data set from one uncompressed syntax to another; encapsulated syntaxes cannot be converted here.
    public static func transcode(_ bytes: ByteBuffer, from source: String, to target: String) throws(DIMSEError) -> ByteBuffer {
        if source == target { return bytes }
        guard !TransferSyntax(uid: source).isEncapsulated, !TransferSyntax(uid: target).isEncapsulated else {
            throw .dataSet("cannot convert \(source) to \(target) without a codec")
        }
        return try encode(decode(bytes, transferSyntaxUID: source, options: .default), transferSyntaxUID: target)
    }

    /// The 128-byte preamble, `DICM` and File Meta Information for a received instance (PS3.10 7.1).
    public static func part10Prefix(
        sopClassUID: String, sopInstanceUID: String, transferSyntaxUID: String, sourceAETitle: String?
    ) -> [UInt8] {
        var values: [(Tag, String)] = [
            (.mediaStorageSOPClassUID, sopClassUID), (.mediaStorageSOPInstanceUID, sopInstanceUID),
            (.transferSyntaxUID, transferSyntaxUID), (.implementationClassUID, Implementation.classUID),
            (.implementationVersionName, Implementation.versionName),
        ]
        if let sourceAETitle, !sourceAETitle.isEmpty { values.append((.sourceApplicationEntityTitle, sourceAETitle)) }
        var body = DataSetWriter(transferSyntax: .explicitVRLittleEndian)
        body.write(DataElement(tag: .fileMetaInformationVersion, vr: .OB, bytes: [0x00, 0x01]))
        var out = [UInt8](repeating: 0, count: 128)
        out += Array("DICM".utf8)
        let rest = metaGroup(values, leading: body.bytes)
        out += rest
        return out
    }

    /// Group 0002 elements in explicit VR little endian, led by their group length (PS3.10 7.1).
    private static func metaGroup(_ values: [(Tag, String)], leading: [UInt8] = []) -> [UInt8] {
        var writer = DataSetWriter(transferSyntax: .explicitVRLittleEndian)
        for (tag, value) in values {
            let vr: VR = tag == .sourceApplicationEntityTitle ? .AE : tag == .implementationVersionName ? .SH : .UI
            var bytes = Array(value.utf8)
            if bytes.count % 2 == 1 { bytes.append(vr == .UI ? 0 : 0x20) }
            writer.write(DataElement(tag: tag, vr: vr, bytes: bytes))
        }
        let body = leading + writer.bytes
        var length = DataSetWriter(transferSyntax: .explicitVRLittleEndian)
        length.write(
            DataElement(
                tag: .fileMetaInformationGroupLength, vr: .UL, bytes: withUnsafeBytes(of: UInt32(body.count).littleEndian) { Array($0) }))
        return length.bytes + body
    }
}
