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
            (PS3.10). Progress goes to standard error, a summary to standard output. Files in folders and zip entries
            that are not DICOM are skipped and listed with their sizes; the exit status is 1 when any object could not
            be stored, including a zip entry refused by an intake cap (docs/reliability.md).
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

    @OptionGroup(title: "Intake caps (docs/reliability.md)") var intake: IntakeOptions

    @Argument(help: "Files, folders, zip archives or DICOMDIR files.")
    var paths: [String]

    /// One object to store, with its size for the in-flight budget.
    private enum Item {
        case file(String, sizeBytes: Int)
        case entry(name: String, ZipReader.Extracted)
        /// Refused before storing (a zip entry past a cap, a file past the per-object cap): counted as failed.
        case refused(name: String, reason: String)

        var sizeBytes: Int {
            switch self {
            case .file(_, let size): size
            case .entry(_, let extracted): extracted.sizeBytes
            case .refused: 0
            }
        }
    }

    private enum Result {
        case stored(StoreOutcome, sizeBytes: Int)
        case skipped(name: String, sizeBytes: Int, reason: String)
        case failed(name: String, reason: String, sizeBytes: Int)
    }

    /// Object bytes held at once by the stores in flight, beside the one object that may be larger
    /// (docs/reliability.md): memory stays bounded whatever the inputs hold.
    static let inFlightBudgetBytes = 1 << 30

    func run() async throws {
        guard let policy = DuplicatePolicy(rawValue: duplicates) else {
            throw ValidationError("--duplicates must be ignore or overwrite")
        }
        // The same environment variables as `atrium serve`, so that both open the same archive; a flag overrides them.
        let environment = ProcessInfo.processInfo.environment
        var configuration = ServerConfiguration()
        do {
            try configuration.apply(
                environment: environment.filter { $0.key.hasPrefix("ATRIUM_MAX_") || $0.key == "ATRIUM_IN_MEMORY_ENTRY_BYTES" })
            try intake.apply(to: &configuration)
        } catch {
            throw ValidationError("\(error)")
        }
        let limits = configuration.intakeLimits
        let data = self.data ?? environment["ATRIUM_DATA"] ?? "./atrium-data"
        let database = self.database ?? environment["ATRIUM_DATABASE"].flatMap { $0.isEmpty ? nil : $0 }
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let temporaryDirectory = ZipReader.temporaryDirectory(data: data, label: "import")
        defer { try? FileManager.default.removeItem(atPath: temporaryDirectory) }
        let storage = self.storage ?? environment["ATRIUM_STORAGE"].flatMap { $0.isEmpty ? nil : $0 }
        let settings = S3Settings(
            endpoint: environment["ATRIUM_STORAGE_ENDPOINT"], region: environment["ATRIUM_STORAGE_REGION"],
            pathStyle: environment["ATRIUM_STORAGE_PATH_STYLE"].map { ["1", "true", "yes"].contains($0.lowercased()) })
        var opened = try Archive.open(
            directory: data, database: database, storage: storage, storageSettings: settings, environment: environment,
            duplicatePolicy: policy)
        opened.inflationLimits = limits.inflation
        let archive = opened
        try await archive.blobs.prepare()
        try await archive.sweepOrphans()
        let source = SourceInfo(institution: institution, transport: .importer)

        // Direct files and DICOMDIR references first; zip entries are read one at a time as the queue drains.
        var files: [(path: String, explicit: Bool)] = []
        var zips: [ZipReader] = []
        var unreadableZips: [(String, String)] = []
        var refusedReferences: [(String, String)] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ValidationError("\(path): no such file or directory")
            }
            if isDirectory.boolValue {
                files += try expandPaths([path]).filter { !$0.hasSuffix("/DICOMDIR") }.map { ($0, false) }
            } else if ZipReader.isZip(path) {
                do {
                    zips.append(try ZipReader(path: path, limits: limits))
                } catch {
                    unreadableZips.append((path, "\(error)"))
                }
            } else if let referenced = try? dicomdirReferences(path, limits: limits) {
                files += referenced.files.map { ($0, true) }
                refusedReferences += referenced.refused
            } else {
                files.append((path, true))
            }
        }
        let total = files.count + zips.reduce(0) { $0 + $1.entries.count }
        var fileQueue = files.makeIterator()
        let explicit = Set(files.filter(\.explicit).map(\.path))
        var zipQueue = zips.flatMap { zip in zip.entries.map { (zip, $0) } }.makeIterator()
        func nextItem() -> Item? {
            if let (path, _) = fileQueue.next() {
                var info = stat()
                let size = stat(path, &info) == 0 ? Int(info.st_size) : 0
                // A file is read whole to be stored: one past the per-object cap is refused unread.
                if size > limits.maximumEntryBytes {
                    return .refused(
                        name: path,
                        reason: "\(size) bytes, past the per-object cap of \(limits.maximumEntryBytes) bytes (maximumEntryBytes)")
                }
                return .file(path, sizeBytes: size)
            }
            guard let (zip, entry) = zipQueue.next() else { return nil }
            let name = zip.path + ":" + entry.name
            do {
                return .entry(name: name, try zip.extract(entry, temporaryDirectory: temporaryDirectory))
            } catch let error as ZipError {
                return .refused(name: name, reason: error.reason)
            } catch {
                return .refused(name: name, reason: "\(error) (\(entry.declaredBytes) bytes declared)")
            }
        }

        var stored = 0
        var duplicates = 0
        var replaced = 0
        var skipped: [(name: String, sizeBytes: Int, reason: String)] = []
        var conflicts = 0
        var failures: [(String, String)] = unreadableZips + refusedReferences
        var done = 0
        let progress = Progress(total: total)
        let width = max(1, jobs ?? ProcessInfo.processInfo.activeProcessorCount)
        let explicitPaths = explicit
        let inMemory = limits.inMemoryEntryBytes
        await withTaskGroup(of: Result.self) { group in
            func add(_ item: Item) {
                group.addTask {
                    let size = item.sizeBytes
                    var label = ""
                    do {
                        switch item {
                        case .file(let path, let size):
                            label = path
                            if size > inMemory {
                                // Mapped, not copied: its pages are the file's, which the kernel may drop and read again.
                                return .stored(
                                    try await archive.store(ByteStorage(mappingFile: path), source: source, name: path), sizeBytes: size)
                            }
                            return .stored(try await archive.store(file: path, source: source), sizeBytes: size)
                        case .entry(let name, let extracted):
                            label = name
                            switch extracted {
                            case .bytes(let bytes):
                                if ZipReader.isZip(bytes) {
                                    return .skipped(name: name, sizeBytes: size, reason: "a zip archive inside the archive is not unpacked")
                                }
                                return .stored(try await archive.store(bytes, source: source, name: name), sizeBytes: size)
                            case .file(let path, _):
                                defer { extracted.discard() }
                                if ZipReader.isZip(path) {
                                    return .skipped(name: name, sizeBytes: size, reason: "a zip archive inside the archive is not unpacked")
                                }
                                return .stored(
                                    try await archive.store(ByteStorage(mappingFile: path), source: source, name: name), sizeBytes: size)
                            }
                        case .refused(let name, let reason):
                            return .failed(name: name, reason: reason, sizeBytes: 0)
                        }
                    } catch ArchiveError.unreadable(let name, .notDICOM(let why)) where !explicitPaths.contains(name) {
                        return .skipped(name: name, sizeBytes: size, reason: why)
                    } catch {
                        return .failed(name: label, reason: "\(error)", sizeBytes: size)
                    }
                }
            }
            // At most `width` stores at once, holding at most the in-flight budget of object bytes (or one object).
            var running = 0
            var inFlight = 0
            var pending: Item? = nil
            func fill() {
                while running < width {
                    guard let item = pending ?? nextItem() else { return }
                    if running > 0 && inFlight + item.sizeBytes > Self.inFlightBudgetBytes {
                        pending = item
                        return
                    }
                    pending = nil
                    add(item)
                    running += 1
                    inFlight += item.sizeBytes
                }
            }
            fill()
            while let result = await group.next() {
                done += 1
                running -= 1
                switch result {
                case .stored(let outcome, let size):
                    inFlight -= size
                    switch outcome.status {
                    case .stored: stored += 1
                    case .alreadyStored: duplicates += 1
                    case .replaced: replaced += 1
                    }
                    if outcome.patientConflict != nil { conflicts += 1 }
                case .skipped(let name, let size, let reason):
                    inFlight -= size
                    skipped.append((name, size, reason))
                case .failed(let name, let reason, let size):
                    inFlight -= size
                    failures.append((name, reason))
                }
                progress.update(done: done, stored: stored, duplicates: duplicates + replaced, failed: failures.count)
                fill()
            }
        }
        progress.finish()
        print(
            "stored \(stored), already stored \(duplicates), replaced \(replaced), skipped (not DICOM) \(skipped.count), failed \(failures.count)"
        )
        if conflicts > 0 { print("patient ID conflicts recorded: \(conflicts)") }
        for entry in skipped.prefix(100) { print("skipped: \(entry.name) (\(entry.sizeBytes) bytes): \(entry.reason)") }
        if skipped.count > 100 { print("… and \(skipped.count - 100) more skipped") }
        for (name, reason) in failures.prefix(50) { print("failed: \(name): \(reason)") }
        if failures.count > 50 { print("… and \(failures.count - 50) more failures") }
        if !failures.isEmpty { throw ExitCode(1) }
    }
}

