import ConcordBalancer

/// The answer of `gateway.stats`: per route, what was forwarded and how each replica stands.
struct GatewayStats: Encodable, Sendable {
    struct Route: Encodable, Sendable {
        var requests: Int
        var errors: [String: Int]
        var retries: Int
        var pending: Int
        var p50Milliseconds: Double
        var p90Milliseconds: Double
        var p99Milliseconds: Double
        var replicas: [ReplicaStatus]
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
            let stats = pool.stats.snapshot
            return Route(
                requests: stats.requests,
                errors: stats.errors,
                retries: stats.retries,
                pending: pool.pending,
                p50Milliseconds: stats.p50Milliseconds,
                p90Milliseconds: stats.p90Milliseconds,
                p99Milliseconds: stats.p99Milliseconds,
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
               routes.map { ("route=\"\($0.key)\"", "\($0.value.requests)") })
        family("concord_gateway_errors_total", "counter", "Requests answered with an error, by route and code.",
               routes.flatMap { route in route.value.errors.sorted { $0.key < $1.key }.map { ("route=\"\(route.key)\",code=\"\($0.key)\"", "\($0.value)") } })
        family("concord_gateway_retries_total", "counter", "Retries on another replica, by route.",
               routes.map { ("route=\"\($0.key)\"", "\($0.value.retries)") })
        family("concord_gateway_pending", "gauge", "Requests in flight, by route.",
               routes.map { ("route=\"\($0.key)\"", "\($0.value.pending)") })
        family("concord_gateway_latency_milliseconds", "summary", "Latency seen by the gateway, by route.",
               routes.flatMap { route in
                   [("0.5", route.value.p50Milliseconds), ("0.9", route.value.p90Milliseconds), ("0.99", route.value.p99Milliseconds)]
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
