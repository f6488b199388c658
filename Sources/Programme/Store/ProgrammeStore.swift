import Archive
import Foundation
import HealthRecords
import Platform
import Reading
import Synchronization
import Teaching
import Training

/// The programme office's records in the platform's database (SQLite or PostgreSQL): targets, named indicators and
/// their figures with evidence, improvement actions. The facts indicators are computed from come from the other
/// domains' stores, read when asked; nothing derived is stored.
public final class ProgrammeStore: Sendable {
    let database: any PlatformDatabase
    let reading: ReadingStore?
    let teaching: TeachingStore?
    let training: TrainingStore?
    let identity: IdentityStore?
    /// The health records, whose examinations, assessments and follow-ups are service person-times.
    let health: HealthStore?
    private let prepared = Mutex(false)
    /// The facts last read, and the fingerprint of the tables they were read from (``facts()``).
    let factsCache = Mutex(FactsCache())
    let factsFingerprint: FactsFingerprint

    package init(
        database: any PlatformDatabase, reading: ReadingStore?, teaching: TeachingStore?, training: TrainingStore? = nil,
        identity: IdentityStore? = nil, health: HealthStore? = nil
    ) {
        self.health = health
        self.factsFingerprint = FactsFingerprint(
            reading: reading != nil, teaching: teaching != nil, training: training != nil, identity: identity != nil,
            health: health != nil)
        self.database = database
        self.reading = reading
        self.teaching = teaching
        self.training = training
        self.identity = identity
    }

    /// An exam attempt passes at this share of its maximum score (and with every question scored).
    public static let passShare = 0.6

    /// The store beside the identity store's tables, reading facts from the consultation and library stores.
    /// Without the other stores (a demo step that only sets targets), the facts hold the entered figures alone.
    public convenience init(
        identity: IdentityStore, reading: ReadingStore?, teaching: TeachingStore?, training: TrainingStore? = nil,
        health: HealthStore? = nil
    ) {
        self.init(
            database: identity.database, reading: reading, teaching: teaching, training: training, identity: identity, health: health)
    }

    public func prepare() async throws(ProgrammeError) {
        if prepared.withLock({ $0 }) { return }
        do {
            try await database.migrate(
                versionTable: ProgrammeSchema.versionTable, lockKey: ProgrammeSchema.lockKey, migrations: ProgrammeSchema.migrations)
        } catch {
            throw .database("\(error)")
        }
        prepared.withLock { $0 = true }
    }

    // MARK: - Facts

    /// Everything the indicators are computed from: consultations and teaching cases from their stores, the figures
    /// entered here. Training and exam records join when the training store exists.
    ///
    /// Reading them all takes a few hundred milliseconds with a year of data, and every view of the dashboard needs them;
    /// so they are kept in memory, each source's records (``FactsSource``: consultations, cases, case views, training,
    /// health, the programme's own) under a fingerprint of the tables they come from (``FactsFingerprint``: counts,
    /// highest ids and sums of change times of each table, read for all sources in one query from the database, so the
    /// same in every process on PostgreSQL). A view reads the fingerprint, then again only the sources whose tables
    /// changed since: a case page opened re-reads the case views, not the year's consultations.
    public func facts() async throws(ProgrammeError) -> ProgrammeFacts {
        try await prepare()
        let values = try? await database.query(factsFingerprint.sql, []).first?.map { $0.integer ?? Int64($0.text ?? "") ?? 0 }
        guard let values, values.count == factsFingerprint.width else {
            // No fingerprint (a store's table not made yet: its first use): read everything, keep nothing.
            var facts = ProgrammeFacts()
            for source in FactsSource.allCases { Self.merge(try await read(source), into: &facts) }
            return facts
        }
        let fingerprints = factsFingerprint.split(values)
        let kept = factsCache.withLock { $0 }
        if kept.fingerprint == values { return kept.facts }
        var parts = kept.parts
        for source in FactsSource.allCases where parts[source]?.fingerprint != fingerprints[source] {
            parts[source] = (fingerprints[source] ?? [], try await read(source))
        }
        var facts = ProgrammeFacts()
        for source in FactsSource.allCases {
            if let part = parts[source]?.facts { Self.merge(part, into: &facts) }
        }
        factsCache.withLock { $0 = FactsCache(fingerprint: values, facts: facts, parts: parts) }
        return facts
    }

