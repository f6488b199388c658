import ArgumentParser
import DICOM
import DICOMNetwork
import Foundation

struct Echo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify a peer with C-ECHO (PS3.4 A.4), as dcmtk's echoscu.", discussion: networkExitCodes)

    @OptionGroup var peer: PeerOptions

    @Option(name: .long, help: "Number of C-ECHO requests, each on its own association.")
    var repeatCount: Int = 1

    func run() async throws {
        for _ in 0..<max(1, repeatCount) {
            let status: DIMSEStatus
            do {
                status = try await peer.client.echo()
            } catch {
                throw associationFailure("echo", error)
            }
            print("C-ECHO \(peer.calledAETitle)@\(peer.host):\(peer.port): \(status)")
            if status != .success { throw ExitCode(NetworkExit.operationFailed) }
        }
    }
}

struct Send: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send DICOM files with C-STORE (PS3.4 B), as dcmtk's storescu.",
        discussion: """
            Directories are walked recursively. The presentation contexts are proposed from the files' SOP classes and \
            transfer syntaxes; uncompressed files may also go as explicit or implicit VR little endian. One line per file: \
            the status, the SOP Instance UID and the path.
            """ + "\n" + networkExitCodes)

    @OptionGroup var peer: PeerOptions

    @Argument(help: "Files, or directories to walk.")
    var paths: [String]

    func run() async throws {
        let files = try expand(paths)
        var failed = 0
        var sent = 0
        let started = ContinuousClock.now
        do {
            try await peer.client.store(paths: files) { outcome in
                if let status = outcome.status, status.kind == .success || status.kind == .warning {
                    sent += 1
                    if peer.verbose || status.kind == .warning { print("\(status) \(outcome.sopInstanceUID) \(outcome.path)") }
                } else {
                    failed += 1
                    let reason = outcome.status.map { "\($0)" } ?? (outcome.error ?? "not sent")
                    print("FAILED \(reason) \(outcome.sopInstanceUID) \(outcome.path)")
                }
            }
        } catch {
            throw associationFailure("send", error)
        }
        let seconds =
            Double((ContinuousClock.now - started).components.attoseconds) / 1e18
            + Double((ContinuousClock.now - started).components.seconds)
        writeStandardError("atrium send: \(sent) sent, \(failed) failed in \(String(format: "%.2f", seconds)) s\n")
        if failed > 0 { throw ExitCode(NetworkExit.operationFailed) }
    }
}

struct Find: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Query a peer with C-FIND (PS3.4 C.4.1), as dcmtk's findscu.",
        discussion: """
            Each match is printed as one line of DICOM JSON (PS3.18 F.2). Example:
              atrium find --host pacs --port 104 --aec PACS --level STUDY -k PatientID=123 -k StudyDate=20240101-20241231 -k StudyInstanceUID
            """ + "\n" + networkExitCodes)

    @OptionGroup var peer: PeerOptions
    @OptionGroup var query: QueryOptions

    @Option(name: .long, help: "Stop after this many matches (sends C-CANCEL).")
    var limit: Int?

    func run() async throws {
        let identifier = try query.identifier()
        var count = 0
        let status: DIMSEStatus
        do {
            status = try await peer.client.find(identifier, model: try query.informationModel()) { match in
                count += 1
                print(String(decoding: DICOMJSONEncoder().encode(match), as: UTF8.self))
                return limit.map { count < $0 } ?? true
            }
        } catch {
            throw associationFailure("find", error)
        }
        writeStandardError("atrium find: \(count) matches, final status \(status)\n")
        if status.kind != .success && status.kind != .cancel { throw ExitCode(NetworkExit.operationFailed) }
    }
}

struct Move: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask a peer to send instances to an AE with C-MOVE (PS3.4 C.4.2), as dcmtk's movescu.",
        discussion: networkExitCodes)

    @OptionGroup var peer: PeerOptions
    @OptionGroup var query: QueryOptions

    @Option(name: .long, help: "The AE title the peer sends the instances to (it must know it).")
    var destination: String

    func run() async throws {
        let outcome: DIMSEClient.RetrieveOutcome
        do {
            outcome = try await peer.client.move(try query.identifier(), model: try query.informationModel(), destination: destination) {
                counts in
                if peer.verbose { writeStandardError("atrium move: \(counts.remaining ?? 0) remaining, \(counts.completed) completed\n") }
            }
        } catch {
            throw associationFailure("move", error)
        }
        report("move", outcome)
    }
}

struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Retrieve instances with C-GET (PS3.4 C.4.3) into a folder, as dcmtk's getscu.",
        discussion: """
            The instances arrive on the same association as C-STORE sub-operations and are written under --out at \
            <StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm.
            """ + "\n" + networkExitCodes)

    @OptionGroup var peer: PeerOptions
    @OptionGroup var query: QueryOptions

    @Option(name: .long, help: "Folder the instances are written to.")
    var out: String = "."

    @Option(name: .long, help: "Storage SOP class UIDs to accept (repeatable); by default the 127 most common.")
    var sopClass: [String] = []

    func run() async throws {
        let classes = sopClass.isEmpty ? CommonStorageClasses.uids : sopClass
        let outcome: DIMSEClient.RetrieveOutcome
        do {
            outcome = try await peer.client.get(
                try query.identifier(), model: try query.informationModel(), storageSOPClasses: classes,
                storage: FileStorageProvider(directory: out, logger: peer.logger))
        } catch {
            throw associationFailure("get", error)
        }
        report("get", outcome)
    }
}

private func report(_ command: String, _ outcome: DIMSEClient.RetrieveOutcome) {
    let counts = outcome.counts
    print(
        "C-\(command.uppercased()) status \(outcome.status): \(counts.completed) completed, \(counts.failed) failed, \(counts.warning) warning"
    )
    for uid in outcome.failedSOPInstanceUIDs { print("failed \(uid)") }
}

/// The storage classes proposed by `atrium get` when none are named: the ones imaging departments send every day.
enum CommonStorageClasses {
    static let uids: [String] = {
        let preferred = [
            "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.2.1", "1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.5.1.4.1.1.4.1",
            "1.2.840.10008.5.1.4.1.1.1", "1.2.840.10008.5.1.4.1.1.1.1", "1.2.840.10008.5.1.4.1.1.1.2", "1.2.840.10008.5.1.4.1.1.7",
            "1.2.840.10008.5.1.4.1.1.6.1", "1.2.840.10008.5.1.4.1.1.3.1", "1.2.840.10008.5.1.4.1.1.20", "1.2.840.10008.5.1.4.1.1.128",
            "1.2.840.10008.5.1.4.1.1.481.1", "1.2.840.10008.5.1.4.1.1.88.11", "1.2.840.10008.5.1.4.1.1.88.22",
            "1.2.840.10008.5.1.4.1.1.88.59", "1.2.840.10008.5.1.4.1.1.104.1", "1.2.840.10008.5.1.4.1.1.12.1",
        ]
        let rest = StorageSOPClasses.all.subtracting(preferred).sorted()
        return Array((preferred + rest).prefix(127))
    }()
}
