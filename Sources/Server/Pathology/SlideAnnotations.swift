import Archive
import DICOM
import Foundation
import Imaging

/// One annotation drawn in the slide viewer, in base-level pixel coordinates (the top left corner of the total pixel
/// matrix is 0, 0; x across, y down).
struct SlideAnnotation: Codable, Equatable {
    /// `point`, `line`, `polygon` or `ellipse` (four points: the major axis's ends, then the minor axis's).
    var type: String
    var points: [[Double]]
}

/// The annotations of a slide as the viewer reads and writes them.
struct SlideAnnotationSet: Codable {
    var annotations: [SlideAnnotation]
    /// The Microscopy Bulk Simple Annotations instance they were read from, when stored.
    var sopInstanceUID: String?
}

/// Slide annotations as DICOM Microscopy Bulk Simple Annotations (PS3.3 A.87, C.37.1; Supplement 222): one annotation
/// group per graphic type, 2D coordinates in the referenced base level's total pixel matrix. Each save is a new
/// instance in the slide's study; the newest one referencing the slide's series is the current set.
enum SlideAnnotationDocument {
    static let graphicTypes = ["point": "POINT", "line": "POLYLINE", "polygon": "POLYGON", "ellipse": "ELLIPSE"]

    /// Why a set of annotations is refused.
    static func problem(_ set: SlideAnnotationSet, width: Int, height: Int) -> String? {
        guard set.annotations.count <= 10_000 else { return "at most 10,000 annotations" }
        for (index, annotation) in set.annotations.enumerated() {
            guard graphicTypes[annotation.type] != nil else { return "annotation \(index + 1): unknown type \(annotation.type)" }
            let count = annotation.points.count
            let expected: Bool =
                switch annotation.type {
                case "point": count == 1
                case "line": count >= 2 && count <= 10_000
                case "polygon": count >= 3 && count <= 10_000
                default: count == 4
                }
            guard expected else { return "annotation \(index + 1): \(count) points do not make a \(annotation.type)" }
            for point in annotation.points {
                guard point.count == 2, point.allSatisfy(\.isFinite), point[0] >= -Double(width), point[0] <= 2 * Double(width),
                    point[1] >= -Double(height), point[1] <= 2 * Double(height)
                else { return "annotation \(index + 1): a point is not two numbers on the slide" }
            }
        }
        return nil
    }

    /// The instance holding `set`, for the slide whose base level is `base` (its header gives patient and study).
    static func make(_ set: SlideAnnotationSet, base: DataSet, author: String, seriesNumber: Int) -> DataSet {
        var ds = DataSet(characterSet: base.characterSet)
        for element in base.elements
        where element.tag == .specificCharacterSet || LevelAttributes.patient.contains(element.tag)
            || LevelAttributes.study.contains(element.tag)
        {
            ds[element.tag] = element
        }
        let now = SlideConverter.dicomDate(Date())
        ds.set(.sopClassUID, .UI, UID.microscopyBulkSimpleAnnotationsStorage)
        ds.set(.sopInstanceUID, .UI, UID.generate())
        ds.set(.seriesInstanceUID, .UI, UID.generate())
        ds.set(.modality, .CS, "ANN")
        ds.set(.seriesNumber, .IS, "\(seriesNumber)")
        ds.set(.seriesDescription, .LO, "Slide annotations")
        ds.set(.instanceNumber, .IS, "1")
        if let frame = base.string(.frameOfReferenceUID) { ds.set(.frameOfReferenceUID, .UI, frame) }
        ds.set(.positionReferenceIndicator, .LO, base.string(.positionReferenceIndicator) ?? "SLIDE_CORNER")
        ds.set(.manufacturer, .LO, "Atrium")
        ds.set(.manufacturerModelName, .LO, "Atrium slide viewer")
        ds.set(.deviceSerialNumber, .LO, "ATRIUM")
        ds.set(.softwareVersions, .LO, "Atrium")
        ds.set(.instanceCreationDate, .DA, now.date)
        ds.set(.instanceCreationTime, .TM, now.time)
        ds.set(.contentDate, .DA, now.date)
        ds.set(.contentTime, .TM, now.time)
        ds.set(.contentLabel, .CS, "ANNOTATIONS")
        ds.set(.contentDescription, .LO, "Drawn in the slide viewer")
        ds.set(.contentCreatorName, .PN, author)
        ds.set(.annotationCoordinateType, .CS, "2D")
        ds.set(.pixelOriginInterpretation, .CS, "VOLUME")
        var image = DataSet()
        image.set(.referencedSOPClassUID, .UI, base.string(.sopClassUID) ?? UID.vlWholeSlideMicroscopyImageStorage)
        image.set(.referencedSOPInstanceUID, .UI, base.string(.sopInstanceUID) ?? "")
        ds.set(.referencedImageSequence, items: [image])
        var series = DataSet()
        series.set(.seriesInstanceUID, .UI, base.string(.seriesInstanceUID) ?? "")
        series.set(.referencedInstanceSequence, items: [image])
        ds.set(.referencedSeriesSequence, items: [series])
        var groups: [DataSet] = []
        for (kind, graphicType) in graphicTypes.sorted(by: { $0.key < $1.key }) {
            let members = set.annotations.filter { $0.type == kind }
            guard !members.isEmpty else { continue }
            var group = DataSet()
            group.set(.annotationGroupNumber, .US, integers: [groups.count + 1])
            group.set(.annotationGroupUID, .UI, UID.generate())
            group.set(.annotationGroupLabel, .LO, kind)
            group.set(.annotationGroupGenerationType, .CS, "MANUAL")
            group.set(.annotationPropertyCategoryCodeSequence, items: [SlideConverter.code("91723000", "SCT", "Anatomical structure")])
            group.set(.annotationPropertyTypeCodeSequence, items: [SlideConverter.code("85756007", "SCT", "Tissue")])
            group.set(.numberOfAnnotations, .UL, integers: [members.count])
            group.set(.annotationAppliesToAllOpticalPaths, .CS, "YES")
            group.set(.annotationAppliesToAllZPlanes, .CS, "YES")
            group.set(.graphicType, .CS, graphicType)
            var coordinates: [Float] = []
            var starts: [UInt32] = []
            for annotation in members {
                starts.append(UInt32(coordinates.count + 1))
                for point in annotation.points { coordinates += [Float(point[0]), Float(point[1])] }
            }
            group[.pointCoordinatesData] = DataElement(tag: .pointCoordinatesData, vr: .OF, bytes: LittleEndianValues.pack(coordinates))
            if graphicType == "POLYLINE" || graphicType == "POLYGON" {
                // The 1-based index, into Point Coordinates Data's values, of each annotation's first value.
                group[.longPrimitivePointIndexList] = DataElement(
                    tag: .longPrimitivePointIndexList, vr: .OL, bytes: LittleEndianValues.pack(starts))
            }
            groups.append(group)
        }
        ds.set(.annotationGroupSequence, items: groups)
        return ds
    }

