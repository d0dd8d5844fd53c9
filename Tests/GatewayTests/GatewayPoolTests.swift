import ConcordBalancer
import ConcordClient
import ConcordProtocol
import ConcordServer
import ConcordTLS
import ConcordTestSupport
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import ConcordPool
@testable import Gateway

/// A replica: a real protocol server (TLS, the participants certificate) on a loopback address,
/// counting what it serves. `participants.get` answers with the replica's name after `delay`.
final class Replica: Sendable {
    let name: String
    let served = NIOLockedValueBox(0)
    let delay = NIOLockedValueBox(Duration.zero)
    private let running: RunningServer
    var server: ConcordServer { self.running.server }

    init(name: String, host: String = "127.0.0.1", port: Int = 0, observe: SeenMetadata? = nil) async throws {
        self.name = name
        let served = self.served
        let delay = self.delay
        var router = Router()
        router.register("participants.get", kind: .read) { (_: Empty, context: RequestContext) in
            served.withLockedValue { $0 += 1 }
            observe?.record(context.metadata)
            let wait = delay.withLockedValue { $0 }
            if wait > .zero { try await Task.sleep(for: wait) }
            return ["replica": name]
        }
        // A write, answered as a replica that is shutting down answers it: not started.
        let refusesWrites = name.hasPrefix("closing")
        router.register("participants.create", kind: .write) { (_: Empty, _: RequestContext) -> [String: String] in
            if refusesWrites {
                throw ConcordError(.unavailable, "server is shutting down; the request was not processed", unprocessed: true)
            }
            return ["replica": name]
        }
        router.register("participants.hang", kind: .write) { (_: Empty, _: RequestContext) -> Empty in
            try await Task.sleep(for: .seconds(30))
            return Empty()
        }
        self.running = try await RunningServer(
            ServerConfiguration(
                host: host, port: port, tls: TestCertificates.identity("participants"),
                peerAuthentication: .required, serviceName: "participants", drainTimeout: .milliseconds(500)
            ),
            router: router
        )
    }

    var endpoint: Endpoint { self.running.endpoint }

    func stop() async { await self.running.stop() }
}

/// The metadata a replica received, in order.
final class SeenMetadata: Sendable {
    private let box = NIOLockedValueBox<[Metadata]>([])
    func record(_ metadata: Metadata) { self.box.withLockedValue { $0.append(metadata) } }
    var all: [Metadata] { self.box.withLockedValue { $0 } }
}

/// A resolver that answers from a table, so a name can stand for several replicas.
final class TableResolver: NameResolver, Sendable {
    let table: NIOLockedValueBox<[String: [String]]>
    init(_ table: [String: [String]]) { self.table = NIOLockedValueBox(table) }
    func resolve(_ host: String) async throws -> [String] {
        guard let addresses = self.table.withLockedValue({ $0[host] }) else {
            throw ResolutionError(host: host, reason: "not in the test table")
        }
        return addresses
    }
}

func makePool(
    _ endpoints: [Endpoint],
    settings: PoolSettings = PoolSettings(),
    resolver: any NameResolver = TableResolver([:])
) -> ServicePool {
    var logger = Logger(label: "concord.test.gateway")
    logger.logLevel = ProcessInfo.processInfo.environment["CONCORD_TEST_LOG"] == nil ? .critical : .debug
    return ServicePool(
        service: "participants", endpoints: endpoints, settings: settings,
        identity: TestCertificates.identity("gateway"), resolver: resolver,
        eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: logger
    )
}

/// A gateway server in front of `pool`, and a client connected to it.
func withGateway(_ pool: ServicePool, _ body: (ConcordClient) async throws -> Void) async throws {
    let table = RouteTable(pools: ["participants": pool])
    try await withTestServer(router: table.router(authority: nil), peerAuthentication: .optional, serviceName: "gateway") { server in
        let client = try makeTestClient(port: server.localPort)
        do {
            try await body(client)
        } catch {
            await client.close()
            throw error
        }
        await client.close()
    }
    await pool.close()
}

