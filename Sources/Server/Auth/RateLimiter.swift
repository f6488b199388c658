import Foundation
import Platform
import Synchronization

/// Counts attempts per client address in fixed one-minute windows (OWASP ASVS 5.0 V6.3.1: anti-automation against
/// credential stuffing and token guessing). On SQLite (one process) the windows live in this process's memory; the
/// number of addresses kept is bounded: expired windows are dropped when the table grows past `maximumKeys`. With a
/// ``ProcessCluster`` (PostgreSQL) they live in a table every process shares, one upsert per attempt, so attempts split
/// over several processes behind one address meet one limit; should the database fail, this process counts alone
/// until it answers again.
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
    /// The shared table's processes, and this limiter's name in its keys (`sign-in`, `token`).
    let shared: (cluster: ProcessCluster, name: String)?

    public init(limit: Int, windowSeconds: Double = 60, maximumKeys: Int = 10_000, shared: (cluster: ProcessCluster, name: String)? = nil) {
        self.limit = limit
        self.windowSeconds = windowSeconds
        self.maximumKeys = maximumKeys
        self.shared = shared
    }

    /// Counts one attempt for `key` in the shared table when there is one (else in memory): false when over the limit.
    public func count(_ key: String) async -> Bool {
        guard limit > 0 else { return true }
        if let shared {
            do {
                let window = try await shared.cluster.countAttempt(shared.name + "|" + key, windowSeconds: Int64(windowSeconds))
                return window.count <= Int64(limit)
            } catch {}
        }
        return attempt(key)
    }

    /// Whether `key` is over its limit now, shared or in memory, without counting.
    public func limited(_ key: String) async -> Bool {
        guard limit > 0 else { return false }
        if let shared {
            do {
                guard let window = try await shared.cluster.currentWindow(shared.name + "|" + key, windowSeconds: Int64(windowSeconds))
                else { return false }
                return window.count >= Int64(limit)
            } catch {}
        }
        return isLimited(key)
    }

    /// Seconds until `key`'s window ends, shared or in memory.
    public func retry(_ key: String) async -> Int {
        if let shared,
            let window = try? await shared.cluster.currentWindow(shared.name + "|" + key, windowSeconds: Int64(windowSeconds))
        {
            return max(1, Int(window.start + Int64(windowSeconds) - window.now))
        }
        return retryAfter(key)
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
