import ConcordClient
import ConcordProtocol
import ConcordTestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// PostgreSQL lost under load and back: the service answers `unavailable` (not `internal`, and
/// not after the deadline) while it is gone, says it is not ready, and serves again by itself
/// when it returns, without a restart. The cluster is the test's own (`scripts/pg-cluster`), so
/// stopping it disturbs no other test.
@Suite("PostgreSQL lost and back", .serialized, .timeLimit(.minutes(4)))
struct PostgresOutageTests {
    /// Runs `scripts/pg-cluster COMMAND DIR` and waits for it (posix_spawn and waitpid:
    /// Foundation's Process did not see this script end once the server it started was running).
    static func cluster(_ command: String, _ directory: String) throws -> String {
        let arguments = ["/bin/bash", repositoryRoot().appendingPathComponent("scripts/pg-cluster").path, command, directory]
        var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/bin/bash", nil, nil, &cArguments, environ) == 0 else {
            throw ProcessFailure("cannot start scripts/pg-cluster \(command)")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        guard status == 0 else { throw ProcessFailure("scripts/pg-cluster \(command) failed (status \(status))") }
        guard command == "init" else { return "" }
        return try String(contentsOfFile: directory + "/url", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func outcome(_ client: ConcordClient, _ verb: String, _ body: String = "{}", deadline: Duration) async -> (ErrorCode?, Duration) {
        let start = ContinuousClock.now
        do {
            _ = try await client.call(verb, body: ByteBuffer(string: body), metadata: Metadata(deadlineMilliseconds: deadline.wholeMilliseconds))
            return (nil, ContinuousClock.now - start)
        } catch {
            return (error.code, ContinuousClock.now - start)
        }
    }

    /// A participants process on a PostgreSQL cluster of the test's own, which `body` may stop
    /// and start (`Self.cluster("stop", directory)`); the cluster is removed after.
    func withOwnCluster(_ body: (_ service: ServiceProcess, _ client: ConcordClient, _ directory: String) async throws -> Void) async throws {
        // Run where the other PostgreSQL tests run (scripts/test installs PostgreSQL).
        _ = try freshLocation(.postgres)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("concord-outage-\(UUID().uuidString)").path
        let url = try Self.cluster("init", directory)
        defer { _ = try? Self.cluster("remove", directory) }
        let service = try await ParticipantsProcess.start(database: url, seeds: seedsDirectory)
        try await body(service, try service.client(), directory)
    }

    @Test func theServiceSaysUnavailableWhileItIsGoneAndServesWhenItReturns() async throws {
        try await self.withOwnCluster { service, client, directory in
            // Load from a few tasks the whole time: reads and idempotent writes.
            let stop = NIOLockedValueBox(false)
            let seen = NIOLockedValueBox<[String: Int]>([:])
            let load = Task {
                await withTaskGroup(of: Void.self) { group in
                    for worker in 0..<4 {
                        group.addTask {
                            var round = 0
                            while !stop.withLockedValue({ $0 }) {
                                round += 1
                                let (code, _) = worker % 2 == 0
                                    ? await self.outcome(client, "participants.regions.get", #"{"code":"IR-01"}"#, deadline: .seconds(4))
                                    : await self.outcome(
                                        client, "participants.officials.create",
                                        #"{"id":"outage-\#(worker)-\#(round)","name":"Outage \#(round)","title":"Delegate","organisation":"Test","country":"IR"}"#,
                                        deadline: .seconds(4)
                                    )
                                seen.withLockedValue { $0[(code?.wire ?? "ok") + (code == .deadlineExceeded ? (worker % 2 == 0 ? " (read)" : " (write)") : ""), default: 0] += 1 }
                                if code != nil { try? await Task.sleep(for: .milliseconds(50)) }
                            }
                        }
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(500))
            _ = try Self.cluster("stop", directory)

            // Gone: answers come within the deadline, as unavailable, and readiness says so. Each
            // is asked until it answers so (at most 20 s): the stop takes a moment to be seen.
            try await eventually("a read answers unavailable before its deadline", timeout: .seconds(20), pollEvery: .milliseconds(10)) {
                let (code, time) = await self.outcome(client, "participants.regions.get", #"{"code":"IR-01"}"#, deadline: .seconds(4))
                return code == .unavailable && time < .seconds(4)
            }
            // Once a wait for a connection has run out, the next ones are short: every request
            // answers fast while the store is away, rather than each waiting the whole lease timeout.
            for _ in 0..<5 {
                let (code, time) = await self.outcome(client, "participants.regions.get", #"{"code":"IR-01"}"#, deadline: .seconds(4))
                #expect(code == .unavailable && time < .seconds(1), "while the store is away, a read answers unavailable at once: \(String(describing: code)) after \(time)")
            }
            try await eventually("a write answers unavailable before its deadline", timeout: .seconds(20), pollEvery: .milliseconds(10)) {
                let (code, time) = await self.outcome(
                    client, "participants.officials.create", #"{"id":"outage-probe","name":"Probe","title":"Delegate","organisation":"Test","country":"IR"}"#,
                    deadline: .seconds(4)
                )
                return code == .unavailable && time < .seconds(4)
            }
            try await eventually("not ready while the store is gone", timeout: .seconds(20), pollEvery: .milliseconds(10)) {
                let (code, time) = await self.outcome(client, "ready", deadline: .seconds(4))
                return code == .unavailable && time < .seconds(4)
            }

            // Back: the same process serves again, and says it is ready.
            _ = try Self.cluster("start", directory)
            let restarted = ContinuousClock.now
            try await eventually("ready again without a restart", timeout: .seconds(90), pollEvery: .milliseconds(200)) {
                await self.outcome(client, "ready", deadline: .seconds(3)).0 == nil
            }
            print("PostgreSQL lost and back: ready again \(ContinuousClock.now - restarted) after the restart")
            // The log says when the store went away and when it came back, once each.
            let went = service.log.components(separatedBy: "PostgreSQL taken to be away").count - 1
            let back = service.log.components(separatedBy: "PostgreSQL is back").count - 1
            #expect(went >= 1 && went == back, "went away \(went) times, came back \(back):\n\(service.log.suffix(2000))")
            try await eventually("reads again", timeout: .seconds(10), pollEvery: .milliseconds(100)) {
                await self.outcome(client, "participants.regions.get", #"{"code":"IR-01"}"#, deadline: .seconds(3)).0 == nil
            }
            stop.withLockedValue { $0 = true }
            await load.value
            let codes = seen.withLockedValue { $0 }
            let caught = service.log.components(separatedBy: "closed under a running").count - 1
            let inCommit = service.log.components(separatedBy: "closed under a running COMMIT").count - 1
            print("PostgreSQL lost and back: answers under load \(codes); requests whose connection closed under them \(caught), \(inCommit) in COMMIT")
            #expect(Set(codes.keys).isSubset(of: ["ok", "unavailable"]), "never internal, never past the deadline: \(codes)\n\(service.log.suffix(3000))")
            // A statement on a connection as PostgreSQL went away sometimes waits for ever (the
            // connection closed, the query unanswered). The store answers a request so caught
            // `unavailable`, a write caught in COMMIT saying whether it was saved is unknown. Before
            // it watched for this, reads ran into their deadline in 2 of 11 runs; while writes in
            // COMMIT were left to their deadline, a write did in 3 of 29. Since: none in 33 runs
            // (22 requests caught in 20 of them, 3 in COMMIT).
            #expect((codes["ok"] ?? 0) > 0 && (codes["unavailable"] ?? 0) > 0, "\(codes)")
            await client.close()
            #expect(await service.terminate() == 0, "graceful exit on SIGTERM")
        }
    }

    /// Requests piled up while PostgreSQL was away, and load from 32 tasks the moment it is back.
    /// postgres-nio 1.33's pool, which the store once used, kept one of the connections it failed
    /// to open during an outage and opened more only as requests found none idle; with a minimum
    /// above that it then trapped (`minimumConcurrentConnections <= stats.active`), and the soak
    /// lost a replica so as PostgreSQL came back. This did not catch that trap in six runs on that
    /// pool (the interleaving is rare); it checks that the load through the return leaves the
    /// process serving, now that the store keeps its own connections.
    @Test func loadAsItReturnsLeavesTheProcessServing() async throws {
        try await self.withOwnCluster { service, client, directory in
            // Reads from 32 tasks at once, through the outage and the return.
            let stop = NIOLockedValueBox(false)
            let served = NIOLockedValueBox(0)
            let load = Task {
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<32 {
                        group.addTask {
                            while !stop.withLockedValue({ $0 }) {
                                let (code, _) = await self.outcome(client, "participants.regions.get", #"{"code":"IR-01"}"#, deadline: .seconds(4))
                                if code == nil { served.withLockedValue { $0 += 1 } } else { try? await Task.sleep(for: .milliseconds(5)) }
                            }
                        }
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            _ = try Self.cluster("stop", directory)
            // Long enough for every request then waiting to give up and leave its claim with the pool.
            try await Task.sleep(for: .seconds(3))
            _ = try Self.cluster("start", directory)
            let before = served.withLockedValue { $0 }
            try await eventually("served again after the return", timeout: .seconds(60), pollEvery: .milliseconds(50)) {
                served.withLockedValue { $0 } > before + 500
            }
            stop.withLockedValue { $0 = true }
            await load.value
            #expect(await self.outcome(client, "ready", deadline: .seconds(3)).0 == nil, "\(service.log.suffix(2000))")
            await client.close()
            #expect(await service.terminate() == 0, "still running, and a graceful exit on SIGTERM")
        }
    }
}
