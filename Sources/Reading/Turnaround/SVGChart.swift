import Foundation

/// Bar charts drawn on the server as SVG: no chart service and no script in the page. Each bar carries a `<title>`
/// (its label and value) so screen readers and tooltips can read it; the page shows an accessible table beside it.
public enum SVGChart {
    /// One bar group: a label on the x axis and one value per series (nil draws no bar).
    public struct Group: Sendable, Equatable {
        public var label: String
        public var values: [Double?]

        public init(label: String, values: [Double?]) {
            self.label = label
            self.values = values
        }
    }

    /// A grouped bar chart. `series` names each value of a group; `limit`, when given, is drawn as a dashed line
    /// (a target or a service level).
    public static func bars(
        title: String, series: [String], groups: [Group], unit: String, limit: Double? = nil, width: Int = 720, height: Int = 280
    ) -> String {
        let colours = ["#2f6fb3", "#e08a1e", "#3a9d5d", "#b33f62", "#7256a8"]
        let left = 56.0, right = 16.0, top = 32.0, bottom = 48.0
        let plotWidth = Double(width) - left - right, plotHeight = Double(height) - top - bottom
        let maximum = max(groups.flatMap { $0.values.compactMap { $0 } }.max() ?? 0, limit ?? 0, 1)
        let scale = niceCeiling(maximum)
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(width) \(height)" width="\(width)" height="\(height)" \
            role="img" aria-label="\(escape(title))" font-family="sans-serif" font-size="11">
            <title>\(escape(title))</title>
            <text x="\(left)" y="18" font-size="13" font-weight="bold">\(escape(title))</text>

            """
        for tick in 0...4 {
            let value = scale * Double(tick) / 4
            let y = top + plotHeight - plotHeight * Double(tick) / 4
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(y))\" stroke=\"#ddd\"/>"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(escape(number(value)))</text>\n"
        }
        let slot = groups.isEmpty ? plotWidth : plotWidth / Double(groups.count)
        let barWidth = max(2, slot * 0.8 / Double(max(series.count, 1)))
        for (index, group) in groups.enumerated() {
            let x0 = left + slot * Double(index) + slot * 0.1
            for (s, value) in group.values.enumerated() {
                guard let value, s < series.count else { continue }
                let h = plotHeight * value / scale
                let x = x0 + barWidth * Double(s)
                svg += "<rect class=\"bar\" x=\"\(f(x))\" y=\"\(f(top + plotHeight - h))\" width=\"\(f(barWidth - 1))\" "
                svg += "height=\"\(f(h))\" fill=\"\(colours[s % colours.count])\">"
                svg += "<title>\(escape("\(group.label) · \(series[s]): \(number(value)) \(unit)"))</title></rect>\n"
            }
            svg += "<text x=\"\(f(left + slot * (Double(index) + 0.5)))\" y=\"\(f(top + plotHeight + 16))\" "
            svg += "text-anchor=\"middle\">\(escape(group.label))</text>\n"
        }
        if let limit {
            let y = top + plotHeight - plotHeight * limit / scale
            svg += "<line class=\"limit\" x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(y))\" "
            svg += "stroke=\"#c0392b\" stroke-dasharray=\"6 4\"/>\n"
        }
        for (s, name) in series.enumerated() {
            let x = left + Double(s) * 150
            let y = Double(height) - 12
            svg += "<rect x=\"\(f(x))\" y=\"\(f(y - 9))\" width=\"10\" height=\"10\" fill=\"\(colours[s % colours.count])\"/>"
            svg += "<text x=\"\(f(x + 14))\" y=\"\(f(y))\">\(escape(name))</text>\n"
        }
        svg += "<text x=\"12\" y=\"\(f(top + plotHeight / 2))\" transform=\"rotate(-90 12 \(f(top + plotHeight / 2)))\" "
        svg += "text-anchor=\"middle\">\(escape(unit))</text>\n</svg>\n"
        return svg
    }

    /// 1, 2, 2.5 or 5 times a power of ten, at least `value`.
    static func niceCeiling(_ value: Double) -> Double {
        let power = pow(10, (log10(value)).rounded(.down))
        for step in [1, 2, 2.5, 5, 10] where step * power >= value { return step * power }
        return 10 * power
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }

    static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    /// Text as XML character data or an attribute value.
    public static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
