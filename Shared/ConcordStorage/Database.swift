import Logging
import NIOConcurrencyHelpers
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

    /// Like `write`, and calls `committed` with the result as soon as the transaction has
    /// committed, before the caller resumes: what the change feed wakes its followers with, so
    /// a commit reaches them without waiting for the writer's own task to run again.
    @discardableResult
    func write<Result: Sendable>(
        _ work: @escaping @Sendable (any DatabaseSession) async throws -> Result, committed: @escaping @Sendable (Result) -> Void
    ) async throws -> Result

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

    /// Inserts rows of `columns.count` values each (`binds`, row after row) into `table`,
    /// skipping a row whose `key` is there already, and returns the indices of the rows
    /// skipped: an import's bulk path, in the caller's transaction. Each engine does it its
    /// fastest way; the default is statements of many rows each.
    func insertSkippingPresent(into table: String, columns: [String], key: String, binds: [SQLValue]) async throws -> [Int]

    /// Where the rows read from `table` are written, and which of its columns are computed.
    func layout(of table: String) async throws -> TableLayout
}

/// A table is written as itself. A view `T` over a table `T_rows` (an engine's way to make
/// columns from others on read only: the observations) is written to `T_rows`, and
/// the columns `T_rows` lacks are computed, so a write leaves them out.
public struct TableLayout: Sendable, Equatable {
    public var rows: String
    public var computed: Set<String>

    public init(rows: String, computed: Set<String> = []) {
        self.rows = rows
        self.computed = computed
    }

    /// The layout of `table`, a view or not, given how an engine reads a table's columns.
    static func of(
        _ table: String, isView: Bool, columns: (String) async throws -> Set<String>
    ) async throws -> TableLayout {
        guard isView else { return TableLayout(rows: table) }
        let rows = table + "_rows"
        return TableLayout(rows: rows, computed: try await columns(table).subtracting(try await columns(rows)))
    }

    /// A table or view name as the schema spells them, safe to write into a statement.
    static func checkName(_ table: String) throws {
        guard !table.isEmpty, table.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) }) else {
            throw StorageError(.failed, "'\(table)' is not a table name")
        }
    }
}

extension Database {
    /// After the write returns, where an engine cannot say sooner.
    @discardableResult
    public func write<Result: Sendable>(
        _ work: @escaping @Sendable (any DatabaseSession) async throws -> Result, committed: @escaping @Sendable (Result) -> Void
    ) async throws -> Result {
        let result = try await self.write(work)
        committed(result)
        return result
    }
}

extension DatabaseSession {
    @discardableResult
    public func query(_ sql: String) async throws -> [SQLRow] {
        try await self.query(sql, [])
    }

    public func first(_ sql: String, _ binds: [SQLValue] = []) async throws -> SQLRow? {
        try await self.query(sql, binds).first
    }

    /// Statements of as many rows as the engine's binds allow (at most 500; SQLite allows 32,766
    /// binds a statement, PostgreSQL 65,535) with `ON CONFLICT (key) DO NOTHING RETURNING key`:
    /// a fresh import reads nothing, and only the keys not returned were skipped.
    public func insertSkippingPresent(into table: String, columns: [String], key: String, binds: [SQLValue]) async throws -> [Int] {
        let width = columns.count
        guard width > 0, let keyColumn = columns.firstIndex(of: key) else { return [] }
        let rows = binds.count / width
        let perStatement = max(1, min(500, 30_000 / width))
        var skipped: [Int] = []
        var start = 0
        while start < rows {
            let end = min(start + perStatement, rows)
            let returned = try await self.query(
                StatementTexts.insert(into: table, columns: columns, rows: end - start, key: key), Array(binds[(start * width)..<(end * width)])
            )
            skipped += StatementTexts.rowsSkipped(start..<end, returned: returned, binds: binds, width: width, keyColumn: keyColumn)
            start = end
        }
        return skipped
    }
}

/// Statement texts by kind and size, built once: a batch's full chunks share one text.
public enum StatementTexts {
    private static let cache = NIOLockedValueBox<[String: String]>([:])

    /// `INSERT ... VALUES ($1, ...), (...) ON CONFLICT (key) DO NOTHING RETURNING key AS record_key`.
    static func insert(into table: String, columns: [String], rows: Int, key: String) -> String {
        Self.cached("insert|\(table)|\(columns.joined(separator: ","))|\(rows)") {
            var sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
            var bind = 1
            for row in 0..<rows {
                sql += row == 0 ? "(" : ", ("
                for column in 0..<columns.count {
                    sql += column == 0 ? "$\(bind)" : ", $\(bind)"
                    bind += 1
                }
                sql += ")"
            }
            return sql + " ON CONFLICT (\(key)) DO NOTHING RETURNING \(key) AS record_key"
        }
    }

    /// The rows of `rows` (each `width` values of `binds`, its key at `keyColumn`) whose key an
    /// insert's `RETURNING key AS record_key` did not return: those it skipped.
    static func rowsSkipped(_ rows: Range<Int>, returned: [SQLRow], binds: [SQLValue], width: Int, keyColumn: Int) -> [Int] {
        guard returned.count != rows.count else { return [] }
        let inserted = Set(returned.map { $0["record_key"] })
        return rows.filter { !inserted.contains(binds[$0 * width + keyColumn]) }
    }

    /// The text `build` makes, made once for each `key` (the cache is emptied past 64 texts).
    public static func cached(_ key: String, build: () -> String) -> String {
        if let known = Self.cache.withLockedValue({ $0[key] }) { return known }
        let sql = build()
        Self.cache.withLockedValue { cache in
            if cache.count > 64 { cache.removeAll() }
            cache[key] = sql
        }
        return sql
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
