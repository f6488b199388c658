import Foundation

/// A rule an administrator sets for automatic assignment and double reading (issue 16): requests of a service line
/// (and, when given, of a priority and a modality) go to one of a group of readers — or to any reader whose profile
/// covers the service line — who is on duty and has fewer than `openCap` open items, the least loaded first; with
/// `doubleReading`, a second reader's item follows when the first signs the final report.
public struct AssignmentRule: Sendable, Equatable {
    public var id: Int64
    public var serviceLine: ServiceLine
    /// nil: any priority.
    public var priority: Priority?
    /// "": any modality.
    public var modality: String
    /// The reader group (usernames); empty: every reader whose profile covers the service line.
    public var readers: [String]
    /// At most this many open (SCHEDULED or IN PROGRESS) items assigned to or held by a reader.
    public var openCap: Int
    public var doubleReading: Bool

    public init(
        id: Int64 = 0, serviceLine: ServiceLine = .imaging, priority: Priority? = nil, modality: String = "", readers: [String] = [],
        openCap: Int = 10, doubleReading: Bool = false
    ) {
        self.id = id
        self.serviceLine = serviceLine
        self.priority = priority
        self.modality = modality
        self.readers = readers
        self.openCap = openCap
        self.doubleReading = doubleReading
    }

    /// Whether the rule is about `request`.
    public func applies(to request: ConsultationRequest) -> Bool {
        request.serviceLine == serviceLine && (priority == nil || priority == request.priority)
            && (modality.isEmpty || modality.caseInsensitiveCompare(request.modality) == .orderedSame)
    }
}

/// A reader as assignment sees them.
public struct AssignmentCandidate: Sendable, Equatable {
    public var username: String
    public var onDuty: Bool
    public var serviceLines: Set<ServiceLine>
    /// Open items assigned to or held by the reader now.
    public var open: Int

    public init(username: String, onDuty: Bool, serviceLines: Set<ServiceLine>, open: Int) {
        self.username = username
        self.onDuty = onDuty
        self.serviceLines = serviceLines
        self.open = open
    }
}

public enum Assignment {
    /// The first rule (by id) that applies to `request`.
    public static func rule(for request: ConsultationRequest, in rules: [AssignmentRule]) -> AssignmentRule? {
        rules.sorted { $0.id < $1.id }.first { $0.applies(to: request) }
    }

    /// The reader `rule` gives the next item to: in the group (or covering the service line), on duty, under the cap,
    /// not in `excluding` (the first reader, for double reading); the least loaded, then by username. nil: nobody is
    /// free, and the item stays on the worklist for anyone.
    public static func choose(rule: AssignmentRule, candidates: [AssignmentCandidate], excluding: Set<String> = []) -> String? {
        candidates.filter { candidate in
            (rule.readers.isEmpty || rule.readers.contains(candidate.username)) && candidate.onDuty
                && candidate.serviceLines.contains(rule.serviceLine) && candidate.open < rule.openCap
                && !excluding.contains(candidate.username)
        }
        .min { ($0.open, $0.username) < ($1.open, $1.username) }?.username
    }
}
