import DICOM
import Foundation
import Platform
import Testing

@Suite("XLSX and CSV export")
struct SpreadsheetExportTests {
    static let moment = Date(timeIntervalSince1970: 1_796_547_600)  // 2026-12-06 09:00:00 UTC
    static let gradebook = SpreadsheetSheet(
        name: "成绩 Grades",
        header: ["学号 ID", "姓名 Name", "得分 Score", "提交时间 Submitted", "评语 Comment"],
        rows: [
            [.text("S001"), .text("张三"), .number(87.5), .date(moment), .text("  左肺结节描述准确 & <完整>  ")],
            [.text("S002"), .text("Li \"Lee\" Si"), .number(92), .date(moment.addingTimeInterval(3_600)), .empty],
            [.text("S001"), .text("张三"), .number(-3), .empty, .text("line one\nline two")],
        ])
    static let summary = SpreadsheetSheet(
        name: "Items", header: ["Item", "Facility"], rows: [[.text("q1"), .number(0.625)], [.text("q2"), .number(1e-7)]],
        columnWidths: [12, 30])

    /// What openpyxl should read in each row: (type, value) as the reference script reports it.
    static func expectedCells(_ sheet: SpreadsheetSheet) -> [[(String, Any?)]] {
        var rows: [[(String, Any?)]] = [sheet.header.map { ("text", $0) }]
        let width = sheet.header.count
        for row in sheet.rows {
            var cells: [(String, Any?)] = row.map { value in
                switch value {
                case .text(let text): ("text", text)
                case .number(let number): ("number", number)
                case .date(let date): ("date", date.timeIntervalSince1970)
                case .empty: ("empty", nil)
                }
            }
            while cells.count < width { cells.append(("empty", nil)) }
            rows.append(cells)
        }
        return rows
    }

    @Test("openpyxl reads back the sheet names, values and their types, a bold header and the column widths", arguments: [true, false])
    func openpyxlReadsBack(sharedStrings: Bool) throws {
        let bytes = try XLSXWriter.write([Self.gradebook, Self.summary], sharedStrings: sharedStrings)
        let path = try ReferenceScript.temporaryFile("book.xlsx", Data(bytes))
        let read = try ReferenceScript.json("xlsx_reference.py", ["xlsx", path])
        let zipInfo = try #require(read["zip"] as? [String: Any])
        #expect(zipInfo["crc"] as? String == "ok")
        let sheets = try #require(read["sheets"] as? [[String: Any]])
        #expect(sheets.map { $0["name"] as? String } == ["成绩 Grades", "Items"])
        for (sheet, written) in zip(sheets, [Self.gradebook, Self.summary]) {
            let rows = try #require(sheet["rows"] as? [[[String: Any]]])
            let expected = Self.expectedCells(written)
            try #require(rows.count == expected.count, "\(written.name): \(rows.count) rows")
            for (r, (got, want)) in zip(rows, expected).enumerated() {
                try #require(got.count == want.count, "\(written.name) row \(r + 1)")
                for (c, (cell, (type, value))) in zip(got, want).enumerated() {
                    #expect(cell["type"] as? String == type, "\(written.name) \(XLSXWriter.columnName(c))\(r + 1)")
                    switch type {
                    case "text":
                        #expect(cell["value"] as? String == value as? String, "\(written.name) \(XLSXWriter.columnName(c))\(r + 1)")
                    case "number", "date":
                        let got = (cell["value"] as? NSNumber)?.doubleValue
                        #expect(close(got, value as? Double, 1e-3), "\(written.name) \(XLSXWriter.columnName(c))\(r + 1)")
                    default: #expect(cell["value"] is NSNull)
                    }
                }
            }
            #expect((sheet["bold"] as? [Bool]) == Array(repeating: true, count: written.header.count))
            #expect(sheet["frozen"] as? String == "A2")
        }
        let widths = try #require(sheets[1]["widths"] as? [String: Double])
        #expect(widths == ["A": 12, "B": 30])
        let autoWidths = try #require(sheets[0]["widths"] as? [String: Double])
        // Column B's longest value is Li "Lee" Si (11 columns; its header 姓名 Name takes 4 + 5 = 9), plus 2.
        #expect(autoWidths["B"] == 13)
    }

