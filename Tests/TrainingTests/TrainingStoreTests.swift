import Archive
import AtriumTesting
import Foundation
import Testing

@testable import Platform
@testable import Training

@Suite("Training store")
struct TrainingStoreTests {
    @Test("The SQLite training store passes the shared suite")
    func sqlite() async throws {
        let directory = try Corpus.temporaryDirectory("atrium-training")
        let archive = try Archive.open(directory: directory)
        let store = TrainingStore(identity: try IdentityStore.make(archive: archive, directory: directory))
        try await store.prepare()
        try await TrainingSuite.run(store)
        try await SupervisionSuite.run(store)
        try await AssignmentSuite.run(store)
    }

    @Test("The PostgreSQL training store passes the shared suite")
    func postgres() async throws {
        let server = try await PostgresServer.start()
        defer { server.stop() }
        let url = try await server.createDatabase("atrium_training")
        let directory = try Corpus.temporaryDirectory("atrium-training-pg")
        let archive = try Archive.open(directory: directory, database: url)
        let identity = try IdentityStore.make(archive: archive, directory: directory)
        try await identity.prepare()
        let store = TrainingStore(identity: identity)
        try await store.prepare()
        try await TrainingSuite.run(store)
        try await SupervisionSuite.run(store)
        try await AssignmentSuite.run(store)
    }
}

/// Training's behaviour on any back end. Expected scores are worked out by hand in the comments, not by Atrium.
enum TrainingSuite {
    static let image = QuestionImage(studyInstanceUID: "1.2.3", seriesInstanceUID: "1.2.3.4")

    /// One question of every kind (points 2 each unless said), tagged "chest" or "neuro", difficulties 1–3.
    static let bank: [QuestionContent] = [
        QuestionContent(
            kind: .singleChoice, stem: "最可能的诊断？ Most likely diagnosis?", caseID: 1,
            choices: [
                Choice(id: "a", text: "肺癌", correct: true), Choice(id: "b", text: "肺炎", correct: false, feedback: "no air bronchogram"),
            ],
            tags: ["chest"], difficulty: 1, points: 2),
        QuestionContent(
            kind: .multipleChoice, stem: "Signs of malignancy", caseID: 1,
            choices: [
                Choice(id: "a", text: "spiculation", correct: true), Choice(id: "b", text: "pleural retraction", correct: true),
                Choice(id: "c", text: "calcification", correct: false),
            ], tags: ["chest"], difficulty: 2, points: 2),
        QuestionContent(
            kind: .hotspot, stem: "Click the mass", caseID: 1, images: [image],
            region: HotspotRegion(shape: .ellipse, x: 100, y: 100, width: 40, height: 20, firstSlice: 10, lastSlice: 12),
            tags: ["chest"], difficulty: 3, points: 2),
        QuestionContent(
            kind: .report, stem: "Write the report", caseID: 1,
            rubric: [
                RubricCriterion(id: "finding", text: "names the mass", points: 3),
                RubricCriterion(id: "impression", text: "suggests cancer", points: 1),
            ],
            tags: ["chest"], difficulty: 3, points: 4),
        QuestionContent(
            kind: .imageQuality, stem: "Rate the chest film", caseID: 2,
            criteria: [
                QualityCriterion(id: "positioning", name: "体位", reference: 4), QualityCriterion(id: "exposure", name: "曝光", reference: 3),
                QualityCriterion(id: "markers", name: "标记", reference: 5),
            ], tags: ["chest"], difficulty: 2, points: 3),
        QuestionContent(
            kind: .matching, stem: "Match sign and disease",
            pairs: [
                MatchPair(id: "p1", left: "air bronchogram", right: "pneumonia"), MatchPair(id: "p2", left: "spiculation", right: "cancer"),
            ], tags: ["chest"], difficulty: 1, points: 2),
        QuestionContent(
            kind: .ordering, stem: "Order the stroke imaging steps",
            items: [OrderItem(id: "ct", text: "plain CT"), OrderItem(id: "cta", text: "CTA"), OrderItem(id: "mr", text: "DWI")],
            tags: ["neuro"], difficulty: 2, points: 3),
    ]

