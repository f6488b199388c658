import Foundation

extension TrainingStore {
    /// What the exam's analysis reads: its questions and every student's earliest finished attempt with its scores,
    /// answers and rubric grades.
    public func analysisInputs(exam id: Int64, now: Date = Date()) async throws(TrainingError) -> (
        exam: Exam, questions: [Int64: QuestionContent], attempts: [AnalysedAttempt]
    ) {
        let exam = try await exam(id)
        let ids = Array(Set(exam.settings.forms.flatMap { $0 }))
        let questions = try await questions(ids: ids).mapValues(\.content)
        var analysed: [AnalysedAttempt] = []
        for attempt in ExamAnalysis.firstAttempts(try await attempts(exam: id), now: now) {
            var answers: [Int64: Answer] = [:]
            for saved in try await self.answers(attempt: attempt.id) { answers[saved.questionID] = saved.answer }
            var grades: [Int64: [RubricGrade]] = [:]
            for grade in try await self.grades(attempt: attempt.id) { grades[grade.questionID, default: []].append(grade) }
            var overrides: [Int64: Double] = [:]
            for o in try await self.overrides(attempt: attempt.id) { overrides[o.questionID] = o.points }
            let result = AttemptResult.compute(
                order: attempt.order, questions: questions, answers: answers, grades: grades.mapValues { $0.map(\.awards) },
                overrides: overrides)
            analysed.append(
                AnalysedAttempt(
                    attemptID: attempt.id, student: attempt.student, form: attempt.form, result: result, answers: answers,
                    grades: grades))
        }
        return (exam, questions, analysed)
    }
}
