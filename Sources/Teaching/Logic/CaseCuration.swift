import Foundation

/// The curation rules of the library, as pure functions: who may move a case where, how complete it is, what changed
/// between two versions, and what a student sees in "unknown" mode.
public enum CaseCuration {
    public enum Action: String, Sendable, CaseIterable {
        /// Save a new version. Editing a published case makes a draft of the next version while the published one stays
        /// visible to students.
        case edit
        /// Ask for a second curator's approval.
        case submit
        /// Publish: only a curator other than the one who wrote the version under review.
        case approve
        /// Send back to the author.
        case returnToDraft = "return"
        /// Withdraw from students.
        case retire
        /// Bring a retired case back as a draft.
        case restore
    }

    /// The status after `action`, or why it is not allowed. `versionAuthor` wrote the latest version; `actor` acts.
    public static func next(_ status: CaseStatus, _ action: Action, actor: String, versionAuthor: String, content: CaseContent)
        throws(TeachingError) -> CaseStatus
    {
        switch (action, status) {
        case (.edit, .draft), (.edit, .inReview), (.edit, .published): return .draft
        case (.submit, .draft):
            let missing = requiredMissing(content)
            guard missing.isEmpty else { throw .invalid("before review a case needs: \(missing.joined(separator: ", "))") }
            return .inReview
        case (.approve, .inReview):
            guard actor != versionAuthor else {
                throw .notAllowed("a case is published by a second curator, not by the author of the version under review")
            }
            return .published
        case (.returnToDraft, .inReview): return .draft
        case (.retire, .draft), (.retire, .inReview), (.retire, .published): return .retired
        case (.restore, .retired): return .draft
        default:
            throw .notAllowed(
                "a case that is \(status.rawValue) cannot be \(action.rawValue == "return" ? "returned" : action.rawValue + "d")")
        }
    }

    /// What a case must have before review: a title, a diagnosis, findings and at least one modality.
    public static func requiredMissing(_ content: CaseContent) -> [String] {
        var missing: [String] = []
        if content.title.trimmingCharacters(in: .whitespaces).isEmpty { missing.append("title") }
        if content.diagnosis.trimmingCharacters(in: .whitespaces).isEmpty { missing.append("diagnosis") }
        if content.findings.trimmingCharacters(in: .whitespaces).isEmpty { missing.append("findings") }
        if content.tags.modalities.isEmpty { missing.append("modality") }
        if !(1...5).contains(content.tags.difficulty) { missing.append("difficulty 1–5") }
        return missing
    }

    /// Each part of a case and what it counts towards the completeness score (sums to 100).
    public static let completenessWeights: [(String, Int, @Sendable (CaseContent) -> Bool)] = [
        ("title", 5, { !$0.title.isEmpty }),
        ("clinicalHistory", 10, { !$0.clinicalHistory.isEmpty }),
        ("findings", 15, { !$0.findings.isEmpty }),
        ("diagnosis", 15, { !$0.diagnosis.isEmpty }),
        ("diagnosisCode", 5, { !$0.diagnosisCode.isEmpty }),
        ("differentialDiagnosis", 10, { !$0.differentialDiagnosis.isEmpty }),
        ("discussion", 10, { !$0.discussion.isEmpty }),
        ("learningPoints", 10, { !$0.learningPoints.isEmpty }),
        ("references", 5, { !$0.references.isEmpty }),
        ("certaintyAndConfirmation", 5, { $0.certainty != nil && $0.confirmation != nil }),
        ("keyImages", 10, { !$0.keyImages.isEmpty }),
    ]

    /// 0 to 100: the weights of the parts the case has.
    public static func completeness(_ content: CaseContent) -> Int {
        completenessWeights.reduce(0) { $0 + ($1.2(content) ? $1.1 : 0) }
    }

    /// One changed field between two versions.
    public struct FieldChange: Sendable, Equatable {
        public var field: String
        public var before: String
        public var after: String
    }

    /// The fields that differ, each as text (lists joined by new lines), in a fixed order.
    public static func diff(_ a: CaseContent, _ b: CaseContent) -> [FieldChange] {
        let before = fields(a), after = fields(b)
        return zip(before, after).compactMap { x, y in x.1 == y.1 ? nil : FieldChange(field: x.0, before: x.1, after: y.1) }
    }

    static func fields(_ c: CaseContent) -> [(String, String)] {
        [
            ("title", c.title), ("clinicalHistory", c.clinicalHistory), ("findings", c.findings), ("diagnosis", c.diagnosis),
            ("diagnosisCode", c.diagnosisCode), ("differentialDiagnosis", c.differentialDiagnosis), ("discussion", c.discussion),
            ("learningPoints", c.learningPoints.joined(separator: "\n")), ("references", c.references.joined(separator: "\n")),
            ("certainty", c.certainty?.rawValue ?? ""), ("confirmation", c.confirmation?.rawValue ?? ""),
            ("modalities", c.tags.modalities.joined(separator: "\n")), ("bodyRegion", c.tags.bodyRegion),
            ("organSystem", c.tags.organSystem), ("pathologyCategory", c.tags.pathologyCategory),
            ("audience", c.tags.audience.rawValue), ("difficulty", String(c.tags.difficulty)),
            ("curriculumItems", c.tags.curriculumItems.joined(separator: "\n")), ("keywords", c.tags.keywords.joined(separator: "\n")),
            ("keyImages", c.keyImages.map { "\($0.sopInstanceUID)#\($0.frame ?? 1) (\($0.annotations.count))" }.joined(separator: "\n")),
        ]
    }

    /// The case as an unknown for self-testing: images, modality and region stay, and so do the arrows and ellipses of
    /// the key images (where to look, not what it is); history-revealing text, findings, the answer and the annotations'
    /// words (text labels, and the labels of arrows and ellipses) go.
    public static func unknown(_ c: CaseContent) -> CaseContent {
        var out = CaseContent(
            title: "", tags: c.tags,
            keyImages: c.keyImages.map { image in
                var image = image
                image.annotations = image.annotations.filter { $0.kind != .text }.map { Annotation(kind: $0.kind, points: $0.points) }
                return image
            })
        out.tags.pathologyCategory = ""
        out.tags.keywords = []
        out.tags.curriculumItems = []
        return out
    }
}
