import ConcordProtocol
@testable import ConcordStorage
import ConcordTestSupport
import Testing

/// The storage engines themselves, on SQLite and on PostgreSQL: migrations, transactions,
/// racing writers. No record kit: a table of its own.
@Suite("Storage engines", .timeLimit(.minutes(2)))
struct StorageEngineTests {
    static let migrations = [
        Migration(version: 1, name: "notes", statements: ["CREATE TABLE notes (id TEXT PRIMARY KEY, n BIGINT NOT NULL)"]),
        Migration(version: 2, name: "tags", statements: ["CREATE TABLE tags (note TEXT NOT NULL REFERENCES notes(id), tag TEXT NOT NULL)"]),
    ]

    @Test(arguments: Engine.allCases)
    func migrationsRunOnceEvenWhenRepeated(engine: Engine) async throws {
        try await withTestDatabase(engine, migrations: Self.migrations) { database in
            try await database.migrate(Self.migrations)
            let ledger = try await database.read { try await $0.query("SELECT version FROM concord_migrations ORDER BY version") }
            #expect(try ledger.map { try $0.integer("version") } == [1, 2])
        }
    }

    @Test(arguments: Engine.allCases)
    func aLaterMigrationAppliesOnTopOfAnEarlierOne(engine: Engine) async throws {
        let location = try freshLocation(engine)
        try await withTestDatabase(engine, migrations: Array(Self.migrations.prefix(1)), location: location) { database in
            try await database.write { try await $0.query("INSERT INTO notes (id, n) VALUES ('a', 1)") }
            try await database.migrate(Self.migrations)
            try await database.write { try await $0.query("INSERT INTO tags (note, tag) VALUES ('a', 'x')") }
            let tags = try await database.read { try await $0.query("SELECT tag FROM tags") }
            #expect(tags.count == 1)
        }
    }

    @Test(arguments: Engine.allCases)
    func replicasStartingTogetherMigrateOnce(engine: Engine) async throws {
        let location = try freshLocation(engine)
        let first = try await openDatabase(location, logger: quietLogger)
        let second = try await openDatabase(location, logger: quietLogger)
        try await withDatabaseRunning(first) {
            try await withDatabaseRunning(second) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await first.migrate(Self.migrations) }
                    group.addTask { try await second.migrate(Self.migrations) }
                    try await group.waitForAll()
                }
            }
        }
        try await withTestDatabase(engine, migrations: Self.migrations, location: location) { database in
            let ledger = try await database.read { try await $0.query("SELECT version FROM concord_migrations") }
            #expect(ledger.count == Self.migrations.count)
        }
    }

    @Test(arguments: Engine.allCases)
    func aNewerSchemaThanTheProgramIsRefused(engine: Engine) async throws {
        try await withTestDatabase(engine, migrations: Self.migrations) { database in
            try await database.write { session in
                try await session.query("INSERT INTO concord_migrations (version, name, applied_at) VALUES (99, 'future', 'x')")
            }
            let error = await #expect(throws: StorageError.self) { try await database.migrate(Self.migrations) }
            #expect(error?.code == .migration)
        }
    }

    @Test(arguments: Engine.allCases)
    func aFailedWriteLeavesNothingBehindAndTheConnectionIsReusable(engine: Engine) async throws {
        try await withTestDatabase(engine, migrations: Self.migrations) { database in
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await database.write { session in
                    try await session.query("INSERT INTO notes (id, n) VALUES ('zz', 1)")
                    throw Abort()
                }
            }
            let afterAbort = try await database.read { try await $0.query("SELECT id FROM notes") }
            #expect(afterAbort.isEmpty)
            // Not left inside a transaction: the next write commits.
            try await database.write { try await $0.query("INSERT INTO notes (id, n) VALUES ('ok', 1)") }
            let afterCommit = try await database.read { try await $0.query("SELECT id FROM notes") }
            #expect(afterCommit.count == 1)
        }
    }

    @Test(arguments: Engine.allCases)
    func aConstraintViolationIsTypedAndRollsBackTheWholeTransaction(engine: Engine) async throws {
        try await withTestDatabase(engine, migrations: Self.migrations) { database in
            try await database.write { try await $0.query("INSERT INTO notes (id, n) VALUES ('a', 1)") }
            let error = await #expect(throws: StorageError.self) {
                try await database.write { session in
                    try await session.query("INSERT INTO notes (id, n) VALUES ('b', 1)")
                    try await session.query("INSERT INTO notes (id, n) VALUES ('a', 2)")
                }
            }
            #expect(error?.code == .uniqueViolation)
            let notes = try await database.read { try await $0.query("SELECT id FROM notes") }
            #expect(notes.count == 1, "the first insert of the failed transaction is gone too")
        }
    }

    /// Many writers incrementing one counter, each in its own transaction that reads then
    /// writes: every increment counts, none is lost to a race.
    @Test(arguments: Engine.allCases)
    func racingWritersLoseNoIncrement(engine: Engine) async throws {
        try await withTestDatabase(engine, migrations: Self.migrations) { database in
            try await database.write { try await $0.query("INSERT INTO notes (id, n) VALUES ('counter', 0)") }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        _ = try await database.write { session in
                            try await session.query("UPDATE notes SET n = n + 1 WHERE id = 'counter'")
                        }
                    }
                }
                try await group.waitForAll()
            }
            let row = try await database.read { try await $0.first("SELECT n FROM notes WHERE id = 'counter'") }
            #expect(try row?.integer("n") == 40)
        }
    }
}

@Suite("SQLite placeholders")
struct SQLitePlaceholderTests {
    @Test func dollarNumbersBecomePositionalOutsideLiterals() {
        #expect(SQLiteSession.numberedPlaceholders("SELECT a FROM t WHERE b = $2 AND c = $1 AND d = '$3' AND e = $10")
            == "SELECT a FROM t WHERE b = ?2 AND c = ?1 AND d = '$3' AND e = ?10")
        #expect(SQLiteSession.numberedPlaceholders("SELECT 'ايران' || $1") == "SELECT 'ايران' || ?1")
        #expect(SQLiteSession.numberedPlaceholders("SELECT $ FROM t") == "SELECT $ FROM t")
    }
}
