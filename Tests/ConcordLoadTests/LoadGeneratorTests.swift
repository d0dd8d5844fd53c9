import ConcordLoad
import ConcordTestSupport
import Testing

/// `concord bench`'s engine against a real server (port 0, real TLS): it counts what it sent
/// and what came back, keeps every answer's latency, and reports what failed and how. The
/// figures are counts, never timed against a threshold.
@Suite("The load generator", .timeLimit(.minutes(1)))
struct LoadGeneratorTests {
    func run(port: Int, verb: String, body: String = "{}", connections: Int, depth: Int) async throws -> LoadGenerator.Report {
        try await LoadGenerator(configuration: .init(
            host: "127.0.0.1", port: port, tls: TestCertificates.identity("client"), verb: verb, body: body,
            connections: connections, depth: depth, duration: .milliseconds(300), warmup: .milliseconds(100)
        )).run()
    }

    @Test func everyAnswerIsCountedOnceWithItsLatencyAtEveryDepth() async throws {
        try await withTestServer(router: testRouter()) { server in
            for depth in [1, 16] {
                let report = try await self.run(port: server.localPort, verb: "test.echo", body: #"{"text":"Гилян"}"#, connections: 3, depth: depth)
                #expect(report.requests > 0, "depth \(depth)")
                #expect(report.errors == 0, "depth \(depth): \(report.firstError ?? "")")
                #expect(report.histogram.totalCount == UInt64(report.requests), "one latency per answer at depth \(depth)")
                #expect(report.summary.contains("requests: \(report.requests)  errors: 0"))
            }
        }
    }

    @Test func refusedRequestsAreCountedAsErrorsAndTheFirstIsNamed() async throws {
        try await withTestServer(router: testRouter()) { server in
            let report = try await self.run(port: server.localPort, verb: "test.fail", connections: 2, depth: 4)
            #expect(report.errors > 0)
            #expect(report.errors == report.requests, "every request of a verb that always fails")
            #expect(report.firstError?.contains("conflict") == true, "\(report.firstError ?? "none")")
            #expect(report.summary.contains("first error: "))
        }
    }

    @Test func aServerThatIsNotThereIsAnErrorNotAHang() async throws {
        // A port bound and released: nothing listens there now.
        let port = try await withTestServer(router: testRouter()) { server in server.localPort }
        await #expect(throws: (any Error).self) {
            _ = try await self.run(port: port, verb: "ping", connections: 1, depth: 1)
        }
    }
}
