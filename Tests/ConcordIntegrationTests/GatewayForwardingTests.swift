import ConcordClient
import ConcordProtocol
import ConcordServer
import ConcordTestSupport
import Logging
import NIOCore
import Testing

@testable import ConcordPool
@testable import Gateway

/// The gateway forwards by verb prefix over mutual TLS, body bytes untouched, with the deadline.
@Suite(.timeLimit(.minutes(1))) struct GatewayForwardingTests {
    @Test func forwardsToTheServiceAndBack() async throws {
        var service = testRouter()
        service.registerRaw("participants.raw", kind: .write) { request, context in
            // Byte-for-byte what the client sent, and the deadline passed on (less time spent).
            var body = ByteBuffer(string: #"{"seen":"#)
            body.writeString("\(String(buffer: request.body).debugDescription.count),\"deadline\":\(request.metadata.deadlineMilliseconds ?? -1)}")
            return body
        }
        service.register("participants.echo", kind: .write) { (input: Echo, _) in input }
        service.register("participants.fail", kind: .write) { (_: Empty, _) -> Empty in
            throw ConcordError(.conflict, "version 3 is stale; current is 4", field: "body.version")
        }
        try await withTestServer(router: service, serviceName: "participants") { backend in
            let table = try RouteTable(
                specs: ["participants=127.0.0.1:\(backend.localPort)"],
                identity: TestCertificates.identity("gateway"),
                logger: Logger(label: "test")
            )
            try await withTestServer(router: table.router(authority: nil), peerAuthentication: .optional, serviceName: "gateway") { gateway in
                let client = try makeTestClient(port: gateway.localPort, identity: nil)
                let echoed: Echo = try await client.call("participants.echo", Echo(text: "Astrakhan–Gilan"))
                #expect(echoed.text == "Astrakhan–Gilan")

                let raw = try await client.call(
                    "participants.raw",
                    body: ByteBuffer(string: #"{ "spacing" :  "kept" }"#),
                    metadata: Metadata(deadlineMilliseconds: 5000)
                )
                let text = String(buffer: raw)
                #expect(text.contains(#""seen":"#))
                let deadline = Int(text.split(separator: ":").last!.dropLast())!
                #expect(deadline > 0 && deadline <= 5000, "\(text)")

                // Errors from the service come back as they were.
                await #expect(throws: ConcordError(.conflict, "version 3 is stale; current is 4", field: "body.version")) {
                    _ = try await client.call("participants.fail") as ByteBuffer
                }
                // The gateway answers its own built-ins, and says clearly what it cannot route.
                #expect(String(buffer: try await client.call("ping")) == #"{"pong":true}"#)
                let unrouted = await #expect(throws: ConcordError.self) { try await client.call("agreements.list") }
                #expect(unrouted?.code == .notFound)
                #expect(unrouted?.message.contains("agreements") == true)
                await client.close()
            }
        }
    }

    @Test func serviceDownIsUnavailable() async throws {
        let table = try RouteTable(
            specs: ["participants=127.0.0.1:1"],
            identity: TestCertificates.identity("gateway"),
            logger: Logger(label: "test")
        )
        try await withTestServer(router: table.router(authority: nil), peerAuthentication: .optional, serviceName: "gateway") { gateway in
            let client = try makeTestClient(port: gateway.localPort)
            let error = await #expect(throws: ConcordError.self) { try await client.call("participants.sessions.list") }
            #expect(error?.code == .unavailable)
            await client.close()
        }
    }

    @Test func badRoutesAreRejectedWithTheReason() {
        for spec in ["participants", "participants=nowhere", "Participants=127.0.0.1:1", "participants=127.0.0.1:99999"] {
            #expect(throws: (any Error).self, "\(spec)") {
                _ = try RouteTable(specs: [spec], identity: TestCertificates.identity("gateway"), logger: Logger(label: "test"))
            }
        }
    }
}
