import CoreMetrics

/// The archive's counters, made by a swift-metrics factory: instances and bytes stored (by transport), store failures (by
/// reason), and index query latencies (by origin).
///
/// The factory is a parameter, not only the process-wide `MetricsSystem`, so that several archives in one process (tests)
/// each count their own.
public struct ArchiveMetrics: Sendable {
    /// Metric names, as a Prometheus scrape shows them.
    public enum Name {
        public static let instancesStored = "atrium_instances_stored_total"
        public static let bytesStored = "atrium_stored_bytes_total"
        public static let storeFailures = "atrium_store_failures_total"
        public static let duplicates = "atrium_instances_duplicate_total"
        public static let indexQueryDuration = "atrium_index_query_duration_seconds"
    }

    private let factory: any MetricsFactory

    /// Creates the counters with `factory` (the bootstrapped process-wide one by default).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    /// Counts a store that ended: a new or replacing instance adds to the instances and bytes stored, a second copy kept out
    /// to the duplicates.
    func stored(_ outcome: StoreOutcome, sizeBytes: Int, transport: SourceInfo.Transport) {
        let dimensions = [("transport", transport.rawValue)]
        switch outcome.status {
        case .stored, .replaced:
            Counter(label: Name.instancesStored, dimensions: dimensions, factory: factory).increment()
            Counter(label: Name.bytesStored, dimensions: dimensions, factory: factory).increment(by: sizeBytes)
        case .alreadyStored:
            Counter(label: Name.duplicates, dimensions: dimensions, factory: factory).increment()
        }
    }

    /// Counts a refused store, labelled with the kind of error (`unreadable`, `invalidIdentifier`, `storage`…).
    func failed(_ error: ArchiveError, transport: SourceInfo.Transport) {
        let reason = Mirror(reflecting: error).children.first?.label ?? "other"
        Counter(label: Name.storeFailures, dimensions: [("reason", reason), ("transport", transport.rawValue)], factory: factory)
            .increment()
    }

    /// Records how long an index query took; `origin` says who asked (`QIDO-RS`, `C-FIND`, `retrieve`).
    public func queried(origin: String, nanoseconds: Int64) {
        Timer(label: Name.indexQueryDuration, dimensions: [("origin", origin)], factory: factory).recordNanoseconds(nanoseconds)
    }

    /// Runs an index query and records its duration.
    public func timeQuery<T, Failure: Error>(origin: String, _ body: () async throws(Failure) -> T) async throws(Failure) -> T {
        let start = ContinuousClock.now
        defer {
            let elapsed = ContinuousClock.now - start
            queried(
                origin: origin, nanoseconds: elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        }
        return try await body()
    }
}