/// The files a DICOMDIR's directory records refer to (Referenced File ID (0004,1500), PS3.10 8.5, PS3.3 F.3), and the
/// references refused because they would leave the medium: a component that climbs, separates or is encoded
/// (``DICOMDIRReferences/problem(_:)``), or a path that resolves outside the medium's folder through a symbolic link.
private func dicomdirReferences(_ path: String, limits: IntakeLimits) throws -> (files: [String], refused: [(String, String)]) {
    var info = stat()
    guard stat(path, &info) == 0, Int(info.st_size) <= limits.maximumEntryBytes else { throw FileWalkError(description: "not a DICOMDIR") }
    let file = try DICOMFile.read(contentsOf: path, options: ReadOptions(stopBefore: .pixelData, inflationLimits: limits.inflation))
    guard file.dataSet.contains(.directoryRecordSequence) else { throw FileWalkError(description: "not a DICOMDIR") }
    let base = (path as NSString).deletingLastPathComponent
    let folder = base.isEmpty ? "." : base
    let root = resolvedPath(folder) ?? folder
    var files: [String] = []
    var refused: [(String, String)] = []
    for reference in DICOMDIRReferences.references(in: file.dataSet) {
        let label = path + ": Referenced File ID " + reference.components.joined(separator: "\\")
        guard let relative = reference.relativePath else {
            refused.append((label, "refused: \(reference.problem ?? "not a path inside the medium")"))
            continue
        }
        var candidate = folder + "/" + relative
        // Media written on case-insensitive file systems may have lower-case names.
        if !FileManager.default.fileExists(atPath: candidate) { candidate = folder + "/" + relative.lowercased() }
        if let resolved = resolvedPath(candidate), !resolved.hasPrefix(root.hasSuffix("/") ? root : root + "/") {
            refused.append((label, "refused: it resolves outside the medium (a symbolic link)"))
            continue
        }
        files.append(candidate)
    }
    return (files, refused)
}

/// The canonical absolute path of an existing file (symbolic links resolved), or nil.
private func resolvedPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
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
