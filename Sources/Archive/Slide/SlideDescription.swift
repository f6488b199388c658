import DICOM
import Foundation

/// What the index keeps of one VL Whole Slide Microscopy Image (PS3.3 A.32.8): the geometry of its tiled total
/// pixel matrix (PS3.3 C.8.12.4), the kind of image, and the physical pixel spacing. One instance is one level of a
/// slide's pyramid, or its label, overview or thumbnail image.
public struct SlideDescription: Sendable, Equatable, Codable {
    /// The third value of Image Type (PS3.3 C.8.12.4.1.1): `VOLUME`, `LABEL`, `OVERVIEW`, `THUMBNAIL`, or empty.
    public var imageType: String
    /// Total Pixel Matrix Columns and Rows (0048,0006/0007): the whole level's width and height in pixels.
    public var totalPixelMatrixColumns: Int
    public var totalPixelMatrixRows: Int
    /// Columns and Rows (0028,0011/0010): one tile's width and height.
    public var columns: Int
    public var rows: Int
    public var numberOfFrames: Int
    /// Dimension Organization Type (0020,9311): `TILED_FULL`, `TILED_SPARSE`, or empty (read as TILED_SPARSE when
    /// frames carry positions, else as TILED_FULL).
    public var dimensionOrganizationType: String
    /// The focal planes, as Z offsets in µm (ascending); one plane at 0 when the object names none.
    public var focalPlanes: [Double]
    /// The Optical Path Identifiers (0048,0106) of Optical Path Sequence, in its order; one empty identifier when none.
    public var opticalPaths: [String]
    /// Pixel Spacing (0028,0030) of the Pixel Measures functional group, in mm: adjacent rows, then adjacent columns.
    public var pixelSpacing: [Double]?
    public var photometricInterpretation: String
    public var samplesPerPixel: Int
    public var bitsAllocated: Int
    public var transferSyntaxUID: String

    /// Tiles across and down the total pixel matrix.
    public var tilesAcross: Int { columns > 0 ? (totalPixelMatrixColumns + columns - 1) / columns : 0 }
    public var tilesDown: Int { rows > 0 ? (totalPixelMatrixRows + rows - 1) / rows : 0 }

    /// Whether frames are found by position lists (TILED_SPARSE) rather than by arithmetic (TILED_FULL).
    public var isSparse: Bool { dimensionOrganizationType != "TILED_FULL" }
}

/// Where each frame of a slide instance lies: its tile position (TILED_SPARSE only) and its bytes in the blob.
public struct SlideFrameMap: Sendable, Equatable {
    /// Per frame four values: tile column, tile row (0-based, from the Plane Position (Slide) functional group),
    /// focal plane index and optical path index. Empty for TILED_FULL, whose positions follow from the frame number.
    public var positions: [Int32]
    /// Per frame: the number of byte ranges, then each range's offset and length in the stored blob (fragments of
    /// encapsulated Pixel Data, or the frame's slice of native Pixel Data). Empty when unknown.
    public var byteRanges: [Int64]

    public init(positions: [Int32] = [], byteRanges: [Int64] = []) {
        self.positions = positions
        self.byteRanges = byteRanges
    }

    /// The byte ranges of each frame, decoded from ``byteRanges``; nil when they are missing or malformed.
    public func frameRanges(numberOfFrames: Int) -> [[Range<Int>]]? {
        var out: [[Range<Int>]] = []
        out.reserveCapacity(numberOfFrames)
        var i = 0
        while i < byteRanges.count {
            let count = Int(byteRanges[i])
            i += 1
            guard count >= 0, i + 2 * count <= byteRanges.count else { return nil }
            var ranges: [Range<Int>] = []
            for k in 0..<count {
                let start = Int(byteRanges[i + 2 * k])
                let length = Int(byteRanges[i + 2 * k + 1])
                guard start >= 0, length >= 0 else { return nil }
                ranges.append(start..<(start + length))
            }
            i += 2 * count
            out.append(ranges)
        }
        return out.count == numberOfFrames ? out : nil
    }

    /// The packed little-endian bytes of ``positions`` (index column).
    public var positionBytes: [UInt8] { Self.pack(positions) }
    /// The packed little-endian bytes of ``byteRanges``.
    public var byteRangeBytes: [UInt8] { Self.pack(byteRanges) }

