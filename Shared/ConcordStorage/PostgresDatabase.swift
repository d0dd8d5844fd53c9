import ConcordProtocol
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO
import ServiceLifecycle

/// The scale-out engine: every replica of a service shares one database (and schema). The pool
/// runs as a `Service`; `run()` must be running before the first query.
public final class PostgresDatabase: Database, Sendable {
    private let client: PostgresClient
    private let location: DatabaseLocation.PostgresLocation
    private let logger: Logger
    /// How long a read or write waits for a connection before it answers `unavailable`. While
    /// PostgreSQL is down the pool keeps trying to connect and a request would otherwise wait
    /// for one until its deadline; readiness, which asks the store, would hang the same way.
    private let leaseTimeout: Duration
    /// The wait of the one request that probes for a connection while the store is away.
    private let probeTimeout: Duration
    /// The lending machine, with the connection each running body holds and how to fail it.
    private let leases = NIOLockedValueBox(Leases())
    private let meters = StoreMeters(engine: "postgresql")
    /// Moves on at other processes' commits through LISTEN, and at this process's as its
    /// writer reads COMMIT's answer.
    public let commits = CommitSignal(recheck: .seconds(1))
    /// The channel commits are announced on: one per schema, so services sharing a database do
    /// not wake each other.
    private var commitChannel: String { "concord_commits" + (self.location.schema.map { "_\($0)" } ?? "") }
    /// Says which process announced a commit. This process's writer wakes its own waiters
    /// once it holds the committed entries; woken by its own announcement instead, which can
    /// arrive first, a waiter would find nothing in memory and read the store (a round trip
    /// more between a commit and its watchers).
    private let announcer = UUID().uuidString

    private struct Leases {
        var machine = LeaseState()
        var running: [Int: (connection: PostgresConnection, fail: @Sendable (_ committing: Bool) -> Void)] = [:]
    }

    /// How often the bodies running on a connection are looked at for the connection closing
    /// under them (a body is failed at the second sweep that sees it closed).
    static let sweepInterval: Duration = .milliseconds(250)

    /// Every Concord service takes this advisory lock while migrating, so replicas that start
    /// together apply each migration once. (The value is arbitrary but fixed: "CONCORD" in ASCII.)
    static let migrationLockKey: Int64 = 0x434F_4E43_4F52_44

    public init(
        location: DatabaseLocation.PostgresLocation,
        maximumConnections: Int = 16,
        leaseTimeout: Duration = .seconds(2),
        probeTimeout: Duration = .milliseconds(200),
        eventLoopGroup: any EventLoopGroup = PostgresClient.defaultEventLoopGroup,
        logger: Logger
    ) {
        self.leaseTimeout = leaseTimeout
        self.probeTimeout = probeTimeout
        var configuration = PostgresClient.Configuration(
            host: location.host,
            port: location.port,
            username: location.username,
            password: location.password,
            database: location.database,
            tls: .disable
        )
        // Connections opened as requests ask, up to `maximumConnections`, each closed after a
        // minute idle; none kept open regardless. postgres-nio 1.33's pool traps
        // (`minimumConcurrentConnections <= stats.active`) when it holds fewer connections than
        // its minimum and a request finds none idle, and it does fall below its minimum: after an
        // outage it keeps only one of the connections it failed to open (the soak lost a replica
        // so as PostgreSQL came back, with a fixed pool of 16), and with a minimum of one, a
        // connection closing for idleness is not counted, so the kept one closing then leaves
        // none. Only a minimum of zero cannot trap. Each connection arms an idle timer as it goes
        // idle: measured, no cost to see (docs/robustness.md).
        configuration.options.minimumConnections = 0
        configuration.options.maximumConnections = maximumConnections
        // Keep-alives would arm a timer whenever a connection goes idle, which is after every query.
        configuration.options.keepAliveBehavior = nil
        configuration.options.connectTimeout = .seconds(5)
        if let schema = location.schema {
            configuration.options.additionalStartupParameters = [("search_path", schema)]
        }
        self.client = PostgresClient(configuration: configuration, eventLoopGroup: eventLoopGroup, backgroundLogger: logger)
        self.location = location
        self.logger = logger
    }

