import DICOM

/// What differs between SQL back ends in the statements the planner writes. SQLite is one dialect; PostgreSQL
/// (numbered placeholders, `LIKE` for wildcards, `string_agg`) is the other.
protocol SQLDialect: Sendable {
    /// The placeholder for the `index`-th binding (1-based).
    func placeholder(_ index: Int) -> String
    /// A case-sensitive wildcard predicate comparing `column` with a bound pattern.
    func wildcardPredicate(column: String, placeholder: String) -> String
    /// A DICOM `*`/`?` pattern in the form ``wildcardPredicate(column:placeholder:)`` binds.
    func wildcardPattern(_ pattern: String) -> String
    /// An aggregate of the distinct values of `expression`, separated by commas.
    func distinctList(_ expression: String) -> String
    /// An OFFSET clause without a LIMIT.
    func offsetOnly(placeholder: String) -> String
}

/// A query translated to SQL: the statement, its bindings, and whether SQL alone decides the result (so that
/// LIMIT and OFFSET can be pushed down too).
struct SQLPlan {
    var sql: String
    var bindings: [SQLValue]
    /// The computed attributes selected after the four attribute columns, in order.
    var computed: [Tag]
}

/// Translates an ``ArchiveQuery`` to one SELECT over the schema. Matching keys on indexed columns become WHERE
/// clauses that select a superset of the matches; ``QueryMatcher`` then decides in Swift.
struct SQLQueryPlanner {
    let dialect: any SQLDialect

    private enum ColumnKind {
        case uid, text, date, name
    }

    private static let columns: [Tag: (alias: String, column: String, kind: ColumnKind)] = [
        .patientID: ("p", "patient_id", .text), .issuerOfPatientID: ("p", "issuer", .text),
        .patientName: ("p", "name_search", .name), .patientBirthDate: ("p", "birth_date", .date),
        .patientSex: ("p", "sex", .text), .studyInstanceUID: ("st", "study_uid", .uid),
        .studyDate: ("st", "study_date", .date), .accessionNumber: ("st", "accession", .text),
        .studyID: ("st", "study_id", .text), .referringPhysicianName: ("st", "referring_search", .name),
        .seriesInstanceUID: ("se", "series_uid", .uid), .modality: ("se", "modality", .text),
        .sopInstanceUID: ("i", "sop_uid", .uid), .sopClassUID: ("i", "sop_class", .uid),
    ]

    /// The keys that apply at the query's level (keys below it are ignored, as in a hierarchical search).
    static func applicableKeys(_ query: ArchiveQuery) -> [QueryKey] {
        query.matchingKeys.filter { LevelAttributes.level(of: $0.tag) <= query.level }
    }

    func plan(_ query: ArchiveQuery) -> (plan: SQLPlan, exact: Bool) {
        var bindings: [SQLValue] = []
        func bind(_ value: SQLValue) -> String {
            bindings.append(value)
            return dialect.placeholder(bindings.count)
        }
        let level = query.level
        let has = { (l: QueryLevel) in l <= level }
        var select = [
            "p.attributes", has(.study) ? "st.attributes" : "NULL", has(.series) ? "se.attributes" : "NULL",
            has(.instance) ? "i.attributes" : "NULL",
        ]
        let from: String
        switch level {
        case .patient: from = "patients p"
        case .study: from = "studies st JOIN patients p ON p.pk = st.patient_pk"
        case .series:
            from = "series se JOIN studies st ON st.pk = se.study_pk JOIN patients p ON p.pk = st.patient_pk"
        case .instance:
            from =
                "instances i JOIN series se ON se.pk = i.series_pk JOIN studies st ON st.pk = se.study_pk "
                + "JOIN patients p ON p.pk = st.patient_pk"
        }
        let wanted = query.returnTags.union(query.matchingKeys.map(\.tag))
        var computed: [Tag] = []
        for (tag, tagLevel) in LevelAttributes.computed.sorted(by: { $0.key < $1.key }) where tagLevel <= level {
            guard query.includeFields == .all || wanted.contains(tag), let expression = computedExpression(tag) else { continue }
            select.append(expression)
            computed.append(tag)
        }
        var conditions: [String] = []
        var exact = true
        for key in Self.applicableKeys(query) {
            if let condition = condition(key, level: level, bind: bind) {
                conditions.append(condition.sql)
                exact = exact && condition.exact
            } else {
                exact = false
            }
        }
        if let institution = query.institution {
            if level == .patient {
                conditions.append(
                    "EXISTS (SELECT 1 FROM studies r WHERE r.patient_pk = p.pk AND r.institution = \(bind(.text(institution))))")
            } else {
                conditions.append("st.institution = \(bind(.text(institution)))")
            }
        }
        let levelAlias = ["p", "st", "se", "i"][level.depth]
        var sql = "SELECT " + select.joined(separator: ", ") + " FROM " + from
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY \(levelAlias).pk"
        if exact {
            if let limit = query.limit {
                sql += " LIMIT \(bind(.integer(Int64(limit))))"
                if query.offset > 0 { sql += " OFFSET \(bind(.integer(Int64(query.offset))))" }
            } else if query.offset > 0 {
                sql += " " + dialect.offsetOnly(placeholder: bind(.integer(Int64(query.offset))))
            }
        }
        return (SQLPlan(sql: sql, bindings: bindings, computed: computed), exact)
    }

