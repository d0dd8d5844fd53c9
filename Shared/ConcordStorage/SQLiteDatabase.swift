import ConcordProtocol
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle
import SQLiteNIO

/// The embedded engine: one file per service in WAL mode. One connection writes, holding a lock
/// for the length of a transaction; a few more read concurrently (WAL lets readers run beside the
/// writer). `synchronous=FULL` makes every commit durable before it is acknowledged.
public final class SQLiteDatabase: Database, Sendable {
    public let path: String
    private let writer: SQLiteConnection
    /// The writer's own `sqlite3*`, for the bulk path of imports (`SQLiteHandle`).
    private let writerHandle: SQLiteHandle
    private let writeLock = AsyncMutex()
    private let meters = StoreMeters(engine: "sqlite")
    private let readers: [SQLiteConnection]
    private let nextReader = NIOLockedValueBox(0)
    private let logger: Logger
    /// Other processes writing the same file go unheard: waiters ask again every 100 ms.
    public let commits = CommitSignal(recheck: .milliseconds(100))

    private init(path: String, writer: SQLiteConnection, writerHandle: SQLiteHandle, readers: [SQLiteConnection], logger: Logger) {
        self.path = path
        self.writer = writer
        self.writerHandle = writerHandle
        self.readers = readers
        self.logger = logger
    }

    /// Opens (creating if needed) the file at `path` and its directory.
    ///
    /// Connections complete their work on `eventLoopGroup`'s loops: pass the server's, so a
    /// query's answer costs no hop to another loop before the request's task resumes.
    public static func open(
        path: String, readers readerCount: Int = 2, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger
    ) async throws -> SQLiteDatabase {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StorageError(.configuration, "cannot create the directory for \(path): \(error)")
        }
        let writer = try await Self.connect(path: path, eventLoop: eventLoopGroup.any(), logger: logger)
        do {
            // WAL is a property of the file: set once, by the writer, before readers open.
            let mode = try await writer.query("PRAGMA journal_mode=WAL").first?.column("journal_mode")?.string
            guard mode == "wal" else {
                throw StorageError(.configuration, "\(path) could not be put in WAL mode (journal_mode is \(mode ?? "unknown"))")
            }
            var readers: [SQLiteConnection] = []
            for _ in 0..<max(1, readerCount) {
                let reader = try await Self.connect(path: path, eventLoop: eventLoopGroup.any(), logger: logger)
                _ = try await reader.query("PRAGMA query_only=ON")
                readers.append(reader)
            }
            return SQLiteDatabase(path: path, writer: writer, writerHandle: try SQLiteHandle.of(writer, path: path), readers: readers, logger: logger)
        } catch {
            try? await writer.close()
            throw Self.translate(error)
        }
    }

    private static func connect(path: String, eventLoop: any EventLoop, logger: Logger) async throws -> SQLiteConnection {
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(storage: .file(path: path), threadPool: .singleton, logger: logger, on: eventLoop)
        } catch {
            throw StorageError(.unavailable, "cannot open SQLite database \(path): \(error)")
        }
        do {
            _ = try await connection.query("PRAGMA busy_timeout=5000")
            _ = try await connection.query("PRAGMA synchronous=FULL")
            _ = try await connection.query("PRAGMA foreign_keys=ON")
        } catch {
            try? await connection.close()
            throw Self.translate(error)
        }
        return connection
    }

    public func read<Result: Sendable>(_ work: @escaping @Sendable (any DatabaseSession) async throws -> Result) async throws -> Result {
        let index = self.nextReader.withLockedValue { next in
            defer { next = (next + 1) % self.readers.count }
            return next
        }
        let start = ContinuousClock.now
        defer { self.meters.transaction(write: false, since: start) }
        do {
            return try await work(SQLiteSession(connection: self.readers[index]))
        } catch {
            throw self.meters.failed(Self.translate(error))
        }
    }

    public func write<Result: Sendable>(_ work: @escaping @Sendable (any DatabaseSession) async throws -> Result) async throws -> Result {
        let asked = ContinuousClock.now
        do {
            return try await self.writeLock.withLock {
                self.meters.waited(since: asked)
                let start = ContinuousClock.now
                defer { self.meters.transaction(write: true, since: start) }
                let session = SQLiteSession(connection: self.writer, handle: self.writerHandle)
                // IMMEDIATE takes the write lock up front, so a transaction never fails half-way
                // for want of it.
                try await session.query("BEGIN IMMEDIATE")
                do {
                    let result = try await work(session)
                    try await session.query("COMMIT")
                    return result
                } catch {
                    // The thread pool skips work for a cancelled task, so the rollback runs in a
                    // task of its own: the writer must never be left inside a transaction.
                    let writer = self.writer
                    await Task { _ = try? await writer.query("ROLLBACK") }.value
                    throw error
                }
            }
        } catch {
            throw self.meters.failed(Self.translate(error))
        }
    }

    /// Nothing: SQLite cannot tell other processes. The writer of this process moves `commits` on.
    public func announceCommit(in session: any DatabaseSession) async throws {}

    public func migrate(_ migrations: [Migration]) async throws {
        // BEGIN IMMEDIATE in `write` is the lock: a second process waits (busy_timeout), then
        // finds the ledger up to date.
        let ran = try await self.write { session in
            try await Migration.apply(migrations, in: session, dialect: .sqlite, now: Date().ISO8601Format())
        }
        for migration in ran {
            self.logger.info("applied migration", metadata: [LogKey.migration: "\(migration.version) \(migration.name)", LogKey.database: "\(self.path)"])
        }
    }

    public func run() async throws {
        try? await gracefulShutdown()
        // On cancellation the thread pool would skip the close; closing in a task of its own runs it.
        await Task { await self.close() }.value
    }

    /// Closes every connection. Called by `run` on shutdown; tests that never run the service call it directly.
    public func close() async {
        await self.writeLock.withLockIgnoringErrors {
            try? await self.writer.close()
        }
        for reader in self.readers {
            try? await reader.close()
        }
    }

    static func translate(_ error: any Error) -> any Error {
        guard let error = error as? SQLiteError else { return error }
        switch error.reason {
        case .constraintUniqueFailed, .constraintPrimaryKeyFailed:
            return StorageError(.uniqueViolation, error.message, constraint: Self.constraintName(error.message))
        case .constraintForeignKeyFailed:
            return StorageError(.foreignKeyViolation, error.message)
        case .busy, .busyTimeout, .locked, .cantOpen:
            return StorageError(.unavailable, "SQLite: \(error.message)")
        default:
            return StorageError(.failed, "SQLite: \(error.message)")
        }
    }

    /// "UNIQUE constraint failed: regions.code" names the column.
    static func constraintName(_ message: String) -> String? {
        message.split(separator: ":", maxSplits: 1).dropFirst().first.map { String($0.drop(while: { $0 == " " })) }
    }
}

