import Archive
import Foundation
import Platform

extension ProgrammeStore {
    // MARK: - Courses

    /// A new course; its cases must be published teaching cases (checked by the caller, which sees the library).
    public func createCourse(
        titleChinese: String, titleEnglish: String, summary: String, creditHours: Double, cases: [Int64], examID: Int64?,
        practiceRequired: Bool = false, videosRequired: Bool = false, published: Bool, institution: String = "", by person: String
    ) async throws(ProgrammeError) -> Course {
        var draft = Course(
            id: 0, titleChinese: titleChinese, titleEnglish: titleEnglish, summary: summary, creditHours: creditHours, cases: cases,
            examID: examID, practiceRequired: practiceRequired, published: published, createdBy: person, createdAt: Date())
        draft.videosRequired = videosRequired
        if let problem = draft.problem { throw problem }
        let now = Self.now()
        let rows = try await query(
            """
            INSERT INTO programme_courses (title_zh, title_en, summary, credit_hours, cases, exam_id, published, created_by, created_at,
                practice_required, videos_required, published_at, institution)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
            """,
            [
                .text(titleChinese), .text(titleEnglish), .text(summary), .text(String(creditHours)),
                .text(cases.map(String.init).joined(separator: ",")), examID.map { .integer($0) } ?? .null, .integer(published ? 1 : 0),
                .text(person), .integer(now), .integer(practiceRequired ? 1 : 0), .integer(videosRequired ? 1 : 0),
                published ? .integer(now) : .null, .text(institution),
            ])
        guard let id = rows.first?.first?.integer else { throw .database("no id for the new course") }
        return try await course(id)
    }

    public func course(_ id: Int64) async throws(ProgrammeError) -> Course {
        guard let row = try await query("SELECT \(Self.courseColumns) FROM programme_courses WHERE id = ?", [.integer(id)]).first else {
            throw .notFound("course \(id)")
        }
        var course = Self.course(row)
        course.modules = try await modules(course: id)
        return course
    }

    public func courses(publishedOnly: Bool) async throws(ProgrammeError) -> [Course] {
        var courses = try await query(
            "SELECT \(Self.courseColumns) FROM programme_courses\(publishedOnly ? " WHERE published = 1" : "") ORDER BY id", []
        ).map(Self.course)
        for index in courses.indices { courses[index].modules = try await modules(course: courses[index].id) }
        return courses
    }

    /// Publishes or withdraws a course; the first publication's time is kept for the indicators. A course is published
    /// only with something to do.
    public func setPublished(_ id: Int64, _ published: Bool) async throws(ProgrammeError) -> Course {
        var course = try await course(id)
        course.published = published
        if let problem = course.problem { throw problem }
        try await query(
            "UPDATE programme_courses SET published = ?, published_at = COALESCE(published_at, ?) WHERE id = ?",
            [.integer(published ? 1 : 0), published ? .integer(Self.now()) : .null, .integer(id)])
        return try await self.course(id)
    }

    static let courseColumns =
        "id, title_zh, title_en, summary, credit_hours, cases, exam_id, published, created_by, created_at, practice_required, "
        + "videos_required, published_at, institution"

    static func course(_ row: [SQLValue]) -> Course {
        var course = Course(
            id: row[0].integer ?? 0, titleChinese: row[1].text ?? "", titleEnglish: row[2].text ?? "", summary: row[3].text ?? "",
            creditHours: double(row[4]), cases: (row[5].text ?? "").split(separator: ",").compactMap { Int64($0) }, examID: row[6].integer,
            practiceRequired: row[10].integer == 1, published: row[7].integer == 1, createdBy: row[8].text ?? "",
            createdAt: Date(timeIntervalSince1970: TimeInterval(row[9].integer ?? 0)))
        course.videosRequired = row[11].integer == 1
        course.publishedAt = row[12].integer.map { Date(timeIntervalSince1970: TimeInterval($0)) }
        course.institution = row[13].text ?? ""
        return course
    }

    // MARK: - Enrolment and progress

    /// Enrols `person` (of `institution`) in a published course; enrolling twice returns the first enrolment.
    public func enrol(course id: Int64, person: String, institution: String, by actor: String) async throws(ProgrammeError) -> Enrolment {
        let course = try await course(id)
        guard course.published else { throw .notFound("course \(id)") }
        if let existing = try await enrolment(course: id, person: person) { return existing }
        do {
            try await query(
                "INSERT INTO programme_enrolments (course_id, person, institution, enrolled_by, enrolled_at) VALUES (?, ?, ?, ?, ?)",
                [.integer(id), .text(person), .text(institution), .text(actor), .integer(Self.now())])
        } catch {
            // Two enrolments at once: the other one won, which is the same outcome.
            if let existing = try await enrolment(course: id, person: person) { return existing }
            throw error
        }
        guard let enrolment = try await enrolment(course: id, person: person) else { throw .database("the enrolment vanished") }
        return enrolment
    }

