import Archive
import Foundation
import Platform

extension TrainingStore {
    /// One submitted attempt as the programme's indicators count it: who sat which exam, the how-manieth attempt, when
    /// it was submitted, and its score as it stands (automatic, rubric and overrides, as ``AttemptResult`` computes).
    public struct IndicatorRecord: Sendable, Equatable {
        public var exam: Int64
        public var student: String
        public var number: Int
        public var submitted: Date
        public var score: Double
        public var maximum: Double
        /// Every question has a score (no report still waiting for its graders).
        public var complete: Bool
    }

    /// Every submitted attempt with its score.
    ///
    /// A submitted attempt's answers never change again; its score changes only with a rubric grade, an override or an
    /// edit of one of its questions. So the scores are kept between calls, under a fingerprint of those three tables
    /// (counts and sums of their change times and revisions, read in one query, the same in every process): while it holds,
    /// only attempts submitted since are read and scored (their items and answers fetched for those attempts alone);
    /// when it moves, every attempt is scored again, in six queries whatever the number of attempts.
    public func indicatorRecords() async throws(TrainingError) -> [IndicatorRecord] {
        let fingerprint =
            try await query(
                """
                SELECT (SELECT COUNT(*) FROM training_rubric_grades), (SELECT CAST(COALESCE(SUM(graded_at), 0) AS BIGINT) FROM training_rubric_grades),
                    (SELECT COUNT(*) FROM training_overrides), (SELECT CAST(COALESCE(SUM(changed_at), 0) AS BIGINT) FROM training_overrides),
                    (SELECT COUNT(*) FROM training_questions), (SELECT CAST(COALESCE(SUM(revision), 0) AS BIGINT) FROM training_questions),
                    (SELECT CAST(COALESCE(MAX(updated_at), 0) AS BIGINT) FROM training_questions)
                """, []
            ).first?.map { $0.integer ?? Int64($0.text ?? "") ?? 0 } ?? []
        let attempts = try await query(
            "SELECT id, exam_id, student, number, submitted_at FROM training_attempts WHERE submitted_at IS NOT NULL ORDER BY id", [])
        guard !attempts.isEmpty else { return [] }
        let ids = attempts.map { $0[0].integer ?? 0 }
        let known = indicatorCache.withLock { cache in cache.fingerprint == fingerprint ? cache.records : [:] }
        let missing = ids.filter { known[$0] == nil }
        var computed = known
        if !missing.isEmpty {
            // Few new attempts: read theirs alone; many (the first call, or after a change of grades): read them all.
            let filter: String
            let bindings: [SQLValue]
            if missing.count <= 500 {
                filter = "a.id IN (" + Array(repeating: "?", count: missing.count).joined(separator: ", ") + ")"
                bindings = missing.map { .integer($0) }
            } else {
                filter = "a.submitted_at IS NOT NULL"
                bindings = []
            }
            let wanted = Set(missing)
            var order: [Int64: [Int64]] = [:]
            for row in try await query(
                """
                SELECT i.attempt_id, i.question_id FROM training_attempt_items i
                JOIN training_attempts a ON a.id = i.attempt_id WHERE \(filter) ORDER BY i.attempt_id, i.position
                """, bindings)
            {
                order[row[0].integer ?? 0, default: []].append(row[1].integer ?? 0)
            }
            var answers: [Int64: [Int64: Answer]] = [:]
            for row in try await query(
                """
                SELECT s.attempt_id, s.question_id, s.answer FROM training_answers s
                JOIN training_attempts a ON a.id = s.attempt_id WHERE \(filter)
                """, bindings)
            {
                let id = row[0].integer ?? 0
                guard wanted.contains(id) else { continue }
                answers[id, default: [:]][row[1].integer ?? 0] = try Self.decode(Answer.self, row[2].text ?? "")
            }
            var grades: [Int64: [Int64: [[String: Double]]]] = [:]
            for row in try await query("SELECT attempt_id, question_id, awards FROM training_rubric_grades", []) {
                grades[row[0].integer ?? 0, default: [:]][row[1].integer ?? 0, default: []].append(
                    try Self.decode([String: Double].self, row[2].text ?? "{}"))
            }
            var overrides: [Int64: [Int64: Double]] = [:]
            for row in try await query("SELECT attempt_id, question_id, points FROM training_overrides", []) {
                overrides[row[0].integer ?? 0, default: [:]][row[1].integer ?? 0] = Double(row[2].text ?? "") ?? 0
            }
            let questions = try await questions(ids: Array(Set(missing.flatMap { order[$0] ?? [] }))).mapValues(\.content)
            for id in missing {
                let result = AttemptResult.compute(
                    order: order[id] ?? [], questions: questions, answers: answers[id] ?? [:], grades: grades[id] ?? [:],
                    overrides: overrides[id] ?? [:])
                computed[id] = IndicatorCache.Score(score: result.score, maximum: result.maximum, complete: result.complete)
            }
            // Attempts gone (an exam deleted) leave the cache with the next fill.
            let current = Set(ids)
            let kept = computed.filter { current.contains($0.key) }
            indicatorCache.withLock { $0 = IndicatorCache(fingerprint: fingerprint, records: kept) }
        }
        return attempts.map { row in
            let id = row[0].integer ?? 0
            let score = computed[id] ?? IndicatorCache.Score(score: 0, maximum: 0, complete: false)
            return IndicatorRecord(
                exam: row[1].integer ?? 0, student: row[2].text ?? "", number: Int(row[3].integer ?? 0),
                submitted: Self.date(milliseconds: row[4].integer ?? 0), score: score.score, maximum: score.maximum,
                complete: score.complete)
        }
    }
}

