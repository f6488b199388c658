import Archive
import AtriumTesting
import Foundation
import Testing

@testable import Platform
@testable import Teaching

@Suite("Teaching library store")
struct TeachingStoreTests {
    @Test("The SQLite library passes the shared suite")
    func sqlite() async throws {
        let directory = try Corpus.temporaryDirectory("atrium-teaching")
        let archive = try Archive.open(directory: directory)
        let store = TeachingStore(identity: try IdentityStore.make(archive: archive, directory: directory))
        try await store.prepare()
        try await TeachingSuite.run(store)
    }

    @Test("The PostgreSQL library passes the shared suite")
    func postgres() async throws {
        let server = try await PostgresServer.start()
        defer { server.stop() }
        let url = try await server.createDatabase("atrium_teaching")
        let directory = try Corpus.temporaryDirectory("atrium-teaching-pg")
        let archive = try Archive.open(directory: directory, database: url)
        let identity = try IdentityStore.make(archive: archive, directory: directory)
        try await identity.prepare()
        let store = TeachingStore(identity: identity)
        try await store.prepare()
        try await TeachingSuite.run(store)
    }

    @Test(
        "Chinese text is indexed as characters and bigrams, English as lower-cased words, full-width folded",
        arguments: [
            ("右肺下叶肺癌", ["右", "肺", "下", "叶", "癌", "右肺", "肺下", "下叶", "叶肺", "肺癌"], ["右肺", "肺下", "下叶", "叶肺", "肺癌"]),
            ("Lung CANCER, T2", ["lung", "cancer", "t2"], ["lung", "cancer", "t2"]),
            ("ＣＴ肺癌 scan", ["ct", "肺", "癌", "肺癌", "scan"], ["ct", "肺癌", "scan"]),
            ("癌", ["癌"], ["癌"]),
        ])
    func terms(text: String, indexed: [String], query: [String]) {
        #expect(SearchTerms.indexed(text) == indexed)
        #expect(SearchTerms.query(text) == query)
    }
}

/// The library's behaviour on any back end; expected search results come from plain substring matching in the test.
enum TeachingSuite {
    static let findingsPool = [
        "右肺下叶见不规则肿块，边缘毛刺。", "左肺上叶磨玻璃结节。", "肝右叶低密度灶，增强后边缘强化。", "双肺散在斑片影。",
        "Spiculated mass in the right lower lobe.", "Ground-glass nodule, left upper lobe.", "Hypodense liver lesion with rim enhancement.",
    ]
    static let diagnosisPool = ["肺癌 lung cancer", "肺腺癌 adenocarcinoma", "肝脓肿 liver abscess", "肺炎 pneumonia", "肝癌 hepatocellular carcinoma"]
    static let modalities = ["CT", "MR", "CR"]

    static func run(_ store: TeachingStore) async throws {
        try await curation(store)
        try await searchAgreesWithSubstrings(store)
        try await curriculum(store)
        try await flagged(store)
        try await sharing(store)
    }

