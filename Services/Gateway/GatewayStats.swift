import ConcordPool
import ConcordBalancer

/// The answer of `gateway.stats`: per route, what was forwarded and how each replica stands.
struct GatewayStats: Encodable, Sendable {
    struct Route: Encodable, Sendable {
        var stats: RouteStats.Snapshot
        var pending: Int
        var replicas: [ReplicaStatus]

        enum CodingKeys: String, CodingKey {
            case pending, replicas
        }

        /// One flat object: the route's counters and percentiles beside pending and replicas.
        func encode(to encoder: any Encoder) throws {
            try self.stats.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.pending, forKey: .pending)
            try container.encode(self.replicas, forKey: .replicas)
        }
    }

    struct ReplicaStatus: Encodable, Sendable {
        var address: String
        var healthy: Bool
        var ejected: Bool
        var ejections: Int
        var draining: Bool
        var outstanding: Int
        var requests: Int
        var failures: Int
    }

    var routes: [String: Route]

    init(pools: [String: ServicePool]) {
        let now = ContinuousClock.now
        self.routes = pools.mapValues { pool in
            Route(
                stats: pool.stats.snapshot,
                pending: pool.pending,
                replicas: pool.status.map { replica in
                    ReplicaStatus(
                        address: "\(replica.address)",
                        healthy: replica.isHealthy,
                        ejected: replica.ejectedUntil.map { now < $0 } ?? false,
                        ejections: replica.ejections,
                        draining: replica.isDraining,
                        outstanding: replica.outstanding,
                        requests: replica.requests,
                        failures: replica.failures
                    )
                }
            )
        }
    }
}
