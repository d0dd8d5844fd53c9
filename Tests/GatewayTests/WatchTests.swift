import ConcordClient
import ConcordProtocol
import ConcordTestSupport
import ConcordWire
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// `watch` through real processes: a participants service and the gateway in front of it.
@Suite("Watch", .serialized, .timeLimit(.minutes(3)))
struct WatchTests {
    static func create(_ client: ConcordClient, _ id: String) async throws {
        _ = try await client.call("participants.officials.create", body: ByteBuffer(
            string: #"{"id":"\#(id)","name":"Watched \#(id)","title":"Delegate","organisation":"Test","country":"RU"}"#
        ))
    }

    /// Follows a watch into `events` until the task is cancelled; returns its final answer.
    static func follow(_ client: ConcordClient, _ body: String, into events: NIOLockedValueBox<[WatchEvent]>) -> Task<WatchEnd, any Error> {
        Task {
            let end = try await client.stream("watch", body: ByteBuffer(string: body)) { item in
                if let event = try? JSONBody.decode(WatchEvent.self, from: item) { events.withLockedValue { $0.append(event) } }
            }
            return try JSONBody.decode(WatchEnd.self, from: end)
        }
    }

    @Test func aWatchPushesEachChangeOnceAndResumesAcrossAGatewayRestart() async throws {
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("watch-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: database) }
        let participants = try await ServiceProcess.start(
            "participants", arguments: ["--database", "sqlite:" + database, "--seeds", repositoryRoot().appendingPathComponent("seeds/participants").path]
        )
        let route = ["--no-auth", "--route", "participants=127.0.0.1:\(participants.port)"]
        let first = try await ServiceProcess.start("gateway", arguments: route)
        let writer = try first.client()
        let watcher = try first.client()
        let seen = NIOLockedValueBox<[WatchEvent]>([])
        let watch = Self.follow(watcher, #"{"kinds":["officials"]}"#, into: seen)
        try await eventually("the watch starts") { seen.withLockedValue { $0.first?.type == "start" } }
        for index in 1...5 { try await Self.create(writer, "watched-\(index)") }
        try await eventually("five changes pushed") { seen.withLockedValue { $0.count(where: { $0.type == "change" }) } == 5 }
        // The gateway goes (SIGTERM): its watch ends with the cursor, or the connection with it.
        await writer.close()
        #expect(await first.terminate() == 0)
        let ended = try? await watch.value
        await watcher.close()
        let cursor = seen.withLockedValue { $0.last!.cursor }
        if let ended { #expect(ended.cursor == cursor && !ended.resync) }

        // Written while no gateway runs, straight to the service (as the gateway would).
        let direct = try participants.client()
        for index in 6...8 { try await Self.create(direct, "watched-\(index)") }
        await direct.close()

        let second = try await ServiceProcess.start("gateway", arguments: route)
        let resumed = try second.client()
        let later = NIOLockedValueBox<[WatchEvent]>([])
        let resumedWatch = Self.follow(resumed, #"{"kinds":["officials"],"after":"\#(cursor)"}"#, into: later)
        try await eventually("the three missed changes pushed") { later.withLockedValue { $0.count(where: { $0.type == "change" }) } >= 3 }
        // Cancelled by the caller: the watch answers where it stands.
        resumedWatch.cancel()
        let end = try await resumedWatch.value
        let changes = (seen.withLockedValue { $0 } + later.withLockedValue { $0 }).compactMap(\.change)
        #expect(changes.map(\.key) == (1...8).map { "watched-\($0)" })
        #expect(changes.allSatisfy { $0.operation == "create" && $0.kind == "officials" && $0.service == "participants" })
        #expect(end.cursor == later.withLockedValue { $0.last!.cursor } && end.reason == "cancelled")
        await resumed.close()
        await second.terminate()
        await participants.terminate()
    }

    /// Resident memory of a process, from /proc, in bytes.
    static func residentBytes(_ process: ServiceProcess) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(process.process.processIdentifier)/status", encoding: .utf8)
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }

    /// A watcher that stops reading costs the gateway at most its connection's buffer: the
    /// watch ends with `resync` and the cursor to resume from, and the gateway's memory stays
    /// where it was.
    @Test func aWatcherThatStopsReadingGetsResyncAndCostsNoMoreMemory() async throws {
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("watch-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: database) }
        let participants = try await ServiceProcess.start(
            "participants", arguments: ["--database", "sqlite:" + database, "--seeds", repositoryRoot().appendingPathComponent("seeds/participants").path]
        )
        let gateway = try await ServiceProcess.start(
            "gateway", arguments: ["--no-auth", "--route", "participants=127.0.0.1:\(participants.port)", "--watch-patience", "300"]
        )
        // History enough to overfill the connection's buffers, the kernel's included (4 MiB on
        // Linux at most): 16,000 changes, about 5 MB of events.
        let direct = try participants.client()
        let backlogStarted = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<20 {
                group.addTask { for index in 0..<800 { try await Self.create(direct, "backlog-\(writer)-\(index)") } }
            }
            try await group.waitForAll()
        }
        await direct.close()
        print("watch with a stalled reader: 16000 changes written in \(ContinuousClock.now - backlogStarted)")
        let before = try Self.residentBytes(gateway)
        let (after, lines) = try await RawLineConnection.with(port: gateway.port, identity: "client", receiveBufferSize: 4096) { connection in
            try await connection.send("w1 watch {\"from\":\"start\"}\n")
            // Reads nothing until the gateway gives up on it: 5 MB of events overfill every
            // buffer, so the gateway must, however fast or slow this machine is. (A fixed pause
            // of 3 s was not enough when the machine was busy: the gateway had not filled them
            // yet, and the watcher then read every change and the watch went on.)
            try await eventually("the gateway ends the watch of a watcher that does not read", timeout: .seconds(90), pollEvery: .milliseconds(100)) {
                gateway.log.contains("watch ended: the watcher did not read its events")
            }
            let after = try Self.residentBytes(gateway)
            // Then reads what was sent, up to the watch's final answer; what was read by the
            // deadline (30 s, a failure; reading takes half a second) is kept for the failure's
            // message.
            let read = NIOLockedValueBox<[String]>([])
            let clock = ContinuousClock()
            let started = clock.now
            let finished = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    while let line = try await connection.readLine() {
                        guard line.hasPrefix("w1 ") else { continue }
                        read.withLockedValue { $0.append(line) }
                        if line.hasPrefix("w1 ok") || line.hasPrefix("w1 err") { return true }
                    }
                    return false
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(30))
                    return false
                }
                let first = try await group.next() ?? false
                group.cancelAll()
                return first
            }
            let lines = read.withLockedValue { $0 }
            print("watch with a stalled reader: read \(lines.count) lines in \(clock.now - started), \(finished ? "up to the final answer" : "without the final answer")")
            return (after, lines)
        }
        let final = lines.last ?? ""
        #expect(
            final.hasPrefix("w1 ok ") && final.contains(#""resync":true"#),
            "the watch's last line, of \(lines.count) read (\(lines.count(where: { $0.contains(#""type":"change""#) })) changes, first \(lines.first?.prefix(120) ?? "none")): \(final.prefix(300))\ngateway:\n\(gateway.log.suffix(1500))\nparticipants:\n\(participants.log.suffix(1500))"
        )
        let pushed = lines.count(where: { $0.hasPrefix("w1 more ") && $0.contains(#""type":"change""#) })
        #expect(pushed > 0 && pushed < 16_000, "changes pushed before the resync: \(pushed)")
        // What it stopped at is where the next watch resumes: the last change it pushed.
        let end = try JSONBody.decode(WatchEnd.self, from: ByteBuffer(string: String(final.dropFirst("w1 ok ".count))))
        let lastPushed = try lines.last(where: { $0.hasPrefix("w1 more ") }).map { try JSONBody.decode(WatchEvent.self, from: ByteBuffer(string: String($0.dropFirst("w1 more ".count)))) }
        #expect(end.cursor == lastPushed?.cursor)
        let grown = after - before
        #expect(grown < 16 * 1024 * 1024, "the gateway grew by \(grown / 1024) KiB while the watcher did not read")
        print("watch with a stalled reader: \(pushed) of 16000 changes pushed before resync; gateway RSS \(before / 1024) KiB before, \(after / 1024) KiB after (\(grown / 1024) KiB)")
        await gateway.terminate()
        await participants.terminate()
    }

    @Test func badWatchesAreRefusedByName() async throws {
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("watch-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: database) }
        let participants = try await ServiceProcess.start("participants", arguments: ["--database", "sqlite:" + database])
        let gateway = try await ServiceProcess.start("gateway", arguments: ["--no-auth", "--route", "participants=127.0.0.1:\(participants.port)"])
        let client = try gateway.client()
        func refusal(_ body: String) async -> ConcordError? {
            do {
                _ = try await client.stream("watch", body: ByteBuffer(string: body)) { _ in }
                return nil
            } catch {
                return error
            }
        }
        // Each with its rule, which the CLI and the console say in Persian and Russian.
        let kind = await refusal(#"{"kinds":["treaties"]}"#)
        #expect(kind?.field == "body.kinds[0]" && kind?.message.contains("treaties") == true)
        guard case .oneOf(let kept, "treaties")? = kind?.rule else {
            Issue.record("an unknown kind's rule: \(String(describing: kind?.rule))")
            return
        }
        #expect(kept.contains("officials") && kept.contains("countries") && !kept.contains("treaties"))
        let service = await refusal(#"{"services":["ministries"]}"#)
        #expect(service?.field == "body.services[0]" && service?.message.contains("participants") == true)
        #expect(service?.rule == .oneOf(allowed: ["participants"], got: "ministries"))
        let malformed = await refusal(#"{"after":"yesterday"}"#)
        #expect(malformed?.field == "body.after" && malformed?.rule == .form(.watchCursor, got: "yesterday"))
        let foreign = await refusal(#"{"after":"agreements:4"}"#)
        #expect(foreign?.field == "body.after" && foreign?.message.contains("agreements") == true)
        #expect(foreign?.rule == .oneOf(allowed: ["participants"], got: "agreements"))
        let from = await refusal(#"{"from":"yesterday"}"#)
        #expect(from?.field == "body.from" && from?.rule == .oneOf(allowed: ["now", "start"], got: "yesterday"))
        let unknown = await refusal(#"{"since":"start"}"#)
        #expect(unknown?.field == "body.since" && unknown?.rule == .unknownField(allowed: ["after", "from", "kinds", "services"]))
        let notObject = await refusal(#"["participants"]"#)
        #expect(notObject?.field == "body" && notObject?.rule == .type(expected: .object))
        let notJSON = await refusal("{services")
        #expect(notJSON?.field == "body" && notJSON?.rule == .json)
        let notList = await refusal(#"{"kinds":"officials"}"#)
        #expect(notList?.field == "body.kinds" && notList?.rule == .type(expected: .array))
        let cancelUnknown = await client.refusal("cancel", #"{"id":"nothing-running"}"#)
        #expect(cancelUnknown?.code == .notFound && cancelUnknown?.field == "body.id")
        let cancelWithoutID = await client.refusal("cancel", "{}")
        #expect(cancelWithoutID?.code == .badRequest && cancelWithoutID?.field == "body.id" && cancelWithoutID?.rule == .required)
        await client.close()
        await gateway.terminate()
        await participants.terminate()
    }
}
