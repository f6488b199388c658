import DICOM
import Foundation

/// The Swift half of query execution shared by every index back end: merges the levels of a candidate, applies
/// ``QueryMatcher`` and limit/offset, and shapes each result to the requested return keys (PS3.4 C.4.1.2.1;
/// PS3.18 10.6.3).
public enum QueryEngine {
    /// One candidate row: the attributes of each level present, and the computed attributes.
    struct Candidate {
        var levels: [[UInt8]]
        var computed: [(Tag, String)]
    }

    /// Filters, slices and shapes candidates. `sliced` says that the index already applied limit and offset.
    /// The results for rows of a planned query, whichever SQL back end produced them: the four level columns (DICOM JSON
    /// bytes) followed by one column per computed attribute of the plan.
    static func results(_ query: ArchiveQuery, plan: SQLPlan, rows: [[SQLValue]], sliced: Bool) throws(ArchiveError) -> [DataSet] {
        let candidates = rows.map { row in
            Candidate(
                levels: row.prefix(4).map { $0.bytes ?? [] },
                computed: zip(plan.computed, row.dropFirst(4)).map { tag, value in
                    (tag, value.text ?? value.integer.map(String.init) ?? "")
                }
            )
        }
        return try results(query, candidates: candidates, sliced: sliced)
    }

    static func results(_ query: ArchiveQuery, candidates: [Candidate], sliced: Bool) throws(ArchiveError) -> [DataSet] {
        let matcher = QueryMatcher(fuzzy: query.fuzzyMatching)
        let keys = SQLQueryPlanner.applicableKeys(query)
        var matched: [DataSet] = []
        var skipped = 0
        for candidate in candidates {
            let merged = try merge(candidate)
            guard matcher.matches(merged, keys: keys) else { continue }
            if !sliced && skipped < query.offset {
                skipped += 1
                continue
            }
            matched.append(shape(merged, query))
            if !sliced, let limit = query.limit, matched.count >= limit { break }
        }
        return matched
    }

    static func merge(_ candidate: Candidate) throws(ArchiveError) -> DataSet {
        var merged = DataSet(characterSet: .utf8)
        for json in candidate.levels where !json.isEmpty {
            let level: DataSet
            do {
                level = try DICOMJSONDecoder().decode(Data(json))
            } catch {
                throw .database(operation: "decode stored attributes", code: 0, message: "\(error)")
            }
            for element in level.elements { merged[element.tag] = element }
        }
        for (tag, value) in candidate.computed {
            switch tag {
            case .modalitiesInStudy:
                merged.set(tag, .CS, value.split(separator: ",").map(String.init).filter { !$0.isEmpty }.sorted())
            case .sopClassesInStudy, .availableTransferSyntaxUID:
                merged.set(tag, .UI, value.split(separator: ",").map(String.init).filter { !$0.isEmpty }.sorted())
            case .instanceAvailability: merged.set(tag, .CS, value)
            default: merged.set(tag, .IS, value)
            }
        }
        return merged
    }

    /// The result for one entity: the requested attributes, zero-length when the entity has no value (PS3.4
    /// C.4.1.1.3.2), and (0008,0005) when any text is not ASCII.
    static func shape(_ merged: DataSet, _ query: ArchiveQuery) -> DataSet {
        var result = DataSet(characterSet: .utf8)
        if query.includeFields == .all {
            for element in merged.elements where element.tag != .specificCharacterSet {
                let level = LevelAttributes.level(of: element.tag)
                if level <= query.level { result[element.tag] = element }
            }
        }
        for tag in query.returnTags where tag != .specificCharacterSet && tag != .queryRetrieveLevel {
            if let element = merged[tag] {
                result[tag] = element
            } else if result[tag] == nil {
                let vr = DataDictionary.entry(for: tag)?.vr ?? .UN
                result[tag] = vr == .SQ ? DataElement(tag: tag, vr: .SQ, value: .sequence([])) : DataElement(tag: tag, vr: vr, bytes: [])
            }
        }
        let needsUnicode = result.elements.contains { element in
            element.vr.usesSpecificCharacterSet && (element.bytes?.withUnsafeBytes { $0.contains { $0 >= 0x80 } } ?? false)
        }
        if needsUnicode { result.set(.specificCharacterSet, .CS, "ISO_IR 192") }
        return result
    }
}