extension AsyncMutex {
    func withLockIgnoringErrors(_ work: @Sendable () async -> Void) async {
        _ = try? await self.withLock { await work() }
    }
}

struct SQLiteSession: DatabaseSession {
    let connection: SQLiteConnection
    /// The connection's handle, given to the writer's sessions only.
    var handle: SQLiteHandle?

    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        let rows = try await self.connection.query(Self.numberedPlaceholders(sql), binds.map(Self.data))
        return rows.map { row in
            var values: [String: SQLValue] = [:]
            values.reserveCapacity(row.columns.count)
            for column in row.columns {
                values[column.name] = Self.value(column.data)
            }
            return SQLRow(values)
        }
    }

    /// On the writer, one prepared statement stepped once a row (`SQLiteHandle`).
    func insertSkippingPresent(into table: String, columns: [String], key: String, binds: [SQLValue]) async throws -> [Int] {
        guard let handle = self.handle else {
            throw StorageError(.failed, "an import writes through the writer, and this is a reader's session")
        }
        return try await handle.insertSkippingPresent(into: table, columns: columns, key: key, binds: binds)
    }

    func layout(of table: String) async throws -> TableLayout {
        try TableLayout.checkName(table)
        let kind = try await self.query("SELECT type FROM sqlite_schema WHERE name = $1", [.text(table)]).first?.text("type")
        return try await TableLayout.of(table, isView: kind == "view") { name in
            Set(try await self.query("PRAGMA table_info(\(name))", []).map { try $0.text("name") })
        }
    }

    /// `$1` is a named parameter to SQLite, numbered by first appearance; `?1` is the true
    /// positional form, so `$n` becomes `?n` outside string literals. Works on bytes: this runs
    /// for every statement.
    static func numberedPlaceholders(_ sql: String) -> String {
        var bytes = Array(sql.utf8)
        var inLiteral = false
        var changed = false
        for index in bytes.indices {
            switch bytes[index] {
            case UInt8(ascii: "'"):
                inLiteral.toggle()
            case UInt8(ascii: "$") where !inLiteral && index + 1 < bytes.count
                && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index + 1]):
                bytes[index] = UInt8(ascii: "?")
                changed = true
            default:
                break
            }
        }
        return changed ? String(decoding: bytes, as: UTF8.self) : sql
    }

    static func data(_ value: SQLValue) -> SQLiteData {
        switch value {
        case .text(let text): .text(text)
        case .integer(let integer): .integer(SQLiteInt64(integer))
        case .real(let real): .float(real)
        case .null: .null
        }
    }

    static func value(_ data: SQLiteData) -> SQLValue {
        switch data {
        case .text(let text): .text(text)
        case .integer(let integer): .integer(Int64(integer))
        case .float(let real): .real(real)
        case .null: .null
        case .blob(let buffer): .text(String(buffer: buffer))
        }
    }
}
