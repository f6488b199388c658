import Foundation

/// The alliance's clock: every partner is in China Standard Time (UTC+8, no daylight saving), so days, months and years
/// of indicators, turnaround reports, certificates and page dates are counted there, whatever the server's own zone.
public enum AllianceTime {
    /// UTC+8.
    public static let zone = TimeZone(secondsFromGMT: 8 * 3600) ?? .gmt

    /// A Gregorian calendar in ``zone``.
    public static var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar
    }
}
