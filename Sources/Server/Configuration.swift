import Foundation

/// Everything `atrium serve` can be told, in one place: defaults that run on a laptop, then a JSON file, then
/// environment variables, then command-line flags, each overriding the one before.
public struct ServerConfiguration: Sendable, Equatable, Codable {
    /// Where the embedded archive lives: `atrium.sqlite` and `blobs/`.
    public var dataDirectory: String = "./atrium-data"
    /// Address the HTTP and DICOM listeners bind to. Loopback by default: exposing a PACS is a decision.
    public var host: String = "127.0.0.1"
    /// HTTP port (DICOMweb, the API and the web application).
    public var httpPort: Int = 8042
    /// DIMSE port.
    public var dicomPort: Int = 11112
    /// The server's Application Entity Title.
    public var aeTitle: String = "ATRIUM"
    /// Load the generated demonstration studies on first start.
    public var demo: Bool = false
    /// What a second copy of a stored instance does: `ignore` or `overwrite`.
    public var duplicatePolicy: String = "ignore"
    /// Largest STOW-RS request body, in bytes.
    public var maximumUploadBytes: Int = 2 << 30
    /// The URL clients reach the server at (behind a proxy, say), for absolute URLs in responses; by default the
    /// request's Host, or the bound address.
    public var publicURL: String?

    public init() {}

    /// The environment variables read, and the fields they set.
    public static let environmentVariables = [
        "ATRIUM_DATA": "dataDirectory", "ATRIUM_HOST": "host", "ATRIUM_HTTP_PORT": "httpPort", "ATRIUM_DICOM_PORT": "dicomPort",
        "ATRIUM_AET": "aeTitle", "ATRIUM_DEMO": "demo", "ATRIUM_DUPLICATE_POLICY": "duplicatePolicy",
        "ATRIUM_MAX_UPLOAD_BYTES": "maximumUploadBytes", "ATRIUM_PUBLIC_URL": "publicURL",
    ]

    /// Applies a JSON configuration file; unknown keys are an error, so a typo does not pass silently.
    public mutating func apply(file path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ConfigurationError("\(path): the configuration file must hold a JSON object")
        }
        for (key, value) in object { try set(key, "\(value)", source: path) }
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
        case "host": host = value
        case "httpPort": httpPort = try int()
        case "dicomPort": dicomPort = try int()
        case "aeTitle": aeTitle = value
        case "demo": demo = ["1", "true", "yes"].contains(value.lowercased())
        case "duplicatePolicy":
            guard ["ignore", "overwrite"].contains(value) else {
                throw ConfigurationError("\(source): duplicatePolicy is ignore or overwrite")
            }
            duplicatePolicy = value
        case "maximumUploadBytes": maximumUploadBytes = try int()
        case "publicURL": publicURL = value
        default: throw ConfigurationError("\(source): unknown setting \(field)")
        }
    }

    /// Checks values that would otherwise fail later and less clearly.
    public func validate() throws {
        guard (0...65535).contains(httpPort), (0...65535).contains(dicomPort) else { throw ConfigurationError("ports are 0–65535") }
        guard !aeTitle.isEmpty, aeTitle.count <= 16, aeTitle.allSatisfy({ $0.isASCII && $0 != "\\" && !$0.isNewline }) else {
            throw ConfigurationError("the AE title must be 1–16 ASCII characters without backslashes (PS3.5 6.2 AE)")
        }
    }
}

/// A configuration value that cannot be used.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
