import ConcordClient
import ConcordProtocol
import ConcordServer
import ConcordTLS
import ConcordTestSupport
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import ConcordPool
@testable import Gateway

/// The gateway learns what each verb is from the service (`verbs`), not from its name: a new
/// read verb is open to readers and retried on another replica with no change in the gateway.
@Suite("Declared verb kinds", .serialized, .timeLimit(.minutes(1)))
struct DeclaredVerbsTests {
    /// A replica of a test service with verbs no name rule would recognise: `peek` is a read,
    /// `touch` a write. A failing replica answers both with `unavailable`.
    final class TestReplica: Sendable {
        let served = NIOLockedValueBox(0)
        private let running: RunningServer
        var server: ConcordServer { self.running.server }

        /// `peekKind`: what the replica declares `peek` to be; `port`: 0 for any.
        init(name: String, failing: Bool, peekKind: VerbKind = .read, port: Int = 0) async throws {
            let served = self.served
            var router = Router()
            router.register("participants.peek", kind: peekKind) { (_: Empty, _: RequestContext) -> [String: String] in
                served.withLockedValue { $0 += 1 }
                if failing { throw ConcordError(.unavailable, "\(name) cannot reach its store") }
                return ["replica": name]
            }
            router.register("participants.touch", kind: .write) { (_: Empty, _: RequestContext) -> [String: String] in
                served.withLockedValue { $0 += 1 }
                if failing { throw ConcordError(.unavailable, "\(name) cannot reach its store") }
                return ["replica": name]
            }
            self.running = try await RunningServer(
                ServerConfiguration(
                    port: port, tls: TestCertificates.identity("participants"), serviceName: "participants", drainTimeout: .milliseconds(200)
                ),
                router: router
            )
        }

        var endpoint: Endpoint { self.running.endpoint }

        func stop() async { await self.running.stop() }
    }

    @Test func aNewReadVerbIsOpenToReadersAndRetriedOnAnotherReplica() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)").path
        let token = "tok-reader-\(UUID().uuidString)"
        try "reader r-holder \(TokenHash.of(token))\n".write(toFile: path, atomically: true, encoding: .utf8)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let authority = try TokenAuthority(path: path, logger: logger)
        let broken = try await TestReplica(name: "broken", failing: true)
        let working = try await TestReplica(name: "working", failing: false)
        var settings = PoolSettings()
        settings.policy.consecutiveFailuresToEject = 1_000  // keep the broken replica in play
        // The first request waits for the verbs lookup: room for a machine busy with other tests.
        settings.healthTimeout = .seconds(10)
        let pool = makePool([broken.endpoint, working.endpoint], settings: settings)
        let table = RouteTable(pools: ["participants": pool])
        try await withTestServer(router: table.router(authority: authority), peerAuthentication: .optional, serviceName: "gateway") { server in
            let client = try makeTestClient(port: server.localPort)
            for _ in 0..<30 {
                let answer = try await client.call("participants.peek", metadata: Metadata(auth: token))
                #expect(String(buffer: answer).contains("working"))
            }
            #expect(broken.served.withLockedValue { $0 } > 0, "some reads met the broken replica first and were retried")
            #expect(pool.kind(of: "participants.peek") == .read)
            #expect(pool.kind(of: "participants.touch") == .write)
            #expect(pool.kind(of: "participants.undeclared") == .write, "what no replica declared is a write")
            let refusal = await #expect(throws: ConcordError.self) {
                try await client.call("participants.touch", metadata: Metadata(auth: token))
            }
            #expect(refusal?.code == .forbidden, "a declared write needs secretariat")
            await client.close()
        }
        await pool.close()
        await broken.stop()
        await working.stop()
    }

    @Test func aWriteWithoutAnIdempotencyKeyIsNotRepeated() async throws {
        let broken = try await TestReplica(name: "broken", failing: true)
        let working = try await TestReplica(name: "working", failing: false)
        var settings = PoolSettings()
        settings.policy.consecutiveFailuresToEject = 1_000
        let pool = makePool([broken.endpoint, working.endpoint], settings: settings)
        await pool.learnVerbs()
        var failures = 0
        try await withGateway(pool) { client in
            for _ in 0..<30 {
                do {
                    _ = try await client.call("participants.touch")
                } catch let error as ConcordError {
                    #expect(error.code == .unavailable)
                    failures += 1
                }
            }
            for _ in 0..<10 {
                _ = try await client.call("participants.touch", metadata: Metadata(idempotencyKey: "k-\(UUID().uuidString)"))
            }
        }
        #expect(failures > 0, "writes that met the broken replica were answered with its error, not repeated")
        await broken.stop()
        await working.stop()
    }

    /// A health check whose answer is the bytes of the last is not decoded again; one that
    /// differs is: a replica started again in place of another with other verbs is learned.
    @Test func aHealthCheckLearnsAChangedCatalogueAndKeepsAnUnchangedOne() async throws {
        let first = try await TestReplica(name: "first", failing: false)
        let port = first.server.localPort
        let pool = makePool([first.endpoint], settings: PoolSettings())
        await pool.learnVerbs()
        #expect(pool.kind(of: "participants.peek") == .read)
        await pool.checkHealth()
        #expect(pool.kind(of: "participants.peek") == .read, "the same answer: the verbs held stay")
        await first.stop()
        let second = try await TestReplica(name: "second", failing: false, peekKind: .write, port: port)
        // The pool's connection to the first is gone; a health check connects again.
        let deadline = ContinuousClock.now + .seconds(20)
        while pool.kind(of: "participants.peek") != .write, ContinuousClock.now < deadline {
            await pool.checkHealth()
        }
        #expect(pool.kind(of: "participants.peek") == .write, "the new replica's catalogue was learned")
        await pool.close()
        await second.stop()
    }
}
