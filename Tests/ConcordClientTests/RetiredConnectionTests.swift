import ConcordProtocol
import ConcordTestSupport
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOPosix
import Testing

@testable import ConcordClient

/// A call can reach a connection's handler after the connection was retired (the server said
/// bye, or refused a request as closing) but before the client noticed. Such a call was never
/// written, so the client sends it once more on a fresh connection, and fails it on a second
/// refusal rather than leaving it unanswered.
@Suite("Calls that meet a retired connection", .timeLimit(.minutes(1)))
struct RetiredConnectionTests {
    func retiredConnection() -> EmbeddedChannel {
        var logger = Logger(label: "concord.test")
        logger.logLevel = .critical
        let handler = ClientConnectionHandler(endpoint: "retired", maxLineLength: 1 << 16, logger: logger, retired: RetiredFlag(true))
        return EmbeddedChannel(handler: handler)
    }

    @Test func aCallThatMeetsARetiredConnectionIsSentOnAFreshOne() async throws {
        try await withTestServer(router: testRouter()) { server in
            let client = try makeTestClient(port: server.localPort)
            let retired = self.retiredConnection()
            let promise = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: Response.self)
            let call = OutboundCall(request: Request(id: "caller-1", verb: "ping"), deadline: .now() + .seconds(10), completion: .promise(promise), client: client)
            try retired.writeOutbound(call)
            let response = try await promise.futureResult.get()
            #expect(response.id == "caller-1")
            #expect(response.outcome == .ok(ByteBuffer(string: #"{"pong":true}"#)))
            #expect(client.hasOpenConnection)
            await client.close()
        }
    }

    @Test func aSecondRefusalFailsTheCallAsUnavailable() async throws {
        try await withTestServer(router: testRouter()) { server in
            let client = try makeTestClient(port: server.localPort)
            let retired = self.retiredConnection()
            let promise = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: Response.self)
            let call = OutboundCall(
                request: Request(id: "caller-2", verb: "ping"), deadline: .now() + .seconds(10), completion: .promise(promise), client: client, attempt: 2
            )
            try retired.writeOutbound(call)
            let error = await #expect(throws: ConcordError.self) { try await promise.futureResult.get() }
            #expect(error?.code == .unavailable)
            #expect(!client.hasOpenConnection, "nothing was sent")
            await client.close()
        }
    }
}
