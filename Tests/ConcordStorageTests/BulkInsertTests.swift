import ConcordProtocol
@testable import ConcordStorage
import ConcordTestSupport
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOPosix
import SQLiteNIO
import Testing

/// An import's bulk path on each engine (`DatabaseSession.insertSkippingPresent`), and what the
/// SQLite one needs of SQLiteNIO: its `VaporCSQLite` module with the `sqlite_nio_` prefix, and
/// the connection's handle where `SQLiteHandle` looks for it. An upgrade of SQLiteNIO that
/// changes either fails here (or does not build).
@Suite("Bulk insert", .timeLimit(.minutes(2)))
struct BulkInsertTests {
    static let migrations = [
        Migration(version: 1, name: "rows", statements: [
            "CREATE TABLE rows (id TEXT PRIMARY KEY, n BIGINT, x DOUBLE PRECISION, label TEXT, code TEXT UNIQUE)",
        ]),
    ]
    static let columns = ["id", "n", "x", "label", "code"]

    @Test(arguments: Engine.allCases)
    func rowsGoInAndAKeyThereAlreadyIsSkipped(engine: Engine) async throws {
        try await withTestDatabase(engine, migrations: Self.migrations) { database in
            try await database.write { try await $0.query("INSERT INTO rows (id, n, label) VALUES ('b', 0, 'before')") }
            let binds: [SQLValue] = [
                .text("a"), .integer(1), .real(1.5), .text("Тегеран–Москва"), .text("c1"),
                .text("b"), .integer(2), .null, .text("again"), .text("c2"),
                .text("c"), .integer(3), .real(-0.25), .text(""), .null,
                // Values the row before had too: SQLite keeps them bound, and they are stored.
                .text("d"), .integer(3), .real(-0.25), .text(""), .null,
                .text("e"), .integer(3), .null, .text(""), .text("c5"),
            ]
            let skipped = try await database.write { session in
                try await session.insertSkippingPresent(into: "rows", columns: Self.columns, key: "id", binds: binds)
            }
            #expect(skipped == [1])
            let rows = try await database.read { try await $0.query("SELECT id, n, x, label, code FROM rows ORDER BY id") }
            #expect(try rows.map { try $0.text("id") } == ["a", "b", "c", "d", "e"])
            #expect(try rows.map { try $0.integer("n") } == [1, 0, 3, 3, 3])
            #expect(rows.map { $0["x"] } == [.real(1.5), .null, .real(-0.25), .real(-0.25), .null])
            // An empty text stays a text, not NULL; the row skipped kept what it had.
            #expect(rows.map { $0["label"] } == [.text("Тегеран–Москва"), .text("before"), .text(""), .text(""), .text("")])
            #expect(rows.map { $0["code"] } == [.text("c1"), .null, .null, .null, .text("c5")])
        }
    }

    @Test(arguments: Engine.allCases)
    func anotherUniqueColumnRefusesTheWholeTransaction(engine: Engine) async throws {
        try await withTestDatabase(engine, migrations: Self.migrations) { database in
            let binds: [SQLValue] = [
                .text("a"), .integer(1), .null, .null, .text("same"),
                .text("b"), .integer(2), .null, .null, .text("same"),
            ]
            await #expect {
                try await database.write { session in
                    try await session.insertSkippingPresent(into: "rows", columns: Self.columns, key: "id", binds: binds)
                }
            } throws: { error in
                (error as? StorageError)?.code == .uniqueViolation
            }
            let count = try await database.read { try await $0.query("SELECT id FROM rows") }.count
            #expect(count == 0)
        }
    }

    @Test func theSQLiteLibraryIsSQLiteNIOsOwnByItsPrefix() {
        #expect(SQLiteHandle.libraryVersion.hasPrefix("3."))
    }

    @Test func aHandleIsTakenOnlyFromAConnectionWithThatFileOpen() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("concord-bulk-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("a.sqlite").path
        let connection = try await SQLiteConnection.open(storage: .file(path: path), threadPool: .singleton, logger: quietLogger, on: MultiThreadedEventLoopGroup.singleton.any())
        let handle = try SQLiteHandle.of(connection, path: path)
        let again = try SQLiteHandle.of(connection, path: directory.appendingPathComponent("./a.sqlite").path)
        #expect(handle.raw == again.raw)
        #expect(throws: StorageError.self) { try SQLiteHandle.of(connection, path: directory.appendingPathComponent("b.sqlite").path) }
        try await connection.close()
    }
}
