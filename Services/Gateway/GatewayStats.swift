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

    /// The same figures in Prometheus' text exposition format.
    var prometheus: String {
        var lines: [String] = []
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) \(type)")
            for sample in samples { lines.append("\(name){\(sample.labels)} \(sample.value)") }
        }
        let routes = self.routes.sorted { $0.key < $1.key }
        family("concord_gateway_requests_total", "counter", "Requests forwarded, by route.",
               routes.map { ("route=\"\($0.key)\"", "\($0.value.stats.requests)") })
        family("concord_gateway_errors_total", "counter", "Requests answered with an error, by route and code.",
               routes.flatMap { route in route.value.stats.errors.sorted { $0.key < $1.key }.map { ("route=\"\(route.key)\",code=\"\($0.key)\"", "\($0.value)") } })
        family("concord_gateway_retries_total", "counter", "Retries on another replica, by route.",
               routes.map { ("route=\"\($0.key)\"", "\($0.value.stats.retries)") })
        family("concord_gateway_pending", "gauge", "Requests in flight, by route.",
               routes.map { ("route=\"\($0.key)\"", "\($0.value.pending)") })
        family("concord_gateway_latency_milliseconds", "summary", "Latency seen by the gateway, by route.",
               routes.flatMap { route in
                   [("0.5", route.value.stats.p50Milliseconds), ("0.9", route.value.stats.p90Milliseconds), ("0.99", route.value.stats.p99Milliseconds)]
                       .map { ("route=\"\(route.key)\",quantile=\"\($0.0)\"", "\($0.1)") }
               })
        func perReplica(_ value: (ReplicaStatus) -> String) -> [(String, String)] {
            routes.flatMap { route in route.value.replicas.map { ("route=\"\(route.key)\",replica=\"\($0.address)\"", value($0)) } }
        }
        family("concord_gateway_replica_healthy", "gauge", "1 when the replica passes its health checks.", perReplica { $0.healthy ? "1" : "0" })
        family("concord_gateway_replica_ejected", "gauge", "1 while the replica is ejected.", perReplica { $0.ejected ? "1" : "0" })
        family("concord_gateway_replica_ejections_total", "counter", "Times the replica was ejected.", perReplica { "\($0.ejections)" })
        family("concord_gateway_replica_outstanding", "gauge", "Requests in flight to the replica.", perReplica { "\($0.outstanding)" })
        return lines.joined(separator: "\n") + "\n"
    }
}
