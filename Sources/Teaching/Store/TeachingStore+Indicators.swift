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

extension TeachingStore {
    /// A case page opened by a signed-in person (the library-use indicators count these).
    public struct CaseViewRecord: Sendable, Equatable {
        public var caseID: Int64
        public var person: String
        public var institution: String
        public var viewed: Date
    }

    /// Records that `person` (of `institution`) opened the page of case `caseID` at `date`.
    public func recordCaseView(_ caseID: Int64, person: String, institution: String, at date: Date = Date()) async throws(TeachingError) {
        _ = try await query(
            "INSERT INTO teaching_case_views (case_id, person, institution, viewed_at) VALUES (?, ?, ?, ?)",
            [.integer(caseID), .text(person), .text(institution), .integer(Int64(date.timeIntervalSince1970))])
    }

    /// Every recorded case view, oldest first.
    public func caseViewRecords() async throws(TeachingError) -> [CaseViewRecord] {
        try await query("SELECT case_id, person, institution, viewed_at FROM teaching_case_views ORDER BY id", []).map {
            CaseViewRecord(
                caseID: $0[0].integer ?? 0, person: $0[1].text ?? "", institution: $0[2].text ?? "",
                viewed: Date(timeIntervalSince1970: TimeInterval($0[3].integer ?? 0)))
        }
    }
}
