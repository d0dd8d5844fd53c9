import CoreMetrics
import Prometheus
import Synchronization

/// The process's metrics registry. `bootstrap()` makes swift-metrics record into it, once per
/// process and before any instrument is made: an instrument made earlier stays a no-op.
public enum PrometheusExposition {
    public static let registry = PrometheusCollectorRegistry()

    /// Buckets for durations, in seconds: most answers take well under a millisecond, a brief or
    /// an import batch takes seconds.
    public static let durationBuckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    /// Makes swift-metrics record into `registry`. Safe to call more than once; only the first
    /// call takes effect.
    public static func bootstrap() {
        Self.bootstrapping.withLock { done in
            guard !done else { return }
            var factory = PrometheusMetricsFactory(registry: Self.registry)
            factory.defaultDurationHistogramBuckets = Self.durationBuckets
            MetricsSystem.bootstrap(factory)
            done = true
            Self.on.store(true, ordering: .releasing)
        }
    }

    private static let bootstrapping = Mutex(false)
    private static let on = Atomic<Bool>(false)

    /// Whether this process records metrics (`bootstrap()` was called): work done only for a
    /// metric (a count in the store, a label looked up per request) is skipped when nobody scrapes.
    public static var isOn: Bool { Self.on.load(ordering: .acquiring) }

    /// The registry in Prometheus' text format.
    public static func text() -> [UInt8] {
        Self.registry.emitToBuffer()
    }
}
