import Foundation
import Platform
import Reading

/// Everything `atrium serve` can be told, in one place: defaults that run on a laptop, then a JSON file, then
/// environment variables, then command-line flags, each overriding the one before.
public struct ServerConfiguration: Sendable, Equatable, Codable {
    /// Where the embedded archive lives: `atrium.sqlite` and `blobs/`.
    public var dataDirectory: String = "./atrium-data"
    /// The index in PostgreSQL (`postgres://user:password@host:port/database`) instead of SQLite in the data directory;
    /// blobs stay in the data directory.
    public var database: String?
    /// The blobs in an S3-compatible object store (`s3://bucket/prefix`) instead of `blobs/` in the data directory.
    /// Credentials come from `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`), never from here.
    public var storage: String?
    /// The object store's URL (`http://127.0.0.1:9000` for MinIO); AWS's regional endpoint when nil and
    /// `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL` are unset.
    public var storageEndpoint: String?
    /// The region requests are signed for; `AWS_REGION`, `AWS_DEFAULT_REGION`, or `us-east-1` when nil.
    public var storageRegion: String?
    /// Path-style addressing (`endpoint/bucket/key`); by default on when an endpoint is set, off for AWS.
    public var storagePathStyle: Bool?
    /// Address the HTTP and DICOM listeners bind to. Loopback by default: exposing a PACS is a decision.
    public var host: String = "127.0.0.1"
    /// HTTP port (DICOMweb, the API and the web application).
    public var httpPort: Int = 8042
    /// DIMSE port.
    public var dicomPort: Int = 11112
    /// A second DIMSE port that speaks DICOM TLS (PS3.15 B.9), alongside `dicomPort`; needs `dicomTLSCertificate` and
    /// `dicomTLSKey`. Nil: no TLS port.
    public var dicomTLSPort: Int?
    /// PEM certificate (chain) the TLS port presents.
    public var dicomTLSCertificate: String?
    /// PEM private key of `dicomTLSCertificate`, unencrypted.
    public var dicomTLSKey: String?
    /// PEM CA certificates: when set, the TLS port requires client certificates signed by one of them.
    public var dicomTLSClientCA: String?
    /// Whether the plain DIMSE port listens; false leaves only the TLS port.
    public var dicomPlain: Bool = true
    /// The server's Application Entity Title.
    public var aeTitle: String = "ATRIUM"
    /// The HL7 v2 MLLP port for laboratory results (ORU^R01). Nil: off (the default); `--demo` turns it on at 2575 unless set.
    public var hl7Port: Int?
    /// Largest HL7 v2 message the MLLP listener takes, in bytes (larger ones get an AR and are dropped).
    public var hl7MaximumMessageBytes: Int = 1 << 20
    /// When `hl7Port` is taken, run without the MLLP listener (with a warning) instead of failing: set for the port `--demo`
    /// chooses by itself, never for one configured.
    public var hl7PortOptional = false
    /// Seconds an MLLP connection may stay silent before the listener closes it.
    public var hl7IdleSeconds: Int = 300
    /// Load the generated demonstration studies on first start.
    public var demo: Bool = false
    /// What a second copy of a stored instance does: `ignore` or `overwrite`.
    public var duplicatePolicy: String = "ignore"
    /// How index commits survive a power loss (``IndexDurability``): `recoverFromBlobs` (the default: each blob is synced
    /// with its provenance, index commits are synced once a second, and a start after an unclean stop re-indexes the
    /// newer blobs) or `everyCommit` (each commit synced). PostgreSQL and S3 storage always use `everyCommit`.
    public var indexDurability: String = "recoverFromBlobs"
    /// Largest STOW-RS request body, in bytes.
    public var maximumUploadBytes: Int = 2 << 30
    /// Most bytes one zip entry, deflated dataset (1.2.840.10008.1.2.1.99) or decoded request body may inflate to
    /// (docs/reliability.md).
    public var maximumEntryBytes: Int = IntakeLimits().maximumEntryBytes
    /// Most bytes all entries of one zip archive may inflate to together.
    public var maximumArchiveBytes: Int = IntakeLimits().maximumArchiveBytes
    /// Most inflated bytes per compressed byte past the first 16 MiB (0: no check).
    public var maximumCompressionRatio: Int = IntakeLimits().maximumCompressionRatio
    /// Most entries a zip archive may list.
    public var maximumArchiveEntries: Int = IntakeLimits().maximumArchiveEntries
    /// Zip entries up to this size are inflated in memory, larger ones into a temporary file.
    public var inMemoryEntryBytes: Int = IntakeLimits().inMemoryEntryBytes
    /// Bytes of decoded frames kept in memory for the rendered, thumbnail and frames resources (least recently used
    /// out first); 0 turns the cache off.
    public var frameCacheBytes: Int = 256 << 20
    /// The URL clients reach the server at (behind a proxy, say), for absolute URLs in responses; by default the
    /// request's Host, or the bound address.
    public var publicURL: String?
    /// `Strict-Transport-Security` max-age in seconds, sent when `publicURL` is https or a TLS proxy forwards the request
    /// with `X-Forwarded-Proto: https`; 0 never sends it (docs/security.md).
    public var hstsSeconds: Int = 31_536_000
    /// Sign-in attempts (`POST /api/session`, the login form, `POST /api/setup`) one client address may make per minute,
    /// whatever the usernames; beyond it, 429 until the minute has passed. 0: no limit.
    public var signInAttemptsPerMinute: Int = 60
    /// Requests with an unknown, expired or revoked bearer token one client address may make per minute; beyond it
    /// every bearer request from that address is 429 until the minute has passed. 0: no limit.
    public var failedTokensPerMinute: Int = 60
    /// A resumable upload nobody has added to for this long is abandoned: its files are removed (docs/security.md).
    public var uploadAbandonSeconds: Int = 86_400
    /// Known DICOM application entities (configuration file only): who may store, query and retrieve, and where C-MOVE
    /// sends to.
    public var peers: [PeerConfiguration] = []
    /// Whether a calling AE title that is not in `peers` may store, query and retrieve. On by default so that a newcomer can
    /// `storescu` at once; turn it off before the server is reachable from a network. An unknown AE is never a C-MOVE
    /// destination.
    public var allowUnknownPeers: Bool = true
    /// Whether a DIMSE association must present a user identity (PS3.7 D.3.3.7, type 2: a person's username and their
    /// password or API token); without one, or with a wrong one, the association is rejected. A presented identity is
    /// checked even when this is off.
    public var dicomRequireUserIdentity: Bool = false
    /// Where audit events are also sent, as RFC 5424 syslog messages: over UDP (RFC 5426), `udp://host:514`, or over TLS
    /// (RFC 5425), `tls://host[:6514][?ca=FILE&cert=FILE&key=FILE]` (``SyslogTLSDestination``). Nil: the database only.
    public var auditSyslog: String?
    /// Consultation service levels: seconds allowed to answer a stat, urgent and routine request (1 h, 4 h, 24 h).
    public var statSeconds: Int = 3600
    public var urgentSeconds: Int = 4 * 3600
    public var routineSeconds: Int = 24 * 3600
    /// Seconds a reader's claim lasts without a heartbeat from the open reporting page.
    public var claimLeaseSeconds: Int = 90
    /// Seconds an unacknowledged critical result waits before it is escalated (and again after each escalation).
    public var criticalEscalationSeconds: Int = 900
    /// The reading institution's name at the head of printed reports.
    public var readingInstitution: String = "Atrium"
    /// The SMTP relay for e-mail notifications, `smtp://[user[:password]@]host[:port][?tls=opportunistic|starttls|none
    /// &auth=plain|login&ca=/path/ca.pem]` (``SMTPRelay``: STARTTLS when offered, AUTH over TLS only); nil, the default:
    /// notifications stay in the application.
    public var smtpURL: String?
    /// The sender address of e-mail notifications.
    public var smtpFrom: String = "atrium@localhost"
    /// Seconds before the first retry of an e-mail the relay did not take; doubled after each failure, at most an hour.
    public var mailRetrySeconds: Int = 30

