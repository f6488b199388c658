import Foundation
import Reading

/// The worklist's JSON (`GET /api/worklist`) as `Encodable` structs. The worklist is the API's hottest answer (every
/// reader's page polls it, 50 rows at a time): building it as `[String: Any]` for `JSONSerialization` spent 42 % of the
/// server's CPU in dynamic casts (docs/performance.md). The keys and their `null`s are those of the other request and
/// work item answers (``ReadingRoutes/describe(_:)``), so clients read both alike.
struct WorklistJSON: Encodable {
    var now: String
    var entries: [Entry]
    var counts: Counts

    struct Entry: Encodable {
        var request: RequestJSON
        var workItem: WorkItemJSON
        var reportStatus: String?
        var timeLeft: String

        func encode(to encoder: any Encoder) throws {
            // The request's keys at the top level of the entry, as the dictionary version had them.
            var container = encoder.container(keyedBy: RequestJSON.CodingKeys.self)
            try request.write(into: &container)
            try container.encode(workItem, forKey: .workItem)
            try container.encode(reportStatus, forKey: .reportStatus)
            try container.encode(timeLeft, forKey: .timeLeft)
        }
    }

    struct Counts: Encodable {
        var total: Int
        var priority: [String: Int]
        var state: [String: Int]
    }

    /// One encoder per answer: `JSONEncoder` is not `Sendable`.
    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

/// A consultation request as the API describes it.
struct RequestJSON: Encodable {
    var id: Int64
    var serviceLine: String
    var priority: String
    var status: String
    var institution: String
    var requestedBy: String
    var referringPhysician: String
    var clinicalHistory: String
    var question: String
    var accessionNumber: String
    var modality: String
    var bodyPart: String
    var patientName: String
    var patientID: String
    var studies: [String]
    var createdAt: String
    var deadline: String
    var secondsLeft: Int

    init(_ request: ConsultationRequest, now: Date) {
        id = request.id
        serviceLine = request.serviceLine.rawValue
        priority = request.priority.rawValue
        status = request.status.rawValue
        institution = request.institutionCode
        requestedBy = request.requestedBy
        referringPhysician = request.referringPhysician
        clinicalHistory = request.clinicalHistory
        question = request.question
        accessionNumber = request.accessionNumber
        modality = request.modality
        bodyPart = request.bodyPart
        patientName = request.patientName
        patientID = request.patientID
        studies = request.studies
        createdAt = ReadingFormat.iso(request.createdAt)
        deadline = ReadingFormat.iso(request.deadline)
        secondsLeft = Int(request.secondsLeft(at: now).rounded(.down))
    }

    /// The request's keys, and those a worklist entry adds to them.
    enum CodingKeys: String, CodingKey {
        case id, serviceLine, priority, status, institution, requestedBy, referringPhysician, clinicalHistory, question
        case accessionNumber, modality, bodyPart, patientName, patientID, studies, createdAt, deadline, secondsLeft
        case workItem, reportStatus, timeLeft
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try write(into: &container)
    }

    func write(into container: inout KeyedEncodingContainer<CodingKeys>) throws {
        try container.encode(id, forKey: .id)
        try container.encode(serviceLine, forKey: .serviceLine)
        try container.encode(priority, forKey: .priority)
        try container.encode(status, forKey: .status)
        try container.encode(institution, forKey: .institution)
        try container.encode(requestedBy, forKey: .requestedBy)
        try container.encode(referringPhysician, forKey: .referringPhysician)
        try container.encode(clinicalHistory, forKey: .clinicalHistory)
        try container.encode(question, forKey: .question)
        try container.encode(accessionNumber, forKey: .accessionNumber)
        try container.encode(modality, forKey: .modality)
        try container.encode(bodyPart, forKey: .bodyPart)
        try container.encode(patientName, forKey: .patientName)
        try container.encode(patientID, forKey: .patientID)
        try container.encode(studies, forKey: .studies)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(deadline, forKey: .deadline)
        try container.encode(secondsLeft, forKey: .secondsLeft)
    }
}

/// A work item as the API describes it: absent values are `null`, not missing keys.
struct WorkItemJSON: Encodable {
    var id: Int64
    var uid: String
    var requestID: Int64
    var kind: String
    var state: String
    var owner: String?
    var ownerName: String?
    var leaseUntil: String?
    var claimedAt: String?
    var completedAt: String?
    var assignee: String?

    init(_ item: WorkItem) {
        id = item.id
        uid = item.uid
        requestID = item.requestID
        kind = item.kind.rawValue
        state = item.state.rawValue
        owner = item.owner
        ownerName = item.ownerName
        leaseUntil = item.leaseUntil.map(ReadingFormat.iso)
        claimedAt = item.claimedAt.map(ReadingFormat.iso)
        completedAt = item.completedAt.map(ReadingFormat.iso)
        assignee = item.assignee
    }

    enum CodingKeys: String, CodingKey {
        case id, uid, requestID, kind, state, owner, ownerName, leaseUntil, claimedAt, completedAt, assignee
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(uid, forKey: .uid)
        try container.encode(requestID, forKey: .requestID)
        try container.encode(kind, forKey: .kind)
        try container.encode(state, forKey: .state)
        // `encode` of an Optional writes `null`; the synthesized `encodeIfPresent` would drop the key.
        try container.encode(owner, forKey: .owner)
        try container.encode(ownerName, forKey: .ownerName)
        try container.encode(leaseUntil, forKey: .leaseUntil)
        try container.encode(claimedAt, forKey: .claimedAt)
        try container.encode(completedAt, forKey: .completedAt)
        try container.encode(assignee, forKey: .assignee)
    }
}