    static func run(_ store: TrainingStore) async throws {
        let ids = try await questionBank(store)
        try await interchange(store)
        try await examPath(store, ids: ids)
        try await drawnForms(store)
        try await concurrentAnswers(store, ids: ids)
    }

    static func questionBank(_ store: TrainingStore) async throws -> [Int64] {
        let ids = try await store.createQuestions(bank, by: "teacher.sun")
        #expect(ids.count == 7)
        let chest = try await store.questions(tag: "chest")
        #expect(Set(chest.map(\.id)) == Set(ids.prefix(6)))
        #expect(try await store.questions(caseID: 1).count == 4)
        // A question without its right choice is refused, and nothing of the batch is added.
        var broken = bank[0]
        broken.choices[0].correct = false
        await #expect(throws: TrainingError.self) { try await store.createQuestions([bank[1], broken], by: "teacher.sun") }
        #expect(try await store.questions().count == 7)
        // Edits need the revision read; a stale one is a conflict.
        let first = try await store.question(ids[0])
        var edited = first.content
        edited.stem = "Most likely diagnosis? (edited)"
        edited.tags = ["chest", "oncology"]
        let saved = try await store.updateQuestion(ids[0], content: edited, revision: first.revision)
        #expect(saved.content.stem == edited.stem && saved.revision == first.revision + 1)
        #expect(try await store.questions(tag: "oncology").map(\.id) == [ids[0]])
        await #expect(throws: TrainingError.conflict("question \(ids[0])")) {
            try await store.updateQuestion(ids[0], content: edited, revision: first.revision)
        }
        // Back to the original content, for the scores below.
        _ = try await store.updateQuestion(ids[0], content: bank[0], revision: saved.revision)
        return ids
    }

    static func interchange(_ store: TrainingStore) async throws {
        let all = try await store.questions().sorted { $0.id < $1.id }.map(\.content)
        let data = try QuestionJSON.export(all)
        // The file is plain JSON another program reads: the format name, and every question's kind in order.
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["format"] as? String == "atrium-question-bank" && object["version"] as? Int == 1)
        let kinds = (object["questions"] as? [[String: Any]])?.compactMap { $0["kind"] as? String }
        #expect(kinds == ["single-choice", "multiple-choice", "hotspot", "report", "image-quality", "matching", "ordering"])
        #expect(try QuestionJSON.parse(data) == all)
        // A minimal hand-written file: only kind and stem and what the kind needs.
        let minimal = Data(
            #"{"format":"atrium-question-bank","version":1,"questions":[{"kind":"ordering","stem":"排序","items":[{"id":"1","text":"一"},{"id":"2","text":"二"}]}]}"#
                .utf8)
        let parsed = try QuestionJSON.parse(minimal)
        #expect(parsed.count == 1 && parsed[0].difficulty == 3 && parsed[0].points == 1 && parsed[0].tags.isEmpty)
        for (bad, needle) in [
            (#"{"format":"moodle","version":1,"questions":[]}"#, "format"),
            (#"{"format":"atrium-question-bank","version":2,"questions":[]}"#, "version"),
            (
                #"{"format":"atrium-question-bank","version":1,"questions":[{"kind":"hotspot","stem":"x"}]}"#,
                "question 1: a hotspot question needs a region"
            ),
            (#"{"format":"atrium-question-bank","version":1,"questions":[{"stem":"x"}]}"#, "kind"),
        ] {
            #expect(throws: TrainingError.self) { try QuestionJSON.parse(Data(bad.utf8)) }
            do {
                _ = try QuestionJSON.parse(Data(bad.utf8))
            } catch {
                #expect(error.description.contains(needle), "\(error)")
            }
        }
    }

    static func examPath(_ store: TrainingStore, ids: [Int64]) async throws {
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let settings = ExamSettings(
            title: "胸部影像 Chest imaging", forms: [Array(ids.prefix(6))], timeLimitSeconds: 600, opensAt: t0.addingTimeInterval(-60),
            closesAt: t0.addingTimeInterval(3600), students: ["stu.a", "stu.b"])
        let exam = try await store.createExam(settings, by: "teacher.sun", at: t0.addingTimeInterval(-120))
        #expect(exam.settings == settings && !exam.released)
        #expect(try await store.usage(ids[0]).exams.map(\.exam) == [exam.id])
        // Not before it opens, not for someone else.
        await #expect(throws: TrainingError.self) { try await store.start(exam: exam.id, student: "stu.a", at: t0.addingTimeInterval(-90)) }
        await #expect(throws: TrainingError.self) { try await store.start(exam: exam.id, student: "stu.z", at: t0) }
        let a = try await store.start(exam: exam.id, student: "stu.a", at: t0)
        #expect(a.deadline == t0.addingTimeInterval(600))
        #expect(Set(a.order) == Set(ids.prefix(6)) && a.order.count == 6)
        // Starting again resumes the same attempt, with the same order.
        #expect(try await store.start(exam: exam.id, student: "stu.a", at: t0.addingTimeInterval(30)) == a)
        let b = try await store.start(exam: exam.id, student: "stu.b", at: t0.addingTimeInterval(5))
        #expect(b.id != a.id)

        // stu.a: right single choice (2), multiple choice a+c (2 × (1−1)/2 = 0), hotspot inside on slice 11 after a miss
        // (2), image quality 2 of 3 matching (3 × 2/3 = 2), matching both right (2); report graded below.
        let (single, multiple, hotspot, report, quality, matching) = (ids[0], ids[1], ids[2], ids[3], ids[4], ids[5])
        var t = t0.addingTimeInterval(60)
        func save(_ attempt: Attempt, _ q: Int64, _ answer: Answer, _ seq: Int64) async throws -> TrainingStore.SaveOutcome {
            t = t.addingTimeInterval(1)
            return try await store.saveAnswer(
                attempt: attempt.id, question: q, student: attempt.student, answer: answer, sequence: seq, at: t)
        }
        _ = try await save(a, single, Answer(choices: ["b"]), 1)
        #expect(try await save(a, single, Answer(choices: ["a"]), 2).stored)
        // A late copy of the first write does not undo the second; the same write twice is stored once.
        let stale = try await save(a, single, Answer(choices: ["b"]), 1)
        #expect(!stale.stored && stale.sequence == 2)
        #expect(try await save(a, single, Answer(choices: ["a"]), 2).stored)
        _ = try await save(a, multiple, Answer(choices: ["a", "c"]), 3)
        _ = try await save(a, hotspot, Answer(click: .init(slice: 9, x: 120, y: 110)), 4)
        _ = try await save(a, hotspot, Answer(click: .init(slice: 11, x: 138, y: 110)), 5)
        _ = try await save(a, report, Answer(text: "右肺下叶分叶状肿块，考虑肺癌。"), 6)
        _ = try await save(a, quality, Answer(ratings: ["positioning": 4, "exposure": 2, "markers": 5]), 7)
        _ = try await save(a, matching, Answer(matches: ["p1": "pneumonia", "p2": "cancer"]), 8)
        #expect(
            try await store.clicks(attempt: a.id, question: hotspot) == [.init(slice: 9, x: 120, y: 110), .init(slice: 11, x: 138, y: 110)])
        let saved = try await store.answers(attempt: a.id)
        #expect(saved.count == 6)
        #expect(saved.first { $0.questionID == single }?.answer == Answer(choices: ["a"]))
        // Someone else cannot write into a's attempt; a question outside it is not found.
        await #expect(throws: TrainingError.notFound("attempt \(a.id)")) {
            try await store.saveAnswer(
                attempt: a.id, question: single, student: "stu.b", answer: Answer(choices: ["b"]), sequence: 99, at: t)
        }
        await #expect(throws: TrainingError.self) {
            try await store.saveAnswer(attempt: a.id, question: ids[6], student: "stu.a", answer: Answer(order: []), sequence: 99, at: t)
        }
        // The proctor sees both attempts, a with six answers.
        let progress = try await store.progress(exam: exam.id)
        #expect(progress.map(\.student) == ["stu.a", "stu.b"])
        #expect(progress[0].answered == 6 && progress[0].questions == 6 && !progress[0].submitted)
        let submitted = try await store.submit(attempt: a.id, student: "stu.a", at: t.addingTimeInterval(1))
        #expect(submitted.submittedAt != nil)
        // The indicators' record of the attempt, kept between calls, agrees with the attempt's own result at every change.
        func indicatorAgrees(_ when: String) async throws {
            let record = try #require(try await store.indicatorRecords().first { $0.exam == exam.id && $0.student == "stu.a" }, "\(when)")
            let direct = try await store.result(attempt: a.id, at: t0.addingTimeInterval(700))
            #expect(record.score == direct.score && record.maximum == direct.maximum && record.complete == direct.complete, "\(when)")
        }
        try await indicatorAgrees("submitted, the report ungraded")
        #expect(try await store.indicatorRecords().first { $0.student == "stu.a" }?.complete == false)
        await #expect(throws: TrainingError.closed("attempt \(a.id) is submitted")) {
            try await save(a, single, Answer(choices: ["b"]), 20)
        }
        // One attempt only.
        await #expect(throws: TrainingError.self) { try await store.start(exam: exam.id, student: "stu.a", at: t.addingTimeInterval(5)) }

        // stu.b answers one question and the clock runs out: the server refuses what comes after the deadline.
        _ = try await store.saveAnswer(
            attempt: b.id, question: single, student: "stu.b", answer: Answer(choices: ["b"]), sequence: 1, at: t0.addingTimeInterval(604))
        await #expect(throws: TrainingError.closed("the time of attempt \(b.id) is over")) {
            try await store.saveAnswer(
                attempt: b.id, question: multiple, student: "stu.b", answer: Answer(choices: ["a", "b"]), sequence: 2,
                at: t0.addingTimeInterval(605))
        }
        #expect(try await store.attempt(b.id).finished(at: t0.addingTimeInterval(605)))

        // Grading: the report by two graders, 3+1 and 2+0 of 4 → mean 3 of 4 → 4 × 3/4 = 3.
        let late = t0.addingTimeInterval(700)
        await #expect(throws: TrainingError.self) {
            try await store.grade(attempt: a.id, question: report, grader: "teacher.sun", awards: ["finding": 5], comment: "", at: late)
        }
        try await store.grade(
            attempt: a.id, question: report, grader: "teacher.sun", awards: ["finding": 3, "impression": 1], comment: "好", at: late)
        try await store.grade(attempt: a.id, question: report, grader: "teacher.li", awards: ["finding": 2], comment: "", at: late)
        var result = try await store.result(attempt: a.id, at: late)
        // 2 + 0 + 2 + 3 + 2 + 2 = 11 of 2 + 2 + 2 + 4 + 3 + 2 = 15.
        #expect(result.maximum == 15 && result.score == 11 && result.complete)
        try await indicatorAgrees("graded")
        #expect(try await store.indicatorRecords().first { $0.student == "stu.a" }.map { $0.score == 11 && $0.complete } == true)
        #expect(result.items.first { $0.questionID == report }?.score == 3)
        // stu.b: the wrong single choice only, the report ungraded.
        let resultB = try await store.result(attempt: b.id, at: late)
        #expect(resultB.score == 0 && !resultB.complete)
        // A regrade of the multiple choice to 1 point, with its reason; the score before is returned for the audit trail.
        let before = try await store.regrade(
            attempt: a.id, question: multiple, points: 1, reason: "c accepted", by: "teacher.sun", at: late)
        #expect(before == 0)
        await #expect(throws: TrainingError.self) {
            try await store.regrade(attempt: a.id, question: multiple, points: 3, reason: "too much", by: "teacher.sun", at: late)
        }
        result = try await store.result(attempt: a.id, at: late)
        #expect(result.score == 12)
        try await indicatorAgrees("regraded")
        #expect(try await store.indicatorRecords().first { $0.student == "stu.a" }?.score == 12)
        #expect(result.items.first { $0.questionID == multiple }.map { $0.overridden && $0.computed == 0 } == true)
        try await store.setFeedback(attempt: a.id, "Good work on the mass.")
        let released = try await store.release(exam.id, at: late)
        #expect(released.released)
        #expect(try await store.attempt(a.id).feedback == "Good work on the mass.")
        #expect(try await store.usage(single).answers == 2)
        // A question edited after the exam (its key changed): the kept score follows.
        let question = try #require(try await store.questions(ids: [single])[single])
        var content = question.content
        content.points = question.content.points + 5
        _ = try await store.updateQuestion(single, content: content, revision: question.revision, at: late)
        try await indicatorAgrees("a question edited")
        #expect(try await store.indicatorRecords().first { $0.student == "stu.a" }?.maximum == 20)
    }

    static func drawnForms(_ store: TrainingStore) async throws {
        // Two more chest questions of difficulty 1 so that two forms can each take two without sharing.
        let extra = try await store.createQuestions(
            [bank[0], bank[5]].map { q in
                var q = q
                q.stem += " (variant)"
                return q
            }, by: "teacher.sun")
        let all = try await store.questions()
        let exam = try await store.createDrawnExam(
            ExamSettings(title: "Drawn", forms: []), rules: [.init(tag: "chest", difficulty: 1, count: 2), .init(tag: "neuro", count: 1)],
            forms: 2, seed: 7, by: "teacher.sun")
        #expect(exam.settings.forms.count == 2)
        let byID = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0.content) })
        for form in exam.settings.forms {
            #expect(form.count == 3 && Set(form).count == 3)
            #expect(form.prefix(2).allSatisfy { byID[$0]?.tags.contains("chest") == true && byID[$0]?.difficulty == 1 })
            #expect(byID[form[2]]?.tags.contains("neuro") == true)
        }
        // Four chest questions of difficulty 1 exist: the two forms share none of them.
        #expect(Set(exam.settings.forms[0].prefix(2)).isDisjoint(with: exam.settings.forms[1].prefix(2)))
        #expect(extra.count == 2)
        await #expect(throws: TrainingError.self) {
            try await store.createDrawnExam(
                ExamSettings(title: "Too many", forms: []), rules: [.init(tag: "neuro", count: 2)], forms: 1, seed: 1, by: "t")
        }
    }

    /// Many students answering at once: every acknowledged answer is there.
    static func concurrentAnswers(_ store: TrainingStore, ids: [Int64]) async throws {
        let now = Date()
        let exam = try await store.createExam(
            ExamSettings(title: "Load", forms: [Array(ids.prefix(2))], timeLimitSeconds: 3600), by: "teacher.sun", at: now)
        let students = (0..<40).map { "load.\($0)" }
        var attempts: [Attempt] = []
        for student in students { attempts.append(try await store.start(exam: exam.id, student: student, at: now)) }
        let acknowledged = try await withThrowingTaskGroup(of: Int.self) { group in
            for attempt in attempts {
                group.addTask {
                    var count = 0
                    for (n, q) in attempt.order.enumerated() {
                        _ = try await store.saveAnswer(
                            attempt: attempt.id, question: q, student: attempt.student, answer: Answer(choices: ["a"]),
                            sequence: Int64(n + 1))
                        count += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(acknowledged == 80)
        var stored = 0
        for attempt in attempts { stored += try await store.answers(attempt: attempt.id).count }
        #expect(stored == 80)
    }
}
