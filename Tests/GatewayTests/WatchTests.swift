import ConcordClient
import ConcordProtocol
import ConcordTestSupport
import ConcordWire
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// `watch` through real processes: a participants service and the gateway in front of it.
@Suite("Watch", .serialized, .timeLimit(.minutes(2)))
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
        let kind = await refusal(#"{"kinds":["treaties"]}"#)
        #expect(kind?.field == "body.kinds[0]" && kind?.message.contains("treaties") == true)
        let service = await refusal(#"{"services":["ministries"]}"#)
        #expect(service?.field == "body.services[0]" && service?.message.contains("participants") == true)
        let malformed = await refusal(#"{"after":"yesterday"}"#)
        #expect(malformed?.field == "body.after")
        let foreign = await refusal(#"{"after":"agreements:4"}"#)
        #expect(foreign?.field == "body.after" && foreign?.message.contains("agreements") == true)
        let cancelUnknown: ConcordError?
        do {
            _ = try await client.call("cancel", body: ByteBuffer(string: #"{"id":"nothing-running"}"#))
            cancelUnknown = nil
        } catch {
            cancelUnknown = error
        }
        #expect(cancelUnknown?.code == .notFound && cancelUnknown?.field == "body.id")
        await client.close()
        await gateway.terminate()
        await participants.terminate()
    }
}
