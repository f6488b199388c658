/// Traditional (and regional variant) Chinese characters mapped to their simplified forms, character by character,
/// from OpenCC's tables (the generated extension next to this file).
public enum ChineseVariants {
    /// traditional scalar → simplified scalar.
    static let table: [Unicode.Scalar: Unicode.Scalar] = {
        let from = traditionalCharacters.unicodeScalars.filter { $0 != "\n" }
        let to = simplifiedCharacters.unicodeScalars.filter { $0 != "\n" }
        var table: [Unicode.Scalar: Unicode.Scalar] = [:]
        table.reserveCapacity(from.count)
        for (t, s) in zip(from, to) { table[t] = s }
        return table
    }()

    /// The number of characters the table converts.
    public static var count: Int { table.count }

    /// `scalar` in its simplified form (itself when it has none).
    public static func simplified(_ scalar: Unicode.Scalar) -> Unicode.Scalar { table[scalar] ?? scalar }

    /// `text` with every traditional character replaced by its simplified form.
    public static func simplified(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars { out.append(simplified(scalar)) }
        return String(out)
    }
}
