import Foundation

/// A trainee's logbook, counted from what they did rather than typed in: each practice report is a case reported, each
/// finished exam attempt examines the trainee on the cases its questions are about, and each project assignment their
/// group submitted counts the cases it is built on.
public struct Logbook: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable, Codable, CaseIterable {
        case reported
        case examined
        /// Worked on in a submitted project assignment.
        case assigned
    }

    /// One logged event.
    public struct Entry: Sendable, Equatable {
        public var date: Date
        public var caseID: Int64
        public var kind: Kind
        /// The practice report, exam attempt or assignment it comes from.
        public var source: Int64

        public init(date: Date, caseID: Int64, kind: Kind, source: Int64) {
            self.date = date
            self.caseID = caseID
            self.kind = kind
            self.source = source
        }
    }

    /// What the logbook knows of a case (from the library).
    public struct CaseFacts: Sendable, Equatable {
        public var modalities: [String]
        public var bodyRegion: String
        public var diagnosis: String

        public init(modalities: [String], bodyRegion: String, diagnosis: String) {
            self.modalities = modalities
            self.bodyRegion = bodyRegion
            self.diagnosis = diagnosis
        }
    }

    /// The events, newest first.
    public var entries: [Entry]
    /// Events of each kind.
    public var events: [Kind: Int]
    /// Distinct cases met, in any way.
    public var cases: Int
    /// Distinct cases per modality (a case of two modalities counts for each), per body region and per diagnosis;
    /// cases the library no longer holds are left out of these three.
    public var byModality: [String: Int]
    public var byRegion: [String: Int]
    public var byDiagnosis: [String: Int]

    /// Counts `entries` with the cases' facts.
    public static func count(_ entries: [Entry], facts: [Int64: CaseFacts]) -> Logbook {
        var events: [Kind: Int] = [:]
        for entry in entries { events[entry.kind, default: 0] += 1 }
        let caseIDs = Set(entries.map(\.caseID))
        var byModality: [String: Int] = [:]
        var byRegion: [String: Int] = [:]
        var byDiagnosis: [String: Int] = [:]
        for id in caseIDs {
            guard let f = facts[id] else { continue }
            for modality in Set(f.modalities.map { $0.uppercased() }) where !modality.isEmpty { byModality[modality, default: 0] += 1 }
            let region = f.bodyRegion.trimmingCharacters(in: .whitespaces)
            if !region.isEmpty { byRegion[region, default: 0] += 1 }
            let diagnosis = f.diagnosis.trimmingCharacters(in: .whitespacesAndNewlines)
            if !diagnosis.isEmpty { byDiagnosis[diagnosis, default: 0] += 1 }
        }
        return Logbook(
            entries: entries.sorted { ($0.date, $0.source) > ($1.date, $1.source) }, events: events, cases: caseIDs.count,
            byModality: byModality, byRegion: byRegion, byDiagnosis: byDiagnosis)
    }
}
