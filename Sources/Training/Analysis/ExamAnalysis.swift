import Foundation

/// One student's first finished attempt, as the exam analysis reads it.
public struct AnalysedAttempt: Sendable, Equatable {
    public var attemptID: Int64
    public var student: String
    /// The exam form the attempt drew (its questions).
    public var form: Int
    public var result: AttemptResult
    /// Question id → the answer given.
    public var answers: [Int64: Answer]
    /// Question id → every grader's rubric awards (report questions).
    public var grades: [Int64: [RubricGrade]]

    public init(
        attemptID: Int64, student: String, form: Int, result: AttemptResult, answers: [Int64: Answer],
        grades: [Int64: [RubricGrade]] = [:]
    ) {
        self.attemptID = attemptID
        self.student = student
        self.form = form
        self.result = result
        self.answers = answers
        self.grades = grades
    }
}

/// The item analysis of one exam form, or why there is none.
public struct FormAnalysis: Sendable, Equatable {
    /// The form's index (0-based) in the exam's settings.
    public var form: Int
    /// The question ids, in the order of `report.items`.
    public var questions: [Int64]
    public var report: ItemAnalysisReport?
    /// Why the form was not analysed (too few finished attempts, a report still ungraded…).
    public var problem: String?
    /// Attempts left out because a question had no score yet.
    public var ungraded: Int
}

/// Agreement between two graders of one report question.
public struct QuestionAgreement: Sendable, Equatable {
    public var question: Int64
    public var firstGrader: String
    public var secondGrader: String
    /// Attempts both graded.
    public var attempts: Int
    /// Unweighted and linearly weighted Cohen's kappa over every (attempt, criterion) award; nil when undefined.
    public var kappa: Double?
    public var weightedKappa: Double?
}

/// Turns an exam's first attempts into the inputs of item analysis, grader agreement and the originality check.
public enum ExamAnalysis {
    /// Every student's earliest finished attempt, as Moodle's statistics analyse first attempts.
    public static func firstAttempts(_ attempts: [Attempt], now: Date) -> [Attempt] {
        var seen = Set<String>()
        return attempts.sorted { ($0.student, $0.number) < ($1.student, $1.number) }.filter { attempt in
            guard attempt.finished(at: now), !seen.contains(attempt.student) else { return false }
            seen.insert(attempt.student)
            return true
        }
    }

    /// One analysis per form the attempts drew. A form's items are its questions in the exam's (unshuffled) order;
    /// an attempt with a question still waiting for its graders is left out of its form and counted.
    public static func forms(
        exam: ExamSettings, questions: [Int64: QuestionContent], attempts: [AnalysedAttempt],
        thresholds: ItemFlagThresholds = ItemFlagThresholds()
    ) -> [FormAnalysis] {
        var out: [FormAnalysis] = []
        for (index, ids) in exam.forms.enumerated() {
            let taking = attempts.filter { $0.form == index }
            guard !taking.isEmpty else { continue }
            let present = ids.filter { questions[$0] != nil }
            let items = present.compactMap { id in questions[id].map { item(id: id, content: $0) } }
            var rows: [[ItemResponse]] = []
            var ungraded = 0
            for attempt in taking {
                let scores = Dictionary(attempt.result.items.map { ($0.questionID, $0.score) }) { a, _ in a }
                var row: [ItemResponse] = []
                var complete = true
                for id in present {
                    guard let score = scores[id] ?? nil else {
                        complete = false
                        break
                    }
                    row.append(ItemResponse(score: score, chosen: attempt.answers[id]?.choices ?? []))
                }
                if complete { rows.append(row) } else { ungraded += 1 }
            }
            do {
                let report = try ItemAnalysis.analyse(ResponseMatrix(items: items, rows: rows), thresholds: thresholds)
                out.append(FormAnalysis(form: index, questions: present, report: report, problem: nil, ungraded: ungraded))
            } catch {
                out.append(FormAnalysis(form: index, questions: present, report: nil, problem: error.description, ungraded: ungraded))
            }
        }
        return out
    }

    /// The analysis item of a question: choice questions carry their options, key and random guess score.
    public static func item(id: Int64, content: QuestionContent) -> AnalysedItem {
        switch content.kind {
        case .singleChoice:
            return AnalysedItem(
                id: String(id), maximumScore: content.maximum, options: content.choices.map(\.id),
                key: content.choices.filter(\.correct).map(\.id),
                randomGuessScore: AnalysedItem.randomGuessScore(choiceFractions: content.choices.map { $0.correct ? 1 : 0 }))
        case .multipleChoice:
            return AnalysedItem(
                id: String(id), maximumScore: content.maximum, options: content.choices.map(\.id),
                key: content.choices.filter(\.correct).map(\.id))
        default:
            return AnalysedItem(id: String(id), maximumScore: content.maximum)
        }
    }

    /// Cohen's kappa between the two graders who graded most answers of each report question (named in alphabetical
    /// order; the unweighted and linear kappas do not depend on it), over every criterion of every attempt both graded.
    /// The levels are the points awarded.
    public static func agreement(questions: [Int64: QuestionContent], attempts: [AnalysedAttempt]) -> [QuestionAgreement] {
        let reportIDs = questions.filter { $0.value.kind == .report }.keys.sorted()
        var out: [QuestionAgreement] = []
        for id in reportIDs {
            guard let rubric = questions[id]?.rubric, !rubric.isEmpty else { continue }
            var counts: [String: Int] = [:]
            for attempt in attempts { for grade in attempt.grades[id] ?? [] { counts[grade.grader, default: 0] += 1 } }
            let busiest = counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.prefix(2).map(\.key).sorted()
            guard busiest.count == 2 else { continue }
            let (a, b) = (busiest[0], busiest[1])
            var first: [Int] = []
            var second: [Int] = []
            var both = 0
            for attempt in attempts {
                let grades = attempt.grades[id] ?? []
                guard let ga = grades.first(where: { $0.grader == a }), let gb = grades.first(where: { $0.grader == b }) else {
                    continue
                }
                both += 1
                for criterion in rubric {
                    // Awards in hundredths of a point, so that half points are levels of their own.
                    first.append(Int(((ga.awards[criterion.id] ?? 0) * 100).rounded()))
                    second.append(Int(((gb.awards[criterion.id] ?? 0) * 100).rounded()))
                }
            }
            guard both > 0 else { continue }
            out.append(
                QuestionAgreement(
                    question: id, firstGrader: a, secondGrader: b, attempts: both,
                    kappa: (try? GraderAgreement.kappa(first, second)) ?? nil,
                    weightedKappa: (try? GraderAgreement.kappa(first, second, weighting: .linear)) ?? nil))
        }
        return out
    }

    /// The report answers of the analysed attempts, one document per (question, attempt), for the originality check:
    /// answers are compared within each question only.
    public static func reportDocuments(questions: [Int64: QuestionContent], attempts: [AnalysedAttempt]) -> [Int64: [OriginalityDocument]] {
        var out: [Int64: [OriginalityDocument]] = [:]
        for (id, content) in questions where content.kind == .report {
            let documents = attempts.compactMap { attempt -> OriginalityDocument? in
                guard let text = attempt.answers[id]?.text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                    return nil
                }
                return OriginalityDocument(id: String(attempt.attemptID), text: text)
            }
            if documents.count >= 2 { out[id] = documents }
        }
        return out
    }
}
