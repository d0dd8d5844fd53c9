import ConcordRecords
import ConcordStorage
import Foundation
import Logging

/// The engines every store test runs on. PostgreSQL comes from scripts/with-postgres, which
/// scripts/test always uses; without it the PostgreSQL cases fail and say so.
public enum Engine: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    public var description: String { self.rawValue }
}

/// A logger that prints nothing unless CONCORD_TEST_LOG is set.
public let quietLogger: Logger = {
    var logger = Logger(label: "concord.test.store")
    logger.logLevel = ProcessInfo.processInfo.environment["CONCORD_TEST_LOG"] == nil ? .critical : .trace
    return logger
}()

public struct MissingPostgres: Error, CustomStringConvertible {
    public var description: String {
        "CONCORD_TEST_POSTGRES is not set: run the tests with scripts/test (or scripts/with-postgres swift test)"
    }
}

/// A database location no other test uses: a new SQLite file, or a new PostgreSQL schema.
public func freshLocation(_ engine: Engine, name: String = "store") throws -> DatabaseLocation {
    let suffix = UUID().uuidString.prefix(8).lowercased()
    switch engine {
    case .sqlite:
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("concord-store-\(suffix)/\(name).sqlite").path
        return .sqlite(path: path)
    case .postgres:
        guard let url = ProcessInfo.processInfo.environment["CONCORD_TEST_POSTGRES"] else { throw MissingPostgres() }
        guard case .postgres(var location) = try DatabaseLocation(parsing: url) else { throw MissingPostgres() }
        location.schema = "t_\(suffix)"
        // Tests run in parallel on one cluster: a few connections each, not a service's 16.
        location.connections = 3
        return .postgres(location)
    }
}

/// The text form of a location, as `--database` takes it.
public func databaseArgument(_ location: DatabaseLocation) -> String {
    switch location {
    case .sqlite(let path): "sqlite:\(path)"
    case .postgres(let pg):
        "postgres://\(pg.username)\(pg.password.map { ":" + ($0.addingPercentEncoding(withAllowedCharacters: .urlPasswordAllowed) ?? $0) } ?? "")"
            + "@\(pg.host):\(pg.port)/\(pg.database)" + pg.query
    }
}

/// Opens a database on a fresh location (or `location`), applies `migrations`, runs `body`,
/// then drops what it made.
public func withTestDatabase<T: Sendable>(
    _ engine: Engine,
    migrations: [Migration],
    location: DatabaseLocation? = nil,
    _ body: (any Database) async throws -> T
) async throws -> T {
    let location = try location ?? freshLocation(engine)
    let database = try await openDatabase(location, logger: quietLogger)
    return try await withDatabaseRunning(database) {
        try await database.migrate(migrations)
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

/// Waits until `condition` holds, checking every few milliseconds, and fails once `timeout`
/// has passed: a test never waits without a bound.
public func eventually(
    _ what: String, timeout: Duration = .seconds(10), pollEvery interval: Duration = .milliseconds(5),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw ProcessFailure("\(what): not within \(timeout)") }
        try await Task.sleep(for: interval)
    }
}

extension RecordStore {
    /// A store for a test of one service alone: no other service names its records, and the
    /// fence a delete waits (`referenceFreshness`) is short.
    public static func standalone(_ database: any Database) -> RecordStore {
        var store = RecordStore(database: database)
        store.holders = NoOtherServices()
        store.referenceFreshness = .milliseconds(50)
        return store
    }
}
