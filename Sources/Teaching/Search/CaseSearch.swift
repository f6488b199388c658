import Archive
import Foundation
import Platform

/// A library search: text (Chinese, English or both), facet filters (any of the values within a facet, every facet),
/// the scope, the order and a page.
public struct CaseQuery: Sendable, Equatable {
    public enum Order: String, Sendable, CaseIterable { case relevance, newest, title, difficulty }

    public var text: String
    public var filters: [String: [String]]
    public var scope: SearchScope
    public var order: Order
    public var limit: Int
    public var offset: Int

    public init(
        text: String = "", filters: [String: [String]] = [:], scope: SearchScope = .published, order: Order = .relevance,
        limit: Int = 20, offset: Int = 0
    ) {
        self.text = text
        self.filters = filters
        self.scope = scope
        self.order = order
        self.limit = limit
        self.offset = offset
    }

    /// Facets a case has several values of, kept in the tags table; the others are columns of the index.
    static let multiValued: Set<String> = ["modality", "curriculum"]
    /// The index column of each single-valued facet.
    static let columns = [
        "bodyRegion": "body_region", "organSystem": "organ_system", "pathologyCategory": "pathology_category",
        "audience": "audience", "difficulty": "CAST(difficulty AS TEXT)", "certainty": "certainty",
    ]

    /// The facets the library counts and filters on.
    public static let facets = [
        "modality", "bodyRegion", "organSystem", "pathologyCategory", "audience", "difficulty", "certainty", "curriculum",
    ]
}

/// What a search found: the total, one page of cases (id and title in the scope searched) and the facet counts over
/// every match.
public struct CaseSearchResult: Sendable, Equatable {
    public struct Hit: Sendable, Equatable {
        public var id: Int64
        public var title: String
        public var difficulty: Int
    }

    public struct FacetCount: Sendable, Equatable {
        public var value: String
        public var count: Int
    }

    public var total: Int
    public var hits: [Hit]
    public var facets: [String: [FacetCount]]
}

/// The SQL that differs between the back ends: SQLite's FTS5 (rowid = case id × 2 + scope) and PostgreSQL's tsvector
/// with a GIN index. Both index the terms ``SearchTerms`` makes, so both answer the same.
enum SearchDialect {
    case sqlite, postgres

    /// Writes a case's terms: the title's, and everything's (title, text, tags).
    func insertTerms(id: Int64, scope: SearchScope, title: [String], body: [String]) -> SQLStep {
        switch self {
        case .sqlite:
            SQLStep(
                "INSERT INTO teaching_search (rowid, title, body) VALUES (?, ?, ?)",
                [.integer(Self.rowid(id, scope)), .text(title.joined(separator: " ")), .text(body.joined(separator: " "))])
        case .postgres:
            SQLStep(
                "INSERT INTO teaching_search (case_id, scope, terms, title_terms) VALUES (?, ?, CAST(? AS tsvector), CAST(? AS tsvector))",
                [.integer(id), .text(scope.rawValue), .text(Self.tsvector(title + body)), .text(Self.tsvector(title))])
        }
    }

    func deleteTerms(id: Int64, scope: SearchScope) -> SQLStep {
        switch self {
        case .sqlite: SQLStep("DELETE FROM teaching_search WHERE rowid = ?", [.integer(Self.rowid(id, scope))])
        case .postgres: SQLStep("DELETE FROM teaching_search WHERE case_id = ? AND scope = ?", [.integer(id), .text(scope.rawValue)])
        }
    }

    static func rowid(_ id: Int64, _ scope: SearchScope) -> Int64 { id * 2 + (scope == .published ? 1 : 0) }

    /// A subquery of (case_id, rank) for the cases having every term; rank 0 when the title has them all, else 1.
    /// (BM25 over thousands of matches of a common term costs more than the target allows; a title hit is the signal a
    /// case library's users expect first.)
    func matches(_ terms: [String], scope: SearchScope) -> (String, [SQLValue]) {
        switch self {
        case .sqlite:
            // Each term a quoted FTS5 string: the implicit AND of FTS5's query syntax.
            let match = terms.map { "\"\($0)\"" }.joined(separator: " ")
            return (
                "SELECT rowid / 2 AS case_id, CASE WHEN rowid IN (SELECT rowid FROM teaching_search WHERE teaching_search MATCH ?) "
                    + "THEN 0 ELSE 1 END AS rank FROM teaching_search WHERE teaching_search MATCH ? AND rowid % 2 = ?",
                [.text("{title} : (\(match))"), .text(match), .integer(scope == .published ? 1 : 0)]
            )
        case .postgres:
            return (
                "SELECT case_id, CASE WHEN title_terms @@ CAST(? AS tsquery) THEN 0 ELSE 1 END AS rank FROM teaching_search "
                    + "WHERE scope = ? AND terms @@ CAST(? AS tsquery)",
                [.text(Self.tsquery(terms)), .text(scope.rawValue), .text(Self.tsquery(terms))]
            )
        }
    }

