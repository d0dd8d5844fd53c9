import ConcordClient
import ConcordProtocol
import ConcordRecords
import ConcordServer
import ConcordTLS
import ConcordTestSupport
import NIOCore
import Testing

@testable import Participants

/// Who may call what on a data service, decided by the certificate's identity, over real
/// mutual TLS: the operator's certificate cannot get around the gateway's tokens.
@Suite("Peer policy over mutual TLS", .timeLimit(.minutes(1)))
struct PeerPolicyTests {
    let create = #"{"id":"policy-test","name":"Policy Test","title":"Delegate","organisation":"Test","country":"IR"}"#

    func withPolicedParticipants(_ body: (Int) async throws -> Void) async throws {
        try await withTestDatabase(.sqlite) { database in
            let store = RecordStore.standalone(database)
            _ = try await seedLoader(store).load()
            try await withTestServer(router: Participants.router(store: store), peerPolicy: .dataService) { server in
                try await body(server.localPort)
            }
        }
    }

    /// The error code a call gets from a client with `identity`'s certificate; nil when it succeeds.
    func outcome(_ port: Int, as identity: String, _ verb: String, _ body: String = "{}") async -> ErrorCode? {
        guard let client = try? makeTestClient(port: port, identity: identity, serverName: "participants") else {
            return .internal
        }
        defer { Task { await client.close() } }
        return await client.refusal(verb, body)?.code
    }

    @Test func theOperatorsCertificateMayCallBuiltInsOnly() async throws {
        try await self.withPolicedParticipants { port in
            let client = try makeTestClient(port: port, identity: "client", serverName: "participants")
            let refusal = await #expect(throws: ConcordError.self) {
                try await client.call("participants.officials.create", body: ByteBuffer(string: self.create))
            }
            #expect(refusal?.code == .forbidden)
            #expect(refusal?.message.contains("spiffe://concord/client/operator") == true, "names the identity: \(refusal?.message ?? "")")
            #expect(refusal?.field == "verb")
            _ = try await client.call("ping")
            _ = try await client.call("ready")
            _ = try await client.call("hello")
            #expect(await self.outcome(port, as: "client", "participants.officials.get", #"{"id":"mehdi-dousti"}"#) == .forbidden)
            await client.close()
        }
    }

    @Test func aServiceCertificateMayReadAndMayNotWrite() async throws {
        try await self.withPolicedParticipants { port in
            #expect(await self.outcome(port, as: "agreements", "participants.officials.get", #"{"id":"mehdi-dousti"}"#) == nil)
            #expect(await self.outcome(port, as: "agreements", "participants.sessions.attendees", #"{"number":6}"#) == nil)
            #expect(await self.outcome(port, as: "trade-metrics", "participants.officials.create", self.create) == .forbidden)
            #expect(await self.outcome(port, as: "agreements", "participants.audit.list") == nil, "the audit trail is a read")
        }
    }

    @Test func theGatewaysCertificateMayReadAndWrite() async throws {
        try await self.withPolicedParticipants { port in
            #expect(await self.outcome(port, as: "gateway", "participants.officials.create", self.create) == nil)
            #expect(await self.outcome(port, as: "gateway", "participants.officials.get", #"{"id":"policy-test"}"#) == nil)
        }
    }

    @Test func aCertificateFromAnotherCAIsRefusedAtTheHandshake() async throws {
        try await self.withPolicedParticipants { port in
            // Its own certificate from a foreign CA; trusting ours, so only the server can refuse.
            var tls = TLSIdentity.standard(directory: TestCertificates.foreignDirectory, name: "client")
            tls.caPath = TestCertificates.identity(nil).caPath
            let client = try ConcordClient(configuration: .init(host: "127.0.0.1", port: port, tls: tls, serverName: "participants", defaultDeadline: .seconds(5)))
            let error = await #expect(throws: ConcordError.self) { try await client.call("ping") }
            #expect(error?.code == .unavailable)
            await client.close()
        }
    }

    @Test func theStandardIdentitiesAndAWidenedGrant() throws {
        #expect(PeerIdentity.standard(forCertificateName: "gateway").uri == "spiffe://concord/gateway")
        #expect(PeerIdentity.standard(forCertificateName: "agreements").uri == "spiffe://concord/service/agreements")
        #expect(PeerIdentity.standard(forCertificateName: "client").uri == "spiffe://concord/client/operator")
        #expect(PeerIdentity(uri: "spiffe://elsewhere/gateway") == nil)
        var policy = PeerPolicy.dataService
        policy.grants = try PeerPolicy.grants(parsing: ["spiffe://concord/client/diagnostics=read"])
        #expect(policy.access(for: .client("diagnostics")) == .read)
        #expect(policy.access(for: .client("operator")) == .builtins)
        #expect(policy.access(for: nil) == .builtins)
        #expect(policy.access(for: .gateway) == .all)
        #expect(throws: ConcordError.self) { try PeerPolicy.grants(parsing: ["spiffe://concord/client/x=everything"]) }
    }
}
