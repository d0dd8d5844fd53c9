import ConcordBalancer
import CoreMetrics

/// A pool's state as metrics, sampled (a pool keeps its own counts; this copies them out once
/// a second rather than touch an instrument per forwarded request):
/// `concord_pool_pending{service}`, per replica `concord_pool_replica_up`, `…_ejected` and
/// `…_outstanding` (in flight to it), `concord_pool_ejections_total{service,replica}` and
/// `concord_pool_retries_total{service}`. A replica that leaves the pool leaves the metrics.
final class PoolMeters {
    private struct ReplicaInstruments {
        let up: Gauge
        let ejected: Gauge
        let outstanding: Gauge
        let ejections: Counter
        var ejectionsSeen = 0

        init(service: String, replica: String) {
            let labels = [("service", service), ("replica", replica)]
            self.up = Gauge(label: "concord_pool_replica_up", dimensions: labels)
            self.ejected = Gauge(label: "concord_pool_replica_ejected", dimensions: labels)
            self.outstanding = Gauge(label: "concord_pool_replica_outstanding", dimensions: labels)
            self.ejections = Counter(label: "concord_pool_ejections_total", dimensions: labels)
        }

        func destroy() {
            self.up.destroy()
            self.ejected.destroy()
            self.outstanding.destroy()
            self.ejections.destroy()
        }
    }

    private let pool: ServicePool
    private let pending: Gauge
    private let retries: Counter
    private var retriesSeen = 0
    private var replicas: [String: ReplicaInstruments] = [:]

    init(pool: ServicePool) {
        self.pool = pool
        self.pending = Gauge(label: "concord_pool_pending", dimensions: [("service", pool.service)])
        self.retries = Counter(label: "concord_pool_retries_total", dimensions: [("service", pool.service)])
    }

    /// Copies the pool's figures into the instruments.
    func sample(now: ContinuousClock.Instant = .now) {
        self.pending.record(self.pool.pending)
        let retries = self.pool.stats.retries
        if retries > self.retriesSeen {
            self.retries.increment(by: retries - self.retriesSeen)
            self.retriesSeen = retries
        }
        var present = Set<String>()
        for replica in self.pool.status {
            let address = "\(replica.address)"
            present.insert(address)
            var instruments = self.replicas[address] ?? ReplicaInstruments(service: self.pool.service, replica: address)
            instruments.up.record(replica.isHealthy && !replica.isDraining ? 1 : 0)
            instruments.ejected.record(replica.ejectedUntil.map { now < $0 } == true ? 1 : 0)
            instruments.outstanding.record(replica.outstanding)
            if replica.ejections > instruments.ejectionsSeen {
                instruments.ejections.increment(by: replica.ejections - instruments.ejectionsSeen)
                instruments.ejectionsSeen = replica.ejections
            }
            self.replicas[address] = instruments
        }
        for (address, instruments) in self.replicas where !present.contains(address) {
            instruments.destroy()
            self.replicas[address] = nil
        }
    }
}
