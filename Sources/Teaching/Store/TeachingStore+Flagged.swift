import Archive
import Foundation
import Platform

/// The curators' queue of flagged cases, the teaching copies of images, and the link to the originals.
extension TeachingStore {
    /// Adds a flagged case, or returns the existing one with the same `sourceKey` (a KOS stored twice is one entry).
    @discardableResult
    public func flag(
        kind: FlaggedCase.Kind, sourceKey: String, studyInstanceUID: String, references: [InstanceReference], note: String,
        flaggedBy: String, institution: String
    ) async throws(TeachingError) -> FlaggedCase {
        guard !references.isEmpty else { throw .invalid("a flagged case refers to at least one instance") }
        guard references.count <= Self.maximumInstancesPerCase else {
            throw .invalid("a case holds at most \(Self.maximumInstancesPerCase) instances; choose the key images")
        }
        _ = try await query(
            """
            INSERT INTO teaching_flagged (kind, source_key, study_uid, refs, note, flagged_by, institution, masks, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, '{}', ?) ON CONFLICT (source_key) DO NOTHING
            """,
            [
                .text(kind.rawValue), .text(sourceKey), .text(studyInstanceUID), .text(try Self.json(references)), .text(note),
                .text(flaggedBy), .text(institution), .integer(Self.now()),
            ])
        guard
            let row = try await query("SELECT \(Self.flaggedColumns) FROM teaching_flagged WHERE source_key = ?", [.text(sourceKey)]).first
        else { throw .database("the flagged case \(sourceKey) was not recorded") }
        return try Self.flaggedRow(row)
    }

    /// At most this many instances make one case (they are stored with it).
    public static let maximumInstancesPerCase = 50

    /// Every flagged case: those still waiting first (oldest first), then those made into cases (newest first).
    public func flaggedCases() async throws(TeachingError) -> [FlaggedCase] {
        try await query(
            "SELECT \(Self.flaggedColumns) FROM teaching_flagged ORDER BY case_id IS NOT NULL, CASE WHEN case_id IS NULL THEN created_at ELSE -created_at END, id",
            []
        ).map(Self.flaggedRow)
    }

    public func flaggedCase(_ id: Int64) async throws(TeachingError) -> FlaggedCase {
        guard let row = try await query("SELECT \(Self.flaggedColumns) FROM teaching_flagged WHERE id = ?", [.integer(id)]).first else {
            throw .flaggedNotFound(id)
        }
        return try Self.flaggedRow(row)
    }

    /// Records the masks a curator confirmed for one clinical series (an empty list: no burned-in text seen). The
    /// masks apply to every instance of the series.
    public func confirmMasks(_ id: Int64, seriesInstanceUID: String, rectangles: [MaskRectangle], revision: Int64)
        async throws(TeachingError)
        -> FlaggedCase
    {
        var flagged = try await flaggedCase(id)
        guard flagged.revision == revision else { throw .conflict(id) }
        guard flagged.references.contains(where: { $0.seriesInstanceUID == seriesInstanceUID }) else {
            throw .invalid("series \(seriesInstanceUID) is not part of flagged case \(id)")
        }
        guard rectangles.allSatisfy({ $0.width > 0 && $0.height > 0 && $0.x >= 0 && $0.y >= 0 }) else {
            throw .invalid("a mask has a positive width and height inside the image")
        }
        flagged.masks[seriesInstanceUID] = rectangles
        try await run(
            [
                SQLStep(
                    "UPDATE teaching_flagged SET masks = ?, revision = revision + 1 WHERE id = ? AND revision = ? RETURNING id",
                    [.text(try Self.json(flagged.masks)), .integer(id), .integer(revision)], guarded: true)
            ], id: id)
        return try await flaggedCase(id)
    }