    /// Appends one source's records to the facts.
    static func merge(_ part: ProgrammeFacts, into facts: inout ProgrammeFacts) {
        facts.consultations += part.consultations
        facts.cases += part.cases
        facts.training += part.training
        facts.exams += part.exams
        facts.figures += part.figures
        facts.healthServices += part.healthServices
        facts.libraryUse += part.libraryUse
        facts.coursePublications += part.coursePublications
        facts.placements += part.placements
        facts.teachingActs += part.teachingActs
        facts.inspections += part.inspections
    }

    /// The records of one source, read from its store.
    func read(_ source: FactsSource) async throws(ProgrammeError) -> ProgrammeFacts {
        var facts = ProgrammeFacts()
        do {
            switch source {
            case .consultations:
                guard let reading else { break }
                facts.consultations = try await reading.indicatorRecords().map {
                    .init(
                        site: $0.site, priority: $0.priority, modality: $0.modality, received: $0.received, deadline: $0.deadline,
                        final: $0.final, serviceLine: $0.serviceLine, studies: $0.studies)
                }
            case .caseViews:
                guard let teaching else { break }
                facts.libraryUse = try await teaching.caseViewRecords().map {
                    .init(kind: .view, person: $0.person, institution: $0.institution, caseID: $0.caseID, date: $0.viewed)
                }
            case .cases:
                guard let teaching else { break }
                facts.cases = try await teaching.indicatorRecords().map {
                    .init(
                        institution: $0.institution, modality: $0.modality, created: $0.created, published: $0.firstPublished,
                        retired: $0.retired)
                }
            case .training:
                guard let training else { break }
                let practices = try await training.practiceIndicatorRecords()
                let attempts = try await training.indicatorRecords()
                let partners = try await training.partnerRecords()
                // Everyone's institution in one read of the people, for practice, exams and teaching alike.
                let people = try await institutionsByPerson()
                facts.libraryUse = practices.map {
                    .init(
                        kind: .practice, person: $0.student, institution: people[$0.student]?.code ?? "", caseID: $0.caseID,
                        date: $0.submitted)
                }
                for attempt in attempts {
                    let institution = people[attempt.student]?.code ?? ""
                    let passed = attempt.complete && attempt.maximum > 0 && attempt.score >= Self.passShare * attempt.maximum
                    facts.exams.append(
                        .init(
                            person: attempt.student, institution: institution, exam: String(attempt.exam), submitted: attempt.submitted,
                            passed: passed, first: attempt.number == 1))
                    // Each exam sat is a person-time of training.
                    facts.training.append(
                        .init(person: attempt.student, institution: institution, kind: "exam", completed: attempt.submitted))
                }
                Self.addPartnerFacts(partners, people: people, to: &facts)
            case .health:
                guard let health else { break }
                facts.healthServices = try await health.indicatorRecords().map {
                    .init(institution: $0.institution, kind: $0.kind, date: $0.date)
                }
            case .programme:
                facts.figures = try await figures(year: nil)
                facts.training = try await completions()
                facts.coursePublications = try await coursePublications()
            }
        } catch let error as ProgrammeError {
            throw error
        } catch {
            throw .database("\(error)")
        }
        return facts
    }

