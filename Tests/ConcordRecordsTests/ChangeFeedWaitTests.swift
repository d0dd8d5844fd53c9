import ConcordProtocol
import ConcordStorage
import ConcordTestSupport
import ConcordWire
import Testing

@testable import ConcordRecords

/// `changes {wait}`: a follower waits for a commit instead of asking again and again, and hears
/// of one as soon as it commits, whether this process or another wrote it.
@Suite("Waiting for changes", .timeLimit(.minutes(1)))
struct ChangeFeedWaitTests {
    static func write(_ key: String, with store: RecordStore) async throws {
        try await store.write { session in
            try await AuditTrail.append(
                kind: "things", key: key, operation: .create, before: nil, after: 1, change: .object([:]),
                context: WriteContext(verb: "things.create", actor: Principal(name: "test")), at: "2026-12-03T00:00:00.000Z", in: session
            )
        }
    }

    @Test(arguments: Engine.allCases)
    func aWaitingFollowerHearsOfAWriteAsItCommits(engine: Engine) async throws {
        try await withTestDatabase(engine, migrations: ChangeFeedOrderTests.migrations) { database in
            let store = RecordStore.standalone(database)
            // Nothing comes: the wait runs out and the page is empty, at the same cursor.
            let quiet = ContinuousClock.now
            let empty = try await store.changes(service: "things", after: 0, kinds: nil, limit: 10, wait: .milliseconds(300))
            #expect(empty.items.isEmpty && empty.cursor == "things:0")
            #expect(ContinuousClock.now - quiet >= .milliseconds(300))

            // A write of this process while the follower waits: it comes from memory. The wait
            // is an hour: only the commit's wake answers it within the suite's time limit.
            async let mine = store.changes(service: "things", after: 0, kinds: nil, limit: 10, wait: .seconds(3600))
            try await Self.untilWaiting(database)
            try await Self.write("mine", with: store)
            let page = try await mine
            #expect(page.items.map(\.key) == ["mine"] && page.cursor == "things:1")

            // A write of another process (another store on the same database remembers
            // nothing of this one's): heard through the engine, or the recheck.
            let other = RecordStore.standalone(database)
            async let theirs = store.changes(service: "things", after: 1, kinds: nil, limit: 10, wait: .seconds(3600))
            try await Self.untilWaiting(database)
            try await Self.write("theirs", with: other)
            let next = try await theirs
            #expect(next.items.map(\.key) == ["theirs"] && next.cursor == "things:2")
        }
    }

    /// Returns once a follower waits on `database`'s commits; fails after 10 s.
    static func untilWaiting(_ database: any Database) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while database.commits.waiting == 0 {
            guard ContinuousClock.now < deadline else {
                Issue.record("no follower waited within 10 s")
                return
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    @Test func recentChangesAnswerOnlyWithoutAGap() throws {
        func entry(_ position: Int64) -> FeedEntry {
            FeedEntry(position: position, kind: "things", key: "k\(position)", operation: "create", verb: "things.create", actor: "test", at: "2026-12-03T00:00:00.000Z")
        }
        let recent = RecentChanges()
        #expect(recent.after(0, limit: 10) == nil)
        recent.add([entry(3), entry(5), entry(4)])
        // Held without a gap from 3: after 2, 3, 4 they are known; after 1, position 2 is not.
        #expect(recent.after(2, limit: 10)?.map(\.position) == [3, 4, 5])
        #expect(recent.after(3, limit: 1)?.map(\.position) == [4])
        #expect(recent.after(1, limit: 10) == nil)
        #expect(recent.after(5, limit: 10) == nil)
        // Another process took 6: after 7 a gap, so only the store can answer.
        recent.add([entry(7)])
        #expect(recent.after(4, limit: 10) == nil)
    }
}