    /// Collections keep their order and refuse duplicates; a share link opens its target until it expires or is
    /// revoked, and only by its token (stored as a digest).
    static func sharing(_ store: TeachingStore) async throws {
        let ids = try await (0..<3).asyncMap { try await store.create(content(100 + $0), author: "c", institution: "", source: "form").id }
        let collection = try await store.createCollection(title: "胸部 Chest", description: "", owner: "c", caseIDs: [ids[2], ids[0]])
        #expect(try await store.collection(collection.id).caseIDs == [ids[2], ids[0]])
        await #expect(throws: TeachingError.self) {
            try await store.createCollection(title: "x", description: "", owner: "c", caseIDs: [ids[0], ids[0]])
        }
        await #expect(throws: TeachingError.self) {
            try await store.createCollection(title: "x", description: "", owner: "c", caseIDs: [999_999])
        }
        let reordered = try await store.updateCollection(
            collection.id, title: "胸部", description: "d", caseIDs: [ids[0], ids[1], ids[2]], revision: collection.revision)
        #expect(reordered.caseIDs == [ids[0], ids[1], ids[2]] && reordered.title == "胸部")
        await #expect(throws: TeachingError.conflict(collection.id)) {
            try await store.updateCollection(collection.id, title: "y", description: "", caseIDs: [], revision: collection.revision)
        }
        #expect(try await store.collections().contains { $0.id == collection.id })

        let now = Date(timeIntervalSince1970: 1_900_000_000)
        let (link, token) = try await store.createShareLink(
            .collection(collection.id), scope: .view, expiresAt: now.addingTimeInterval(3600), by: "c", now: now)
        #expect(link.target == .collection(collection.id) && link.scope == .view)
        #expect(try await store.resolveShareLink(token: token, now: now.addingTimeInterval(3599))?.id == link.id)
        #expect(try await store.resolveShareLink(token: token, now: now.addingTimeInterval(3600)) == nil)
        #expect(try await store.resolveShareLink(token: token + "x", now: now) == nil)
        await #expect(throws: TeachingError.self) {
            try await store.createShareLink(.teachingCase(ids[0]), scope: .view, expiresAt: now, by: "c", now: now)
        }
        let (caseLink, caseToken) = try await store.createShareLink(
            .teachingCase(ids[1]), scope: .download, expiresAt: now.addingTimeInterval(86400), by: "c", now: now)
        #expect(try await store.resolveShareLink(token: caseToken, now: now)?.scope == .download)
        let revoked = try await store.revokeShareLink(id: caseLink.id, now: now)
        #expect(revoked.revokedAt != nil)
        #expect(try await store.resolveShareLink(token: caseToken, now: now) == nil)
        #expect(try await store.shareLinks(of: .teachingCase(ids[1])).map(\.id) == [caseLink.id])
        let stored = try await store.query("SELECT token_hash FROM teaching_share_links", []).compactMap { $0[0].text }
        #expect(!stored.contains(token) && !stored.contains(caseToken))
    }

    /// The curators' queue: one entry per source key, masks per series with an optimistic lock, a case made once with
    /// its images and the link to the originals, and one secret.
    static func flagged(_ store: TeachingStore) async throws {
        let references = (1...3).map {
            InstanceReference(
                seriesInstanceUID: "1.2.3.\($0 % 2)", sopInstanceUID: "1.2.3.9.\($0)", sopClassUID: "1.2.840.10008.5.1.4.1.1.2")
        }
        let first = try await store.flag(
            kind: .keyObjectSelection, sourceKey: "kos:1.2.3.100", studyInstanceUID: "1.2.3", references: references, note: "肺癌 key images",
            flaggedBy: "reader", institution: "COUNTY-A")
        let again = try await store.flag(
            kind: .keyObjectSelection, sourceKey: "kos:1.2.3.100", studyInstanceUID: "1.2.3", references: references, note: "other",
            flaggedBy: "reader", institution: "COUNTY-A")
        #expect(again.id == first.id && again.note == "肺癌 key images")
        #expect(try await store.flaggedCases().filter { $0.sourceKey == "kos:1.2.3.100" }.count == 1)
        await #expect(throws: TeachingError.self) {
            try await store.flag(
                kind: .study, sourceKey: "study:empty", studyInstanceUID: "1", references: [], note: "", flaggedBy: "c", institution: "")
        }

        let rectangle = MaskRectangle(x: 0, y: 0, width: 40, height: 12)
        let masked = try await store.confirmMasks(first.id, seriesInstanceUID: "1.2.3.1", rectangles: [rectangle], revision: first.revision)
        #expect(masked.masks == ["1.2.3.1": [rectangle]])
        await #expect(throws: TeachingError.conflict(first.id)) {
            try await store.confirmMasks(first.id, seriesInstanceUID: "1.2.3.0", rectangles: [], revision: first.revision)
        }
        await #expect(throws: TeachingError.self) {
            try await store.confirmMasks(first.id, seriesInstanceUID: "9.9", rectangles: [], revision: masked.revision)
        }
        await #expect(throws: TeachingError.flaggedNotFound(999_999)) { try await store.flaggedCase(999_999) }

        let images = references.map {
            CaseImage(
                caseID: 0, studyInstanceUID: "2.25.1", seriesInstanceUID: "2.25.1.\($0.seriesInstanceUID)",
                sopInstanceUID: "2.25.\($0.sopInstanceUID)",
                modality: "CT", bytes: Array("DICM \($0.sopInstanceUID)".utf8) + [0, 255])
        }
        let map = Dictionary(uniqueKeysWithValues: references.map { ($0.sopInstanceUID, "2.25.\($0.sopInstanceUID)") })
        let made = try await store.createCase(
            from: masked, content: CaseContent(title: "Flagged 肺癌"), author: "curator", images: images, replacedUIDs: map)
        let madeAgain = try await store.createCase(
            from: masked, content: CaseContent(title: "Flagged again"), author: "curator", images: images, replacedUIDs: map)
        #expect(madeAgain.id == made.id && madeAgain.content.title == "Flagged 肺癌")
        #expect(made.status == .draft && made.source == "kos")
        #expect(try await store.flaggedCase(first.id).caseID == made.id)
        #expect(try await store.images(of: made.id).map(\.sopInstanceUID) == images.map(\.sopInstanceUID))
        #expect(try await store.image(of: made.id, sopInstanceUID: images[1].sopInstanceUID)?.bytes == images[1].bytes)
        #expect(try await store.image(of: made.id, sopInstanceUID: "1.2.3.9.1") == nil)
        let origin = try #require(try await store.origin(of: made.id))
        #expect(origin.studyInstanceUID == "1.2.3" && origin.replacedUIDs == map && origin.sourceKey == "kos:1.2.3.100")

        #expect(try await store.unseenKeyObjects(["a", "b"]) == ["a", "b"])
        try await store.markKeyObjectSeen("a")
        try await store.markKeyObjectSeen("a")
        #expect(try await store.unseenKeyObjects(["a", "b"]) == ["b"])

        let secret = try await store.deidentificationSecret()
        let secretAgain = try await store.deidentificationSecret()
        #expect(secret.replacementUID(for: "1.2.3") == secretAgain.replacementUID(for: "1.2.3"))
    }

    static func content(_ n: Int) -> CaseContent {
        CaseContent(
            title: "病例 \(n) Case \(n)", clinicalHistory: "男，\(40 + n % 30)岁，咳嗽。", findings: findingsPool[n % findingsPool.count],
            diagnosis: diagnosisPool[n % diagnosisPool.count],
            tags: CaseTags(
                modalities: [modalities[n % modalities.count]], bodyRegion: n % 2 == 0 ? "chest" : "abdomen",
                audience: n % 3 == 0 ? .technologist : .radiologist, difficulty: 1 + n % 5, curriculumItems: n % 4 == 0 ? ["IMG-101"] : []))
    }

    static func curation(_ store: TeachingStore) async throws {
        var draft = CaseContent(title: "右肺下叶肺癌 Right lower lobe lung cancer")
        let created = try await store.create(draft, author: "curator.li", institution: "MEDCOLLEGE", source: "kos", sourceKey: "1.2.3.4")
        #expect(created.status == .draft && created.version == 1 && created.authors == ["curator.li"])
        // The same source never makes a second case.
        let again = try await store.create(draft, author: "curator.li", institution: "MEDCOLLEGE", source: "kos", sourceKey: "1.2.3.4")
        #expect(again.id == created.id)
        // Submitting needs findings, a diagnosis and a modality.
        await #expect(throws: TeachingError.self) {
            try await store.apply(.submit, to: created.id, actor: "curator.li", revision: created.revision)
        }
        draft.findings = "右肺下叶见不规则肿块，边缘毛刺。"
        draft.diagnosis = "肺腺癌 adenocarcinoma"
        draft.tags.modalities = ["CT"]
        let edited = try await store.edit(created.id, content: draft, author: "curator.li", note: "findings", revision: created.revision)
        #expect(edited.version == 2 && edited.revision == created.revision + 1)
        // A stale revision is a conflict, and changes nothing.
        await #expect(throws: TeachingError.conflict(created.id)) {
            try await store.edit(created.id, content: draft, author: "curator.wang", revision: created.revision)
        }
        let submitted = try await store.apply(.submit, to: created.id, actor: "curator.li", revision: edited.revision)
        #expect(submitted.status == .inReview)
        await #expect(throws: TeachingError.self) {
            try await store.apply(.approve, to: created.id, actor: "curator.li", revision: submitted.revision)
        }
        #expect(try await store.search(CaseQuery(text: "肺腺癌")).total == 0)
        let published = try await store.apply(.approve, to: created.id, actor: "curator.wang", revision: submitted.revision)
        #expect(published.status == .published && published.publishedVersion == 2)
        #expect(try await store.search(CaseQuery(text: "肺腺癌")).hits.map(\.id) == [created.id])
        // Editing a published case makes a draft of version 3; students still see version 2.
        var revised = draft
        revised.discussion = "讨论：毛刺征提示恶性。"
        let drafted = try await store.edit(created.id, content: revised, author: "curator.zhao", revision: published.revision)
        #expect(drafted.status == .draft && drafted.publishedVersion == 2)
        #expect(try await store.published(created.id)?.version == 2)
        #expect(try await store.search(CaseQuery(text: "毛刺征")).total == 0)
        #expect(try await store.search(CaseQuery(text: "毛刺征", scope: .latest)).hits.map(\.id) == [created.id])
        let history = try await store.versions(created.id)
        #expect(history.map(\.version) == [1, 2, 3] && history.map(\.author) == ["curator.li", "curator.li", "curator.zhao"])
        #expect(CaseCuration.diff(history[1].content, history[2].content).map(\.field) == ["discussion"])
        #expect(try await store.queue().map(\.id).contains(created.id))
        // Retiring takes it away from students.
        let retired = try await store.apply(.retire, to: created.id, actor: "curator.wang", revision: drafted.revision)
        #expect(retired.status == .retired && retired.publishedVersion == nil)
        #expect(try await store.search(CaseQuery(text: "肺腺癌")).total == 0)
        #expect(try await store.published(created.id) == nil)
        let restored = try await store.apply(.restore, to: created.id, actor: "curator.wang", revision: retired.revision)
        #expect(restored.status == .draft)
    }

    /// 60 published cases; each query's expected ids are the cases whose indexed text contains every query word.
    static func searchAgreesWithSubstrings(_ store: TeachingStore) async throws {
        var texts: [Int64: (text: String, content: CaseContent)] = [:]
        for n in 0..<60 {
            let c = content(n)
            let created = try await store.create(c, author: "author\(n % 3)", institution: "MEDCOLLEGE", source: "test")
            let submitted = try await store.apply(.submit, to: created.id, actor: "author\(n % 3)", revision: created.revision)
            _ = try await store.apply(.approve, to: created.id, actor: "reviewer", revision: submitted.revision)
            texts[created.id] = (TeachingStore.searchableText(c).lowercased(), c)
        }
        for text in ["肺癌", "肺", "肝脓肿", "肺腺癌", "lung", "LIVER abscess", "carcinoma 肝癌", "磨玻璃", "右肺下叶", "nothing-here 肺"] {
            let words = text.lowercased().split(separator: " ").map(String.init)
            let expected = Set(texts.filter { _, v in words.allSatisfy { v.text.contains($0) } }.keys)
            let result = try await store.search(CaseQuery(text: text, limit: 200))
            #expect(Set(result.hits.map(\.id)) == expected, "search \(text)")
            #expect(result.total == expected.count, "total for \(text)")
        }
        // Facets: filter by modality, counts over the matches.
        let ct = try await store.search(CaseQuery(text: "肺", filters: ["modality": ["CT"]], limit: 200))
        let expectedCT = texts.filter { $0.value.text.contains("肺") && $0.value.content.tags.modalities == ["CT"] }
        #expect(Set(ct.hits.map(\.id)) == Set(expectedCT.keys))
        let all = try await store.search(CaseQuery(text: "肺", limit: 5))
        let lung = texts.filter { $0.value.text.contains("肺") }
        for modality in modalities {
            let count = lung.filter { $0.value.content.tags.modalities == [modality] }.count
            #expect(all.facets["modality"]?.first { $0.value == modality }?.count ?? 0 == count, "modality \(modality)")
        }
        #expect(all.hits.count == 5 && all.total == lung.count)
        let byDifficulty = try await store.search(CaseQuery(filters: ["difficulty": ["1", "2"]], order: .difficulty, limit: 200))
        #expect(byDifficulty.hits.map(\.difficulty) == byDifficulty.hits.map(\.difficulty).sorted())
        #expect(byDifficulty.total == texts.values.filter { $0.content.tags.difficulty <= 2 }.count)
        await #expect(throws: TeachingError.self) { try await store.search(CaseQuery(filters: ["nonsense": ["x"]])) }
        // Quotes and operators in a query are not syntax.
        _ = try await store.search(CaseQuery(text: "\" OR 1=1 -- ' & | ! (肺"))
    }

    static func curriculum(_ store: TeachingStore) async throws {
        let csv = "code,title_zh,title_en,parent\r\nIMG-101,胸部影像,\"Chest imaging, basics\",\r\nIMG-102,腹部影像,Abdominal imaging,\r\n"
        #expect(try await store.loadCurriculum(csv: csv) == 2)
        let coverage = try await store.curriculumCoverage()
        #expect(coverage.map(\.item.code) == ["IMG-101", "IMG-102"])
        #expect(coverage[0].item.titleEnglish == "Chest imaging, basics")
        #expect(coverage[0].publishedCases == (0..<60).filter { $0 % 4 == 0 }.count)
        #expect(coverage[1].publishedCases == 0)
        await #expect(throws: TeachingError.self) { try await store.loadCurriculum(csv: "code,title\nX,Y\n") }
    }
}