    /// The consultation workflow's settings, from the fields above.
    public var reading: ReadingSettings {
        var settings = ReadingSettings()
        settings.serviceLevels = ServiceLevels(
            statSeconds: Double(statSeconds), urgentSeconds: Double(urgentSeconds), routineSeconds: Double(routineSeconds))
        settings.leaseSeconds = Double(claimLeaseSeconds)
        settings.escalationSeconds = Double(criticalEscalationSeconds)
        settings.readingInstitution = readingInstitution
        settings.mail = smtpURL != nil
        settings.mailLinkBase = (publicURL ?? "").hasSuffix("/") ? String((publicURL ?? "").dropLast()) : (publicURL ?? "")
        return settings
    }

    public init() {}

    /// The caps of everything the server unpacks.
    public var intakeLimits: IntakeLimits {
        IntakeLimits(
            maximumEntryBytes: maximumEntryBytes, maximumArchiveBytes: maximumArchiveBytes,
            maximumCompressionRatio: maximumCompressionRatio,
            maximumArchiveEntries: maximumArchiveEntries, inMemoryEntryBytes: inMemoryEntryBytes)
    }

    /// The environment variables read, and the fields they set.
    public static let environmentVariables = [
        "ATRIUM_DATA": "dataDirectory", "ATRIUM_DATABASE": "database", "ATRIUM_HOST": "host", "ATRIUM_HTTP_PORT": "httpPort",
        "ATRIUM_STORAGE": "storage", "ATRIUM_STORAGE_ENDPOINT": "storageEndpoint", "ATRIUM_STORAGE_REGION": "storageRegion",
        "ATRIUM_STORAGE_PATH_STYLE": "storagePathStyle",
        "ATRIUM_DICOM_PORT": "dicomPort", "ATRIUM_HL7_PORT": "hl7Port", "ATRIUM_HL7_MAX_MESSAGE_BYTES": "hl7MaximumMessageBytes",
        "ATRIUM_HL7_IDLE_SECONDS": "hl7IdleSeconds",
        "ATRIUM_AET": "aeTitle", "ATRIUM_DEMO": "demo", "ATRIUM_DUPLICATE_POLICY": "duplicatePolicy",
        "ATRIUM_INDEX_DURABILITY": "indexDurability",
        "ATRIUM_MAX_UPLOAD_BYTES": "maximumUploadBytes", "ATRIUM_FRAME_CACHE_BYTES": "frameCacheBytes", "ATRIUM_PUBLIC_URL": "publicURL",
        "ATRIUM_HSTS_SECONDS": "hstsSeconds", "ATRIUM_SIGN_IN_ATTEMPTS_PER_MINUTE": "signInAttemptsPerMinute",
        "ATRIUM_FAILED_TOKENS_PER_MINUTE": "failedTokensPerMinute",
        "ATRIUM_UPLOAD_ABANDON_SECONDS": "uploadAbandonSeconds",
        "ATRIUM_ALLOW_UNKNOWN_PEERS": "allowUnknownPeers",
        "ATRIUM_DICOM_REQUIRE_USER_IDENTITY": "dicomRequireUserIdentity", "ATRIUM_AUDIT_SYSLOG": "auditSyslog",
        "ATRIUM_DICOM_TLS_PORT": "dicomTLSPort", "ATRIUM_DICOM_TLS_CERT": "dicomTLSCertificate",
        "ATRIUM_DICOM_TLS_KEY": "dicomTLSKey", "ATRIUM_DICOM_TLS_CA": "dicomTLSClientCA", "ATRIUM_DICOM_PLAIN": "dicomPlain",
        "ATRIUM_MAX_ENTRY_BYTES": "maximumEntryBytes", "ATRIUM_MAX_ARCHIVE_BYTES": "maximumArchiveBytes",
        "ATRIUM_MAX_COMPRESSION_RATIO": "maximumCompressionRatio", "ATRIUM_MAX_ARCHIVE_ENTRIES": "maximumArchiveEntries",
        "ATRIUM_IN_MEMORY_ENTRY_BYTES": "inMemoryEntryBytes",
        "ATRIUM_STAT_SECONDS": "statSeconds", "ATRIUM_URGENT_SECONDS": "urgentSeconds", "ATRIUM_ROUTINE_SECONDS": "routineSeconds",
        "ATRIUM_CLAIM_LEASE_SECONDS": "claimLeaseSeconds", "ATRIUM_CRITICAL_ESCALATION_SECONDS": "criticalEscalationSeconds",
        "ATRIUM_READING_INSTITUTION": "readingInstitution", "ATRIUM_SMTP_URL": "smtpURL", "ATRIUM_SMTP_FROM": "smtpFrom",
        "ATRIUM_MAIL_RETRY_SECONDS": "mailRetrySeconds",
    ]

