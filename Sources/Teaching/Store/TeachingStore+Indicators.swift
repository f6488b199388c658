import Foundation
import Platform

extension TeachingStore {
    /// One case as the programme's indicators count it: who contributed it, when it was created and first published.
    public struct IndicatorRecord: Sendable, Equatable {
        public var institution: String
        public var modality: String
        public var created: Date
        public var firstPublished: Date?
        public var retired: Bool
    }

    /// Every case, for the programme's indicators (cases added, published, library growth, contributions). The facet
    /// comparison is written `facet || ''` so that SQLite looks the tags up by case (one probe each) rather than through
    /// the facet index (every modality tag for every case: seconds at 20,000 cases).
    public func indicatorRecords() async throws(TeachingError) -> [IndicatorRecord] {
        let sql = """
            SELECT c.institution, (SELECT MIN(t.value) FROM teaching_case_tags t WHERE t.case_id = c.id AND t.scope = 'latest'
                AND t.facet || '' = 'modality'), c.created_at, c.first_published_at, c.status
            FROM teaching_cases c
            """
        return try await query(sql, []).map { row in
            IndicatorRecord(
                institution: row[0].text ?? "", modality: row[1].text ?? "",
                created: Date(timeIntervalSince1970: TimeInterval(row[2].integer ?? 0)),
                firstPublished: row[3].integer.map { Date(timeIntervalSince1970: TimeInterval($0)) },
                retired: row[4].text == CaseStatus.retired.rawValue)
        }
    }
}
