import Archive
import DICOM
import Foundation

/// What became of one object of an upload: the per-file result list of the upload page.
public struct UploadItemResult: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable {
        case stored, alreadyStored, replaced
        /// A DICOMDIR: its directory records are not stored; the files they name arrive as files of their own.
        case directory
        /// Not a DICOM file (inside a folder or a zip archive).
        case skipped
        case failed
    }

    public var name: String
    public var status: Status
    public var studyInstanceUID: String?
    public var reason: String?
    /// The object's size in bytes (for zip entries, what the archive declares when it was refused before inflating).
    public var sizeBytes: Int?
    /// Which intake cap refused a zip entry, for the page to say so in the reader's language.
    public var refusal: Refusal?

    /// A zip entry refused by an intake cap (docs/reliability.md).
    public struct Refusal: Sendable, Equatable, Codable {
        /// The cap's configuration key (`maximumEntryBytes`, `maximumArchiveBytes`, `maximumCompressionRatio`), or
        /// `declaredSize` when the entry holds more than it declares.
        public var cap: String
        /// The cap's value (bytes, or the ratio).
        public var limit: Int
        public var declaredBytes: Int
        /// What had been inflated when it stopped; nil when refused from its declared sizes.
        public var actualBytes: Int?
    }
}

/// Stores an uploaded file into the archive as `atrium import` does: a zip archive entry by entry, a DICOMDIR
/// recognised as a directory, anything else as one DICOM object.
public enum UploadIngest {
    /// Stores one object (its bytes and a name for errors) into the archive.
    public typealias Store = @Sendable (_ bytes: [UInt8], _ name: String) async throws -> StoreOutcome

    /// Stores the file at `path`, uploaded under `name`, through `store`; a zip archive is read entry by entry under
    /// `limits`, its large entries inflated into `temporaryDirectory`. A refused entry is failed with its reason (name,
    /// sizes, cap); an entry that is not DICOM is skipped with its size; what is already stored is not touched.
    public static func ingest(
        path: String, name: String, limits: IntakeLimits = IntakeLimits(), temporaryDirectory: String, store: Store
    ) async -> [UploadItemResult] {
        if ZipReader.isZip(path) {
            let reader: ZipReader
            do {
                reader = try ZipReader(path: path, limits: limits)
            } catch {
                return [UploadItemResult(name: name, status: .failed, reason: "\(error)")]
            }
            var results: [UploadItemResult] = []
            for entry in reader.entries {
                let entryName = name + "/" + entry.name
                let bytes: [UInt8]
                do {
                    bytes = try reader.extract(entry, temporaryDirectory: temporaryDirectory).consume()
                } catch let error as ZipError {
                    var result = UploadItemResult(name: entryName, status: .failed, reason: error.reason, sizeBytes: entry.declaredBytes)
                    if case .refused(_, let declared, _, let actual, let cap, let limit) = error {
                        result.refusal = .init(cap: cap.rawValue, limit: limit, declaredBytes: declared, actualBytes: actual)
                    }
                    results.append(result)
                    continue
                } catch {
                    results.append(UploadItemResult(name: entryName, status: .failed, reason: "\(error)", sizeBytes: entry.declaredBytes))
                    continue
                }
                results.append(await storeOne(bytes, name: entryName, inContainer: true, store: store))
            }
            return results
        }
        let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        guard size <= limits.maximumEntryBytes else {
            return [
                UploadItemResult(
                    name: name, status: .failed,
                    reason: "\(size) bytes, past the per-object cap of \(limits.maximumEntryBytes) bytes (maximumEntryBytes)",
                    sizeBytes: size, refusal: .init(cap: "maximumEntryBytes", limit: limits.maximumEntryBytes, declaredBytes: size))
            ]
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            return [UploadItemResult(name: name, status: .failed, reason: "the upload could not be read back")]
        }
        return [await storeOne(Array(data), name: name, inContainer: false, store: store)]
    }

    private static func storeOne(_ bytes: [UInt8], name: String, inContainer: Bool, store: Store) async -> UploadItemResult {
        if isDICOMDIR(bytes) { return UploadItemResult(name: name, status: .directory, sizeBytes: bytes.count) }
        if inContainer, ZipReader.isZip(bytes) {
            return UploadItemResult(
                name: name, status: .skipped, reason: "a zip archive inside the archive is not unpacked: upload it on its own",
                sizeBytes: bytes.count)
        }
        do {
            let outcome = try await store(bytes, name)
            let status: UploadItemResult.Status =
                switch outcome.status {
                case .stored: .stored
                case .alreadyStored: .alreadyStored
                case .replaced: .replaced
                }
            return UploadItemResult(name: name, status: status, studyInstanceUID: outcome.studyInstanceUID, sizeBytes: bytes.count)
        } catch ArchiveError.unreadable(_, .notDICOM(let why)) where inContainer {
            return UploadItemResult(name: name, status: .skipped, reason: "not DICOM: \(why)", sizeBytes: bytes.count)
        } catch {
            return UploadItemResult(name: name, status: .failed, reason: "\(error)", sizeBytes: bytes.count)
        }
    }

    /// Whether the bytes are a DICOMDIR: a Part 10 file whose Media Storage SOP Class UID (0002,0002) is Media Storage
    /// Directory Storage, 1.2.840.10008.1.3.10 (PS3.10 7.1, 8). The file meta group is always explicit VR little endian,
    /// so reading that one element avoids parsing every object twice.
    static func isDICOMDIR(_ bytes: [UInt8]) -> Bool {
        guard bytes.count > 140, bytes[128..<132].elementsEqual(Array("DICM".utf8)) else { return false }
        var offset = 132
        while offset + 8 <= bytes.count, bytes[offset] == 0x02, bytes[offset + 1] == 0x00 {
            let element = UInt16(bytes[offset + 2]) | UInt16(bytes[offset + 3]) << 8
            let vr = String(decoding: bytes[(offset + 4)..<(offset + 6)], as: UTF8.self)
            let longLength = ["OB", "OW", "OF", "SQ", "UT", "UN", "UC", "UR", "OD", "OL", "OV"].contains(vr)
            let length: Int
            let valueStart: Int
            if longLength {
                guard offset + 12 <= bytes.count else { return false }
                length = bytes[(offset + 8)..<(offset + 12)].reversed().reduce(0) { $0 << 8 | Int($1) }
                valueStart = offset + 12
            } else {
                length = Int(bytes[offset + 6]) | Int(bytes[offset + 7]) << 8
                valueStart = offset + 8
            }
            guard valueStart + length <= bytes.count else { return false }
            if element == 0x0002 {
                let value = String(decoding: bytes[valueStart..<(valueStart + length)], as: UTF8.self)
                return value.trimmingCharacters(in: CharacterSet(charactersIn: "\0 ")) == "1.2.840.10008.1.3.10"
            }
            offset = valueStart + length
        }
        return false
    }
}
