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
            httpPort, dicomPort, dicomTLSPort, dicomTLSCertificate, dicomTLSKey, dicomTLSClientCA, dicomPlain, aeTitle, demo, duplicatePolicy, indexDurability, maximumUploadBytes, frameCacheBytes, allowUnknownPeers, and peers: a list of
            {"aeTitle", "host", "port", "institution", "permissions": ["store", "query", "retrieve", "moveDestination"]}),
            then ATRIUM_* environment variables (ATRIUM_DATA, ATRIUM_DATABASE, ATRIUM_STORAGE, ATRIUM_STORAGE_ENDPOINT,
            ATRIUM_STORAGE_REGION, ATRIUM_STORAGE_PATH_STYLE, ATRIUM_HOST, ATRIUM_HTTP_PORT, ATRIUM_DICOM_PORT, ATRIUM_DICOM_TLS_PORT,
            ATRIUM_DICOM_TLS_CERT, ATRIUM_DICOM_TLS_KEY, ATRIUM_DICOM_TLS_CA, ATRIUM_DICOM_PLAIN, ATRIUM_AET,
            ATRIUM_DEMO, ATRIUM_DUPLICATE_POLICY, ATRIUM_INDEX_DURABILITY, ATRIUM_MAX_UPLOAD_BYTES, ATRIUM_ALLOW_UNKNOWN_PEERS), then these flags; each
            overrides the one before. A calling AE title not in peers may store, query and retrieve while allowUnknownPeers is
            true (the default, so that storescu works at once), and is never a C-MOVE destination.
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
    @Flag(help: "Load the generated demonstration studies on first start.") var demo = false
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
        try intake.apply(to: &configuration)
        var logger = Logger(label: "atrium")
        logger.logLevel = .info
        let server = try AtriumServer(configuration: configuration, logger: logger, metrics: .processWide)
        let host = configuration.host
        let aeTitle = configuration.aeTitle
        let dataDirectory = configuration.dataDirectory
        let storage = configuration.storage
        try await server.run(
            onServerRunning: { port in
                print("Atrium is running.")
                print("  DICOMweb:  http://\(host):\(port)/dicom-web")
                print("  metrics:   http://\(host):\(port)/metrics")
                print("  data:      \(dataDirectory)")
                if let storage { print("  blobs:     \(storage)") }
                fflush(nil)
            },
            onDICOMListening: { port in
                print("  DIMSE:     AE title \(aeTitle) on \(host):\(port) (e.g. storescu -aec \(aeTitle) \(host) \(port) FILE)")
                fflush(nil)
            },
            onDICOMTLSListening: { port in
                print("  DIMSE TLS: AE title \(aeTitle) on \(host):\(port)")
                fflush(nil)
            })
    }
}