    /// Applies a JSON configuration file; unknown keys are an error, so a typo does not pass silently.
    public mutating func apply(file path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ConfigurationError("\(path): the configuration file must hold a JSON object")
        }
        for (key, value) in object {
            if key == "peers" {
                do {
                    let json = try JSONSerialization.data(withJSONObject: value)
                    peers = try JSONDecoder().decode([PeerConfiguration].self, from: json)
                } catch {
                    throw ConfigurationError(
                        "\(path): peers is a list of {\"aeTitle\", \"host\", \"port\", \"institution\", \"permissions\"}: \(error)")
                }
            } else {
                try set(key, "\(value)", source: path)
            }
        }
    }

    /// Applies `ATRIUM_*` environment variables.
    public mutating func apply(environment: [String: String]) throws {
        for (variable, field) in Self.environmentVariables {
            if let value = environment[variable] { try set(field, value, source: variable) }
        }
    }

    /// Sets one field from text.
    public mutating func set(_ field: String, _ value: String, source: String) throws {
        func int() throws -> Int {
            guard let n = Int(value) else { throw ConfigurationError("\(source): \(field) must be an integer, not \(value)") }
            return n
        }
        switch field {
        case "dataDirectory": dataDirectory = value
        case "database": database = value.isEmpty ? nil : value
        case "storage":
            guard value.isEmpty || value.lowercased().hasPrefix("s3://") else {
                throw ConfigurationError("\(source): storage is s3://bucket/prefix (or empty for the data directory)")
            }
            storage = value.isEmpty ? nil : value
        case "storageEndpoint": storageEndpoint = value.isEmpty ? nil : value
        case "storageRegion": storageRegion = value.isEmpty ? nil : value
        case "storagePathStyle": storagePathStyle = value.isEmpty ? nil : ["1", "true", "yes"].contains(value.lowercased())
        case "host": host = value
        case "httpPort": httpPort = try int()
        case "dicomPort": dicomPort = try int()
        case "hl7Port": hl7Port = value.isEmpty ? nil : try int()
        case "hl7MaximumMessageBytes": hl7MaximumMessageBytes = try int()
        case "hl7IdleSeconds": hl7IdleSeconds = try int()
        case "dicomTLSPort": dicomTLSPort = value.isEmpty ? nil : try int()
        case "dicomTLSCertificate": dicomTLSCertificate = value.isEmpty ? nil : value
        case "dicomTLSKey": dicomTLSKey = value.isEmpty ? nil : value
        case "dicomTLSClientCA": dicomTLSClientCA = value.isEmpty ? nil : value
        case "dicomPlain": dicomPlain = ["1", "true", "yes"].contains(value.lowercased())
        case "aeTitle": aeTitle = value
        case "demo": demo = ["1", "true", "yes"].contains(value.lowercased())
        case "duplicatePolicy":
            guard ["ignore", "overwrite"].contains(value) else {
                throw ConfigurationError("\(source): duplicatePolicy is ignore or overwrite")
            }
            duplicatePolicy = value
        case "indexDurability":
            guard ["recoverFromBlobs", "everyCommit"].contains(value) else {
                throw ConfigurationError("\(source): indexDurability is recoverFromBlobs or everyCommit")
            }
            indexDurability = value
        case "maximumUploadBytes": maximumUploadBytes = try int()
        case "maximumEntryBytes", "maximumArchiveBytes", "inMemoryEntryBytes":
            guard let bytes = IntakeLimits.byteCount(value), bytes > 0 else {
                throw ConfigurationError("\(source): \(field) is a positive byte count (2147483648, 2GiB, 512MiB), not \(value)")
            }
            switch field {
            case "maximumEntryBytes": maximumEntryBytes = bytes
            case "maximumArchiveBytes": maximumArchiveBytes = bytes
            default: inMemoryEntryBytes = bytes
            }
        case "maximumCompressionRatio":
            let ratio = try int()
            guard ratio >= 0 else { throw ConfigurationError("\(source): maximumCompressionRatio must be 0 (no check) or more") }
            maximumCompressionRatio = ratio
        case "maximumArchiveEntries":
            let count = try int()
            guard count > 0 else { throw ConfigurationError("\(source): maximumArchiveEntries must be 1 or more") }
            maximumArchiveEntries = count
        case "frameCacheBytes":
            let bytes = try int()
            guard bytes >= 0 else { throw ConfigurationError("\(source): frameCacheBytes must be 0 or more") }
            frameCacheBytes = bytes
        case "publicURL": publicURL = value
        case "hstsSeconds": hstsSeconds = try int()
        case "signInAttemptsPerMinute": signInAttemptsPerMinute = try int()
        case "failedTokensPerMinute": failedTokensPerMinute = try int()
        case "uploadAbandonSeconds": uploadAbandonSeconds = try int()
        case "allowUnknownPeers": allowUnknownPeers = ["1", "true", "yes"].contains(value.lowercased())
        case "dicomRequireUserIdentity": dicomRequireUserIdentity = ["1", "true", "yes"].contains(value.lowercased())
        case "auditSyslog":
            guard value.isEmpty || AuditSyslog.isValid(value) else {
                throw ConfigurationError("\(source): \(AuditSyslog.formatHelp)")
            }
            auditSyslog = value.isEmpty ? nil : value
        case "statSeconds", "urgentSeconds", "routineSeconds", "claimLeaseSeconds", "criticalEscalationSeconds":
            let n = try int()
            guard n > 0 else { throw ConfigurationError("\(source): \(field) is a positive number of seconds") }
            switch field {
            case "statSeconds": statSeconds = n
            case "urgentSeconds": urgentSeconds = n
            case "routineSeconds": routineSeconds = n
            case "claimLeaseSeconds": claimLeaseSeconds = n
            default: criticalEscalationSeconds = n
            }
        case "readingInstitution": readingInstitution = value
        case "smtpURL":
            guard value.isEmpty || SMTPRelay(url: value) != nil else {
                throw ConfigurationError("\(source): smtpURL is smtp://[user[:password]@]host[:port][?tls=…&auth=…&ca=…]")
            }
            smtpURL = value.isEmpty ? nil : value
        case "smtpFrom":
            guard IdentityStore.isValidEmail(value) else { throw ConfigurationError("\(source): smtpFrom is an e-mail address") }
            smtpFrom = value
        case "mailRetrySeconds":
            let n = try int()
            guard n > 0 else { throw ConfigurationError("\(source): mailRetrySeconds is a positive number of seconds") }
            mailRetrySeconds = n
        default: throw ConfigurationError("\(source): unknown setting \(field)")
        }
    }

    /// Checks values that would otherwise fail later and less clearly.
    public func validate() throws {
        guard (0...65535).contains(httpPort), (0...65535).contains(dicomPort), (0...65535).contains(hl7Port ?? 0) else {
            throw ConfigurationError("ports are 0–65535")
        }
        guard hl7MaximumMessageBytes >= 1024 else { throw ConfigurationError("hl7MaximumMessageBytes is at least 1024") }
        guard hl7IdleSeconds >= 1 else { throw ConfigurationError("hl7IdleSeconds is at least 1") }
        if let dicomTLSPort {
            guard (0...65535).contains(dicomTLSPort) else { throw ConfigurationError("ports are 0–65535") }
            guard dicomTLSCertificate != nil, dicomTLSKey != nil else {
                throw ConfigurationError("dicomTLSPort needs dicomTLSCertificate and dicomTLSKey")
            }
        } else if !dicomPlain {
            throw ConfigurationError("dicomPlain false needs dicomTLSPort: the server would have no DIMSE port")
        }
        guard !aeTitle.isEmpty, aeTitle.count <= 16, aeTitle.allSatisfy({ $0.isASCII && $0 != "\\" && !$0.isNewline }) else {
            throw ConfigurationError("the AE title must be 1–16 ASCII characters without backslashes (PS3.5 6.2 AE)")
        }
        var seen: Set<String> = []
        for peer in peers {
            guard !peer.aeTitle.isEmpty, peer.aeTitle.count <= 16, peer.aeTitle.allSatisfy({ $0.isASCII && $0 != "\\" && !$0.isNewline })
            else { throw ConfigurationError("peer AE title \(peer.aeTitle) must be 1–16 ASCII characters without backslashes") }
            guard seen.insert(peer.aeTitle).inserted else { throw ConfigurationError("peer \(peer.aeTitle) is listed twice") }
            guard (1...65535).contains(peer.port), !peer.host.isEmpty else {
                throw ConfigurationError("peer \(peer.aeTitle) needs a host and a port 1–65535")
            }
            for permission in peer.permissions where !PeerConfiguration.permissionNames.contains(permission) {
                throw ConfigurationError(
                    "peer \(peer.aeTitle): unknown permission \(permission) (one of \(PeerConfiguration.permissionNames.joined(separator: ", ")))"
                )
            }
        }
    }
}

