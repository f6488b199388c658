import Foundation
import Platform

/// A cheap summary of every table the programme's facts are read from, in one query: per table its row count, highest
/// id and sums of the columns an update changes (change times, revisions, the state the facts look at). Any insert,
/// delete or update the facts can see moves at least one of these numbers; reading it scans each table once in the
/// database (a few milliseconds), where reading the facts themselves decodes every row. Read from the database, it is
/// the same in every process on PostgreSQL.
struct FactsFingerprint: Sendable {
    /// One table, the source of facts it belongs to, and the aggregates taken of it (each a nullable integer expression).
    struct Table: Sendable {
        var source: FactsSource
        var name: String
        var aggregates: [String]
    }

    /// How many numbers the query gives.
    var width: Int { tables.reduce(0) { $0 + $1.aggregates.count } }

    /// The query's numbers, by the source their tables belong to.
    func split(_ values: [Int64]) -> [FactsSource: [Int64]] {
        var result: [FactsSource: [Int64]] = [:]
        var index = 0
        for table in tables {
            let end = min(values.count, index + table.aggregates.count)
            result[table.source, default: []] += values[index..<end]
            index = end
        }
        return result
    }

    let tables: [Table]
    let sql: String

    init(reading: Bool, teaching: Bool, training: Bool, identity: Bool, health: Bool) {
        var tables: [Table] = []
        if reading {
            tables += [
                // A priority change and a withdrawal update a request in place; the updated time may not move within
                // a second, so the priorities' lengths (stat, urgent, routine differ) and the withdrawn count are summed too.
                Table(
                    source: .consultations, name: "consultation_requests",
                    aggregates: [
                        "COUNT(*)", "MAX(id)", "SUM(updated_at)", "SUM(LENGTH(priority))",
                        "SUM(CASE WHEN status = 'withdrawn' THEN 1 ELSE 0 END)",
                    ]),
                Table(source: .consultations, name: "consultation_events", aggregates: ["COUNT(*)", "MAX(id)"]),
                // Studies arriving later are linked to waiting requests (rows added, never changed in place).
                Table(source: .consultations, name: "consultation_studies", aggregates: ["COUNT(*)"]),
            ]
        }
        if teaching {
            tables += [
                // Every update of a case (content, status, publication) adds one to its revision.
                Table(source: .cases, name: "teaching_cases", aggregates: ["COUNT(*)", "MAX(id)", "SUM(revision)", "SUM(updated_at)"]),
                Table(source: .cases, name: "teaching_case_tags", aggregates: ["COUNT(*)"]),
                Table(source: .caseViews, name: "teaching_case_views", aggregates: ["COUNT(*)", "MAX(id)"]),
            ]
        }
        if training {
            tables += [
                Table(
                    source: .training, name: "training_attempts",
                    aggregates: ["COUNT(*)", "MAX(id)", "COUNT(submitted_at)", "SUM(submitted_at)"]),
                // What an attempt's score depends on besides its answers (as the exam store's own score cache).
                Table(source: .training, name: "training_rubric_grades", aggregates: ["COUNT(*)", "SUM(graded_at)"]),
                Table(source: .training, name: "training_overrides", aggregates: ["COUNT(*)", "SUM(changed_at)"]),
                Table(source: .training, name: "training_questions", aggregates: ["COUNT(*)", "SUM(revision)", "MAX(updated_at)"]),
                Table(source: .training, name: "training_practice", aggregates: ["COUNT(*)", "MAX(id)", "SUM(commented_at)"]),
                Table(source: .training, name: "training_logbook_entries", aggregates: ["COUNT(*)", "MAX(id)", "SUM(reviewed_at)"]),
                Table(source: .training, name: "training_competency_signoffs", aggregates: ["COUNT(*)", "MAX(id)"]),
                Table(source: .training, name: "training_supervisors", aggregates: ["COUNT(*)", "SUM(updated_at)"]),
                Table(source: .training, name: "training_inspections", aggregates: ["COUNT(*)", "MAX(id)"]),
            ]
            if identity {
                // A person moved to another institution moves their exams, practice and teaching with them.
                tables += [
                    Table(source: .training, name: "people", aggregates: ["COUNT(*)", "MAX(id)", "SUM(id * COALESCE(institution_id, 0))"]),
                    Table(source: .training, name: "institutions", aggregates: ["COUNT(*)", "MAX(id)"]),
                ]
            }
        }
        if health {
            for name in ["health_examinations", "health_assessments", "health_follow_ups", "health_education_attendance"] {
                tables.append(Table(source: .health, name: name, aggregates: ["COUNT(*)", "MAX(id)"]))
            }
        }
        tables += [
            Table(source: .programme, name: "programme_figures", aggregates: ["COUNT(*)", "MAX(id)"]),
            Table(source: .programme, name: "programme_enrolments", aggregates: ["COUNT(*)", "COUNT(completed_at)", "SUM(completed_at)"]),
            Table(source: .programme, name: "programme_courses", aggregates: ["COUNT(*)", "MAX(id)", "SUM(published_at)"]),
        ]
        self.tables = tables
        // One row: a derived table of one row per table, joined; every aggregate as a BIGINT (PostgreSQL's SUM of a
        // BIGINT is NUMERIC), zero for none.
        var columns: [String] = []
        var sources: [String] = []
        for (t, table) in tables.enumerated() {
            let names = table.aggregates.indices.map { "a\($0)" }
            columns += names.map { "t\(t).\($0)" }
            let selected = zip(table.aggregates, names).map { "CAST(COALESCE(\($0.0), 0) AS BIGINT) AS \($0.1)" }
            sources.append("(SELECT \(selected.joined(separator: ", ")) FROM \(table.name)) t\(t)")
        }
        sql = "SELECT \(columns.joined(separator: ", ")) FROM \(sources.joined(separator: ", "))"
    }
}

/// The groups of facts read and kept together: each from its own tables.
enum FactsSource: CaseIterable, Sendable {
    case consultations, caseViews, cases, training, health, programme
}

/// The facts last read and the whole fingerprint they were read under, and each source's part with its own.
struct FactsCache: Sendable {
    var fingerprint: [Int64] = []
    var facts = ProgrammeFacts()
    var parts: [FactsSource: (fingerprint: [Int64], facts: ProgrammeFacts)] = [:]
}
