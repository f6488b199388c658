import Archive
import Foundation
import Platform

/// Collections (ordered playlists of cases) and share links.
extension TeachingStore {
    // MARK: - Collections

    public func createCollection(title: String, description: String, owner: String, caseIDs: [Int64]) async throws(TeachingError)
        -> CaseCollection
    {
        try await validateCollection(title: title, caseIDs: caseIDs)
        let now = Self.now()
        guard
            let id = try await query(
                "INSERT INTO teaching_collections (title, description, owner, created_at, updated_at, revision) VALUES (?, ?, ?, ?, ?, 0) RETURNING id",
                [.text(title), .text(description), .text(owner), .integer(now), .integer(now)]
            ).first?.first?.integer
        else { throw .database("no id for the new collection") }
        try await run(memberSteps(id, caseIDs), id: id)
        return try await collection(id)
    }

    /// Replaces a collection's title, description and cases (the caller read `revision`).
    public func updateCollection(_ id: Int64, title: String, description: String, caseIDs: [Int64], revision: Int64)
        async throws(TeachingError) -> CaseCollection
    {
        try await validateCollection(title: title, caseIDs: caseIDs)
        _ = try await collection(id)
        var steps = [
            SQLStep(
                "UPDATE teaching_collections SET title = ?, description = ?, updated_at = ?, revision = revision + 1 WHERE id = ? AND revision = ? RETURNING id",
                [.text(title), .text(description), .integer(Self.now()), .integer(id), .integer(revision)], guarded: true)
        ]
        steps += memberSteps(id, caseIDs)
        try await run(steps, id: id)
        return try await collection(id)
    }

    public func collection(_ id: Int64) async throws(TeachingError) -> CaseCollection {
        guard
            let row = try await query(
                "SELECT id, title, description, owner, created_at, updated_at, revision FROM teaching_collections WHERE id = ?",
                [.integer(id)]
            ).first
        else { throw .invalid("collection \(id) does not exist") }
        let members = try await query(
            "SELECT case_id FROM teaching_collection_cases WHERE collection_id = ? ORDER BY position", [.integer(id)]
        ).compactMap { $0[0].integer }
        return CaseCollection(
            id: id, title: row[1].text ?? "", description: row[2].text ?? "", owner: row[3].text ?? "", caseIDs: members,
            createdAt: Date(timeIntervalSince1970: Double(row[4].integer ?? 0)),
            updatedAt: Date(timeIntervalSince1970: Double(row[5].integer ?? 0)), revision: row[6].integer ?? 0)
    }

    /// Every collection, newest change first.
    public func collections() async throws(TeachingError) -> [CaseCollection] {
        var out: [CaseCollection] = []
        for row in try await query("SELECT id FROM teaching_collections ORDER BY updated_at DESC, id DESC", []) {
            if let id = row[0].integer { out.append(try await collection(id)) }
        }
        return out
    }

    func validateCollection(title: String, caseIDs: [Int64]) async throws(TeachingError) {
        guard !title.trimmingCharacters(in: .whitespaces).isEmpty, title.count <= 500 else {
            throw .invalid("a collection needs a title of at most 500 characters")
        }
        guard Set(caseIDs).count == caseIDs.count else { throw .invalid("a case appears twice in the collection") }
        guard caseIDs.count <= 500 else { throw .invalid("a collection holds at most 500 cases") }
        for id in caseIDs { _ = try await get(id) }
    }

    func memberSteps(_ id: Int64, _ caseIDs: [Int64]) -> [SQLStep] {
        [SQLStep("DELETE FROM teaching_collection_cases WHERE collection_id = ?", [.integer(id)])]
            + caseIDs.enumerated().map { position, caseID in
                SQLStep(
                    "INSERT INTO teaching_collection_cases (collection_id, position, case_id) VALUES (?, ?, ?)",
                    [.integer(id), .integer(Int64(position)), .integer(caseID)])
            }
    }

    // MARK: - Share links

