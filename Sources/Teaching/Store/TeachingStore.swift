import Archive
import Foundation
import Platform
import Synchronization

/// The teaching-case library in the platform's database (SQLite or PostgreSQL): cases with every version, curation by
/// two curators, and search in Chinese and English with facets. Students' searches see the published versions only.
public final class TeachingStore: Sendable {
    let database: any PlatformDatabase
    let dialect: SearchDialect
    private let prepared = Mutex(false)

    package init(database: any PlatformDatabase) {
        self.database = database
        self.dialect = database is PostgresPlatformDatabase ? .postgres : .sqlite
    }

    /// The store beside the identity store's tables.
    public convenience init(identity: IdentityStore) {
        self.init(database: identity.database)
    }

    /// Creates or migrates the library's tables (otherwise the first call does).
    public func prepare() async throws(TeachingError) {
        if prepared.withLock({ $0 }) { return }
        do {
            try await database.migrate(
                versionTable: TeachingSchema.versionTable, lockKey: TeachingSchema.lockKey, migrations: TeachingSchema.migrations)
            // The platform's SQLite connection keeps 64 MiB of pages (the default 2 MB holds little of a large library).
            if dialect == .sqlite { try await database.query("PRAGMA cache_size = -65536", []) }
        } catch {
            throw .database("\(error)")
        }
        prepared.withLock { $0 = true }
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }

    // MARK: - Cases

    /// A new draft case (version 1). `sourceKey`, when given, is unique: the same source (a KOS, an imported package's
    /// case) never makes two cases, and the existing one is returned instead.
    public func create(
        _ content: CaseContent, author: String, institution: String, source: String, sourceKey: String? = nil
    ) async throws(TeachingError) -> TeachingCase {
        try await get(try await insertCase(content, author: author, institution: institution, source: source, sourceKey: sourceKey).id)
    }

    /// Inserts a new draft case (version 1, its search terms) and, in the same transaction, the rows `related` makes for
    /// its id (its images, its origin): a case is never seen without them. A case with `sourceKey` already made, by this
    /// call or by another at the same moment, is returned instead with `created` false (`related` is not written).
    func insertCase(
        _ content: CaseContent, author: String, institution: String, source: String, sourceKey: String?,
        related: @escaping @Sendable (Int64) -> [SQLStep] = { _ in [] }
    ) async throws(TeachingError) -> (id: Int64, created: Bool) {
        try validate(content)
        if let sourceKey, let existing = try await caseID(sourceKey: sourceKey) { return (existing, false) }
        let now = Self.now()
        let contentJSON = try Self.json(content)
        let insert = SQLStep(
            """
            INSERT INTO teaching_cases (status, version, content, authors, institution, source, source_key, completeness, created_at,
                updated_at, revision)
            VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, 0) RETURNING id
            """,
            [
                .text(CaseStatus.draft.rawValue), .text(contentJSON), .text(try Self.json([author])), .text(institution),
                .text(source), sourceKey.map { .text($0) } ?? .null, .integer(Int64(CaseCuration.completeness(content))),
                .integer(now), .integer(now),
            ])
        let result: [[[SQLValue]]]?
        try await prepare()
        do {
            result = try await database.transaction(guarded: [insert]) { [self] rows in
                guard let id = rows.first?.first?.first?.integer else { return [] }
                return [
                    SQLStep(
                        "INSERT INTO teaching_case_versions (case_id, version, content, author, note, created_at) VALUES (?, 1, ?, ?, ?, ?)",
                        [.integer(id), .text(contentJSON), .text(author), .text("created"), .integer(now)])
                ] + indexSteps(id: id, scope: .latest, content: content, updatedAt: now) + related(id)
            }
        } catch {
            // Two curators making the same source's case at once: one insert wins, the other finds its case.
            if let sourceKey, let existing = try await caseID(sourceKey: sourceKey) { return (existing, false) }
            throw .database("\(error)")
        }
        guard let id = result?.first?.first?.first?.integer else { throw .database("no id for the new case") }
        return (id, true)
    }

