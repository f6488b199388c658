import Archive
import Foundation
import Platform
import Reading

/// The consultations of `atrium serve --demo`: one stat request waiting, one routine request claimed by `demo-reader`,
/// one urgent request signed by `demo-reader2`, all from `demo-site` (COUNTY-A) on COUNTY-A's demonstration studies. A
/// demo step of its own: it looks the people up by username and does nothing when any is missing, when COUNTY-A has no
/// study, or when consultations exist already.
public enum ReadingDemo {
    /// Loads the demonstration consultations; returns how many requests were made.
    @discardableResult
    public static func load(reading: ReadingStore, identity: IdentityStore, archive: Archive) async throws -> Int {
        guard let site = try await identity.person(username: "demo-site"),
            let reader = try await identity.person(username: "demo-reader"),
            let reader2 = try await identity.person(username: "demo-reader2"),
            try await reading.requests(institution: nil, limit: 1).isEmpty
        else { return 0 }
        var institution = "COUNTY-A"
        if let id = site.institutionID, let code = try await identity.institution(id: id)?.code { institution = code }
        let studies = try await StudySummary.search(archive, [], institution: institution)
        guard !studies.isEmpty else { return 0 }
        func actor(_ person: Person) -> ReadingActor {
            ReadingActor(username: person.username, displayName: person.displayName, transport: "demo")
        }
        func new(_ study: StudySummary, _ priority: Priority, _ question: String, _ history: String) -> NewConsultationRequest {
            NewConsultationRequest(
                priority: priority, referringPhysician: "Dr Demo", clinicalHistory: history, question: question,
                modality: study.modality, bodyPart: study.bodyPart, patientName: study.patientName, patientID: study.patientID,
                studies: [study.studyInstanceUID])
        }
        let first = studies[0]
        let second = studies[1 % studies.count]
        let third = studies[2 % studies.count]
        _ = try await reading.file(
            new(first, .stat, "Acute abnormality? 急性病变？", "Chest pain since this morning. 今晨起胸痛。"), institution: institution,
            by: actor(site))
        let (_, claimedItem) = try await reading.file(
            new(second, .routine, "Follow-up. 复查。", "Known nodule. 已知结节。"), institution: institution, by: actor(site))
        _ = try await reading.claim(itemID: claimedItem.id, by: actor(reader))
        let (signedRequest, signedItem) = try await reading.file(
            new(third, .urgent, "Fracture? 骨折？", "Fall. 跌倒。"), institution: institution, by: actor(site))
        _ = try await reading.claim(itemID: signedItem.id, by: actor(reader2))
        if let report = try await reading.reports(requestID: signedRequest.id).first {
            var sections = report.sections
            for index in sections.indices {
                switch sections[index].kind {
                case "findings": sections[index].text = "No acute abnormality demonstrated. 未见急性异常。"
                case "impression": sections[index].text = "Normal study. 未见异常。"
                default: break
                }
            }
            _ = try await reading.sign(reportID: report.id, sections: sections, by: actor(reader2))
        }
        return 3
    }
}

extension ReadingDemo {
    /// The demo step (``DemoSeed/steps``): a stat request waiting, a routine one claimed, one signed.
    static let step = DemoStep(name: "consultations") { context in
        let store = ReadingStore.make(identity: context.identity, settings: context.configuration.reading)
        let made = try await load(reading: store, identity: context.identity, archive: context.archive)
        context.logger.info("demo consultations", metadata: ["requests": "\(made)"])
    }
}
