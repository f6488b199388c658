import DICOM
import Foundation

/// One row of the `slide_instances` table, shared by the SQLite and PostgreSQL indexes.
struct SlideRow {
    let values: [SQLValue]

    /// The row of `record`, or nil when it is not a whole-slide image.
    init?(_ record: InstanceRecord, instancePK: Int64, seriesPK: Int64) {
        guard let slide = record.slide, let description = try? JSONEncoder().encode(slide) else { return nil }
        values = [
            .integer(instancePK), .integer(seriesPK), .text(slide.imageType), .integer(Int64(slide.totalPixelMatrixColumns)),
            .integer(Int64(slide.totalPixelMatrixRows)), .blob(Array(description)), .blob(record.slideFrames.positionBytes),
            .blob(record.slideFrames.byteRangeBytes),
        ]
    }

    static let columns = "instance_pk, series_pk, image_type, total_columns, total_rows, description, frame_positions, frame_ranges"
    static let insertSQLite = "INSERT INTO slide_instances (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    static let insertPostgres = "INSERT INTO slide_instances (\(columns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"

    /// The slide rows of a series with their instances; the caller adds the WHERE clause on `se.series_uid` (and
    /// `st.institution`).
    static let selectSQL =
        "SELECT st.study_uid, se.series_uid, i.sop_uid, i.sop_class, i.transfer_syntax, i.blob_key, i.size_bytes, "
        + "sl.description, sl.frame_positions, sl.frame_ranges FROM slide_instances sl JOIN instances i ON i.pk = sl.instance_pk "
        + "JOIN series se ON se.pk = sl.series_pk JOIN studies st ON st.pk = se.study_pk"

    /// Rows of ``selectSQL``, largest total pixel matrix first (the pyramid's base), rows whose description does not
    /// decode left out.
    static func decode(_ rows: [[SQLValue]]) -> [IndexedSlideInstance] {
        let decoder = JSONDecoder()
        let slides = rows.compactMap { row -> IndexedSlideInstance? in
            guard row.count >= 10, let description = try? decoder.decode(SlideDescription.self, from: Data(row[7].bytes ?? [])) else {
                return nil
            }
            let stored = StoredInstance(
                studyInstanceUID: row[0].text ?? "", seriesInstanceUID: row[1].text ?? "", sopInstanceUID: row[2].text ?? "",
                sopClassUID: row[3].text ?? "", transferSyntaxUID: row[4].text ?? "", blobKey: BlobKey(row[5].text ?? ""),
                sizeBytes: Int(row[6].integer ?? 0))
            return IndexedSlideInstance(
                stored: stored, description: description,
                frames: SlideFrameMap(positionBytes: row[8].bytes ?? [], byteRangeBytes: row[9].bytes ?? []))
        }
        return slides.sorted {
            ($0.description.totalPixelMatrixColumns, $0.description.totalPixelMatrixRows, $0.stored.sopInstanceUID)
                > ($1.description.totalPixelMatrixColumns, $1.description.totalPixelMatrixRows, $1.stored.sopInstanceUID)
        }
    }
}
