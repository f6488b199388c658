import DICOM
import Foundation

/// One cell of an exported table.
public enum SpreadsheetValue: Sendable, Equatable {
    case text(String)
    case number(Double)
    /// A moment, written in UTC (XLSX: a serial date with a date format; CSV: `yyyy-MM-dd HH:mm:ss`).
    case date(Date)
    case empty
}

/// A table to export: a name, a header row and data rows.
public struct SpreadsheetSheet: Sendable, Equatable {
    /// The sheet's name (XLSX: at most 31 characters, none of `[]:*?/\`, unique in the workbook).
    public var name: String
    public var header: [String]
    public var rows: [[SpreadsheetValue]]
    /// Column widths in characters; `nil` sizes each column to its longest value (a Han character counts two).
    public var columnWidths: [Double]?

    /// Creates a sheet.
    public init(name: String, header: [String], rows: [[SpreadsheetValue]], columnWidths: [Double]? = nil) {
        self.name = name
        self.header = header
        self.rows = rows
        self.columnWidths = columnWidths
    }
}

/// Why a table could not be exported.
public enum SpreadsheetError: Error, Sendable, Equatable, CustomStringConvertible {
    case badSheetName(String, reason: String)
    case nonFiniteNumber(sheet: String, row: Int, column: Int)
    /// Longer than the 32,767 characters a cell holds (Excel repairs such a file by cutting the text).
    case textTooLong(sheet: String, row: Int, column: Int, characters: Int)
    /// Before 1900-03-01, where the 1900 date system's serial numbers stop being right.
    case dateOutOfRange(sheet: String, row: Int, column: Int)
    case noSheets
    case zip(ZipWriterError)

    public var description: String {
        switch self {
        case .badSheetName(let name, let reason): "sheet name \"\(name)\": \(reason)"
        case .nonFiniteNumber(let sheet, let row, let column): "sheet \(sheet), row \(row), column \(column): a number that is not finite"
        case .textTooLong(let sheet, let row, let column, let characters):
            "sheet \(sheet), row \(row), column \(column): \(characters) characters, more than a cell's 32,767"
        case .dateOutOfRange(let sheet, let row, let column): "sheet \(sheet), row \(row), column \(column): a date before 1900-03-01"
        case .noSheets: "a workbook needs at least one sheet"
        case .zip(let error): "writing the XLSX zip: \(error)"
        }
    }
}

/// Writes XLSX workbooks (ECMA-376 SpreadsheetML, the parts Excel, LibreOffice and openpyxl need): a bold, frozen
/// header row, shared or inline strings, numbers, dates with a date format, column widths; zipped by ``ZipWriter``.
public enum XLSXWriter {
    /// Excel's serial date of `date` (days since 1899-12-30, the 1900 date system; right from 1900-03-01 on).
    public static func serial(_ date: Date) -> Double { date.timeIntervalSince1970 / 86_400 + 25_569 }

    /// The workbook's bytes. `sharedStrings` puts strings in the shared string table (Excel's own habit); otherwise
    /// they are written inline in each cell.
    public static func write(_ sheets: [SpreadsheetSheet], sharedStrings: Bool = true) throws(SpreadsheetError) -> [UInt8] {
        guard !sheets.isEmpty else { throw .noSheets }
        var seen: Set<String> = []
        for sheet in sheets {
            let name = sheet.name
            if name.isEmpty || name.count > 31 { throw .badSheetName(name, reason: "must have 1 to 31 characters") }
            if name.contains(where: { "[]:*?/\\".contains($0) }) { throw .badSheetName(name, reason: "must not hold any of []:*?/\\") }
            if name.hasPrefix("'") || name.hasSuffix("'") { throw .badSheetName(name, reason: "must not begin or end with an apostrophe") }
            if !seen.insert(name.lowercased()).inserted { throw .badSheetName(name, reason: "is used twice (names ignore case)") }
        }
        var strings = StringTable()
        var parts: [(String, String)] = []
        for (index, sheet) in sheets.enumerated() {
            parts.append(("xl/worksheets/sheet\(index + 1).xml", try worksheet(sheet, shared: sharedStrings, strings: &strings)))
        }
        let n = sheets.count
        var contentTypes = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
            <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
            <Default Extension="xml" ContentType="application/xml"/>\
            <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
            <Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
            """
        if sharedStrings {
            contentTypes +=
                "<Override PartName=\"/xl/sharedStrings.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml\"/>"
        }
        for i in 1...n {
            contentTypes +=
                "<Override PartName=\"/xl/worksheets/sheet\(i).xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
        }
        contentTypes += "</Types>"
        let rootRelationships = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
            <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>\
            </Relationships>
            """
        var workbook = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
            xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>
            """
        var relationships = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
            """
        for (index, sheet) in sheets.enumerated() {
            workbook += "<sheet name=\"\(escape(sheet.name))\" sheetId=\"\(index + 1)\" r:id=\"rId\(index + 1)\"/>"
            relationships +=
                "<Relationship Id=\"rId\(index + 1)\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet\(index + 1).xml\"/>"
        }
        workbook += "</sheets></workbook>"
        relationships +=
            "<Relationship Id=\"rId\(n + 1)\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/>"
        if sharedStrings {
            relationships +=
                "<Relationship Id=\"rId\(n + 2)\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings\" Target=\"sharedStrings.xml\"/>"
        }
        relationships += "</Relationships>"

        var zip = ZipWriter()
        do {
            try zip.add("[Content_Types].xml", Array(contentTypes.utf8))
            try zip.add("_rels/.rels", Array(rootRelationships.utf8))
            try zip.add("xl/workbook.xml", Array(workbook.utf8))
            try zip.add("xl/_rels/workbook.xml.rels", Array(relationships.utf8))
            try zip.add("xl/styles.xml", Array(styles.utf8))
            if sharedStrings { try zip.add("xl/sharedStrings.xml", Array(strings.xml.utf8)) }
            for (name, xml) in parts { try zip.add(name, Array(xml.utf8)) }
            return try zip.finish()
        } catch {
            throw .zip(error)
        }
    }

