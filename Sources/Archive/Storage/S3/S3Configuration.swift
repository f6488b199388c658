import Foundation

/// Settings of an S3-compatible blob store that are not in the `s3://bucket/prefix` location itself. Every field left
/// nil falls back to the standard AWS environment variables, then to a default.
public struct S3Settings: Sendable, Equatable {
    /// The store's URL (`http://127.0.0.1:9000` for MinIO); else `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, or AWS's
    /// regional endpoint `https://s3.<region>.amazonaws.com`.
    public var endpoint: String?
    /// The region signed into requests; else `AWS_REGION`, `AWS_DEFAULT_REGION`, or `us-east-1`.
    public var region: String?
    /// Path-style addressing (`endpoint/bucket/key`) instead of virtual-hosted (`bucket.endpoint/key`); by default on
    /// when an endpoint is given (MinIO and most other stores want it) and off for AWS.
    public var pathStyle: Bool?

    public init(endpoint: String? = nil, region: String? = nil, pathStyle: Bool? = nil) {
        self.endpoint = endpoint
        self.region = region
        self.pathStyle = pathStyle
    }
}

/// Everything an ``S3BlobStore`` needs: where (endpoint, bucket, prefix, addressing), who (credentials) and how (part
/// sizes, timeouts, retries).
public struct S3Configuration: Sendable {
    /// `http` or `https`.
    public var scheme: String
    /// Host name or address of the endpoint (without the bucket).
    public var host: String
    /// Port, when not the scheme's default.
    public var port: Int?
    public var bucket: String
    /// Key prefix without leading or trailing slash; empty for the bucket's root.
    public var prefix: String
    public var region: String
    public var pathStyle: Bool
    public var accessKeyID: String
    var secretAccessKey: String
    /// `AWS_SESSION_TOKEN`, for temporary credentials; sent as `x-amz-security-token`.
    var sessionToken: String?
    /// Objects larger than this go up as a multipart upload.
    public var multipartThresholdBytes = 64 << 20
    /// The size of each part but the last (S3 wants at least 5 MiB).
    public var partSizeBytes = 16 << 20
    /// Keys asked for per ListObjectsV2 page (S3 answers at most 1,000).
    public var listPageKeys = 1000
    /// Time allowed for one request (each part of a multipart upload is one request).
    public var requestTimeoutSeconds: Int64 = 120
    /// Time allowed for one streamed download, start to end.
    public var streamTimeoutSeconds: Int64 = 3600
    /// Tries per request when the store answers 5xx or the network fails (the first try included).
    public var maximumAttempts = 4
    /// The first retry's wait; each later one doubles it (with jitter).
    public var retryBaseDelayMilliseconds = 200

    /// Reads `s3://bucket/prefix`, `settings`, and credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
    /// `AWS_SESSION_TOKEN` in `environment`.
    public init(url: String, settings: S3Settings = S3Settings(), environment: [String: String]) throws(ArchiveError) {
        func invalid(_ message: String) -> ArchiveError {
            .objectStore(operation: "configure", location: url, status: nil, code: "Configuration", message: message)
        }
        guard url.lowercased().hasPrefix("s3://") else { throw invalid("the storage URL must look like s3://bucket/prefix") }
        let rest = url.dropFirst(5)
        let bucket = String(rest.prefix { $0 != "/" })
        guard (3...63).contains(bucket.count),
            bucket.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".") })
        else {
            throw invalid("bucket names are 3–63 lower-case letters, digits, hyphens and dots")
        }
        self.bucket = bucket
        prefix = String(rest.dropFirst(bucket.count)).split(separator: "/").joined(separator: "/")
        region = settings.region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        let endpoint = settings.endpoint ?? environment["AWS_ENDPOINT_URL_S3"] ?? environment["AWS_ENDPOINT_URL"]
        pathStyle = settings.pathStyle ?? (endpoint != nil)
        let endpointURL = endpoint ?? "https://s3.\(region).amazonaws.com"
        guard let schemeEnd = endpointURL.range(of: "://") else { throw invalid("the endpoint \(endpointURL) needs http:// or https://") }
        scheme = endpointURL[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { throw invalid("the endpoint \(endpointURL) needs http:// or https://") }
        let authority = endpointURL[schemeEnd.upperBound...].prefix { $0 != "/" }
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            host = String(authority[..<colon])
            guard let number = Int(authority[authority.index(after: colon)...]), (1...65535).contains(number) else {
                throw invalid("the endpoint \(endpointURL) has a bad port")
            }
            port = number
        } else {
            host = String(authority)
            port = nil
        }
        guard !host.isEmpty else { throw invalid("the endpoint \(endpointURL) has no host") }
        guard let key = environment["AWS_ACCESS_KEY_ID"], !key.isEmpty, let secret = environment["AWS_SECRET_ACCESS_KEY"],
            !secret.isEmpty
        else {
            throw invalid("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for the object store")
        }
        accessKeyID = key
        secretAccessKey = secret
        sessionToken = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `s3://bucket/prefix`, for messages.
    public var location: String { "s3://\(bucket)" + (prefix.isEmpty ? "" : "/" + prefix) }

    /// The object key of a blob key.
    func objectKey(_ key: String) -> String { prefix.isEmpty ? key : prefix + "/" + key }

    /// The Host header value.
    var hostHeader: String {
        let base = pathStyle ? host : bucket + "." + host
        return port.map { base + ":\($0)" } ?? base
    }

    /// The percent-encoded request path of an object (`key` non-nil) or of the bucket.
    func path(objectKey key: String?) -> String {
        let encoded = key.map { SignatureV4.encode($0, keepSlash: true) }
        if pathStyle { return "/" + bucket + (encoded.map { "/" + $0 } ?? "") }
        return "/" + (encoded ?? "")
    }
}
