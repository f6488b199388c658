import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What a backup holds, written last into its folder as `manifest.json`: a folder without one is not a backup
/// (it was cut short) and restore refuses it.
public struct BackupManifest: Codable, Sendable, Equatable {
    /// The layout of the backup folder; restore refuses a format it does not know.
    public static let currentFormat = 1

    public var format: Int
    /// When the index snapshot was taken (ISO 8601, UTC).
    public var snapshotAt: String
    /// Instances in the snapshot.
    public var instances: Int
    /// Blob files copied by this run (the rest were already in the folder from an earlier run, unchanged).
    public var blobsCopied: Int
    /// Bytes of every blob the snapshot refers to.
    public var blobBytes: Int64
    /// Instances in the snapshot whose blobs were deleted before they could be copied (the instance was deleted after
    /// the snapshot): restore removes them, as the archive had by the time the backup finished.
    public var deletedSinceSnapshot: [String]
    /// Blob files of earlier runs that the snapshot no longer refers to, removed from the folder.
    public var blobsPruned: Int
}

/// What ``ArchiveBackup/restore(from:into:)`` did.
public struct RestoreReport: Sendable, Equatable {
    public var instances: Int
    public var blobs: Int
    public var blobBytes: Int64
    /// Instances the manifest lists as deleted after the snapshot, removed from the restored index.
    public var removedDeletedSinceSnapshot: Int
}

/// Backup and restore of an archive kept in a data directory (the embedded default: `atrium.sqlite` and `blobs/`).
///
/// A backup may run while the server serves. The index — which holds every workflow's tables, not only the images —
/// is copied first, as of one moment, with SQLite's online backup; then every blob that copy refers to is copied,
/// synced, with its modification time. Blobs are never changed once written, so a blob already in the folder with its
/// recorded size is not copied again: running the backup into the same folder again copies only what is new, and
/// removes what the new snapshot no longer refers to. A blob that has gone between the snapshot and its copy belongs
/// to an instance deleted meanwhile (deletion removes the row, then the file); it is listed in the manifest and
/// restore removes that instance too. Anything else missing or of the wrong size makes the backup fail.
public enum ArchiveBackup {
    /// How many times a blob whose size is still short of its row's is looked at again: with the blob-log durability a
    /// row is committed while its blob is being written, so a snapshot can name a blob a few milliseconds from whole.
    static let settleAttempts = 50

    /// Backs the archive in `dataDirectory` up into `destination` (made if missing). Returns the manifest written.
    public static func backup(dataDirectory: String, to destination: String) throws(ArchiveError) -> BackupManifest {
        let database = dataDirectory + "/atrium.sqlite"
        guard FileManager.default.fileExists(atPath: database) else {
            throw .storage(path: database, operation: "back up", reason: "no index here (is this an Atrium data directory?)")
        }
        let destination = (destination as NSString).standardizingPath
        let source = (dataDirectory as NSString).standardizingPath
        guard destination != source, !destination.hasPrefix(source + "/") else {
            throw .storage(path: destination, operation: "back up", reason: "the backup folder must be outside the data directory")
        }
        try makeDirectory(destination + "/blobs")
        // A manifest present is replaced only once this run is complete; until then the folder is marked unfinished.
        let manifestPath = destination + "/manifest.json"
        unlink(manifestPath)
        let snapshotPath = destination + "/atrium.sqlite.partial"
        unlink(snapshotPath)
        let snapshotAt = ISO8601DateFormatter().string(from: Date())
        try SQLiteConnection(path: database, readOnly: true).backup(into: snapshotPath)

        let snapshot = try SQLiteConnection(path: snapshotPath)
        let check = try snapshot.query("PRAGMA quick_check").first?.first?.text
        guard check == "ok" else {
            throw .database(operation: "check the snapshot", code: 0, message: check ?? "no answer from quick_check")
        }
        let rows = try snapshot.query("SELECT sop_uid, blob_key, size_bytes FROM instances")
        var copied = 0
        var bytes: Int64 = 0
        var deleted: [String] = []
        var wanted = Set<String>()
        for row in rows {
            guard row.count == 3, let sop = row[0].text, let key = row[1].text, let size = row[2].integer else { continue }
            let relative = try safeKey(key)
            wanted.insert(relative)
            bytes += size
            let target = destination + "/blobs/" + relative
            if fileSize(target) == size { continue }
            let from = dataDirectory + "/blobs/" + relative
            var found = fileSize(from)
            var attempts = 0
            while let now = found, now < size, attempts < settleAttempts {
                usleep(20_000)
                attempts += 1
                found = fileSize(from)
            }
            guard let found else {
                deleted.append(sop)
                continue
            }
            guard found == size else {
                throw .storage(path: from, operation: "back up", reason: "the blob has \(found) bytes, its index row says \(size)")
            }
            try copyFile(from: from, to: target)
            copied += 1
        }
        // Blobs of an earlier run that this snapshot does not name (their instances were deleted since).
        var pruned = 0
        for relative in listFiles(destination + "/blobs") where !wanted.contains(relative) {
            if unlink(destination + "/blobs/" + relative) == 0 { pruned += 1 }
        }
        try syncTree(destination + "/blobs")
        guard rename(snapshotPath, destination + "/atrium.sqlite") == 0 else {
            throw .storage(path: snapshotPath, operation: "rename", reason: String(cString: strerror(errno)))
        }
        let manifest = BackupManifest(
            format: BackupManifest.currentFormat, snapshotAt: snapshotAt, instances: rows.count, blobsCopied: copied,
            blobBytes: bytes, deletedSinceSnapshot: deleted.sorted(), blobsPruned: pruned)
        try writeJSON(manifest, to: manifestPath)
        try syncDirectory(destination)
        return manifest
    }