    static func tsvector(_ terms: [String]) -> String { Array(Set(terms)).sorted().map { "'\($0)'" }.joined(separator: " ") }

    static func tsquery(_ terms: [String]) -> String { terms.map { "'\($0)'" }.joined(separator: " & ") }
}

extension TeachingStore {
    /// Searches the library. Text matches every term of the query (see ``SearchTerms``); facet counts are over every match.
    public func search(_ q: CaseQuery) async throws(TeachingError) -> CaseSearchResult {
        let terms = SearchTerms.query(q.text).filter { term in
            // Terms are letters, digits and CJK only; anything else could not be in the index anyway.
            term.allSatisfy { $0.isLetter || $0.isNumber }
        }
        var with: [String] = []
        var bindings: [SQLValue] = []
        var hits =
            "SELECT i.case_id, i.title, i.difficulty, i.updated_at, i.body_region, i.organ_system, i.pathology_category, "
            + "i.audience, i.certainty, "
        if terms.isEmpty {
            hits += "0 AS rank FROM teaching_index i WHERE i.scope = ?"
        } else {
            let (sql, values) = dialect.matches(terms, scope: q.scope)
            with.append("m AS MATERIALIZED (\(sql))")
            bindings += values
            hits += "m.rank FROM m JOIN teaching_index i ON i.case_id = m.case_id WHERE i.scope = ?"
        }
        bindings.append(.text(q.scope.rawValue))
        for (facet, values) in q.filters.sorted(by: { $0.key < $1.key }) where !values.isEmpty {
            guard CaseQuery.facets.contains(facet) else { throw .invalid("unknown facet \(facet)") }
            let placeholders = Array(repeating: "?", count: values.count).joined(separator: ", ")
            if let column = CaseQuery.columns[facet] {
                hits += " AND \(column.replacingOccurrences(of: "difficulty", with: "i.difficulty")) IN (\(placeholders))"
                bindings += values.map { .text($0) }
            } else {
                hits +=
                    " AND i.case_id IN (SELECT case_id FROM teaching_case_tags WHERE facet = ? AND value IN (\(placeholders)) "
                    + "AND scope = ?)"
                bindings += [.text(facet)] + values.map { .text($0) } + [.text(q.scope.rawValue)]
            }
        }
        with.append("hits AS MATERIALIZED (\(hits))")
        let order =
            switch q.order {
            case .relevance: "rank, updated_at DESC, case_id DESC"
            case .newest: "updated_at DESC, case_id DESC"
            case .title: "title, case_id"
            case .difficulty: "difficulty, title, case_id"
            }
        let limit = max(1, min(q.limit, 200)), offset = max(0, q.offset)
        // One statement, so the matches are found once: the page (with its position), the total, and the facet counts.
        let sql = """
            WITH \(with.joined(separator: ", "))
            SELECT 'p', CAST(case_id AS TEXT), title, difficulty, ROW_NUMBER() OVER (ORDER BY \(order)) FROM (
                SELECT case_id, title, difficulty, updated_at, rank FROM hits ORDER BY \(order) LIMIT \(limit) OFFSET \(offset)) page
            UNION ALL SELECT 'c', '', '', COUNT(*), 0 FROM hits
            \(CaseQuery.columns.sorted { $0.key < $1.key }.map { facet, column in
                "UNION ALL SELECT 'f', '\(facet)', \(column), COUNT(*), 0 FROM hits WHERE \(column) <> '' GROUP BY \(column)"
            }.joined(separator: "\n"))
            UNION ALL SELECT 'f', t.facet, t.value, COUNT(*), 0 FROM hits h
                JOIN teaching_case_tags t ON t.case_id = h.case_id AND t.scope = ?
                GROUP BY t.facet, t.value
            """
        let rows = try await query(sql, bindings + [.text(q.scope.rawValue)])
        var page: [(Int64, CaseSearchResult.Hit)] = []
        var total = 0
        var facets: [String: [CaseSearchResult.FacetCount]] = [:]
        for row in rows {
            switch row[0].text {
            case "p":
                let id = Int64(row[1].text ?? "") ?? 0
                page.append((row[4].integer ?? 0, .init(id: id, title: row[2].text ?? "", difficulty: Int(row[3].integer ?? 0))))
            case "c": total = Int(row[3].integer ?? 0)
            default: facets[row[1].text ?? "", default: []].append(.init(value: row[2].text ?? "", count: Int(row[3].integer ?? 0)))
            }
        }
        for key in facets.keys { facets[key]?.sort { ($1.count, $0.value) < ($0.count, $1.value) } }
        return CaseSearchResult(total: total, hits: page.sorted { $0.0 < $1.0 }.map(\.1), facets: facets)
    }
}
