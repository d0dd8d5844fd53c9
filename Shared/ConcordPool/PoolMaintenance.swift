import ConcordMetrics
import Logging
import ServiceLifecycle

/// Keeps every pool current while the gateway runs: resolves names at start and every
/// `resolveInterval`, health-checks replicas every `healthInterval`, and copies their figures into metrics every second when the process records them. On shutdown (after the
/// server has drained, as it comes first in the group's reverse order) it closes the pools.
public struct PoolMaintenance: Service {
    let pools: [ServicePool]
    let logger: Logger

    public init(pools: [ServicePool], logger: Logger) {
        self.pools = pools
        self.logger = logger
    }

    public func run() async throws {
        guard !self.pools.isEmpty else {
            // Nothing to maintain, but a service that returns early would stop the gateway.
            try? await gracefulShutdown()
            return
        }
        await withTaskGroup(of: Void.self) { group in
            for pool in self.pools { group.addTask { await pool.refresh() } }
        }
        await withTaskGroup(of: Void.self) { group in
            for pool in self.pools { group.addTask { await pool.checkHealth() } }
        }
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for pool in self.pools {
                    group.addTask { await Self.every(pool.settings.resolveInterval) { await pool.refresh() } }
                    group.addTask { await Self.every(pool.settings.healthInterval) { await pool.checkHealth() } }
                    if PrometheusExposition.isOn {
                        group.addTask {
                            let meters = PoolMeters(pool: pool)
                            await Self.every(.seconds(1)) { meters.sample() }
                        }
                    }
                }
            }
        }
        for pool in self.pools { await pool.close() }
    }

    private static func every(_ interval: Duration, _ work: () async -> Void) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            await work()
        }
    }
}
