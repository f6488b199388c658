import Archive
import ArgumentParser
import Foundation
import Server

/// Where the backup commands find the archive: `--data` (or ATRIUM_DATA, or `--config`) as `atrium serve`.
struct BackupLocation: ParsableArguments {
    @Option(help: "A JSON configuration file (as for serve).") var config: String?
    @Option(help: "Data directory (atrium.sqlite and blobs/). Default ATRIUM_DATA or ./atrium-data.") var data: String?

    /// The configuration as `atrium serve` would read it; refuses the setups these commands do not cover.
    func configuration() throws -> ServerConfiguration {
        var configuration = ServerConfiguration()
        if let config { try configuration.apply(file: config) }
        try configuration.apply(environment: ProcessInfo.processInfo.environment)
        if let data { configuration.dataDirectory = data }
        if let database = configuration.database, !database.isEmpty {
            throw ValidationError(
                "the index is in PostgreSQL: back it up with pg_dump and the blobs as docs/operations.md (Backup and restore) says")
        }
        if let storage = configuration.storage, !storage.isEmpty {
            throw ValidationError("the blobs are in object storage: see docs/operations.md (Backup and restore)")
        }
        return configuration
    }
}

/// `atrium backup`: a consistent copy of the archive, taken while the server runs.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Back up the archive (index with every workflow's data, and blobs) into a folder, while the server runs.",
        discussion: """
            The index is copied as of one moment (SQLite's online backup), then every blob it refers to. Run again into
            the same folder to copy only what is new. The folder holds manifest.json once the backup is complete.
            Exit status 1 with the reason on any error. Embedded default only (SQLite and blobs/); for PostgreSQL and
            S3 see docs/operations.md.
            """)

    @OptionGroup var location: BackupLocation
    @Option(name: .long, help: "The backup folder (made if missing; outside the data directory).") var to: String

    func run() async throws {
        let configuration = try location.configuration()
        do {
            let manifest = try ArchiveBackup.backup(dataDirectory: configuration.dataDirectory, to: to)
            print(
                "backed up \(manifest.instances) instances (\(manifest.blobBytes) bytes of blobs; \(manifest.blobsCopied) copied now, "
                    + "\(manifest.blobsPruned) pruned, \(manifest.deletedSinceSnapshot.count) deleted since the snapshot) into \(to)")
        } catch {
            FileHandle.standardError.write(Data("atrium backup: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// `atrium restore`: a backup made by `atrium backup` into a new or emptied data directory.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup made by atrium backup into a new or emptied data directory (server stopped).",
        discussion: """
            Every blob is checked against its index row; the whole is assembled beside the data directory and moved in
            last, so a failed restore leaves nothing. A data directory that already holds an archive is refused.
            """)

    @OptionGroup var location: BackupLocation
    @Option(name: .long, help: "The backup folder (holding manifest.json).") var from: String

    func run() async throws {
        let configuration = try location.configuration()
        do {
            let report = try await ArchiveBackup.restore(from: from, into: configuration.dataDirectory)
            print(
                "restored \(report.instances) instances (\(report.blobBytes) bytes of blobs) into \(configuration.dataDirectory)"
                    + (report.removedDeletedSinceSnapshot > 0
                        ? "; \(report.removedDeletedSinceSnapshot) deleted after the snapshot removed" : ""))
        } catch {
            FileHandle.standardError.write(Data("atrium restore: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