    /// Runs the connection pool, and the sweep of bodies whose connection closed under them,
    /// until cancelled (graceful shutdown cancels it).
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask {
                while (try? await Task.sleep(for: Self.sweepInterval)) != nil {
                    self.sweep()
                }
            }
            group.addTask { await self.hearCommits() }
            await self.client.run()
            group.cancelAll()
        }
    }

    /// Holds a connection of its own that LISTENs for the commits other processes announce,
    /// and moves `commits` on at each; connects again a second after it is lost. While it is
    /// down, waiters ask the store again every second instead.
    private func hearCommits() async {
        let configuration = PostgresConnection.Configuration(
            host: self.location.host, port: self.location.port, username: self.location.username,
            password: self.location.password, database: self.location.database, tls: .disable
        )
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: self.logger)
                do {
                    try await connection.listen(on: self.commitChannel) { notifications in
                        self.commits.hearing(true)
                        // What committed while nobody listened.
                        self.commits.committed()
                        for try await notification in notifications where notification.payload != self.announcer {
                            self.commits.committed()
                        }
                    }
                } catch {}
                self.commits.hearing(false)
                try? await connection.close()
            } catch {
                self.commits.hearing(false)
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    public func announceCommit(in session: any DatabaseSession) async throws {
        try await session.query("SELECT pg_notify($1, $2)", [.text(self.commitChannel), .text(self.announcer)])
    }

    /// Fails every running body whose connection the machine says has closed under it.
    private func sweep() {
        let failing = self.leases.withLockedValue { state -> [(fail: @Sendable (Bool) -> Void, committing: Bool)] in
            guard state.machine.hasRunningBodies else { return [] }
            var closed: Set<Int> = []
            for (id, body) in state.running where body.connection.isClosed { closed.insert(id) }
            var failing: [(fail: @Sendable (Bool) -> Void, committing: Bool)] = []
            for failed in state.machine.sweep(closed: closed) {
                if let body = state.running[failed.id] { failing.append((body.fail, failed.committing)) }
            }
            return failing
        }
        for (fail, committing) in failing { fail(committing) }
    }

    public func read<Result: Sendable>(_ work: @escaping @Sendable (any DatabaseSession) async throws -> Result) async throws -> Result {
        do {
            return try await self.withConnection { connection, _ in
                let start = ContinuousClock.now
                defer { self.meters.transaction(write: false, since: start) }
                return try await work(PostgresSession(connection: connection, logger: self.logger))
            }
        } catch {
            throw self.meters.failed(Self.translate(error))
        }
    }

    public func write<Result: Sendable>(_ work: @escaping @Sendable (any DatabaseSession) async throws -> Result) async throws -> Result {
        try await self.write(work, committed: { _ in })
    }

    /// `committed` runs on the connection's loop as COMMIT's answer is read.
    public func write<Result: Sendable>(
        _ work: @escaping @Sendable (any DatabaseSession) async throws -> Result, committed: @escaping @Sendable (Result) -> Void
    ) async throws -> Result {
        do {
            return try await self.withConnection { connection, committing in
                let start = ContinuousClock.now
                defer { self.meters.transaction(write: true, since: start) }
                let session = PostgresSession(connection: connection, logger: self.logger)
                // COMMIT returns once the WAL record is flushed (synchronous_commit is on by default).
                try await session.query("BEGIN")
                do {
                    let result = try await work(session)
                    committing()
                    // On the connection's own loop: COMMIT's answer runs `committed` where it is
                    // read, not on another thread woken for it. (Only COMMIT: the body's work
                    // stays off the loops that connections share.)
                    try await withTaskExecutorPreference(EventLoopTaskExecutor(eventLoop: connection.eventLoop)) {
                        try await session.query("COMMIT")
                        committed(result)
                    }
                    return result
                } catch {
                    _ = try? await session.query("ROLLBACK")
                    throw error
                }
            }
        } catch {
            throw self.meters.failed(Self.translate(error))
        }
    }

    /// A connection for `body`, or `unavailable` when none comes within `leaseTimeout`. Once
    /// `body` has its connection it runs to its end, whatever the time. `LeaseState` decides
    /// (a wait, a probe or a refusal; a claim taken or abandoned; a body failed when its
    /// connection closed under it); this performs.
    ///
    /// A body failed because its connection closed is answered `unavailable`, and what it was
    /// doing is left behind. A read, or a write before it sent COMMIT, did nothing: a
    /// transaction not committed when its connection ends is rolled back. A write whose COMMIT
    /// was sent may or may not have committed (`body` calls `committing` first): its answer says
    /// so, and that sending it again with the same idempotency key is safe. Either way the
    /// caller hears before its deadline.
    private func withConnection<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection, _ committing: @escaping @Sendable () -> Void) async throws -> Result
    ) async throws -> Result {
        let leases = self.leases
        let (id, timeout): (Int, Duration)
        switch leases.withLockedValue({ $0.machine.admit(leaseTimeout: self.leaseTimeout, probeTimeout: self.probeTimeout) }) {
        case .wait(let lease, let wait), .probe(let lease, let wait): (id, timeout) = (lease, wait)
        case .refuse:
            throw StorageError(.unavailable, "PostgreSQL: no connection (the last wait for one ran out); is the database up?")
        }
        let client = self.client
        let logger = self.logger
        let meters = self.meters
        let asked = ContinuousClock.now
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            let timer = Task {
                guard (try? await Task.sleep(for: timeout)) != nil, leases.withLockedValue({ $0.machine.timedOut(id) }) else { return }
                continuation.resume(throwing: StorageError(.unavailable, "PostgreSQL: no connection within \(timeout.wholeMilliseconds) ms; is the database up?"))
            }
            let fail: @Sendable (Bool) -> Void = { committing in
                logger.warning("PostgreSQL connection closed under a running \(committing ? "COMMIT" : "statement"); answered unavailable")
                continuation.resume(throwing: StorageError(
                    .unavailable,
                    committing
                        ? "PostgreSQL: the connection closed during COMMIT; whether the write was saved is unknown: send it again with the same idempotency key"
                        : "PostgreSQL: the connection closed while the statement ran; nothing was committed"
                ))
            }
            Task {
                let outcome: Swift.Result<Result?, any Error>
                do {
                    outcome = .success(try await client.withConnection { connection -> Result? in
                        let run = leases.withLockedValue { state in
                            guard state.machine.lent(id) else { return false }
                            state.running[id] = (connection, fail)
                            return true
                        }
                        // Its request gave up waiting: the connection goes straight back.
                        guard run else { return nil }
                        meters.waited(since: asked)
                        return try await body(connection) { leases.withLockedValue { $0.machine.committing(id) } }
                    })
                } catch {
                    outcome = .failure(error)
                }
                timer.cancel()
                let answer = leases.withLockedValue { state in
                    state.running[id] = nil
                    return state.machine.ended(id)
                }
                guard answer else { return }
                switch outcome {
                case .success(let value?): continuation.resume(returning: value)
                case .success(nil): continuation.resume(throwing: StorageError(.unavailable, "PostgreSQL: no connection; is the database up?"))
                case .failure(let error): continuation.resume(throwing: error)
                }
            }
        }
    }

    public func migrate(_ migrations: [Migration]) async throws {
        let schema = self.location.schema
        let ran = try await self.write { session in
            try await session.query("SELECT pg_advisory_xact_lock($1)", [.integer(Self.migrationLockKey)])
            if let schema {
                try await session.query("CREATE SCHEMA IF NOT EXISTS \(schema)")
            }
            return try await Migration.apply(migrations, in: session, dialect: .postgres, now: Date().ISO8601Format())
        }
        for migration in ran {
            self.logger.info("applied migration", metadata: [LogKey.migration: "\(migration.version) \(migration.name)", LogKey.database: "\(DatabaseLocation.postgres(self.location))"])
        }
    }

    static func translate(_ error: any Error) -> any Error {
        guard let error = error as? PSQLError else { return error }
        guard let info = error.serverInfo else {
            return StorageError(.unavailable, "PostgreSQL: \(error.code)")
        }
        let message = info[.message] ?? "\(error.code)"
        let detail = info[.detail].map { " (\($0))" } ?? ""
        switch info[.sqlState] {
        case "23505":
            return StorageError(.uniqueViolation, message + detail, constraint: info[.constraintName])
        case "23503":
            return StorageError(.foreignKeyViolation, message + detail, constraint: info[.constraintName])
        case let state? where state.hasPrefix("08") || state.hasPrefix("57"):
            return StorageError(.unavailable, "PostgreSQL: \(message)")
        default:
            return StorageError(.failed, "PostgreSQL: \(message)\(detail)")
        }
    }
}

