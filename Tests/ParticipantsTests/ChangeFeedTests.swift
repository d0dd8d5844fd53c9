import ConcordClient
import ConcordProtocol
import ConcordStorage
import ConcordTestSupport
import ConcordWire
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// `participants.changes` as a follower uses it, against the real executable: two replicas on
/// one store, eight writers spread over them, a reader following the feed meanwhile.
@Suite("The change feed", .serialized, .timeLimit(.minutes(3)))
struct ChangeFeedTests {
    /// Every acknowledged write is seen exactly once, each record's versions in order, however
    /// the writers' commits interleave. On PostgreSQL the two replicas write concurrently; on
    /// SQLite they share one file and take turns at its lock.
    @Test(arguments: Engine.allCases)
    func aFollowerSeesEveryAcknowledgedWriteOnceInVersionOrder(engine: Engine) async throws {
        let location = try freshLocation(engine)
        let argument = databaseArgument(location)
        let a = try await ParticipantsProcess.start(database: argument, seeds: seedsDirectory)
        let b = try await ParticipantsProcess.start(database: argument)
        let clients = [try a.client(), try b.client()]

        let writers = 8, records = 6, updates = 3
        let acknowledged = NIOLockedValueBox<[String: Int64]>([:]) // "key@version" -> version
        let writing = NIOLockedValueBox(true)
        let seen = NIOLockedValueBox<[Change]>([])

        try await withThrowingTaskGroup(of: Void.self) { group in
            // The follower: asks each replica in turn, always from the last cursor it saw.
            group.addTask {
                var cursor: String?
                var turn = 0
                var quietAfterWriters = 0
                while quietAfterWriters < 3 {
                    let done = writing.withLockedValue { !$0 }
                    var body = #"{"kinds":["officials"],"limit":50"#
                    if let cursor { body += #","after":"\#(cursor)""# }
                    let answer = try await clients[turn % 2].call("participants.changes", body: ByteBuffer(string: body + "}"))
                    turn += 1
                    let page = try JSONDecoder().decode(ChangesPage.self, from: Data(buffer: answer))
                    seen.withLockedValue { $0 += page.items }
                    cursor = page.cursor
                    if done && page.items.isEmpty { quietAfterWriters += 1 }
                    if page.items.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
                }
            }
            try await withThrowingTaskGroup(of: Void.self) { writersGroup in
                for writer in 0..<writers {
                    writersGroup.addTask {
                        for record in 0..<records {
                            let id = "feed-\(writer)-\(record)"
                            let client = clients[(writer + record) % 2]
                            _ = try await client.call("participants.officials.create", body: ByteBuffer(
                                string: #"{"id":"\#(id)","name":"Feed \#(writer) \#(record)","title":"Delegate","organisation":"Test","country":"IR"}"#
                            ))
                            acknowledged.withLockedValue { $0["\(id)@1"] = 1 }
                            for version in 1...Int64(updates) {
                                // Through the other replica, so one record's versions come from both.
                                _ = try await clients[(writer + record + Int(version)) % 2].call("participants.officials.update", body: ByteBuffer(
                                    string: #"{"id":"\#(id)","version":\#(version),"title":"Delegate \#(version)"}"#
                                ))
                                acknowledged.withLockedValue { $0["\(id)@\(version + 1)"] = version + 1 }
                            }
                        }
                    }
                }
                try await writersGroup.waitForAll()
            }
            writing.withLockedValue { $0 = false }
            try await group.waitForAll()
        }
        for client in clients { await client.close() }
        await a.terminate()
        await b.terminate()

        // The seeds' officials come first; the writers' records after them.
        let changes = seen.withLockedValue { $0 }.filter { $0.key.hasPrefix("feed-") }
        let expected = acknowledged.withLockedValue { $0 }
        #expect(expected.count == writers * records * (updates + 1))
        // Exactly once: no cursor twice, and every acknowledged version among them.
        #expect(Set(changes.map(\.cursor)).count == changes.count)
        let versions = changes.map { "\($0.key)@\($0.versionAfter ?? -1)" }
        #expect(Set(versions).count == versions.count)
        #expect(Set(versions) == Set(expected.keys))
        // Positions rise, and each record's versions come in order.
        let positions = changes.compactMap { FeedCursor(parsing: $0.cursor)?.position }
        #expect(positions == positions.sorted())
        var lastVersion: [String: Int64] = [:]
        for change in changes {
            let version = change.versionAfter ?? -1
            #expect(version > lastVersion[change.key, default: 0], "\(change.key): version \(version) after \(lastVersion[change.key, default: 0])")
            lastVersion[change.key] = version
        }
        #expect(changes.allSatisfy { $0.service == "participants" && $0.kind == "officials" })
        if engine == .postgres { try await withTestDatabase(.postgres, location: location) { _ in } }
    }

    /// What a follower can get wrong is refused with what was wrong.
    @Test
    func badCursorsAndKindsAreRefusedByName() async throws {
        let location = try freshLocation(.sqlite)
        let service = try await ParticipantsProcess.start(database: databaseArgument(location), seeds: seedsDirectory)
        let client = try service.client()
        func refusal(_ body: String) async -> ConcordError? {
            await client.refusal("participants.changes", body)
        }
        let malformed = await refusal(#"{"after":"participants"}"#)
        #expect(malformed?.code == .badRequest && malformed?.field == "body.after" && malformed?.message.contains("participants:POSITION") == true)
        let otherService = await refusal(#"{"after":"agreements:12"}"#)
        #expect(otherService?.code == .badRequest && otherService?.message.contains("agreements.changes") == true)
        let pastTheEnd = await refusal(#"{"after":"participants:999999"}"#)
        #expect(pastTheEnd?.code == .badRequest && pastTheEnd?.message.contains("past the end") == true)
        let unknownKind = await refusal(#"{"kinds":["officials","treaties"]}"#)
        #expect(unknownKind?.field == "body.kinds[1]" && unknownKind?.message.contains("officials") == true)
        // The seeds' writes are in the feed, from the start.
        let first = try JSONDecoder().decode(ChangesPage.self, from: Data(buffer: try await client.call("participants.changes", body: ByteBuffer(string: #"{"limit":1}"#))))
        #expect(first.items.first?.cursor == "participants:1" && first.more)
        // The latest few, oldest first, ending at the feed's end; alone or refused by name.
        let all = try JSONDecoder().decode(ChangesPage.self, from: Data(buffer: try await client.call("participants.changes", body: ByteBuffer(string: #"{"limit":500}"#))))
        let latest = try JSONDecoder().decode(ChangesPage.self, from: Data(buffer: try await client.call("participants.changes", body: ByteBuffer(string: #"{"last":3}"#))))
        #expect(latest.items.map(\.cursor) == all.items.suffix(3).map(\.cursor) && latest.cursor == all.cursor)
        let lastWithAfter = await refusal(#"{"last":3,"after":"participants:1"}"#)
        #expect(lastWithAfter?.field == "body.after" && lastWithAfter?.message.contains("does not go with after") == true)
        #expect(await refusal(#"{"last":0}"#)?.field == "body.last")
        await client.close()
        await service.terminate()
    }
}
