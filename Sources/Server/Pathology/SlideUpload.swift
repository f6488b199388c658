import Archive
import DICOM
import Foundation
import Imaging

/// A scanner's slide file (SVS, NDPI, MRXS, SCN, generic tiled TIFF… whatever OpenSlide reads) arriving through the
/// upload page: converted into DICOM WSI as `POST /api/wsi/convert` does, each level stored through the upload's own
/// store (so a site's slide belongs to its institution), with the patient and study attributes the page sent. The
/// label and macro images are not converted. A DICOM file or a zip archive is not a slide; a file OpenSlide does not
/// recognise goes on to the ordinary upload intake.
enum SlideUpload {
    /// The results of converting the file at `path`, or nil when it is not a slide OpenSlide reads.
    static func convertIfSlide(path: String, name: String, attributes: DataSet, store: UploadIngest.Store) async -> [UploadItemResult]? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        let head = (try? handle.read(upToCount: 132)).map { [UInt8]($0) } ?? []
        try? handle.close()
        if head.count >= 132, head[128..<132].elementsEqual(Array("DICM".utf8)) { return nil }
        if ZipReader.isZip(path) { return nil }
        var results: [UploadItemResult] = []
        do {
            _ = try await SlideConverter().convert(path: path, name: name, attributes: attributes) { level, bytes in
                let levelName = "\(name) (level \(level))"
                let outcome = try await store(bytes, levelName)
                results.append(
                    UploadItemResult(
                        name: levelName, status: outcome.status == .alreadyStored ? .alreadyStored : .stored,
                        studyInstanceUID: outcome.studyInstanceUID, sizeBytes: bytes.count))
            }
        } catch SlideConversionError.unrecognisedFormat {
            return results.isEmpty ? nil : results
        } catch {
            results.append(UploadItemResult(name: name, status: .failed, reason: "the slide could not be converted: \(error)"))
        }
        return results
    }
}