    /// The most characters (UTF-16 code units, as Excel counts) a cell holds.
    public static let maximumCellCharacters = 32_767

    /// Style 0 is plain, 1 the bold header, 2 a date (format 164).
    static let styles = """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
        <numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>\
        <fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>\
        <fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
        <borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
        <cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
        <cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
        <xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>\
        <xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>\
        <cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
        </styleSheet>
        """

    struct StringTable {
        var index: [String: Int] = [:]
        var list: [String] = []
        var references = 0

        mutating func id(_ text: String) -> Int {
            references += 1
            if let id = index[text] { return id }
            index[text] = list.count
            list.append(text)
            return list.count - 1
        }

        var xml: String {
            var out = """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="\(references)" uniqueCount="\(list.count)">
                """
            for text in list { out += "<si>\(XLSXWriter.textElement(text))</si>" }
            return out + "</sst>"
        }
    }

    static func worksheet(_ sheet: SpreadsheetSheet, shared: Bool, strings: inout StringTable) throws(SpreadsheetError) -> String {
        let columns = max(sheet.header.count, sheet.rows.map(\.count).max() ?? 0)
        var out = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
            xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
            <sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>\
            </sheetView></sheetViews>
            """
        if columns > 0 {
            out += "<cols>"
            for column in 0..<columns {
                let width: Double
                if let given = sheet.columnWidths, column < given.count {
                    width = given[column]
                } else {
                    var longest = column < sheet.header.count ? XLSXWriter.width(sheet.header[column]) : 0
                    for row in sheet.rows where column < row.count {
                        switch row[column] {
                        case .text(let text): longest = max(longest, XLSXWriter.width(text))
                        case .number(let value): longest = max(longest, Double(number(value).count))
                        case .date: longest = max(longest, 19)
                        case .empty: break
                        }
                    }
                    width = min(60, max(8, longest + 2))
                }
                out += "<col min=\"\(column + 1)\" max=\"\(column + 1)\" width=\"\(number(width))\" customWidth=\"1\"/>"
            }
            out += "</cols>"
        }
        out += "<sheetData>"
        func text(_ value: String, reference: String, style: Int) -> String {
            let s = style == 0 ? "" : " s=\"\(style)\""
            if shared { return "<c r=\"\(reference)\" t=\"s\"\(s)><v>\(strings.id(value))</v></c>" }
            return "<c r=\"\(reference)\" t=\"inlineStr\"\(s)><is>\(textElement(value))</is></c>"
        }
        out += "<row r=\"1\">"
        for (column, title) in sheet.header.enumerated() { out += text(title, reference: "\(columnName(column))1", style: 1) }
        out += "</row>"
        for (index, row) in sheet.rows.enumerated() {
            let r = index + 2
            out += "<row r=\"\(r)\">"
            for (column, value) in row.enumerated() {
                let reference = "\(columnName(column))\(r)"
                switch value {
                case .text(let value):
                    let characters = value.utf16.count
                    guard characters <= maximumCellCharacters else {
                        throw .textTooLong(sheet: sheet.name, row: r, column: column + 1, characters: characters)
                    }
                    out += text(value, reference: reference, style: 0)
                case .number(let value):
                    guard value.isFinite else { throw .nonFiniteNumber(sheet: sheet.name, row: r, column: column + 1) }
                    out += "<c r=\"\(reference)\"><v>\(number(value))</v></c>"
                case .date(let date):
                    guard serial(date) >= 61 else { throw .dateOutOfRange(sheet: sheet.name, row: r, column: column + 1) }
                    out += "<c r=\"\(reference)\" s=\"2\"><v>\(number(serial(date)))</v></c>"
                case .empty: break
                }
            }
            out += "</row>"
        }
        return out + "</sheetData></worksheet>"
    }

    /// A column's letters: 0 → A, 25 → Z, 26 → AA.
    public static func columnName(_ index: Int) -> String {
        var n = index + 1
        var letters: [Character] = []
        while n > 0 {
            let remainder = (n - 1) % 26
            letters.insert(Character(Unicode.Scalar(UInt8(65 + remainder))), at: 0)
            n = (n - 1) / 26
        }
        return String(letters)
    }

    static func textElement(_ text: String) -> String {
        let preserve = text.first?.isWhitespace == true || text.last?.isWhitespace == true || text.contains("\n")
        return preserve ? "<t xml:space=\"preserve\">\(escape(text))</t>" : "<t>\(escape(text))</t>"
    }

    /// XML text with markup characters escaped and characters XML 1.0 cannot hold dropped.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                let v = scalar.value
                if v < 0x20 || v == 0xFFFE || v == 0xFFFF { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A number as XML Schema's `xsd:double` writes it (integers without a decimal point).
    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// The display width of a value in characters (a Han or full-width character counts two).
    static func width(_ text: String) -> Double {
        var width = 0.0
        for scalar in text.unicodeScalars {
            let v = scalar.value
            width +=
                (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
                    || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
                    || (0x20000...0x3FFFD).contains(v) ? 2 : 1
        }
        return width
    }
}
