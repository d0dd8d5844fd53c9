import ConcordProtocol
import ConcordRecords
import ConcordStorage
import ConcordTestSupport
import Foundation
import Testing

@testable import Participants

/// One suite, run on SQLite and on PostgreSQL.
@Suite("Record store on both engines", .timeLimit(.minutes(2)))
struct RecordStoreTests {
    @Test(arguments: Engine.allCases)
    func createGetUpdateDelete(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let store = RecordStore.standalone(database)
            try await store.createBasics()
            let created = try await store.create(official("mehdi-dousti", name: "Mehdi Dousti"), context: testWrite)
            #expect(created.version == 1)
            let read = try await store.get(Official.self, key: "mehdi-dousti")
            #expect(read == created)

            let updated = try await store.update(Official.self, key: "mehdi-dousti", expectedVersion: 1, patch: ["title": .string("Minister")], context: testWrite)
            #expect(updated.version == 2)
            #expect(updated.title == "Minister")
            #expect(updated.name == "Mehdi Dousti")
            #expect(updated.createdAt == created.createdAt)

            try await store.delete(Official.self, key: "mehdi-dousti", expectedVersion: 2, context: testWrite)
            await #expect(throws: RecordError(.notFound, "no official mehdi-dousti", field: "id")) {
                try await store.get(Official.self, key: "mehdi-dousti")
            }
        }
    }

    @Test(arguments: Engine.allCases)
    func aStaleUpdateIsAConflictAndChangesNothing(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let store = RecordStore.standalone(database)
            try await store.createBasics()
            _ = try await store.update(Country.self, key: "IR", expectedVersion: 1, patch: ["localName": .string("ایران")], context: testWrite)
            let error = await #expect(throws: RecordError.self) {
                try await store.update(Country.self, key: "IR", expectedVersion: 1, patch: ["name": .string("Persia")], context: testWrite)
            }
            #expect(error?.reason == .versionMoved)
            #expect(error?.field == "version")
            let current = try await store.get(Country.self, key: "IR")
            #expect(current.name == "Iran")
            #expect(current.version == 2)
        }
    }

    @Test(arguments: Engine.allCases)
    func concurrentUpdatesOfOneVersionLetExactlyOneWin(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let store = RecordStore.standalone(database)
            try await store.createBasics()
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for attempt in 0..<8 {
                    group.addTask {
                        do {
                            _ = try await store.update(Country.self, key: "RU", expectedVersion: 1, patch: ["name": .string("Russia \(attempt)")], context: testWrite)
                            return true
                        } catch let error as RecordError where error.reason == .versionMoved {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
            #expect(try await store.get(Country.self, key: "RU").version == 2)
        }
    }

    @Test(arguments: Engine.allCases)
    func anIdempotentRetryReturnsTheFirstResultAndCreatesNothing(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let store = RecordStore.standalone(database)
            try await store.createBasics()
            // No id: the store generates one, and the retry must get the same one back.
            let first = try await store.create(official(nil), context: WriteContext(verb: "participants.officials.create", idempotencyKey: "k-1", actor: testWrite.actor))
            let retry = try await store.create(official(nil), context: WriteContext(verb: "participants.officials.create", idempotencyKey: "k-1", actor: testWrite.actor))
            #expect(first == retry)
            let page = try await store.list(Official.self, filters: [], text: nil, limit: 100, after: nil)
            #expect(page.items.count == 1)

            let reuse = await #expect(throws: RecordError.self) {
                try await store.create(official(nil, name: "Someone Else"), context: WriteContext(verb: "participants.officials.create", idempotencyKey: "k-1", actor: testWrite.actor))
            }
            #expect(reuse?.reason == .idempotencyKeyReused)
        }
    }

    @Test(arguments: Engine.allCases)
    func racingRetriesWithOneKeyCreateOneRecord(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let store = RecordStore.standalone(database)
            try await store.createBasics()
            let results = try await withThrowingTaskGroup(of: Official.self) { group in
                for _ in 0..<10 {
                    group.addTask { try await store.create(official(nil), context: WriteContext(verb: "v", idempotencyKey: "race", actor: testWrite.actor)) }
                }
                return try await group.reduce(into: [Official]()) { $0.append($1) }
            }
            #expect(Set(results.map(\.id)).count == 1)
            #expect(try await store.list(Official.self, filters: [], text: nil, limit: 100, after: nil).items.count == 1)
        }
    }

    @Test(arguments: Engine.allCases)
    func deletingSomethingStillReferencedIsAConflict(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let store = RecordStore.standalone(database)
            try await store.createBasics()
            let error = await #expect(throws: RecordError.self) {
                try await store.delete(Country.self, key: "IR", expectedVersion: nil, context: testWrite)
            }
            #expect(error?.reason == .stillNamed)
            #expect(error?.message.contains("1 regions") == true)
            #expect(try await store.get(Country.self, key: "IR").code == "IR")
            // Unreferenced: goes.
            try await store.delete(Region.self, key: "IR-01", expectedVersion: 1, context: testWrite)
            try await store.delete(Country.self, key: "IR", expectedVersion: nil, context: testWrite)
        }
    }

    @Test(arguments: Engine.allCases)
    func aReferenceToSomethingMissingIsRefused(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let store = RecordStore.standalone(database)
            try await store.createBasics()
            await #expect(throws: RecordError(.unknownReference, "unknown country XX", field: "country")) {
                try await store.create(official("nobody", country: "XX"), context: testWrite)
            }
            await #expect(throws: RecordError(.unknownReference, "unknown session 9", field: "session")) {
                try await store.create(Attendance(session: 9, official: "nobody", role: "delegate"), context: testWrite)
            }
        }
    }

    @Test(arguments: Engine.allCases)
    func aFailedWriteLeavesNothingBehind(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await database.write { session in
                    try await session.query(
                        "INSERT INTO countries (code, version, doc, search, created_at, updated_at) VALUES ('ZZ', 1, '{}', '', 'x', 'x')"
                    )
                    throw Abort()
                }
            }
            let rows = try await database.read { try await $0.query("SELECT code FROM countries") }
            #expect(rows.isEmpty)
            // The connection is usable afterwards: not left inside a transaction.
            try await RecordStore.standalone(database).createBasics()
        }
    }

    @Test(arguments: Engine.allCases)
    func pagesStayConsistentWhileRecordsAreInserted(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let store = RecordStore.standalone(database)
            try await store.createBasics()
            let original = (0..<25).map { String(format: "official-%02d", $0 * 2) }
            for id in original {
                _ = try await store.create(official(id), context: testWrite)
            }
            var seen: [String] = []
            var cursor: SQLValue?
            var inserted = 0
            repeat {
                let page = try await store.list(Official.self, filters: [], text: nil, limit: 7, after: cursor)
                seen += page.items.compactMap(\.id)
                cursor = try page.nextCursor.map { next throws in try Cursor.decode(next, integerKey: false) }
                // Between pages, insert one record before the cursor and one after it.
                inserted += 1
                _ = try await store.create(official(String(format: "official-%02d", inserted * 4 - 3)), context: testWrite)
                _ = try await store.create(official("zz-late-\(inserted)"), context: testWrite)
            } while cursor != nil
            #expect(Set(seen).count == seen.count, "no record appears twice")
            #expect(Set(original).isSubset(of: Set(seen)), "every record present from the start is seen")
            #expect(seen == seen.sorted())
        }
    }

    @Test(arguments: Engine.allCases)
    func filtersAndSearch(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let store = RecordStore.standalone(database)
            let outcome = try await seedLoader(store).load()
            #expect(outcome.created > 0)
            let country = RecordFilter.column("country")
            let russian = try await store.list(Region.self, filters: [(country, "RU")], text: nil, limit: 50, after: nil)
            #expect(russian.items.map(\.code) == ["RU-AST", "RU-DA", "RU-TA", "RU-VGG"])
            let cyrillic = try await store.list(Region.self, filters: [], text: "ТАТАРСТАН", limit: 50, after: nil)
            #expect(cyrillic.items.map(\.code) == ["RU-TA"])
            let wildcard = try await store.list(Region.self, filters: [], text: "%", limit: 50, after: nil)
            #expect(wildcard.items.isEmpty, "LIKE wildcards in the query are matched literally")
            let gilan = try await store.list(
                Partnership.self, filters: [(Partnership.filters[0], "IR-01")], text: nil, limit: 50, after: nil
            )
            #expect(gilan.items.compactMap(\.id) == ["astrakhan-gilan", "dagestan-gilan"])
        }
    }

    @Test(arguments: Engine.allCases)
    func seedsLoadOnceAndAgainChangeNothing(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let store = RecordStore.standalone(database)
            let loader = seedLoader(store)
            #expect(try await loader.storeIsEmpty())
            let first = try await loader.load()
            let snapshot = try await database.read { try await $0.query("SELECT code, version, updated_at FROM regions ORDER BY code") }
            let second = try await loader.load()
            #expect(first.present == 0)
            #expect(second == SeedLoader.Outcome(created: 0, present: first.created))
            let again = try await database.read { try await $0.query("SELECT code, version, updated_at FROM regions ORDER BY code") }
            #expect(again == snapshot)

            let session = try await CommitteeSession.decorate(try await store.get(CommitteeSession.self, key: 6), using: store)
            #expect(session.coChairs == ["mehdi-dousti", "vladimir-ilichev"])
            #expect(session.hostCountry == "RU")
            let attendees = try await Participants.attendees(of: 6, in: store)
            #expect(attendees.map(\.official.name).sorted() == ["Kazem Jalali", "Mehdi Dousti", "Vladimir Ilichev"])
            #expect(attendees.allSatisfy { $0.attendance.source != nil })
        }
    }

    /// A mistyped seeds path would load nothing into an empty store without a word: refused,
    /// before anything is read or written, with what was wrong.
    @Test func aSeedsDirectoryThatIsNotThereOrHoldsNoSeedFileIsRefused() async throws {
        try await withTestDatabase(.sqlite) { database in
            let store = RecordStore.standalone(database)
            let missing = SeedLoader(store: store, directory: "/nonexistent/seeds", kinds: Participants.kinds, logger: quietLogger)
            let error = await #expect(throws: SeedError.self) { try await missing.load() }
            #expect(error?.description == "/nonexistent/seeds: is not a directory of seed files")
            // The repository's seeds/ holds each service's directory, not their files.
            let parent = URL(fileURLWithPath: seedsDirectory).deletingLastPathComponent().path
            let wrong = SeedLoader(store: store, directory: parent, kinds: Participants.kinds, logger: quietLogger)
            let refused = await #expect(throws: SeedError.self) { try await wrong.load() }
            #expect(refused?.description.hasPrefix("\(parent): holds none of this service's seed files (countries.json, ") == true)
            #expect(try await wrong.storeIsEmpty())
            try seedLoader(store).checkDirectory()
        }
    }
}
