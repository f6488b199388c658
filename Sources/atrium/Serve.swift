import ArgumentParser
import Foundation
import Logging
import Server

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the Atrium server: the archive, DICOMweb under /dicom-web, and the DIMSE listener.",
        discussion: """
            Settings come from defaults, then --config FILE (JSON with the same names as below: dataDirectory, database, storage,
            storageEndpoint, storageRegion, storagePathStyle, host,
            httpPort, dicomPort, dicomTLSPort, dicomTLSCertificate, dicomTLSKey, dicomTLSClientCA, dicomPlain, aeTitle, hl7Port, hl7MaximumMessageBytes, demo, duplicatePolicy, indexDurability, maximumUploadBytes, frameCacheBytes, allowUnknownPeers, and peers: a list of
            {"aeTitle", "host", "port", "institution", "permissions": ["store", "query", "retrieve", "moveDestination"]}),
            then ATRIUM_* environment variables (ATRIUM_DATA, ATRIUM_DATABASE, ATRIUM_STORAGE, ATRIUM_STORAGE_ENDPOINT,
            ATRIUM_STORAGE_REGION, ATRIUM_STORAGE_PATH_STYLE, ATRIUM_HOST, ATRIUM_HTTP_PORT, ATRIUM_DICOM_PORT, ATRIUM_DICOM_TLS_PORT,
            ATRIUM_DICOM_TLS_CERT, ATRIUM_DICOM_TLS_KEY, ATRIUM_DICOM_TLS_CA, ATRIUM_DICOM_PLAIN, ATRIUM_AET, ATRIUM_HL7_PORT,
            ATRIUM_DEMO, ATRIUM_DUPLICATE_POLICY, ATRIUM_INDEX_DURABILITY, ATRIUM_MAX_UPLOAD_BYTES, ATRIUM_ALLOW_UNKNOWN_PEERS), then these flags; each
            overrides the one before. A calling AE title not in peers may store, query and retrieve while allowUnknownPeers is
            true (the default, so that storescu works at once); false rejects its association. It is never a C-MOVE destination.
            Stop with Ctrl-C or SIGTERM: requests in flight finish first.
            """
    )

    @Option(help: "A JSON configuration file.") var config: String?
    @Option(help: "Data directory (atrium.sqlite and blobs/). Default ./atrium-data.") var data: String?
    @Option(help: "Index in PostgreSQL: postgres://user:password@host:port/database. Default SQLite in the data directory.")
    var database: String?
    @Option(
        help: """
            Blobs in an S3-compatible object store: s3://bucket/prefix. Credentials from AWS_ACCESS_KEY_ID and \
            AWS_SECRET_ACCESS_KEY. Default the data directory's blobs/.
            """)
    var storage: String?
    @Option(help: "The object store's URL (MinIO: http://host:9000). Default AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, or AWS.")
    var storageEndpoint: String?
    @Option(help: "The object store's region. Default AWS_REGION, AWS_DEFAULT_REGION, or us-east-1.") var storageRegion: String?
    @Flag(
        inversion: .prefixedNo,
        help: "Path-style addressing (endpoint/bucket/key). Default on with --storage-endpoint, off for AWS.")
    var storagePathStyle: Bool?
    @Option(help: "Address to bind. Default 127.0.0.1.") var host: String?
    @Option(help: "HTTP port. Default 8042; 0 picks a free port.") var httpPort: Int?
    @Option(help: "DICOM (DIMSE) port. Default 11112.") var dicomPort: Int?
    @Option(help: "The server's AE title. Default ATRIUM.") var aet: String?
    @Option(help: "HL7 v2 MLLP port for laboratory results (ORU^R01). Default off; 2575 with --demo.") var hl7Port: Int?
    @Flag(
        help: """
            Demo data on a data folder without people of its own: four institutions, one person per role (passwords printed \
            once), and generated studies. Remove the demo accounts with atrium demo remove.
            """)
    var demo = false
    @OptionGroup(title: "Intake caps (docs/reliability.md)") var intake: IntakeOptions

    func run() async throws {
        keepFreedMemoryForReuse(environment: ProcessInfo.processInfo.environment)
        var configuration = ServerConfiguration()
        if let config { try configuration.apply(file: config) }
        try configuration.apply(environment: ProcessInfo.processInfo.environment)
        if let data { configuration.dataDirectory = data }
        if let database { configuration.database = database }
        if let storage { configuration.storage = storage }
        if let storageEndpoint { configuration.storageEndpoint = storageEndpoint }
        if let storageRegion { configuration.storageRegion = storageRegion }
        if let storagePathStyle { configuration.storagePathStyle = storagePathStyle }
        if let host { configuration.host = host }
        if let httpPort { configuration.httpPort = httpPort }
        if let dicomPort { configuration.dicomPort = dicomPort }
        if let aet { configuration.aeTitle = aet }
        if demo { configuration.demo = true }
        if let hl7Port { configuration.hl7Port = hl7Port }
        if configuration.demo && configuration.hl7Port == nil {
            configuration.hl7Port = 2575
            configuration.hl7PortOptional = true
        }
        try intake.apply(to: &configuration)
        var logger = Logger(label: "atrium")
        logger.logLevel = .info
        let server = try AtriumServer(configuration: configuration, logger: logger, metrics: .processWide)
        let banner = StartBanner(
            server: server, configuration: configuration,
            expectedListeners: 1 + (configuration.dicomPlain ? 1 : 0)
                + (configuration.dicomTLSPort != nil ? 1 : 0))
        try await server.run(
            onServerRunning: { port in await banner.listening(.http, port) },
            onDICOMListening: { port in await banner.listening(.dimse, port) },
            onDICOMTLSListening: { port in await banner.listening(.dimseTLS, port) })
    }
}

