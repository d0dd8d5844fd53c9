import ConcordClient
import ConcordProtocol
import ConcordRecords
import ConcordServer
import ConcordTLS
import ConcordTestSupport
import ConcordWire
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import Testing

@testable import ConcordPool
@testable import Gateway

/// The audit trail as a secretariat sees it: a write through the gateway is recorded with the
/// token holder's name, the patch and the trace; metadata claiming an actor from anyone but the
/// gateway is not believed; a failed write leaves no entry.
@Suite("Audit trail through the gateway", .serialized, .timeLimit(.minutes(2)))
struct AuditThroughGatewayTests {
    @Test func writesAreAuditedWithTheTokenHoldersNameAndOnlyTheGatewayIsBelieved() async throws {
        let database = "sqlite:" + FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString)/p.sqlite").path
        // The operator's certificate is let write here, to show its actor metadata is not believed.
        let participants = try await ServiceProcess.start(
            "participants",
            arguments: ["serve", "--database", database, "--seeds", GatewayReplicasEndToEndTests.seeds,
                        "--peer-allow", "spiffe://concord/client/operator=all"]
        )
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)").path
        let secretariat = "tok-s-\(UUID().uuidString)"
        let reader = "tok-r-\(UUID().uuidString)"
        try "secretariat Leila.Secretariat \(TokenHash.of(secretariat))\nreader r-holder \(TokenHash.of(reader))\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let authority = try TokenAuthority(path: path, logger: logger)
        let pool = makePool([Endpoint(host: participants.host, port: participants.port)])
        let table = RouteTable(pools: ["participants": pool])
        let trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

        try await withTestServer(router: table.router(authority: authority), peerAuthentication: .optional, serviceName: "gateway") { server in
            let client = try makeTestClient(port: server.localPort)
            let patch = #"{"id":"kazem-jalali","version":1,"title":"Ambassador of Iran to Russia (audited)"}"#
            // The client's own actor= is dropped by the gateway: the token says who acts.
            _ = try await client.call(
                "participants.officials.update",
                body: ByteBuffer(string: patch),
                metadata: Metadata(trace: trace, auth: secretariat, actor: "mallory", actorRole: "admin")
            )
            // A write that fails (unknown field) leaves no entry.
            _ = try? await client.call(
                "participants.officials.update", body: ByteBuffer(string: #"{"id":"kazem-jalali","version":2,"rank":"x"}"#),
                metadata: Metadata(auth: secretariat)
            )
            // The same claim straight to the service, from a certificate that is not the gateway's.
            let direct = try participants.client(as: "client")
            _ = try await direct.call(
                "participants.officials.update", body: ByteBuffer(string: #"{"id":"kazem-jalali","version":2,"title":"Ambassador"}"#),
                metadata: Metadata(actor: "Leila.Secretariat", actorRole: "admin")
            )
            await direct.close()

            let answer = try await client.call(
                "participants.audit.list", body: ByteBuffer(string: #"{"kind":"officials","key":"kazem-jalali"}"#),
                metadata: Metadata(auth: reader)
            )
            // The entries as participants keeps them (ConcordRecords.AuditEntry), not a copy of the type.
            let entries = try JSONDecoder().decode(Page<AuditEntry>.self, from: answer).items.filter { $0.operation != .create }
            #expect(entries.count == 2, "two committed updates, and nothing for the failed one: \(entries.map(\.verb))")
            let viaGateway = try #require(entries.first)
            #expect(viaGateway.actor == "Leila.Secretariat")
            #expect(viaGateway.actorRole == "secretariat")
            #expect(viaGateway.via == "spiffe://concord/gateway")
            #expect(viaGateway.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
            #expect(viaGateway.verb == "participants.officials.update")
            #expect(viaGateway.versionBefore == 1 && viaGateway.versionAfter == 2)
            #expect(viaGateway.change.object?["title"] == .string("Ambassador of Iran to Russia (audited)"))
            #expect(viaGateway.change.object?["id"] == .string("kazem-jalali"))
            let straight = try #require(entries.last)
            #expect(straight.actor == "spiffe://concord/client/operator", "metadata from a non-gateway peer is not believed")
            #expect(straight.actorRole == nil)

            // The trail cannot be changed through any verb.
            let refusal = await #expect(throws: ConcordError.self) {
                try await client.call("participants.audit.delete", body: ByteBuffer(string: "{}"), metadata: Metadata(auth: secretariat))
            }
            #expect(refusal?.code == .notFound)
            await client.close()
        }
        await pool.close()
        await participants.terminate()
    }
}
