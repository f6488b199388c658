import Foundation

/// The question bank's JSON interchange format (docs/api.md, "Question bank JSON"):
///
/// ```json
/// {"format": "atrium-question-bank", "version": 1, "exported": "2026-12-06T10:00:00Z",
///  "questions": [{"kind": "single-choice", "stem": "…", "caseID": 12, "choices": [{"id": "a", "text": "…", "correct": true}],
///                 "tags": ["chest"], "difficulty": 2, "points": 1}]}
/// ```
///
/// Each question is a ``QuestionContent``; ids of the bank are not carried (an import makes new questions), nor is the use
/// history. `caseID` refers to the teaching library of the server that exported it.
public enum QuestionJSON {
    public static let format = "atrium-question-bank"
    public static let version = 1

    struct File: Codable {
        var format: String
        var version: Int
        var exported: Date?
        var questions: [QuestionContent]
    }

    /// The file for `questions`.
    public static func export(_ questions: [QuestionContent], at now: Date = Date()) throws(TrainingError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        do {
            return try encoder.encode(File(format: format, version: version, exported: now, questions: questions))
        } catch {
            throw .invalid("cannot encode the question bank: \(error)")
        }
    }

    /// The questions of a file, each checked; the first problem (with the question's position) is an error.
    public static func parse(_ data: Data) throws(TrainingError) -> [QuestionContent] {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let file: File
        do {
            file = try decoder.decode(File.self, from: data)
        } catch DecodingError.keyNotFound(let key, let context) {
            throw .invalid("the question bank file lacks \(key.stringValue) at \(path(context.codingPath))")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            throw .invalid("the question bank file has a wrong value at \(path(context.codingPath)): \(context.debugDescription)")
        } catch DecodingError.dataCorrupted(let context) {
            throw .invalid("the question bank file is not readable at \(path(context.codingPath)): \(context.debugDescription)")
        } catch {
            throw .invalid("the question bank file is not JSON: \(error)")
        }
        guard file.format == format else { throw .invalid("the file's format is \(file.format), not \(format)") }
        guard file.version == version else { throw .invalid("version \(file.version) of the format is not known (only \(version))") }
        for (n, question) in file.questions.enumerated() {
            if let problem = question.problem() { throw .invalid("question \(n + 1): \(problem)") }
        }
        return file.questions
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "the top" : keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
}