struct PostgresSession: DatabaseSession, @unchecked Sendable {
    // A session lives only inside the `withConnection` closure that lent the connection.
    let connection: PostgresConnection
    let logger: Logger

    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        var bindings = PostgresBindings(capacity: binds.count)
        for bind in binds {
            switch bind {
            case .text(let text): bindings.append(text)
            case .integer(let integer): bindings.append(integer)
            case .real(let real): bindings.append(real)
            case .null: bindings.appendNull()
            }
        }
        let rows = try await self.connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: self.logger)
        var result: [SQLRow] = []
        for try await row in rows {
            var values: [String: SQLValue] = [:]
            for cell in row {
                values[cell.columnName] = try Self.value(cell)
            }
            result.append(SQLRow(values))
        }
        return result
    }

    /// `COPY` of the rows straight into the table, in the caller's transaction: the rows cross
    /// as text, unparsed by the planner and unbound one by one. A key there already stops the
    /// COPY (a batch sent again): back to before it, the rows go through a temporary table of the
    /// same columns and one `INSERT ... SELECT ... ON CONFLICT (key) DO NOTHING RETURNING key`.
    func insertSkippingPresent(into table: String, columns: [String], key: String, binds: [SQLValue]) async throws -> [Int] {
        let width = columns.count
        guard width > 0, !binds.isEmpty, let keyColumn = columns.firstIndex(of: key) else { return [] }
        let rows = binds.count / width
        try await self.query("SAVEPOINT concord_bulk")
        do {
            try await self.copy(binds, width: width, into: table, columns: columns)
            try await self.query("RELEASE SAVEPOINT concord_bulk")
            return []
        } catch {
            guard (PostgresDatabase.translate(error) as? StorageError)?.code == .uniqueViolation else { throw error }
            try await self.query("ROLLBACK TO SAVEPOINT concord_bulk")
        }
        // Lives as long as the connection; emptied at every commit or rollback.
        let staging = "concord_staging_\(table)"
        let list = columns.joined(separator: ", ")
        try await self.query("CREATE TEMPORARY TABLE IF NOT EXISTS \(staging) (LIKE \(table) INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
        try await self.query("TRUNCATE \(staging)")
        try await self.copy(binds, width: width, into: staging, columns: columns)
        let returned = try await self.query(
            "INSERT INTO \(table) (\(list)) SELECT \(list) FROM \(staging) ON CONFLICT (\(key)) DO NOTHING RETURNING \(key) AS record_key"
        )
        return StatementTexts.rowsSkipped(0..<rows, returned: returned, binds: binds, width: width, keyColumn: keyColumn)
    }

    /// `COPY table (columns) FROM STDIN`, the rows in COPY's text format, a megabyte at a time.
    private func copy(_ binds: [SQLValue], width: Int, into table: String, columns: [String]) async throws {
        try await self.connection.copyFrom(table: table, columns: columns, logger: self.logger) { writer in
            var buffer = ByteBuffer()
            buffer.reserveCapacity(1 << 20)
            for row in 0..<(binds.count / width) {
                for column in 0..<width {
                    if column > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
                    Self.writeCopyText(binds[row * width + column], into: &buffer)
                }
                buffer.writeInteger(UInt8(ascii: "\n"))
                if buffer.readableBytes >= 1 << 20 {
                    try await writer.write(buffer)
                    buffer.clear()
                }
            }
            if buffer.readableBytes > 0 { try await writer.write(buffer) }
        }
    }

    /// A value as COPY's text format reads it: `\N` for NULL; backslash, tab, newline and
    /// carriage return escaped.
    static func writeCopyText(_ value: SQLValue, into buffer: inout ByteBuffer) {
        switch value {
        case .null:
            buffer.writeStaticString("\\N")
        case .integer(let integer):
            buffer.writeString(String(integer))
        case .real(let real):
            // Shortest text that reads back as the same double.
            buffer.writeString(real.isFinite ? "\(real)" : real.isNaN ? "NaN" : real > 0 ? "Infinity" : "-Infinity")
        case .text(let text):
            let utf8 = text.utf8
            guard utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }) else {
                buffer.writeString(text)
                return
            }
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
                case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
                case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
                default: buffer.writeInteger(byte)
                }
            }
        }
    }

    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8:
            return .integer(try cell.decode(Int64.self))
        case .float4, .float8:
            return .real(try cell.decode(Double.self))
        case .bool:
            return .integer(try cell.decode(Bool.self) ? 1 : 0)
        default:
            return .text(try cell.decode(String.self))
        }
    }
}
