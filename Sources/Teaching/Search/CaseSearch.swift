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

    func insertTerms(id: Int64, scope: SearchScope, terms: [String]) -> SQLStep {
        switch self {
        case .sqlite:
            SQLStep(
                "INSERT INTO teaching_search (rowid, terms) VALUES (?, ?)",
                [.integer(Self.rowid(id, scope)), .text(terms.joined(separator: " "))])
        case .postgres:
            SQLStep(
                "INSERT INTO teaching_search (case_id, scope, terms) VALUES (?, ?, CAST(? AS tsvector))",
                [.integer(id), .text(scope.rawValue), .text(terms.map { "'\($0)'" }.joined(separator: " "))])
        }
    }

    func deleteTerms(id: Int64, scope: SearchScope) -> SQLStep {
        switch self {
        case .sqlite: SQLStep("DELETE FROM teaching_search WHERE rowid = ?", [.integer(Self.rowid(id, scope))])
        case .postgres: SQLStep("DELETE FROM teaching_search WHERE case_id = ? AND scope = ?", [.integer(id), .text(scope.rawValue)])
        }
    }

    static func rowid(_ id: Int64, _ scope: SearchScope) -> Int64 { id * 2 + (scope == .published ? 1 : 0) }

    /// A subquery of (case_id, rank) for cases having every term; lower rank is better.
    func matches(_ terms: [String], scope: SearchScope) -> (String, [SQLValue]) {
        switch self {
        case .sqlite:
            // Each term a quoted FTS5 string: the implicit AND of FTS5's query syntax.
            let match = terms.map { "\"\($0)\"" }.joined(separator: " ")
            return (
                "SELECT rowid / 2 AS case_id, bm25(teaching_search) AS rank FROM teaching_search WHERE teaching_search MATCH ? "
                    + "AND rowid % 2 = ?",
                [.text(match), .integer(scope == .published ? 1 : 0)]
            )
        case .postgres:
            return (
                "SELECT case_id, -ts_rank(terms, CAST(? AS tsquery)) AS rank FROM teaching_search WHERE scope = ? "
                    + "AND terms @@ CAST(? AS tsquery)",
                [.text(Self.tsquery(terms)), .text(scope.rawValue), .text(Self.tsquery(terms))]
            )
        }
    }

    static func tsquery(_ terms: [String]) -> String { terms.map { "'\($0)'" }.joined(separator: " & ") }
}

extension TeachingStore {
    /// Searches the library. Text matches every term of the query (see ``SearchTerms``); facet counts are over every match.
    public func search(_ q: CaseQuery) async throws(TeachingError) -> CaseSearchResult {
        let terms = SearchTerms.query(q.text).filter { term in
            // Terms are letters, digits and CJK only; anything else could not be in the index anyway.
            term.allSatisfy { $0.isLetter || $0.isNumber }
        }
        var from = "teaching_index i"
        var bindings: [SQLValue] = []
        var rank = "0"
        if !terms.isEmpty {
            let (sql, values) = dialect.matches(terms, scope: q.scope)
            from += " JOIN (\(sql)) m ON m.case_id = i.case_id"
            bindings += values
            rank = "m.rank"
        }
        var conditions = ["i.scope = ?"]
        bindings.append(.text(q.scope.rawValue))
        for (facet, values) in q.filters.sorted(by: { $0.key < $1.key }) where !values.isEmpty {
            guard CaseQuery.facets.contains(facet) else { throw .invalid("unknown facet \(facet)") }
            conditions.append(
                "i.case_id IN (SELECT case_id FROM teaching_case_tags WHERE scope = ? AND facet = ? AND value IN ("
                    + Array(repeating: "?", count: values.count).joined(separator: ", ") + "))")
            bindings += [.text(q.scope.rawValue), .text(facet)] + values.map { .text($0) }
        }
        let matching =
            "SELECT i.case_id, i.title, i.difficulty, i.updated_at, \(rank) AS rank FROM \(from) WHERE "
            + conditions.joined(separator: " AND ")
        let order =
            switch q.order {
            case .relevance: terms.isEmpty ? "updated_at DESC, case_id DESC" : "rank, updated_at DESC, case_id DESC"
            case .newest: "updated_at DESC, case_id DESC"
            case .title: "title, case_id"
            case .difficulty: "difficulty, title, case_id"
            }
        let limit = max(1, min(q.limit, 200)), offset = max(0, q.offset)
        let page = try await query(
            "SELECT case_id, title, difficulty FROM (\(matching)) x ORDER BY \(order) LIMIT \(limit) OFFSET \(offset)", bindings)
        let total = try await query("SELECT COUNT(*) FROM (\(matching)) x", bindings).first?.first?.integer ?? 0
        let counts = try await query(
            """
            SELECT t.facet, t.value, COUNT(*) FROM teaching_case_tags t
            WHERE t.scope = ? AND t.case_id IN (SELECT case_id FROM (\(matching)) x)
            GROUP BY t.facet, t.value
            """, [.text(q.scope.rawValue)] + bindings)
        var facets: [String: [CaseSearchResult.FacetCount]] = [:]
        for row in counts {
            facets[row[0].text ?? "", default: []].append(.init(value: row[1].text ?? "", count: Int(row[2].integer ?? 0)))
        }
        for key in facets.keys { facets[key]?.sort { ($1.count, $0.value) < ($0.count, $1.value) } }
        return CaseSearchResult(
            total: Int(total),
            hits: page.map { .init(id: $0[0].integer ?? 0, title: $0[1].text ?? "", difficulty: Int($0[2].integer ?? 0)) },
            facets: facets)
    }
}