@Suite("Teaching curation rules")
struct CaseCurationTests {
    @Test("Annotations are refused for a wrong kind's point count, a coordinate off the image or not finite, a long label")
    func annotationRules() {
        let size = ["3": AnnotationRules.ImageSize(rows: 64, columns: 100)]
        func image(_ a: Annotation, sop: String = "3") -> [KeyImage] {
            [KeyImage(studyInstanceUID: "1", seriesInstanceUID: "2", sopInstanceUID: sop, annotations: [a])]
        }
        let good: [Annotation] = [
            .init(kind: .arrow, points: [[0, 0], [100, 64]]), .init(kind: .ellipse, points: [[10, 10], [20, 30]], label: "结节"),
            .init(kind: .text, points: [[50, 32]], label: String(repeating: "肺", count: 200)),
        ]
        for a in good { #expect(throws: Never.self) { try AnnotationRules.validate(image(a), sizes: size) } }
        let bad: [(Annotation, String)] = [
            (.init(kind: .arrow, points: [[1, 1]]), "needs 2 points"),
            (.init(kind: .text, points: [[1, 1], [2, 2]], label: "x"), "needs 1"),
            (.init(kind: .ellipse, points: [[1, 1], [101, 2]]), "outside"),
            (.init(kind: .arrow, points: [[1, 1], [2, -0.5]]), "outside"),
            (.init(kind: .arrow, points: [[1, 1], [2, .nan]]), "finite"),
            (.init(kind: .arrow, points: [[1, 1], [.infinity, 2]]), "finite"),
            (.init(kind: .arrow, points: [[1, 1], [2]]), "finite"), (.init(kind: .text, points: [[1, 1]], label: " "), "needs a label"),
            (.init(kind: .text, points: [[1, 1]], label: String(repeating: "a", count: 201)), "at most 200"),
            (.init(kind: .ellipse, points: [[1, 1], [1, 5]]), "width and a height"),
        ]
        for (a, why) in bad {
            #expect {
                try AnnotationRules.validate(image(a), sizes: size)
            } throws: { error in
                "\(error)".contains(why)
            }
        }
        #expect(throws: TeachingError.self) { try AnnotationRules.validate(image(good[0], sop: "9"), sizes: size) }
    }

