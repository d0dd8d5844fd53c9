import ConcordClient
import ConcordProtocol
import ConcordTestSupport
import ConcordTLS
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import Testing

@testable import ConcordPool
@testable import Gateway

@Suite("Gateway authentication", .serialized, .timeLimit(.minutes(1)))
struct GatewayAuthTests {
    /// A token file with one token per role; returns the tokens by role name.
    func writeTokens(_ path: String) throws -> [String: String] {
        var tokens: [String: String] = [:]
        var lines: [String] = ["# test tokens"]
        for role in ["reader", "secretariat", "admin"] {
            let token = "tok-\(role)-\(UUID().uuidString)"
            tokens[role] = token
            lines.append("\(role) \(role)-holder \(TokenHash.of(token))")
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return tokens
    }

    /// An authority over a new token file of `writeTokens`, with the file's tokens and path.
    func authority() throws -> (TokenAuthority, tokens: [String: String], path: String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)").path
        let tokens = try self.writeTokens(path)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return (try TokenAuthority(path: path, recheckInterval: .milliseconds(10), logger: logger), tokens, path)
    }

    func call(_ client: ConcordClient, _ verb: String, token: String?) async -> ErrorCode? {
        do {
            _ = try await client.call(verb, metadata: Metadata(auth: token))
            return nil
        } catch {
            return error.code
        }
    }

