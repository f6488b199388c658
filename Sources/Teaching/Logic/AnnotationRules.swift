import Foundation

/// What an annotation on a key image must be before a case is saved with it: a known kind with its number of points
/// (arrow: tail and head; ellipse: two corners of its bounding box; text: one anchor), every coordinate finite and on
/// the image (0…Columns across, 0…Rows down, image pixel coordinates), and a label of at most
/// ``maximumLabelLength`` characters (a text annotation needs one).
public enum AnnotationRules {
    public static let maximumLabelLength = 200
    public static let maximumPerImage = 100

    /// The size of an image in pixels.
    public struct ImageSize: Sendable, Equatable {
        public var rows: Int
        public var columns: Int

        public init(rows: Int, columns: Int) {
            self.rows = rows
            self.columns = columns
        }
    }

    /// The number of points of each kind.
    public static func pointCount(_ kind: Annotation.Kind) -> Int {
        switch kind {
        case .arrow, .ellipse: 2
        case .text: 1
        }
    }

    /// Checks every annotation of `images`; `sizes` holds the size of each image the case has, by SOP Instance UID.
    /// Annotations on an image whose size is unknown (an image the case does not hold) are refused.
    public static func validate(_ images: [KeyImage], sizes: [String: ImageSize]) throws(TeachingError) {
        for image in images where !image.annotations.isEmpty {
            guard let size = sizes[image.sopInstanceUID], size.rows > 0, size.columns > 0 else {
                throw .invalid("annotations on image \(image.sopInstanceUID), which the case does not hold")
            }
            guard image.annotations.count <= maximumPerImage else {
                throw .invalid("at most \(maximumPerImage) annotations on one image")
            }
            for (n, annotation) in image.annotations.enumerated() {
                let name = "annotation \(n + 1) (\(annotation.kind.rawValue)) on image \(image.sopInstanceUID)"
                guard annotation.points.count == pointCount(annotation.kind) else {
                    throw .invalid("\(name) needs \(pointCount(annotation.kind)) points, not \(annotation.points.count)")
                }
                for point in annotation.points {
                    guard point.count == 2, point.allSatisfy(\.isFinite) else {
                        throw .invalid("\(name): each point is [x, y] with finite numbers")
                    }
                    guard (0...Double(size.columns)).contains(point[0]), (0...Double(size.rows)).contains(point[1]) else {
                        throw .invalid("\(name): point [\(point[0]), \(point[1])] lies outside the image (\(size.columns) × \(size.rows))")
                    }
                }
                guard annotation.label.count <= maximumLabelLength else {
                    throw .invalid("\(name): a label is at most \(maximumLabelLength) characters")
                }
                if annotation.kind == .text, annotation.label.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    throw .invalid("\(name): a text annotation needs a label")
                }
                if annotation.kind == .ellipse,
                    annotation.points[0][0] == annotation.points[1][0] || annotation.points[0][1] == annotation.points[1][1]
                {
                    throw .invalid("\(name): an ellipse needs a width and a height")
                }
            }
        }
    }
}
