import Foundation
import NIOCore

/// Resumable uploads for slow links: a session is created with the file's name and size, receives chunks at
/// explicit byte offsets, tells how much it holds (so a client resumes after an interruption), and is ingested once
/// complete. Session files live under `<data>/uploads/<id>/` so a restarted server still knows them. A session nobody
/// has added to for `abandonAfterSeconds` (its data file's modification time) is abandoned: it answers 404 and its files
/// are removed, by the lookup that finds it and by a sweep of the folder each time a session is created (OWASP ASVS 5.0 V5.2: no unbounded storage from unfinished uploads). One owner holds at most
/// `maximumOpenPerOwner` open sessions.
actor UploadSessions {
    struct Session: Codable, Sendable {
        var id: String
        var name: String
        var sizeBytes: Int
        /// Who created it (a username), or the browser's CSRF token before sign-in; only they may continue it.
        var owner: String
    }

    enum Failure: Error, Equatable {
        case notFound
        case forbidden
        /// The chunk does not start where the stored bytes end; `expected` is the offset to send.
        case offsetMismatch(expected: Int)
        case tooLarge(limitBytes: Int)
        case incomplete(receivedBytes: Int)
        case invalid(String)
        case storage(String)
    }

    let directory: String
    let maximumBytes: Int
    let abandonAfterSeconds: Double
    let maximumOpenPerOwner: Int
    private var sessions: [String: Session] = [:]

    init(directory: String, maximumBytes: Int, abandonAfterSeconds: Double = 86_400, maximumOpenPerOwner: Int = 50) {
        self.directory = directory
        self.maximumBytes = maximumBytes
        self.abandonAfterSeconds = abandonAfterSeconds
        self.maximumOpenPerOwner = maximumOpenPerOwner
    }

    /// Removes every abandoned session; returns how many. Called by ``create(name:sizeBytes:owner:)`` (the folder holds
    /// only open sessions, so the listing is short).
    @discardableResult
    func sweep(now: Double = Date().timeIntervalSince1970) -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return 0 }
        var removed = 0
        for id in names where id.count == 32 && id.allSatisfy(\.isHexDigit) && isAbandoned(id, now: now) {
            remove(id: id)
            removed += 1
        }
        return removed
    }

    /// Whether the session's data was last written longer ago than `abandonAfterSeconds` (a folder without data counts
    /// from its own modification time).
    private func isAbandoned(_ id: String, now: Double) -> Bool {
        let attributes =
            (try? FileManager.default.attributesOfItem(atPath: dataPath(id)))
            ?? (try? FileManager.default.attributesOfItem(atPath: directory + "/" + id))
        guard let modified = attributes?[.modificationDate] as? Date else { return false }
        return now - modified.timeIntervalSince1970 > abandonAfterSeconds
    }

    func create(name: String, sizeBytes: Int, owner: String) throws(Failure) -> Session {
        sweep()
        guard sessions.values.filter({ $0.owner == owner }).count < maximumOpenPerOwner else {
            throw .invalid("\(maximumOpenPerOwner) uploads are open already: finish them or let them expire")
        }
        guard sizeBytes >= 0 else { throw .invalid("size must not be negative") }
        guard sizeBytes <= maximumBytes else { throw .tooLarge(limitBytes: maximumBytes) }
        let cleaned = name.split(whereSeparator: { $0 == "\\" || $0 == "\0" }).joined(separator: "/")
        guard !cleaned.isEmpty, cleaned.utf8.count <= 1024 else { throw .invalid("a file name of 1 to 1024 bytes is needed") }
        let session = Session(id: CSRF.randomToken().prefix(32).description, name: cleaned, sizeBytes: sizeBytes, owner: owner)
        let folder = directory + "/" + session.id
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try JSONEncoder().encode(session).write(to: URL(fileURLWithPath: folder + "/session.json"), options: .atomic)
            guard FileManager.default.createFile(atPath: folder + "/data", contents: nil) else {
                throw Failure.storage("cannot create the upload file")
            }
        } catch {
            throw .storage("\(error)")
        }
        sessions[session.id] = session
        return session
    }

    /// The session and how many bytes it holds.
    func status(id: String, owner: String) throws(Failure) -> (session: Session, receivedBytes: Int) {
        let session = try lookup(id: id, owner: owner)
        return (session, receivedBytes(id: id))
    }

    /// Appends `chunk` at `offset`, which must be the number of bytes already held; returns the new count.
    func append(id: String, owner: String, offset: Int, chunk: ByteBuffer) throws(Failure) -> Int {
        let session = try lookup(id: id, owner: owner)
        let held = receivedBytes(id: id)
        guard offset == held else { throw .offsetMismatch(expected: held) }
        guard held + chunk.readableBytes <= session.sizeBytes else {
            throw .invalid("the chunk ends past the declared size of \(session.sizeBytes) bytes")
        }
        guard let handle = FileHandle(forWritingAtPath: dataPath(id)) else { throw .storage("cannot open the upload file") }
        do {
            defer { try? handle.close() }
            try handle.seek(toOffset: UInt64(held))
            try handle.write(contentsOf: Data(chunk.readableBytesView))
            try handle.synchronize()
        } catch {
            throw .storage("\(error)")
        }
        return held + chunk.readableBytes
    }

    /// Hands over a complete session's file (the caller ingests it, then calls `remove`).
    func complete(id: String, owner: String) throws(Failure) -> (session: Session, path: String) {
        let session = try lookup(id: id, owner: owner)
        let held = receivedBytes(id: id)
        guard held == session.sizeBytes else { throw .incomplete(receivedBytes: held) }
        sessions[id] = nil
        return (session, dataPath(id))
    }

    func remove(id: String) {
        sessions[id] = nil
        try? FileManager.default.removeItem(atPath: directory + "/" + id)
    }

    private func lookup(id: String, owner: String) throws(Failure) -> Session {
        guard id.count == 32, id.allSatisfy({ $0.isHexDigit }) else { throw .notFound }
        var session = sessions[id]
        if session == nil, let data = FileManager.default.contents(atPath: directory + "/" + id + "/session.json") {
            session = try? JSONDecoder().decode(Session.self, from: data)
            sessions[id] = session
        }
        guard let session else { throw .notFound }
        if isAbandoned(id, now: Date().timeIntervalSince1970) {
            remove(id: id)
            throw .notFound
        }
        guard session.owner == owner else { throw .forbidden }
        return session
    }

    private func dataPath(_ id: String) -> String { directory + "/" + id + "/data" }

    private func receivedBytes(id: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: dataPath(id)))?[.size] as? NSNumber)?.intValue ?? 0
    }
}
