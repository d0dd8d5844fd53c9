import ConcordLoad
import ConcordProtocol
import ConcordTestSupport
import ConcordTLS
import Foundation
import Logging
import Testing

@testable import Gateway

/// Each token's request rate and concurrency at a gateway replica.
@Suite("Per-token limits", .serialized, .timeLimit(.minutes(1)))
struct TokenLimitTests {
    let start = ContinuousClock.now

    @Test func aBucketAdmitsItsRateAndSaysWhenToRetry() {
        let limit = TokenLimit(rate: 10, concurrency: nil)
        var bucket = TokenBucket(limit: limit, now: self.start)
        for _ in 0..<10 {
            #expect(bucket.admit(limit, at: self.start) == .admitted, "a second's worth at once")
            bucket.finish()
        }
        #expect(bucket.admit(limit, at: self.start) == .overRate(retryAfterMs: 100))
        #expect(bucket.admit(limit, at: self.start + .milliseconds(50)) == .overRate(retryAfterMs: 50))
        #expect(bucket.admit(limit, at: self.start + .milliseconds(100)) == .admitted, "refilled at 10 a second")
        #expect(bucket.admit(limit, at: self.start + .seconds(60)) == .admitted)
        for _ in 0..<9 { _ = bucket.admit(limit, at: self.start + .seconds(60)) }
        #expect(bucket.admit(limit, at: self.start + .seconds(60)) != .admitted, "an idle minute saves no more than a second's worth")
    }

    @Test func aBucketCapsRequestsInFlight() {
        let limit = TokenLimit(rate: nil, concurrency: 2)
        var bucket = TokenBucket(limit: limit, now: self.start)
        #expect(bucket.admit(limit, at: self.start) == .admitted)
        #expect(bucket.admit(limit, at: self.start) == .admitted)
        #expect(bucket.admit(limit, at: self.start) == .overConcurrency)
        bucket.finish()
        #expect(bucket.admit(limit, at: self.start) == .admitted, "one answered, one more may go")
    }

    @Test func tokenLinesCarryTheirLimits() throws {
        let hash = String(repeating: "a", count: 64)
        let grants = try TokenAuthority.parse("reader flood \(hash) rate=5 concurrency=unlimited\nadmin ops \(String(repeating: "b", count: 64))\n", path: "f")
        #expect(grants[hash]?.limit == TokenLimit(rate: 5, concurrency: nil))
        #expect(grants[String(repeating: "b", count: 64)]?.limit == TokenLimit.defaults(for: .admin))
        #expect(throws: TokenFileError.self) { try TokenAuthority.parse("reader r \(hash) rate=fast\n", path: "f") }
        #expect(throws: TokenFileError.self) { try TokenAuthority.parse("reader r \(hash) burst=5\n", path: "f") }
        #expect(throws: TokenFileError.self) { try TokenAuthority.parse("reader r \(hash) concurrency=0\n", path: "f") }
    }

    @Test func theRefusalSaysWhoWhyAndWhen() {
        let limiter = TokenLimiter()
        let grant = TokenAuthority.Grant(role: .reader, name: "flood", limit: TokenLimit(rate: 1, concurrency: nil))
        #expect(throws: Never.self) { try limiter.admit(grant, now: self.start) }
        do {
            try limiter.admit(grant, now: self.start)
            Issue.record("a second request in the same instant was admitted at 1 a second")
        } catch {
            #expect(error.code == .rateLimited)
            #expect(error.retryAfterMs == 1000)
            #expect(error.message.contains("flood") && error.message.contains("retry after 1000 ms"), "\(error.message)")
        }
    }

    /// One token floods the gateway (4 connections, 8 deep) and is refused past its rate; another,
    /// measured with the load generator before and during the flood, is never refused.
    @Test func aFloodingTokenIsLimitedWhileAnotherKeepsItsLatency() async throws {
        let flooder = "tok-flood-\(UUID().uuidString)"
        let steady = "tok-steady-\(UUID().uuidString)"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)").path
        try """
            reader flood \(TokenHash.of(flooder)) rate=200 concurrency=4
            reader steady \(TokenHash.of(steady)) rate=unlimited concurrency=unlimited

            """.write(toFile: path, atomically: true, encoding: .utf8)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let authority = try TokenAuthority(path: path, logger: logger)
        let replica = try await Replica(name: "a")
        let pool = makePool([replica.endpoint])
        let table = RouteTable(pools: ["participants": pool])
        try await withTestServer(router: table.router(authority: authority), peerAuthentication: .optional, serviceName: "gateway") { server in
            func load(_ token: String, connections: Int, depth: Int, seconds: Int) -> LoadGenerator {
                var configuration = LoadGenerator.Configuration(
                    host: "127.0.0.1", port: server.localPort, tls: TestCertificates.identity("client"), verb: "participants.get",
                    connections: connections, depth: depth, duration: .seconds(seconds), warmup: .milliseconds(300)
                )
                configuration.token = token
                return LoadGenerator(configuration: configuration)
            }
            let idle = try await load(steady, connections: 1, depth: 1, seconds: 2).run()
            async let flood = load(flooder, connections: 4, depth: 8, seconds: 3).run()
            try await Task.sleep(for: .milliseconds(300))
            let during = try await load(steady, connections: 1, depth: 1, seconds: 2).run()
            let flooded = try await flood
            print("per-token limits: steady idle \(idle.summary)")
            print("per-token limits: steady during the flood \(during.summary)")
            print("per-token limits: flood \(flooded.summary)")
            #expect(idle.errors == 0 && during.errors == 0, "the steady token is never refused")
            #expect(flooded.errors > 0, "\(flooded.summary)")
            #expect(flooded.firstError?.contains("rate_limited") == true, "\(flooded.summary)")
            #expect(flooded.requests - flooded.errors < 200 * 4 + 200, "at most its rate gets through: \(flooded.summary)")
            // The steady token's latency beside the flood's is printed above, not judged here: a
            // wall-time bar belongs in a benchmark, not in a test that shares the machine.
            #expect(during.requests > 0)
        }
        await pool.close()
        await replica.stop()
    }
}