/// A known DICOM application entity, as the configuration file lists it:
/// `{"aeTitle": "CT1", "host": "10.0.0.5", "port": 104, "institution": "County Hospital", "permissions": ["store", "query"]}`.
public struct PeerConfiguration: Sendable, Equatable, Codable {
    /// The permission names: `store` (C-STORE), `query` (C-FIND), `retrieve` (C-MOVE, C-GET), `moveDestination`.
    public static let permissionNames = ["store", "query", "retrieve", "moveDestination"]

    /// AE title.
    public var aeTitle: String
    /// Host name or address (where C-MOVE connects).
    public var host: String
    /// TCP port.
    public var port: Int
    /// The institution, recorded as the source of what the peer stores (and the issuer of its patient IDs when the objects
    /// carry none).
    public var institution: String?
    /// What the peer may do; all four when absent.
    public var permissions: [String]

    /// Creates a peer.
    public init(aeTitle: String, host: String, port: Int, institution: String? = nil, permissions: [String] = permissionNames) {
        self.aeTitle = aeTitle
        self.host = host
        self.port = port
        self.institution = institution
        self.permissions = permissions
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        aeTitle = try container.decode(String.self, forKey: .aeTitle)
        host = try container.decode(String.self, forKey: .host)
        port = try container.decode(Int.self, forKey: .port)
        institution = try container.decodeIfPresent(String.self, forKey: .institution)
        permissions = try container.decodeIfPresent([String].self, forKey: .permissions) ?? Self.permissionNames
    }
}

/// A configuration value that cannot be used.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
