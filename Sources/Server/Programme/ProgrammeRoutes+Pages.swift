import Foundation
import Hummingbird
import Platform
import Programme
import Reading

extension ProgrammeRoutes {
    /// The page data shared by the dashboard and the yearly report: one entry per indicator with its chart.
    func indicatorEntries(_ board: Dashboard, _ selection: Selection, _ language: InterfaceLanguage) -> [[String: Any]] {
        func text(_ key: String) -> String { views.locales.text(key, language) }
        let months = (1...12).map { String(format: "%02d", $0) }
        let openActions = Set(board.actions.filter { $0.state == .open }.map { "\($0.institution ?? "")|\($0.indicator)" })
        return board.rows.map { row in
            let title = name(row.definition, board.named, language)
            let known = ["count", "hours", "percent"].contains(row.definition.unit)
            let unit = known ? text("programme.units.\(row.definition.unit)") : row.definition.unit
            // The dashed line: a month's share of a yearly count, or the level itself.
            let limit = row.target.map { row.definition.accumulation == .cumulative ? $0.target / 12 : $0.target }
            let chart = SVGChart.bars(
                title: "\(title) · \(selection.period.year)", series: [title],
                groups: zip(months, row.monthly).map { SVGChart.Group(label: $0.0, values: [$0.1]) }, unit: unit, limit: limit)
            let trend = row.trend > 0 ? "better" : row.trend < 0 ? "worse" : "same"
            let needsAction =
                row.status == .offTrack && !openActions.contains("\(selection.period.institution ?? "")|\(row.definition.key)")
            return [
                "key": row.definition.key, "name": title, "unit": unit, "value": Self.number(row.value),
                "hasValue": row.value != nil, "target": Self.number(row.target?.target), "warning": Self.number(row.target?.warning),
                "due": Self.number(row.due), "owner": row.target?.owner ?? "", "status": row.status.rawValue,
                "statusLabel": text("programme.status.\(row.status.rawValue)"), "trend": trend,
                "trendLabel": text("programme.trend.\(trend)"), "chart": chart, "derived": row.definition.derived,
                "needsAction": needsAction,
                "monthly": zip(months, row.monthly).map { ["month": $0.0, "value": Self.number($0.1)] },
            ]
        }
    }

    func filters(_ board: Dashboard, _ selection: Selection, _ language: InterfaceLanguage) -> [String: Any] {
        let current = Self.currentYear(selection.now)
        return [
            "years": Array(Set([current - 2, current - 1, current, current + 1, selection.period.year])).sorted().map {
                ["value": $0, "selected": $0 == selection.period.year]
            },
            "months": (0...12).map {
                [
                    "value": $0, "selected": $0 == (selection.period.month ?? 0),
                    "label": $0 == 0 ? views.locales.text("programme.wholeYear", language) : String(format: "%02d", $0),
                ]
            },
            "institutions": board.institutions.map { ["value": $0, "selected": $0 == selection.period.institution] },
        ]
    }

    func query(_ selection: Selection) -> String {
        var items = [URLQueryItem(name: "year", value: String(selection.period.year))]
        if let month = selection.period.month { items.append(URLQueryItem(name: "month", value: String(month))) }
        if let institution = selection.period.institution { items.append(URLQueryItem(name: "institution", value: institution)) }
        var components = URLComponents()
        components.queryItems = items
        return components.percentEncodedQuery ?? ""
    }

