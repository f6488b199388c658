import CoreMetrics

/// Counters of an acceptor and its DIMSE service provider, made by a swift-metrics factory: associations accepted, open
/// and rejected (PS3.8 7.1), and DIMSE requests received by command (PS3.7 9.1).
///
/// The factory is a parameter, not only the process-wide `MetricsSystem`, so that several servers in one process (tests)
/// each count their own.
public struct DIMSEMetrics: Sendable {
    /// Metric names, as a Prometheus scrape shows them.
    public enum Name {
        public static let associationsAccepted = "atrium_dicom_associations_total"
        public static let associationsOpen = "atrium_dicom_associations_open"
        public static let associationsRejected = "atrium_dicom_associations_rejected_total"
        public static let operations = "atrium_dimse_operations_total"
    }

    let accepted: Counter
    let open: Meter
    let rejected: Counter
    private let factory: any MetricsFactory

    /// Creates the counters with `factory` (the bootstrapped process-wide one by default).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        accepted = Counter(label: Name.associationsAccepted, factory: factory)
        open = Meter(label: Name.associationsOpen, factory: factory)
        rejected = Counter(label: Name.associationsRejected, factory: factory)
    }

    /// Counts one DIMSE request, labelled with its command (`C-STORE`, `C-FIND`…).
    func received(_ command: DIMSECommand) {
        let operation: String
        switch command {
        case .cEchoRQ: operation = "C-ECHO"
        case .cStoreRQ: operation = "C-STORE"
        case .cFindRQ: operation = "C-FIND"
        case .cMoveRQ: operation = "C-MOVE"
        case .cGetRQ: operation = "C-GET"
        case .cCancelRQ: operation = "C-CANCEL"
        case .cStoreRSP, .cEchoRSP, .cFindRSP, .cMoveRSP, .cGetRSP: return
        }
        Counter(label: Name.operations, dimensions: [("operation", operation)], factory: factory).increment()
    }
}
