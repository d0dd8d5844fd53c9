import ConcordBalancer
import ConcordLoad
import ConcordProtocol
import ConcordTestSupport
import Foundation
import Logging
import NIOCore
import Testing

@testable import ConcordPool
@testable import Gateway

/// Real participants processes behind a real gateway, loaded by the load tool.
@Suite("Gateway with participants replicas", .serialized, .timeLimit(.minutes(3)))
struct GatewayReplicasEndToEndTests {
    /// A fresh PostgreSQL schema all replicas share (scripts/with-postgres provides the server).
    func database() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["CONCORD_TEST_POSTGRES"] else {
            throw ProcessFailure("CONCORD_TEST_POSTGRES is not set: run the tests with scripts/test")
        }
        return url + "?schema=g_\(UUID().uuidString.prefix(8).lowercased())"
    }

    static let seeds = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("seeds/participants").path

    func startReplica(_ database: String, host: String = "127.0.0.1", port: Int? = nil) async throws -> ServiceProcess {
        try await ServiceProcess.start(
            "participants", arguments: ["serve", "--database", database, "--seeds", Self.seeds, "--log-level", "info"],
            host: host, port: port
        )
    }

    func load(port: Int, seconds: Int) async throws -> LoadGenerator.Report {
        try await LoadGenerator(configuration: .init(
            host: "127.0.0.1", port: port, tls: TestCertificates.identity("client"),
            verb: "participants.officials.get", body: #"{"id":"mehdi-dousti"}"#,
            connections: 10, depth: 1, duration: .seconds(seconds), warmup: .milliseconds(200)
        )).run()
    }

    @Test func aKilledReplicaCostsReadsNothingIsEjectedAndReturns() async throws {
        let database = try self.database()
        var replicas = [try await self.startReplica(database)]
        replicas.append(try await self.startReplica(database))
        replicas.append(try await self.startReplica(database))
        var settings = PoolSettings()
        settings.healthInterval = .milliseconds(200)
        let pool = makePool(replicas.map { Endpoint(host: $0.host, port: $0.port) }, settings: settings)
        let maintenance = Task { try await PoolMaintenance(pools: [pool], logger: Logger(label: "test")).run() }
        let victim = Endpoint(host: replicas[1].host, port: replicas[1].port)

        try await withTestServer(router: RouteTable(pools: ["participants": pool]).router(authority: nil), peerAuthentication: .optional, serviceName: "gateway") { gateway in
            // Steady load; one replica is SIGKILLed a second in.
            async let report = self.load(port: gateway.localPort, seconds: 3)
            try await Task.sleep(for: .seconds(1))
            await replicas[1].kill()
            let underLoad = try await report
            #expect(underLoad.requests > 500)
            #expect(underLoad.errors == 0, "reads failed while a replica died: \(underLoad.summary)")
            let status = pool.status.first { $0.address == victim }
            #expect(status.map { $0.ejections > 0 || !$0.isHealthy } == true, "the dead replica is out: \(String(describing: status))")

            // Back on the same address: health checks readmit it and it takes traffic again.
            replicas[1] = try await self.startReplica(database, port: victim.port)
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                if let replica = pool.status.first(where: { $0.address == victim }), replica.isHealthy,
                   replica.ejectedUntil.map({ ContinuousClock.now >= $0 }) ?? true {
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            let before = pool.status.first { $0.address == victim }?.requests ?? 0
            let after = try await self.load(port: gateway.localPort, seconds: 1)
            #expect(after.errors == 0)
            let served = (pool.status.first { $0.address == victim }?.requests ?? 0) - before
            #expect(served > after.requests / 10, "the restarted replica took \(served) of \(after.requests)")
        }
        maintenance.cancel()
        _ = try? await maintenance.value
        for replica in replicas { await replica.terminate() }
    }

    @Test func replicasOnSeveralLoopbackAddressesBehindOneName() async throws {
        let database = try self.database()
        let first = try await self.startReplica(database, host: "127.0.0.2")
        let second = try await self.startReplica(database, host: "127.0.0.3", port: first.port)
        let resolver = TableResolver(["participants.internal": ["127.0.0.2", "127.0.0.3"]])
        let pool = makePool([Endpoint(host: "participants.internal", port: first.port)], resolver: resolver)
        await pool.refresh()
        try await withTestServer(router: RouteTable(pools: ["participants": pool]).router(authority: nil), peerAuthentication: .optional, serviceName: "gateway") { gateway in
            let report = try await self.load(port: gateway.localPort, seconds: 1)
            #expect(report.errors == 0)
            let counts = pool.status.map(\.requests)
            #expect(pool.status.map(\.address.host).sorted() == ["127.0.0.2", "127.0.0.3"])
            #expect(counts.allSatisfy { $0 > report.requests / 5 }, "\(counts)")
        }
        await pool.close()
        await first.terminate()
        await second.terminate()
    }
}