/// The scores ``TrainingStore/indicatorRecords()`` computed, and the fingerprint of the grades, overrides and questions
/// they were computed with.
struct IndicatorCache: Sendable {
    struct Score: Sendable, Equatable {
        var score: Double
        var maximum: Double
        var complete: Bool
    }

    var fingerprint: [Int64] = []
    var records: [Int64: Score] = [:]
}

extension TrainingStore {
    /// One practice report as the programme's library-use indicators count it: who practised which case, when.
    public struct PracticeIndicatorRecord: Sendable, Equatable {
        public var student: String
        public var caseID: Int64
        public var submitted: Date
    }

    /// Every practice report (one practice attempt each), oldest first.
    public func practiceIndicatorRecords() async throws(TrainingError) -> [PracticeIndicatorRecord] {
        try await query("SELECT student, case_id, submitted_at FROM training_practice ORDER BY id", []).map {
            PracticeIndicatorRecord(
                student: $0[0].text ?? "", caseID: $0[1].integer ?? 0, submitted: Self.date(milliseconds: $0[2].integer ?? 0))
        }
    }
}

extension TrainingStore {
    /// What the programme's partner contribution table counts from supervision: countersigned placements, the recorded
    /// teaching acts of every person (countersignatures and returns, competency sign-offs, rubric grades, practice
    /// comments), the practice supervisors named for trainees, and the inspections.
    public struct PartnerRecords: Sendable, Equatable {
        public struct Placement: Sendable, Equatable {
            public var trainee: String
            public var partner: String
            /// `yyyy-MM-dd`, the first and the last day.
            public var first: String
            public var last: String
        }

        public struct Act: Sendable, Equatable {
            public var person: String
            /// `countersign`, `sign-off`, `grade` or `practice-comment`.
            public var kind: String
            public var date: Date
        }

        public var placements: [Placement] = []
        public var acts: [Act] = []
        /// Each trainee's named practice supervisor.
        public var practiceSupervisors: [String: String] = [:]
        public var inspections: [InspectionDay] = []

        /// The inspected institution's code and the inspection's day (`yyyy-MM-dd`).
        public struct InspectionDay: Sendable, Equatable {
            public var institution: String
            public var day: String
        }
    }

    /// The supervision records of ``PartnerRecords``, in six queries.
    public func partnerRecords() async throws(TrainingError) -> PartnerRecords {
        var records = PartnerRecords()
        for row in try await query(
            "SELECT trainee, partner, submission FROM training_logbook_entries WHERE kind = 'placement' AND state = 'countersigned' ORDER BY id",
            [])
        {
            let submission = try Self.decode(LogbookSubmission.self, row[2].text ?? "")
            guard let partner = row[1].text ?? submission.partner, let last = submission.endDate else { continue }
            records.placements.append(.init(trainee: row[0].text ?? "", partner: partner, first: submission.date, last: last))
        }
        let moments: [(String, String, Double)] = [
            (
                "SELECT reviewer, reviewed_at FROM training_logbook_entries WHERE reviewer IS NOT NULL AND reviewed_at IS NOT NULL",
                "countersign", 1000
            ),
            ("SELECT signed_by, signed_at FROM training_competency_signoffs", "sign-off", 1000),
            ("SELECT grader, graded_at FROM training_rubric_grades", "grade", 1),
            (
                "SELECT commented_by, commented_at FROM training_practice WHERE commented_by IS NOT NULL AND commented_at IS NOT NULL",
                "practice-comment", 1000
            ),
        ]
        for (sql, kind, perSecond) in moments {
            for row in try await query(sql, []) {
                records.acts.append(
                    .init(person: row[0].text ?? "", kind: kind, date: Date(timeIntervalSince1970: Double(row[1].integer ?? 0) / perSecond))
                )
            }
        }
        for row in try await query("SELECT trainee, practice FROM training_supervisors WHERE practice IS NOT NULL", []) {
            if let practice = row[1].text, !practice.isEmpty { records.practiceSupervisors[row[0].text ?? ""] = practice }
        }
        records.inspections = try await query("SELECT institution, day FROM training_inspections ORDER BY id", []).map {
            PartnerRecords.InspectionDay(institution: $0[0].text ?? "", day: $0[1].text ?? "")
        }
        return records
    }
}
