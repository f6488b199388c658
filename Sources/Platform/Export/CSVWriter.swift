import Foundation

/// Writes CSV as RFC 4180 describes it (fields with a comma, quote, CR or LF quoted, quotes doubled, CRLF line
/// ends), in UTF-8 with a byte order mark so that Excel reads Chinese text right.
public enum CSVWriter {
    /// The UTF-8 byte order mark.
    public static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// The file's bytes. With `neutralizeFormulas`, a text cell that begins with `=`, `+`, `-`, `@`, a tab or a CR gets
    /// a leading apostrophe so that a spreadsheet does not run it as a formula (OWASP "CSV injection").
    public static func write(header: [String], rows: [[SpreadsheetValue]], neutralizeFormulas: Bool = true) -> [UInt8] {
        var out = byteOrderMark
        out += Array(line(header.map { field($0, neutralize: neutralizeFormulas) }).utf8)
        for row in rows {
            let fields = row.map { value -> String in
                switch value {
                case .text(let text): field(text, neutralize: neutralizeFormulas)
                case .number(let number): XLSXWriter.number(number)
                case .date(let date): timestamp(date)
                case .empty: ""
                }
            }
            out += Array(line(fields).utf8)
        }
        return out
    }

    static func line(_ fields: [String]) -> String { fields.joined(separator: ",") + "\r\n" }

    /// One field, quoted when RFC 4180 says it must be; with `neutralize`, a leading formula character is defused
    /// (numbers excepted).
    public static func field(_ text: String, neutralize: Bool = true) -> String {
        var text = text
        // A plain number ("-2", "+3.5") is left as it is: it is not a formula, and a quote would turn it into text.
        if neutralize, let first = text.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r"].contains(first),
            Double(text)?.isFinite != true
        {
            text = "'" + text
        }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// `yyyy-MM-dd HH:mm:ss` in UTC.
    static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ v: Int?) -> String { let v = v ?? 0; return v < 10 ? "0\(v)" : "\(v)" }
        return "\(c.year ?? 0)-\(two(c.month))-\(two(c.day)) \(two(c.hour)):\(two(c.minute)):\(two(c.second))"
    }
}
