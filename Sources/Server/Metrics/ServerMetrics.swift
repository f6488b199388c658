import Archive
import CoreMetrics
import DICOMNetwork
import Hummingbird
import Prometheus

/// The server's metrics in one Prometheus registry, served in the text exposition format at `GET /metrics`.
///
/// Each ``AtriumServer`` is given its registry (a new one by default), so that tests running several servers in one
/// process each read their own counters. `atrium serve` uses ``processWide``, which also bootstraps swift-metrics'
/// `MetricsSystem` with the same registry, once per process, so that libraries reporting through it land there too.
public struct ServerMetrics: Sendable {
    /// Metric names of the HTTP side, as a scrape shows them.
    public enum Name {
        public static let dicomwebRequests = "atrium_dicomweb_requests_total"
        public static let dicomwebDuration = "atrium_dicomweb_request_duration_seconds"
    }

    /// Where the metrics are kept.
    public let registry: PrometheusCollectorRegistry
    /// The swift-metrics factory writing into ``registry``.
    public let factory: PrometheusMetricsFactory

    /// Metrics in `registry` (a new, empty one by default).
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        factory = PrometheusMetricsFactory(registry: registry)
    }

    /// The process's metrics: the first use bootstraps `MetricsSystem` with them; later uses return the same value.
    public static let processWide: ServerMetrics = {
        let metrics = ServerMetrics()
        MetricsSystem.bootstrap(metrics.factory)
        return metrics
    }()

    /// The archive's counters (stores, failures, index queries) in this registry.
    public var archive: ArchiveMetrics { ArchiveMetrics(factory: factory) }

    /// The DIMSE listener's counters (associations, operations) in this registry.
    public var dimse: DIMSEMetrics { DIMSEMetrics(factory: factory) }

    /// Everything in the registry, in the Prometheus text exposition format (version 0.0.4).
    public func exposition() -> [UInt8] { registry.emitToBuffer() }
}

/// Counts DICOMweb requests and times them, by service: QIDO-RS (searches), WADO-RS (retrieval, metadata, frames,
/// rendered, bulk data) and STOW-RS (stores). The time is until the response head is ready; a streamed body may go on.
struct DICOMwebMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let factory: any MetricsFactory
    let prefix: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let service = Self.service(method: request.method, path: request.uri.path, prefix: prefix) else {
            return try await next(request, context)
        }
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(service, status: Int(response.status.code), since: start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            record(service, status: Int(status), since: start)
            throw error
        }
    }

    private func record(_ service: String, status: Int, since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        Counter(
            label: ServerMetrics.Name.dicomwebRequests, dimensions: [("service", service), ("status", String(status))], factory: factory
        )
        .increment()
        Timer(label: ServerMetrics.Name.dicomwebDuration, dimensions: [("service", service)], factory: factory).recordNanoseconds(
            nanoseconds)
    }

    /// The DICOMweb service a request is for, or nil when it is not under `prefix` (PS3.18 10.4–10.6).
    static func service(method: HTTPRequest.Method, path: String, prefix: String) -> String? {
        guard path.hasPrefix(prefix + "/") else { return nil }
        switch method {
        case .post: return "STOW-RS"
        case .get, .head:
            let last = path.split(separator: "/").last ?? ""
            return ["studies", "series", "instances"].contains(last) ? "QIDO-RS" : "WADO-RS"
        default: return nil
        }
    }
}