    func caseID(sourceKey: String) async throws(TeachingError) -> Int64? {
        try await query("SELECT id FROM teaching_cases WHERE source_key = ?", [.text(sourceKey)]).first?[0].integer
    }

    /// Saves a new version of the case (the caller read `revision`; a change by someone else since is a conflict).
    public func edit(_ id: Int64, content: CaseContent, author: String, note: String = "", revision: Int64) async throws(TeachingError)
        -> TeachingCase
    {
        try await edit(id, content: content, author: author, note: note, revision: revision, related: [])
    }

    /// ``edit(_:content:author:note:revision:)`` with `related` rows written in the same transaction.
    func edit(
        _ id: Int64, content: CaseContent, author: String, note: String, revision: Int64, related: [SQLStep]
    ) async throws(TeachingError) -> TeachingCase {
        try validate(content)
        let current = try await get(id)
        guard current.revision == revision else { throw .conflict(id) }
        let status = try CaseCuration.next(current.status, .edit, actor: author, versionAuthor: author, content: content)
        let now = Self.now()
        let version = current.version + 1
        var authors = current.authors
        if !authors.contains(author) { authors.append(author) }
        var steps = [
            SQLStep(
                """
                UPDATE teaching_cases SET status = ?, version = ?, content = ?, authors = ?, completeness = ?, updated_at = ?,
                    revision = revision + 1
                WHERE id = ? AND revision = ? RETURNING id
                """,
                [
                    .text(status.rawValue), .integer(Int64(version)), .text(try Self.json(content)), .text(try Self.json(authors)),
                    .integer(Int64(CaseCuration.completeness(content))), .integer(now), .integer(id), .integer(revision),
                ], guarded: true),
            SQLStep(
                "INSERT INTO teaching_case_versions (case_id, version, content, author, note, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                [.integer(id), .integer(Int64(version)), .text(try Self.json(content)), .text(author), .text(note), .integer(now)]),
        ]
        steps += indexSteps(id: id, scope: .latest, content: content, updatedAt: now) + related
        try await run(steps, id: id)
        return try await get(id)
    }

    /// Adds `image` (a de-identified Part 10 file made for the case, e.g. a photo as Secondary Capture) to case `id` as
    /// its last key image, in a new version, in one transaction.
    public func addImage(_ image: CaseImage, to id: Int64, author: String, revision: Int64) async throws(TeachingError) -> TeachingCase {
        let current = try await get(id)
        var content = current.content
        content.keyImages.append(
            KeyImage(
                studyInstanceUID: image.studyInstanceUID, seriesInstanceUID: image.seriesInstanceUID,
                sopInstanceUID: image.sopInstanceUID))
        let position = try await images(of: id).count
        let insert = SQLStep(
            """
            INSERT INTO teaching_images (case_id, sop_uid, study_uid, series_uid, modality, position, bytes)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .integer(id), .text(image.sopInstanceUID), .text(image.studyInstanceUID), .text(image.seriesInstanceUID),
                .text(image.modality), .integer(Int64(position)), .blob(image.bytes),
            ])
        return try await edit(id, content: content, author: author, note: "photo added", revision: revision, related: [insert])
    }

    /// Moves the case through curation (submit, approve, return, retire, restore) as `actor`.
    public func apply(_ action: CaseCuration.Action, to id: Int64, actor: String, revision: Int64) async throws(TeachingError)
        -> TeachingCase
    {
        guard action != .edit else { throw .invalid("use edit to save a version") }
        let current = try await get(id)
        guard current.revision == revision else { throw .conflict(id) }
        let versionAuthor = try await versions(id).last?.author ?? ""
        let status = try CaseCuration.next(current.status, action, actor: actor, versionAuthor: versionAuthor, content: current.content)
        let now = Self.now()
        var published: SQLValue = current.publishedVersion.map { .integer(Int64($0)) } ?? .null
        var steps: [SQLStep] = []
        switch status {
        case .published:
            published = .integer(Int64(current.version))
            steps += indexSteps(id: id, scope: .published, content: current.content, updatedAt: now)
        case .retired:
            published = .null
            steps += removeSteps(id: id, scope: .published)
        default: break
        }
        steps.insert(
            SQLStep(
                """
                UPDATE teaching_cases SET status = ?, published_version = ?, updated_at = ?, revision = revision + 1,
                    first_published_at = COALESCE(first_published_at, ?)
                WHERE id = ? AND revision = ? RETURNING id
                """,
                [
                    .text(status.rawValue), published, .integer(now), status == .published ? .integer(now) : .null, .integer(id),
                    .integer(revision),
                ], guarded: true),
            at: 0)
        try await run(steps, id: id)
        return try await get(id)
    }

    public func get(_ id: Int64) async throws(TeachingError) -> TeachingCase {
        guard let row = try await query("SELECT \(Self.columns) FROM teaching_cases WHERE id = ?", [.integer(id)]).first else {
            throw .notFound(id)
        }
        return try Self.caseRow(row)
    }

    /// The version students see, or nil when the case is not published.
    public func published(_ id: Int64) async throws(TeachingError) -> CaseVersion? {
        let c = try await get(id)
        guard c.status != .retired, let version = c.publishedVersion else { return nil }
        return try await versions(id).first { $0.version == version }
    }

    /// Every version, oldest first.
    public func versions(_ id: Int64) async throws(TeachingError) -> [CaseVersion] {
        try await query(
            "SELECT version, content, author, note, created_at FROM teaching_case_versions WHERE case_id = ? ORDER BY version",
            [.integer(id)]
        ).map { row throws(TeachingError) in
            CaseVersion(
                caseID: id, version: Int(row[0].integer ?? 0), content: try Self.decode(row[1].text ?? ""), author: row[2].text ?? "",
                note: row[3].text ?? "", createdAt: Date(timeIntervalSince1970: Double(row[4].integer ?? 0)))
        }
    }

    /// The cases waiting for a curator: drafts and cases in review, oldest change first.
    public func queue() async throws(TeachingError) -> [TeachingCase] {
        try await query(
            "SELECT \(Self.columns) FROM teaching_cases WHERE status IN ('draft', 'in-review') ORDER BY updated_at, id", []
        ).map(Self.caseRow)
    }

    // MARK: - Curriculum

    /// One item of the college's curriculum.
    public struct CurriculumItem: Sendable, Equatable {
        public var code: String
        public var titleChinese: String
        public var titleEnglish: String
        public var parent: String
    }

    /// Loads (adds or replaces) curriculum items from CSV: a header with `code`, `title_zh`, `title_en` and optionally
    /// `parent`, then one item a line. Every line is checked before anything is written.
    @discardableResult
    public func loadCurriculum(csv: String) async throws(TeachingError) -> Int {
        let items = try CurriculumCSV.parse(csv)
        var steps: [SQLStep] = []
        for item in items {
            steps.append(SQLStep("DELETE FROM teaching_curriculum WHERE code = ?", [.text(item.code)]))
            steps.append(
                SQLStep(
                    "INSERT INTO teaching_curriculum (code, title_zh, title_en, parent) VALUES (?, ?, ?, ?)",
                    [.text(item.code), .text(item.titleChinese), .text(item.titleEnglish), .text(item.parent)]))
        }
        try await run(steps, id: 0)
        return items.count
    }

    /// Each curriculum item with the number of published cases that teach it; zero is a gap to fill.
    public func curriculumCoverage() async throws(TeachingError) -> [(item: CurriculumItem, publishedCases: Int)] {
        try await query(
            """
            SELECT c.code, c.title_zh, c.title_en, c.parent, COUNT(DISTINCT t.case_id)
            FROM teaching_curriculum c
            LEFT JOIN teaching_case_tags t ON t.scope = 'published' AND t.facet = 'curriculum' AND t.value = c.code
            GROUP BY c.code, c.title_zh, c.title_en, c.parent ORDER BY c.code
            """, []
        ).map { row in
            (
                CurriculumItem(
                    code: row[0].text ?? "", titleChinese: row[1].text ?? "", titleEnglish: row[2].text ?? "", parent: row[3].text ?? ""),
                Int(row[4].integer ?? 0)
            )
        }
    }

    // MARK: - Index upkeep

    /// The statements that (re)write a case's terms and facets in one scope.
    func indexSteps(id: Int64, scope: SearchScope, content: CaseContent, updatedAt: Int64) -> [SQLStep] {
        var steps = removeSteps(id: id, scope: scope)
        steps.append(
            SQLStep(
                """
                INSERT INTO teaching_index (case_id, scope, title, difficulty, updated_at, body_region, organ_system,
                    pathology_category, audience, certainty)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .integer(id), .text(scope.rawValue), .text(content.title), .integer(Int64(content.tags.difficulty)),
                    .integer(updatedAt), .text(content.tags.bodyRegion), .text(content.tags.organSystem),
                    .text(content.tags.pathologyCategory), .text(content.tags.audience.rawValue),
                    .text(content.certainty?.rawValue ?? ""),
                ]))
        for (facet, value) in Self.facetValues(content) where CaseQuery.multiValued.contains(facet) {
            steps.append(
                SQLStep(
                    "INSERT INTO teaching_case_tags (case_id, scope, facet, value) VALUES (?, ?, ?, ?)",
                    [.integer(id), .text(scope.rawValue), .text(facet), .text(value)]))
        }
        steps.append(
            dialect.insertTerms(
                id: id, scope: scope, title: SearchTerms.indexed(content.title), body: SearchTerms.indexed(Self.searchableText(content))))
        return steps
    }

    func removeSteps(id: Int64, scope: SearchScope) -> [SQLStep] {
        [
            SQLStep("DELETE FROM teaching_index WHERE case_id = ? AND scope = ?", [.integer(id), .text(scope.rawValue)]),
            SQLStep("DELETE FROM teaching_case_tags WHERE case_id = ? AND scope = ?", [.integer(id), .text(scope.rawValue)]),
            dialect.deleteTerms(id: id, scope: scope),
        ]
    }

    /// The text a case is found by: every field a reader would search, with the diagnosis code and tags.
    static func searchableText(_ c: CaseContent) -> String {
        ([c.title, c.clinicalHistory, c.findings, c.diagnosis, c.diagnosisCode, c.differentialDiagnosis, c.discussion]
            + c.learningPoints + c.tags.keywords + [c.tags.bodyRegion, c.tags.organSystem, c.tags.pathologyCategory]
            + c.tags.modalities).joined(separator: "\n")
    }

    /// The facet values of a case (facet names as the search API takes them).
    static func facetValues(_ c: CaseContent) -> [(String, String)] {
        var out: [(String, String)] = c.tags.modalities.map { ("modality", $0) }
        for (facet, value) in [
            ("bodyRegion", c.tags.bodyRegion), ("organSystem", c.tags.organSystem), ("pathologyCategory", c.tags.pathologyCategory),
        ] where !value.isEmpty { out.append((facet, value)) }
        out.append(("audience", c.tags.audience.rawValue))
        out.append(("difficulty", String(c.tags.difficulty)))
        if let certainty = c.certainty { out.append(("certainty", certainty.rawValue)) }
        out += c.tags.curriculumItems.map { ("curriculum", $0) }
        var seen = Set<String>()
        return out.filter { seen.insert($0.0 + "\u{0}" + $0.1).inserted }
    }

    // MARK: - Plumbing

    func validate(_ content: CaseContent) throws(TeachingError) {
        guard !content.title.trimmingCharacters(in: .whitespaces).isEmpty else { throw .invalid("a case needs a title") }
        guard (1...5).contains(content.tags.difficulty) else { throw .invalid("difficulty is 1 to 5") }
        guard content.title.count <= 500 else { throw .invalid("a title is at most 500 characters") }
    }

    func query(_ sql: String, _ bindings: [SQLValue]) async throws(TeachingError) -> [[SQLValue]] {
        try await prepare()
        do {
            return try await database.query(sql, bindings)
        } catch {
            throw .database("\(error)")
        }
    }

    func run(_ steps: [SQLStep], id: Int64) async throws(TeachingError) {
        try await prepare()
        let result: [[[SQLValue]]]?
        do {
            result = try await database.transaction(guarded: steps)
        } catch {
            throw .database("\(error)")
        }
        if result == nil { throw .conflict(id) }
    }

    static let columns =
        "id, status, version, content, published_version, authors, institution, source, created_at, updated_at, revision"

    static func caseRow(_ row: [SQLValue]) throws(TeachingError) -> TeachingCase {
        let authors: [String]
        do {
            authors = try JSONDecoder().decode([String].self, from: Data((row[5].text ?? "[]").utf8))
        } catch {
            throw .database("authors of case \(row[0].integer ?? 0) are not JSON")
        }
        return TeachingCase(
            id: row[0].integer ?? 0, status: CaseStatus(rawValue: row[1].text ?? "") ?? .draft, version: Int(row[2].integer ?? 0),
            content: try decode(row[3].text ?? ""), publishedVersion: row[4].integer.map { Int($0) }, authors: authors,
            contributingInstitution: row[6].text ?? "", source: row[7].text ?? "",
            createdAt: Date(timeIntervalSince1970: Double(row[8].integer ?? 0)),
            updatedAt: Date(timeIntervalSince1970: Double(row[9].integer ?? 0)), revision: row[10].integer ?? 0)
    }

    static func json<T: Encodable>(_ value: T) throws(TeachingError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw .invalid("cannot encode: \(error)")
        }
    }

    static func decode(_ text: String) throws(TeachingError) -> CaseContent {
        do {
            return try JSONDecoder().decode(CaseContent.self, from: Data(text.utf8))
        } catch {
            throw .database("a stored case version is not readable: \(error)")
        }
    }
}

