import Foundation

/// An indicator an administrator adds by name (for example "provincial teaching awards"): typed in with evidence,
/// named in both languages. Its key may not clash with the catalog's.
public struct NamedIndicator: Sendable, Equatable, Codable {
    public var definition: IndicatorDefinition
    public var nameEnglish: String
    public var nameChinese: String

    public init(definition: IndicatorDefinition, nameEnglish: String, nameChinese: String) {
        self.definition = definition
        self.nameEnglish = nameEnglish
        self.nameChinese = nameChinese
    }

    /// Why the indicator cannot be added as given, or nil.
    public var problem: ProgrammeError? {
        let key = definition.key
        if IndicatorCatalog.definition(key) != nil { return .invalidIndicator("\(key) is one of the derived indicators") }
        let allowed = key.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || "-.".unicodeScalars.contains($0)
        }
        if key.isEmpty || key.count > 64 || !allowed {
            return .invalidIndicator("an indicator key is 1 to 64 of a-z, 0-9, '-' and '.'")
        }
        if nameEnglish.trimmingCharacters(in: .whitespaces).isEmpty || nameChinese.trimmingCharacters(in: .whitespaces).isEmpty {
            return .invalidIndicator("an indicator needs a name in English and in Chinese")
        }
        return nil
    }
}
