import Foundation
import Mustache
import Platform

/// One node of a locale file: a string, or a group of named nodes. Templates reach strings by dotted names
/// (`{{t.nav.studies}}`), which Mustache resolves through `MustacheParent`.
indirect enum LocaleNode: Sendable, MustacheParent {
    case text(String)
    case group([String: LocaleNode])

    func child(named name: String) -> Any? {
        guard case .group(let children) = self, let child = children[name] else { return nil }
        if case .text(let text) = child { return text }
        return child
    }

    init(json: Any) throws(WebError) {
        if let text = json as? String {
            self = .text(text)
        } else if let object = json as? [String: Any] {
            var children: [String: LocaleNode] = [:]
            for (key, value) in object { children[key] = try LocaleNode(json: value) }
            self = .group(children)
        } else {
            throw .resource("a locale file holds a value that is neither a string nor an object")
        }
    }

    /// Every string with its dotted key (`nav.studies`).
    func flattened(prefix: String = "") -> [String: String] {
        switch self {
        case .text(let text): return [prefix: text]
        case .group(let children):
            var out: [String: String] = [:]
            for (key, child) in children {
                out.merge(child.flattened(prefix: prefix.isEmpty ? key : prefix + "." + key)) { a, _ in a }
            }
            return out
        }
    }
}

/// The interface strings of every language, read from `Resources/locales/<language code>.json`.
public struct Locales: Sendable {
    let tables: [InterfaceLanguage: LocaleNode]

    /// Reads `zh-CN.json` and `en.json` from `directory`, then each domain's own file beside them (`reading.en.json`,
    /// `teaching.zh-CN.json`…), whose top-level groups join the main table. A key defined twice is an error, so one
    /// domain's file cannot silently replace another's strings.
    public init(directory: String) throws(WebError) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        var tables: [InterfaceLanguage: LocaleNode] = [:]
        for language in InterfaceLanguage.allCases {
            let main = language.rawValue + ".json"
            var merged: [String: LocaleNode] = [:]
            for name in [main] + names.filter({ $0 != main && $0.hasSuffix("." + main) }) {
                guard case .group(let children) = try Self.read(directory + "/" + name) else {
                    throw .resource("\(directory)/\(name) does not hold an object")
                }
                for (key, child) in children {
                    guard merged[key] == nil else { throw .resource("\(directory)/\(name) defines \"\(key)\" again") }
                    merged[key] = child
                }
            }
            tables[language] = .group(merged)
        }
        self.tables = tables
    }

    private static func read(_ path: String) throws(WebError) -> LocaleNode {
        guard let data = FileManager.default.contents(atPath: path) else { throw .resource("cannot read \(path)") }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw .resource("\(path) is not JSON: \(error)")
        }
        return try LocaleNode(json: json)
    }

    func table(_ language: InterfaceLanguage) -> LocaleNode { tables[language] ?? .group([:]) }

    /// The string for a dotted key, or the key itself when it is missing (so a gap shows instead of vanishing).
    public func text(_ key: String, _ language: InterfaceLanguage) -> String {
        var node = table(language)
        for part in key.split(separator: ".") {
            guard case .group(let children) = node, let next = children[String(part)] else { return key }
            node = next
        }
        if case .text(let text) = node { return text }
        return key
    }
}

extension InterfaceLanguage {
    /// The language a BCP 47 tag asks for: any `zh` tag is Simplified Chinese, any `en` tag English.
    static func matching(tag: String) -> InterfaceLanguage? {
        let primary = tag.trimmingCharacters(in: .whitespaces).lowercased().split(separator: "-").first.map(String.init) ?? ""
        switch primary {
        case "zh": return .chinese
        case "en": return .english
        default: return nil
        }
    }

    /// The person's own choice, else the `lang` cookie, else the best supported entry of Accept-Language
    /// (RFC 9110 12.5.4, by quality), else Chinese.
    static func negotiate(principal: Principal?, cookie: String?, acceptLanguage: String?) -> InterfaceLanguage {
        if let principal { return principal.language }
        if let cookie, let language = InterfaceLanguage.matching(tag: cookie) { return language }
        var best: (language: InterfaceLanguage, quality: Double)?
        for entry in (acceptLanguage ?? "").split(separator: ",") {
            let parts = entry.split(separator: ";")
            guard let tag = parts.first, let language = InterfaceLanguage.matching(tag: String(tag)) else { continue }
            var quality = 1.0
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if pair.count == 2, pair[0] == "q", let q = Double(pair[1]) { quality = q }
            }
            if quality > 0, quality > (best?.quality ?? -1) { best = (language, quality) }
        }
        return best?.language ?? .chinese
    }
}

/// Errors of the web application's set-up and requests.
public enum WebError: Error, CustomStringConvertible, Equatable {
    /// A template, locale file or static asset is missing or malformed.
    case resource(String)

    public var description: String {
        switch self {
        case .resource(let message): "web resources: \(message)"
        }
    }
}
