// libFuzzer entry point for what the training API decodes from people's files and bodies: the question bank's JSON
// (POST /api/training/questions/import), Moodle XML quiz files (the same route, Content-Type application/xml), an
// answer body (PUT /api/training/attempts/{id}/answers/{question}) scored against an imported question, and report text
// matched against key findings (practice). Compiled with Training's model, interchange, scoring and matching sources by
// scripts/fuzz. The first byte chooses the decoder; the rest is the input.
//
// From the outside: nothing crashes or traps; every question the JSON import accepts is exported and imported again
// equal; every question made from a Moodle file passes the bank's own check; a score is nil or within 0…points; each
// key finding gets exactly one outcome.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTrainingInterchange(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = Data(UnsafeBufferPointer(start: data + 1, count: size - 1))
    switch data[0] % 4 {
    case 0: bankJSON(bytes)
    case 1: moodle(bytes)
    case 2: answer(bytes)
    default: findings(bytes)
    }
    return 0
}

private func bankJSON(_ bytes: Data) {
    guard let questions = try? QuestionJSON.parse(bytes) else { return }
    let exported: Data
    do {
        exported = try QuestionJSON.export(questions, at: Date(timeIntervalSince1970: 0))
    } catch {
        preconditionFailure("questions the import accepted cannot be exported: \(error)")
    }
    guard let again = try? QuestionJSON.parse(exported) else {
        preconditionFailure("the export of accepted questions is refused: \(String(decoding: exported.prefix(400), as: UTF8.self))")
    }
    precondition(again == questions, "an export and import changed the questions")
    for question in questions.prefix(8) { checkScores(question, [Answer()]) }
}

private func moodle(_ bytes: Data) {
    guard let file = try? MoodleXML.parse(bytes) else { return }
    let (questions, _) = MoodleXML.bankQuestions(file)
    for question in questions {
        precondition(question.problem() == nil, "a question made from a Moodle file fails the bank's check: \(question.problem() ?? "")")
    }
}

/// A fixed question of each kind the bank imports, for scoring fuzzed answers against.
private let questions: [QuestionContent] = {
    let file = """
        {"format": "atrium-question-bank", "version": 1, "questions": [
         {"kind": "single-choice", "stem": "S", "choices": [{"id": "a", "text": "A", "correct": true},
          {"id": "b", "text": "B", "correct": false}], "difficulty": 2, "points": 2},
         {"kind": "multiple-choice", "stem": "M", "choices": [{"id": "a", "text": "A", "correct": true},
          {"id": "b", "text": "B", "correct": true}, {"id": "c", "text": "C", "correct": false}], "difficulty": 3, "points": 3}
        ]}
        """
    return (try? QuestionJSON.parse(Data(file.utf8))) ?? []
}()

private func answer(_ bytes: Data) {
    guard let answer = try? JSONDecoder().decode(Answer.self, from: bytes) else { return }
    precondition(!questions.isEmpty, "the fixed questions no longer import: update the fuzzer")
    for question in questions { checkScores(question, [answer]) }
}

private func checkScores(_ question: QuestionContent, _ answers: [Answer]) {
    for answer in answers {
        guard let score = Scoring.score(question, answer) else { continue }
        precondition(score.isFinite && score >= 0 && score <= question.points + 1e-9, "score \(score) outside 0…\(question.points)")
    }
}

private func findings(_ bytes: Data) {
    let text = String(decoding: bytes, as: UTF8.self)
    // The first line lists the findings' terms (| between findings, ; between a finding's synonyms); the rest is the report.
    let lines = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
    let terms = lines.first.map(String.init) ?? ""
    let report = lines.count > 1 ? String(lines[1]) : ""
    let keyFindings = terms.split(separator: "|").prefix(16).enumerated().map { n, synonyms in
        KeyFinding(id: "f\(n)", terms: synonyms.split(separator: ";").prefix(8).map(String.init))
    }
    let matched = FindingMatcher.match(report: report, findings: keyFindings)
    precondition(matched.count == keyFindings.count, "\(matched.count) outcomes for \(keyFindings.count) findings")
    _ = NormalizedText(report)
}
