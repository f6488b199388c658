import Foundation

/// A continuing-education course (继续教育) for grassroots staff: teaching cases to study from the library, optionally an
/// exam of the training module to pass, and the credit hours a completion earns. Completion issues a certificate and
/// counts as one training person-time in the programme's indicators.
public struct Course: Sendable, Equatable, Codable {
    public var id: Int64
    public var titleChinese: String
    public var titleEnglish: String
    public var summary: String
    public var creditHours: Double
    /// The library's teaching cases a learner studies, in order.
    public var cases: [Int64]
    /// An exam of the training module the learner must pass, if any.
    public var examID: Int64?
    /// Each case also needs a practice report of the learner's (training's practice: findings and impression written
    /// and checked against the case's key findings).
    public var practiceRequired: Bool
    public var published: Bool
    public var createdBy: String
    public var createdAt: Date
    /// The modules (text, cases, links, courseware, videos) in order; loaded with the course.
    public var modules: [CourseModule] = []
    /// Each video module must be watched to its end (the "videos watched" rule).
    public var videosRequired = false
    /// When the course was first published (the "online courses published" indicator).
    public var publishedAt: Date?
    /// The institution of the teacher who created it.
    public var institution = ""

    /// The video modules, in order.
    public var videos: [Int64] { modules.filter { $0.kind == .video }.map(\.id) }

    public init(
        id: Int64, titleChinese: String, titleEnglish: String, summary: String, creditHours: Double, cases: [Int64], examID: Int64?,
        practiceRequired: Bool = false, published: Bool, createdBy: String, createdAt: Date
    ) {
        self.id = id
        self.titleChinese = titleChinese
        self.titleEnglish = titleEnglish
        self.summary = summary
        self.creditHours = creditHours
        self.cases = cases
        self.examID = examID
        self.practiceRequired = practiceRequired
        self.published = published
        self.createdBy = createdBy
        self.createdAt = createdAt
    }

    /// Why the course cannot be kept as given, or nil.
    public var problem: ProgrammeError? {
        if titleChinese.trimmingCharacters(in: .whitespaces).isEmpty || titleEnglish.trimmingCharacters(in: .whitespaces).isEmpty {
            return .invalidCourse("a course needs a title in Chinese and in English")
        }
        if !creditHours.isFinite || creditHours <= 0 || creditHours > 200 {
            return .invalidCourse("credit hours are more than 0 and at most 200")
        }
        // A draft may start empty and receive its modules one by one; a published course has something to do.
        if cases.isEmpty && examID == nil && modules.isEmpty && published {
            return .invalidCourse("a course needs cases to study, an exam to pass or modules")
        }
        if practiceRequired && cases.isEmpty { return .invalidCourse("practice is required on the course's cases, and it has none") }
        if Set(cases).count != cases.count { return .invalidCourse("a case is listed twice") }
        return nil
    }
}

/// One learner's enrolment in a course and how far they are.
public struct Enrolment: Sendable, Equatable, Codable {
    public var course: Int64
    public var person: String
    public var institution: String
    public var enrolledBy: String
    public var enrolledAt: Date
    public var studied: [Int64]
    /// The video modules watched to their end.
    public var watched: [Int64] = []
    public var completedAt: Date?
    public var certificate: String?

    public init(
        course: Int64, person: String, institution: String, enrolledBy: String, enrolledAt: Date, studied: [Int64] = [],
        completedAt: Date? = nil, certificate: String? = nil
    ) {
        self.course = course
        self.person = person
        self.institution = institution
        self.enrolledBy = enrolledBy
        self.enrolledAt = enrolledAt
        self.studied = studied
        self.completedAt = completedAt
        self.certificate = certificate
    }
}

/// The completion rules: every listed case studied (and practised, when the course asks for it), and the exam passed
/// when the course has one.
public enum CourseCompletion {
    public struct Progress: Sendable, Equatable {
        public var studied: Int
        public var required: Int
        /// Cases with a practice report of the learner's (counted only when the course requires practice).
        public var practised: Int
        public var practiceRequired: Bool
        public var examRequired: Bool
        public var examPassed: Bool
        public var complete: Bool
        /// 0…1: the share of the steps done (each case one step, the exam one).
        public var fraction: Double
        /// Videos watched to their end (counted only when the course requires it) and how many there are.
        public var watched: Int = 0
        public var videos: Int = 0
    }

    /// Each case is a step, each case's practice another when required, the exam one, each video one when the course
    /// requires videos watched.
    public static func progress(
        _ course: Course, studied: [Int64], examPassed: Bool, practised: [Int64] = [], watched: [Int64] = []
    ) -> Progress {
        let done = Set(studied).intersection(course.cases).count
        let practisedCount = course.practiceRequired ? Set(practised).intersection(course.cases).count : 0
        let examRequired = course.examID != nil
        let videos = course.videosRequired ? course.videos : []
        let watchedCount = Set(watched).intersection(videos).count
        let steps = course.cases.count * (course.practiceRequired ? 2 : 1) + (examRequired ? 1 : 0) + videos.count
        let finished = done + practisedCount + (examRequired && examPassed ? 1 : 0) + watchedCount
        return Progress(
            studied: done, required: course.cases.count, practised: practisedCount, practiceRequired: course.practiceRequired,
            examRequired: examRequired, examPassed: examPassed,
            complete: finished == steps && steps > 0, fraction: steps == 0 ? 0 : Double(finished) / Double(steps),
            watched: watchedCount, videos: videos.count)
    }
}

/// A certificate of completion, verifiable by its code on a public page; revocable with a reason.
public struct Certificate: Sendable, Equatable, Codable {
    public var code: String
    public var course: Int64
    public var courseTitleChinese: String
    public var courseTitleEnglish: String
    public var person: String
    public var personName: String
    public var institution: String
    public var creditHours: Double
    public var issuedAt: Date
    public var revokedAt: Date?
    public var revokedBy: String?
    public var revocationReason: String?

    public var valid: Bool { revokedAt == nil }
}

/// Certificate codes: 12 characters from an alphabet without look-alikes (no 0/O, 1/I/L), in groups of four, the last
/// a check character (a mod-31 weighted sum), so a mistyped code is told apart from a revoked or unknown one.
public enum CertificateCode {
    static let alphabet = Array("23456789ABCDEFGHJKMNPQRSTUVWXYZ")

    public static func generate<G: RandomNumberGenerator>(using generator: inout G) -> String {
        let body = (0..<11).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
        return format(body + [check(body)])
    }

    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return generate(using: &generator)
    }

    /// The code in its canonical form (upper case, grouped), or nil when it is not a well-formed code.
    public static func normalized(_ text: String) -> String? {
        let characters = Array(text.uppercased().filter { $0 != "-" && $0 != " " })
        guard characters.count == 12, characters.allSatisfy(alphabet.contains) else { return nil }
        guard check(Array(characters.prefix(11))) == characters[11] else { return nil }
        return format(characters)
    }

    static func check(_ body: [Character]) -> Character {
        var sum = 0
        for (index, character) in body.enumerated() {
            sum += (index + 1) * (alphabet.firstIndex(of: character) ?? 0)
        }
        return alphabet[sum % alphabet.count]
    }

    static func format(_ characters: [Character]) -> String {
        stride(from: 0, to: characters.count, by: 4).map { String(characters[$0..<min($0 + 4, characters.count)]) }.joined(separator: "-")
    }
}