    /// Restores the backup in `backup` into `dataDirectory`, which must not hold an index (a new or emptied directory):
    /// every blob is checked against its row's size, the whole is assembled beside the target and moved into place
    /// last, so a failed restore leaves nothing behind. Instances the manifest lists as deleted after the snapshot are
    /// removed. Start the server on the directory afterwards.
    public static func restore(from backup: String, into dataDirectory: String) async throws(ArchiveError) -> RestoreReport {
        let manifestPath = backup + "/manifest.json"
        guard let data = FileManager.default.contents(atPath: manifestPath) else {
            throw .storage(
                path: manifestPath, operation: "restore",
                reason: "no manifest: not an Atrium backup, or one that did not finish (run atrium backup again)")
        }
        let manifest: BackupManifest
        do {
            manifest = try JSONDecoder().decode(BackupManifest.self, from: data)
        } catch {
            throw .storage(path: manifestPath, operation: "restore", reason: "unreadable manifest: \(error)")
        }
        guard manifest.format == BackupManifest.currentFormat else {
            throw .storage(
                path: manifestPath, operation: "restore",
                reason: "backup format \(manifest.format); this Atrium restores format \(BackupManifest.currentFormat)")
        }
        let target = (dataDirectory as NSString).standardizingPath
        for existing in ["atrium.sqlite", "blobs"] where FileManager.default.fileExists(atPath: target + "/" + existing) {
            throw .storage(
                path: target + "/" + existing, operation: "restore",
                reason: "the data directory already holds an archive: restore into a new or emptied directory")
        }
        let parent = (target as NSString).deletingLastPathComponent
        try makeDirectory(parent.isEmpty ? "." : parent)
        let staging = target + ".restoring-\(getpid())"
        try? FileManager.default.removeItem(atPath: staging)
        try makeDirectory(staging + "/blobs")
        do {
            try copyFile(from: backup + "/atrium.sqlite", to: staging + "/atrium.sqlite")
            let index = try SQLiteConnection(path: staging + "/atrium.sqlite")
            let rows = try index.query("SELECT sop_uid, blob_key, size_bytes FROM instances")
            let gone = Set(manifest.deletedSinceSnapshot)
            var restored = 0
            var bytes: Int64 = 0
            for row in rows {
                guard row.count == 3, let sop = row[0].text, let key = row[1].text, let size = row[2].integer else { continue }
                if gone.contains(sop) { continue }
                let relative = try safeKey(key)
                let from = backup + "/blobs/" + relative
                guard let found = fileSize(from) else {
                    throw ArchiveError.storage(path: from, operation: "restore", reason: "the backup lacks the blob of instance \(sop)")
                }
                guard found == size else {
                    throw ArchiveError.storage(
                        path: from, operation: "restore", reason: "the blob has \(found) bytes, its index row says \(size)")
                }
                try copyFile(from: from, to: staging + "/blobs/" + relative)
                restored += 1
                bytes += size
            }
            try syncTree(staging + "/blobs")
            // Instances deleted after the snapshot: removed through the index's own deletion, which keeps its counts.
            if !gone.isEmpty {
                let sqlite = try SQLiteIndex(path: staging + "/atrium.sqlite", durability: .everyCommit)
                for sop in gone { _ = try await sqlite.delete(.instance(sopInstanceUID: sop)) }
            }
            try makeDirectory(target)
            for name in ["atrium.sqlite", "blobs"] {
                guard rename(staging + "/" + name, target + "/" + name) == 0 else {
                    throw ArchiveError.storage(path: target + "/" + name, operation: "restore", reason: String(cString: strerror(errno)))
                }
            }
            try syncDirectory(target)
            try? FileManager.default.removeItem(atPath: staging)
            return RestoreReport(instances: restored, blobs: restored, blobBytes: bytes, removedDeletedSinceSnapshot: gone.count)
        } catch let error as ArchiveError {
            try? FileManager.default.removeItem(atPath: staging)
            throw error
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw .storage(path: staging, operation: "restore", reason: "\(error)")
        }
    }

