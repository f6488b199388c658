import Foundation

/// A CSV of examinations from a partner's examination system: one row an examination, headers in English or Chinese
/// (docs/health.md lists them), UTF-8 with or without a byte-order mark, comma separated, quotes as RFC 4180. Every
/// row is checked and every problem reported (row, column, reason); the import is all or nothing.
public enum ExaminationCSV {
    /// One column: its English and Chinese headers, whether a row must fill it, and its range when numeric.
    public struct Column: Sendable {
        public var key: String
        public var chinese: String
        public var required: Bool
        public var range: ClosedRange<Double>?
    }

    public static let columns: [Column] = [
        Column(key: "record_number", chinese: "档案编号", required: true, range: nil),
        Column(key: "date", chinese: "体检日期", required: true, range: nil),
        Column(key: "doctor", chinese: "体检医生", required: false, range: nil),
        Column(key: "height_cm", chinese: "身高", required: false, range: 50...250),
        Column(key: "weight_kg", chinese: "体重", required: false, range: 10...300),
        Column(key: "waist_cm", chinese: "腰围", required: false, range: 40...200),
        Column(key: "temperature_c", chinese: "体温", required: false, range: 30...45),
        Column(key: "pulse", chinese: "脉率", required: false, range: 20...250),
        Column(key: "respiration", chinese: "呼吸频率", required: false, range: 4...80),
        Column(key: "sbp_left", chinese: "左侧收缩压", required: false, range: 50...300),
        Column(key: "dbp_left", chinese: "左侧舒张压", required: false, range: 20...200),
        Column(key: "sbp_right", chinese: "右侧收缩压", required: false, range: 50...300),
        Column(key: "dbp_right", chinese: "右侧舒张压", required: false, range: 20...200),
        Column(key: "fasting_glucose", chinese: "空腹血糖", required: false, range: 1...40),
        Column(key: "total_cholesterol", chinese: "总胆固醇", required: false, range: 1...20),
        Column(key: "triglycerides", chinese: "甘油三酯", required: false, range: 0.1...50),
        Column(key: "ldl_cholesterol", chinese: "低密度脂蛋白胆固醇", required: false, range: 0.1...15),
        Column(key: "hdl_cholesterol", chinese: "高密度脂蛋白胆固醇", required: false, range: 0.1...5),
        Column(key: "hba1c", chinese: "糖化血红蛋白", required: false, range: 2...20),
        Column(key: "smoking", chinese: "吸烟状况", required: false, range: nil),
        Column(key: "drinking", chinese: "饮酒频率", required: false, range: nil),
        Column(key: "exercise", chinese: "锻炼频率", required: false, range: nil),
        Column(key: "antihypertensive", chinese: "服用降压药", required: false, range: nil),
        Column(key: "lab_result_ids", chinese: "检验结果编号", required: false, range: nil),
        Column(key: "imaging_study_uids", chinese: "影像检查UID", required: false, range: nil),
    ]

    /// The codes a coded column accepts, with the Chinese words partners write for them.
    static let codes: [String: [String: String]] = [
        "smoking": ["never": "never", "从不吸烟": "never", "former": "former", "已戒烟": "former", "current": "current", "吸烟": "current"],
        "drinking": [
            "never": "never", "从不": "never", "occasional": "occasional", "偶尔": "occasional", "often": "often", "经常": "often",
            "daily": "daily", "每天": "daily",
        ],
        "exercise": [
            "none": "none", "不锻炼": "none", "occasional": "occasional", "偶尔": "occasional", "weekly": "weekly",
            "每周一次以上": "weekly", "daily": "daily", "每天": "daily",
        ],
        "antihypertensive": ["yes": "yes", "是": "yes", "1": "yes", "no": "no", "否": "no", "0": "no"],
    ]

    /// One problem of one cell (or of the header: row 1).
    public struct Problem: Sendable, Equatable, Codable, CustomStringConvertible {
        /// The line of the file, the header being 1.
        public var row: Int
        public var column: String
        public var reason: String

        public init(row: Int, column: String, reason: String) {
            self.row = row
            self.column = column
            self.reason = reason
        }

        public var description: String { "row \(row), column \(column): \(reason)" }
    }

    /// A row read: the resident's record number and the examination (its resident id still 0).
    public struct Row: Sendable, Equatable {
        public var line: Int
        public var recordNumber: String
        public var examination: Examination
    }

