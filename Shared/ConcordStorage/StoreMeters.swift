import CoreMetrics
import Metrics

/// A store's work as metrics: `concord_store_transaction_duration_seconds{engine,access}` (a
/// read or a write transaction, from its connection to its end), `concord_store_wait_seconds
/// {engine}` (waiting for a connection, or for SQLite's single writer), and
/// `concord_store_unavailable_total{engine}` (the engine could not be reached).
struct StoreMeters: Sendable {
    private let reads: CoreMetrics.Timer
    private let writes: CoreMetrics.Timer
    private let waits: CoreMetrics.Timer
    private let unavailable: Counter

    init(engine: String) {
        self.reads = CoreMetrics.Timer(label: "concord_store_transaction_duration_seconds", dimensions: [("engine", engine), ("access", "read")])
        self.writes = CoreMetrics.Timer(label: "concord_store_transaction_duration_seconds", dimensions: [("engine", engine), ("access", "write")])
        self.waits = CoreMetrics.Timer(label: "concord_store_wait_seconds", dimensions: [("engine", engine)])
        self.unavailable = Counter(label: "concord_store_unavailable_total", dimensions: [("engine", engine)])
    }

    func transaction(write: Bool, since start: ContinuousClock.Instant) {
        (write ? self.writes : self.reads).record(duration: ContinuousClock.now - start)
    }

    func waited(since start: ContinuousClock.Instant) {
        self.waits.record(duration: ContinuousClock.now - start)
    }

    /// Counts `error` if it says the engine could not be reached; returns it.
    func failed(_ error: any Error) -> any Error {
        if (error as? StorageError)?.code == .unavailable { self.unavailable.increment() }
        return error
    }
}
