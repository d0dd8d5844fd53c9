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
    /// Whether a wait for a connection has run out with none come since, and whether a probe's
    /// claim is still waiting.
    private let leases = NIOLockedValueBox(LeaseHealth())
    /// The bodies running on a connection, watched for the connection closing under them.
    private let running = RunningBodies()

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
        // A fixed-size pool: connections above the minimum, and keep-alives, each arm a timer
        // whenever a connection goes idle, which is after every query; at thousands of queries a
        // second those timers cost more than the queries.
        configuration.options.minimumConnections = maximumConnections
        configuration.options.maximumConnections = maximumConnections
        configuration.options.keepAliveBehavior = nil
        configuration.options.connectTimeout = .seconds(5)
        if let schema = location.schema {
            configuration.options.additionalStartupParameters = [("search_path", schema)]
        }
        self.client = PostgresClient(configuration: configuration, eventLoopGroup: eventLoopGroup, backgroundLogger: logger)
        self.location = location
        self.logger = logger
    }

    public func run() async throws {
        await self.client.run()
    }

    public func read<Result: Sendable>(_ work: @escaping @Sendable (any DatabaseSession) async throws -> Result) async throws -> Result {
        do {
            return try await self.withConnection { connection, _ in
                try await work(PostgresSession(connection: connection, logger: self.logger))
            }
        } catch {
            throw Self.translate(error)
        }
    }

    public func write<Result: Sendable>(_ work: @escaping @Sendable (any DatabaseSession) async throws -> Result) async throws -> Result {
        do {
            return try await self.withConnection { connection, committing in
                let session = PostgresSession(connection: connection, logger: self.logger)
                // COMMIT returns once the WAL record is flushed (synchronous_commit is on by default).
                try await session.query("BEGIN")
                do {
                    let result = try await work(session)
                    committing()
                    try await session.query("COMMIT")
                    return result
                } catch {
                    _ = try? await session.query("ROLLBACK")
                    throw error
                }
            }
        } catch {
            throw Self.translate(error)
        }
    }

    /// A connection for `body`, or `unavailable` when none comes within `leaseTimeout`. Once
    /// `body` has its connection it runs to its end, whatever the time.
    ///
    /// The wait for a connection is never cancelled: a request that gives up leaves its claim
    /// abandoned, and the connection, when it comes, goes straight back to the pool. (Cancelling
    /// waits for a lease, many a second while PostgreSQL was down, once left the pool with no
    /// connection after it came back: `PostgresOutageTests`.)
    ///
    /// Once a wait has run out, the store is taken to be away until a connection comes: one
    /// request at a time probes (waits `probeTimeout`, and its claim stays until the pool
    /// answers it), and every other is refused at once. So requests answer fast while it is
    /// away, and abandoned claims do not pile up, one a request. (In the soak, each request
    /// waiting 2 s made an action create, which also waits on participants for its reference
    /// check, run past its 5 s deadline; and with a claim a request, a service's memory rose
    /// by 4 MB during a 20 s outage.)
    ///
    /// A connection that closes while `body` runs on it sometimes leaves the statement waiting
    /// for ever (PostgresNIO 1.33: seen when PostgreSQL stops, the connection closed and the
    /// query unanswered seconds later). `RunningBodies` watches for that: a body whose connection
    /// has been closed for half a second is answered `unavailable`, and what it was doing is left
    /// behind. A read, or a write before it sent COMMIT, did nothing: a transaction not committed
    /// when its connection ends is rolled back. A write whose COMMIT was sent may or may not have
    /// committed (`body` calls `committing` first): its answer says so, and that sending it again
    /// with the same idempotency key is safe. Either way the caller hears before its deadline.
    private func withConnection<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection, _ committing: @escaping @Sendable () -> Void) async throws -> Result
    ) async throws -> Result {
        let leases = self.leases
        let probing: Bool
        switch leases.withLockedValue({ $0.admit() }) {
        case .wait: probing = false
        case .probe: probing = true
        case .refuse:
            throw StorageError(.unavailable, "PostgreSQL: no connection (the last wait for one ran out); is the database up?")
        }
        let claim = NIOLockedValueBox(LeaseClaim.waiting)
        let answered = NIOLockedValueBox(false)
        let client = self.client
        let running = self.running
        let logger = self.logger
        let timeout = probing ? self.probeTimeout : self.leaseTimeout
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            @Sendable func answer(_ result: Swift.Result<Result, any Error>) {
                let first = answered.withLockedValue { done in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(with: result) }
            }
            let timer = Task {
                try? await Task.sleep(for: timeout)
                let abandoned = claim.withLockedValue { state -> Bool in
                    guard state == .waiting else { return false }
                    state = .abandoned
                    return true
                }
                if abandoned {
                    leases.withLockedValue { $0.failing = true }
                    answer(.failure(StorageError(.unavailable, "PostgreSQL: no connection within \(timeout.wholeMilliseconds) ms; is the database up?")))
                }
            }
            Task {
                do {
                    let value = try await client.withConnection { connection -> Result? in
                        let taken = claim.withLockedValue { state -> Bool in
                            guard state == .waiting else { return false }
                            state = .taken
                            return true
                        }
                        leases.withLockedValue { $0.failing = false }
                        guard taken else { return nil }
                        let watched = running.add(connection) { committing in
                            logger.warning("PostgreSQL connection closed under a running \(committing ? "COMMIT" : "statement"); answered unavailable")
                            answer(.failure(StorageError(
                                .unavailable,
                                committing
                                    ? "PostgreSQL: the connection closed during COMMIT; whether the write was saved is unknown: send it again with the same idempotency key"
                                    : "PostgreSQL: the connection closed while the statement ran; nothing was committed"
                            )))
                        }
                        defer { running.remove(watched) }
                        return try await body(connection) { running.committing(watched) }
                    }
                    timer.cancel()
                    if let value { answer(.success(value)) }
                } catch {
                    timer.cancel()
                    answer(.failure(error))
                }
                // The pool has answered this claim: another request may probe.
                if probing { leases.withLockedValue { $0.probing = false } }
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

/// The bodies running on a connection. While any runs, a sweep every 250 ms looks at their
/// connections; one closed at two sweeps in a row is failed, told whether its body had sent
/// COMMIT.
final class RunningBodies: Sendable {
    private struct Entry {
        let connection: PostgresConnection
        let fail: @Sendable (_ committing: Bool) -> Void
        var committing = false
        var closedSeen = false
    }

    private struct State {
        var next = 0
        var entries: [Int: Entry] = [:]
        var sweeping = false
    }

    private let state = NIOLockedValueBox(State())

    func add(_ connection: PostgresConnection, fail: @escaping @Sendable (_ committing: Bool) -> Void) -> Int {
        let (id, startSweeping) = self.state.withLockedValue { state -> (Int, Bool) in
            state.next += 1
            state.entries[state.next] = Entry(connection: connection, fail: fail)
            defer { state.sweeping = true }
            return (state.next, !state.sweeping)
        }
        if startSweeping { Task { await self.sweep() } }
        return id
    }

    /// The body `id` is about to send COMMIT: from now on whether it committed cannot be told
    /// if its connection closes.
    func committing(_ id: Int) {
        self.state.withLockedValue { $0.entries[id]?.committing = true }
    }

    func remove(_ id: Int) {
        _ = self.state.withLockedValue { $0.entries.removeValue(forKey: id) }
    }

    private func sweep() async {
        while true {
            try? await Task.sleep(for: .milliseconds(250))
            let failing = self.state.withLockedValue { state -> [@Sendable () -> Void]? in
                guard !state.entries.isEmpty else {
                    state.sweeping = false
                    return nil
                }
                var failing: [@Sendable () -> Void] = []
                for (id, entry) in state.entries where entry.connection.isClosed {
                    if entry.closedSeen {
                        failing.append { [committing = entry.committing] in entry.fail(committing) }
                        state.entries[id] = nil
                    } else {
                        state.entries[id]?.closedSeen = true
                    }
                }
                return failing
            }
            guard let failing else { return }
            for fail in failing { fail() }
        }
    }
}

/// Whether the pool gives connections, as the waits for them have gone.
struct LeaseHealth {
    /// A wait ran out, and no connection has come since.
    var failing = false
    /// A probe's claim is still with the pool.
    var probing = false

    enum Admission { case wait, probe, refuse }

    mutating func admit() -> Admission {
        guard self.failing else { return .wait }
        guard !self.probing else { return .refuse }
        self.probing = true
        return .probe
    }
}

/// Whether a request waiting for a connection still wants it.
private enum LeaseClaim {
    case waiting, taken, abandoned
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