    /// Placements, part-time teaching and inspections from the supervision records. A person teaches for the
    /// institution they belong to, unless it is a college (whose staff are not part-time teachers) or they belong to none;
    /// a named practice supervisor teaches through each of the trainee's countersigned placements.
    static func addPartnerFacts(
        _ records: TrainingStore.PartnerRecords, people: [String: (code: String, college: Bool)], to facts: inout ProgrammeFacts
    ) {
        func partTime(_ person: String) -> String? {
            guard let member = people[person], !member.college, !member.code.isEmpty else { return nil }
            return member.code
        }
        for placement in records.placements {
            guard let first = CivilDate(placement.first)?.start, let last = CivilDate(placement.last)?.start else { continue }
            facts.placements.append(.init(trainee: placement.trainee, partner: placement.partner, first: first, last: last))
            if let supervisor = records.practiceSupervisors[placement.trainee], let institution = partTime(supervisor) {
                facts.teachingActs.append(
                    .init(person: supervisor, institution: institution, kind: "practice-supervision", first: first, last: last))
            }
        }
        for act in records.acts {
            guard let institution = partTime(act.person) else { continue }
            facts.teachingActs.append(.init(person: act.person, institution: institution, kind: act.kind, first: act.date, last: act.date))
        }
        for inspection in records.inspections {
            guard let day = CivilDate(inspection.day)?.start else { continue }
            facts.inspections.append(.init(institution: inspection.institution, date: day))
        }
    }

    /// The institution code of each person (empty for those without one), and whether it is a college.
    func institutionsByPerson() async throws -> [String: (code: String, college: Bool)] {
        guard let identity else { return [:] }
        let institutions = Dictionary(uniqueKeysWithValues: try await identity.institutions().map { ($0.id, $0) })
        var result: [String: (code: String, college: Bool)] = [:]
        for person in try await identity.people() {
            let institution = person.institutionID.flatMap { institutions[$0] }
            result[person.username] = (institution?.code ?? "", institution?.kind == .college)
        }
        return result
    }

    // MARK: - Indicators

    /// The catalog's indicators followed by the named ones, by key.
    public func indicators() async throws(ProgrammeError) -> [IndicatorDefinition] {
        IndicatorCatalog.all + (try await namedIndicators()).map(\.definition)
    }

    public func namedIndicators() async throws(ProgrammeError) -> [NamedIndicator] {
        try await query("SELECT key, unit, direction, accumulation, name_en, name_zh FROM programme_indicators ORDER BY key", []).map {
            row in
            NamedIndicator(
                definition: IndicatorDefinition(
                    key: row[0].text ?? "", unit: row[1].text ?? "",
                    direction: IndicatorDirection(rawValue: row[2].text ?? "") ?? .higherIsBetter,
                    accumulation: IndicatorAccumulation(rawValue: row[3].text ?? "") ?? .cumulative, derived: false),
                nameEnglish: row[4].text ?? "", nameChinese: row[5].text ?? "")
        }
    }

