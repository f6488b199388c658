import DICOM
import Foundation
import NIOCore

/// Answers C-FIND, C-MOVE and C-GET over a folder of Part 10 files, scanned (headers only) at each request.
///
/// Matching is the simple subset of PS3.4 C.2.2.2: single value, universal (empty), wildcard `*` and `?`, list of UIDs and
/// date/time ranges. The archive's query engine replaces it with the full rules and an index.
public struct FolderQueryRetrieveProvider: QueryProvider, RetrieveProvider {
    /// The folder scanned, recursively.
    public let directory: String

    /// Creates a provider over `directory`.
    public init(directory: String) {
        self.directory = directory
    }

    /// One file's header.
    struct Record: Sendable {
        var path: String
        var transferSyntaxUID: String
        var header: DataSet
    }

    func scan() -> [Record] {
        var records: [Record] = []
        let manager = FileManager.default
        guard let walker = manager.enumerator(atPath: directory) else { return [] }
        for case let relative as String in walker {
            let path = directory + "/" + relative
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                let file = try? DICOMFile.read(contentsOf: path, options: .stopBeforePixelData),
                let sopInstance = file.dataSet.string(.sopInstanceUID), !sopInstance.isEmpty
            else { continue }
            let syntax = file.fileMetaInformation.string(.transferSyntaxUID) ?? file.transferSyntax.uid
            records.append(Record(path: path, transferSyntaxUID: syntax, header: file.dataSet))
        }
        return records.sorted { $0.path < $1.path }
    }

    /// The matches at the request's level, one identifier per patient, study, series or instance.
    public func find(_ request: QueryRequest) async throws -> any AsyncSequence<DataSet, any Error> {
        let records = scan()
        let matcher = IdentifierMatcher(identifier: request.identifier)
        let levelKey = request.level.uniqueKey
        let studyModalities = Dictionary(grouping: records, by: { $0.header.string(.studyInstanceUID) ?? "" })
            .mapValues { Set($0.compactMap { $0.header.string(.modality) }) }
        var seen: Set<String> = []
        var groups: [(key: String, records: [Record])] = []
        var index: [String: Int] = [:]
        for record in records {
            let key = record.header.string(levelKey) ?? ""
            let modalities = studyModalities[record.header.string(.studyInstanceUID) ?? ""] ?? []
            guard matcher.matches(record.header, modalitiesInStudy: modalities) else { continue }
            if seen.insert(key).inserted {
                index[key] = groups.count
                groups.append((key, [record]))
            } else if let position = index[key] {
                groups[position].records.append(record)
            }
        }
        let identifiers = groups.map { group in
            matcher.response(
                for: group.records[0].header, level: request.level, related: group.records.map(\.header),
                modalitiesInStudy: studyModalities[group.records[0].header.string(.studyInstanceUID) ?? ""] ?? [],
                allRecords: records.map(\.header))
        }
        return AsyncThrowingStream<DataSet, any Error> { continuation in
            for identifier in identifiers { continuation.yield(identifier) }
            continuation.finish()
        }
    }

    /// The instances under the identifier's unique keys.
    public func instances(for request: RetrieveRequest) async throws -> [RetrievableInstance] {
        let matcher = IdentifierMatcher(identifier: request.identifier)
        return scan().compactMap { record in
            guard matcher.matches(record.header, modalitiesInStudy: []),
                let sopClass = record.header.string(.sopClassUID), let sopInstance = record.header.string(.sopInstanceUID)
            else { return nil }
            return RetrievableInstance(
                sopClassUID: sopClass, sopInstanceUID: sopInstance, transferSyntaxUID: record.transferSyntaxUID, location: record.path)
        }
    }

    /// The data set bytes of the file, after its meta group.
    public func dataSet(of instance: RetrievableInstance) async throws -> ByteBuffer {
        let data = try Data(contentsOf: URL(fileURLWithPath: instance.location))
        let buffer = ByteBuffer(bytes: data)
        if let header = Part10Header(buffer) {
            return buffer.getSlice(at: buffer.readerIndex + header.dataSetOffset, length: buffer.readableBytes - header.dataSetOffset)
                ?? ByteBuffer()
        }
        // No meta group: decode and re-encode in the syntax the reader found.
        let file = try DICOMFile.read(Array(data))
        return try DataSetCoding.encode(file.dataSet, transferSyntaxUID: file.transferSyntax.uid)
    }
}

extension QueryRetrieveLevel {
    /// The unique key of the level (PS3.4 C.6.1.1.1).
    var uniqueKey: Tag {
        switch self {
        case .patient: return .patientID
        case .study: return .studyInstanceUID
        case .series: return .seriesInstanceUID
        case .image: return .sopInstanceUID
        }
    }
}