    /// Reads the file; throws every problem found when any is.
    public static func parse(_ text: String) throws(ExaminationImportError) -> [Row] {
        var body = text
        if body.hasPrefix("\u{FEFF}") { body.removeFirst() }
        let records = try split(body)
        guard let header = records.first else { throw .problems([Problem(row: 1, column: "", reason: "the file is empty")]) }
        var problems: [Problem] = []
        var index: [String: Int] = [:]
        for (position, name) in header.enumerated() {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard let column = columns.first(where: { $0.key == trimmed.lowercased() || $0.chinese == trimmed }) else {
                problems.append(Problem(row: 1, column: trimmed, reason: "unknown column (docs/health.md lists the columns)"))
                continue
            }
            if index[column.key] != nil {
                problems.append(Problem(row: 1, column: trimmed, reason: "the column appears twice"))
            }
            index[column.key] = position
        }
        for column in columns where column.required && index[column.key] == nil {
            problems.append(Problem(row: 1, column: column.key, reason: "required column is missing"))
        }
        guard problems.isEmpty else { throw .problems(problems) }
        var rows: [Row] = []
        for (offset, record) in records.dropFirst().enumerated() {
            let line = offset + 2
            if record.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { continue }
            if record.count != header.count {
                problems.append(Problem(row: line, column: "", reason: "\(record.count) cells where the header has \(header.count)"))
                continue
            }
            var values: [String: String] = [:]
            for (key, position) in index {
                let value = record[position].trimmingCharacters(in: .whitespaces)
                if !value.isEmpty { values[key] = value }
            }
            var numbers: [String: Double] = [:]
            for column in columns {
                let value = values[column.key]
                if column.required && value == nil {
                    problems.append(Problem(row: line, column: column.key, reason: "required value is empty"))
                    continue
                }
                guard let value else { continue }
                if let range = column.range {
                    guard let number = Double(value), number.isFinite else {
                        problems.append(Problem(row: line, column: column.key, reason: "\(value) is not a number"))
                        continue
                    }
                    guard range.contains(number) else {
                        problems.append(
                            Problem(
                                row: line, column: column.key,
                                reason:
                                    "\(value) is outside \(RiskInputError.format(range.lowerBound))–\(RiskInputError.format(range.upperBound))"
                            ))
                        continue
                    }
                    numbers[column.key] = number
                }
                if let accepted = codes[column.key], accepted[value.lowercased()] == nil {
                    let allowed = Set(accepted.values).sorted().joined(separator: ", ")
                    problems.append(Problem(row: line, column: column.key, reason: "\(value) is not one of \(allowed)"))
                }
            }
            if let date = values["date"], CivilDate(date) == nil {
                problems.append(Problem(row: line, column: "date", reason: "\(date) is not a date written yyyy-MM-dd"))
            }
            for (systolic, diastolic) in [("sbp_left", "dbp_left"), ("sbp_right", "dbp_right")] {
                if (numbers[systolic] == nil) != (numbers[diastolic] == nil), values[systolic] != nil || values[diastolic] != nil {
                    problems.append(
                        Problem(row: line, column: numbers[systolic] == nil ? systolic : diastolic, reason: "a pressure needs both values"))
                } else if let s = numbers[systolic], let d = numbers[diastolic], s <= d {
                    problems.append(
                        Problem(row: line, column: systolic, reason: "systolic \(values[systolic] ?? "") is not above diastolic"))
                }
            }
            func code(_ key: String) -> String? { values[key].flatMap { codes[key]?[$0.lowercased()] } }
            func list(_ key: String) -> [String] {
                (values[key] ?? "").split(whereSeparator: { $0 == ";" || $0 == "；" || $0 == " " }).map(String.init)
            }
            let examination = Examination(
                residentID: 0, date: values["date"] ?? "", doctor: values["doctor"] ?? "",
                vitals: Examination.Vitals(
                    temperature: numbers["temperature_c"], pulse: numbers["pulse"], respiration: numbers["respiration"],
                    leftSystolic: numbers["sbp_left"], leftDiastolic: numbers["dbp_left"], rightSystolic: numbers["sbp_right"],
                    rightDiastolic: numbers["dbp_right"], height: numbers["height_cm"], weight: numbers["weight_kg"],
                    waist: numbers["waist_cm"]),
                lifestyle: Examination.Lifestyle(
                    exerciseFrequency: code("exercise") ?? "", smoking: code("smoking") ?? "never",
                    drinkingFrequency: code("drinking") ?? "never"),
                auxiliary: Examination.Auxiliary(
                    fastingGlucose: numbers["fasting_glucose"], totalCholesterol: numbers["total_cholesterol"],
                    triglycerides: numbers["triglycerides"], ldlCholesterol: numbers["ldl_cholesterol"],
                    hdlCholesterol: numbers["hdl_cholesterol"], hba1c: numbers["hba1c"], laboratoryResultIDs: list("lab_result_ids"),
                    imagingStudyUIDs: list("imaging_study_uids")),
                antihypertensiveTreatment: code("antihypertensive") == "yes")
            rows.append(Row(line: line, recordNumber: values["record_number"] ?? "", examination: examination))
        }
        guard problems.isEmpty else { throw .problems(problems) }
        return rows
    }

    /// Splits CSV text into records of fields (RFC 4180: quoted fields may hold commas, quotes doubled, line breaks).
    static func split(_ text: String) throws(ExaminationImportError) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var line = 1
        var iterator = Array(text.unicodeScalars).makeIterator()
        var pending: Unicode.Scalar?
        func next() -> Unicode.Scalar? {
            if let p = pending {
                pending = nil
                return p
            }
            return iterator.next()
        }
        var fieldStarted = false
        while let scalar = next() {
            if quoted {
                if scalar == "\"" {
                    if let following = next() {
                        if following == "\"" {
                            field.unicodeScalars.append("\"")
                        } else {
                            quoted = false
                            pending = following
                        }
                    } else {
                        quoted = false
                    }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where !fieldStarted && field.isEmpty:
                quoted = true
                fieldStarted = true
            case ",":
                record.append(field)
                field = ""
                fieldStarted = false
            case "\r":
                continue
            case "\n":
                record.append(field)
                records.append(record)
                record = []
                field = ""
                fieldStarted = false
                line += 1
            default:
                field.unicodeScalars.append(scalar)
                fieldStarted = true
            }
        }
        if quoted { throw .problems([Problem(row: line, column: "", reason: "a quoted field is not closed")]) }
        if !field.isEmpty || !record.isEmpty {
            record.append(field)
            records.append(record)
        }
        return records
    }
}

public enum ExaminationImportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Every problem of the file; nothing was imported.
    case problems([ExaminationCSV.Problem])

    public var problems: [ExaminationCSV.Problem] {
        switch self {
        case .problems(let problems): problems
        }
    }

    public var description: String { problems.map(\.description).joined(separator: "; ") }
}