    public func enrolment(course: Int64, person: String) async throws(ProgrammeError) -> Enrolment? {
        guard
            let row = try await query(
                "SELECT \(Self.enrolmentColumns) FROM programme_enrolments WHERE course_id = ? AND person = ?",
                [.integer(course), .text(person)]
            ).first
        else { return nil }
        return try await withStudied([Self.enrolment(row)]).first
    }

    public func enrolments(person: String) async throws(ProgrammeError) -> [Enrolment] {
        try await withStudied(
            query("SELECT \(Self.enrolmentColumns) FROM programme_enrolments WHERE person = ? ORDER BY course_id", [.text(person)])
                .map(Self.enrolment))
    }

    public func enrolments(course: Int64) async throws(ProgrammeError) -> [Enrolment] {
        try await withStudied(
            query("SELECT \(Self.enrolmentColumns) FROM programme_enrolments WHERE course_id = ? ORDER BY person", [.integer(course)])
                .map(Self.enrolment))
    }

    static let enrolmentColumns = "course_id, person, institution, enrolled_by, enrolled_at, completed_at, certificate"

    static func enrolment(_ row: [SQLValue]) -> Enrolment {
        Enrolment(
            course: row[0].integer ?? 0, person: row[1].text ?? "", institution: row[2].text ?? "", enrolledBy: row[3].text ?? "",
            enrolledAt: Date(timeIntervalSince1970: TimeInterval(row[4].integer ?? 0)),
            completedAt: row[5].integer.map { Date(timeIntervalSince1970: TimeInterval($0)) }, certificate: row[6].text)
    }

    func withStudied(_ enrolments: [Enrolment]) async throws(ProgrammeError) -> [Enrolment] {
        var result = enrolments
        for index in result.indices {
            result[index].studied = try await query(
                "SELECT case_id FROM programme_studied WHERE course_id = ? AND person = ? ORDER BY studied_at, case_id",
                [.integer(result[index].course), .text(result[index].person)]
            ).compactMap { $0[0].integer }
            result[index].watched = try await query(
                "SELECT module_id FROM programme_watched WHERE course_id = ? AND person = ? AND watched_at IS NOT NULL ORDER BY module_id",
                [.integer(result[index].course), .text(result[index].person)]
            ).compactMap { $0[0].integer }
        }
        return result
    }

    /// Whether `person` passed the course's exam: a finished attempt of theirs with every question scored and at least
    /// ``passShare`` of its maximum (the rule of the exam pass-rate indicator). False without an exam or a training store.
    public func examPassed(_ course: Course, person: String, at now: Date = Date()) async throws(ProgrammeError) -> Bool {
        guard let exam = course.examID, let training else { return false }
        do {
            for attempt in try await training.attempts(exam: exam, student: person) where attempt.finished(at: now) {
                let result = try await training.result(attempt: attempt.id, at: now)
                if result.complete && result.maximum > 0 && result.score >= Self.passShare * result.maximum { return true }
            }
        } catch {
            throw .database("the exam results of course \(course.id) are not readable: \(error)")
        }
        return false
    }

    /// The course's cases the learner wrote a practice report on (training's practice); empty when the course does not
    /// require practice or there is no training store.
    public func practisedCases(_ course: Course, person: String) async throws(ProgrammeError) -> [Int64] {
        guard course.practiceRequired, let training else { return [] }
        do {
            let cases = Set(course.cases)
            return Array(Set(try await training.practices(student: person, limit: 1000).map(\.caseID)).filter { cases.contains($0) })
                .sorted()
        } catch {
            throw .database("the practice reports of course \(course.id) are not readable: \(error)")
        }
    }

    /// The learner's progress with the exam and practice read from training.
    public func progress(_ course: Course, enrolment: Enrolment?, person: String) async throws(ProgrammeError)
        -> CourseCompletion.Progress
    {
        guard let enrolment else { return CourseCompletion.progress(course, studied: [], examPassed: false) }
        return CourseCompletion.progress(
            course, studied: enrolment.studied, examPassed: try await examPassed(course, person: person),
            practised: try await practisedCases(course, person: person), watched: enrolment.watched)
    }

    /// Completes the course for an enrolled learner whose steps are all done, the exam's result read from training;
    /// nil when not enrolled. Pages call it when the learner looks at the course: an exam passed since then completes it.
    public func checkCompletion(course: Course, person: String, personName: String) async throws(ProgrammeError) -> Enrolment? {
        guard try await enrolment(course: course.id, person: person) != nil else { return nil }
        return try await complete(
            course: course, person: person, personName: personName, examPassed: try await examPassed(course, person: person))
    }

