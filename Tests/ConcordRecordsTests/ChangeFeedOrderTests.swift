import ConcordProtocol
import ConcordStorage
import ConcordTestSupport
import ConcordWire
import NIOConcurrencyHelpers
import Testing

@testable import ConcordRecords

/// The trap a change feed must not fall into: a write that took its position first but commits
/// last. Here the first write holds its transaction open after taking its position; the second
/// must not become visible before it, or a reader would pass the first's position and never
/// see it.
@Suite("The change feed's order", .timeLimit(.minutes(1)))
struct ChangeFeedOrderTests {
    static let migrations = [
        Migration(version: 1, name: "audit", statements: RecordSchema.auditTables),
        Migration(version: 2, name: "change feed", statements: RecordSchema.changeFeed),
    ]

    static func write(_ key: String, on database: any Database, holdUntil gate: AsyncGate? = nil) async throws {
        try await database.write { session in
            try await AuditTrail.append(
                kind: "things", key: key, operation: .create, before: nil, after: 1, change: .object([:]),
                context: WriteContext(verb: "things.create", actor: Principal(name: "test")), at: "2026-12-02T00:00:00.000Z", in: session
            )
            try await ChangeFeed.stamp(in: session, of: database)
            if let gate {
                gate.reached()
                await gate.wait()
            }
        }
    }

    @Test(arguments: Engine.allCases)
    func aLaterWriteWaitsForAnEarlierPositionToCommit(engine: Engine) async throws {
        try await withTestDatabase(engine, migrations: Self.migrations) { database in
            let store = RecordStore.standalone(database)
            let gate = AsyncGate()
            let secondCommitted = NIOLockedValueBox(false)
            async let first: Void = Self.write("first", on: database, holdUntil: gate)
            await gate.whenReached()
            async let second: Void = {
                try await Self.write("second", on: database)
                secondCommitted.withLockedValue { $0 = true }
            }()
            // The first holds position 1 uncommitted: a reader sees nothing yet, and the second
            // cannot commit ahead of it (it waits for the clock the first holds).
            try await Task.sleep(for: .milliseconds(200))
            let early = try await store.changes(service: "things", after: 0, kinds: nil, limit: 10)
            #expect(early.items.isEmpty)
            #expect(secondCommitted.withLockedValue { $0 } == false)
            #expect(early.cursor == "things:0")
            gate.open()
            try await first
            try await second
            // From the cursor the reader had, both: the first, then the second.
            let late = try await store.changes(service: "things", after: 0, kinds: nil, limit: 10)
            #expect(late.items.map(\.key) == ["first", "second"])
            #expect(late.items.map(\.cursor) == ["things:1", "things:2"])
            #expect(late.cursor == "things:2" && !late.more)
        }
    }
}

/// A one-shot gate between tasks: one says it has reached the gate and waits there; another
/// waits until it has, then opens it.
final class AsyncGate: Sendable {
    private let arrived = Latch()
    private let opened = Latch()

    func reached() { self.arrived.signal() }
    func whenReached() async { await self.arrived.wait() }
    func wait() async { await self.opened.wait() }
    func open() { self.opened.signal() }
}

/// Set once; every wait, before or after, returns once it is.
final class Latch: Sendable {
    private let state = NIOLockedValueBox<(isSet: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func signal() {
        let waiters = self.state.withLockedValue { state in
            state.isSet = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let isSet = self.state.withLockedValue { state in
                if state.isSet { return true }
                state.waiters.append(continuation)
                return false
            }
            if isSet { continuation.resume() }
        }
    }
}
