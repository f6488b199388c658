import Foundation

/// The raw records indicators are computed from, as the stores of each domain give them. Nothing here is a figure
/// someone typed in: a figure is always a function of these.
public struct ProgrammeFacts: Sendable, Equatable {
    public var consultations: [Consultation]
    public var cases: [TeachingCase]
    public var training: [TrainingActivity]
    public var exams: [ExamAttempt]
    /// Figures typed in with their evidence, for indicators Atrium cannot derive.
    public var figures: [Figure]
    /// Health-management services: examinations, assessments and follow-up visits of residents.
    public var healthServices: [HealthService] = []
    /// Uses of the library: case pages opened by signed-in people, practice reports written.
    public var libraryUse: [LibraryUse] = []
    /// Continuing-education courses first published.
    public var coursePublications: [CoursePublication] = []
    /// Trainees' countersigned placements at partner institutions.
    public var placements: [Placement] = []
    /// Recorded teaching by people of partner institutions (not of a college): the part-time teachers.
    public var teachingActs: [TeachingAct] = []
    /// Inspections recorded of institutions (their courses, placements and projects).
    public var inspections: [Inspection] = []

    public init(
        consultations: [Consultation] = [], cases: [TeachingCase] = [], training: [TrainingActivity] = [], exams: [ExamAttempt] = [],
        figures: [Figure] = []
    ) {
        self.consultations = consultations
        self.cases = cases
        self.training = training
        self.exams = exams
        self.figures = figures
    }

    /// A figure someone entered for a named indicator (an award, a publication count), with its evidence and who
    /// entered it. Figures of one indicator add up over a period.
    public struct Figure: Sendable, Equatable, Codable {
        public var id: Int64
        public var indicator: String
        public var institution: String
        public var date: Date
        public var value: Double
        public var evidence: String
        public var enteredBy: String
        public var enteredAt: Date

        public init(
            id: Int64, indicator: String, institution: String, date: Date, value: Double, evidence: String, enteredBy: String,
            enteredAt: Date
        ) {
            self.id = id
            self.indicator = indicator
            self.institution = institution
            self.date = date
            self.value = value
            self.evidence = evidence
            self.enteredBy = enteredBy
            self.enteredAt = enteredAt
        }
    }

    /// One consultation request: the requesting site, when it arrived, its deadline and its final report if any.
    public struct Consultation: Sendable, Equatable {
        public var site: String
        public var priority: String
        public var modality: String
        public var received: Date
        public var deadline: Date
        public var final: Date?
        /// The service line of the request: `imaging`, `pathology` or `laboratory`.
        public var serviceLine: String
        /// The Study Instance UIDs the site sent with the request.
        public var studies: [String]

        public init(
            site: String, priority: String, modality: String, received: Date, deadline: Date, final: Date?, serviceLine: String = "imaging",
            studies: [String] = []
        ) {
            self.serviceLine = serviceLine
            self.studies = studies
            self.site = site
            self.priority = priority
            self.modality = modality
            self.received = received
            self.deadline = deadline
            self.final = final
        }

        /// The final report came after the deadline, or has not come and the deadline has passed by `now`.
        public func breached(now: Date) -> Bool { final.map { $0 > deadline } ?? (now > deadline) }
    }

    /// One teaching case: its contributing institution, when it was created and first published, if ever.
    public struct TeachingCase: Sendable, Equatable {
        public var institution: String
        public var modality: String
        public var created: Date
        public var published: Date?
        public var retired: Bool

        public init(institution: String, modality: String, created: Date, published: Date?, retired: Bool = false) {
            self.institution = institution
            self.modality = modality
            self.created = created
            self.published = published
            self.retired = retired
        }
    }

    /// One person-time of training: a person of an institution completed an activity on a day.
    public struct TrainingActivity: Sendable, Equatable {
        public var person: String
        public var institution: String
        public var kind: String
        public var completed: Date

        public init(person: String, institution: String, kind: String, completed: Date) {
            self.person = person
            self.institution = institution
            self.kind = kind
            self.completed = completed
        }
    }

    /// One health-management service person-time: an examination, a risk assessment or a follow-up visit of a resident
    /// served by an institution, on a day.
    public struct HealthService: Sendable, Equatable {
        public var institution: String
        public var kind: String
        public var date: Date

        public init(institution: String, kind: String, date: Date) {
            self.institution = institution
            self.kind = kind
            self.date = date
        }
    }

    /// One use of the teaching library by a person of an institution on a day: a case page opened (`view`) or a
    /// practice report written on a case (`practice`).
    public struct LibraryUse: Sendable, Equatable {
        public enum Kind: String, Sendable { case view, practice }
        public var kind: Kind
        public var person: String
        public var institution: String
        public var caseID: Int64
        public var date: Date

        public init(kind: Kind, person: String, institution: String, caseID: Int64, date: Date) {
            self.kind = kind
            self.person = person
            self.institution = institution
            self.caseID = caseID
            self.date = date
        }
    }

    /// A course first published on a day, by a teacher of an institution.
    public struct CoursePublication: Sendable, Equatable {
        public var institution: String
        public var published: Date

        public init(institution: String, published: Date) {
            self.institution = institution
            self.published = published
        }
    }

    /// One attempt at an exam, with whether it passed and whether it was the person's first at that exam.
    public struct ExamAttempt: Sendable, Equatable {
        public var person: String
        public var institution: String
        public var exam: String
        public var submitted: Date
        public var passed: Bool
        public var first: Bool

        public init(person: String, institution: String, exam: String, submitted: Date, passed: Bool, first: Bool) {
            self.person = person
            self.institution = institution
            self.exam = exam
            self.submitted = submitted
            self.passed = passed
            self.first = first
        }
    }

    /// A trainee's placement at a partner institution, countersigned by the practice supervisor: from the start of its
    /// first day to the start of its last day (alliance calendar days). It overlaps a period when its first day starts
    /// before the period ends and its last day starts at or after the period's start.
    public struct Placement: Sendable, Equatable {
        public var trainee: String
        public var partner: String
        public var first: Date
        public var last: Date

        public init(trainee: String, partner: String, first: Date, last: Date) {
            self.trainee = trainee
            self.partner = partner
            self.first = first
            self.last = last
        }
    }

    /// Teaching recorded of a person of a partner institution: a logbook entry countersigned or returned, a competency
    /// signed off, an exam answer graded with a rubric, a practice report commented (a moment each: `first` == `last`),
    /// or supervising a trainee's placement as the named practice supervisor (the placement's days).
    public struct TeachingAct: Sendable, Equatable {
        public var person: String
        public var institution: String
        public var kind: String
        public var first: Date
        public var last: Date

        public init(person: String, institution: String, kind: String, first: Date, last: Date) {
            self.person = person
            self.institution = institution
            self.kind = kind
            self.first = first
            self.last = last
        }
    }

    /// An inspection of an institution, on the start of its day.
    public struct Inspection: Sendable, Equatable {
        public var institution: String
        public var date: Date

        public init(institution: String, date: Date) {
            self.institution = institution
            self.date = date
        }
    }
}