    /// Records that the learner studied one of the course's cases, then completes the course if that was the last
    /// step: the completion and its certificate are written in one transaction, once. The exam counts as passed when
    /// `examPassed` says so or training's results show it.
    public func markStudied(
        course id: Int64, person: String, personName: String, caseID: Int64, examPassed: Bool = false
    ) async throws(ProgrammeError) -> Enrolment {
        let course = try await course(id)
        guard course.cases.contains(caseID) else { throw .invalidCourse("case \(caseID) is not part of course \(id)") }
        guard try await enrolment(course: id, person: person) != nil else { throw .notEnrolled("\(person) in course \(id)") }
        let insert =
            database is PostgresPlatformDatabase
            ? "INSERT INTO programme_studied (course_id, person, case_id, studied_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
            : "INSERT OR IGNORE INTO programme_studied (course_id, person, case_id, studied_at) VALUES (?, ?, ?, ?)"
        try await query(insert, [.integer(id), .text(person), .integer(caseID), .integer(Self.now())])
        let passed = examPassed ? true : try await self.examPassed(course, person: person)
        return try await complete(course: course, person: person, personName: personName, examPassed: passed)
    }

    /// Completes the course for the learner when the rules are met (and not already), issuing the certificate.
    public func complete(course: Course, person: String, personName: String, examPassed: Bool) async throws(ProgrammeError) -> Enrolment {
        guard let enrolment = try await enrolment(course: course.id, person: person) else {
            throw .notEnrolled("\(person) in course \(course.id)")
        }
        guard enrolment.completedAt == nil else { return enrolment }
        let practised = try await practisedCases(course, person: person)
        guard
            CourseCompletion.progress(
                course, studied: enrolment.studied, examPassed: examPassed, practised: practised, watched: enrolment.watched
            ).complete
        else { return enrolment }
        let code = CertificateCode.generate()
        let now = Self.now()
        let steps = [
            SQLStep(
                """
                UPDATE programme_enrolments SET completed_at = ?, certificate = ?
                WHERE course_id = ? AND person = ? AND completed_at IS NULL RETURNING person
                """,
                [.integer(now), .text(code), .integer(course.id), .text(person)], guarded: true),
            SQLStep(
                """
                INSERT INTO programme_certificates (code, course_id, title_zh, title_en, person, person_name, institution, credit_hours,
                    issued_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .text(code), .integer(course.id), .text(course.titleChinese), .text(course.titleEnglish), .text(person),
                    .text(personName), .text(enrolment.institution), .text(String(course.creditHours)), .integer(now),
                ]),
        ]
        do {
            // A concurrent completion wins the guarded update; this one then changes nothing.
            _ = try await database.transaction(guarded: steps)
        } catch {
            throw .database("\(error)")
        }
        return try await self.enrolment(course: course.id, person: person) ?? enrolment
    }

    // MARK: - Certificates

    public func certificate(_ code: String) async throws(ProgrammeError) -> Certificate? {
        guard let code = CertificateCode.normalized(code) else { return nil }
        guard
            let row = try await query(
                """
                SELECT code, course_id, title_zh, title_en, person, person_name, institution, credit_hours, issued_at, revoked_at,
                    revoked_by, revocation_reason
                FROM programme_certificates WHERE code = ?
                """, [.text(code)]
            ).first
        else { return nil }
        func date(_ value: SQLValue) -> Date? { value.integer.map { Date(timeIntervalSince1970: TimeInterval($0)) } }
        return Certificate(
            code: row[0].text ?? "", course: row[1].integer ?? 0, courseTitleChinese: row[2].text ?? "",
            courseTitleEnglish: row[3].text ?? "", person: row[4].text ?? "", personName: row[5].text ?? "",
            institution: row[6].text ?? "", creditHours: Self.double(row[7]), issuedAt: date(row[8]) ?? .distantPast,
            revokedAt: date(row[9]), revokedBy: row[10].text, revocationReason: row[11].text)
    }

    /// Revokes a certificate with a reason; a second revocation is a conflict. The completion still counts as a
    /// training person-time (the training happened); the certificate no longer verifies.
    public func revoke(_ code: String, reason: String, by person: String) async throws(ProgrammeError) -> Certificate {
        guard let existing = try await certificate(code) else { throw .notFound("certificate \(code)") }
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { throw .invalidCourse("a revocation needs its reason") }
        let rows = try await query(
            """
            UPDATE programme_certificates SET revoked_at = ?, revoked_by = ?, revocation_reason = ?
            WHERE code = ? AND revoked_at IS NULL RETURNING code
            """, [.integer(Self.now()), .text(person), .text(reason), .text(existing.code)])
        guard !rows.isEmpty else { throw .conflict("certificate \(existing.code), already revoked") }
        return try await certificate(existing.code) ?? existing
    }

    /// Course completions as training person-times, for the indicators.
    func completions() async throws(ProgrammeError) -> [ProgrammeFacts.TrainingActivity] {
        try await query("SELECT person, institution, completed_at FROM programme_enrolments WHERE completed_at IS NOT NULL", []).map {
            ProgrammeFacts.TrainingActivity(
                person: $0[0].text ?? "", institution: $0[1].text ?? "", kind: "course",
                completed: Date(timeIntervalSince1970: TimeInterval($0[2].integer ?? 0)))
        }
    }
}