    private func computedExpression(_ tag: Tag) -> String? {
        switch tag {
        case .numberOfPatientRelatedStudies: "(SELECT COUNT(*) FROM studies x WHERE x.patient_pk = p.pk)"
        case .numberOfPatientRelatedSeries:
            "(SELECT COUNT(*) FROM series x JOIN studies y ON y.pk = x.study_pk WHERE y.patient_pk = p.pk)"
        case .numberOfPatientRelatedInstances:
            "(SELECT COUNT(*) FROM instances x JOIN series y ON y.pk = x.series_pk JOIN studies z ON z.pk = y.study_pk "
                + "WHERE z.patient_pk = p.pk)"
        case .modalitiesInStudy: "(SELECT \(dialect.distinctList("x.modality")) FROM series x WHERE x.study_pk = st.pk)"
        case .sopClassesInStudy:
            "(SELECT \(dialect.distinctList("x.sop_class")) FROM instances x JOIN series y ON y.pk = x.series_pk "
                + "WHERE y.study_pk = st.pk)"
        case .numberOfStudyRelatedSeries: "(SELECT COUNT(*) FROM series x WHERE x.study_pk = st.pk)"
        case .numberOfStudyRelatedInstances:
            "(SELECT COUNT(*) FROM instances x JOIN series y ON y.pk = x.series_pk WHERE y.study_pk = st.pk)"
        case .numberOfSeriesRelatedInstances: "(SELECT COUNT(*) FROM instances x WHERE x.series_pk = se.pk)"
        case .instanceAvailability: "'ONLINE'"
        case .availableTransferSyntaxUID: "i.transfer_syntax"
        default: nil
        }
    }

    private func condition(_ key: QueryKey, level: QueryLevel, bind: (SQLValue) -> String) -> (sql: String, exact: Bool)? {
        if key.tag == .modalitiesInStudy {
            let values: [String]
            switch key.matcher {
            case .single(let v): values = [v]
            case .list(let items):
                var collected: [String] = []
                for item in items {
                    guard case .single(let v) = item else { return nil }
                    collected.append(v)
                }
                values = collected
            default: return nil
            }
            let list = values.map { bind(.text($0)) }.joined(separator: ", ")
            // Driven by the modality index (the matching studies' keys), not probed once per study of the archive.
            return ("st.pk IN (SELECT m.study_pk FROM series m WHERE m.modality IN (\(list)))", true)
        }
        guard let (alias, column, kind) = Self.columns[key.tag] else { return nil }
        let name = alias + "." + column
        switch (key.matcher, kind) {
        case (.single(let v), .uid), (.single(let v), .text):
            return ("\(name) = \(bind(.text(v)))", true)
        case (.single(let v), .date):
            return ("\(name) = \(bind(.text(normalizedDate(v))))", true)
        case (.list(let items), .uid), (.list(let items), .text):
            var values: [String] = []
            for item in items {
                guard case .single(let v) = item else { return nil }
                values.append(v)
            }
            return ("\(name) IN (\(values.map { bind(.text($0)) }.joined(separator: ", ")))", true)
        case (.wildcard(let pattern), .text):
            let placeholder = bind(.text(dialect.wildcardPattern(pattern)))
            return (dialect.wildcardPredicate(column: name, placeholder: placeholder), true)
        case (.single(let pattern), .name), (.wildcard(let pattern), .name):
            // Every literal run of the pattern occurs in the folded name text: a superset of the matches.
            let runs = nameSearchText(pattern).split(whereSeparator: { "*?=^ ,".contains($0) }).filter { !$0.isEmpty }
            if runs.isEmpty { return ("1 = 1", false) }
            // A patient's name above the patient level: the patients whose names qualify, found by scanning the name
            // index, select the studies (rather than a scan of every study that looks its patient up).
            let nested = alias == "p" && level != .patient
            let searched = nested ? "q." + column : name
            let like = runs.map { run in
                "\(searched) LIKE \(bind(.text("%" + escapeLike(String(run)) + "%"))) ESCAPE '\\'"
            }
            if nested {
                return ("st.patient_pk IN (SELECT q.pk FROM patients q WHERE \(like.joined(separator: " AND ")))", false)
            }
            return (like.joined(separator: " AND "), false)
        case (.range(let lower, let upper), .date):
            var parts = ["\(name) <> ''"]
            if let lower { parts.append("\(name) >= \(bind(.text(normalizedDate(lower))))") }
            if let upper { parts.append("\(name) <= \(bind(.text(normalizedDate(upper))))") }
            return (parts.joined(separator: " AND "), true)
        default:
            return nil
        }
    }
}

/// Person-name text as the index stores it for searching: folded case, all groups.
func nameSearchText(_ name: String) -> String {
    name.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
}

private func escapeLike(_ text: String) -> String {
    var out = ""
    for c in text {
        if c == "%" || c == "_" || c == "\\" { out.append("\\") }
        out.append(c)
    }
    return out
}
