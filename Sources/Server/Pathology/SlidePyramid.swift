import Archive
import DICOM
import Foundation

/// One whole-slide instance with what finding its frames needs: where each frame's byte ranges start in the packed
/// list, and the frame at each tile position of a TILED_SPARSE image.
struct SlideEntry: Sendable {
    let instance: IndexedSlideInstance
    /// Per frame, the index of its range count in ``SlideFrameMap/byteRanges``; empty when the ranges are unknown.
    let rangeStarts: [Int]
    /// Frame index by tile position (column, row, focal plane, optical path); TILED_SPARSE only.
    let sparse: [SIMD4<Int32>: Int]

    init(_ instance: IndexedSlideInstance) {
        self.instance = instance
        let values = instance.frames.byteRanges
        var starts: [Int] = []
        starts.reserveCapacity(instance.description.numberOfFrames)
        var i = 0
        while i < values.count {
            let count = Int(values[i])
            guard count >= 0, i + 1 + 2 * count <= values.count else { break }
            starts.append(i)
            i += 1 + 2 * count
        }
        rangeStarts = starts.count == instance.description.numberOfFrames ? starts : []
        var sparse: [SIMD4<Int32>: Int] = [:]
        if instance.description.isSparse {
            let p = instance.frames.positions
            for frame in 0..<(p.count / 4) {
                let key = SIMD4(p[4 * frame], p[4 * frame + 1], p[4 * frame + 2], p[4 * frame + 3])
                if sparse[key] == nil { sparse[key] = frame }
            }
        }
        self.sparse = sparse
    }

    var description: SlideDescription { instance.description }
    var stored: StoredInstance { instance.stored }

    /// The byte ranges of `frame` in the blob, when the index recorded them.
    func ranges(of frame: Int) -> [Range<Int>]? {
        guard rangeStarts.indices.contains(frame) else { return nil }
        let values = instance.frames.byteRanges
        let start = rangeStarts[frame]
        let count = Int(values[start])
        return (0..<count).map { k in
            let offset = Int(values[start + 1 + 2 * k])
            return offset..<(offset + Int(values[start + 2 + 2 * k]))
        }
    }
}

/// A series of whole-slide images as a pyramid: the VOLUME instances grouped into levels by total pixel matrix
/// (largest first), and the label, overview and thumbnail images beside them.
struct SlidePyramid: Sendable {
    let studyInstanceUID: String
    let seriesInstanceUID: String
    /// Each level's instances (several when focal planes or optical paths are split across instances).
    let levels: [[SlideEntry]]
    let associated: [IndexedSlideInstance]
    /// The focal planes (Z offsets in µm) and optical paths of the base level; tile requests name a plane by index.
    let focalPlanes: [Double]
    let opticalPaths: [String]

    /// The pyramid of `instances` (as the index returns them, largest first); nil when none is a VOLUME image.
    init?(_ instances: [IndexedSlideInstance]) {
        var levels: [[SlideEntry]] = []
        var associated: [IndexedSlideInstance] = []
        for instance in instances {
            let kind = instance.description.imageType
            guard kind == "VOLUME" || kind.isEmpty else {
                associated.append(instance)
                continue
            }
            let d = instance.description
            if let last = levels.last?.first?.description, last.totalPixelMatrixColumns == d.totalPixelMatrixColumns,
                last.totalPixelMatrixRows == d.totalPixelMatrixRows
            {
                levels[levels.count - 1].append(SlideEntry(instance))
            } else {
                levels.append([SlideEntry(instance)])
            }
        }
        guard let base = levels.first else { return nil }
        self.levels = levels
        self.associated = associated
        studyInstanceUID = base[0].stored.studyInstanceUID
        seriesInstanceUID = base[0].stored.seriesInstanceUID
        focalPlanes = Array(Set(base.flatMap(\.description.focalPlanes))).sorted()
        var paths: [String] = []
        for entry in base { for path in entry.description.opticalPaths where !paths.contains(path) { paths.append(path) } }
        opticalPaths = paths
    }

