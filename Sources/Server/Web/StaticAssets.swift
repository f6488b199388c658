import Foundation
import Hummingbird
import NIOCore

/// The files under `Resources/static`, read once at start and served from memory with their content type, an ETag,
/// and caching that lets a page's versioned links (`?v=<version>`) be kept for a year.
public struct StaticAssets: Sendable {
    struct Asset: Sendable {
        var bytes: ByteBuffer
        var contentType: String
        var etag: String
    }

    let files: [String: Asset]
    /// A digest of every file: changes whenever any asset changes, so links carrying it never go stale.
    public let version: String

    /// Reads every regular file under `directory` (recursively).
    public init(directory: String) throws(WebError) {
        var files: [String: Asset] = [:]
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else {
            throw .resource("cannot list \(directory)")
        }
        var combined = FNV1a()
        var names: [String] = []
        while let name = enumerator.nextObject() as? String { names.append(name) }
        for name in names.sorted() {
            var isDirectory: ObjCBool = false
            let path = directory + "/" + name
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                !name.split(separator: "/").contains(where: { $0.hasPrefix(".") })
            else { continue }
            guard let data = FileManager.default.contents(atPath: path) else { throw .resource("cannot read \(path)") }
            var hash = FNV1a()
            hash.add(Array(data))
            combined.add(Array(name.utf8))
            combined.add(Array(hash.hex.utf8))
            files[name] = Asset(bytes: ByteBuffer(bytes: data), contentType: Self.contentType(of: name), etag: "\"\(hash.hex)\"")
        }
        self.files = files
        self.version = String(combined.hex.prefix(12))
    }

    /// The media type for a file name's extension; text types carry UTF-8.
    static func contentType(of name: String) -> String {
        switch (name as NSString).pathExtension.lowercased() {
        case "css": "text/css; charset=utf-8"
        case "js", "mjs": "text/javascript; charset=utf-8"
        case "json": "application/json"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "ico": "image/vnd.microsoft.icon"
        case "woff2": "font/woff2"
        case "html": "text/html; charset=utf-8"
        case "txt": "text/plain; charset=utf-8"
        default: "application/octet-stream"
        }
    }

    /// The response for `GET /static/<name>`: 304 when If-None-Match names the current ETag, 404 for unknown names.
    func response(for name: String, request: Request) -> Response {
        guard let asset = files[name] else {
            return Response(
                status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: "not found\n")))
        }
        var headers: HTTPFields = [.eTag: asset.etag]
        let versioned = request.uri.queryParameters["v"].map(String.init) == version
        headers[.cacheControl] = versioned ? "public, max-age=31536000, immutable" : "no-cache"
        if let match = request.headers[.ifNoneMatch],
            match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == asset.etag })
        {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = asset.contentType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: asset.bytes))
    }
}

/// 64-bit FNV-1a: a fast, stable digest for cache validators (not for security).
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ bytes: [UInt8]) {
        for byte in bytes {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01b3
        }
    }

    var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