    /// The annotations an instance holds; nil when it is not one this viewer can show.
    static func read(_ ds: DataSet) -> SlideAnnotationSet? {
        guard ds.string(.sopClassUID) == UID.microscopyBulkSimpleAnnotationsStorage, ds.string(.annotationCoordinateType) == "2D" else {
            return nil
        }
        var annotations: [SlideAnnotation] = []
        for group in ds.items(.annotationGroupSequence) {
            guard let graphicType = group.string(.graphicType),
                let kind = graphicTypes.first(where: { $0.value == graphicType })?.key,
                let values = group[.pointCoordinatesData]?.bytes
            else { continue }
            let coordinates: [Float] = LittleEndianValues.unpack(Array(values))
            let count = group.int(.numberOfAnnotations) ?? 0
            var starts: [Int]
            switch graphicType {
            case "POINT": starts = (0..<count).map { $0 * 2 }
            case "ELLIPSE": starts = (0..<count).map { $0 * 8 }
            default:
                let list: [UInt32] = LittleEndianValues.unpack(Array(group[.longPrimitivePointIndexList]?.bytes ?? .empty))
                starts = list.map { Int($0) - 1 }
            }
            starts.append(coordinates.count)
            for i in 0..<(starts.count - 1) {
                let lower = max(0, starts[i])
                let upper = min(coordinates.count, starts[i + 1], graphicType == "POINT" ? lower + 2 : Int.max)
                guard lower < upper else { continue }
                let slice = Array(coordinates[lower..<upper])
                let points = stride(from: 0, to: slice.count - 1, by: 2).map { [Double(slice[$0]), Double(slice[$0 + 1])] }
                annotations.append(SlideAnnotation(type: kind, points: points))
            }
        }
        return SlideAnnotationSet(annotations: annotations, sopInstanceUID: ds.string(.sopInstanceUID))
    }
}

/// Packing of 32-bit values (OF, OL) as the machine holds them: little endian on the platforms Atrium runs on.
enum LittleEndianValues {
    static func pack<T: BitwiseCopyable>(_ values: [T]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }

    static func unpack<T: BitwiseCopyable>(_ bytes: [UInt8]) -> [T] {
        let size = MemoryLayout<T>.size
        return bytes.withUnsafeBytes { raw in (0..<(raw.count / size)).map { raw.loadUnaligned(fromByteOffset: $0 * size, as: T.self) } }
    }
}
