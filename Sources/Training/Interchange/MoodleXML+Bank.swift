/// Moodle's choice questions as questions of the bank.
extension MoodleXML {
    /// The bank's questions for the file's choice questions, and the file's questions that cannot be taken (those the
    /// reader skipped, and those the bank refuses, each with its reason).
    ///
    /// A Moodle answer with a positive fraction is a right choice; the bank scores a multiple-answer question by its
    /// own rule (right choices minus wrong ones, over the right ones), not by Moodle's fractions, which the import says
    /// nothing about. Moodle's question name and category become tags, so that imported questions can be found together.
    public static func bankQuestions(_ file: MoodleImport) -> (questions: [QuestionContent], skipped: [MoodleSkippedQuestion]) {
        var questions: [QuestionContent] = []
        var skipped = file.skipped
        for question in file.questions {
            let letters = Array("abcdefghijklmnopqrstuvwxyz")
            guard question.choices.count <= letters.count else {
                skipped.append(
                    MoodleSkippedQuestion(
                        position: question.position, type: question.type, name: question.name,
                        reason: "more than \(letters.count) answers"))
                continue
            }
            let choices = question.choices.enumerated().map { n, choice in
                Choice(id: String(letters[n]), text: choice.text, correct: choice.fraction > 0, feedback: choice.feedback)
            }
            var tags = question.tags
            if let category = question.category, !category.isEmpty, !tags.contains(category) { tags.append(category) }
            let content = QuestionContent(
                kind: question.single ? .singleChoice : .multipleChoice, stem: question.text, choices: choices, tags: tags,
                points: question.defaultGrade > 0 ? question.defaultGrade : 1, feedback: question.generalFeedback)
            if let problem = content.problem() {
                skipped.append(
                    MoodleSkippedQuestion(position: question.position, type: question.type, name: question.name, reason: problem))
            } else {
                questions.append(content)
            }
        }
        return (questions, skipped.sorted { $0.position < $1.position })
    }
}
