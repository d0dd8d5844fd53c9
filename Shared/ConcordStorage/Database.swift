import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// One place a service's rows live. Statements use `$1, $2, ...` placeholders on both engines.
///
/// A database is a `Service`: run it in the process's service group; it closes its connections on
/// shutdown after the services that use it have stopped.
public protocol Database: Service, AnyObject {
    /// Runs read-only work. Each statement sees committed data.
    func read<Result: Sendable>(_ work: @escaping @Sendable (any DatabaseSession) async throws -> Result) async throws -> Result

    /// Runs `work` in one transaction: all of it commits, durably, before this returns, or none of it does.
    @discardableResult
    func write<Result: Sendable>(_ work: @escaping @Sendable (any DatabaseSession) async throws -> Result) async throws -> Result

    /// Applies the migrations not yet applied, in version order, in one transaction; safe when
    /// several processes start at once.
    func migrate(_ migrations: [Migration]) async throws

    /// Moves on when a write commits that its writer says moved something (`committed()`), and
    /// when another process sharing the store announced its commit, where the engine can tell
    /// (PostgreSQL's LISTEN/NOTIFY).
    var commits: CommitSignal { get }

    /// Inside `write`: tells the other processes sharing the store, once this transaction
    /// commits, to move their `commits` on (nothing where the engine cannot).
    func announceCommit(in session: any DatabaseSession) async throws
}

/// A connection lent for the length of a `read` or `write`.
public protocol DatabaseSession: Sendable {
    @discardableResult
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]
}

extension DatabaseSession {
    @discardableResult
    public func query(_ sql: String) async throws -> [SQLRow] {
        try await self.query(sql, [])
    }

    public func first(_ sql: String, _ binds: [SQLValue] = []) async throws -> SQLRow? {
        try await self.query(sql, binds).first
    }
}

/// Opens the database a location names. The caller runs it as a service.
///
/// Pass the server's event loops as `eventLoopGroup`: connections then live on the same threads
/// as the requests that use them, and a query's answer costs no hop between loops.
public func openDatabase(
    _ location: DatabaseLocation,
    eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
    logger: Logger
) async throws -> any Database {
    switch location {
    case .sqlite(let path):
        return try await SQLiteDatabase.open(path: path, eventLoopGroup: eventLoopGroup, logger: logger)
    case .postgres(let postgres):
        return PostgresDatabase(location: postgres, maximumConnections: postgres.connections ?? 16, eventLoopGroup: eventLoopGroup, logger: logger)
    }
}