    @Test("Atrium's own zip reader lists the parts and checks every entry's CRC-32")
    func zipArchiveReadsBack() throws {
        let bytes = try XLSXWriter.write([Self.gradebook])
        let archive = try ZipArchive(source: ZipBytesSource(bytes))
        #expect(
            archive.entries.map(\.name) == [
                "[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml",
                "xl/sharedStrings.xml", "xl/worksheets/sheet1.xml",
            ])
        #expect(archive.entries.allSatisfy { $0.method == 8 })
        for entry in archive.entries { _ = try archive.extract(entry) }
        let strings = try #require(archive.entries.first { $0.name == "xl/sharedStrings.xml" })
        #expect(String(decoding: try archive.extract(strings), as: UTF8.self).contains("<t>张三</t>"))
    }

    @Test("A stored entry and a deflated entry round-trip through ZipArchive and Python's zipfile")
    func zipWriterRoundTrip() throws {
        var writer = ZipWriter()
        let text = Array(String(repeating: "影像教学 teaching PACS ", count: 200).utf8)
        try writer.add("a/stored.txt", text, method: .stored)
        try writer.add("b/deflated.txt", text, method: .deflated)
        #expect(throws: ZipWriterError.badName("../evil")) { try writer.add("../evil", [1]) }
        #expect(throws: ZipWriterError.badName("a/stored.txt")) { try writer.add("a/stored.txt", [1]) }
        let bytes = try writer.finish()
        let archive = try ZipArchive(source: ZipBytesSource(bytes))
        #expect(archive.entries.map(\.method) == [0, 8])
        for entry in archive.entries { #expect(try archive.extract(entry) == text) }
        let path = try ReferenceScript.temporaryFile("two.zip", Data(bytes))
        let program = """
            import sys, zipfile, zlib
            z = zipfile.ZipFile(sys.argv[1])
            assert z.testzip() is None
            print(",".join(f"{i.filename}:{i.compress_type}:{zlib.crc32(z.read(i)):08x}" for i in z.infolist()), end="")
            """
        let crc = String(ZipWriter.crc32(text), radix: 16)
        let padded = String(repeating: "0", count: 8 - crc.count) + crc
        #expect(try ReferenceScript.inline(program, [path]) == "a/stored.txt:0:\(padded),b/deflated.txt:8:\(padded)")
    }

    @Test("Bad sheet names, over-long text, early dates and non-finite numbers are refused with where they are")
    func sheetNames() {
        #expect(throws: SpreadsheetError.self) { try XLSXWriter.write([SpreadsheetSheet(name: "a/b", header: [], rows: [])]) }
        #expect(throws: SpreadsheetError.self) {
            try XLSXWriter.write([SpreadsheetSheet(name: String(repeating: "x", count: 32), header: [], rows: [])])
        }
        #expect(throws: SpreadsheetError.self) {
            try XLSXWriter.write([SpreadsheetSheet(name: "A", header: [], rows: []), SpreadsheetSheet(name: "a", header: [], rows: [])])
        }
        #expect(throws: SpreadsheetError.textTooLong(sheet: "A", row: 2, column: 1, characters: 32_768)) {
            try XLSXWriter.write([SpreadsheetSheet(name: "A", header: ["x"], rows: [[.text(String(repeating: "x", count: 32_768))]])])
        }
        #expect(throws: SpreadsheetError.dateOutOfRange(sheet: "A", row: 2, column: 1)) {
            // 1899-12-31, before the 1900 date system's serials are right.
            try XLSXWriter.write([SpreadsheetSheet(name: "A", header: ["x"], rows: [[.date(Date(timeIntervalSince1970: -2_209_075_200))]])])
        }
        #expect(throws: SpreadsheetError.nonFiniteNumber(sheet: "A", row: 2, column: 1)) {
            try XLSXWriter.write([SpreadsheetSheet(name: "A", header: ["x"], rows: [[.number(.nan)]])])
        }
    }

    @Test("CSV: Python's csv module reads back every field; a UTF-8 BOM, CRLF line ends, formulas neutralised")
    func csv() throws {
        let rows: [[SpreadsheetValue]] = [
            [.text("张三, 李四"), .number(87.5), .date(Self.moment), .text("说 \"好\"")],
            [.text("=HYPERLINK(\"x\")"), .number(-2), .empty, .text("two\nlines")],
            [.text("-2+3+cmd|' /C calc'!A0"), .text("-4.5"), .text("@SUM(A1)"), .text("+1")],
        ]
        let bytes = CSVWriter.write(header: ["名字", "score", "when", "note"], rows: rows)
        let path = try ReferenceScript.temporaryFile("grades.csv", Data(bytes))
        let read = try ReferenceScript.json("xlsx_reference.py", ["csv", path])
        #expect(read["bom"] as? Bool == true)
        #expect(read["crlf"] as? Bool == true)
        let got = try #require(read["rows"] as? [[String]])
        #expect(
            got == [
                ["名字", "score", "when", "note"],
                ["张三, 李四", "87.5", "2026-12-06 09:00:00", "说 \"好\""],
                ["'=HYPERLINK(\"x\")", "-2", "", "two\nlines"],
                ["'-2+3+cmd|' /C calc'!A0", "-4.5", "'@SUM(A1)", "+1"],
            ])
    }
}
