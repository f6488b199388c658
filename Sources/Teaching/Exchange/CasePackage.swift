import Crypto
import DICOM
import Foundation

/// The exchange package between colleges: a zip of de-identified DICOM files, `cases.json` (what each case says, and
/// an optional collection) and `manifest.json` (every other file with its size and SHA-256). Pure: bytes in, bytes out.
public enum CasePackage {
    public static let format = "atrium-teaching-package"
    public static let version = 1

    /// One case of a package.
    public struct Case: Sendable, Equatable, Codable {
        /// Stable across exports of the same case from the same server (and revealing nothing about it), so that an
        /// import of the same package twice makes no second case.
        public var key: String
        public var content: CaseContent
        public var contributingInstitution: String
        /// Paths of the case's DICOM files in the package, in order.
        public var images: [String]

        public init(key: String, content: CaseContent, contributingInstitution: String, images: [String]) {
            self.key = key
            self.content = content
            self.contributingInstitution = contributingInstitution
            self.images = images
        }
    }

    public struct Collection: Sendable, Equatable, Codable {
        public var title: String
        public var description: String
        /// Keys of the cases, in order.
        public var cases: [String]

        public init(title: String, description: String, cases: [String]) {
            self.title = title
            self.description = description
            self.cases = cases
        }
    }

    public struct Description: Sendable, Equatable, Codable {
        public var format: String
        public var version: Int
        public var cases: [Case]
        public var collection: Collection?
    }

    struct Manifest: Codable {
        struct File: Codable {
            var path: String
            var bytes: Int
            var sha256: String
        }
        var format: String
        var version: Int
        var files: [File]
    }

    /// A read and validated package: its description and the bytes of each file it names.
    public struct Contents: Sendable {
        public var description: Description
        public var files: [String: [UInt8]]
    }

    /// The zip of `cases` (each with its de-identified files) and an optional collection of them.
    public static func make(cases: [(Case, [[UInt8]])], collection: Collection?) throws(TeachingError) -> [UInt8] {
        var zip = ZipWriter()
        var files: [Manifest.File] = []
        var described: [Case] = []
        for (n, (item, images)) in cases.enumerated() {
            var entry = item
            entry.images = []
            for (m, bytes) in images.enumerated() {
                let path = "cases/\(n + 1)/\(m + 1).dcm"
                try add(path, bytes, to: &zip)
                files.append(Manifest.File(path: path, bytes: bytes.count, sha256: sha256(bytes)))
                entry.images.append(path)
            }
            described.append(entry)
        }
        let description = try encode(Description(format: format, version: version, cases: described, collection: collection))
        try add("cases.json", description, to: &zip)
        files.append(Manifest.File(path: "cases.json", bytes: description.count, sha256: sha256(description)))
        try add("manifest.json", try encode(Manifest(format: format, version: version, files: files)), to: &zip)
        do {
            return try zip.finish()
        } catch {
            throw .invalid("the package cannot be written: \(error)")
        }
    }

    /// Adds a stored entry: DICOM pixel data rarely deflates well.
    private static func add(_ path: String, _ bytes: [UInt8], to zip: inout ZipWriter) throws(TeachingError) {
        do {
            try zip.add(path, bytes, method: .stored)
        } catch {
            throw .invalid("the package cannot be written: \(error)")
        }
    }

    /// Reads `zip` through the bounded inflater's caps and checks it: a manifest of this format, every file it lists
    /// present with its size and SHA-256, nothing else, and a description whose images are all listed.
    public static func read(_ zip: [UInt8], limits: ZipLimits = ZipLimits()) throws(TeachingError) -> Contents {
        let archive: ZipArchive
        do {
            archive = try ZipArchive(source: ZipBytesSource(zip), limits: limits)
        } catch {
            throw .invalid("the package is not a readable zip: \(error)")
        }
        var entries: [String: [UInt8]] = [:]
        for entry in archive.entries where !entry.name.hasSuffix("/") {
            guard !entry.name.hasPrefix("/"), !entry.name.split(separator: "/").contains(".."), entries[entry.name] == nil else {
                throw .invalid("the package holds an unsafe or repeated path: \(entry.name)")
            }
            do {
                entries[entry.name] = try archive.extract(entry)
            } catch {
                throw .invalid("\(entry.name): \(error)")
            }
        }
        guard let manifestBytes = entries.removeValue(forKey: "manifest.json") else { throw .invalid("the package has no manifest.json") }
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: Data(manifestBytes))
        } catch {
            throw .invalid("manifest.json is not readable: \(error)")
        }
        guard manifest.format == format, manifest.version == version else {
            throw .invalid("not an Atrium teaching package of version \(version)")
        }
        let listed = Set(manifest.files.map(\.path))
        if let extra = entries.keys.sorted().first(where: { !listed.contains($0) }) {
            throw .invalid("\(extra) is in the package but not in its manifest")
        }
        for file in manifest.files {
            guard let bytes = entries[file.path] else { throw .invalid("\(file.path) is in the manifest but not in the package") }
            guard bytes.count == file.bytes, sha256(bytes) == file.sha256.lowercased() else {
                throw .invalid("\(file.path) does not match its SHA-256 in the manifest")
            }
        }
        guard let descriptionBytes = entries["cases.json"] else { throw .invalid("the package has no cases.json") }
        let description: Description
        do {
            description = try JSONDecoder().decode(Description.self, from: Data(descriptionBytes))
        } catch {
            throw .invalid("cases.json is not readable: \(error)")
        }
        for item in description.cases {
            guard !item.key.isEmpty, item.key.count <= 200 else { throw .invalid("a case of the package has no usable key") }
            if let missing = item.images.first(where: { entries[$0] == nil || $0 == "cases.json" }) {
                throw .invalid("case \(item.key) names \(missing), which the package does not hold")
            }
        }
        return Contents(description: description, files: entries)
    }

    public static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    static func encode<T: Encodable>(_ value: T) throws(TeachingError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw .invalid("cannot encode the package: \(error)")
        }
    }
}