    /// Unpacks what ``positionBytes`` and ``byteRangeBytes`` made.
    public init(positionBytes: [UInt8], byteRangeBytes: [UInt8]) {
        positions = Self.unpack(positionBytes, as: Int32.self)
        byteRanges = Self.unpack(byteRangeBytes, as: Int64.self)
    }

    static func pack<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(values.count * MemoryLayout<T>.size)
        for v in values { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        return out
    }

    static func unpack<T: FixedWidthInteger>(_ bytes: [UInt8], as: T.Type) -> [T] {
        let size = MemoryLayout<T>.size
        return bytes.withUnsafeBytes { raw in
            (0..<(raw.count / size)).map { T(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * size, as: T.self)) }
        }
    }
}

/// A slide instance as the index returns it: where it is stored, its description and its frame map.
public struct IndexedSlideInstance: Sendable, Equatable {
    public var stored: StoredInstance
    public var description: SlideDescription
    public var frames: SlideFrameMap

    public init(stored: StoredInstance, description: SlideDescription, frames: SlideFrameMap) {
        self.stored = stored
        self.description = description
        self.frames = frames
    }
}

/// Reads the pyramid facts of a VL Whole Slide Microscopy Image data set (PS3.3 C.8.12.4, C.7.6.17.3, C.7.6.16.2).
public enum SlideIndexing {
    /// The data set's slide description and frame map, or nil when it is not a VL WSM image. `blobBytes` is the
    /// stored blob the data set was parsed from: byte ranges are recorded only when the parsed fragments lie in it at
    /// the offsets the parser saw (so never for a deflated data set, or one re-encoded before storing).
    public static func describe(_ dataSet: DataSet, transferSyntax: TransferSyntax, blob: BlobBytes?) -> (SlideDescription, SlideFrameMap)?
    {
        guard dataSet.string(.sopClassUID) == UID.vlWholeSlideMicroscopyImageStorage else { return nil }
        let imageTypes = dataSet.strings(.imageType).map { $0.trimmingCharacters(in: .whitespaces).uppercased() }
        let kind = imageTypes.count >= 3 ? imageTypes[2] : ""
        let shared = dataSet.items(.sharedFunctionalGroupsSequence).first
        let perFrame = dataSet.items(.perFrameFunctionalGroupsSequence)
        let spacing = shared?.items(.pixelMeasuresSequence).first?.doubles(.pixelSpacing) ?? dataSet.doubles(.pixelSpacing)
        let numberOfFrames = max(dataSet.int(.numberOfFrames) ?? 1, 1)
        let columns = dataSet.int(.columns) ?? 0
        let rows = dataSet.int(.rows) ?? 0
        let organization = dataSet.string(.dimensionOrganizationType)?.uppercased() ?? ""

        var opticalPaths = dataSet.items(.opticalPathSequence).map { $0.string(.opticalPathIdentifier) ?? "" }
        if opticalPaths.isEmpty { opticalPaths = [""] }
        let sharedPath = shared?.items(.opticalPathIdentificationSequence).first?.string(.opticalPathIdentifier)
        let sharedZ = shared?.items(.planePositionSlideSequence).first?.double(.zOffsetInSlideCoordinateSystem)

        // Positions of frames that carry them (TILED_SPARSE, or TILED_FULL objects that list them anyway).
        var zValues = Set<Double>()
        var framePlaces: [(column: Int, row: Int, z: Double, path: String)] = []
        if organization != "TILED_FULL", perFrame.count == numberOfFrames, columns > 0, rows > 0 {
            for item in perFrame {
                let position = item.items(.planePositionSlideSequence).first
                let column = position?.int(.columnPositionInTotalImagePixelMatrix) ?? 1
                let row = position?.int(.rowPositionInTotalImagePixelMatrix) ?? 1
                let z = position?.double(.zOffsetInSlideCoordinateSystem) ?? sharedZ ?? 0
                let path =
                    item.items(.opticalPathIdentificationSequence).first?.string(.opticalPathIdentifier) ?? sharedPath ?? opticalPaths[0]
                zValues.insert(z)
                framePlaces.append(((column - 1) / columns, (row - 1) / rows, z, path))
            }
        }
        var focalPlanes = zValues.sorted()
        if focalPlanes.isEmpty {
            let planes = max(dataSet.int(.totalPixelMatrixFocalPlanes) ?? 1, 1)
            let step = shared?.items(.pixelMeasuresSequence).first?.double(.spacingBetweenSlices) ?? 0
            focalPlanes = (0..<planes).map { (sharedZ ?? 0) + Double($0) * step * 1000 }
        }
        let description = SlideDescription(
            imageType: kind, totalPixelMatrixColumns: dataSet.int(.totalPixelMatrixColumns) ?? columns,
            totalPixelMatrixRows: dataSet.int(.totalPixelMatrixRows) ?? rows, columns: columns, rows: rows,
            numberOfFrames: numberOfFrames,
            dimensionOrganizationType: organization.isEmpty ? (framePlaces.isEmpty ? "TILED_FULL" : "TILED_SPARSE") : organization,
            focalPlanes: focalPlanes, opticalPaths: opticalPaths, pixelSpacing: spacing.count == 2 ? spacing : nil,
            photometricInterpretation: dataSet.string(.photometricInterpretation) ?? "",
            samplesPerPixel: dataSet.int(.samplesPerPixel) ?? 1,
            bitsAllocated: dataSet.int(.bitsAllocated) ?? 8, transferSyntaxUID: transferSyntax.uid)

        var map = SlideFrameMap()
        if !framePlaces.isEmpty {
            map.positions.reserveCapacity(framePlaces.count * 4)
            for place in framePlaces {
                map.positions += [
                    Int32(clamping: place.column), Int32(clamping: place.row),
                    Int32(clamping: focalPlanes.firstIndex(of: place.z) ?? 0),
                    Int32(clamping: opticalPaths.firstIndex(of: place.path) ?? 0),
                ]
            }
        }
        if let blob, !transferSyntax.isDeflated, transferSyntax.isLittleEndian {
            map.byteRanges = byteRanges(dataSet, description: description, blob: blob) ?? []
        }
        return (description, map)
    }