    /// Adds a named (typed-in) indicator; a key already taken is a conflict.
    public func addIndicator(_ indicator: NamedIndicator, by person: String) async throws(ProgrammeError) {
        var indicator = indicator
        indicator.definition.derived = false
        if let problem = indicator.problem { throw problem }
        if try await !query("SELECT key FROM programme_indicators WHERE key = ?", [.text(indicator.definition.key)]).isEmpty {
            throw .conflict("indicator \(indicator.definition.key)")
        }
        try await query(
            """
            INSERT INTO programme_indicators (key, unit, direction, accumulation, name_en, name_zh, created_by, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(indicator.definition.key), .text(indicator.definition.unit), .text(indicator.definition.direction.rawValue),
                .text(indicator.definition.accumulation.rawValue), .text(indicator.nameEnglish), .text(indicator.nameChinese),
                .text(person), .integer(Self.now()),
            ])
    }

    func definition(_ key: String) async throws(ProgrammeError) -> IndicatorDefinition {
        if let known = IndicatorCatalog.definition(key) { return known }
        guard let named = try await namedIndicators().first(where: { $0.definition.key == key }) else { throw .unknownIndicator(key) }
        return named.definition
    }

    // MARK: - Targets

    /// Sets (or replaces) the target of an indicator for a year and institution (nil: the alliance).
    public func setTarget(_ target: ProgrammeTarget, by person: String) async throws(ProgrammeError) {
        let definition = try await definition(target.indicator)
        if let problem = target.problem(for: definition) { throw problem }
        guard (2000...2100).contains(target.year) else { throw .invalidTarget("year \(target.year) is out of range") }
        let institution = target.institution ?? ""
        try await transaction([
            (
                "DELETE FROM programme_targets WHERE year = ? AND institution = ? AND indicator = ?",
                [.integer(Int64(target.year)), .text(institution), .text(target.indicator)]
            ),
            (
                """
                INSERT INTO programme_targets (year, institution, indicator, target, warning, owner, updated_by, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .integer(Int64(target.year)), .text(institution), .text(target.indicator), .text(String(target.target)),
                    .text(String(target.warning)), .text(target.owner), .text(person), .integer(Self.now()),
                ]
            ),
        ])
    }

    public func removeTarget(year: Int, institution: String?, indicator: String) async throws(ProgrammeError) {
        try await query(
            "DELETE FROM programme_targets WHERE year = ? AND institution = ? AND indicator = ?",
            [.integer(Int64(year)), .text(institution ?? ""), .text(indicator)])
    }

    public func targets(year: Int) async throws(ProgrammeError) -> [ProgrammeTarget] {
        try await query(
            "SELECT year, institution, indicator, target, warning, owner FROM programme_targets WHERE year = ? ORDER BY institution, indicator",
            [.integer(Int64(year))]
        ).map { row in
            ProgrammeTarget(
                year: Int(row[0].integer ?? 0), institution: (row[1].text ?? "").isEmpty ? nil : row[1].text,
                indicator: row[2].text ?? "", target: Self.double(row[3]), warning: Self.double(row[4]), owner: row[5].text ?? "")
        }
    }

    // MARK: - Figures entered with evidence

    /// Records a figure for a named indicator; derived indicators refuse typed-in figures.
    @discardableResult
    public func recordFigure(
        indicator: String, institution: String, date: Date, value: Double, evidence: String, by person: String
    ) async throws(ProgrammeError) -> Int64 {
        let definition = try await definition(indicator)
        guard !definition.derived else { throw .invalidFigure("\(indicator) is computed from the data, not typed in") }
        guard value.isFinite else { throw .invalidFigure("the value must be a number") }
        let evidence = evidence.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !evidence.isEmpty else { throw .invalidFigure("a typed-in figure needs its evidence") }
        let rows = try await query(
            """
            INSERT INTO programme_figures (indicator, institution, figure_date, value, evidence, entered_by, entered_at)
            VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id
            """,
            [
                .text(indicator), .text(institution), .integer(Int64(date.timeIntervalSince1970)), .text(String(value)), .text(evidence),
                .text(person), .integer(Self.now()),
            ])
        guard let id = rows.first?.first?.integer else { throw .database("no id for the new figure") }
        return id
    }

    /// The figures entered, for one year (local time) or all.
    public func figures(year: Int?) async throws(ProgrammeError) -> [ProgrammeFacts.Figure] {
        var sql = "SELECT id, indicator, institution, figure_date, value, evidence, entered_by, entered_at FROM programme_figures"
        var bindings: [SQLValue] = []
        if let year {
            let (start, end) = ProgrammePeriod(year: year).interval
            sql += " WHERE figure_date >= ? AND figure_date < ?"
            bindings = [.integer(Int64(start.timeIntervalSince1970)), .integer(Int64(end.timeIntervalSince1970))]
        }
        return try await query(sql + " ORDER BY figure_date, id", bindings).map { row in
            ProgrammeFacts.Figure(
                id: row[0].integer ?? 0, indicator: row[1].text ?? "", institution: row[2].text ?? "",
                date: Date(timeIntervalSince1970: TimeInterval(row[3].integer ?? 0)), value: Self.double(row[4]),
                evidence: row[5].text ?? "", enteredBy: row[6].text ?? "",
                enteredAt: Date(timeIntervalSince1970: TimeInterval(row[7].integer ?? 0)))
        }
    }

    // MARK: - Improvement actions

    public func openAction(
        year: Int, institution: String?, indicator: String, description: String, owner: String, due: Date, by person: String
    ) async throws(ProgrammeError) -> ImprovementAction {
        _ = try await definition(indicator)
        let description = description.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !description.isEmpty else { throw .invalidAction("an action needs a description") }
        guard !owner.isEmpty else { throw .invalidAction("an action needs an owner") }
        let rows = try await query(
            """
            INSERT INTO programme_actions (year, institution, indicator, description, owner, due_at, opened_by, opened_at, state)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open') RETURNING id
            """,
            [
                .integer(Int64(year)), .text(institution ?? ""), .text(indicator), .text(description), .text(owner),
                .integer(Int64(due.timeIntervalSince1970)), .text(person), .integer(Self.now()),
            ])
        guard let id = rows.first?.first?.integer else { throw .database("no id for the new action") }
        return try await action(id)
    }

    /// Closes an open action with a note; a second close (or a close racing another) is a conflict.
    public func closeAction(_ id: Int64, note: String, by person: String) async throws(ProgrammeError) -> ImprovementAction {
        let current = try await action(id)
        guard current.state == .open else { throw .conflict("action \(id), already closed") }
        let closed = try current.closed(by: person, note: note, at: Date())
        let rows = try await query(
            """
            UPDATE programme_actions SET state = 'closed', closing_note = ?, closed_by = ?, closed_at = ?, revision = revision + 1
            WHERE id = ? AND state = 'open' RETURNING id
            """,
            [.text(closed.closingNote ?? ""), .text(person), .integer(Self.now()), .integer(id)])
        guard !rows.isEmpty else { throw .conflict("action \(id)") }
        return try await action(id)
    }

    public func action(_ id: Int64) async throws(ProgrammeError) -> ImprovementAction {
        guard let row = try await query("SELECT \(Self.actionColumns) FROM programme_actions WHERE id = ?", [.integer(id)]).first else {
            throw .notFound("action \(id)")
        }
        return Self.action(row)
    }

    public func actions(year: Int) async throws(ProgrammeError) -> [ImprovementAction] {
        try await query(
            "SELECT \(Self.actionColumns) FROM programme_actions WHERE year = ? ORDER BY state DESC, due_at, id", [.integer(Int64(year))]
        ).map(Self.action)
    }

    static let actionColumns =
        "id, year, institution, indicator, description, owner, due_at, opened_by, opened_at, state, closing_note, closed_by, closed_at"

    static func action(_ row: [SQLValue]) -> ImprovementAction {
        func date(_ value: SQLValue) -> Date? { value.integer.map { Date(timeIntervalSince1970: TimeInterval($0)) } }
        return ImprovementAction(
            id: row[0].integer ?? 0, year: Int(row[1].integer ?? 0), institution: (row[2].text ?? "").isEmpty ? nil : row[2].text,
            indicator: row[3].text ?? "", description: row[4].text ?? "", owner: row[5].text ?? "",
            due: date(row[6]) ?? .distantPast, openedBy: row[7].text ?? "", openedAt: date(row[8]) ?? .distantPast,
            state: ImprovementAction.State(rawValue: row[9].text ?? "") ?? .open, closingNote: row[10].text, closedBy: row[11].text,
            closedAt: date(row[12]))
    }

    // MARK: - Plumbing

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }

    static func double(_ value: SQLValue) -> Double {
        if let text = value.text, let number = Double(text) { return number }
        return Double(value.integer ?? 0)
    }

    @discardableResult
    func query(_ sql: String, _ bindings: [SQLValue]) async throws(ProgrammeError) -> [[SQLValue]] {
        try await prepare()
        do {
            return try await database.query(sql, bindings)
        } catch {
            throw .database("\(error)")
        }
    }

    func transaction(_ statements: [(String, [SQLValue])]) async throws(ProgrammeError) {
        try await prepare()
        do {
            try await database.transaction(statements)
        } catch {
            throw .database("\(error)")
        }
    }
}
