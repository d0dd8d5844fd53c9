import ConcordClient
import ConcordProtocol
import ConcordServer
import ConcordTestSupport
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Logging
import Testing

@Suite(.timeLimit(.minutes(1))) struct ServerClientTests {
    @Test func roundTripThroughTheClient() async throws {
        try await withTestServer(router: testRouter()) { server in
            let client = try makeTestClient(port: server.localPort)
            let echoed: Echo = try await client.call("test.echo", Echo(text: "Гилян–Астрахань"))
            #expect(echoed == Echo(text: "Гилян–Астрахань"))
            let pong = try await client.call("ping")
            #expect(String(buffer: pong) == #"{"pong":true}"#)
            let hello: Hello = try await client.call("hello", Empty())
            #expect(hello.protocol == "concord/1")
            #expect(hello.service == "participants")
            #expect(String(buffer: try await client.call("ready")) == #"{"status":"ready"}"#)
            #expect(String(buffer: try await client.call("health")) == #"{"status":"alive"}"#)
            await client.close()
        }
    }

    @Test func serverErrorsComeBackAsData() async throws {
        try await withTestServer(router: testRouter()) { server in
            let client = try makeTestClient(port: server.localPort)
            await #expect(throws: ConcordError(.conflict, "version 3 is stale; current is 4", field: "body.version")) {
                try await client.call("test.fail")
            }
            await #expect(throws: ConcordError(.notFound, "unknown verb 'test.nope'", field: "verb")) {
                try await client.call("test.nope")
            }
            let error = await #expect(throws: ConcordError.self) {
                try await client.call("test.echo", body: ByteBuffer(string: #"{"txt":"x"}"#))
            }
            #expect(error?.code == .badRequest)
            #expect(error?.field == "body.text")
            await client.close()
        }
    }

    @Test func thousandPipelinedRequestsAnsweredOutOfOrderAndMatchedByID() async throws {
        try await withTestServer(router: testRouter()) { server in
            try await RawLineConnection.with(port: server.localPort) { connection in
                // Later requests finish first: delays fall as ids rise.
                var lines = ""
                for index in 0..<1000 {
                    lines += "r\(index) test.echo {\"text\":\"n\(index)\",\"delayMs\":\((999 - index) / 20)}\n"
                }
                try await connection.send(lines)
                var answered: [String: String] = [:]
                var order: [Int] = []
                while answered.count < 1000, let line = try await connection.readReply() {
                    let parts = line.split(separator: " ", maxSplits: 2)
                    #expect(parts[1] == "ok", "\(line)")
                    answered[String(parts[0])] = String(parts[2])
                    order.append(Int(parts[0].dropFirst())!)
                }
                #expect(answered.count == 1000)
                for index in 0..<1000 {
                    let body = try #require(answered["r\(index)"])
                    let echo = try JSONDecoder().decode(Echo.self, from: Data(body.utf8))
                    #expect(echo.text == "n\(index)")
                }
                #expect(order != order.sorted(), "replies came back in request order; expected out of order")
            }
        }
    }

    @Test func concurrentCallsShareOneConnection() async throws {
        try await withTestServer(router: testRouter()) { server in
            let client = try makeTestClient(port: server.localPort)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let reply: Echo = try await client.call("test.echo", Echo(text: "\(index)", delayMs: index % 7))
                        #expect(reply.text == "\(index)")
                    }
                }
                try await group.waitForAll()
            }
            await client.close()
        }
    }

    @Test func deadlineExpiresOnTheServer() async throws {
        try await withTestServer(router: testRouter()) { server in
            try await RawLineConnection.with(port: server.localPort) { connection in
                let start = ContinuousClock.now
                try await connection.send("d1 test.hang deadline=150 {}\n")
                let reply = try #require(try await connection.readReply())
                #expect(reply.hasPrefix("d1 err deadline_exceeded "), "\(reply)")
                // Far below the 60 s default deadline: the 150 ms one fired (margin for loaded machines).
                #expect(ContinuousClock.now - start < .seconds(30))
                // The connection stays usable.
                try await connection.send("d2 ping\n")
                #expect(try await connection.readReply() == #"d2 ok {"pong":true}"#)
            }
        }
    }

    @Test func deadlineExpiresOnTheClient() async throws {
        try await withTestServer(router: testRouter()) { server in
            let client = try makeTestClient(port: server.localPort)
            let error = await #expect(throws: ConcordError.self) {
                try await client.call("test.hang", metadata: Metadata(deadlineMilliseconds: 100))
            }
            #expect(error?.code == .deadlineExceeded)
            #expect(String(buffer: try await client.call("ping")) == #"{"pong":true}"#)
            await client.close()
        }
    }

    // One timer covers a connection's deadlines, moved earlier for a short one that comes after
    // long ones: EarliestDeadlineTimerTests, ServerConnectionStateTests and
    // ClientConnectionHandlerTests hold that rule on clocks the tests move.

    /// A handler that ignores cancellation answers after its deadline did; by then the peer has
    /// reused the id. The late answer must not be taken for the new request.
    @Test func aLateAnswerIsNotGivenToARequestThatReusedItsID() async throws {
        var router = testRouter()
        router.register("test.stubborn", kind: .write) { (_: Empty, _: RequestContext) -> Echo in
            // Waits 300 ms whether cancelled or not, without holding the event loop.
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(300)) { done.resume() }
            }
            return Echo(text: "late")
        }
        try await withTestServer(router: router) { server in
            try await RawLineConnection.with(port: server.localPort) { connection in
                try await connection.send("a test.stubborn deadline=50 {}\n")
                let first = try #require(try await connection.readReply())
                #expect(first.hasPrefix("a err deadline_exceeded "), "\(first)")
                try await connection.send(#"a test.echo {"text":"second","delayMs":600}"# + "\n")
                let second = try #require(try await connection.readReply())
                #expect(second == #"a ok {"delayMs":600,"text":"second"}"#, "\(second)")
            }
        }
    }

    @Test func gracefulShutdownFinishesRequestsInFlight() async throws {
        let started = Gate()
        // A generous drain timeout: this test is about completion, not timing.
        let server = try await bindTestServer(router: testRouter(started: started), drainTimeout: .seconds(30))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let client = try makeTestClient(port: server.localPort)
            async let slow: Echo = client.call("test.slow", Echo(text: "finishes", delayMs: 400))
            await started.wait()
            server.beginShutdown()
            // In flight before shutdown: completes.
            #expect(try await slow == Echo(text: "finishes", delayMs: 400))
            try await group.waitForAll()
            // After shutdown: nobody listens.
            let after = try makeTestClient(port: server.localPort)
            await #expect(throws: ConcordError.self) { try await after.call("ping") }
        }
    }

    @Test func drainTimeoutCutsRequestsThatNeverFinish() async throws {
        let started = Gate()
        let server = try await bindTestServer(router: testRouter(started: started), drainTimeout: .milliseconds(300))
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let client = try makeTestClient(port: server.localPort)
            let gate = Gate()
            group.addTask {
                let error = await #expect(throws: ConcordError.self) { try await client.call("test.hang") }
                #expect(error?.code == .unavailable)
                await gate.open()
            }
            await started.wait()
            server.beginShutdown()
            await gate.wait()
            try await group.waitForAll()
        }
        // The drain timeout (300 ms), not the handler (an hour), ended it; margin for loaded machines.
        #expect(ContinuousClock.now - start < .seconds(30))
    }

    @Test func clientReconnectsOnNextUseAfterTheConnectionDrops() async throws {
        try await withTestServer(router: testRouter(), limits: ProtocolLimits(idleTimeout: .milliseconds(200), pingInterval: .milliseconds(100))) { server in
            let client = try makeTestClient(port: server.localPort)
            #expect(String(buffer: try await client.call("ping")) == #"{"pong":true}"#)
            // The server closes idle connections; the next call opens a new one.
            let deadline = ContinuousClock.now + .seconds(10)
            while client.hasOpenConnection, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(!client.hasOpenConnection)
            #expect(String(buffer: try await client.call("ping")) == #"{"pong":true}"#)
            await client.close()
        }
    }
}

/// Binds without running, for tests that drive shutdown themselves.
func bindTestServer(router: Router, drainTimeout: Duration = .seconds(5)) async throws -> ConcordServer {
    var logger = Logger(label: "concord.test")
    logger.logLevel = .critical
    return try await ConcordServer.bind(
        configuration: ServerConfiguration(
            tls: TestCertificates.identity("participants"),
            serviceName: "participants",
            drainTimeout: drainTimeout
        ),
        router: router,
        logger: logger
    )
}