    /// The byte ranges in `blob` of each frame of the Pixel Data, checked against the blob's bytes.
    static func byteRanges(_ dataSet: DataSet, description: SlideDescription, blob: BlobBytes) -> [Int64]? {
        guard let pixels = dataSet[.pixelData] else { return nil }
        var out: [Int64] = []
        var slices: [ByteSlice] = []
        if let encapsulated = pixels.encapsulated {
            let groups = encapsulated.frameFragmentRanges(numberOfFrames: description.numberOfFrames)
            guard groups.count == description.numberOfFrames else { return nil }
            out.reserveCapacity(groups.count * 3)
            for group in groups {
                out.append(Int64(group.count))
                for fragment in encapsulated.fragments[group] {
                    out += [Int64(fragment.startIndex), Int64(fragment.count)]
                    slices.append(fragment)
                }
            }
        } else if let bytes = pixels.bytes, pixels.isLittleEndian {
            let size = description.columns * description.rows * description.samplesPerPixel * (description.bitsAllocated / 8)
            guard size > 0, description.bitsAllocated % 8 == 0, size * description.numberOfFrames <= bytes.count else { return nil }
            for n in 0..<description.numberOfFrames {
                out += [1, Int64(bytes.startIndex + n * size), Int64(size)]
            }
            slices = [bytes]
        } else {
            return nil
        }
        // The parser's offsets are the blob's only when it parsed the blob's own bytes: compare the first and last pieces.
        let matches = blob.withUnsafeBytes { raw -> Bool in
            for slice in [slices.first, slices.last].compactMap({ $0 }) {
                guard slice.startIndex >= 0, slice.endIndex <= raw.count else { return false }
                let same = slice.withUnsafeBytes { piece -> Bool in
                    guard piece.count > 0 else { return true }
                    guard let a = piece.baseAddress, let b = raw.baseAddress else { return false }
                    return memcmp(a, b + slice.startIndex, piece.count) == 0
                }
                if !same { return false }
            }
            return true
        }
        return matches ? out : nil
    }
}