/// Simple attribute matching of PS3.4 C.2.2.2 over one identifier.
struct IdentifierMatcher {
    let identifier: DataSet
    private static let notMatched: Set<Tag> = [.queryRetrieveLevel, .specificCharacterSet]
    private static let computed: Set<Tag> = [
        .modalitiesInStudy, .numberOfStudyRelatedInstances, .numberOfStudyRelatedSeries, .numberOfSeriesRelatedInstances,
        .numberOfPatientRelatedStudies, .numberOfPatientRelatedSeries, .numberOfPatientRelatedInstances,
    ]

    /// Whether `header` matches every non-empty key.
    func matches(_ header: DataSet, modalitiesInStudy: Set<String>) -> Bool {
        for element in identifier where !Self.notMatched.contains(element.tag) && element.vr != .SQ {
            let wanted = identifier.strings(element.tag).filter { !$0.isEmpty }
            if wanted.isEmpty { continue }
            if element.tag == .modalitiesInStudy {
                if !wanted.contains(where: modalitiesInStudy.contains) { return false }
                continue
            }
            if Self.computed.contains(element.tag) { continue }
            let values = header.strings(element.tag)
            if !Self.match(wanted, vr: element.vr, values: values) { return false }
        }
        return true
    }

    static func match(_ wanted: [String], vr: VR, values: [String]) -> Bool {
        if vr == .UI { return values.contains(where: wanted.contains) }
        guard wanted.count == 1, let key = wanted.first?.trimmingCharacters(in: .whitespaces) else {
            return values.contains { value in wanted.contains { $0.trimmingCharacters(in: .whitespaces) == value } }
        }
        if [VR.DA, .TM, .DT].contains(vr), key.contains("-") {
            let bounds = key.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let lower = bounds[0]
            let upper = bounds.count > 1 ? bounds[1] : ""
            return values.contains { value in
                (lower.isEmpty || value >= lower) && (upper.isEmpty || value <= upper || value.hasPrefix(upper))
            }
        }
        if key.contains("*") || key.contains("?") {
            let caseInsensitive = vr == .PN
            return values.contains { wildcard(key, $0, caseInsensitive: caseInsensitive) }
        }
        if vr == .PN { return values.contains { $0.lowercased() == key.lowercased() } }
        return values.contains(key)
    }

    /// `*` matches any run, `?` any one character (PS3.4 C.2.2.2.4).
    static func wildcard(_ pattern: String, _ value: String, caseInsensitive: Bool) -> Bool {
        let p = Array(caseInsensitive ? pattern.lowercased() : pattern)
        let v = Array(caseInsensitive ? value.lowercased() : value)
        var (pi, vi, star, mark) = (0, 0, -1, 0)
        while vi < v.count {
            if pi < p.count, p[pi] == "?" || p[pi] == v[vi] {
                pi += 1
                vi += 1
            } else if pi < p.count, p[pi] == "*" {
                star = pi
                mark = vi
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                vi = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    /// The response identifier: every requested key with the record's value, the level, and the computed attributes.
    func response(
        for header: DataSet, level: QueryRetrieveLevel, related: [DataSet], modalitiesInStudy: Set<String>, allRecords: [DataSet]
    ) -> DataSet {
        var out = DataSet(characterSet: header.characterSet)
        if let charset = header[.specificCharacterSet] { out[.specificCharacterSet] = charset }
        for element in identifier where element.tag != .specificCharacterSet {
            switch element.tag {
            case .queryRetrieveLevel: out.set(.queryRetrieveLevel, .CS, level.rawValue)
            case .modalitiesInStudy: out.set(.modalitiesInStudy, .CS, modalitiesInStudy.sorted())
            case .numberOfStudyRelatedInstances, .numberOfSeriesRelatedInstances, .numberOfPatientRelatedInstances:
                out.set(element.tag, .IS, String(related.count))
            case .numberOfStudyRelatedSeries, .numberOfPatientRelatedSeries:
                out.set(element.tag, .IS, String(Set(related.compactMap { $0.string(.seriesInstanceUID) }).count))
            case .numberOfPatientRelatedStudies:
                out.set(element.tag, .IS, String(Set(related.compactMap { $0.string(.studyInstanceUID) }).count))
            default:
                out[element.tag] = header[element.tag] ?? DataElement(tag: element.tag, vr: element.vr, bytes: [UInt8]())
            }
        }
        if out[.queryRetrieveLevel] == nil { out.set(.queryRetrieveLevel, .CS, level.rawValue) }
        return out
    }
}