    @Test func everyVerbNeedsATokenWithTheRightRole() async throws {
        let (authority, tokens, path) = try self.authority()
        let replica = try await Replica(name: "a")
        let pool = makePool([replica.endpoint])
        let table = RouteTable(pools: ["participants": pool])
        try await withTestServer(router: table.router(authority: authority), peerAuthentication: .optional, serviceName: "gateway") { server in
            let client = try makeTestClient(port: server.localPort)
            // Built-ins need no token.
            #expect(await self.call(client, "ping", token: nil) == nil)
            // No token, a wrong token.
            #expect(await self.call(client, "participants.get", token: nil) == .unauthorized)
            #expect(await self.call(client, "participants.get", token: "guess") == .unauthorized)
            // A reader reads but may not write; the secretariat writes; stats are for admins.
            #expect(await self.call(client, "participants.get", token: tokens["reader"]) == nil)
            #expect(await self.call(client, "participants.regions.create", token: tokens["reader"]) == .forbidden)
            #expect(await self.call(client, "participants.regions.create", token: tokens["secretariat"]) == .notFound,
                    "allowed through to the replica, which has no such verb")
            #expect(await self.call(client, "gateway.stats", token: tokens["secretariat"]) == .forbidden)
            #expect(await self.call(client, "gateway.stats", token: tokens["admin"]) == nil)
            // Revoked: the line goes, the token stops working without a restart, though it was
            // the last one looked up (and so kept beside the cache).
            #expect(await self.call(client, "participants.get", token: tokens["reader"]) == nil)
            let kept = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("reader ") }
            try await Task.sleep(for: .milliseconds(20))  // a new modification time
            try (kept.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            try await eventually("the revoked token is refused") {
                await self.call(client, "participants.get", token: tokens["reader"]) == .unauthorized
            }
            #expect(await self.call(client, "participants.get", token: tokens["reader"]) == .unauthorized, "and stays refused")
            #expect(await self.call(client, "participants.get", token: tokens["admin"]) == nil)
            await client.close()
        }
        await pool.close()
        await replica.stop()
    }

    @Test func theTokenIsNotForwardedAndATraceIsAdded() async throws {
        let seen = SeenMetadata()
        let replica = try await Replica(name: "a", observe: seen)
        let pool = makePool([replica.endpoint])
        try await withGateway(pool) { client in
            _ = try await client.call("participants.get", metadata: Metadata(auth: "secret-token"))
            _ = try await client.call("participants.get", metadata: Metadata(trace: "trace-from-client"))
            _ = try await client.call("participants.get", metadata: Metadata(actor: "mallory", actorRole: "admin"))
        }
        let metadata = seen.all
        #expect(metadata.count == 3)
        #expect(metadata.allSatisfy { $0.auth == nil })
        // A W3C traceparent: version 00, a 16-byte trace id, an 8-byte span id, sampled.
        let parts = metadata[0].trace?.split(separator: "-").map(String.init) ?? []
        #expect(parts.count == 4 && parts[0] == "00" && parts[1].count == 32 && parts[2].count == 16 && parts[3] == "01", "\(metadata[0].trace ?? "none")")
        #expect(parts.dropFirst().dropLast().allSatisfy { $0.allSatisfy(\.isHexDigit) })
        #expect(metadata[1].trace == "trace-from-client")
        #expect(metadata[2].actor == nil && metadata[2].actorRole == nil, "only the gateway says who acts")
        await replica.stop()
    }

    /// The console names the person signed in; the gateway applies that person's role, never
    /// above the console's token's, and forwards them as the actor. Nobody else may name one.
    @Test func onlyTheConsoleNamesWhoActsAndNeverAboveItsOwnGrant() async throws {
        let (authority, tokens, _) = try self.authority()
        let seen = SeenMetadata()
        let replica = try await Replica(name: "a", observe: seen)
        let pool = makePool([replica.endpoint])
        let table = RouteTable(pools: ["participants": pool])
        try await withTestServer(router: table.router(authority: authority), peerAuthentication: .optional, serviceName: "gateway") { server in
            let console = try makeTestClient(port: server.localPort, identity: "console")
            let other = try makeTestClient(port: server.localPort)
            func call(_ client: ConcordClient, _ verb: String, token: String?, actor: String?, role: String?) async -> ErrorCode? {
                do {
                    _ = try await client.call(verb, metadata: Metadata(auth: token, actor: actor, actorRole: role))
                    return nil
                } catch {
                    return error.code
                }
            }
            // A reader signed in to the console: reads, but a write is refused at the gateway,
            // whatever the console's own token allows.
            #expect(await call(console, "participants.get", token: tokens["admin"], actor: "ivan", role: "reader") == nil)
            #expect(await call(console, "participants.regions.create", token: tokens["admin"], actor: "ivan", role: "reader") == .forbidden)
            // An admin signed in to a console whose token is the secretariat's: never above it.
            #expect(await call(console, "gateway.stats", token: tokens["secretariat"], actor: "maryam", role: "admin") == .forbidden)
            #expect(await call(console, "gateway.stats", token: tokens["admin"], actor: "maryam", role: "admin") == nil)
            // A person named without a role, or a name that is not a user's: refused by name.
            #expect(await call(console, "participants.get", token: tokens["admin"], actor: "maryam", role: nil) == .badRequest)
            #expect(await call(console, "participants.get", token: tokens["admin"], actor: "Mallory Smith", role: "reader") == .badRequest)
            // Anyone else who names an actor is the token's holder all the same.
            #expect(await call(other, "participants.regions.create", token: tokens["reader"], actor: "maryam", role: "admin") == .forbidden)
            #expect(await call(other, "participants.get", token: tokens["reader"], actor: "maryam", role: "admin") == nil)
            await console.close()
            await other.close()
        }
        // What the service was told: the person for the console's calls, the holder otherwise.
        let actors = seen.all.map { "\($0.actor ?? "-")/\($0.actorRole ?? "-")" }
        #expect(actors == ["ivan/reader", "reader-holder/reader"], "\(actors)")
        await pool.close()
        await replica.stop()
    }

    @Test func malformedTokenFilesAreRefusedWithTheLine() throws {
        #expect(throws: TokenFileError.self) { try TokenAuthority.parse("admin ops\n", path: "f") }
        #expect(throws: TokenFileError.self) { try TokenAuthority.parse("king ops \(String(repeating: "a", count: 64))\n", path: "f") }
        let grants = try TokenAuthority.parse("# c\n\nreader r \(String(repeating: "b", count: 64))  # trailing\n", path: "f")
        #expect(grants.values.map(\.role) == [.reader])
    }

    @Test func theRoleFollowsTheDeclaredKindNotTheName() {
        #expect(Role.required(for: .read) == .reader)
        #expect(Role.required(for: .builtin) == .reader)
        #expect(Role.required(for: .write) == .secretariat)
    }

    @Test func statsCountWhatWasForwarded() async throws {
        let replica = try await Replica(name: "a")
        let pool = makePool([replica.endpoint])
        try await withGateway(pool) { client in
            for _ in 0..<5 { _ = try await client.call("participants.get") }
            _ = try? await client.call("participants.nothing")
            let stats = try JSONSerialization.jsonObject(with: Data(buffer: try await client.call("gateway.stats"))) as? [String: Any]
            let route = (stats?["routes"] as? [String: Any])?["participants"] as? [String: Any]
            #expect(route?["requests"] as? Int == 6)
            #expect((route?["errors"] as? [String: Int])?["not_found"] == 1)
            #expect((route?["replicas"] as? [[String: Any]])?.first?["healthy"] as? Bool == true)
            // Metrics are a process's registry, off unless `--metrics` turns them on (the test
            // process records none): the verb says how to turn them on.
            await #expect(throws: ConcordError.self) { try await client.call("gateway.metrics") }
            do {
                _ = try await client.call("gateway.metrics")
            } catch let error as ConcordError {
                #expect(error.code == .unavailable && error.message.contains("--metrics"))
            }
        }
        await replica.stop()
    }
}
