/// One step of a service's schema. Versions start at 1 and never change once released; a new
/// change is a new migration. The statements run in one transaction.
public struct Migration: Sendable, Hashable {
    public var version: Int
    public var name: String
    /// What runs on either engine, unless the engine has its own below.
    public var statements: [String]
    /// PostgreSQL's own statements, where a step needs what only one engine has (SQLite's
    /// `WITHOUT ROWID`, PostgreSQL's `COLLATE "C"`).
    public var postgresStatements: [String]?

    /// The SQL an engine speaks, where migrations differ.
    public enum Dialect: Sendable {
        case sqlite, postgres
    }

    public init(version: Int, name: String, statements: [String], postgresStatements: [String]? = nil) {
        self.version = version
        self.name = name
        self.statements = statements
        self.postgresStatements = postgresStatements
    }

    public func statements(for dialect: Dialect) -> [String] {
        dialect == .postgres ? self.postgresStatements ?? self.statements : self.statements
    }
}

extension Migration {
    static let ledgerTable = """
        CREATE TABLE IF NOT EXISTS concord_migrations (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at TEXT NOT NULL
        )
        """

    /// Applies what the ledger in `session` does not have yet; the caller holds the migration lock.
    static func apply(_ migrations: [Migration], in session: any DatabaseSession, dialect: Dialect, now: String) async throws -> [Migration] {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (index, migration) in sorted.enumerated() where migration.version != index + 1 {
            throw StorageError(.migration, "migration versions must run 1, 2, 3...; found \(migration.version) at position \(index + 1)")
        }
        try await session.query(Self.ledgerTable)
        let applied = Set(try await session.query("SELECT version FROM concord_migrations").map { try $0.integer("version") })
        if let newest = applied.max(), newest > Int64(sorted.count) {
            throw StorageError(.migration, "the database is at schema version \(newest), newer than this program knows (\(sorted.count)); run a newer release")
        }
        var ran: [Migration] = []
        for migration in sorted where !applied.contains(Int64(migration.version)) {
            for statement in migration.statements(for: dialect) {
                try await session.query(statement)
            }
            try await session.query(
                "INSERT INTO concord_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                [.integer(Int64(migration.version)), .text(migration.name), .text(now)]
            )
            ran.append(migration)
        }
        return ran
    }
}