@Suite("Gateway pools", .serialized, .timeLimit(.minutes(2)))
struct GatewayPoolTests {
    @Test func requestsSpreadOverReplicas() async throws {
        let replicas = try await [Replica(name: "a"), Replica(name: "b"), Replica(name: "c")]
        let pool = makePool(replicas.map(\.endpoint))
        try await withGateway(pool) { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<300 {
                    group.addTask { _ = try await client.call("participants.get") }
                }
                try await group.waitForAll()
            }
        }
        let counts = replicas.map { $0.served.withLockedValue { $0 } }
        #expect(counts.reduce(0, +) == 300)
        // Every replica takes part. How evenly is the balancer's rule, pinned without sockets in
        // `ReplicaSetTests.loadSpreadsEvenlyWhenEveryRequestFinishes`; here a replica whose
        // connection opens late on a loaded machine rightly gets fewer (CI once saw 49/129/122).
        #expect(counts.allSatisfy { $0 >= 30 }, "\(counts)")
        for replica in replicas { await replica.stop() }
    }

    @Test func aStoppedReplicaCostsReadsNothing() async throws {
        let replicas = try await [Replica(name: "a"), Replica(name: "b"), Replica(name: "c")]
        let pool = makePool(replicas.map(\.endpoint))
        try await withGateway(pool) { client in
            let failures = NIOLockedValueBox<[String]>([])
            let servedByBAtStop = NIOLockedValueBox<Int?>(nil)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<600 {
                    group.addTask {
                        do {
                            _ = try await client.call("participants.get")
                        } catch {
                            failures.withLockedValue { $0.append("\(error)") }
                        }
                    }
                    if index == 200 {
                        await replicas[1].stop()
                        servedByBAtStop.withLockedValue { $0 = replicas[1].served.withLockedValue { $0 } }
                    }
                }
                try await group.waitForAll()
            }
            let failed = failures.withLockedValue { $0 }
            #expect(failed.isEmpty, "\(failed.count) failed, first: \(failed.prefix(3))")
            let served = replicas.map { $0.served.withLockedValue { $0 } }
            let atStop = servedByBAtStop.withLockedValue { $0 }
            #expect(served[1] == atStop, "b took no request after it stopped")
            #expect(served.reduce(0, +) == 600, "every read was served once: \(served)")
        }
        for replica in replicas { await replica.stop() }
    }

    @Test func aSlowReplicaMissesDeadlinesAndLoadMovesAway() async throws {
        let replicas = try await [Replica(name: "fast1"), Replica(name: "slow"), Replica(name: "fast2")]
        // Margins wide enough for a loaded machine: the fast replicas answer in about a
        // millisecond, the slow one after a second, the deadline is a quarter of that.
        replicas[1].delay.withLockedValue { $0 = .seconds(1) }
        let pool = makePool(replicas.map(\.endpoint))
        try await withGateway(pool) { client in
            let exceeded = NIOLockedValueBox(0)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        for _ in 0..<15 {
                            do {
                                _ = try await client.call("participants.get", metadata: Metadata(deadlineMilliseconds: 250))
                            } catch let error as ConcordError {
                                if error.code == .deadlineExceeded { exceeded.withLockedValue { $0 += 1 } }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(exceeded.withLockedValue { $0 } > 0, "calls that reached the slow replica ran out of time")
        }
        let slow = replicas[1].served.withLockedValue { $0 }
        let fast = replicas[0].served.withLockedValue { $0 } + replicas[2].served.withLockedValue { $0 }
        #expect(slow * 3 < fast, "the slow replica got \(slow) of \(slow + fast)")
        for replica in replicas { await replica.stop() }
    }

    @Test func pastThePendingBoundCallersGetUnavailableAtOnce() async throws {
        let replica = try await Replica(name: "a")
        var settings = PoolSettings()
        settings.maxPending = 4
        let pool = makePool([replica.endpoint], settings: settings)
        try await withGateway(pool) { client in
            let hanging = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<4 { group.addTask { _ = try? await client.call("participants.hang", metadata: Metadata(deadlineMilliseconds: 3000)) } }
                    try await group.waitForAll()
                }
            }
            try await eventually("four requests pending") { pool.pending >= 4 }
            // Had it waited for a place, it would have been served once the four hung up at
            // their deadline; being refused for the bound is being refused at once.
            do {
                _ = try await client.call("participants.get")
                Issue.record("the fifth request must be refused")
            } catch let error as ConcordError {
                #expect(error.code == .unavailable)
                #expect(error.message.contains("pending"))
            }
            hanging.cancel()
        }
        await replica.stop()
    }

    @Test func aNameWithSeveralAddressesIsSeveralReplicas() async throws {
        let first = try await Replica(name: "two", host: "127.0.0.2")
        let second = try await Replica(name: "three", host: "127.0.0.3", port: first.endpoint.port)
        let resolver = TableResolver(["participants.test": ["127.0.0.2", "127.0.0.3"]])
        let pool = makePool([Endpoint(host: "participants.test", port: first.endpoint.port)], resolver: resolver)
        await pool.refresh()
        #expect(Set(pool.status.map(\.address)) == [first.endpoint, second.endpoint])
        try await withGateway(pool) { client in
            for _ in 0..<40 { _ = try await client.call("participants.get") }
            #expect(first.served.withLockedValue { $0 } > 0)
            #expect(second.served.withLockedValue { $0 } > 0)
            // One address disappears: it drains and goes.
            resolver.table.withLockedValue { $0["participants.test"] = ["127.0.0.3"] }
            await pool.refresh()
            #expect(pool.status.map(\.address) == [second.endpoint])
            let before = first.served.withLockedValue { $0 }
            for _ in 0..<20 { _ = try await client.call("participants.get") }
            #expect(first.served.withLockedValue { $0 } == before)
        }
        await first.stop()
        await second.stop()
    }
}

