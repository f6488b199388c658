import Foundation
import Hummingbird
import Logging
import NIOCore
import Platform
import Programme

/// The programme office over HTTP: the JSON API under `/api/programme` and the pages under `/programme`.
/// Administrators (the programme office) and supervisors read the figures; administrators set targets, add named
/// indicators, enter figures with evidence and open and close improvement actions. The logic lives in the `Programme`
/// target; this maps requests onto it.
struct ProgrammeRoutes: Sendable {
    let store: ProgrammeStore
    let identity: IdentityStore
    let views: WebViews
    let logger: Logger

    func register(on router: Router<AtriumRequestContext>) {
        router.get("/api/programme/dashboard") { request, context in try await self.dashboardJSON(request, context) }
        router.get("/api/programme/dashboard.csv") { request, context in try await self.dashboardCSV(request, context) }
        router.get("/api/programme/dashboard.xlsx") { request, context in try await self.dashboardXLSX(request, context) }
        router.get("/api/programme/indicators") { _, context in try await self.indicatorsJSON(context) }
        router.post("/api/programme/indicators") { request, context in try await self.addIndicatorJSON(request, context) }
        router.get("/api/programme/targets") { request, context in try await self.targetsJSON(request, context) }
        router.put("/api/programme/targets") { request, context in try await self.setTargetJSON(request, context) }
        router.get("/api/programme/figures") { request, context in try await self.figuresJSON(request, context) }
        router.post("/api/programme/figures") { request, context in try await self.addFigureJSON(request, context) }
        router.get("/api/programme/actions") { request, context in try await self.actionsJSON(request, context) }
        router.post("/api/programme/actions") { request, context in try await self.openActionJSON(request, context) }
        router.post("/api/programme/actions/:id/close") { request, context in try await self.closeActionJSON(request, context) }
        router.get("/programme") { request, context in try await self.dashboardPage(request, context) }
        router.get("/programme/report") { request, context in try await self.reportPage(request, context) }
        router.post("/programme/targets") { request, context in try await self.targetForm(request, context) }
        router.post("/programme/figures") { request, context in try await self.figureForm(request, context) }
        router.post("/programme/indicators") { request, context in try await self.indicatorForm(request, context) }
        router.post("/programme/actions") { request, context in try await self.actionForm(request, context) }
        router.post("/programme/actions/:id/close") { request, context in try await self.closeForm(request, context) }
    }

    // MARK: - Who may do what

    /// The programme office (administrators) and supervisors read the figures.
    static func reader(_ context: AtriumRequestContext) throws -> Principal {
        guard let principal = context.principal else { throw HTTPError(.unauthorized, message: "sign in first") }
        guard principal.has(.admin) || principal.has(.supervisor) else {
            throw HTTPError(.forbidden, message: "the programme's figures are for the programme office and supervisors")
        }
        return principal
    }

    /// Only administrators change targets, indicators, figures and actions.
    static func office(_ context: AtriumRequestContext) throws -> Principal {
        let principal = try reader(context)
        guard principal.has(.admin) else { throw HTTPError(.forbidden, message: "only the programme office changes the programme") }
        return principal
    }