    @Test("Completeness weights sum to 100 and count only what the case has")
    func completeness() {
        #expect(CaseCuration.completenessWeights.map(\.1).reduce(0, +) == 100)
        var c = CaseContent(title: "t")
        #expect(CaseCuration.completeness(c) == 5)
        c.findings = "f"
        c.diagnosis = "d"
        c.keyImages = [KeyImage(studyInstanceUID: "1", seriesInstanceUID: "2", sopInstanceUID: "3")]
        #expect(CaseCuration.completeness(c) == 5 + 15 + 15 + 10)
    }

    @Test("The unknown mode hides history, findings, diagnosis and the annotations' words but keeps images, shapes and modality")
    func unknown() {
        var c = TeachingSuite.content(4)
        c.discussion = "d"
        c.keyImages = [
            KeyImage(
                studyInstanceUID: "1", seriesInstanceUID: "2", sopInstanceUID: "3",
                annotations: [
                    .init(kind: .arrow, points: [[1, 2], [3, 4]], label: "肺癌"), .init(kind: .text, points: [[5, 6]], label: "肺癌"),
                    .init(kind: .ellipse, points: [[1, 1], [9, 9]]),
                ])
        ]
        let u = CaseCuration.unknown(c)
        #expect(u.title.isEmpty && u.diagnosis.isEmpty && u.clinicalHistory.isEmpty && u.findings.isEmpty && u.discussion.isEmpty)
        #expect(u.keyImages.map(\.sopInstanceUID) == ["3"])
        #expect(
            u.keyImages[0].annotations == [
                .init(kind: .arrow, points: [[1, 2], [3, 4]]), .init(kind: .ellipse, points: [[1, 1], [9, 9]]),
            ])
        #expect(u.tags.modalities == c.tags.modalities)
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for element in self { out.append(try await transform(element)) }
        return out
    }
}