    /// Makes a link to a case or a collection; returns it with the token, which is stored only as its SHA-256.
    public func createShareLink(_ target: ShareLink.Target, scope: ShareLink.Scope, expiresAt: Date, by: String, now: Date = Date())
        async throws(TeachingError) -> (link: ShareLink, token: String)
    {
        guard expiresAt > now else { throw .invalid("a share link expires in the future") }
        guard expiresAt.timeIntervalSince(now) <= 366 * 86400 else { throw .invalid("a share link lasts at most a year") }
        switch target {
        case .teachingCase(let id): _ = try await get(id)
        case .collection(let id): _ = try await collection(id)
        }
        let token = Self.randomToken()
        guard
            let id = try await query(
                """
                INSERT INTO teaching_share_links (token_hash, target_kind, target_id, scope, expires_at, created_by, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id
                """,
                [
                    .text(Self.tokenHash(token)), .text(target.kind), .integer(target.id), .text(scope.rawValue),
                    .integer(Int64(expiresAt.timeIntervalSince1970.rounded(.down))), .text(by), .integer(Int64(now.timeIntervalSince1970)),
                ]
            ).first?.first?.integer
        else { throw .database("no id for the new share link") }
        return (try await shareLink(id: id), token)
    }

    /// The link a token names, when it is usable at `now` (nil when unknown, revoked or expired).
    public func resolveShareLink(token: String, now: Date = Date()) async throws(TeachingError) -> ShareLink? {
        guard token.count >= 20, token.count <= 100 else { return nil }
        guard
            let row = try await query(
                "SELECT \(Self.linkColumns) FROM teaching_share_links WHERE token_hash = ?", [.text(Self.tokenHash(token))]
            )
            .first
        else { return nil }
        let link = try Self.linkRow(row)
        return link.isUsable(at: now) ? link : nil
    }

    public func shareLink(id: Int64) async throws(TeachingError) -> ShareLink {
        guard let row = try await query("SELECT \(Self.linkColumns) FROM teaching_share_links WHERE id = ?", [.integer(id)]).first else {
            throw .invalid("share link \(id) does not exist")
        }
        return try Self.linkRow(row)
    }

    /// The links of a target, newest first (revoked and expired ones too, marked as such).
    public func shareLinks(of target: ShareLink.Target) async throws(TeachingError) -> [ShareLink] {
        try await query(
            "SELECT \(Self.linkColumns) FROM teaching_share_links WHERE target_kind = ? AND target_id = ? ORDER BY id DESC",
            [.text(target.kind), .integer(target.id)]
        ).map(Self.linkRow)
    }

    /// Revokes a link at once; revoking twice is not an error.
    public func revokeShareLink(id: Int64, now: Date = Date()) async throws(TeachingError) -> ShareLink {
        _ = try await shareLink(id: id)
        _ = try await query(
            "UPDATE teaching_share_links SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            [.integer(Int64(now.timeIntervalSince1970)), .integer(id)])
        return try await shareLink(id: id)
    }

    static let linkColumns = "id, target_kind, target_id, scope, expires_at, created_by, created_at, revoked_at"

    static func linkRow(_ row: [SQLValue]) throws(TeachingError) -> ShareLink {
        guard let target = ShareLink.Target(kind: row[1].text ?? "", id: row[2].integer ?? 0),
            let scope = ShareLink.Scope(rawValue: row[3].text ?? "")
        else { throw .database("share link \(row[0].integer ?? 0) is not readable") }
        return ShareLink(
            id: row[0].integer ?? 0, target: target, scope: scope, expiresAt: Date(timeIntervalSince1970: Double(row[4].integer ?? 0)),
            createdBy: row[5].text ?? "", createdAt: Date(timeIntervalSince1970: Double(row[6].integer ?? 0)),
            revokedAt: row[7].integer.map { Date(timeIntervalSince1970: Double($0)) })
    }

    /// 256 random bits as base64url (the platform's secrets).
    static func randomToken() -> String { Secrets.random() }

    static func tokenHash(_ token: String) -> String { Secrets.digest(token) }
}