    func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ProgrammeError {
            switch error {
            case .notFound: throw HTTPError(.notFound, message: error.description)
            case .conflict: throw HTTPError(.conflict, message: error.description)
            case .database:
                logger.error("programme store", metadata: ["error": "\(error)"])
                throw HTTPError(.internalServerError, message: "the programme's records are not available")
            default: throw HTTPError(.badRequest, message: error.description)
            }
        }
    }

    func record(_ context: AtriumRequestContext, _ detail: String) async {
        await identity.audit.record(
            AuditEvent(
                eventID: .applicationActivity, action: .update, user: context.principal?.username ?? "",
                sourceAddress: context.remoteAddress?.ipAddress ?? "", detail: detail))
    }

    // MARK: - The dashboard as data

    struct Selection {
        var period: ProgrammePeriod
        var now: Date
    }

    static func currentYear(_ now: Date) -> Int {
        let calendar = AllianceTime.calendar
        return calendar.component(.year, from: now)
    }

    static func selection(_ request: Request) throws -> Selection {
        let parameters = request.uri.queryParameters
        let now = Date()
        let year = parameters["year"].flatMap { Int(String($0)) } ?? currentYear(now)
        guard (2000...2100).contains(year) else { throw HTTPError(.badRequest, message: "year \(year) is out of range") }
        let month = parameters["month"].flatMap { Int(String($0)) }.flatMap { $0 == 0 ? nil : $0 }
        if let month, !(1...12).contains(month) { throw HTTPError(.badRequest, message: "month \(month) is out of range") }
        let institution = parameters["institution"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        return Selection(period: ProgrammePeriod(year: year, month: month, institution: institution), now: now)
    }

    struct Dashboard {
        var rows: [ProgrammeDashboard.Row]
        var contributions: [ProgrammeDashboard.Contribution]
        var serviceLines: [ProgrammeDashboard.ServiceLineFigures]
        var named: [NamedIndicator]
        var actions: [ImprovementAction]
        var institutions: [String]
    }

    func dashboard(_ selection: Selection) async throws -> Dashboard {
        let (facts, targets, named, actions) = try await mapped {
            (
                try await store.facts(), try await store.targets(year: selection.period.year), try await store.namedIndicators(),
                try await store.actions(year: selection.period.year)
            )
        }
        let rows = ProgrammeDashboard.rows(
            facts: facts, targets: targets, definitions: IndicatorCatalog.all + named.map(\.definition), period: selection.period,
            now: selection.now)
        var institutions = Set(facts.consultations.map(\.site) + facts.cases.map(\.institution) + targets.compactMap(\.institution))
        if let known = try? await identity.institutions() { institutions.formUnion(known.map(\.code)) }
        return Dashboard(
            rows: rows, contributions: ProgrammeDashboard.contributions(facts: facts, period: selection.period),
            serviceLines: ProgrammeDashboard.serviceLines(facts: facts, period: selection.period, now: selection.now), named: named,
            actions: actions, institutions: institutions.filter { !$0.isEmpty }.sorted())
    }

    static func describe(_ line: ProgrammeDashboard.ServiceLineFigures) -> [String: Any] {
        [
            "serviceLine": line.serviceLine, "requested": line.requested, "reported": line.reported,
            "turnaroundMedianHours": line.turnaroundMedianHours.map { $0 as Any } ?? NSNull(),
            "breachRate": line.breachRate.map { $0 as Any } ?? NSNull(),
        ]
    }

    /// One partner's row as the JSON API, the page and the report give it.
    static func describe(_ row: ProgrammeDashboard.Contribution) -> [String: Any] {
        [
            "institution": row.institution, "studiesSent": row.studiesSent, "consultationsRequested": row.consultationsRequested,
            "consultationsReported": row.consultationsReported, "casesContributed": row.casesContributed,
            "casesPublished": row.casesPublished, "trainingPersonTimes": row.trainingPersonTimes, "examAttempts": row.examAttempts,
            "partTimeTeachers": row.partTimeTeachers, "traineesHosted": row.traineesHosted, "inspections": row.inspections,
        ]
    }

    /// The contribution table's columns: the JSON key of each and its locale key under `programme.contributions`.
    static let contributionColumns: [(key: String, label: String)] = [
        ("studiesSent", "studies"), ("consultationsRequested", "requested"), ("consultationsReported", "reported"),
        ("casesContributed", "cases"),
        ("casesPublished", "published"), ("trainingPersonTimes", "training"), ("examAttempts", "exams"),
        ("partTimeTeachers", "partTimeTeachers"), ("traineesHosted", "traineesHosted"), ("inspections", "inspections"),
    ]

    static func counts(_ row: ProgrammeDashboard.Contribution) -> [Int] {
        [
            row.studiesSent, row.consultationsRequested, row.consultationsReported, row.casesContributed, row.casesPublished,
            row.trainingPersonTimes,
            row.examAttempts, row.partTimeTeachers, row.traineesHosted, row.inspections,
        ]
    }

    func name(_ definition: IndicatorDefinition, _ named: [NamedIndicator], _ language: InterfaceLanguage) -> String {
        if let custom = named.first(where: { $0.definition.key == definition.key }) {
            return language == .chinese ? custom.nameChinese : custom.nameEnglish
        }
        return views.locales.text("programme.indicators.\(Self.localeKey(definition.key))", language)
    }

    /// Locale keys cannot hold dots: `consultations.turnaround-median` is `consultations_turnaround-median`.
    static func localeKey(_ key: String) -> String { key.replacingOccurrences(of: ".", with: "_") }

    static func number(_ value: Double?) -> String {
        guard let value else { return "" }
        return value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.1f", value)
    }

    static func iso(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    // MARK: - JSON API

    /// `GET /api/programme/dashboard?year=2026[&month=6][&institution=COUNTY-A]`.
    func dashboardJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.reader(context)
        let selection = try Self.selection(request)
        let board = try await dashboard(selection)
        let language = WebViews.language(request: request, context: context)
        let rows: [[String: Any]] = board.rows.map { row in
            var entry: [String: Any] = [
                "key": row.definition.key, "name": name(row.definition, board.named, language), "unit": row.definition.unit,
                "direction": row.definition.direction.rawValue, "accumulation": row.definition.accumulation.rawValue,
                "derived": row.definition.derived, "value": row.value.map { $0 as Any } ?? NSNull(), "status": row.status.rawValue,
                "trend": row.trend,
                "monthly": row.monthly.map { $0.map { $0 as Any } ?? NSNull() },
            ]
            if let target = row.target {
                entry["target"] = target.target
                entry["warning"] = target.warning
                entry["owner"] = target.owner
            }
            entry["due"] = row.due.map { $0 as Any } ?? NSNull()
            return entry
        }
        return AuthRoutes.json([
            "year": selection.period.year, "month": selection.period.month.map { $0 as Any } ?? NSNull(),
            "institution": selection.period.institution.map { $0 as Any } ?? NSNull(), "now": Self.iso(selection.now), "indicators": rows,
            "serviceLines": board.serviceLines.map(Self.describe),
            "contributions": board.contributions.map(Self.describe),
        ])
    }

    /// `GET /api/programme/dashboard.csv?…`: the indicator table (RFC 4180, UTF-8 with a byte-order mark for Excel).
    func dashboardCSV(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.reader(context)
        let selection = try Self.selection(request)
        let board = try await dashboard(selection)
        let language = WebViews.language(request: request, context: context)
        let contributionsTable = request.uri.queryParameters["table"].map(String.init) == "contributions"
        var lines = [
            ["indicator", "name", "unit", "value", "target", "warning", "due", "status", "trend"]
                + (1...12).map { String(format: "m%02d", $0) }
        ]
        if contributionsTable {
            lines = [["institution"] + Self.contributionColumns.map(\.key)]
            lines += board.contributions.map { [$0.institution] + Self.counts($0).map(String.init) }
        }
        for row in board.rows where !contributionsTable {
            lines.append(
                [
                    row.definition.key, name(row.definition, board.named, language), row.definition.unit, Self.number(row.value),
                    Self.number(row.target?.target), Self.number(row.target?.warning), Self.number(row.due), row.status.rawValue,
                    String(row.trend),
                ] + row.monthly.map(Self.number))
        }
        let text = "\u{FEFF}" + lines.map { $0.map { CSVWriter.field($0) }.joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
        let file =
            "atrium-programme-\(contributionsTable ? "contributions-" : "")\(selection.period.year)\(selection.period.month.map { String(format: "-%02d", $0) } ?? "").csv"
        return Response(
            status: .ok,
            headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(file)\""],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// `GET /api/programme/dashboard.xlsx?…`: the indicators, the contributions and the year's improvement actions as three
    /// sheets of a real XLSX workbook (numbers as numbers, an undefined figure as an empty cell).
    func dashboardXLSX(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.reader(context)
        let selection = try Self.selection(request)
        let board = try await dashboard(selection)
        let language = WebViews.language(request: request, context: context)
        func text(_ key: String) -> String { views.locales.text(key, language) }
        func number(_ value: Double?) -> SpreadsheetValue { value.map { .number($0) } ?? .empty }
        let indicators = SpreadsheetSheet(
            name: text("programme.indicatorsHeading"),
            header: [
                "indicator", text("programme.indicator"), text("programme.value"), text("programme.target"), text("programme.warning"),
                text("programme.due"), text("programme.statusLabel"),
            ] + (1...12).map { String(format: "%02d", $0) },
            rows: board.rows.map { row in
                [
                    .text(row.definition.key), .text(name(row.definition, board.named, language)), number(row.value),
                    number(row.target?.target),
                    number(row.target?.warning), number(row.due), .text(text("programme.status.\(row.status.rawValue)")),
                ] + row.monthly.map(number)
            }, columnWidths: [30, 36, 10, 10, 10, 10, 14] + Array(repeating: 8, count: 12))
        let contributions = SpreadsheetSheet(
            name: text("programme.contributions.heading"),
            header: [text("programme.institution")] + Self.contributionColumns.map { text("programme.contributions.\($0.label)") },
            rows: board.contributions.map { [.text($0.institution)] + Self.counts($0).map { .number(Double($0)) } })
        let actions = SpreadsheetSheet(
            name: text("programme.actions.heading"),
            header: [
                text("programme.indicator"), text("programme.institution"), text("programme.actions.description"), text("programme.owner"),
                text("programme.actions.due"), text("programme.actions.closingNote"),
            ],
            rows: board.actions.map {
                [
                    .text($0.indicator), .text($0.institution ?? ""), .text($0.description), .text($0.owner), .date($0.due),
                    .text($0.closingNote ?? ""),
                ]
            })
        let bytes: [UInt8]
        do {
            bytes = try XLSXWriter.write([indicators, contributions, actions])
        } catch {
            logger.error("programme export", metadata: ["error": "\(error)"])
            throw HTTPError(.internalServerError, message: "the workbook could not be written: \(error)")
        }
        let file = "atrium-programme-\(selection.period.year)\(selection.period.month.map { String(format: "-%02d", $0) } ?? "").xlsx"
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                .contentDisposition: "attachment; filename=\"\(file)\"",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func indicatorsJSON(_ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.reader(context)
        let named = try await mapped { try await store.namedIndicators() }
        let list: [[String: Any]] =
            IndicatorCatalog.all.map {
                [
                    "key": $0.key, "unit": $0.unit, "direction": $0.direction.rawValue, "accumulation": $0.accumulation.rawValue,
                    "derived": true, "nameEnglish": views.locales.text("programme.indicators.\(Self.localeKey($0.key))", .english),
                    "nameChinese": views.locales.text("programme.indicators.\(Self.localeKey($0.key))", .chinese),
                ]
            }
            + named.map {
                [
                    "key": $0.definition.key, "unit": $0.definition.unit, "direction": $0.definition.direction.rawValue,
                    "accumulation": $0.definition.accumulation.rawValue, "derived": false, "nameEnglish": $0.nameEnglish,
                    "nameChinese": $0.nameChinese,
                ]
            }
        return AuthRoutes.json(["indicators": list])
    }

    struct IndicatorBody: Decodable {
        var key: String
        var unit: String
        var direction: IndicatorDirection?
        var accumulation: IndicatorAccumulation?
        var nameEnglish: String
        var nameChinese: String
    }

    func addIndicatorJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.office(context)
        let body = try await LibraryRoutes.decodeBody(IndicatorBody.self, request)
        let indicator = NamedIndicator(
            definition: IndicatorDefinition(
                key: body.key, unit: body.unit, direction: body.direction ?? .higherIsBetter,
                accumulation: body.accumulation ?? .cumulative,
                derived: false), nameEnglish: body.nameEnglish, nameChinese: body.nameChinese)
        try await mapped { try await store.addIndicator(indicator, by: principal.username) }
        await record(context, "programme indicator \(body.key) added")
        return AuthRoutes.json(["key": body.key], status: .created)
    }

    func targetsJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.reader(context)
        let year = try Self.selection(request).period.year
        let targets = try await mapped { try await store.targets(year: year) }
        return try LibraryRoutes.encoded(["targets": targets])
    }

    /// `PUT /api/programme/targets` with a target (`year`, `institution` or null, `indicator`, `target`, `warning`, `owner`).
    func setTargetJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.office(context)
        let target = try await LibraryRoutes.decodeBody(ProgrammeTarget.self, request)
        try await mapped { try await store.setTarget(target, by: principal.username) }
        await record(context, "programme target \(target.indicator) \(target.year) \(target.institution ?? "alliance") set")
        return try LibraryRoutes.encoded(target)
    }

    func figuresJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.reader(context)
        let year = try Self.selection(request).period.year
        let figures = try await mapped { try await store.figures(year: year) }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(["figures": figures]))))
    }

    struct FigureBody: Decodable {
        var indicator: String
        var institution: String
        var date: String
        var value: Double
        var evidence: String
    }

    /// A `YYYY-MM-DD` day, at noon in the alliance's time zone (so it falls in the same month everywhere).
    static func day(_ text: String) throws -> Date {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        let calendar = AllianceTime.calendar
        guard parts.count == 3, let date = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: 12)),
            calendar.component(.day, from: date) == parts[2]
        else { throw HTTPError(.badRequest, message: "a date is written YYYY-MM-DD, not \(text)") }
        return date
    }

    func addFigureJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.office(context)
        let body = try await LibraryRoutes.decodeBody(FigureBody.self, request)
        let date = try Self.day(body.date)
        let id = try await mapped {
            try await store.recordFigure(
                indicator: body.indicator, institution: body.institution, date: date, value: body.value, evidence: body.evidence,
                by: principal.username)
        }
        await record(context, "programme figure \(id) for \(body.indicator) entered")
        return AuthRoutes.json(["id": id], status: .created)
    }

    func actionsJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.reader(context)
        let year = try Self.selection(request).period.year
        let actions = try await mapped { try await store.actions(year: year) }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(["actions": actions]))))
    }

    struct ActionBody: Decodable {
        var year: Int
        var institution: String?
        var indicator: String
        var description: String
        var owner: String
        var due: String
    }

    func openActionJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.office(context)
        let body = try await LibraryRoutes.decodeBody(ActionBody.self, request)
        let action = try await openAction(body, by: principal.username)
        await record(context, "improvement action \(action.id) opened for \(action.indicator)")
        return AuthRoutes.json(["id": action.id], status: .created)
    }

    func openAction(_ body: ActionBody, by person: String) async throws -> ImprovementAction {
        let due = try Self.day(body.due)
        return try await mapped {
            try await store.openAction(
                year: body.year, institution: body.institution.flatMap { $0.isEmpty ? nil : $0 }, indicator: body.indicator,
                description: body.description, owner: body.owner, due: due, by: person)
        }
    }

    struct CloseBody: Decodable { var note: String }

    func closeActionJSON(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.office(context)
        guard let id = Int64(try context.parameters.require("id")) else { throw HTTPError(.notFound) }
        let body = try await LibraryRoutes.decodeBody(CloseBody.self, request)
        let closed = try await mapped { try await store.closeAction(id, note: body.note, by: principal.username) }
        await record(context, "improvement action \(id) closed")
        return AuthRoutes.json(["id": closed.id, "state": closed.state.rawValue])
    }
}