/// The two sets of searchable cases: every case's latest version (curators), and published versions (students).
public enum SearchScope: String, Sendable, CaseIterable {
    case latest, published
}

/// Parses the curriculum CSV (RFC 4180 quoting).
enum CurriculumCSV {
    static func parse(_ text: String) throws(TeachingError) -> [TeachingStore.CurriculumItem] {
        let rows = records(text).filter { !($0.count == 1 && $0[0].isEmpty) }
        guard let header = rows.first?.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }),
            let code = header.firstIndex(of: "code"), let zh = header.firstIndex(of: "title_zh"), let en = header.firstIndex(of: "title_en")
        else { throw .invalid("the curriculum CSV needs a header with code, title_zh and title_en") }
        let parent = header.firstIndex(of: "parent")
        var items: [TeachingStore.CurriculumItem] = []
        for (n, row) in rows.dropFirst().enumerated() {
            guard row.count == header.count else {
                throw .invalid("curriculum CSV line \(n + 2) has \(row.count) fields, the header \(header.count)")
            }
            let value = row[code].trimmingCharacters(in: .whitespaces)
            guard !value.isEmpty else { throw .invalid("curriculum CSV line \(n + 2) has no code") }
            items.append(.init(code: value, titleChinese: row[zh], titleEnglish: row[en], parent: parent.map { row[$0] } ?? ""))
        }
        return items
    }

    static func records(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var characters = Array(text.replacingOccurrences(of: "\r\n", with: "\n"))
        if characters.first == "\u{FEFF}" { characters.removeFirst() }
        var i = 0
        while i < characters.count {
            let c = characters[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < characters.count, characters[i + 1] == "\"" {
                        field.append("\"")
                        i += 1
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                row.append(field)
                field = ""
            } else if c == "\n" {
                row.append(field)
                rows.append(row)
                row = []
                field = ""
            } else {
                field.append(c)
            }
            i += 1
        }
        if !field.isEmpty || !row.isEmpty {
            row.append(field)
            rows.append(row)
        }
        return rows
    }
}
