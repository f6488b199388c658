import Archive
import ArgumentParser
import DICOM
import Foundation
import Server

/// `atrium import`: stores files, folders, zip archives and DICOMDIR media into the archive.
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Store DICOM files, folders (recursively), zip archives and DICOMDIR media into the archive.",
        discussion: """
            Objects are parsed strictly, their blobs written durably, then indexed; several files are stored at
            once (one task per core). A DICOMDIR given by name imports the files its directory records refer to
            (PS3.10). Progress goes to standard error, a summary to standard output. Files in folders that are not
            DICOM are skipped; the exit status is 1 when any object could not be stored.
            """
    )

    @Option(name: .long, help: "The archive directory (atrium.sqlite and blobs/). Default ATRIUM_DATA, or ./atrium-data.")
    var data: String?

    @Option(
        name: .long,
        help: "Index in PostgreSQL: postgres://user:password@host:port/database. Default ATRIUM_DATABASE, or SQLite in --data.")
    var database: String?

    @Option(
        name: .long,
        help: """
            Blobs in an S3-compatible store: s3://bucket/prefix (endpoint from ATRIUM_STORAGE_ENDPOINT or AWS_ENDPOINT_URL, \
            credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY). Default ATRIUM_STORAGE, or blobs/ in --data.
            """)
    var storage: String?

    @Option(name: .long, help: "What to do with a second copy of a stored instance: ignore or overwrite.")
    var duplicates = "ignore"

    @Option(name: .long, help: "The sending institution, kept as issuer of patient IDs that have none.")
    var institution: String?

    @Option(name: .long, help: "How many objects to store at once (default: the number of cores).")
    var jobs: Int?

    @Argument(help: "Files, folders, zip archives or DICOMDIR files.")
    var paths: [String]

    private enum Item {
        case file(String)
        case bytes(name: String, [UInt8])
    }

    private enum Result {
        case stored(StoreOutcome)
        case skipped
        case failed(name: String, reason: String)
    }

    func run() async throws {
        guard let policy = DuplicatePolicy(rawValue: duplicates) else {
            throw ValidationError("--duplicates must be ignore or overwrite")
        }
        // The same environment variables as `atrium serve`, so that both open the same archive; a flag overrides them.
        let environment = ProcessInfo.processInfo.environment
        let data = self.data ?? environment["ATRIUM_DATA"] ?? "./atrium-data"
        let database = self.database ?? environment["ATRIUM_DATABASE"].flatMap { $0.isEmpty ? nil : $0 }
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let storage = self.storage ?? environment["ATRIUM_STORAGE"].flatMap { $0.isEmpty ? nil : $0 }
        let settings = S3Settings(
            endpoint: environment["ATRIUM_STORAGE_ENDPOINT"], region: environment["ATRIUM_STORAGE_REGION"],
            pathStyle: environment["ATRIUM_STORAGE_PATH_STYLE"].map { ["1", "true", "yes"].contains($0.lowercased()) })
        let archive = try Archive.open(
            directory: data, database: database, storage: storage, storageSettings: settings, environment: environment,
            duplicatePolicy: policy)
        try await archive.blobs.prepare()
        try await archive.sweepOrphans()
        let source = SourceInfo(institution: institution, transport: .importer)

        // Direct files and DICOMDIR references first; zip entries are read one at a time as the queue drains.
        var files: [(path: String, explicit: Bool)] = []
        var zips: [ZipReader] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ValidationError("\(path): no such file or directory")
            }
            if isDirectory.boolValue {
                files += try expandPaths([path]).filter { !$0.hasSuffix("/DICOMDIR") }.map { ($0, false) }
            } else if ZipReader.isZip(path) {
                zips.append(try ZipReader(path: path))
            } else if let referenced = try? dicomdirReferences(path) {
                files += referenced.map { ($0, true) }
            } else {
                files.append((path, true))
            }
        }
        let total = files.count + zips.reduce(0) { $0 + $1.entryNames.count }
        var items = files.lazy.map { Item.file($0.path) }.makeIterator()
        let explicit = Set(files.filter(\.explicit).map(\.path))
        var zipQueue = zips.flatMap { zip in zip.entryNames.map { (zip, $0) } }.makeIterator()
        func nextItem() -> Item? {
            if let item = items.next() { return item }
            guard let (zip, name) = zipQueue.next() else { return nil }
            do {
                return .bytes(name: zip.path + ":" + name, try zip.extract(name))
            } catch {
                return .bytes(name: zip.path + ":" + name, [])
            }
        }

        var stored = 0
        var duplicates = 0
        var replaced = 0
        var skipped = 0
        var conflicts = 0
        var failures: [(String, String)] = []
        var done = 0
        let progress = Progress(total: total)
        let width = max(1, jobs ?? ProcessInfo.processInfo.activeProcessorCount)
        let explicitPaths = explicit
        await withTaskGroup(of: Result.self) { group in
            func add(_ item: Item) {
                group.addTask {
                    do {
                        switch item {
                        case .file(let path): return .stored(try await archive.store(file: path, source: source))
                        case .bytes(let name, let bytes): return .stored(try await archive.store(bytes, source: source, name: name))
                        }
                    } catch ArchiveError.unreadable(let name, .notDICOM) where !explicitPaths.contains(name) {
                        return .skipped
                    } catch {
                        let name: String
                        switch item {
                        case .file(let path): name = path
                        case .bytes(let n, _): name = n
                        }
                        return .failed(name: name, reason: "\(error)")
                    }
                }
            }
            var running = 0
            while running < width, let item = nextItem() {
                add(item)
                running += 1
            }
            while let result = await group.next() {
                done += 1
                switch result {
                case .stored(let outcome):
                    switch outcome.status {
                    case .stored: stored += 1
                    case .alreadyStored: duplicates += 1
                    case .replaced: replaced += 1
                    }
                    if outcome.patientConflict != nil { conflicts += 1 }
                case .skipped: skipped += 1
                case .failed(let name, let reason): failures.append((name, reason))
                }
                progress.update(done: done, stored: stored, duplicates: duplicates + replaced, failed: failures.count)
                if let item = nextItem() { add(item) }
            }
        }
        progress.finish()
        print(
            "stored \(stored), already stored \(duplicates), replaced \(replaced), skipped (not DICOM) \(skipped), failed \(failures.count)"
        )
        if conflicts > 0 { print("patient ID conflicts recorded: \(conflicts)") }
        for (name, reason) in failures.prefix(50) { print("failed: \(name): \(reason)") }
        if failures.count > 50 { print("… and \(failures.count - 50) more failures") }
        if !failures.isEmpty { throw ExitCode(1) }
    }
}