    /// Makes the draft case of a flagged case with its de-identified images and the administrators' link to the
    /// originals. Idempotent: a second call returns the case the first made.
    public func createCase(
        from flagged: FlaggedCase, content: CaseContent, author: String, images: [CaseImage], replacedUIDs: [String: String]
    ) async throws(TeachingError) -> TeachingCase {
        let map = try Self.json(replacedUIDs)
        let now = Self.now()
        let related: @Sendable (Int64) -> [SQLStep] = { id in
            Self.imageSteps(caseID: id, images) + [
                SQLStep(
                    """
                    INSERT INTO teaching_origins (case_id, source_key, study_uid, uid_map, created_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (case_id) DO NOTHING
                    """,
                    [.integer(id), .text(flagged.sourceKey), .text(flagged.studyInstanceUID), .text(map), .integer(now)]),
                SQLStep("UPDATE teaching_flagged SET case_id = ? WHERE id = ?", [.integer(id), .integer(flagged.id)]),
            ]
        }
        let made = try await insertCase(
            content, author: author, institution: flagged.institution, source: flagged.kind.rawValue, sourceKey: flagged.sourceKey,
            related: related)
        // A case made by an earlier release, whose rows were written in a second transaction that a crash cut off, gets
        // them now (each insert is idempotent).
        if !made.created { try await run(related(made.id), id: made.id) }
        return try await get(made.id)
    }

    /// The rows of a case's de-identified images, in order.
    static func imageSteps(caseID: Int64, _ images: [CaseImage]) -> [SQLStep] {
        images.enumerated().map { position, image in
            SQLStep(
                """
                INSERT INTO teaching_images (case_id, sop_uid, study_uid, series_uid, modality, position, bytes)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (case_id, sop_uid) DO NOTHING
                """,
                [
                    .integer(caseID), .text(image.sopInstanceUID), .text(image.studyInstanceUID), .text(image.seriesInstanceUID),
                    .text(image.modality), .integer(Int64(position)), .blob(image.bytes),
                ])
        }
    }

    /// The de-identified images of a case, in order, without their bytes.
    public func images(of caseID: Int64) async throws(TeachingError) -> [CaseImage] {
        try await query(
            "SELECT study_uid, series_uid, sop_uid, modality FROM teaching_images WHERE case_id = ? ORDER BY position, sop_uid",
            [.integer(caseID)]
        ).map {
            CaseImage(
                caseID: caseID, studyInstanceUID: $0[0].text ?? "", seriesInstanceUID: $0[1].text ?? "", sopInstanceUID: $0[2].text ?? "",
                modality: $0[3].text ?? "", bytes: [])
        }
    }

    /// One de-identified image of a case with its bytes (a DICOM Part 10 file), or nil.
    public func image(of caseID: Int64, sopInstanceUID: String) async throws(TeachingError) -> CaseImage? {
        guard
            let row = try await query(
                "SELECT study_uid, series_uid, sop_uid, modality, bytes FROM teaching_images WHERE case_id = ? AND sop_uid = ?",
                [.integer(caseID), .text(sopInstanceUID)]
            ).first
        else { return nil }
        return CaseImage(
            caseID: caseID, studyInstanceUID: row[0].text ?? "", seriesInstanceUID: row[1].text ?? "", sopInstanceUID: row[2].text ?? "",
            modality: row[3].text ?? "", bytes: row[4].bytes ?? [])
    }

    /// The link from a case to its clinical originals (administrators only; the routes check).
    public func origin(of caseID: Int64) async throws(TeachingError) -> CaseOrigin? {
        guard
            let row = try await query(
                "SELECT source_key, study_uid, uid_map, created_at FROM teaching_origins WHERE case_id = ?", [.integer(caseID)]
            ).first
        else { return nil }
        let map: [String: String]
        do {
            map = try JSONDecoder().decode([String: String].self, from: Data((row[2].text ?? "{}").utf8))
        } catch {
            throw .database("the origin of case \(caseID) is not readable")
        }
        return CaseOrigin(
            caseID: caseID, sourceKey: row[0].text ?? "", studyInstanceUID: row[1].text ?? "", replacedUIDs: map,
            createdAt: Date(timeIntervalSince1970: Double(row[3].integer ?? 0)))
    }

    /// Of `sopInstanceUIDs` (KO instances of the archive), those not looked at before.
    public func unseenKeyObjects(_ sopInstanceUIDs: [String]) async throws(TeachingError) -> [String] {
        let seen = Set(try await query("SELECT sop_uid FROM teaching_kos_seen", []).compactMap { $0[0].text })
        return sopInstanceUIDs.filter { !seen.contains($0) }
    }

