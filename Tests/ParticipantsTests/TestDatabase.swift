import ConcordStorage
import Foundation
import Logging
import Testing

@testable import Participants

/// The engines every store test runs on. PostgreSQL comes from scripts/with-postgres, which
/// scripts/test always uses; without it the PostgreSQL cases fail and say so.
enum Engine: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { self.rawValue }
}

let quietLogger: Logger = {
    var logger = Logger(label: "concord.test.store")
    logger.logLevel = ProcessInfo.processInfo.environment["CONCORD_TEST_LOG"] == nil ? .critical : .trace
    return logger
}()

struct MissingPostgres: Error, CustomStringConvertible {
    var description: String {
        "CONCORD_TEST_POSTGRES is not set: run the tests with scripts/test (or scripts/with-postgres swift test)"
    }
}

/// A database location no other test uses: a new SQLite file, or a new PostgreSQL schema.
func freshLocation(_ engine: Engine) throws -> DatabaseLocation {
    let suffix = UUID().uuidString.prefix(8).lowercased()
    switch engine {
    case .sqlite:
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("concord-store-\(suffix)/participants.sqlite").path
        return .sqlite(path: path)
    case .postgres:
        guard let url = ProcessInfo.processInfo.environment["CONCORD_TEST_POSTGRES"] else { throw MissingPostgres() }
        guard case .postgres(var location) = try DatabaseLocation(parsing: url) else { throw MissingPostgres() }
        location.schema = "t_\(suffix)"
        return .postgres(location)
    }
}

/// The text form of a location, as `--database` takes it.
func databaseArgument(_ location: DatabaseLocation) -> String {
    switch location {
    case .sqlite(let path): "sqlite:\(path)"
    case .postgres(let pg):
        "postgres://\(pg.username)\(pg.password.map { ":" + ($0.addingPercentEncoding(withAllowedCharacters: .urlPasswordAllowed) ?? $0) } ?? "")"
            + "@\(pg.host):\(pg.port)/\(pg.database)?schema=\(pg.schema ?? "public")"
    }
}

/// Opens a migrated database on a fresh location, runs `body`, then drops what it made.
func withTestDatabase<T: Sendable>(
    _ engine: Engine,
    location: DatabaseLocation? = nil,
    _ body: (any Database) async throws -> T
) async throws -> T {
    let location = try location ?? freshLocation(engine)
    let database = try await openDatabase(location, logger: quietLogger)
    return try await withDatabaseRunning(database) {
        try await database.migrate(ParticipantsSchema.migrations)
        do {
            let result = try await body(database)
            try await dropTestData(location, database)
            return result
        } catch {
            try? await dropTestData(location, database)
            throw error
        }
    }
}

private func dropTestData(_ location: DatabaseLocation, _ database: any Database) async throws {
    if case .postgres(let pg) = location, let schema = pg.schema {
        try await database.write { session in try await session.query("DROP SCHEMA \(schema) CASCADE") }
    }
}

extension RecordStore {
    /// Creates the two countries and a region most tests build on.
    func createBasics() async throws {
        _ = try await self.create(Country(code: "IR", name: "Iran"), verb: "t", idempotencyKey: nil)
        _ = try await self.create(Country(code: "RU", name: "Russia"), verb: "t", idempotencyKey: nil)
        _ = try await self.create(
            Region(code: "IR-01", country: "IR", kind: "province", name: "Gilan", capital: "Rasht"),
            verb: "t", idempotencyKey: nil
        )
    }
}

func official(_ id: String?, name: String = "Test Official", country: String = "IR") -> Official {
    Official(id: id, name: name, title: "Deputy Minister", organisation: "Ministry of Interior", country: country)
}

let seedsDirectory: String = {
    // Tests/ParticipantsTests/TestDatabase.swift -> repository root.
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("seeds/participants").path
}()
