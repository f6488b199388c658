import Foundation
import Synchronization

/// Counts attempts per client address in fixed one-minute windows (OWASP ASVS 5.0 V6.3.1: anti-automation against
/// credential stuffing and token guessing). It lives in this process's memory: several processes behind one address
/// each keep their own count, so the effective limit there is the limit times the processes (docs/security.md).
/// The number of addresses kept is bounded: expired windows are dropped when the table grows past `maximumKeys`.
public final class RateLimiter: Sendable {
    private struct Window {
        var start: Double
        var count: Int
    }

    /// Attempts allowed per window; 0 allows everything.
    public let limit: Int
    let windowSeconds: Double
    let maximumKeys: Int
    private let windows = Mutex<[String: Window]>([:])

    public init(limit: Int, windowSeconds: Double = 60, maximumKeys: Int = 10_000) {
        self.limit = limit
        self.windowSeconds = windowSeconds
        self.maximumKeys = maximumKeys
    }

    /// Counts one attempt for `key`; false when the key is over its limit in the current window (the attempt is refused
    /// and still counted, so hammering does not shorten the wait).
    public func attempt(_ key: String, now: Double = Date().timeIntervalSince1970) -> Bool {
        guard limit > 0 else { return true }
        return windows.withLock { table in
            prune(&table, now: now)
            var window = table[key] ?? Window(start: now, count: 0)
            if now - window.start >= windowSeconds { window = Window(start: now, count: 0) }
            window.count += 1
            table[key] = window
            return window.count <= limit
        }
    }

    /// Whether `key` is over its limit now, without counting an attempt.
    public func isLimited(_ key: String, now: Double = Date().timeIntervalSince1970) -> Bool {
        guard limit > 0 else { return false }
        return windows.withLock { table in
            guard let window = table[key], now - window.start < windowSeconds else { return false }
            return window.count >= limit
        }
    }

    /// Seconds until `key`'s window ends (for Retry-After).
    public func retryAfter(_ key: String, now: Double = Date().timeIntervalSince1970) -> Int {
        windows.withLock { table in
            guard let window = table[key] else { return 0 }
            return max(1, Int((window.start + windowSeconds - now).rounded(.up)))
        }
    }

    private func prune(_ table: inout [String: Window], now: Double) {
        guard table.count >= maximumKeys else { return }
        table = table.filter { now - $0.value.start < windowSeconds }
        // Still full of live windows (a flood from many addresses): start over rather than grow without bound.
        if table.count >= maximumKeys { table.removeAll(keepingCapacity: true) }
    }
}