    /// Records that a KO instance was looked at (made an entry or was not "For Teaching").
    public func markKeyObjectSeen(_ sopInstanceUID: String) async throws(TeachingError) {
        _ = try await query(
            "INSERT INTO teaching_kos_seen (sop_uid, seen_at) VALUES (?, ?) ON CONFLICT (sop_uid) DO NOTHING",
            [.text(sopInstanceUID), .integer(Self.now())])
    }

    /// The server's de-identification secret (made once, in the database, so that every server sharing it derives the
    /// same UIDs and pseudonyms).
    public func deidentificationSecret() async throws(TeachingError) -> DeidentificationSecret {
        if let bytes = try await query("SELECT secret FROM teaching_secret WHERE id = 1", []).first?[0].bytes,
            let secret = DeidentificationSecret(bytes: bytes)
        {
            return secret
        }
        _ = try await query(
            "INSERT INTO teaching_secret (id, secret) VALUES (1, ?) ON CONFLICT (id) DO NOTHING",
            [.blob(DeidentificationSecret.generateBytes())])
        guard let bytes = try await query("SELECT secret FROM teaching_secret WHERE id = 1", []).first?[0].bytes,
            let secret = DeidentificationSecret(bytes: bytes)
        else { throw .database("the de-identification secret could not be made") }
        return secret
    }

    static let flaggedColumns =
        "id, kind, source_key, study_uid, refs, note, flagged_by, institution, masks, case_id, created_at, revision"

    static func flaggedRow(_ row: [SQLValue]) throws(TeachingError) -> FlaggedCase {
        let id = row[0].integer ?? 0
        let references: [InstanceReference]
        let masks: [String: [MaskRectangle]]
        do {
            references = try JSONDecoder().decode([InstanceReference].self, from: Data((row[4].text ?? "[]").utf8))
            masks = try JSONDecoder().decode([String: [MaskRectangle]].self, from: Data((row[8].text ?? "{}").utf8))
        } catch {
            throw .database("flagged case \(id) is not readable: \(error)")
        }
        return FlaggedCase(
            id: id, kind: FlaggedCase.Kind(rawValue: row[1].text ?? "") ?? .study, sourceKey: row[2].text ?? "",
            studyInstanceUID: row[3].text ?? "", references: references, note: row[5].text ?? "", flaggedBy: row[6].text ?? "",
            institution: row[7].text ?? "", masks: masks, caseID: row[9].integer,
            createdAt: Date(timeIntervalSince1970: Double(row[10].integer ?? 0)), revision: row[11].integer ?? 0)
    }
}

extension TeachingStore {
    /// A case from an exchange package: made once per `sourceKey` (a second import returns the first case, `created`
    /// false), with its de-identified images.
    public func importCase(
        _ content: CaseContent, author: String, institution: String, sourceKey: String, images: [CaseImage]
    ) async throws(TeachingError) -> (case: TeachingCase, created: Bool) {
        let made = try await insertCase(content, author: author, institution: institution, source: "package", sourceKey: sourceKey) {
            id in Self.imageSteps(caseID: id, images)
        }
        if !made.created, !images.isEmpty { try await run(Self.imageSteps(caseID: made.id, images), id: made.id) }
        return (try await get(made.id), made.created)
    }

    /// The key a case has in the packages this server exports: derived from the secret, so it names the case without
    /// revealing its id, and stays the same for every export of it.
    public func exchangeKey(of caseID: Int64) async throws(TeachingError) -> String {
        let c = try await get(caseID)
        if c.source == "package",
            let key = try await query("SELECT source_key FROM teaching_cases WHERE id = ?", [.integer(caseID)]).first?[0]
                .text
        {
            // A case imported from elsewhere keeps its original key, so it never doubles when it travels on.
            return String(key.dropFirst("package:".count))
        }
        return try await deidentificationSecret().replacementUID(for: "1.2.826.0.1.3680043.10.1287.\(caseID)")
    }
}