/// The files a DICOMDIR's directory records refer to (Referenced File ID (0004,1500), PS3.10 8.5, PS3.3 F.3).
private func dicomdirReferences(_ path: String) throws -> [String] {
    let file = try DICOMFile.read(contentsOf: path, options: .stopBeforePixelData)
    guard file.dataSet.contains(.directoryRecordSequence) else { throw FileWalkError(description: "not a DICOMDIR") }
    let base = (path as NSString).deletingLastPathComponent
    var out: [String] = []
    for record in file.dataSet.items(.directoryRecordSequence) {
        let components = record.strings(.referencedFileID)
        guard !components.isEmpty, !components.contains("..") else { continue }
        let candidate = ([base.isEmpty ? "." : base] + components).joined(separator: "/")
        if FileManager.default.fileExists(atPath: candidate) {
            out.append(candidate)
        } else {
            // Media written on case-insensitive file systems may have lower-case names.
            out.append(([base.isEmpty ? "." : base] + components.map { $0.lowercased() }).joined(separator: "/"))
        }
    }
    return out
}

/// A one-line progress display on standard error, redrawn at most ten times a second.
private final class Progress {
    private let total: Int
    private var last = Date.distantPast
    private let start = Date()

    init(total: Int) { self.total = total }

    func update(done: Int, stored: Int, duplicates: Int, failed: Int) {
        let now = Date()
        guard now.timeIntervalSince(last) >= 0.1 || done == total else { return }
        last = now
        let rate = Double(done) / max(now.timeIntervalSince(start), 0.001)
        let line = "\rimporting \(done)/\(total): stored \(stored), duplicates \(duplicates), failed \(failed) (\(Int(rate))/s)"
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() { FileHandle.standardError.write(Data("\n".utf8)) }
}