    enum Location {
        case frame(SlideEntry, Int)
        /// A TILED_SPARSE position without a frame.
        case empty(SlideDescription)
        case missing(String)
    }

    /// The frame holding a tile: by arithmetic in a TILED_FULL image (columns across, then rows, then focal planes,
    /// then optical paths: PS3.3 C.7.6.17.3), by the frames' positions in a TILED_SPARSE one.
    func locate(level: Int, column: Int, row: Int, focalPlane: Int, opticalPath: String?) -> Location {
        let z = focalPlanes[focalPlane]
        var emptyIn: SlideDescription?
        for entry in levels[level] {
            let d = entry.description
            guard let zIndex = d.focalPlanes.firstIndex(where: { abs($0 - z) < 1e-6 }) else { continue }
            let pathIndex: Int
            if let opticalPath {
                guard let index = d.opticalPaths.firstIndex(of: opticalPath) else { continue }
                pathIndex = index
            } else {
                pathIndex = 0
            }
            if d.isSparse {
                if let frame = entry.sparse[SIMD4(Int32(column), Int32(row), Int32(zIndex), Int32(pathIndex))] {
                    return .frame(entry, frame)
                }
                emptyIn = d
            } else {
                let plane = d.tilesAcross * d.tilesDown
                let frame = column + d.tilesAcross * row + zIndex * plane + pathIndex * d.focalPlanes.count * plane
                if frame < d.numberOfFrames { return .frame(entry, frame) }
            }
        }
        if let emptyIn { return .empty(emptyIn) }
        return .missing("no frame holds tile \(column),\(row) of level \(level) in that focal plane and optical path")
    }

    /// The pyramid as the viewer reads it (docs/api.md).
    var summary: Summary {
        let base = levels[0][0].description
        return Summary(
            studyInstanceUID: studyInstanceUID, seriesInstanceUID: seriesInstanceUID, focalPlanes: focalPlanes, opticalPaths: opticalPaths,
            levels: levels.enumerated().map { index, entries in
                let d = entries[0].description
                return Summary.Level(
                    level: index, width: d.totalPixelMatrixColumns, height: d.totalPixelMatrixRows, tileWidth: d.columns,
                    tileHeight: d.rows, tilesAcross: d.tilesAcross, tilesDown: d.tilesDown,
                    downsample: d.totalPixelMatrixColumns > 0
                        ? Double(base.totalPixelMatrixColumns) / Double(d.totalPixelMatrixColumns) : 1,
                    pixelSpacing: d.pixelSpacing, dimensionOrganizationType: d.dimensionOrganizationType,
                    transferSyntaxUID: d.transferSyntaxUID, photometricInterpretation: d.photometricInterpretation,
                    instances: entries.map(\.stored.sopInstanceUID), frames: entries.reduce(0) { $0 + $1.description.numberOfFrames })
            },
            associated: associated.map { Summary.Associated(imageType: $0.description.imageType, sopInstanceUID: $0.stored.sopInstanceUID) }
        )
    }

    struct Summary: Encodable {
        struct Level: Encodable {
            var level: Int
            var width: Int
            var height: Int
            var tileWidth: Int
            var tileHeight: Int
            var tilesAcross: Int
            var tilesDown: Int
            var downsample: Double
            /// mm between rows, then between columns.
            var pixelSpacing: [Double]?
            var dimensionOrganizationType: String
            var transferSyntaxUID: String
            var photometricInterpretation: String
            var instances: [String]
            var frames: Int
        }
        struct Associated: Encodable {
            var imageType: String
            var sopInstanceUID: String
        }
        var studyInstanceUID: String
        var seriesInstanceUID: String
        var focalPlanes: [Double]
        var opticalPaths: [String]
        var levels: [Level]
        var associated: [Associated]
    }
}