    /// A blob key as a relative path, refused if it could climb out of the blob folder (keys are made by Atrium, but a
    /// damaged or forged index must not make restore write elsewhere).
    static func safeKey(_ key: String) throws(ArchiveError) -> String {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard !key.isEmpty, !key.hasPrefix("/"), !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            throw .storage(path: key, operation: "back up", reason: "not a blob key")
        }
        return key
    }
}

private func fileSize(_ path: String) -> Int64? {
    var info = stat()
    guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
    return Int64(info.st_size)
}

/// Copies a file through a temporary name, syncs it, keeps its modification time, then renames it into place.
private func copyFile(from source: String, to destination: String) throws(ArchiveError) {
    let directory = (destination as NSString).deletingLastPathComponent
    if access(directory, F_OK) != 0 { try makeDirectory(directory) }
    let input = open(source, O_RDONLY | O_CLOEXEC)
    guard input >= 0 else { throw .storage(path: source, operation: "open", reason: String(cString: strerror(errno))) }
    defer { close(input) }
    let temporary = destination + ".part"
    let output = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard output >= 0 else { throw .storage(path: temporary, operation: "create", reason: String(cString: strerror(errno))) }
    var failure: ArchiveError?
    var buffer = [UInt8](repeating: 0, count: 1 << 20)
    copying: while true {
        let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
        if count == 0 { break }
        if count < 0 {
            if errno == EINTR { continue }
            failure = .storage(path: source, operation: "read", reason: String(cString: strerror(errno)))
            break
        }
        var offset = 0
        while offset < count {
            let written = buffer.withUnsafeBytes { write(output, $0.baseAddress! + offset, count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                failure = .storage(path: temporary, operation: "write", reason: String(cString: strerror(errno)))
                break copying
            }
            offset += written
        }
    }
    if failure == nil, fsync(output) != 0 {
        failure = .storage(path: temporary, operation: "fsync", reason: String(cString: strerror(errno)))
    }
    var info = stat()
    if failure == nil, fstat(input, &info) == 0 {
        var times = [info.st_atim, info.st_mtim]
        _ = futimens(output, &times)
    }
    close(output)
    if let failure {
        unlink(temporary)
        throw failure
    }
    guard rename(temporary, destination) == 0 else {
        unlink(temporary)
        throw .storage(path: destination, operation: "rename", reason: String(cString: strerror(errno)))
    }
}

/// The regular files under `root`, as paths relative to it (temporary `.part` files left by a cut run included, so
/// that they are pruned).
private func listFiles(_ root: String) -> [String] {
    guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
    var files: [String] = []
    while let relative = enumerator.nextObject() as? String {
        if fileSize(root + "/" + relative) != nil { files.append(relative) }
    }
    return files
}

/// Syncs a directory and every directory below it, so that the names of the files copied into them are durable.
private func syncTree(_ root: String) throws(ArchiveError) {
    var directories = [root]
    if let enumerator = FileManager.default.enumerator(atPath: root) {
        while let relative = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory), isDirectory.boolValue {
                directories.append(root + "/" + relative)
            }
        }
    }
    for directory in directories { try syncDirectory(directory) }
}

private func writeJSON(_ manifest: BackupManifest, to path: String) throws(ArchiveError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    let data: Data
    do {
        data = try encoder.encode(manifest)
    } catch {
        throw .storage(path: path, operation: "encode manifest", reason: "\(error)")
    }
    let temporary = path + ".part"
    guard FileManager.default.createFile(atPath: temporary, contents: data) else {
        throw .storage(path: temporary, operation: "write", reason: "cannot create")
    }
    let fd = open(temporary, O_RDONLY | O_CLOEXEC)
    if fd >= 0 {
        fsync(fd)
        close(fd)
    }
    guard rename(temporary, path) == 0 else {
        throw .storage(path: path, operation: "rename", reason: String(cString: strerror(errno)))
    }
}
