import Foundation
import Testing

@testable import Training

@Suite("Logbook counts")
struct LogbookTests {
    @Test("Events per kind, distinct cases overall and per modality, region and diagnosis, counted by hand")
    func counts() {
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        let entries = [
            Logbook.Entry(date: t, caseID: 1, kind: .reported, source: 10),
            Logbook.Entry(date: t.addingTimeInterval(60), caseID: 1, kind: .reported, source: 11),
            Logbook.Entry(date: t.addingTimeInterval(120), caseID: 2, kind: .examined, source: 5),
            Logbook.Entry(date: t.addingTimeInterval(120), caseID: 3, kind: .examined, source: 5),
            Logbook.Entry(date: t.addingTimeInterval(30), caseID: 9, kind: .reported, source: 12),
        ]
        let facts: [Int64: Logbook.CaseFacts] = [
            1: .init(modalities: ["CT", "ct"], bodyRegion: "chest", diagnosis: "肺癌"),
            2: .init(modalities: ["CT", "MR"], bodyRegion: "head", diagnosis: "脑梗死"),
            3: .init(modalities: ["CR"], bodyRegion: "chest", diagnosis: "肺癌"),
            // Case 9 is no longer in the library: counted as a case and an event, not by its facts.
        ]
        let book = Logbook.count(entries, facts: facts)
        #expect(book.events == [.reported: 3, .examined: 2])
        #expect(book.cases == 4)
        #expect(book.byModality == ["CT": 2, "MR": 1, "CR": 1])
        #expect(book.byRegion == ["chest": 2, "head": 1])
        #expect(book.byDiagnosis == ["肺癌": 2, "脑梗死": 1])
        // Newest first; events of one moment by source, higher first.
        #expect(book.entries.map(\.source) == [5, 5, 11, 12, 10])
        #expect(book.entries.prefix(2).map(\.caseID).sorted() == [2, 3])
    }
}
