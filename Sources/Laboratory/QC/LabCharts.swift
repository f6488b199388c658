import Foundation
import Platform

/// Server-rendered SVG charts of the laboratory pages: the Levey-Jennings chart of a control material and the history of
/// one analyte of a patient. Plain SVG with no script; labels are numbers and dates (no words: the page around the chart
/// carries the localized text).
public enum LabCharts {
    static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(
            of: ">", with: "&gt;"
        )
        .replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func value(_ v: Double) -> String { ReferenceRanges.format((v * 1000).rounded() / 1000) }

    /// The Levey-Jennings chart of `material`: its values run by run against lines at the mean and ±1, 2, 3 SD; points of
    /// runs where a rejection rule fired on this material are drawn as rejections, 1-2s warnings as warnings.
    public static func leveyJennings(material: ControlMaterial, runs: [QCRun], violations: [WestgardViolation]) -> String {
        let width = 640.0
        let height = 260.0
        let left = 56.0
        let right = 16.0
        let top = 12.0
        let bottom = 28.0
        let points = runs.sorted { ($0.at, $0.id) < ($1.at, $1.id) }.compactMap { run in run.values[material.id].map { (run, $0) } }
        let sd = material.sd > 0 ? material.sd : 1
        let span = 4.0
        func y(_ value: Double) -> Double {
            let z = max(-span, min(span, (value - material.mean) / sd))
            return top + (span - z) / (2 * span) * (height - top - bottom)
        }
        func x(_ index: Int) -> Double {
            let n = max(points.count - 1, 1)
            return left + Double(index) / Double(n) * (width - left - right)
        }
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"lj-chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" data-material=\"\(material.id)\">"
        for k in -3...3 {
            let level = material.mean + Double(k) * sd
            let cls = k == 0 ? "lj-mean" : abs(k) == 3 ? "lj-3sd" : abs(k) == 2 ? "lj-2sd" : "lj-1sd"
            svg +=
                "<line class=\"\(cls)\" x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(y(level)))\" y2=\"\(f(y(level)))\" stroke=\"\(k == 0 ? "#333" : abs(k) == 3 ? "#c0392b" : abs(k) == 2 ? "#e67e22" : "#aaa")\" stroke-dasharray=\"\(k == 0 ? "" : "4 3")\"/>"
            svg += "<text x=\"\(f(left - 4))\" y=\"\(f(y(level) + 4))\" text-anchor=\"end\" font-size=\"10\">\(value(level))</text>"
        }
        if points.count > 1 {
            let path = points.indices.map { "\($0 == 0 ? "M" : "L")\(f(x($0))) \(f(y(points[$0].1)))" }.joined(separator: " ")
            svg += "<path d=\"\(path)\" fill=\"none\" stroke=\"#2c3e50\" stroke-width=\"1.2\"/>"
        }
        for (index, (run, v)) in points.enumerated() {
            let fired = violations.filter { $0.runID == run.id && $0.materials.contains(material.id) }
            let rejected = fired.contains { !$0.rule.isWarning }
            let cls = rejected ? "lj-point lj-reject" : fired.isEmpty ? "lj-point" : "lj-point lj-warn"
            let colour = rejected ? "#c0392b" : fired.isEmpty ? "#2c3e50" : "#e67e22"
            let rules = fired.map(\.rule.rawValue).joined(separator: " ")
            svg +=
                "<circle class=\"\(cls)\" data-run=\"\(run.id)\" data-rules=\"\(escape(rules))\" cx=\"\(f(x(index)))\" cy=\"\(f(y(v)))\" r=\"\(rejected ? 5 : 3.5)\" fill=\"\(colour)\"/>"
        }
        svg += "</svg>"
        return svg
    }

    /// The history of one analyte: value over time, the reference interval as a band, flagged points marked.
    public static func history(points: [(at: Date, value: Double, flag: ResultFlag?)], range: ReferenceRange?, code: String) -> String {
        let width = 420.0
        let height = 160.0
        let left = 48.0
        let right = 12.0
        let top = 10.0
        let bottom = 24.0
        let sorted = points.sorted { $0.at < $1.at }
        var values = sorted.map(\.value)
        if let low = range?.low { values.append(low) }
        if let high = range?.high { values.append(high) }
        let minimum = (values.min() ?? 0)
        let maximum = (values.max() ?? 1)
        let pad = max((maximum - minimum) * 0.1, abs(maximum) * 0.05, 0.1)
        let lo = minimum - pad
        let hi = maximum + pad
        func y(_ v: Double) -> Double { top + (hi - v) / (hi - lo) * (height - top - bottom) }
        let t0 = sorted.first?.at.timeIntervalSince1970 ?? 0
        let t1 = sorted.last?.at.timeIntervalSince1970 ?? 1
        func x(_ date: Date) -> Double {
            sorted.count < 2
                ? (left + width - right) / 2 : left + (date.timeIntervalSince1970 - t0) / max(t1 - t0, 1) * (width - left - right)
        }
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"history-chart\" data-code=\"\(escape(code))\" data-points=\"\(sorted.count)\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\">"
        if let range, range.low != nil || range.high != nil {
            let yHigh = y(range.high ?? hi)
            let yLow = y(range.low ?? lo)
            svg +=
                "<rect class=\"history-range\" x=\"\(f(left))\" y=\"\(f(yHigh))\" width=\"\(f(width - left - right))\" height=\"\(f(max(yLow - yHigh, 0)))\" fill=\"#e8f5e9\"/>"
        }
        for v in [lo + pad, hi - pad] {
            svg += "<text x=\"\(f(left - 4))\" y=\"\(f(y(v) + 4))\" text-anchor=\"end\" font-size=\"10\">\(value(v))</text>"
        }
        if sorted.count > 1 {
            let path = sorted.enumerated().map { "\($0.offset == 0 ? "M" : "L")\(f(x($0.element.at))) \(f(y($0.element.value)))" }
                .joined(separator: " ")
            svg += "<path d=\"\(path)\" fill=\"none\" stroke=\"#1565c0\" stroke-width=\"1.5\"/>"
        }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = AllianceTime.zone
        for point in sorted {
            let abnormal = point.flag?.isAbnormal ?? false
            svg +=
                "<circle class=\"history-point\(abnormal ? " history-abnormal" : "")\" data-value=\"\(value(point.value))\" cx=\"\(f(x(point.at)))\" cy=\"\(f(y(point.value)))\" r=\"3.5\" fill=\"\(abnormal ? "#c62828" : "#1565c0")\"/>"
        }
        if let first = sorted.first, let last = sorted.last {
            svg += "<text x=\"\(f(left))\" y=\"\(f(height - 6))\" font-size=\"10\">\(formatter.string(from: first.at))</text>"
            if sorted.count > 1 {
                svg +=
                    "<text x=\"\(f(width - right))\" y=\"\(f(height - 6))\" text-anchor=\"end\" font-size=\"10\">\(formatter.string(from: last.at))</text>"
            }
        }
        svg += "</svg>"
        return svg
    }
}
