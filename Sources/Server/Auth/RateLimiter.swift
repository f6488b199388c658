import Foundation
import Logging
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
    let logger: Logger
    /// Whether the shared table failed on the last try (this process counts alone meanwhile): logged when it starts and
    /// when it ends, not on every attempt.
    private let alone = Mutex(false)

    public init(
        limit: Int, windowSeconds: Double = 60, maximumKeys: Int = 10_000, shared: (cluster: ProcessCluster, name: String)? = nil,
        logger: Logger = Logger(label: "atrium.auth")
    ) {
        self.limit = limit
        self.windowSeconds = windowSeconds
        self.maximumKeys = maximumKeys
        self.shared = shared
        self.logger = logger
    }

    /// Notes the shared table's answer: a failure after success (or the first) is logged once with its reason, and so is
    /// the recovery.
    private func sharedTable(failed error: (any Error)?) {
        let changed = alone.withLock { state in
            defer { state = error != nil }
            return state != (error != nil)
        }
        guard changed, let name = shared?.name else { return }
        if let error {
            logger.warning(
                "rate limit: the shared table cannot be read; this process counts attempts alone until it can",
                metadata: ["limiter": "\(name)", "error": "\(error)"])
        } else {
            logger.notice("rate limit: the shared table answers again", metadata: ["limiter": "\(name)"])
        }
    }

    /// Counts one attempt for `key` in the shared table when there is one (else in memory): false when over the limit.
    public func count(_ key: String) async -> Bool {
        guard limit > 0 else { return true }
        if let shared {
            do {
                let window = try await shared.cluster.countAttempt(shared.name + "|" + key, windowSeconds: Int64(windowSeconds))
                sharedTable(failed: nil)
                return window.count <= Int64(limit)
            } catch {
                sharedTable(failed: error)
            }
        }
        return attempt(key)
    }

    /// Whether `key` is over its limit now, shared or in memory, without counting.
    public func limited(_ key: String) async -> Bool {
        guard limit > 0 else { return false }
        if let shared {
            do {
                let window = try await shared.cluster.currentWindow(shared.name + "|" + key, windowSeconds: Int64(windowSeconds))
                sharedTable(failed: nil)
                guard let window else { return false }
                return window.count >= Int64(limit)
            } catch {
                sharedTable(failed: error)
            }
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