    /// `GET /programme`: filters, the status summary, each indicator's figure, target, status, trend and monthly chart
    /// (with its table), the partners' contributions, improvement actions, and the office's forms.
    func dashboardPage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.reader(context)
        let selection = try Self.selection(request)
        let board = try await dashboard(selection)
        let language = WebViews.language(request: request, context: context)
        func text(_ key: String) -> String { views.locales.text(key, language) }
        let indicators = indicatorEntries(board, selection, language)
        var counts: [String: Int] = [:]
        for row in board.rows { counts[row.status.rawValue, default: 0] += 1 }
        var data = filters(board, selection, language)
        let query = query(selection)
        data.merge([
            "year": selection.period.year, "indicators": indicators, "office": principal.has(.admin), "returnQuery": query,
            "summary": IndicatorStatus.allCases.map {
                ["status": $0.rawValue, "label": text("programme.status.\($0.rawValue)"), "count": counts[$0.rawValue] ?? 0]
            },
            "contributions": board.contributions.map(Self.describe),
            "hasContributions": !board.contributions.isEmpty,
            "serviceLines": serviceLineEntries(board, language),
            "actions": actionEntries(board.actions, board, language, selection.now),
            "hasActions": !board.actions.isEmpty,
            "definitions": board.rows.map { ["key": $0.definition.key, "name": name($0.definition, board.named, language)] },
            "namedDefinitions": board.named.map {
                ["key": $0.definition.key, "name": language == .chinese ? $0.nameChinese : $0.nameEnglish]
            },
            "hasNamed": !board.named.isEmpty,
            "institution": selection.period.institution ?? "",
            "csvHref": "/api/programme/dashboard.csv?\(query)", "reportHref": "/programme/report?\(query)",
            "xlsxHref": "/api/programme/dashboard.xlsx?\(query)",
            "contributionsCSVHref": "/api/programme/dashboard.csv?table=contributions&\(query)",
            "directions": IndicatorDirection.allCases.map { ["value": $0.rawValue, "label": text("programme.direction.\($0.rawValue)")] },
            "accumulations": IndicatorAccumulation.allCases.map {
                ["value": $0.rawValue, "label": text("programme.accumulation.\($0.rawValue)")]
            },
        ]) { _, new in new }
        return views.page(
            "programme", title: text("programme.title"), section: .programme, data: data, request: request, context: context)
    }

    func actionEntries(_ actions: [ImprovementAction], _ board: Dashboard, _ language: InterfaceLanguage, _ now: Date) -> [[String: Any]] {
        actions.map { action in
            let definition = board.rows.first { $0.definition.key == action.indicator }?.definition
            return [
                "id": action.id, "indicator": definition.map { name($0, board.named, language) } ?? action.indicator,
                "institution": action.institution ?? views.locales.text("programme.alliance", language),
                "description": action.description, "owner": action.owner, "due": Self.dayText(action.due),
                "open": action.state == .open, "overdue": action.overdue(at: now),
                "state": views.locales.text(
                    "programme.actionState.\(action.overdue(at: now) ? "overdue" : action.state.rawValue)", language),
                "closingNote": action.closingNote ?? "", "closedBy": action.closedBy ?? "",
                "closedAt": action.closedAt.map(Self.dayText) ?? "",
            ]
        }
    }

    static func dayText(_ date: Date) -> String {
        let calendar = AllianceTime.calendar
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
    }

    /// The consultations of each service line as the dashboard and the yearly report show them.
    func serviceLineEntries(_ board: Dashboard, _ language: InterfaceLanguage) -> [[String: Any]] {
        board.serviceLines.map {
            [
                "serviceLine": $0.serviceLine, "name": views.locales.text("serviceLines.name.\($0.serviceLine)", language),
                "requested": $0.requested, "reported": $0.reported, "turnaround": Self.number($0.turnaroundMedianHours),
                "breachRate": Self.number($0.breachRate),
            ] as [String: Any]
        }
    }

    /// `GET /programme/report?year=…`: the yearly self-assessment report, for printing: every indicator against its
    /// target with its chart, the contributions, and the improvement actions with their closing notes.
    func reportPage(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        _ = try Self.reader(context)
        var selection = try Self.selection(request)
        selection.period.month = nil
        let board = try await dashboard(selection)
        let language = WebViews.language(request: request, context: context)
        let data: [String: Any] = [
            "year": selection.period.year,
            "institution": selection.period.institution ?? views.locales.text("programme.alliance", language),
            "generated": Self.dayText(selection.now), "indicators": indicatorEntries(board, selection, language),
            "contributions": board.contributions.map(Self.describe),
            "actions": actionEntries(board.actions, board, language, selection.now), "hasActions": !board.actions.isEmpty,
            "serviceLines": serviceLineEntries(board, language),
        ]
        return views.page(
            "programme-report", title: views.locales.text("programme.report.title", language), section: .programme, data: data,
            request: request, context: context)
    }

    // MARK: - Forms (the office's), each back to the dashboard

    func back(_ form: FormBody) -> Response {
        let query = form["return"] ?? ""
        let safe = query.allSatisfy { $0.isLetter || $0.isNumber || "=&-_%.".contains($0) }
        return .redirect(to: "/programme" + (safe && !query.isEmpty ? "?" + query : ""), type: .found)
    }

    func targetForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.office(context)
        let form = try await FormBody.read(request)
        guard let year = Int(form["year"] ?? ""), let value = Double(form["target"] ?? ""), let warning = Double(form["warning"] ?? "")
        else { throw HTTPError(.badRequest, message: "a target needs a year, a target value and a warning threshold") }
        let institution = (form["institution"] ?? "").isEmpty ? nil : form["institution"]
        let target = ProgrammeTarget(
            year: year, institution: institution, indicator: form["indicator"] ?? "", target: value, warning: warning,
            owner: (form["owner"] ?? "").isEmpty ? principal.username : form["owner"] ?? "")
        try await mapped { try await store.setTarget(target, by: principal.username) }
        await record(context, "programme target \(target.indicator) \(year) \(institution ?? "alliance") set")
        return back(form)
    }

    func figureForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.office(context)
        let form = try await FormBody.read(request)
        guard let value = Double(form["value"] ?? "") else { throw HTTPError(.badRequest, message: "a figure needs a number") }
        let date = try Self.day(form["date"] ?? "")
        let id = try await mapped {
            try await store.recordFigure(
                indicator: form["indicator"] ?? "", institution: form["institution"] ?? "", date: date, value: value,
                evidence: form["evidence"] ?? "", by: principal.username)
        }
        await record(context, "programme figure \(id) entered")
        return back(form)
    }

    func indicatorForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.office(context)
        let form = try await FormBody.read(request)
        let indicator = NamedIndicator(
            definition: IndicatorDefinition(
                key: form["key"] ?? "", unit: form["unit"] ?? "count",
                direction: IndicatorDirection(rawValue: form["direction"] ?? "") ?? .higherIsBetter,
                accumulation: IndicatorAccumulation(rawValue: form["accumulation"] ?? "") ?? .cumulative, derived: false),
            nameEnglish: form["nameEnglish"] ?? "", nameChinese: form["nameChinese"] ?? "")
        try await mapped { try await store.addIndicator(indicator, by: principal.username) }
        await record(context, "programme indicator \(indicator.definition.key) added")
        return back(form)
    }

    func actionForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.office(context)
        let form = try await FormBody.read(request)
        let body = ActionBody(
            year: Int(form["year"] ?? "") ?? 0, institution: form["institution"], indicator: form["indicator"] ?? "",
            description: form["description"] ?? "", owner: form["owner"] ?? "", due: form["due"] ?? "")
        let action = try await openAction(body, by: principal.username)
        await record(context, "improvement action \(action.id) opened for \(action.indicator)")
        return back(form)
    }

    func closeForm(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let principal = try Self.office(context)
        guard let id = Int64(try context.parameters.require("id")) else { throw HTTPError(.notFound) }
        let form = try await FormBody.read(request)
        _ = try await mapped { try await store.closeAction(id, note: form["note"] ?? "", by: principal.username) }
        await record(context, "improvement action \(id) closed")
        return back(form)
    }
}