@Suite("Gateway drain", .timeLimit(.minutes(1)))
struct GatewayDrainTests {
    /// Shutdown stops new connections but lets forwarded requests in flight finish.
    @Test func inFlightForwardsFinishDuringShutdown() async throws {
        let replica = try await Replica(name: "a")
        replica.delay.withLockedValue { $0 = .milliseconds(300) }
        let pool = makePool([replica.endpoint])
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let gateway = try await ConcordServer.bind(
            configuration: ServerConfiguration(
                tls: TestCertificates.identity("gateway"), peerAuthentication: .optional, serviceName: "gateway",
                drainTimeout: .seconds(5)
            ),
            router: RouteTable(pools: ["participants": pool]).router(authority: nil),
            logger: logger
        )
        let running = Task { try await gateway.run() }
        let client = try makeTestClient(port: gateway.localPort)
        _ = try await client.call("ping")
        let answers = Task {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<10 { group.addTask { (try? await client.call("participants.get")) != nil } }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
        }
        try await eventually("ten requests served") { replica.served.withLockedValue { $0 } >= 10 }
        gateway.beginShutdown()
        let finished = try await answers.value
        #expect(finished.allSatisfy { $0 }, "every forwarded request in flight was answered: \(finished)")
        try await running.value
        // Closed now: a new connection is refused.
        let late = try makeTestClient(port: gateway.localPort, defaultDeadline: .seconds(2))
        await #expect(throws: ConcordError.self) { try await late.call("ping") }
        await late.close()
        await client.close()
        await pool.close()
        await replica.stop()
    }
}

@Suite("Gateway process", .timeLimit(.minutes(2)))
struct GatewayProcessTests {
    /// The executable's SIGTERM path: requests in flight through the gateway are answered, the
    /// process exits 0, and nobody listens afterwards.
    @Test func sigtermAnswersWhatIsInFlightThenExitsZero() async throws {
        let replica = try await Replica(name: "a")
        replica.delay.withLockedValue { $0 = .milliseconds(400) }
        let gateway = try await ServiceProcess.start(
            "gateway", arguments: ["--no-auth", "--route", "participants=\(replica.endpoint.host):\(replica.endpoint.port)", "--log-level", "info"]
        )
        let client = try gateway.client()
        let answers = Task {
            await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 { group.addTask { (try? await client.call("participants.get")) != nil } }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
        }
        try await eventually("twenty requests served") { replica.served.withLockedValue { $0 } >= 20 }
        let status = await gateway.terminate()
        let finished = await answers.value
        #expect(finished.count == 20 && finished.allSatisfy { $0 }, "every request in flight at SIGTERM was answered: \(finished)\n\(gateway.log)")
        #expect(status == 0, "the gateway exited \(status):\n\(gateway.log)")
        let late = try gateway.client(defaultDeadline: .seconds(2))
        await #expect(throws: ConcordError.self) { try await late.call("ping") }
        await late.close()
        await client.close()
        await replica.stop()
    }
}

@Suite("Gateway retries of requests not started", .timeLimit(.minutes(1)))
struct GatewayUnprocessedTests {
    /// A replica shutting down answers `unavailable` with `unprocessed`: the gateway sends the
    /// request to another replica, even a write without an idempotency key, and outside the retry
    /// budget (which a zero budget here would otherwise refuse).
    @Test func aWriteTheReplicaDidNotStartGoesToAnother() async throws {
        let closing = try await Replica(name: "closing")
        let open = try await Replica(name: "open")
        var settings = PoolSettings()
        settings.retryBudget = RetryBudget(share: 0, minimumConcurrency: 0)
        let pool = makePool([closing.endpoint, open.endpoint], settings: settings)
        try await withTestServer(router: RouteTable(pools: ["participants": pool]).router(authority: nil), peerAuthentication: .optional, serviceName: "gateway") { gateway in
            let client = try makeTestClient(port: gateway.localPort)
            for _ in 0..<20 {
                let answer = try await client.call("participants.create", Empty(), as: [String: String].self)
                #expect(answer["replica"] == "open")
            }
            #expect(pool.stats.snapshot.retries > 0, "some creates went to the closing replica first")
            await client.close()
        }
        await pool.close()
        await closing.stop()
        await open.stop()
    }
}