/// The lines `atrium serve` prints once every listener is up: the web application's address first, then DICOMweb, DIMSE
/// and metrics; while no administrator exists the one-time setup link; with `--demo` the demo accounts (their passwords
/// only when they were made at this start).
actor StartBanner {
    enum Listener { case http, dimse, dimseTLS }

    let server: AtriumServer
    let configuration: ServerConfiguration
    let expectedListeners: Int
    private var ports: [Listener: Int] = [:]
    private var printed = false

    init(server: AtriumServer, configuration: ServerConfiguration, expectedListeners: Int) {
        self.server = server
        self.configuration = configuration
        self.expectedListeners = expectedListeners
    }

    func listening(_ listener: Listener, _ port: Int) {
        ports[listener] = port
        guard !printed, ports.count >= expectedListeners, let http = ports[.http] else { return }
        printed = true
        print(text(httpPort: http), terminator: "")
        fflush(nil)
    }

    /// The address people type: a wildcard bind address is reached on this machine as 127.0.0.1.
    var displayHost: String {
        let host = configuration.host
        if host == "0.0.0.0" || host == "::" || host.isEmpty { return "127.0.0.1" }
        return host.contains(":") ? "[\(host)]" : host
    }

    func text(httpPort: Int) -> String {
        var web = "http://\(displayHost):\(httpPort)"
        if let publicURL = configuration.publicURL, !publicURL.isEmpty {
            web = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        }
        let aeTitle = configuration.aeTitle
        var lines = ["Atrium is running."]
        lines.append("  web:       \(web)/")
        lines.append("  DICOMweb:  \(web)/dicom-web")
        if let port = ports[.dimse] {
            lines.append(
                "  DIMSE:     AE title \(aeTitle) on \(displayHost):\(port) (e.g. storescu -aec \(aeTitle) \(displayHost) \(port) FILE)")
        }
        if let port = ports[.dimseTLS] { lines.append("  DIMSE TLS: AE title \(aeTitle) on \(displayHost):\(port)") }
        lines.append("  metrics:   \(web)/metrics")
        lines.append("  data:      \(configuration.dataDirectory)")
        if let storage = configuration.storage { lines.append("  blobs:     \(storage)") }
        if let token = server.setupToken.pending {
            lines.append("")
            lines.append(
                "No administrator yet. Open this one-time link to create the first one (it works once, until the server restarts):")
            lines.append("  setup:     \(web)/setup?token=\(token)")
        }
        switch server.firstRun.demo {
        case .seeded(let created, let existing, _):
            let removal = "atrium demo remove --data \(configuration.dataDirectory)"
            if !created.isEmpty {
                lines.append("")
                lines.append("Demo accounts, one per role (passwords shown only now; remove them with \(removal)):")
                for account in created {
                    let user = account.username.padding(toLength: 16, withPad: " ", startingAt: 0)
                    let role = account.role.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)
                    let institution = account.institution.padding(toLength: 11, withPad: " ", startingAt: 0)
                    lines.append("  demo:      \(user) \(role) \(institution) password: \(account.password)")
                }
            }
            if !existing.isEmpty {
                lines.append("")
                lines.append(
                    "Demo accounts from an earlier start: \(existing.joined(separator: ", ")) (their passwords were shown then; "
                        + "\(removal) and a restart with --demo make new ones).")
            }
        case .skipped:
            lines.append("")
            lines.append("--demo: this data folder has people of its own, so no demo data was added.")
        case nil: break
        }
        lines.append("")
        return lines.joined(separator: "\n")
    }
}
