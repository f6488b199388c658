import Foundation
import Hummingbird
import NIOCore
import Platform
import Reading

/// The turnaround dashboard (`/turnaround`) and its CSV export (`/api/turnaround.csv`): received → claimed →
/// preliminary → final, median and 90th percentile per priority, site or reader and per ISO week or month, the breaches
/// of the service levels, and a bar chart drawn on the server (``SVGChart``). A site sees its own institution's.
struct TurnaroundPage: Sendable {
    let views: WebViews
    let store: ReadingStore

    func register(on router: Router<AtriumRequestContext>) {
        router.get("/turnaround") { request, context in try await self.page(request, context) }
        router.get("/api/turnaround.csv") { request, context in
            let (rows, _, _) = try await self.table(request, context)
            return Response(
                status: .ok,
                headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"atrium-turnaround.csv\""],
                body: .init(byteBuffer: ByteBuffer(string: Turnaround.csv(rows))))
        }
    }

    func choices(_ request: Request) -> (Turnaround.Grouping, Turnaround.Period) {
        let grouping = request.uri.queryParameters["group"].flatMap { Turnaround.Grouping(rawValue: String($0)) } ?? .priority
        let period = request.uri.queryParameters["period"].flatMap { Turnaround.Period(rawValue: String($0)) } ?? .week
        return (grouping, period)
    }

    func table(_ request: Request, _ context: AtriumRequestContext) async throws -> ([Turnaround.Row], [Turnaround.Case], Date) {
        guard let principal = context.principal else { throw HTTPError(.unauthorized) }
        try ReadingRoutes.require(.viewTurnaround, principal, institution: nil)
        let scope = try ReadingRoutes.listScope(principal)
        let cases = try await ReadingRoutes.mapped { try await self.store.turnaroundCases(institution: scope) }
        let (grouping, period) = choices(request)
        let now = store.now
        return (Turnaround.table(cases, grouping: grouping, period: period, now: now), cases, now)
    }

    static func minutes(_ seconds: Double?) -> String { seconds.map { String(format: "%.1f", $0 / 60) } ?? "—" }

    func page(_ request: Request, _ context: AtriumRequestContext) async throws -> Response {
        let language = WebViews.language(request: request, context: context)
        func text(_ key: String) -> String { views.locales.text(key, language) }
        let (rows, cases, now) = try await table(request, context)
        let (grouping, period) = choices(request)
        let latest = rows.map(\.period).max()
        let chartRows = rows.filter { $0.period == latest }
        let chart = SVGChart.bars(
            title: text("reading.turnaround.chart") + " " + (latest ?? ""),
            series: [text("reading.turnaround.median"), text("reading.turnaround.p90")],
            groups: chartRows.map {
                SVGChart.Group(
                    label: $0.group, values: [$0.steps[.final]?.median.map { $0 / 60 }, $0.steps[.final]?.p90.map { $0 / 60 }])
            }, unit: "min")
        let data: [String: Any] = [
            "groupings": Turnaround.Grouping.allCases.map {
                ["code": $0.rawValue, "label": text("reading.turnaround.by.\($0.rawValue)"), "selected": $0 == grouping]
            },
            "periods": Turnaround.Period.allCases.map {
                ["code": $0.rawValue, "label": text("reading.turnaround.period.\($0.rawValue)"), "selected": $0 == period]
            },
            "rows": rows.map { row -> [String: Any] in
                [
                    "period": row.period, "group": row.group, "requests": row.requests, "breaches": row.breaches,
                    "steps": Turnaround.Interval.allCases.map { interval -> [String: Any] in
                        let summary = row.steps[interval]
                        return ["median": Self.minutes(summary?.median), "p90": Self.minutes(summary?.p90)]
                    },
                ]
            },
            "empty": rows.isEmpty,
            "chart": chart,
            "breaches": Turnaround.breaches(cases, now: now).prefix(50).map {
                [
                    "id": $0.requestID, "priority": text("reading.priority.\($0.priority)"), "site": $0.site,
                    "deadline": ReadingPages.local($0.deadline), "final": $0.final.map(ReadingPages.local) ?? "—",
                ]
            },
            "csvHref": "/api/turnaround.csv?group=\(grouping.rawValue)&period=\(period.rawValue)",
        ]
        return views.page(
            "turnaround", title: text("reading.turnaround.title"), section: .consultations, data: data, request: request,
            context: context)
    }
}
