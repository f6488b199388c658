import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Blobs as objects in an S3-compatible store (AWS S3, MinIO, Ceph RGW, moto…) under `prefix/ab/cd/<uuid>`, signed
/// with AWS Signature Version 4. Several servers may share one bucket: keys are random, and nothing is renamed.
///
/// A put returns only after the store answered 200 to the PUT (or to CompleteMultipartUpload for objects above
/// ``S3Configuration/multipartThresholdBytes``), so an index row committed afterwards never points at nothing. S3 makes
/// an object visible whole or not at all; an interrupted multipart upload leaves parts that only a bucket lifecycle rule
/// (AbortIncompleteMultipartUpload) removes, which docs/operations.md asks for. Answers 5xx and network failures are
/// retried with exponential backoff; 4xx are not, and come back as ``ArchiveError/objectStore(operation:location:status:code:message:)``
/// with the store's error code.
public struct S3BlobStore: BlobStore {
    public let configuration: S3Configuration
    private let signer: SignatureV4
    private let client: HTTPClient
    private let logger: Logger

    /// One HTTP client for every S3 store of the process (never shut down, like `HTTPClient.shared`): redirects are not
    /// followed (a wrong region's `PermanentRedirect` is reported), and a store that cannot be reached fails each try
    /// within 5 seconds, so that the store's own retries and backoff decide how long to insist.
    public static let processClient: HTTPClient = {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout.connect = .seconds(5)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// A store on `configuration`, sending through `client`.
    public init(configuration: S3Configuration, client: HTTPClient = processClient, logger: Logger = Logger(label: "atrium.s3")) {
        self.configuration = configuration
        self.client = client
        self.logger = logger
        signer = SignatureV4(
            accessKeyID: configuration.accessKeyID, secretAccessKey: configuration.secretAccessKey, region: configuration.region)
    }

    public var isRemote: Bool { true }

    // MARK: BlobStore

    public func put(_ bytes: [UInt8]) async throws(ArchiveError) -> BlobKey {
        let key = Self.newKey()
        if bytes.count > configuration.multipartThresholdBytes {
            let partSize = configuration.partSizeBytes
            let partCount = (bytes.count + partSize - 1) / partSize
            try await putMultipart(key, partCount: partCount) { number throws(ArchiveError) in
                let start = (number - 1) * partSize
                return bytes[start..<min(start + partSize, bytes.count)]
            }
        } else {
            try await putSingle(key, bytes[...])
        }
        return key
    }

    public func put(contentsOf path: String) async throws(ArchiveError) -> BlobKey {
        let reader = try FileChunkReader(path: path, range: nil)
        let size = reader.size
        guard size > configuration.multipartThresholdBytes else { return try await put(try readWholeFile(path)) }
        // A large file goes up one part at a time, never whole in memory.
        let key = Self.newKey()
        let partSize = configuration.partSizeBytes
        try await putMultipart(key, partCount: (size + partSize - 1) / partSize) { number throws(ArchiveError) in
            try reader.read(offset: (number - 1) * partSize, count: partSize)[...]
        }
        return key
    }

    /// The whole object in memory; see ``read(_:range:)`` for large objects.
    public func get(_ key: BlobKey) async throws(ArchiveError) -> BlobContent {
        var bytes: [UInt8] = []
        do {
            for try await chunk in try await read(key, range: nil) { bytes += chunk }
        } catch let error as ArchiveError {
            throw error
        } catch {
            throw failure("GET", key.rawValue, status: nil, code: "NetworkError", message: "\(error)")
        }
        return .bytes(bytes)
    }

    public func read(_ key: BlobKey, range: Range<Int>?) async throws(ArchiveError) -> BlobChunks {
        var headers: [(String, String)] = []
        if let range {
            // An empty range still asks for one byte (HTTP byte ranges cannot be empty); the stream cuts it off.
            headers.append(("range", "bytes=\(range.lowerBound)-\(max(range.lowerBound, range.upperBound - 1))"))
        }
        let objectKey = configuration.objectKey(key.rawValue)
        let response = try await send(
            "GET", objectKey: objectKey, headers: headers, operation: "GET", expecting: [200, 206, 416], streaming: true)
        if response.status == 416 || range?.isEmpty == true {
            return AsyncThrowingStream { $0.finish() }
        }
        guard let body = response.stream else { return AsyncThrowingStream { $0.finish() } }
        let iterator = BodyIterator(body.makeAsyncIterator())
        return AsyncThrowingStream(unfolding: { try await iterator.next() })
    }

    public func delete(_ key: BlobKey) async throws(ArchiveError) {
        // S3 answers 204 whether or not the object existed.
        _ = try await send("DELETE", objectKey: configuration.objectKey(key.rawValue), operation: "DELETE", expecting: [200, 204, 404])
    }

    public func exists(_ key: BlobKey) async throws(ArchiveError) -> Bool {
        let response = try await send("HEAD", objectKey: configuration.objectKey(key.rawValue), operation: "HEAD", expecting: [200, 404])
        return response.status == 200
    }

    /// Every object under the prefix whose key has the shape Atrium gives (`ab/cd/<uuid>`), page by page with
    /// continuation tokens: other objects in a shared bucket are never offered to the sweep.
    public func list() async throws(ArchiveError) -> [BlobListing] {
        var listings: [BlobListing] = []
        var token: String?
        let listPrefix = configuration.prefix.isEmpty ? "" : configuration.prefix + "/"
        repeat {
            // The prefix goes without its trailing slash and keys are filtered here: some S3 implementations (moto
            // among them) mis-verify the signature of a query value that holds a slash.
            var query = [("list-type", "2"), ("prefix", configuration.prefix), ("max-keys", "\(configuration.listPageKeys)")]
            if let token { query.append(("continuation-token", token)) }
            let response = try await send("GET", objectKey: nil, query: query, operation: "LIST", expecting: [200])
            let text = String(decoding: response.body, as: UTF8.self)[...]
            for contents in S3XML.elements("Contents", in: text) {
                guard let objectKey = S3XML.value("Key", in: contents), objectKey.hasPrefix(listPrefix) else { continue }
                let key = String(objectKey.dropFirst(listPrefix.count))
                guard Self.isGeneratedKey(key) else { continue }
                let modified = S3XML.value("LastModified", in: contents).flatMap(S3XML.seconds(iso8601:)) ?? 0
                listings.append(BlobListing(key: BlobKey(key), modifiedSeconds: modified))
            }
            token = S3XML.value("IsTruncated", in: text) == "true" ? S3XML.value("NextContinuationToken", in: text) : nil
        } while token != nil
        return listings
    }

    /// Lists one key of the bucket: a missing bucket (`NoSuchBucket`), wrong credentials (`InvalidAccessKeyId`,
    /// `SignatureDoesNotMatch`) or a policy that forbids listing (`AccessDenied`) stop the server at startup.
    public func prepare() async throws(ArchiveError) {
        _ = try await send(
            "GET", objectKey: nil, query: [("list-type", "2"), ("max-keys", "1"), ("prefix", configuration.prefix)],
            operation: "check bucket",
            expecting: [200])
    }

    // MARK: Uploads

    private func putSingle(_ key: BlobKey, _ bytes: ArraySlice<UInt8>) async throws(ArchiveError) {
        _ = try await send(
            "PUT", objectKey: configuration.objectKey(key.rawValue), headers: [("content-type", "application/dicom")], body: bytes,
            operation: "PUT", expecting: [200])
    }

    /// CreateMultipartUpload, UploadPart for parts 1…`partCount`, CompleteMultipartUpload; on any failure
    /// AbortMultipartUpload, so that no parts are left behind when the store is reachable.
    private func putMultipart(
        _ key: BlobKey, partCount: Int, part: (Int) throws(ArchiveError) -> ArraySlice<UInt8>
    ) async throws(ArchiveError) {
        let objectKey = configuration.objectKey(key.rawValue)
        let created = try await send(
            "POST", objectKey: objectKey, query: [("uploads", "")], headers: [("content-type", "application/dicom")],
            operation: "CreateMultipartUpload", expecting: [200])
        guard let uploadID = S3XML.value("UploadId", in: String(decoding: created.body, as: UTF8.self)[...]) else {
            throw failure("CreateMultipartUpload", key.rawValue, status: 200, code: "InvalidResponse", message: "no UploadId")
        }
        do throws(ArchiveError) {
            var tags: [String] = []
            for number in 1...max(1, partCount) {
                let bytes = try part(number)
                let response = try await send(
                    "PUT", objectKey: objectKey, query: [("partNumber", "\(number)"), ("uploadId", uploadID)], body: bytes,
                    operation: "UploadPart \(number)", expecting: [200])
                guard let etag = response.headers.first(name: "etag") else {
                    throw failure("UploadPart \(number)", key.rawValue, status: 200, code: "InvalidResponse", message: "no ETag")
                }
                tags.append(etag)
            }
            var xml = "<CompleteMultipartUpload>"
            for (index, etag) in tags.enumerated() {
                xml += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(S3XML.escape(etag))</ETag></Part>"
            }
            xml += "</CompleteMultipartUpload>"
            let completed = try await send(
                "POST", objectKey: objectKey, query: [("uploadId", uploadID)], headers: [("content-type", "application/xml")],
                body: Array(xml.utf8)[...], operation: "CompleteMultipartUpload", expecting: [200])
            // CompleteMultipartUpload can fail after answering 200: the error is then in the body.
            let text = String(decoding: completed.body, as: UTF8.self)[...]
            if text.contains("<Error>") {
                throw failure(
                    "CompleteMultipartUpload", key.rawValue, status: 200, code: S3XML.value("Code", in: text) ?? "InternalError",
                    message: S3XML.value("Message", in: text) ?? "")
            }
        } catch {
            _ = try? await send(
                "DELETE", objectKey: objectKey, query: [("uploadId", uploadID)], operation: "AbortMultipartUpload",
                expecting: [200, 204, 404])
            throw error
        }
    }

    // MARK: Requests

    private struct Response {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
        var stream: HTTPClientResponse.Body?
    }

    /// Sends one signed request, retrying 5xx answers and network failures with exponential backoff. A status outside
    /// `expecting` is an error carrying the store's code and message. With `streaming`, a successful answer's body is
    /// left to the caller.
    private func send(
        _ method: String, objectKey: String?, query: [(String, String)] = [], headers extra: [(String, String)] = [],
        body: ArraySlice<UInt8>? = nil, operation: String, expecting: Set<Int>, streaming: Bool = false
    ) async throws(ArchiveError) -> Response {
        let payloadHash = body.map(SignatureV4.hexSHA256) ?? SignatureV4.emptyPayloadHash
        let path = configuration.path(objectKey: objectKey)
        let queryString = query.map { SignatureV4.encode($0.0) + ($0.1.isEmpty ? "" : "=" + SignatureV4.encode($0.1)) }
            .joined(separator: "&")
        let portPart = configuration.port.map { ":\($0)" } ?? ""
        let host = configuration.pathStyle ? configuration.host : configuration.bucket + "." + configuration.host
        let url = "\(configuration.scheme)://\(host)\(portPart)\(path)" + (queryString.isEmpty ? "" : "?" + queryString)
        let location = objectKey.map { "s3://\(configuration.bucket)/\($0)" } ?? configuration.location
        var attempt = 1
        while true {
            var headers = extra
            headers.append(("host", configuration.hostHeader))
            headers.append(("x-amz-date", SignatureV4.amzDate(Date())))
            headers.append(("x-amz-content-sha256", payloadHash))
            if let token = configuration.sessionToken { headers.append(("x-amz-security-token", token)) }
            let signed = signer.sign(
                method: method, path: path, query: query, headers: headers, payloadHash: payloadHash,
                date: headers.first { $0.0 == "x-amz-date" }?.1 ?? "")
            var request = HTTPClientRequest(url: url)
            request.method = HTTPMethod(rawValue: method)
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            request.headers.add(name: "authorization", value: signed.authorization)
            if let body {
                request.body = .bytes(body)
            } else if method == "PUT" || method == "POST" {
                request.body = .bytes([UInt8]())
            }
            let timeout = streaming ? configuration.streamTimeoutSeconds : configuration.requestTimeoutSeconds
            var retryReason: String
            do {
                let response = try await client.execute(request, timeout: .seconds(timeout))
                let status = Int(response.status.code)
                if expecting.contains(status) && status < 300 && streaming && method == "GET" {
                    return Response(status: status, headers: response.headers, body: [], stream: response.body)
                }
                let collected = try await response.body.collect(upTo: 16 << 20)
                let bytes = Array(buffer: collected)
                if expecting.contains(status) {
                    return Response(status: status, headers: response.headers, body: bytes, stream: nil)
                }
                let text = String(decoding: bytes, as: UTF8.self)[...]
                let code = S3XML.value("Code", in: text) ?? Self.code(forStatus: status, objectKey: objectKey)
                let message = S3XML.value("Message", in: text) ?? response.status.reasonPhrase
                guard status >= 500 || status == 429 else {
                    if status == 404 && method == "GET" && objectKey != nil && code == "NoSuchKey" {
                        throw ArchiveError.blobNotFound(key: location)
                    }
                    throw failure(operation, location, status: status, code: code, message: message)
                }
                retryReason = "\(status) \(code): \(message)"
                if attempt >= configuration.maximumAttempts {
                    throw failure(operation, location, status: status, code: code, message: message)
                }
            } catch let error as ArchiveError {
                throw error
            } catch is CancellationError {
                throw failure(operation, location, status: nil, code: "Cancelled", message: "the task was cancelled")
            } catch {
                let timedOut = (error as? HTTPClientError).map { $0 == .deadlineExceeded || $0 == .readTimeout || $0 == .connectTimeout }
                retryReason = "\(error)"
                if attempt >= configuration.maximumAttempts {
                    throw failure(
                        operation, location, status: nil, code: timedOut == true ? "Timeout" : "NetworkError",
                        message: "\(error) (after \(attempt) attempts)")
                }
            }
            let delay = configuration.retryBaseDelayMilliseconds << (attempt - 1)
            logger.warning(
                "object store request failed, retrying",
                metadata: ["operation": "\(operation)", "attempt": "\(attempt)", "reason": "\(retryReason)"])
            try? await Task.sleep(for: .milliseconds(delay + Int.random(in: 0...max(1, delay / 2))))
            attempt += 1
        }
    }

    private func failure(_ operation: String, _ location: String, status: Int?, code: String, message: String) -> ArchiveError {
        let location = location.hasPrefix("s3://") ? location : "s3://\(configuration.bucket)/\(configuration.objectKey(location))"
        return .objectStore(operation: operation, location: location, status: status, code: code, message: message)
    }

    /// The S3 error code a bodiless answer (HEAD) stands for.
    private static func code(forStatus status: Int, objectKey: String?) -> String {
        switch status {
        case 403: "AccessDenied"
        case 404: objectKey == nil ? "NoSuchBucket" : "NoSuchKey"
        case 400: "BadRequest"
        default: "HTTP\(status)"
        }
    }

    // MARK: Keys

    private static func newKey() -> BlobKey {
        let name = UUID().uuidString.lowercased()
        return BlobKey("\(name.prefix(2))/\(name.dropFirst(2).prefix(2))/\(name)")
    }

    /// `ab/cd/<uuid>` with `ab` and `cd` the uuid's first four characters.
    static func isGeneratedKey(_ key: String) -> Bool {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, let uuid = UUID(uuidString: String(parts[2])), uuid.uuidString.lowercased() == parts[2] else {
            return false
        }
        return parts[0] == parts[2].prefix(2) && parts[1] == parts[2].dropFirst(2).prefix(2)
    }
}

/// Pulls ByteBuffers from a response body and hands them on as byte arrays.
private final class BodyIterator: @unchecked Sendable {
    private var iterator: HTTPClientResponse.Body.AsyncIterator

    init(_ iterator: HTTPClientResponse.Body.AsyncIterator) { self.iterator = iterator }

    func next() async throws -> [UInt8]? {
        guard let buffer = try await iterator.next() else { return nil }
        return Array(buffer: buffer)
    }
}
